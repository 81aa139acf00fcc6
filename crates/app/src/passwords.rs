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

/// Hashes on the hashing threads (see [`on_hash_thread`]).
pub async fn hash_blocking(secret: String, p: HashParams) -> String {
    on_hash_thread(move || hash(&secret, p)).await
}

/// [`verify`] against several hashes, on the hashing threads.
pub async fn verify_blocking(secret: String, phcs: Vec<String>) -> Vec<bool> {
    on_hash_thread(move || phcs.iter().map(|h| verify(&secret, h)).collect()).await
}

type Job = Box<dyn FnOnce() + Send>;

/// Runs `f` on one of a fixed set of threads, one per core. argon2id holds
/// its memory cost (19 MiB by default) while it runs; a fixed set of
/// threads keeps that memory bounded (a growing pool would keep a heap
/// arena per thread) and keeps the async runtime free for other requests.
async fn on_hash_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    static JOBS: std::sync::OnceLock<std::sync::mpsc::Sender<Job>> = std::sync::OnceLock::new();
    let jobs = JOBS.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        for i in 0..std::thread::available_parallelism().map_or(2, |n| n.get()) {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("twofold-hash-{i}"))
                .spawn(move || {
                    loop {
                        let job = rx.lock().expect("hash queue").recv();
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                })
                .expect("spawning a hashing thread");
        }
        tx
    });
    let (reply, answer) = tokio::sync::oneshot::channel();
    jobs.send(Box::new(move || {
        let _ = reply.send(f());
    }))
    .expect("hashing threads run for the life of the process");
    answer.await.expect("hashing does not panic")
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
