//! The master key and what is derived from it. Personal access tokens are
//! stored only as HMAC-SHA256 under the master key, so a copy of the
//! database alone is not enough to test guesses offline.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const MASTER_KEY_LEN: usize = 32;

pub struct MasterKey([u8; MASTER_KEY_LEN]);

impl MasterKey {
    /// Accepts exactly 32 bytes (ZITADEL's masterkey is a 32-character string).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        let key: [u8; MASTER_KEY_LEN] = bytes.try_into().map_err(|_| {
            format!(
                "the master key must be exactly {MASTER_KEY_LEN} bytes, got {}",
                bytes.len()
            )
        })?;
        Ok(Self(key))
    }

    /// A new random key of 32 URL-safe characters.
    pub fn generate_text() -> String {
        random_token(24)
    }

    pub fn token_hash(&self, token: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(token.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }
}

/// `n` bytes from the OS CSPRNG, base64url without padding.
pub fn random_token(n: usize) -> String {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).expect("OS random source");
    URL_SAFE_NO_PAD.encode(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_length_is_checked() {
        assert!(MasterKey::from_bytes(b"short").is_err());
        assert_eq!(MasterKey::generate_text().len(), 32);
        assert!(MasterKey::from_bytes(MasterKey::generate_text().as_bytes()).is_ok());
    }

    #[test]
    fn token_hash_depends_on_key() {
        let a = MasterKey::from_bytes(&[1; 32]).unwrap();
        let b = MasterKey::from_bytes(&[2; 32]).unwrap();
        assert_eq!(a.token_hash("t"), a.token_hash("t"));
        assert_ne!(a.token_hash("t"), b.token_hash("t"));
    }
}
