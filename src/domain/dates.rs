//! The one parser for dates and date-times that arrive from clients (query strings, bodies, ingest
//! records). chrono accepts years from -262143 to 262142 and signs; the databases and the clients do
//! not, so a value outside years 1..=9999 is refused here, naming the field, rather than failing later.
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Timelike, Utc};

pub const MIN_YEAR: i32 = 1;
pub const MAX_YEAR: i32 = 9999;

fn in_range(year: i32) -> bool {
    (MIN_YEAR..=MAX_YEAR).contains(&year)
}

/// `YYYY-MM-DD` with a four-digit year. The error names `field`.
pub fn date(field: &str, s: &str) -> Result<NaiveDate, String> {
    let s = s.trim();
    let well_formed = s.len() == 10 && s.as_bytes()[4] == b'-' && s.as_bytes()[7] == b'-';
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .filter(|d| well_formed && in_range(d.year()))
        .ok_or_else(|| {
            format!("{field} must be a date YYYY-MM-DD (years {MIN_YEAR} to {MAX_YEAR})")
        })
}

/// emnify's date-time format: `2022-03-27T23:20:49.000+0000`.
pub fn emnify_time(t: &DateTime<Utc>) -> String {
    // Written out by hand, digit by digit: chrono's `format` parses its pattern on every call, and
    // `format!` goes through the formatting machinery per field (4% of a single-device read's
    // instructions for its two dates). Years outside four digits keep chrono's spelling.
    if !(0..=9999).contains(&t.year()) {
        return t.format(EMNIFY_TIME).to_string();
    }
    let nanos = t.nanosecond();
    let mut out = *b"0000-00-00T00:00:00.000+0000";
    let mut put = |at: usize, width: usize, mut n: u32| {
        for i in (at..at + width).rev() {
            out[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    put(0, 4, t.year() as u32);
    put(5, 2, t.month());
    put(8, 2, t.day());
    put(11, 2, t.hour());
    put(14, 2, t.minute());
    // A leap second is second 59 with a second's worth of nanoseconds more: chrono prints 60.
    put(17, 2, t.second() + nanos / 1_000_000_000);
    put(20, 3, nanos % 1_000_000_000 / 1_000_000);
    // Only ASCII digits and separators were written.
    std::str::from_utf8(&out)
        .map(str::to_owned)
        .unwrap_or_default()
}

const EMNIFY_TIME: &str = "%Y-%m-%dT%H:%M:%S%.3f+0000";

/// An RFC 3339 / ISO-8601 date-time with an offset (`2024-03-01T10:00:00Z`), years 1..=9999.
pub fn timestamp(field: &str, s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|d| d.with_timezone(&Utc))
        .filter(|d| in_range(d.year()))
        .ok_or_else(|| {
            format!(
                "{field} must be an ISO-8601 date-time such as 2024-03-01T10:00:00Z (years {MIN_YEAR} to {MAX_YEAR})"
            )
        })
}

/// A date-time as emnify clients send it: RFC 3339, or `YYYY-MM-DD HH:mm:ss` in UTC.
pub fn emnify_timestamp(field: &str, s: &str) -> Result<DateTime<Utc>, String> {
    timestamp(field, s).or_else(|e| {
        chrono::NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M:%S")
            .ok()
            .filter(|d| in_range(d.year()))
            .map(|d| d.and_utc())
            .ok_or(e)
    })
}

/// A date or a date-time (a date means its midnight, UTC).
pub fn date_or_timestamp(field: &str, s: &str) -> Result<DateTime<Utc>, String> {
    match date(field, s) {
        Ok(d) => Ok(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc()),
        Err(_) => timestamp(field, s).map_err(|_| {
            format!("{field} must be YYYY-MM-DD or an ISO-8601 date-time (years {MIN_YEAR} to {MAX_YEAR})")
        }),
    }
}

/// The start of the hour `t` falls in (whole seconds; unlike chrono's `duration_trunc`, valid for
/// every representable instant).
pub fn hour_start(t: DateTime<Utc>) -> DateTime<Utc> {
    let secs = t.timestamp();
    Utc.timestamp_opt(secs - secs.rem_euclid(3600), 0)
        .single()
        .unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emnify_time_is_chronos_spelling() {
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
            .unwrap()
            .and_utc();
        for t in [
            Utc.with_ymd_and_hms(2022, 3, 27, 23, 20, 49).unwrap(),
            Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap()
                + chrono::Duration::milliseconds(999),
            Utc.with_ymd_and_hms(2024, 2, 29, 7, 5, 3).unwrap()
                + chrono::Duration::microseconds(12_345),
            Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(-5, 6, 7, 8, 9, 10).unwrap(),
            leap,
        ] {
            assert_eq!(emnify_time(&t), t.format(EMNIFY_TIME).to_string(), "{t:?}");
        }
        assert_eq!(
            emnify_time(&Utc.with_ymd_and_hms(2022, 3, 27, 23, 20, 49).unwrap()),
            "2022-03-27T23:20:49.000+0000"
        );
    }

    #[test]
    fn dates_within_years_1_to_9999_only() {
        assert_eq!(
            date("d", "2024-02-29").unwrap(),
            NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()
        );
        for bad in [
            "-262143-01-01",
            "0000-01-01",
            "10000-01-01",
            "+2024-01-01",
            "2024-1-1",
            "2023-02-29",
            "2024-03-01T00:00:00Z",
            "",
        ] {
            let e = date("start_date", bad).unwrap_err();
            assert!(e.starts_with("start_date"), "{bad}: {e}");
        }
        assert_eq!(date("d", "9999-12-31").unwrap().year(), 9999);
        assert_eq!(date("d", "0001-01-01").unwrap().year(), 1);
    }

    #[test]
    fn emnify_timestamps_take_a_space_separated_utc_form_too() {
        let t = emnify_timestamp("expiry_date", "2026-03-16 08:30:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-03-16T08:30:00+00:00");
        assert_eq!(
            emnify_timestamp("expiry_date", "2026-03-16T10:30:00+02:00").unwrap(),
            t
        );
        assert!(emnify_timestamp("expiry_date", "tomorrow").is_err());
        assert_eq!(emnify_time(&t), "2026-03-16T08:30:00.000+0000");
    }

    #[test]
    fn timestamps_within_years_1_to_9999_only() {
        let t = timestamp("ts", "2024-03-01T10:00:00+02:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2024-03-01T08:00:00+00:00");
        for bad in [
            "2262-04-12T00:00:00Z x",
            "0000-01-01T00:00:00Z",
            "10000-01-01T00:00:00Z",
            "2024-03-01",
            "2024-03-01T10:00:00",
        ] {
            assert!(timestamp("ts", bad).unwrap_err().starts_with("ts"), "{bad}");
        }
        // Past 2262 (where nanosecond arithmetic overflows) is fine here.
        let far = timestamp("ts", "9999-12-31T23:59:59Z").unwrap();
        assert_eq!(hour_start(far).to_rfc3339(), "9999-12-31T23:00:00+00:00");
        assert_eq!(
            date_or_timestamp("s", "2024-03-01").unwrap().to_rfc3339(),
            "2024-03-01T00:00:00+00:00"
        );
    }
}
