//! Service profiles (spec/emnify-endpoints.md §2): the services one may list, and its name.
use super::error::DomainError;

/// The services a service profile may list (shown, not enforced).
pub const SERVICES: [(i16, &str); 5] = [
    (0, "USSD"),
    (3, "Voice"),
    (6, "SMS MT"),
    (32, "SMS MO"),
    (38, "Data"),
];

pub fn service_description(id: i16) -> Option<&'static str> {
    SERVICES.iter().find(|s| s.0 == id).map(|s| s.1)
}

/// A profile's name: non-empty after trimming, at most 255 characters.
pub fn name(raw: &str) -> Result<String, DomainError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(DomainError::invalid_as(
            super::error::Invalid::Required,
            "name",
            "must not be empty",
        ));
    }
    if name.chars().count() > 255 {
        return Err(DomainError::invalid("name", "at most 255 characters"));
    }
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_are_emnifys_five() {
        assert_eq!(service_description(38), Some("Data"));
        assert_eq!(service_description(6), Some("SMS MT"));
        assert_eq!(service_description(1), None);
        assert!(name(" ").is_err());
        assert_eq!(name(" fleet ").unwrap(), "fleet");
        assert!(name(&"p".repeat(256)).is_err());
    }
}
