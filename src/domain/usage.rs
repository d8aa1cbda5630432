//! Usage statistics from hourly buckets: the periods of `/stats` and the days of `/stats/daily`.
use super::error::{DomainError, Invalid};
use chrono::{DateTime, Datelike, Duration, DurationRound, NaiveDate, TimeZone, Utc};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

pub const DATA: i16 = 5;
pub const SMS: i16 = 6;

/// One hourly bucket (read as is from `usage_hourly`).
#[derive(Debug, Clone)]
pub struct Bucket {
    pub hour: DateTime<Utc>,
    pub traffic_type: i16,
    pub volume_tx: f64,
    pub volume_rx: f64,
    pub cost: f64,
    pub currency: String,
    pub updated_at: DateTime<Utc>,
}

pub fn month_start(d: NaiveDate) -> NaiveDate {
    d.with_day(1).expect("day 1 exists")
}

fn at_midnight(d: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
}

fn next_month(d: NaiveDate) -> NaiveDate {
    let first = month_start(d);
    if first.month() == 12 {
        NaiveDate::from_ymd_opt(first.year() + 1, 1, 1).expect("valid")
    } else {
        NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1).expect("valid")
    }
}

/// The buckets `/stats` reads: [start of last month, now].
pub fn stats_window(now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let this_month = month_start(now.date_naive());
    let last_month = month_start(this_month - Duration::days(1));
    (at_midnight(last_month), now + Duration::hours(1))
}

pub fn traffic_type(id: i16) -> Value {
    match id {
        DATA => json!({"id": DATA, "description": "Data", "unit": "MB"}),
        _ => json!({"id": SMS, "description": "SMS", "unit": "SMS"}),
    }
}

pub fn currency(code: &str) -> Value {
    match code {
        "EUR" => json!({"id": 1, "code": "EUR", "symbol": "€"}),
        "USD" => json!({"id": 2, "code": "USD", "symbol": "$"}),
        "GBP" => json!({"id": 3, "code": "GBP", "symbol": "£"}),
        "DKK" => json!({"id": 4, "code": "DKK", "symbol": "kr"}),
        other => json!({"id": 0, "code": other, "symbol": other}),
    }
}

#[derive(Default)]
struct Sum {
    tx: f64,
    rx: f64,
    cost: f64,
    currency: String,
    last_updated: Option<DateTime<Utc>>,
}

fn sums<'a>(buckets: impl Iterator<Item = &'a Bucket>) -> BTreeMap<i16, Sum> {
    let mut out: BTreeMap<i16, Sum> = BTreeMap::new();
    for b in buckets {
        let s = out.entry(b.traffic_type).or_default();
        s.tx += b.volume_tx;
        s.rx += b.volume_rx;
        s.cost += b.cost;
        s.currency = b.currency.clone();
        s.last_updated = s.last_updated.max(Some(b.updated_at));
    }
    out
}

fn round(v: f64) -> f64 {
    (v * 1_000_000.0).round() / 1_000_000.0
}

/// Whose usage a statistic is: a SIM's (`sim_id`) or an endpoint's (`endpoint_id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Of {
    Sim(i64),
    Endpoint(i64),
}

impl Of {
    fn key(self) -> (&'static str, i64) {
        match self {
            Of::Sim(id) => ("sim_id", id),
            Of::Endpoint(id) => ("endpoint_id", id),
        }
    }
}

fn period(of: Of, month: NaiveDate, with_month: bool, buckets: Vec<&Bucket>) -> Value {
    let (id_key, sim_id) = of.key();
    let mut obj = Map::new();
    for (tt, s) in sums(buckets.into_iter()) {
        let key = if tt == DATA { "data" } else { "sms" };
        let id: u64 = format!("{sim_id}{}{:02}{tt}", month.year(), month.month())
            .parse()
            .unwrap_or(0);
        let cur = currency(&s.currency);
        let mut entry = json!({
            "id": id, id_key: sim_id, "volume": round(s.tx + s.rx),
            "volume_tx": round(s.tx), "volume_rx": round(s.rx),
            "cost": round(s.cost), "currency_id": cur["id"], "currency": cur, "traffic_type_id": tt,
            "traffic_type": traffic_type(tt),
            "last_updated": s.last_updated.map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()),
        });
        if with_month {
            entry["month"] = json!(month.format("%Y-%m-%d").to_string());
        }
        obj.insert(key.into(), entry);
    }
    Value::Object(obj)
}

/// `{"current_month", "last_month", "last_hour"}` — always the three keys; `data` / `sms` only
/// where there was traffic. The last hour is the buckets that started in the last 60 minutes,
/// plus the one in progress an hour ago.
pub fn stats(sim_id: i64, now: DateTime<Utc>, buckets: &[Bucket]) -> Value {
    stats_of(Of::Sim(sim_id), now, buckets)
}

/// As [`stats`], of a SIM or an endpoint.
pub fn stats_of(of: Of, now: DateTime<Utc>, buckets: &[Bucket]) -> Value {
    let this_month = month_start(now.date_naive());
    let last_month = month_start(this_month - Duration::days(1));
    let (cm_from, lm_from) = (at_midnight(this_month), at_midnight(last_month));
    let hour_from = (now - Duration::hours(1))
        .duration_trunc(Duration::hours(1))
        .unwrap_or(now);
    // The buckets from `from` to `until` (itself included when `to_end`).
    let within = |from: DateTime<Utc>, until: DateTime<Utc>, to_end: bool| {
        let inside =
            move |b: &&Bucket| b.hour >= from && (b.hour < until || to_end && b.hour == until);
        buckets.iter().filter(inside).collect()
    };
    json!({
        "current_month": period(of, this_month, true, within(cm_from, now, true)),
        "last_month": period(of, last_month, true, within(lm_from, cm_from, false)),
        "last_hour": period(of, this_month, false, within(hour_from, now, true)),
    })
}

/// The range of `/stats/daily`: the current month by default; only a start: to the end of its
/// month; only an end: the month of the end. Returns [from, until) as instants.
pub fn daily_range(
    start: Option<&str>,
    end: Option<&str>,
    today: NaiveDate,
) -> Result<(NaiveDate, NaiveDate), DomainError> {
    let parse = |name: &str, s: &str| {
        super::dates::date(name, s)
            .map_err(|e| DomainError::invalid_as(Invalid::Format, name.to_string(), e))
    };
    let (from, to) = match (
        start.map(|s| parse("start_date", s)).transpose()?,
        end.map(|e| parse("end_date", e)).transpose()?,
    ) {
        (Some(s), Some(e)) => (s, e),
        (Some(s), None) => (s, next_month(s) - Duration::days(1)),
        (None, Some(e)) => (month_start(e), e),
        (None, None) => (month_start(today), next_month(today) - Duration::days(1)),
    };
    if from > to {
        return Err(DomainError::invalid_as(
            Invalid::Format,
            "start_date",
            "start_date must not be after end_date",
        ));
    }
    Ok((from, to))
}

pub fn day_bounds(from: NaiveDate, to: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    (at_midnight(from), at_midnight(to + Duration::days(1)))
}

/// One element per day with traffic.
pub fn daily(buckets: &[Bucket]) -> Vec<Value> {
    let mut days: BTreeMap<NaiveDate, Vec<&Bucket>> = BTreeMap::new();
    for b in buckets {
        days.entry(b.hour.date_naive()).or_default().push(b);
    }
    days.into_iter()
        .map(|(day, bs)| {
            let mut obj = Map::new();
            obj.insert("date".into(), json!(day.format("%Y-%m-%d").to_string()));
            for (tt, s) in sums(bs.into_iter()) {
                let key = if tt == DATA { "data" } else { "sms" };
                obj.insert(
                    key.into(),
                    json!({
                        "volume": round(s.tx + s.rx), "volume_tx": round(s.tx), "volume_rx": round(s.rx),
                        "cost": round(s.cost), "currency": currency(&s.currency), "traffic_type": traffic_type(tt)
                    }),
                );
            }
            Value::Object(obj)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(h: DateTime<Utc>, tt: i16, tx: f64, rx: f64, cost: f64) -> Bucket {
        Bucket {
            hour: h,
            traffic_type: tt,
            volume_tx: tx,
            volume_rx: rx,
            cost,
            currency: "EUR".into(),
            updated_at: h,
        }
    }

    #[test]
    fn periods_split_buckets() {
        let now = Utc.with_ymd_and_hms(2024, 3, 15, 12, 30, 0).unwrap();
        let buckets = vec![
            b(
                Utc.with_ymd_and_hms(2024, 3, 15, 12, 0, 0).unwrap(),
                DATA,
                1.0,
                2.0,
                0.5,
            ),
            b(
                Utc.with_ymd_and_hms(2024, 3, 2, 8, 0, 0).unwrap(),
                DATA,
                10.0,
                20.0,
                1.0,
            ),
            b(
                Utc.with_ymd_and_hms(2024, 3, 2, 8, 0, 0).unwrap(),
                SMS,
                3.0,
                0.0,
                0.3,
            ),
            b(
                Utc.with_ymd_and_hms(2024, 2, 20, 8, 0, 0).unwrap(),
                SMS,
                1.0,
                1.0,
                0.2,
            ),
            b(
                Utc.with_ymd_and_hms(2024, 1, 20, 8, 0, 0).unwrap(),
                SMS,
                9.0,
                9.0,
                9.0,
            ),
        ];
        let s = stats(123456, now, &buckets);
        assert_eq!(s["current_month"]["data"]["volume"], 33.0);
        assert_eq!(s["current_month"]["data"]["id"], 1234562024035u64);
        assert_eq!(s["current_month"]["data"]["month"], "2024-03-01");
        assert_eq!(s["current_month"]["sms"]["volume_tx"], 3.0);
        assert_eq!(s["last_month"]["sms"]["volume"], 2.0);
        assert!(s["last_month"].get("data").is_none());
        assert_eq!(s["last_hour"]["data"]["volume"], 3.0);
        assert!(s["last_hour"].get("sms").is_none());
        assert_eq!(s["current_month"]["data"]["currency"]["code"], "EUR");
        assert_eq!(s["current_month"]["data"]["traffic_type"]["unit"], "MB");
        let empty = stats(1, now, &[]);
        assert_eq!(
            empty,
            json!({"current_month": {}, "last_month": {}, "last_hour": {}})
        );
    }

    #[test]
    fn daily_ranges() {
        let today = NaiveDate::from_ymd_opt(2024, 3, 15).unwrap();
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(
            daily_range(None, None, today).unwrap(),
            (d("2024-03-01"), d("2024-03-31"))
        );
        assert_eq!(
            daily_range(Some("2024-02-10"), None, today).unwrap(),
            (d("2024-02-10"), d("2024-02-29"))
        );
        assert_eq!(
            daily_range(None, Some("2024-01-21"), today).unwrap(),
            (d("2024-01-01"), d("2024-01-21"))
        );
        assert_eq!(
            daily_range(Some("2024-03-01"), Some("2024-03-21"), today).unwrap(),
            (d("2024-03-01"), d("2024-03-21"))
        );
        assert!(daily_range(Some("2024-03-22"), Some("2024-03-21"), today).is_err());
        assert!(daily_range(Some("March"), None, today).is_err());
        assert_eq!(
            daily_range(Some("2024-12-05"), None, today).unwrap().1,
            d("2024-12-31")
        );
    }

    #[test]
    fn daily_groups_by_day() {
        let rows = vec![
            b(
                Utc.with_ymd_and_hms(2024, 3, 1, 8, 0, 0).unwrap(),
                DATA,
                1.0,
                1.0,
                0.1,
            ),
            b(
                Utc.with_ymd_and_hms(2024, 3, 1, 9, 0, 0).unwrap(),
                DATA,
                1.0,
                1.0,
                0.1,
            ),
            b(
                Utc.with_ymd_and_hms(2024, 3, 3, 9, 0, 0).unwrap(),
                SMS,
                2.0,
                0.0,
                0.2,
            ),
        ];
        let days = daily(&rows);
        assert_eq!(days.len(), 2);
        assert_eq!(days[0]["date"], "2024-03-01");
        assert_eq!(days[0]["data"]["volume"], 4.0);
        assert_eq!(days[1]["sms"]["volume"], 2.0);
    }
}
