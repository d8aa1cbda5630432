//! Passwords: argon2id over the SHA-1 hex of the password. TelecomX clients send the password in
//! plain text (simgate takes its SHA-1), emnify clients send the SHA-1 hex themselves; both verify
//! against the one stored hash.
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};
use sha1::{Digest, Sha1};

#[derive(Clone)]
pub struct Passwords {
    params: Params,
}

pub fn sha1_hex(plain: &str) -> String {
    hex::encode(Sha1::digest(plain.as_bytes()))
}

/// An emnify client's password field: the SHA-1 hex of the password (any case).
pub fn is_sha1_hex(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Passwords {
    pub fn new(memory_kib: u32, iterations: u32) -> Self {
        let params = Params::new(
            memory_kib.max(Params::MIN_M_COST),
            iterations.max(1),
            1,
            None,
        )
        .unwrap_or_default();
        Passwords { params }
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    pub fn hash_plain(&self, plain: &str) -> String {
        self.hash_sha1_hex(&sha1_hex(plain))
    }

    pub fn hash_sha1_hex(&self, sha1_hex: &str) -> String {
        let salt = SaltString::generate(&mut OsRng);
        self.argon2()
            .hash_password(sha1_hex.to_ascii_lowercase().as_bytes(), &salt)
            .expect("argon2 hashing with valid params")
            .to_string()
    }

    pub fn verify_sha1_hex(&self, sha1_hex: &str, stored: &str) -> bool {
        PasswordHash::new(stored)
            .map(|h| {
                self.argon2()
                    .verify_password(sha1_hex.to_ascii_lowercase().as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false)
    }

    /// Hashing is deliberately slow: keep it off the async workers.
    pub async fn hash_plain_async(&self, plain: String) -> String {
        let me = self.clone();
        tokio::task::spawn_blocking(move || me.hash_plain(&plain))
            .await
            .expect("hashing task")
    }

    pub async fn verify_async(&self, sha1_hex: String, stored: String) -> bool {
        let me = self.clone();
        tokio::task::spawn_blocking(move || me.verify_sha1_hex(&sha1_hex, &stored))
            .await
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_sha1_hex_verify_against_the_same_hash() {
        let p = Passwords::new(1024, 1);
        let stored = p.hash_plain("s3cret!");
        assert!(stored.starts_with("$argon2id$"));
        assert!(p.verify_sha1_hex(&sha1_hex("s3cret!"), &stored));
        assert!(p.verify_sha1_hex(&sha1_hex("s3cret!").to_uppercase(), &stored));
        assert!(!p.verify_sha1_hex(&sha1_hex("wrong"), &stored));
        assert!(!p.verify_sha1_hex("s3cret!", &stored));
        assert!(!p.verify_sha1_hex(&sha1_hex("s3cret!"), "not a hash"));
    }

    #[test]
    fn sha1_hex_is_what_emnify_clients_send() {
        assert_eq!(
            sha1_hex("password"),
            "5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8"
        );
        assert!(is_sha1_hex("5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8"));
        assert!(!is_sha1_hex("password"));
    }
}
