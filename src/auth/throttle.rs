//! Failed-login throttling: per username and per client address, in fixed windows kept in the
//! database (so every node counts alike). The per-address limit is higher, so one user's guessing
//! never locks out the others behind the same address.
use chrono::{DateTime, Duration, Utc};
use std::net::IpAddr;

pub struct Limits {
    pub per_user: i64,
    pub per_address: i64,
    pub window: Duration,
}

/// The counter keys of a login attempt: its username, and its client address when known.
pub fn keys(email: &str, client: Option<IpAddr>) -> Vec<String> {
    let mut keys = vec![format!("user:{email}")];
    if let Some(ip) = client {
        keys.push(format!("ip:{ip}"));
    }
    keys
}

/// Seconds until the attempt may be made, when a key has reached its limit in its window.
pub fn retry_after(
    counts: &[(String, DateTime<Utc>, i64)],
    limits: &Limits,
    now: DateTime<Utc>,
) -> Option<u64> {
    counts
        .iter()
        .filter(|(key, _, failures)| {
            let limit = if key.starts_with("ip:") {
                limits.per_address
            } else {
                limits.per_user
            };
            *failures >= limit
        })
        .map(|(_, start, _)| {
            let left = (*start + limits.window - now).num_milliseconds().max(0);
            // Whole seconds, rounded up, at least 1.
            ((left + 999) / 1000).max(1) as u64
        })
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_at_its_limit_waits_for_its_window() {
        let now = Utc::now();
        let limits = Limits {
            per_user: 10,
            per_address: 100,
            window: Duration::seconds(60),
        };
        let start = now - Duration::seconds(20);
        let user = |n| vec![("user:a@b.c".to_string(), start, n)];
        assert_eq!(retry_after(&user(9), &limits, now), None);
        assert_eq!(retry_after(&user(10), &limits, now), Some(40));
        let ip = |n| vec![("ip:10.0.0.1".to_string(), start, n)];
        assert_eq!(retry_after(&ip(99), &limits, now), None);
        assert_eq!(retry_after(&ip(100), &limits, now), Some(40));
        assert_eq!(
            keys("a@b.c", Some("10.0.0.1".parse().unwrap())),
            vec!["user:a@b.c", "ip:10.0.0.1"]
        );
        assert_eq!(keys("a@b.c", None).len(), 1);
    }
}
