//! Identifiers shared by both dialects.
use chrono::{DateTime, Utc};
use rand::RngCore;

/// TelecomX-style 24-hex object id: 4 bytes of creation time, then 8 random bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectId(String);

impl ObjectId {
    pub fn generate(now: DateTime<Utc>) -> Self {
        let mut bytes = [0u8; 12];
        bytes[..4].copy_from_slice(&(now.timestamp() as u32).to_be_bytes());
        rand::thread_rng().fill_bytes(&mut bytes[4..]);
        ObjectId(hex::encode(bytes))
    }

    /// Accepts any case on input; ids are lower case on output.
    pub fn parse(s: &str) -> Option<Self> {
        (s.len() == 24 && s.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| ObjectId(s.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Display for ObjectId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A reference to an organisation or user as the admin API accepts it: the integer id or the 24-hex oid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntityRef {
    Id(i64),
    Oid(ObjectId),
}

impl EntityRef {
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        if let Some(oid) = ObjectId::parse(s) {
            return Some(EntityRef::Oid(oid));
        }
        s.parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .map(EntityRef::Id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_24_lower_hex_and_distinct() {
        let now = Utc::now();
        let a = ObjectId::generate(now);
        let b = ObjectId::generate(now);
        assert_eq!(a.as_str().len(), 24);
        assert!(a
            .as_str()
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
        assert_ne!(a, b);
        assert_eq!(&a.as_str()[..8], &format!("{:08x}", now.timestamp() as u32));
    }

    #[test]
    fn parse_is_case_insensitive_and_strict_on_length() {
        assert_eq!(
            ObjectId::parse("61F4FD7734697B28CCAF89FF")
                .unwrap()
                .as_str(),
            "61f4fd7734697b28ccaf89ff"
        );
        assert!(ObjectId::parse("61f4fd7734697b28ccaf89f").is_none());
        assert!(ObjectId::parse("61f4fd7734697b28ccaf89fg").is_none());
    }

    #[test]
    fn entity_ref_accepts_id_or_oid() {
        assert_eq!(EntityRef::parse("42"), Some(EntityRef::Id(42)));
        assert!(matches!(
            EntityRef::parse("61f4fd7734697b28ccaf89ff"),
            Some(EntityRef::Oid(_))
        ));
        assert_eq!(EntityRef::parse("0"), None);
        assert_eq!(EntityRef::parse("abc"), None);
    }
}
