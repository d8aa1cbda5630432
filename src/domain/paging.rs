//! offset/limit paging as the TelecomX contract and the admin API define it.
use super::error::DomainError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub offset: i64,
    pub limit: i64,
}

impl Page {
    pub const DEFAULT_LIMIT: i64 = 100;
    pub const MAX_LIMIT: i64 = 500;

    /// Out of range is an error, never clamped: 422 with the parameter name as code.
    pub fn parse(offset: Option<&str>, limit: Option<&str>) -> Result<Page, DomainError> {
        let offset = match offset {
            None => 0,
            Some(s) => s
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|o| *o >= 0)
                .ok_or_else(|| DomainError::invalid("offset", "offset must be an integer >= 0"))?,
        };
        let limit = match limit {
            None => Self::DEFAULT_LIMIT,
            Some(s) => s
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|l| (1..=Self::MAX_LIMIT).contains(l))
                .ok_or_else(|| {
                    DomainError::invalid(
                        "limit",
                        format!("limit must be an integer from 1 to {}", Self::MAX_LIMIT),
                    )
                })?,
        };
        Ok(Page { offset, limit })
    }
}

impl Default for Page {
    fn default() -> Self {
        Page {
            offset: 0,
            limit: Self::DEFAULT_LIMIT,
        }
    }
}

/// Query-string booleans: `true`/`false`/`1`/`0`; anything else is 422 with the parameter name.
pub fn parse_bool(name: &str, value: &str) -> Result<bool, DomainError> {
    match value {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(DomainError::invalid(
            name.to_string(),
            format!("{name} must be true or false"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(e: DomainError) -> String {
        e.code().to_string()
    }

    #[test]
    fn defaults_and_bounds() {
        assert_eq!(
            Page::parse(None, None).unwrap(),
            Page {
                offset: 0,
                limit: 100
            }
        );
        assert_eq!(
            Page::parse(Some("10"), Some("25")).unwrap(),
            Page {
                offset: 10,
                limit: 25
            }
        );
        assert_eq!(Page::parse(None, Some("500")).unwrap().limit, 500);
        assert_eq!(code(Page::parse(None, Some("0")).unwrap_err()), "limit");
        assert_eq!(code(Page::parse(None, Some("501")).unwrap_err()), "limit");
        assert_eq!(code(Page::parse(Some("-1"), None).unwrap_err()), "offset");
        assert_eq!(code(Page::parse(Some("x"), None).unwrap_err()), "offset");
    }

    #[test]
    fn booleans() {
        assert!(parse_bool("autoAssign", "1").unwrap());
        assert!(!parse_bool("autoAssign", "false").unwrap());
        assert_eq!(
            code(parse_bool("autoAssign", "yes").unwrap_err()),
            "autoAssign"
        );
    }
}
