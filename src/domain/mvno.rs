//! MVNO accounts: numbers, features, SIM choice, the recovery window.
use super::error::{DomainError, Rule};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// E.164: `+`, a country code not starting with 0, at most 15 digits in all. The contract asks for
/// the format, not for the number to exist in a numbering plan (its own example, +4512345678, would
/// fail a plan check), so this checks the syntax only.
pub fn parse_e164(s: &str) -> Option<String> {
    let digits = s.trim().strip_prefix('+')?;
    let ok = (8..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    ok.then(|| format!("+{digits}"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccountState {
    Active,
    Creating,
    Blocked,
    Deleted,
    Purged,
}

impl AccountState {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountState::Active => "ACTIVE",
            AccountState::Creating => "CREATING",
            AccountState::Blocked => "BLOCKED",
            AccountState::Deleted => "DELETED",
            AccountState::Purged => "PURGED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            AccountState::Active,
            AccountState::Creating,
            AccountState::Blocked,
            AccountState::Deleted,
            AccountState::Purged,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }

    /// The states a client may set through an update.
    pub fn settable(s: &str) -> Option<Self> {
        Self::parse(s).filter(|a| matches!(a, AccountState::Active | AccountState::Blocked))
    }
}

impl TryFrom<String> for AccountState {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        AccountState::parse(&s).ok_or_else(|| format!("unknown account state {s:?}"))
    }
}

/// The account's switchable services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Features {
    pub high_rate: bool,
    pub international: bool,
    pub data: bool,
    pub five_g: bool,
    #[serde(rename = "publicIP")]
    pub public_ip: bool,
    pub charged_services: bool,
    pub voicemail: bool,
    pub secret_number: bool,
    pub roaming: bool,
    pub roaming_data: bool,
    pub mms: bool,
}

impl Default for Features {
    fn default() -> Self {
        Features {
            high_rate: true,
            international: true,
            data: true,
            five_g: true,
            public_ip: false,
            charged_services: false,
            voicemail: false,
            secret_number: false,
            roaming: true,
            roaming_data: true,
            mms: false,
        }
    }
}

impl Features {
    /// Applies a partial `feature` object: known keys only, boolean values only.
    pub fn apply(self, patch: &Value) -> Result<Features, DomainError> {
        Ok(FeaturePatch::parse(patch)?.applied_to(self))
    }
}

/// A partial `feature` object, checked (known keys, boolean values) but not yet applied: the store
/// applies it to the account as it reads it under its row lock, so that concurrent updates of
/// different features all take effect.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeaturePatch(Vec<(String, bool)>);

impl FeaturePatch {
    pub fn parse(patch: &Value) -> Result<FeaturePatch, DomainError> {
        let obj = patch.as_object().ok_or_else(|| {
            DomainError::invalid("feature", "feature must be an object of booleans")
        })?;
        let known = Self::fields(Features::default());
        let mut out = Vec::with_capacity(obj.len());
        for (k, v) in obj {
            if !known.contains_key(k) {
                return Err(DomainError::invalid(
                    "feature",
                    format!("unknown feature {k:?}"),
                ));
            }
            let b = v.as_bool().ok_or_else(|| {
                DomainError::invalid("feature", format!("feature.{k} must be true or false"))
            })?;
            out.push((k.clone(), b));
        }
        Ok(FeaturePatch(out))
    }

    pub fn applied_to(&self, features: Features) -> Features {
        let mut fields = Self::fields(features);
        for (k, b) in &self.0 {
            fields.insert(k.clone(), Value::Bool(*b));
        }
        // Only known keys with boolean values were admitted, so the object is a `Features` again.
        serde_json::from_value(Value::Object(fields)).unwrap_or(features)
    }

    fn fields(features: Features) -> Map<String, Value> {
        match serde_json::to_value(features) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        }
    }
}

pub use super::etag::IfMatch;

/// Which SIM a new account (or a SIM change) takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimChoice {
    /// This ICC, stored at the customer or one of its reseller ancestors.
    Icc(String),
    /// Any unused eSIM of that storage chain.
    ESim,
    /// Any unused SIM marked autoAssign in that storage chain.
    AutoAssign,
}

impl SimChoice {
    /// Exactly one of `simNumber`, `eSim: true`, `autoAssign: true`.
    pub fn from_request(
        sim_number: Option<&str>,
        esim: bool,
        auto_assign: bool,
    ) -> Result<SimChoice, DomainError> {
        let choices = sim_number.is_some() as u8 + esim as u8 + auto_assign as u8;
        if choices != 1 {
            return Err(DomainError::invalid(
                "sim",
                "give exactly one of simNumber, eSim: true or autoAssign: true",
            ));
        }
        match sim_number {
            Some(icc) => super::sim::parse_iccid(icc)
                .map(SimChoice::Icc)
                .map_err(|e| DomainError::invalid("simNumber", format!("simNumber: {e}"))),
            None if esim => Ok(SimChoice::ESim),
            None => Ok(SimChoice::AutoAssign),
        }
    }

    /// The `{new}` of `/mvno/{id}/changesim/{new}`: an ICC, `eSim` or `autoAssign`.
    pub fn from_path(new: &str) -> Result<SimChoice, DomainError> {
        if new.eq_ignore_ascii_case("esim") {
            Ok(SimChoice::ESim)
        } else if new.eq_ignore_ascii_case("autoassign") {
            Ok(SimChoice::AutoAssign)
        } else {
            super::sim::parse_iccid(new)
                .map(SimChoice::Icc)
                .map_err(|_| Rule::NoSim { esim: false }.into())
        }
    }

    /// The rule refusing this choice when no SIM satisfies it.
    pub fn none_available(&self) -> Rule {
        Rule::NoSim {
            esim: *self == SimChoice::ESim,
        }
    }
}

/// A deleted account can be restored until this moment.
pub fn preterminate_until(deleted: DateTime<Utc>, recovery_days: i64) -> DateTime<Utc> {
    deleted + Duration::days(recovery_days)
}

pub fn restorable(now: DateTime<Utc>, preterminate_until: DateTime<Utc>) -> bool {
    now < preterminate_until
}

/// `startDate`: a day (`2024-03-01`) or an ISO date-time.
pub fn parse_start_date(s: &str) -> Result<DateTime<Utc>, DomainError> {
    super::dates::date_or_timestamp("startDate", s)
        .map_err(|e| DomainError::invalid("startDate", e))
}

/// IMEI: 15 digits (14 without the check digit, 16 for IMEISV are accepted too).
pub fn parse_imei(s: &str) -> Result<String, DomainError> {
    let s = s.trim();
    if (14..=16).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_string())
    } else {
        Err(DomainError::invalid("imei", "imei must be 14 to 16 digits"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn e164() {
        assert_eq!(parse_e164("+4512345678").as_deref(), Some("+4512345678"));
        assert_eq!(parse_e164(" +4581808000 ").as_deref(), Some("+4581808000"));
        assert!(parse_e164("4512345678").is_none());
        assert!(parse_e164("+0512345678").is_none());
        assert!(parse_e164("+45 1234 5678").is_none());
        assert!(parse_e164("+1234567").is_none());
        assert!(parse_e164("+1234567890123456").is_none());
    }

    #[test]
    fn features_default_and_patch() {
        let f = Features::default();
        assert!(
            f.high_rate && f.international && f.data && f.five_g && f.roaming && f.roaming_data
        );
        assert!(!f.public_ip && !f.charged_services && !f.voicemail && !f.secret_number && !f.mms);
        let g = f
            .apply(&serde_json::json!({"publicIP": true, "roaming": false}))
            .unwrap();
        assert!(g.public_ip && !g.roaming && g.data);
        assert_eq!(
            f.apply(&serde_json::json!({"teleport": true}))
                .unwrap_err()
                .code(),
            "feature"
        );
        assert_eq!(
            f.apply(&serde_json::json!({"data": "yes"}))
                .unwrap_err()
                .code(),
            "feature"
        );
        let json = serde_json::to_value(f).unwrap();
        assert_eq!(json["publicIP"], false);
        assert_eq!(json["fiveG"], true);
    }

    #[test]
    fn sim_choice_is_exactly_one() {
        assert_eq!(
            SimChoice::from_request(None, true, false).unwrap(),
            SimChoice::ESim
        );
        assert_eq!(
            SimChoice::from_request(None, false, true).unwrap(),
            SimChoice::AutoAssign
        );
        assert_eq!(
            SimChoice::from_request(Some("8945000000000000001"), false, false).unwrap(),
            SimChoice::Icc("8945000000000000001".into())
        );
        assert_eq!(
            SimChoice::from_request(None, false, false)
                .unwrap_err()
                .code(),
            "sim"
        );
        assert_eq!(
            SimChoice::from_request(Some("8945000000000000001"), true, false)
                .unwrap_err()
                .code(),
            "sim"
        );
        assert_eq!(
            SimChoice::from_request(Some("12"), false, false)
                .unwrap_err()
                .code(),
            "simNumber"
        );
        assert_eq!(SimChoice::from_path("eSim").unwrap(), SimChoice::ESim);
        assert_eq!(
            SimChoice::from_path("autoAssign").unwrap(),
            SimChoice::AutoAssign
        );
        assert_eq!(SimChoice::ESim.none_available().code(), "esim");
    }

    #[test]
    fn the_recovery_window_is_thirty_days() {
        let deleted = Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap();
        let until = preterminate_until(deleted, 30);
        assert_eq!(until, Utc.with_ymd_and_hms(2026, 3, 31, 10, 0, 0).unwrap());
        assert!(restorable(deleted + Duration::days(29), until));
        assert!(!restorable(until, until));
        assert!(!restorable(deleted + Duration::days(31), until));
    }

    #[test]
    fn dates_and_imeis() {
        assert_eq!(
            parse_start_date("2024-03-01").unwrap(),
            Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap()
        );
        assert_eq!(
            parse_start_date("2024-03-01T10:00:00.000Z").unwrap(),
            Utc.with_ymd_and_hms(2024, 3, 1, 10, 0, 0).unwrap()
        );
        assert_eq!(parse_start_date("March").unwrap_err().code(), "startDate");
        assert!(parse_imei("490154203237518").is_ok());
        assert_eq!(parse_imei("4901").unwrap_err().code(), "imei");
    }
}
