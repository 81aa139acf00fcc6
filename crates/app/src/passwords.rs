//! Password and recovery-code hashing with argon2id.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Params, Version};

/// argon2id cost; the defaults are OWASP's (19 MiB, 2 passes, 1 lane).
#[derive(Clone, Copy, Debug)]
pub struct HashParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for HashParams {
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// Recovery codes carry 80 random bits, so a lighter salted KDF suffices.
pub const RECOVERY_CODE_PARAMS: HashParams = HashParams {
    memory_kib: 8_192,
    iterations: 1,
    parallelism: 1,
};

fn argon2(p: HashParams) -> Argon2<'static> {
    let params = Params::new(p.memory_kib, p.iterations, p.parallelism, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A PHC string (`$argon2id$v=19$m=…`) with a fresh random salt.
pub fn hash(secret: &str, p: HashParams) -> String {
    let salt = SaltString::generate(&mut OsRng);
    argon2(p)
        .hash_password(secret.as_bytes(), &salt)
        .expect("argon2 hashing")
        .to_string()
}

/// Hashes off the async runtime, at most one per core at a time: each
/// argon2id hash holds its memory cost (19 MiB by default) while it runs,
/// so this bounds both latency for other requests and resident memory.
pub async fn hash_blocking(secret: String, p: HashParams) -> String {
    let _permit = permits().acquire().await.expect("never closed");
    tokio::task::spawn_blocking(move || hash(&secret, p))
        .await
        .expect("hashing does not panic")
}

/// [`verify`] off the async runtime, bounded like [`hash_blocking`].
pub async fn verify_blocking(secret: String, phcs: Vec<String>) -> Vec<bool> {
    let _permit = permits().acquire().await.expect("never closed");
    tokio::task::spawn_blocking(move || phcs.iter().map(|h| verify(&secret, h)).collect())
        .await
        .expect("verification does not panic")
}

fn permits() -> &'static tokio::sync::Semaphore {
    static PERMITS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    PERMITS.get_or_init(|| tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())))
}

pub fn verify(secret: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| Argon2::default().verify_password(secret.as_bytes(), &h).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_are_salted() {
        let p = RECOVERY_CODE_PARAMS;
        let a = hash("Secr3t!pass", p);
        assert!(a.starts_with("$argon2id$v=19$m=8192,t=1,p=1$"));
        assert_ne!(a, hash("Secr3t!pass", p));
        assert!(verify("Secr3t!pass", &a));
        assert!(!verify("wrong", &a));
    }
}
