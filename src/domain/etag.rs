//! Optimistic concurrency: a row's version is its entity tag. A client that read `ETag: "v7"` sends
//! `If-Match: "v7"` with its update; the store compares it with the row as it reads it under its
//! lock, so a change made in between is refused (412) instead of overwritten.

/// The `ETag` of a row at `version`.
pub fn etag(version: i64) -> String {
    format!("\"v{version}\"")
}

/// An `If-Match` header: any current row (`*`), or one of these versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    Any,
    Versions(Vec<i64>),
}

impl IfMatch {
    /// `*`, or a comma-separated list of strong tags. Weak tags (`W/"v7"`) never match (RFC 9110:
    /// If-Match compares strongly) and neither does a tag this server did not issue.
    pub fn parse(header: &str) -> IfMatch {
        if header.trim() == "*" {
            return IfMatch::Any;
        }
        IfMatch::Versions(
            header
                .split(',')
                .filter_map(|tag| {
                    tag.trim()
                        .strip_prefix("\"v")?
                        .strip_suffix('"')?
                        .parse()
                        .ok()
                })
                .collect(),
        )
    }

    pub fn matches(&self, version: i64) -> bool {
        match self {
            IfMatch::Any => true,
            IfMatch::Versions(v) => v.contains(&version),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip_and_only_strong_issued_tags_match() {
        assert_eq!(etag(7), "\"v7\"");
        assert!(IfMatch::parse(&etag(7)).matches(7));
        assert!(!IfMatch::parse(&etag(7)).matches(8));
        assert!(IfMatch::parse("\"v3\", \"v7\"").matches(7));
        assert!(IfMatch::parse("*").matches(42));
        assert!(!IfMatch::parse("W/\"v7\"").matches(7));
        assert!(!IfMatch::parse("\"7\"").matches(7));
        assert!(!IfMatch::parse("garbage").matches(7));
    }
}
