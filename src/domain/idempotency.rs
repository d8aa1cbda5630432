//! Idempotency keys (Stripe's semantics): a write sent with `Idempotency-Key` runs once per user and
//! key; a repeat of the same request gets the first answer again, a different request under the same
//! key is refused, and so is a repeat while the first still runs.
use sha2::{Digest, Sha256};

/// The longest key accepted.
pub const MAX_KEY_LEN: usize = 255;

/// A valid key: 1–255 visible ASCII characters (spaces allowed inside). Keys are the client's
/// secret-ish handle; only their hash is kept.
pub fn key_hash(raw: &[u8]) -> Result<String, &'static str> {
    let visible = |b: &u8| (0x20..0x7f).contains(b);
    if raw.is_empty() || raw.len() > MAX_KEY_LEN {
        return Err("Idempotency-Key must be 1 to 255 characters");
    }
    if !raw.iter().all(visible) || raw.iter().all(|b| *b == b' ') {
        return Err("Idempotency-Key must be visible ASCII characters");
    }
    Ok(hex::encode(Sha256::digest(raw)))
}

/// What makes two requests the same: method, path with query, and body, byte for byte.
pub fn fingerprint(method: &str, path_and_query: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    for part in [method.as_bytes(), path_and_query.as_bytes()] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    h.update(body);
    hex::encode(h.finalize())
}

/// Whether an answer is kept for repeats. A 5xx or a 429 changed nothing (every write is one
/// transaction) and the client is told to try again, so the key is given up and a repeat runs anew;
/// an answer that carries a credential (`Cache-Control: no-store`) is never stored, so neither.
pub fn keeps(status: u16, no_store: bool, body_len: usize) -> bool {
    status < 500 && status != 429 && !no_store && body_len <= MAX_KEPT_BODY
}

/// Larger answers are not kept (the key is given up): no write answers anything near this.
pub const MAX_KEPT_BODY: usize = 1 << 20;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_one_to_255_visible_characters_and_only_their_hash_is_kept() {
        let h = key_hash(b"7f6c-order-42").unwrap();
        assert_eq!(h.len(), 64);
        assert!(!h.contains("order"));
        assert_ne!(h, key_hash(b"7f6c-order-43").unwrap());
        assert!(key_hash(&[b'k'; 255]).is_ok());
        assert!(key_hash(b"with space").is_ok());
        for bad in [
            &b""[..],
            &[b'k'; 256],
            b"tab\there",
            b"   ",
            "ключ".as_bytes(),
            b"nul\0",
        ] {
            assert!(key_hash(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_same_request_has_the_same_fingerprint_and_any_difference_changes_it() {
        let f = fingerprint("POST", "/mvno", br#"{"a":1}"#);
        assert_eq!(f, fingerprint("POST", "/mvno", br#"{"a":1}"#));
        assert_ne!(f, fingerprint("PATCH", "/mvno", br#"{"a":1}"#));
        assert_ne!(f, fingerprint("POST", "/mvno?x=1", br#"{"a":1}"#));
        assert_ne!(f, fingerprint("POST", "/mvno", br#"{"a":2}"#));
        // Parts are length-prefixed: moving bytes between them is a different request.
        assert_ne!(
            fingerprint("POST", "/a", b"b"),
            fingerprint("POST", "/ab", b"")
        );
    }

    #[test]
    fn answers_are_kept_unless_they_changed_nothing_or_carry_a_credential() {
        assert!(keeps(201, false, 10));
        assert!(keeps(422, false, 10));
        assert!(keeps(404, false, 10));
        assert!(!keeps(503, false, 10));
        assert!(!keeps(500, false, 10));
        assert!(!keeps(429, false, 10));
        assert!(!keeps(200, true, 10));
        assert!(!keeps(200, false, MAX_KEPT_BODY + 1));
    }
}
