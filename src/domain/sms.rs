//! SMS to and from endpoints: their states, types and the values a submission takes
//! (spec/emnify-endpoints.md §5).
use super::error::DomainError;

/// An SMS's status; 4 to 7 are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsStatus {
    Pending,
    InProgress,
    Buffered,
    Delivered,
    Failed,
    Expired,
    Canceled,
}

impl SmsStatus {
    pub const ALL: [SmsStatus; 7] = [
        SmsStatus::Pending,
        SmsStatus::InProgress,
        SmsStatus::Buffered,
        SmsStatus::Delivered,
        SmsStatus::Failed,
        SmsStatus::Expired,
        SmsStatus::Canceled,
    ];

    pub fn id(self) -> i16 {
        match self {
            SmsStatus::Pending => 1,
            SmsStatus::InProgress => 2,
            SmsStatus::Buffered => 3,
            SmsStatus::Delivered => 4,
            SmsStatus::Failed => 5,
            SmsStatus::Expired => 6,
            SmsStatus::Canceled => 7,
        }
    }

    pub fn from_id(id: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|s| i64::from(s.id()) == id)
    }

    pub fn description(self) -> &'static str {
        match self {
            SmsStatus::Pending => "DELIVERY ATTEMPT PENDING",
            SmsStatus::InProgress => "IN PROGRESS",
            SmsStatus::Buffered => "BUFFERED",
            SmsStatus::Delivered => "DELIVERED",
            SmsStatus::Failed => "FAILED",
            SmsStatus::Expired => "EXPIRED",
            SmsStatus::Canceled => "CANCELED",
        }
    }

    /// Whether the status is final (4 to 7).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            SmsStatus::Delivered | SmsStatus::Failed | SmsStatus::Expired | SmsStatus::Canceled
        )
    }

    /// The moves a delivery gateway may report: 1→2/3/4/5, 2→3/4/5, 3→2/4/5.
    pub fn may_report(self, to: SmsStatus) -> bool {
        use SmsStatus::*;
        match self {
            Pending => matches!(to, InProgress | Buffered | Delivered | Failed),
            InProgress => matches!(to, Buffered | Delivered | Failed),
            Buffered => matches!(to, InProgress | Delivered | Failed),
            _ => false,
        }
    }

    /// A caller may cancel an MT SMS still waiting for its first attempt or buffered.
    pub fn cancelable(self) -> bool {
        matches!(self, SmsStatus::Pending | SmsStatus::Buffered)
    }
}

pub const MT: i16 = 1;
pub const MO: i16 = 2;

pub fn type_description(sms_type: i16) -> &'static str {
    if sms_type == MO {
        "MO"
    } else {
        "MT"
    }
}

/// How a source address is numbered: 145 international, 161 national, 208 alphanumeric.
pub fn address_type_description(id: i16) -> &'static str {
    match id {
        145 => "International",
        161 => "National",
        _ => "Alphanumeric",
    }
}

/// The type a source address has when none is given: international for digits (and a leading `+`),
/// else alphanumeric.
pub fn default_address_type(address: &str) -> i16 {
    let digits = address.strip_prefix('+').unwrap_or(address);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        145
    } else {
        208
    }
}

/// 1 to 1000 characters.
pub fn payload(raw: &str) -> Result<String, DomainError> {
    let n = raw.chars().count();
    if n == 0 || n > 1000 {
        return Err(DomainError::invalid(
            "payload",
            "must be 1 to 1000 characters",
        ));
    }
    Ok(raw.to_string())
}

/// A source address: 1 to 20 characters (digits with an optional `+`, or alphanumeric up to 11).
pub fn source_address(raw: &str) -> Result<String, DomainError> {
    let s = raw.trim();
    let ok = match default_address_type(s) {
        145 => s.len() <= 21,
        _ => (1..=11).contains(&s.chars().count()),
    };
    if !ok {
        return Err(DomainError::invalid(
            "source_address",
            "must be digits (up to 20, a leading + allowed) or up to 11 characters",
        ));
    }
    Ok(s.to_string())
}

/// User data header: hex of an even length.
pub fn udh(raw: &str) -> Result<String, DomainError> {
    if !raw.len().is_multiple_of(2) || raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Err(DomainError::invalid(
            "udh",
            "must be hex digits of an even length",
        ));
    }
    Ok(raw.to_ascii_uppercase())
}

/// Data coding scheme, 0 to 255.
pub fn dcs(value: i64) -> Result<i32, DomainError> {
    i32::try_from(value)
        .ok()
        .filter(|v| (0..=255).contains(v))
        .ok_or_else(|| DomainError::invalid("dcs", "must be 0 to 255"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_who_may_cancel() {
        assert_eq!(SmsStatus::ALL.map(|s| s.id()), [1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(
            SmsStatus::from_id(4).map(SmsStatus::description),
            Some("DELIVERED")
        );
        let cancelable: Vec<i16> = SmsStatus::ALL
            .into_iter()
            .filter(|s| s.cancelable())
            .map(SmsStatus::id)
            .collect();
        assert_eq!(cancelable, [1, 3]);
    }

    #[test]
    fn submissions_are_checked() {
        assert_eq!(default_address_type("+4512345678"), 145);
        assert_eq!(default_address_type("simgate"), 208);
        assert_eq!(address_type_description(208), "Alphanumeric");
        assert!(payload("").is_err());
        assert!(payload(&"x".repeat(1001)).is_err());
        assert_eq!(payload("hi").unwrap(), "hi");
        assert!(source_address("a-very-long-sender").is_err());
        assert_eq!(source_address("simgate").unwrap(), "simgate");
        assert_eq!(udh("050003cc0201").unwrap(), "050003CC0201");
        assert!(udh("abc").is_err());
        assert!(udh("zz").is_err());
        assert_eq!(dcs(8).unwrap(), 8);
        assert!(dcs(256).is_err());
        assert!(dcs(-1).is_err());
    }

    #[test]
    fn gateways_report_only_the_contracts_moves() {
        use SmsStatus::*;
        assert!(Pending.may_report(Delivered));
        assert!(Buffered.may_report(InProgress));
        assert!(!InProgress.may_report(Pending));
        assert!(!Pending.may_report(Expired), "expiry is the job's");
        assert!(!Delivered.may_report(Failed), "final");
        assert!(!Canceled.may_report(Delivered));
        assert!(Expired.is_final() && !Buffered.is_final());
    }
}
