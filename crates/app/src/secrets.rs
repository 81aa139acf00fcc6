//! The master key and what is derived from it. Personal access tokens and
//! verification codes are stored only as HMAC-SHA256 under the master key,
//! so a copy of the database alone is not enough to test guesses offline.
//! Secrets the server must read back (TOTP seeds) are sealed with
//! AES-256-GCM under a key derived from the master key.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

pub const MASTER_KEY_LEN: usize = 32;

/// A sealed secret the master key does not open.
pub(crate) fn unsealable() -> twofold_domain::DomainError {
    twofold_domain::DomainError::internal("CRYPTO-Open1", "An internal error occurred")
}

pub struct MasterKey {
    key: [u8; MASTER_KEY_LEN],
    /// The HMACs of token and client-secret hashes with their keys already
    /// absorbed: a clone per hash saves two SHA-256 blocks of key set-up on
    /// every authenticated request.
    token_mac: Hmac<Sha256>,
    client_secret_mac: Hmac<Sha256>,
}

impl MasterKey {
    /// Accepts exactly 32 bytes (ZITADEL's masterkey is a 32-character string).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        let key: [u8; MASTER_KEY_LEN] = bytes.try_into().map_err(|_| {
            format!(
                "the master key must be exactly {MASTER_KEY_LEN} bytes, got {}",
                bytes.len()
            )
        })?;
        let client_secret_key = Sha256::new()
            .chain_update(b"twofold-client-secret-v1")
            .chain_update(key)
            .finalize();
        let mac = |k: &[u8]| <Hmac<Sha256> as Mac>::new_from_slice(k).map_err(|e| e.to_string());
        Ok(Self {
            key,
            token_mac: mac(&key)?,
            client_secret_mac: mac(&client_secret_key)?,
        })
    }

    /// A new random key of 32 URL-safe characters.
    pub fn generate_text() -> String {
        random_token(24)
    }

    /// AES-256-GCM with a random 96-bit nonce: base64(nonce ‖ ciphertext).
    #[expect(
        clippy::expect_used,
        reason = "AES-GCM refuses only plaintexts over 64 GiB; ours are secrets of a few bytes"
    )]
    pub fn seal(&self, plaintext: &[u8]) -> String {
        let mut nonce = [0u8; 12];
        crate::random::fill(&mut nonce);
        let ct = self
            .aead()
            .encrypt(&Nonce::from(nonce), plaintext)
            .expect("AES-GCM encryption does not fail");
        let mut out = nonce.to_vec();
        out.extend(ct);
        STANDARD.encode(out)
    }

    /// Reverses [`Self::seal`]; None when the value was not sealed with this key.
    pub fn open(&self, sealed: &str) -> Option<Vec<u8>> {
        let raw = STANDARD.decode(sealed).ok()?;
        if raw.len() < 12 {
            return None;
        }
        let (nonce, ct) = raw.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().ok()?;
        self.aead().decrypt(&Nonce::from(nonce), ct).ok()
    }

    fn aead(&self) -> Aes256Gcm {
        // A key of its own for encryption, derived from the master key.
        let key = Sha256::new()
            .chain_update(b"twofold-aead-v1")
            .chain_update(self.key)
            .finalize();
        Aes256Gcm::new(&key)
    }

    /// What the database records to recognise this key later: an HMAC of a
    /// fixed label, which tells nothing about the key itself.
    pub fn check_value(&self) -> String {
        format!("v1:{}", self.token_hash("twofold master key check"))
    }

    /// Keyed hash of a client secret (of an app or a machine user):
    /// HMAC-SHA256 under a key of its own derived from the master key. The
    /// secrets are 256-bit random, so there is nothing to guess and a slow
    /// password hash would only slow down every client authentication.
    pub fn client_secret_hash(&self, secret: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.client_secret_mac(secret).finalize().into_bytes())
    }

    /// Whether `secret` hashes to `hash`, compared in constant time.
    pub fn verify_client_secret(&self, secret: &str, hash: &str) -> bool {
        let Ok(expected) = URL_SAFE_NO_PAD.decode(hash) else {
            return false;
        };
        self.client_secret_mac(secret).verify_slice(&expected).is_ok()
    }

    fn client_secret_mac(&self, secret: &str) -> Hmac<Sha256> {
        let mut mac = self.client_secret_mac.clone();
        mac.update(secret.as_bytes());
        mac
    }

    pub fn token_hash(&self, token: &str) -> String {
        let mut mac = self.token_mac.clone();
        mac.update(token.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }
}

/// A new client secret: 32 random bytes (256 bits), base64url, shown once.
pub fn new_client_secret() -> String {
    random_token(32)
}

/// `n` bytes from the OS CSPRNG, base64url without padding.
pub fn random_token(n: usize) -> String {
    let mut b = vec![0u8; n];
    crate::random::fill(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

/// `len` characters drawn uniformly from `charset` (rejection sampling, so
/// no character is favoured).
pub fn random_code(len: usize, charset: &[u8]) -> String {
    if charset.is_empty() {
        return String::new();
    }
    let limit = 256 - 256 % charset.len();
    let mut out = String::with_capacity(len);
    while out.len() < len {
        let mut b = [0u8; 32];
        crate::random::fill(&mut b);
        for x in b {
            if (x as usize) < limit
                && out.len() < len
                && let Some(c) = charset.get(x as usize % charset.len())
            {
                out.push(*c as char);
            }
        }
    }
    out
}

pub const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

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
    fn sealing_round_trips_and_is_keyed() {
        let a = MasterKey::from_bytes(&[1; 32]).unwrap();
        let b = MasterKey::from_bytes(&[2; 32]).unwrap();
        let sealed = a.seal(b"secret");
        assert_ne!(sealed, a.seal(b"secret"), "random nonce");
        assert_eq!(a.open(&sealed).unwrap(), b"secret");
        assert_eq!(b.open(&sealed), None);
        assert_eq!(a.open("not base64!"), None);
    }

    #[test]
    fn codes_use_the_charset() {
        let c = random_code(64, UPPER_DIGITS);
        assert_eq!(c.len(), 64);
        assert!(c.bytes().all(|x| UPPER_DIGITS.contains(&x)));
    }

    #[test]
    fn token_hash_depends_on_key() {
        let a = MasterKey::from_bytes(&[1; 32]).unwrap();
        let b = MasterKey::from_bytes(&[2; 32]).unwrap();
        assert_eq!(a.token_hash("t"), a.token_hash("t"));
        assert_ne!(a.token_hash("t"), b.token_hash("t"));
        // HMAC-SHA256 as RFC 2104 defines it (Python's hmac module agrees):
        // stored hashes stay valid however the key is set up.
        assert_eq!(a.token_hash("t"), "pUoquXOIWZszoXqDOTPn7XBjCxsr5CYYOcEWWyRaf9o");
    }

    #[test]
    fn client_secrets_verify_only_under_their_key() {
        let a = MasterKey::from_bytes(&[1; 32]).unwrap();
        let b = MasterKey::from_bytes(&[2; 32]).unwrap();
        let secret = new_client_secret();
        assert_eq!(secret.len(), 43, "32 bytes, base64url");
        assert_ne!(secret, new_client_secret());
        let hash = a.client_secret_hash(&secret);
        assert!(a.verify_client_secret(&secret, &hash));
        assert!(!a.verify_client_secret("wrong", &hash));
        assert!(!b.verify_client_secret(&secret, &hash), "keyed");
        assert!(!a.verify_client_secret(&secret, "not base64!"));
        assert_ne!(hash, a.token_hash(&secret), "a key of its own, not the token key");
    }

    #[test]
    fn key_check_depends_on_key() {
        let a = MasterKey::from_bytes(&[1; 32]).unwrap();
        let b = MasterKey::from_bytes(&[2; 32]).unwrap();
        assert_eq!(a.check_value(), a.check_value());
        assert_ne!(a.check_value(), b.check_value());
    }
}
