//! Countries and mobile operators: the seed rows read from `migrations/data/*.csv` (see its
//! README), and the few rules about them.
use super::error::DomainError;

/// A country of the seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedCountry {
    pub id: i64,
    pub name: String,
    pub iso_code: String,
    /// Digits only; "0" when the country has no calling code.
    pub country_code: String,
    pub mcc: String,
}

/// An operator of the seed with its MNCs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedOperator {
    pub id: i64,
    pub name: String,
    pub country_id: i64,
    pub mncs: Vec<String>,
}

/// The fields of one CSV line: comma-separated, a field in double quotes may hold commas and `""`.
pub fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    fields.push(field);
    fields
}

/// The data rows of a CSV document (its header skipped), each split into fields; a row with another
/// number of fields than the header is an error naming its line.
fn rows(csv: &str) -> Result<Vec<Vec<String>>, String> {
    let mut lines = csv.lines().filter(|l| !l.trim().is_empty());
    let width = csv_fields(lines.next().ok_or("empty CSV")?).len();
    lines
        .enumerate()
        .map(|(i, line)| {
            let fields = csv_fields(line);
            if fields.len() == width {
                Ok(fields)
            } else {
                Err(format!(
                    "line {}: {} fields, not {width}",
                    i + 2,
                    fields.len()
                ))
            }
        })
        .collect()
}

fn id(field: &str) -> Result<i64, String> {
    field.parse().map_err(|_| format!("'{field}' is not an id"))
}

/// `id,name,iso_code,country_code,mcc`.
pub fn parse_countries(csv: &str) -> Result<Vec<SeedCountry>, String> {
    rows(csv)?
        .into_iter()
        .map(|f| {
            let code = if f[3].bytes().all(|b| b.is_ascii_digit()) && !f[3].is_empty() {
                f[3].clone()
            } else {
                "0".to_string()
            };
            Ok(SeedCountry {
                id: id(&f[0])?,
                name: f[1].clone(),
                iso_code: f[2].clone(),
                country_code: code,
                mcc: f[4].clone(),
            })
        })
        .collect()
}

/// `id,name,country_id,mnc` with the MNCs joined by `|`.
pub fn parse_operators(csv: &str) -> Result<Vec<SeedOperator>, String> {
    rows(csv)?
        .into_iter()
        .map(|f| {
            Ok(SeedOperator {
                id: id(&f[0])?,
                name: f[1].clone(),
                country_id: id(&f[2])?,
                mncs: f[3]
                    .split('|')
                    .filter(|m| !m.is_empty())
                    .map(str::to_string)
                    .collect(),
            })
        })
        .collect()
}

/// How emnify names an operator with its country.
pub fn name_and_country(country: &str, operator: &str) -> String {
    format!("{country} / {operator}")
}

/// An operator name: trimmed, 1 to 100 characters.
pub fn operator_name(raw: &str) -> Result<String, DomainError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(DomainError::invalid(
            "name",
            "name must be 1 to 100 characters",
        ));
    }
    Ok(name.to_string())
}

/// An ISO 3166-1 alpha-2 country code, as the seed keeps it (lower case).
pub fn iso_country(raw: &str) -> Result<String, DomainError> {
    let iso = raw.trim().to_ascii_lowercase();
    if iso.len() != 2 || !iso.bytes().all(|b| b.is_ascii_lowercase()) {
        return Err(DomainError::invalid(
            "country",
            format!("{raw:?} is not an ISO 3166-1 alpha-2 country code such as \"af\""),
        ));
    }
    Ok(iso)
}

/// An operator's MNCs: each two or three digits, none twice.
pub fn mncs(raw: &[String]) -> Result<Vec<String>, DomainError> {
    distinct("mnc", raw, |m| {
        let m = m.trim().to_string();
        (matches!(m.len(), 2 | 3) && m.bytes().all(|b| b.is_ascii_digit()))
            .then_some(m)
            .ok_or("must be two or three digits")
    })
}

/// An operator's TAP codes: each five letters or digits (upper case), none twice.
pub fn tapcodes(raw: &[String]) -> Result<Vec<String>, DomainError> {
    distinct("tapcode", raw, |t| {
        let t = t.trim().to_ascii_uppercase();
        (t.len() == 5 && t.bytes().all(|b| b.is_ascii_alphanumeric()))
            .then_some(t)
            .ok_or("must be five letters or digits such as AFGAR")
    })
}

fn distinct(
    field: &'static str,
    raw: &[String],
    one: impl Fn(&str) -> Result<String, &'static str>,
) -> Result<Vec<String>, DomainError> {
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    for (i, r) in raw.iter().enumerate() {
        let v = one(r)
            .map_err(|why| DomainError::invalid(format!("{field}[{i}]"), format!("{r:?} {why}")))?;
        if out.contains(&v) {
            return Err(DomainError::invalid(
                format!("{field}[{i}]"),
                format!("{v} is listed twice"),
            ));
        }
        out.push(v);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_fields_are_checked_and_normalised() {
        assert_eq!(operator_name(" MTN ").unwrap(), "MTN");
        assert!(operator_name("  ").is_err());
        assert!(operator_name(&"x".repeat(101)).is_err());
        assert_eq!(iso_country("AF").unwrap(), "af");
        for bad in ["afg", "a1", "", "ä"] {
            assert!(iso_country(bad).is_err(), "{bad}");
        }
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(mncs(&s(&["40", " 001"])).unwrap(), ["40", "001"]);
        for bad in [&["4"][..], &["4000"], &["4a"], &["40", "40"]] {
            assert!(mncs(&s(bad)).is_err(), "{bad:?}");
        }
        assert_eq!(tapcodes(&s(&["afgar"])).unwrap(), ["AFGAR"]);
        let e = tapcodes(&s(&["AFGAR", "afgar"])).unwrap_err();
        assert!(e.to_string().starts_with("tapcode[1]"), "{e}");
        assert!(tapcodes(&s(&["AFGA"])).is_err());
        assert!(tapcodes(&s(&["AFG-R"])).is_err());
    }

    #[test]
    fn csv_fields_keep_quoted_commas_and_quotes() {
        assert_eq!(csv_fields("1,a,b"), ["1", "a", "b"]);
        assert_eq!(
            csv_fields(r#"326,"OSNO, s.r.o.",58,06"#),
            ["326", "OSNO, s.r.o.", "58", "06"]
        );
        assert_eq!(csv_fields(r#"1,"say ""hi""",x"#), ["1", r#"say "hi""#, "x"]);
        assert_eq!(csv_fields("1,,"), ["1", "", ""]);
    }

    #[test]
    fn the_seed_parses_and_names_the_default_networks() {
        let countries =
            parse_countries(include_str!("../../migrations/data/countries.csv")).unwrap();
        let operators =
            parse_operators(include_str!("../../migrations/data/operators.csv")).unwrap();
        assert!(countries.len() > 240, "{}", countries.len());
        assert!(countries
            .iter()
            .all(|c| c.country_code.bytes().all(|b| b.is_ascii_digit())));
        let denmark = countries.iter().find(|c| c.iso_code == "dk").unwrap();
        assert_eq!(
            (denmark.country_code.as_str(), denmark.mcc.as_str()),
            ("45", "238")
        );
        for network in ["TDC", "TELENOR", "TELIA"] {
            assert!(
                operators
                    .iter()
                    .any(|o| o.country_id == denmark.id && o.name.eq_ignore_ascii_case(network)),
                "{network}"
            );
        }
        // Every operator's country exists, ids are unique and below the admin's range.
        let ids: std::collections::BTreeSet<i64> = operators.iter().map(|o| o.id).collect();
        assert_eq!(ids.len(), operators.len());
        assert!(ids.iter().all(|id| *id < 100_000));
        assert!(operators
            .iter()
            .all(|o| countries.iter().any(|c| c.id == o.country_id)));
        assert!(parse_countries("id,name\n1,a,b").is_err());
    }
}
