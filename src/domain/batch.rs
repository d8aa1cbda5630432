//! The rules of a SIM batch as the admin API creates it: its BIC, its size, one row per SIM, and the
//! emnify form of its MSISDNs.
use super::error::DomainError;
use std::collections::HashSet;

/// The most SIMs one batch holds: one transaction, one request.
pub const MAX_BATCH: usize = 100_000;

/// The BIC as stored: trimmed, without emnify's leading `#`, 1 to 64 characters.
pub fn bic(raw: &str) -> Result<String, DomainError> {
    let bic = raw.trim().trim_start_matches('#');
    if bic.is_empty() || bic.chars().count() > 64 {
        return Err(DomainError::invalid(
            "bic",
            "bic must be 1 to 64 characters",
        ));
    }
    Ok(bic.to_string())
}

/// A batch holds 1 to [`MAX_BATCH`] SIMs.
pub fn size(n: usize) -> Result<(), DomainError> {
    if n == 0 || n > MAX_BATCH {
        return Err(DomainError::invalid(
            "sims",
            format!("a batch holds 1 to {MAX_BATCH} SIMs"),
        ));
    }
    Ok(())
}

/// Each (canonical) ICC once: `field` names the SIM that repeats one.
pub fn once<'a>(
    seen: &mut HashSet<String>,
    iccid: &'a str,
    field: impl FnOnce() -> String,
) -> Result<&'a str, DomainError> {
    if !seen.insert(iccid.to_string()) {
        return Err(DomainError::invalid(
            field(),
            format!("{iccid} appears twice in the batch"),
        ));
    }
    Ok(iccid)
}

/// emnify keeps MSISDNs as digits without the `+`.
pub fn msisdn(raw: &str) -> String {
    raw.trim().trim_start_matches('+').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bics_are_trimmed_and_bounded() {
        assert_eq!(bic(" #ABC-1 ").unwrap(), "ABC-1");
        assert!(bic("#").is_err());
        assert!(bic(&"x".repeat(65)).is_err());
        assert_eq!(bic(&"x".repeat(64)).unwrap().len(), 64);
    }

    #[test]
    fn batches_hold_one_to_the_maximum_each_icc_once() {
        assert!(size(0).is_err());
        assert!(size(1).is_ok());
        assert!(size(MAX_BATCH + 1).is_err());
        let mut seen = HashSet::new();
        assert!(once(&mut seen, "894500", || "sims[0].iccid".into()).is_ok());
        let twice = once(&mut seen, "894500", || "sims[3].iccid".into()).unwrap_err();
        assert_eq!(twice.code(), "sims[3].iccid");
        assert_eq!(msisdn(" +4570123 "), "4570123");
    }
}
