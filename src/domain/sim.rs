//! SIMs: ICC numbers, form factors, networks, statuses, and the TelecomX import line format.
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use utoipa::ToSchema;

/// An ICC as either dialect takes it: 18–20 digits, optionally followed by `F` (the padding nibble).
/// The canonical form — what is stored, indexed and shown — is the digits without the padding and
/// without the Luhn check digit: one physical SIM is one row whichever form it is given in. A
/// 20-digit ICC always ends in its check digit (19 digits is the longest ICC body), so a wrong
/// check digit is refused; 18 and 19 digits are taken as bodies (emnify's `iccid`).
pub fn parse_iccid(s: &str) -> Result<String, String> {
    let s = s.trim();
    let digits = s.strip_suffix(['F', 'f']).unwrap_or(s);
    if !((18..=20).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())) {
        return Err(ICC_FORMAT.to_string());
    }
    if digits.len() == 20 {
        if !luhn::valid(digits) {
            return Err(format!(
                "{digits} is not a valid ICC: its last digit is not the Luhn check digit of the first 19"
            ));
        }
        return Ok(digits[..19].to_string());
    }
    Ok(digits.to_string())
}

/// What an ICC must look like, for error messages.
pub const ICC_FORMAT: &str = "ICC must be 18 to 20 digits, optionally followed by F";

/// The Luhn check digit of an ICC body.
pub fn luhn_digit(body: &str) -> char {
    luhn::checksum(body.as_bytes()) as char
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
pub enum FormFactor {
    #[serde(rename = "MINI_MICRO")]
    MiniMicro,
    #[serde(rename = "NANO")]
    Nano,
    #[serde(rename = "MINI_MICRO_NANO")]
    MiniMicroNano,
    #[serde(rename = "eSIM")]
    ESim,
}

impl FormFactor {
    pub const ALL: [FormFactor; 4] = [
        FormFactor::MiniMicro,
        FormFactor::Nano,
        FormFactor::MiniMicroNano,
        FormFactor::ESim,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FormFactor::MiniMicro => "MINI_MICRO",
            FormFactor::Nano => "NANO",
            FormFactor::MiniMicroNano => "MINI_MICRO_NANO",
            FormFactor::ESim => "eSIM",
        }
    }

    /// Case-insensitive: `esim`, `eSim` and `eSIM` are all the eSIM form factor.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

impl TryFrom<String> for FormFactor {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        FormFactor::parse(&s).ok_or_else(|| format!("unknown form factor {s:?}"))
    }
}

/// The canonical spelling of a configured network, matched case-insensitively.
pub fn parse_network<'a>(s: &str, networks: &'a [String]) -> Option<&'a str> {
    networks
        .iter()
        .find(|n| n.eq_ignore_ascii_case(s.trim()))
        .map(String::as_str)
}

/// A `network` query parameter: a configured network, else 422 `network`.
pub fn network_param(s: &str, networks: &[String]) -> Result<String, super::error::DomainError> {
    parse_network(s, networks)
        .map(str::to_string)
        .ok_or_else(|| {
            super::error::DomainError::invalid(
                "network",
                format!("network must be one of {}", networks.join(", ")),
            )
        })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SimStatus {
    Issued = 0,
    Activated = 1,
    Suspended = 2,
    Deleted = 3,
    FactoryTest = 4,
}

impl SimStatus {
    pub const ALL: [SimStatus; 5] = [
        SimStatus::Issued,
        SimStatus::Activated,
        SimStatus::Suspended,
        SimStatus::Deleted,
        SimStatus::FactoryTest,
    ];

    pub fn id(self) -> i16 {
        self as i16
    }

    pub fn from_id(id: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.id() as i64 == id)
    }

    pub fn description(self) -> &'static str {
        match self {
            SimStatus::Issued => "Issued",
            SimStatus::Activated => "Activated",
            SimStatus::Suspended => "Suspended",
            SimStatus::Deleted => "Deleted",
            SimStatus::FactoryTest => "Factory Test",
        }
    }
}

/// One SIM of a TelecomX import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedSim {
    pub line: usize,
    pub iccid: String,
    pub puk1: Option<String>,
    pub puk2: Option<String>,
    pub pin1: Option<String>,
    pub pin2: Option<String>,
    pub form_factor: FormFactor,
    pub network: String,
    pub activation_code: Option<String>,
    pub tag: Option<String>,
    pub auto_assign: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SkippedLine {
    pub line: usize,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct ImportPlan {
    pub sims: Vec<ImportedSim>,
    pub skipped: Vec<SkippedLine>,
}

pub const MAX_IMPORT_LINES: usize = 10_000;

fn optional(field: &str) -> Option<String> {
    let f = field.trim();
    (!f.is_empty()).then(|| f.to_string())
}

fn digits(
    name: &str,
    field: &str,
    lengths: std::ops::RangeInclusive<usize>,
) -> Result<Option<String>, String> {
    match optional(field) {
        None => Ok(None),
        Some(v) if lengths.contains(&v.len()) && v.bytes().all(|b| b.is_ascii_digit()) => {
            Ok(Some(v))
        }
        Some(_) => Err(format!(
            "{name} must be {} to {} digits",
            lengths.start(),
            lengths.end()
        )),
    }
}

/// `SIM_CARD_NUMBER;PUK1;PUK2;PIN1;PIN2;FORM_FACTOR;NETWORK[;ACTIVATION_CODE;TAG;AUTO_ASSIGN]`
pub fn parse_import_line(
    line: usize,
    text: &str,
    networks: &[String],
) -> Result<ImportedSim, String> {
    let fields: Vec<&str> = text.trim_end_matches('\r').split(';').collect();
    if !(7..=10).contains(&fields.len()) {
        return Err(format!(
            "expected 7 to 10 ';'-separated fields, found {}",
            fields.len()
        ));
    }
    let iccid = parse_iccid(fields[0]).map_err(|e| format!("SIM card number: {e}"))?;
    let form_factor = FormFactor::parse(fields[5]).ok_or_else(|| {
        format!(
            "unknown form factor {:?} (MINI_MICRO, NANO, MINI_MICRO_NANO, eSIM)",
            fields[5].trim()
        )
    })?;
    let network = parse_network(fields[6], networks)
        .ok_or_else(|| {
            format!(
                "unknown network {:?} ({})",
                fields[6].trim(),
                networks.join(", ")
            )
        })?
        .to_string();
    let auto_assign = match fields
        .get(9)
        .map(|f| f.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("") | Some("false") | Some("0") => false,
        Some("true") | Some("1") => true,
        Some(other) => return Err(format!("AUTO_ASSIGN must be true or false, not {other:?}")),
    };
    Ok(ImportedSim {
        line,
        iccid,
        puk1: digits("PUK1", fields[1], 8..=8)?,
        puk2: digits("PUK2", fields[2], 8..=8)?,
        pin1: digits("PIN1", fields[3], 4..=8)?,
        pin2: digits("PIN2", fields[4], 4..=8)?,
        form_factor,
        network,
        activation_code: fields.get(7).and_then(|f| optional(f)),
        tag: fields.get(8).and_then(|f| optional(f)),
        auto_assign,
    })
}

/// Parses every line; blank lines are ignored, bad lines and repeats of an ICC are skipped with
/// their reason. Line numbers are 1-based.
pub fn plan_import(data: &str, networks: &[String]) -> ImportPlan {
    plan_lines(data.lines().enumerate().map(|(i, l)| (i + 1, l)), networks)
}

/// As `plan_import`, over numbered lines (a file read in chunks keeps its own numbering).
pub fn plan_lines<'a>(
    lines: impl Iterator<Item = (usize, &'a str)>,
    networks: &[String],
) -> ImportPlan {
    let mut plan = ImportPlan::default();
    let mut seen = HashSet::new();
    for (line, text) in lines {
        if text.trim().is_empty() {
            continue;
        }
        match parse_import_line(line, text, networks) {
            Ok(sim) if !seen.insert(sim.iccid.clone()) => plan.skipped.push(SkippedLine {
                line,
                reason: format!("ICC {} appears earlier in this import", sim.iccid),
            }),
            Ok(sim) => plan.sims.push(sim),
            Err(reason) => plan.skipped.push(SkippedLine { line, reason }),
        }
    }
    plan
}

/// A file's header row (`ICC;PUK1;PUK2;...`): its first field is a word, where an import line has
/// an ICC's digits.
pub fn is_import_header(line: &str) -> bool {
    let first = line
        .trim_start_matches('\u{feff}')
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .trim_matches('"');
    line.contains(';')
        && !first.is_empty()
        && first
            .chars()
            .all(|c| c.is_ascii_alphabetic() || c == '_' || c == ' ')
}

/// Lines that count against the import limit: all but blank ones.
pub fn count_lines(data: &str) -> usize {
    data.lines().filter(|l| !l.trim().is_empty()).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_row_is_told_from_an_import_line() {
        assert!(is_import_header(
            "ICC;PUK1;PUK2;PIN1;PIN2;FORM_FACTOR;NETWORK"
        ));
        assert!(is_import_header("\u{feff}\"iccid\";puk1;puk2"));
        assert!(!is_import_header(
            "8945000000000000001;12345678;87654321;1234;4321;NANO;TDC"
        ));
        assert!(!is_import_header("ICC without separators"));
        assert!(!is_import_header(";PUK1"));
    }

    fn nets() -> Vec<String> {
        vec!["TDC".into(), "TELENOR".into(), "TELIA".into()]
    }

    #[test]
    fn iccids_have_one_canonical_form() {
        let body = "8945012345678901234";
        let with = format!("{body}{}", luhn_digit(body));
        assert_eq!(parse_iccid(body).unwrap(), body);
        assert_eq!(
            parse_iccid(&with).unwrap(),
            body,
            "20 digits: the check digit goes"
        );
        assert_eq!(
            parse_iccid(&format!("{body}f")).unwrap(),
            body,
            "F padding goes"
        );
        assert_eq!(parse_iccid(&format!(" {with}F ")).unwrap(), body);
        assert_eq!(
            parse_iccid("894501234567890123").unwrap(),
            "894501234567890123"
        );
        let wrong = format!("{body}{}", (luhn_digit(body) as u8 - b'0' + 1) % 10);
        assert!(parse_iccid(&wrong).unwrap_err().contains("Luhn"));
        assert!(parse_iccid("89450123456789012").is_err());
        assert!(parse_iccid("894501234567890123456").is_err());
        assert!(parse_iccid("89450123456789012X").is_err());
        assert!(parse_iccid("8945012345678901234FF").is_err());
    }

    #[test]
    fn form_factors_and_networks() {
        assert_eq!(FormFactor::parse("esim"), Some(FormFactor::ESim));
        assert_eq!(FormFactor::parse("eSim"), Some(FormFactor::ESim));
        assert_eq!(FormFactor::ESim.as_str(), "eSIM");
        assert_eq!(FormFactor::parse("micro"), None);
        assert_eq!(parse_network("telenor", &nets()), Some("TELENOR"));
        assert_eq!(parse_network("3", &nets()), None);
    }

    #[test]
    fn a_full_line_and_a_minimal_line() {
        let full = parse_import_line(
            1,
            "8945010000000000001;12345678;87654321;1234;4321;NANO;TDC;LPA:1$x;box 4;true",
            &nets(),
        )
        .unwrap();
        assert_eq!(full.iccid, "8945010000000000001");
        assert_eq!(full.form_factor, FormFactor::Nano);
        assert_eq!(full.activation_code.as_deref(), Some("LPA:1$x"));
        assert_eq!(full.tag.as_deref(), Some("box 4"));
        assert!(full.auto_assign);
        let min = parse_import_line(2, "8945010000000000002;;;;;eSIM;telia", &nets()).unwrap();
        assert_eq!(
            (min.network.as_str(), min.auto_assign, min.puk1.clone()),
            ("TELIA", false, None)
        );
    }

    #[test]
    fn bad_lines_say_why() {
        let n = nets();
        assert!(parse_import_line(1, "123;1;2;3;4;NANO;TDC", &n)
            .unwrap_err()
            .contains("SIM card number"));
        assert!(parse_import_line(
            1,
            "8945010000000000001;12345678;87654321;1234;4321;WATCH;TDC",
            &n
        )
        .unwrap_err()
        .contains("form factor"));
        assert!(parse_import_line(
            1,
            "8945010000000000001;12345678;87654321;1234;4321;NANO;VODAFONE",
            &n
        )
        .unwrap_err()
        .contains("network"));
        assert!(
            parse_import_line(1, "8945010000000000001;123;87654321;1234;4321;NANO;TDC", &n)
                .unwrap_err()
                .contains("PUK1")
        );
        assert!(parse_import_line(
            1,
            "8945010000000000001;12345678;87654321;1234;4321;NANO;TDC;;;maybe",
            &n
        )
        .unwrap_err()
        .contains("AUTO_ASSIGN"));
        assert!(parse_import_line(1, "8945010000000000001;NANO;TDC", &n)
            .unwrap_err()
            .contains("fields"));
    }

    #[test]
    fn plans_skip_blank_lines_and_repeats() {
        let data = "8945010000000000001;;;;;NANO;TDC\n\n8945010000000000001;;;;;NANO;TDC\nbad\r\n\
                    8945010000000000002;;;;;NANO;TDC\r\n";
        let plan = plan_import(data, &nets());
        assert_eq!(
            plan.sims.iter().map(|s| s.line).collect::<Vec<_>>(),
            vec![1, 5]
        );
        assert_eq!(
            plan.skipped.iter().map(|s| s.line).collect::<Vec<_>>(),
            vec![3, 4]
        );
        assert_eq!(count_lines(data), 4);
    }

    #[test]
    fn statuses() {
        assert_eq!(SimStatus::from_id(4), Some(SimStatus::FactoryTest));
        assert_eq!(SimStatus::from_id(5), None);
        assert_eq!(SimStatus::Activated.description(), "Activated");
    }
}
