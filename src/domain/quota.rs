//! Data and SMS quotas of an endpoint (spec/emnify-endpoints.md §7): what a quota may say, how usage
//! draws it down, and when it denies the service.
use super::error::DomainError;
use super::events;
use chrono::{DateTime, Utc};

/// Which quota: data (volume in MB) or SMS (a count).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QuotaKind {
    Data,
    Sms,
}

impl QuotaKind {
    pub fn id(self) -> i16 {
        match self {
            QuotaKind::Data => 1,
            QuotaKind::Sms => 2,
        }
    }

    pub fn from_id(id: i16) -> Option<Self> {
        [QuotaKind::Data, QuotaKind::Sms]
            .into_iter()
            .find(|k| k.id() == id)
    }

    /// The usage traffic type it counts.
    pub fn traffic_type(self) -> i16 {
        match self {
            QuotaKind::Data => super::usage::DATA,
            QuotaKind::Sms => super::usage::SMS,
        }
    }

    pub fn of_traffic(traffic_type: i16) -> Option<Self> {
        match traffic_type {
            super::usage::DATA => Some(QuotaKind::Data),
            super::usage::SMS => Some(QuotaKind::Sms),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            QuotaKind::Data => "Data",
            QuotaKind::Sms => "SMS",
        }
    }

    fn unit(self) -> &'static str {
        match self {
            QuotaKind::Data => "MB",
            QuotaKind::Sms => "SMS",
        }
    }

    /// Events: assigned, deleted, threshold reached, used up, expired.
    pub fn assigned_event(self) -> i32 {
        match self {
            QuotaKind::Data => events::DATA_QUOTA_ASSIGNED,
            QuotaKind::Sms => events::SMS_QUOTA_ASSIGNED,
        }
    }

    pub fn deleted_event(self) -> i32 {
        match self {
            QuotaKind::Data => events::DATA_QUOTA_DELETED,
            QuotaKind::Sms => events::SMS_QUOTA_DELETED,
        }
    }

    pub fn threshold_event(self) -> i32 {
        match self {
            QuotaKind::Data => events::QUOTA_THRESHOLD,
            QuotaKind::Sms => events::SMS_QUOTA_THRESHOLD,
        }
    }

    pub fn used_up_event(self) -> i32 {
        match self {
            QuotaKind::Data => events::QUOTA_USED_UP,
            QuotaKind::Sms => events::SMS_QUOTA_USED_UP,
        }
    }

    pub fn expired_event(self) -> i32 {
        match self {
            QuotaKind::Data => events::DATA_QUOTA_EXPIRED,
            QuotaKind::Sms => events::SMS_QUOTA_EXPIRED,
        }
    }

    /// The assignment event's words, as emnify writes them.
    pub fn assigned_message(self, volume: f64) -> String {
        match self {
            QuotaKind::Data => format!(
                "{} quota got assigned with a volume of {volume:.6} {}",
                self.label(),
                self.unit()
            ),
            QuotaKind::Sms => format!(
                "{} quota got assigned with a volume of {} {}",
                self.label(),
                volume.round() as i64,
                self.unit()
            ),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaStatus {
    Active,
    Exhausted,
    Expired,
}

impl QuotaStatus {
    pub fn id(self) -> i16 {
        match self {
            QuotaStatus::Active => 1,
            QuotaStatus::Exhausted => 2,
            QuotaStatus::Expired => 3,
        }
    }

    pub fn from_id(id: i64) -> Option<Self> {
        [
            QuotaStatus::Active,
            QuotaStatus::Exhausted,
            QuotaStatus::Expired,
        ]
        .into_iter()
        .find(|s| i64::from(s.id()) == id)
    }

    pub fn description(self) -> &'static str {
        match self {
            QuotaStatus::Active => "ACTIVE",
            QuotaStatus::Exhausted => "EXHAUSTED",
            QuotaStatus::Expired => "EXPIRED",
        }
    }
}

/// What happens when the quota is used up: Block (1) or, for data, Throttle (2) to a peak rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exhaustion {
    Block,
    Throttle { peak_throughput: i32 },
}

/// The peak rates a throttled quota may fall to (bit/s).
pub const PEAK_THROUGHPUTS: [i32; 4] = [64_000, 128_000, 256_000, 384_000];

impl Exhaustion {
    pub fn id(self) -> i16 {
        match self {
            Exhaustion::Block => 1,
            Exhaustion::Throttle { .. } => 2,
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Exhaustion::Block => "Block",
            Exhaustion::Throttle { .. } => "Throttle",
        }
    }

    pub fn peak(self) -> Option<i32> {
        match self {
            Exhaustion::Block => None,
            Exhaustion::Throttle { peak_throughput } => Some(peak_throughput),
        }
    }

    pub fn from_parts(id: i16, peak: Option<i32>) -> Self {
        match (id, peak) {
            (2, Some(p)) => Exhaustion::Throttle { peak_throughput: p },
            _ => Exhaustion::Block,
        }
    }

    /// The action a POST asks for: SMS quotas always block; Throttle needs a known peak rate.
    pub fn parse(kind: QuotaKind, id: i64, peak: Option<i64>) -> Result<Self, DomainError> {
        let field = "action_on_exhaustion";
        match (kind, id) {
            (_, 1) => Ok(Exhaustion::Block),
            (QuotaKind::Data, 2) => match peak {
                Some(p) if PEAK_THROUGHPUTS.iter().any(|k| i64::from(*k) == p) => {
                    Ok(Exhaustion::Throttle {
                        peak_throughput: p as i32,
                    })
                }
                _ => Err(DomainError::invalid(
                    field,
                    "Throttle needs peak_throughput 64000, 128000, 256000 or 384000",
                )),
            },
            (QuotaKind::Sms, 2) => Err(DomainError::invalid(field, "an SMS quota always blocks")),
            _ => Err(DomainError::invalid(
                field,
                format!("{id} is not an action: 1 (Block) or 2 (Throttle)"),
            )),
        }
    }
}

/// A quota's volume check: `volume` (MB or SMS) not negative and finite.
pub fn volume(v: f64) -> Result<f64, DomainError> {
    if !v.is_finite() || v < 0.0 {
        return Err(DomainError::invalid(
            "volume",
            "must be a number of at least 0",
        ));
    }
    Ok(v)
}

pub fn threshold(p: i64) -> Result<i16, DomainError> {
    if !(0..=100).contains(&p) {
        return Err(DomainError::invalid(
            "threshold_percentage",
            "must be 0 to 100",
        ));
    }
    Ok(p as i16)
}

/// What drawing `used` from an ACTIVE quota does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Drawn {
    /// The volume left (never below 0).
    pub left: f64,
    /// The threshold is crossed now (reported once).
    pub threshold_reached: bool,
    /// Nothing is left: the quota becomes EXHAUSTED.
    pub used_up: bool,
}

/// Draws `used` from a quota with `left` of `added`, whose threshold (a percentage of `added` left)
/// was or was not reported already.
pub fn draw(left: f64, added: f64, threshold: Option<i16>, reported: bool, used: f64) -> Drawn {
    let after = (left - used).max(0.0);
    let line = threshold.map(|p| added * f64::from(p) / 100.0);
    Drawn {
        left: after,
        threshold_reached: !reported && line.is_some_and(|l| after < l) && after > 0.0,
        used_up: after <= 0.0 && used > 0.0,
    }
}

/// Whether the service the quota governs is denied: quotas enforced by the profile and the quota
/// missing, EXPIRED, or EXHAUSTED with Block (a throttled one is only marked EXHAUSTED).
pub fn denies(enforced: bool, quota: Option<(QuotaStatus, Exhaustion)>) -> bool {
    enforced
        && match quota {
            None => true,
            Some((QuotaStatus::Active, _)) => false,
            Some((QuotaStatus::Expired, _)) => true,
            Some((QuotaStatus::Exhausted, action)) => action == Exhaustion::Block,
        }
}

/// A quota's status at `now`: one past its expiry date is EXPIRED even before the job marks it.
pub fn status_at(
    stored: QuotaStatus,
    expiry_date: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QuotaStatus {
    if now >= expiry_date {
        QuotaStatus::Expired
    } else {
        stored
    }
}

/// The start of the UTC day `now` falls in: auto-refills happen then.
pub fn day_start(now: DateTime<Utc>) -> DateTime<Utc> {
    now.date_naive()
        .and_hms_opt(0, 0, 0)
        .map(|d| d.and_utc())
        .unwrap_or(now)
}

/// Whether an `auto_refill` quota is due its refill of the day that starts at `day`: not refilled
/// (nor assigned) since, ACTIVE or EXHAUSTED, and not expired by then.
pub fn refill_due(
    auto_refill: bool,
    status: QuotaStatus,
    assigned_at: DateTime<Utc>,
    expiry_date: DateTime<Utc>,
    day: DateTime<Utc>,
) -> bool {
    auto_refill
        && assigned_at < day
        && expiry_date > day
        && matches!(status, QuotaStatus::Active | QuotaStatus::Exhausted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_and_the_daily_refill() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let expiry = at("2026-12-10T00:00:00Z");
        assert_eq!(
            status_at(QuotaStatus::Active, expiry, at("2026-12-09T23:59:59Z")),
            QuotaStatus::Active
        );
        assert_eq!(
            status_at(QuotaStatus::Exhausted, expiry, expiry),
            QuotaStatus::Expired
        );
        let day = day_start(at("2026-12-05T13:45:10Z"));
        assert_eq!(day, at("2026-12-05T00:00:00Z"));
        let before = at("2026-12-04T09:00:00Z");
        assert!(refill_due(
            true,
            QuotaStatus::Exhausted,
            before,
            expiry,
            day
        ));
        assert!(refill_due(true, QuotaStatus::Active, before, expiry, day));
        assert!(
            !refill_due(false, QuotaStatus::Exhausted, before, expiry, day),
            "not auto"
        );
        assert!(
            !refill_due(true, QuotaStatus::Expired, before, expiry, day),
            "expired"
        );
        assert!(
            !refill_due(true, QuotaStatus::Active, day, expiry, day),
            "refilled today"
        );
        assert!(
            !refill_due(true, QuotaStatus::Active, before, day, day),
            "expires as the day starts"
        );
    }

    #[test]
    fn actions_follow_the_kind() {
        assert_eq!(
            Exhaustion::parse(QuotaKind::Data, 2, Some(128_000)),
            Ok(Exhaustion::Throttle {
                peak_throughput: 128_000
            })
        );
        assert!(Exhaustion::parse(QuotaKind::Data, 2, None).is_err());
        assert!(Exhaustion::parse(QuotaKind::Data, 2, Some(100_000)).is_err());
        assert!(Exhaustion::parse(QuotaKind::Sms, 2, Some(128_000)).is_err());
        assert_eq!(
            Exhaustion::parse(QuotaKind::Sms, 1, None),
            Ok(Exhaustion::Block)
        );
        assert!(Exhaustion::parse(QuotaKind::Data, 3, None).is_err());
    }

    #[test]
    fn values_are_checked() {
        assert!(volume(-0.5).is_err());
        assert!(volume(f64::NAN).is_err());
        assert_eq!(volume(0.0), Ok(0.0));
        assert!(threshold(101).is_err());
        assert_eq!(threshold(20), Ok(20));
    }

    #[test]
    fn drawing_reports_the_threshold_once_then_the_end() {
        // 100 added, 20 % threshold: 30 left is above, 15 is below.
        let d = draw(100.0, 100.0, Some(20), false, 70.0);
        assert_eq!(
            (d.left, d.threshold_reached, d.used_up),
            (30.0, false, false)
        );
        let d = draw(30.0, 100.0, Some(20), false, 15.0);
        assert_eq!(
            (d.left, d.threshold_reached, d.used_up),
            (15.0, true, false)
        );
        let d = draw(15.0, 100.0, Some(20), true, 5.0);
        assert!(!d.threshold_reached, "once");
        let d = draw(10.0, 100.0, Some(20), true, 25.0);
        assert_eq!((d.left, d.used_up), (0.0, true));
        // Straight past the threshold to zero: used up only.
        let d = draw(100.0, 100.0, Some(20), false, 100.0);
        assert_eq!((d.threshold_reached, d.used_up), (false, true));
        assert!(!draw(5.0, 100.0, None, false, 1.0).threshold_reached);
    }

    #[test]
    fn denial_needs_enforcement_and_a_blocking_state() {
        let block = Exhaustion::Block;
        let throttle = Exhaustion::Throttle {
            peak_throughput: 64_000,
        };
        assert!(!denies(false, None));
        assert!(denies(true, None));
        assert!(!denies(true, Some((QuotaStatus::Active, block))));
        assert!(denies(true, Some((QuotaStatus::Exhausted, block))));
        assert!(!denies(true, Some((QuotaStatus::Exhausted, throttle))));
        assert!(denies(true, Some((QuotaStatus::Expired, throttle))));
    }
}
