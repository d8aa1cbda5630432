//! Endpoints (the device a SIM sits in): their states, the values they accept, and which SIM may be
//! put in which endpoint (spec/emnify-endpoints.md §1).
use super::error::{DomainError, Invalid};
use super::org::path_in_subtree;

/// An endpoint's status. Deleted only by DELETE; PATCH moves between the other two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointStatus {
    Enabled,
    Disabled,
    Deleted,
}

impl EndpointStatus {
    pub const ALL: [EndpointStatus; 3] = [
        EndpointStatus::Enabled,
        EndpointStatus::Disabled,
        EndpointStatus::Deleted,
    ];

    pub fn id(self) -> i16 {
        match self {
            EndpointStatus::Enabled => 0,
            EndpointStatus::Disabled => 1,
            EndpointStatus::Deleted => 2,
        }
    }

    pub fn from_id(id: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|s| i64::from(s.id()) == id)
    }

    pub fn description(self) -> &'static str {
        match self {
            EndpointStatus::Enabled => "Enabled",
            EndpointStatus::Disabled => "Disabled",
            EndpointStatus::Deleted => "Deleted",
        }
    }

    /// The status a create or PATCH may set: Enabled or Disabled (Deleted only by DELETE).
    pub fn settable(id: i64) -> Result<Self, DomainError> {
        match Self::from_id(id) {
            Some(s) if s != EndpointStatus::Deleted => Ok(s),
            _ => Err(DomainError::invalid_as(
                Invalid::Format,
                "status",
                format!("status {id} cannot be set: 0 (Enabled) or 1 (Disabled); 2 only by DELETE"),
            )),
        }
    }
}

/// A name: non-empty after trimming, at most 255 characters.
pub fn name(raw: &str) -> Result<String, DomainError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(DomainError::invalid_as(
            Invalid::Required,
            "name",
            "must not be empty",
        ));
    }
    if name.chars().count() > 255 {
        return Err(DomainError::invalid("name", "at most 255 characters"));
    }
    Ok(name.to_string())
}

/// An IMEI (or IMEISV): 14 to 16 digits.
pub fn imei(raw: &str) -> Result<String, DomainError> {
    let imei = raw.trim();
    if !(14..=16).contains(&imei.len()) || !imei.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DomainError::invalid("imei", "must be 14 to 16 digits"));
    }
    Ok(imei.to_string())
}

/// Tags: free text up to 255 characters; empty clears them.
pub fn tags(raw: &str) -> Result<Option<String>, DomainError> {
    let tags = raw.trim();
    if tags.chars().count() > 255 {
        return Err(DomainError::invalid("tags", "at most 255 characters"));
    }
    Ok((!tags.is_empty()).then(|| tags.to_string()))
}

/// The orgs of a SIM that decide where it may be used, by their paths.
#[derive(Debug, Clone, Copy)]
pub struct SimOrgs<'a> {
    pub issuer: Option<&'a str>,
    pub reseller: Option<&'a str>,
    pub customer: Option<&'a str>,
}

/// Whether a SIM may be put in an endpoint of the org at `endpoint_org`: its customer is that org,
/// or it has no customer yet and the org lies under its reseller (else its issuer; a SIM of neither
/// is central stock, which every org may take).
pub fn sim_fits(sim: SimOrgs<'_>, endpoint_org: &str) -> bool {
    match sim.customer {
        Some(customer) => customer == endpoint_org,
        None => sim
            .reseller
            .or(sim.issuer)
            .is_none_or(|owner| path_in_subtree(endpoint_org, owner)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_contract() {
        assert_eq!(
            EndpointStatus::ALL.map(|s| (s.id(), s.description())),
            [(0, "Enabled"), (1, "Disabled"), (2, "Deleted")]
        );
        assert_eq!(EndpointStatus::settable(1), Ok(EndpointStatus::Disabled));
        assert!(EndpointStatus::settable(2).is_err());
        assert!(EndpointStatus::settable(7).is_err());
    }

    #[test]
    fn names_imeis_and_tags_are_checked() {
        assert_eq!(name("  dev 1 ").unwrap(), "dev 1");
        assert!(name("   ").is_err());
        assert!(name(&"x".repeat(256)).is_err());
        assert_eq!(imei("35693803564380").unwrap(), "35693803564380");
        assert!(imei("3569380356438").is_err());
        assert!(imei("35693803564380123").is_err());
        assert!(imei("3569380356438a").is_err());
        assert_eq!(tags("").unwrap(), None);
        assert_eq!(tags("a,b").unwrap().as_deref(), Some("a,b"));
    }

    #[test]
    fn a_sim_fits_its_customer_or_its_resellers_subtree() {
        let of = |issuer, reseller, customer| SimOrgs {
            issuer,
            reseller,
            customer,
        };
        // Its customer's endpoint, and no other org's.
        assert!(sim_fits(
            of(Some("/1/"), Some("/1/2/"), Some("/1/2/5/")),
            "/1/2/5/"
        ));
        assert!(!sim_fits(
            of(Some("/1/"), Some("/1/2/"), Some("/1/2/5/")),
            "/1/2/6/"
        ));
        // No customer: any org under the reseller, none outside it.
        assert!(sim_fits(of(Some("/1/"), Some("/1/2/"), None), "/1/2/6/"));
        assert!(!sim_fits(of(Some("/1/"), Some("/1/2/"), None), "/1/3/7/"));
        // No reseller either: under the issuer.
        assert!(sim_fits(of(Some("/1/3/"), None, None), "/1/3/7/"));
        assert!(!sim_fits(of(Some("/1/3/"), None, None), "/1/2/6/"));
        // Central stock: anyone.
        assert!(sim_fits(of(None, None, None), "/1/2/6/"));
    }
}
