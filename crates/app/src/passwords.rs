//! Password and recovery-code hashing with argon2id.

use argon2::password_hash::PasswordHash;
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use twofold_domain::DomainError;

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

thread_local! {
    /// argon2's working memory, kept per hashing thread and reused: fresh
    /// 19 MiB allocations per hash would be slow to fault in and would be
    /// retained by the allocator.
    static BLOCKS: std::cell::RefCell<Vec<argon2::Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The raw argon2id output for `secret` and `salt`.
fn raw(secret: &[u8], salt: &[u8], params: Params, out_len: usize) -> Option<Vec<u8>> {
    let a = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    BLOCKS.with(|blocks| {
        let mut blocks = blocks.borrow_mut();
        if blocks.len() < params.block_count() {
            blocks.resize(params.block_count(), argon2::Block::default());
        }
        let mut out = vec![0u8; out_len];
        let memory = blocks.get_mut(..params.block_count())?;
        a.hash_password_into_with_memory(secret, salt, &mut out, memory).ok()?;
        Some(out)
    })
}

/// A PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`) with a fresh
/// 16-byte random salt and a 32-byte output.
pub fn hash(secret: &str, p: HashParams) -> Result<String, DomainError> {
    let params = Params::new(p.memory_kib, p.iterations, p.parallelism, Some(32)).map_err(|e| hashing_failed(&e))?;
    let mut salt = [0u8; 16];
    crate::random::fill(&mut salt);
    let out = raw(secret.as_bytes(), &salt, params, 32).ok_or_else(|| hashing_failed(&"argon2 refused its input"))?;
    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        p.memory_kib,
        p.iterations,
        p.parallelism,
        STANDARD_NO_PAD.encode(salt),
        STANDARD_NO_PAD.encode(out)
    ))
}

fn hashing_failed(e: &dyn std::fmt::Display) -> DomainError {
    tracing::error!(error = %e, "password hashing failed");
    DomainError::internal("PASSW-Hash01", "An internal error occurred")
}

/// Hashes on the hashing threads (see [`on_hash_thread`]).
pub async fn hash_blocking(secret: String, p: HashParams) -> Result<String, DomainError> {
    on_hash_thread(move || hash(&secret, p)).await?
}

/// [`verify`] against several hashes, on the hashing threads.
pub async fn verify_blocking(secret: String, phcs: Vec<String>) -> Result<Vec<bool>, DomainError> {
    on_hash_thread(move || phcs.iter().map(|h| verify(&secret, h)).collect()).await
}

type Job = Box<dyn FnOnce() + Send>;

/// Jobs that may wait for a hashing thread by default: at OWASP's cost
/// (tens of milliseconds a hash) a full queue is drained within seconds.
pub const DEFAULT_QUEUE: usize = 256;

static JOBS: std::sync::OnceLock<std::sync::mpsc::SyncSender<Job>> = std::sync::OnceLock::new();

/// Starts the hashing threads, one per core, with room for `queue` waiting
/// jobs (at least one). argon2id holds its memory cost (19 MiB by default)
/// while it runs; a fixed set of threads keeps that memory bounded (a
/// growing pool would keep a heap arena per thread) and keeps the async
/// runtime free for other requests. The bounded queue keeps a flood of
/// sign-ins from piling up memory and latency: beyond it, callers are told
/// to come back ([`busy`]). Only the first call in a process takes effect.
pub fn start_hashing(queue: usize) {
    jobs(queue);
}

fn jobs(queue: usize) -> &'static std::sync::mpsc::SyncSender<Job> {
    JOBS.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Job>(queue.max(1));
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        for i in 0..std::thread::available_parallelism().map_or(2, |n| n.get()) {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("twofold-hash-{i}"))
                .spawn(move || {
                    loop {
                        let job = rx.lock().unwrap_or_else(std::sync::PoisonError::into_inner).recv();
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a hashing thread");
            }
        }
        tx
    })
}

/// The hashing queue is full.
fn busy() -> DomainError {
    DomainError {
        retry_after_secs: Some(1),
        ..DomainError::new(
            twofold_domain::ErrorKind::ResourceExhausted,
            "PASSW-Busy1",
            "Too many password checks in progress; retry shortly",
        )
    }
}

/// Runs `f` on one of the hashing threads ([`start_hashing`]).
async fn on_hash_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, DomainError> {
    let jobs = jobs(DEFAULT_QUEUE);
    let (reply, answer) = tokio::sync::oneshot::channel();
    // With no hashing thread alive (none could be started, or a job
    // panicked and took its thread down) the job or its answer is dropped.
    let job: Job = Box::new(move || {
        let _ = reply.send(f());
    });
    match jobs.try_send(job) {
        Ok(()) => {}
        Err(std::sync::mpsc::TrySendError::Full(_)) => {
            crate::metrics::hash_queue_full();
            return Err(busy());
        }
        Err(std::sync::mpsc::TrySendError::Disconnected(_)) => return Err(hashing_failed(&"no hashing thread")),
    }
    answer
        .await
        .map_err(|_| hashing_failed(&"the hashing job did not answer"))
}

/// Whether `secret` matches the argon2id PHC string `phc`.
pub fn verify(secret: &str, phc: &str) -> bool {
    let Ok(h) = PasswordHash::new(phc) else { return false };
    let (Ok(params), Some(salt), Some(expected)) = (Params::try_from(&h), h.salt, h.hash) else {
        return false;
    };
    let mut buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut buf) else {
        return false;
    };
    raw(secret.as_bytes(), salt, params, expected.len())
        .is_some_and(|out| twofold_domain::human::constant_time_eq(&out, expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_are_salted() {
        let p = RECOVERY_CODE_PARAMS;
        let a = hash("Secr3t!pass", p).unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=8192,t=1,p=1$"));
        assert_ne!(a, hash("Secr3t!pass", p).unwrap());
        assert!(verify("Secr3t!pass", &a));
        assert!(!verify("wrong", &a));
        assert!(!verify("Secr3t!pass", "not a PHC string"));
    }

    #[test]
    fn impossible_parameters_are_an_error_not_a_panic() {
        let p = HashParams {
            memory_kib: 1,
            iterations: 0,
            parallelism: 0,
        };
        assert_eq!(hash("pw", p).unwrap_err().id, "PASSW-Hash01");
    }

    #[test]
    fn verifies_hashes_made_elsewhere() {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let salt = SaltString::from_b64("c2FsdHNhbHRzYWx0").unwrap();
        let phc = Argon2::default().hash_password(b"pw", &salt).unwrap().to_string();
        assert!(verify("pw", &phc));
        assert!(!verify("pW", &phc));
    }
}
