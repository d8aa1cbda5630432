//! Which months of the time-partitioned tables (events, hourly usage) exist and which are kept.
use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};

/// The first day of the month `at` falls in (UTC).
pub fn month_start(at: DateTime<Utc>) -> NaiveDate {
    at.date_naive().with_day(1).expect("day 1 exists")
}

/// The current month and the `ahead` months after it: the partitions that must exist.
pub fn months_to_prepare(now: DateTime<Utc>, ahead: u32) -> Vec<NaiveDate> {
    let first = month_start(now);
    (0..=ahead).map(|i| first + Months::new(i)).collect()
}

/// Keeping `keep_months` months (the current one counts as one), everything before the returned
/// month start goes. `0` keeps everything.
pub fn cutoff(now: DateTime<Utc>, keep_months: u32) -> Option<NaiveDate> {
    (keep_months > 0).then(|| month_start(now) - Months::new(keep_months - 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn prepares_the_current_month_and_the_ones_ahead_across_a_year_end() {
        let now = Utc.with_ymd_and_hms(2026, 11, 30, 23, 59, 59).unwrap();
        assert_eq!(
            months_to_prepare(now, 2),
            vec![d(2026, 11, 1), d(2026, 12, 1), d(2027, 1, 1)]
        );
        assert_eq!(months_to_prepare(now, 0), vec![d(2026, 11, 1)]);
    }

    #[test]
    fn cutoff_keeps_whole_months_including_the_current_one() {
        let now = Utc.with_ymd_and_hms(2026, 3, 15, 12, 0, 0).unwrap();
        assert_eq!(cutoff(now, 0), None);
        assert_eq!(cutoff(now, 1), Some(d(2026, 3, 1)));
        assert_eq!(cutoff(now, 3), Some(d(2026, 1, 1)));
        assert_eq!(cutoff(now, 13), Some(d(2025, 3, 1)));
    }
}
