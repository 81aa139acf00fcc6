//! Sign-in cost: the argon2id hash rate at the server's parameters as the
//! baseline, and sign-ins of seeded users (`twofold seed`) with fresh TOTP
//! codes, driven by the raw client.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Block, Params, Version};
use hdrhistogram::Histogram;
use totp_rs::{Builder, Totp};

use crate::cpu::{self, Meter, Server};
use crate::drive::Outcome;
use crate::raw;

pub const HASH_ONLY: &str = "baseline: argon2id hash";

/// argon2id hashes (19 MiB, t=2, p=1 unless told otherwise, as the server's
/// defaults) on as many threads as the server hashes on (one per core),
/// memory reused as the server does, for `duration`.
pub fn hash_only(params: (u32, u32, u32), duration: Duration) -> Outcome {
    let params = Params::new(params.0, params.1, params.2, Some(32)).expect("argon2 parameters");
    let meter = Meter::start(Server::None);
    let started = Instant::now();
    let deadline = started + duration;
    let threads: Vec<_> = (0..cpu::cores() as usize)
        .map(|_| {
            let params = params.clone();
            std::thread::spawn(move || {
                let a = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
                let mut memory = vec![Block::default(); params.block_count()];
                let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
                let mut out = [0u8; 32];
                let mut n = 0u64;
                while Instant::now() < deadline {
                    let t = Instant::now();
                    a.hash_password_into_with_memory(b"Secr3t!pass-Load", b"0123456789abcdef", &mut out, &mut memory)
                        .expect("argon2");
                    hist.record(t.elapsed().as_micros().max(1) as u64).ok();
                    n += 1;
                }
                (n, hist)
            })
        })
        .collect();
    let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
    let mut n = 0;
    for t in threads {
        let (k, h) = t.join().expect("hash thread");
        n += k;
        hist.add(h).ok();
    }
    let mut usage = meter.finish();
    // The hashing threads are the "server" of this baseline.
    (usage.server_cores, usage.client_cores) = (usage.client_cores, 0.0);
    Outcome::new(HASH_ONLY, None, (n, 0), started.elapsed().as_secs_f64(), &hist, usage)
}

/// Seeded users and their TOTP generators, read from `twofold seed
/// --totp-secrets`.
pub struct Seeded {
    users: Vec<(String, Totp)>,
    /// Sign-ins so far (all scenarios of the run share it, so no user's
    /// code is used twice).
    next: AtomicU64,
}

impl Seeded {
    pub fn load(secrets: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(secrets)?;
        let users = text
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(name, b32)| {
                let secret =
                    totp_rs::Secret::try_from_base32(b32).map_err(|e| anyhow::anyhow!("secret of {name}: {e:?}"))?;
                let totp = Builder::new()
                    .with_algorithm(totp_rs::Algorithm::SHA1)
                    .with_digits(6)
                    .with_step_duration(30)
                    .with_skew(1)
                    .with_secret(secret)
                    .build_noncompliant();
                Ok((name.to_owned(), totp))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        anyhow::ensure!(!users.is_empty(), "no seeded users in {}", secrets.display());
        Ok(Self {
            users,
            next: AtomicU64::new(0),
        })
    }

    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// The next user and a code nobody used: user k's first use takes the
    /// code of the current step, its second the next step's (the server
    /// accepts one step of skew each way, and each step once); after that
    /// the run is out of fresh codes.
    fn next_code(&self) -> Option<(&str, String)> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let len = self.users.len() as u64;
        let round = n / len;
        if round > 1 {
            return None;
        }
        let (name, totp) = self.users.get((n % len) as usize)?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_secs()
            / 30;
        Some((name, totp.generate((now + round) * 30).to_string()))
    }
}

/// `POST /v2/sessions` checking the user by login name, TOTP, and the
/// password when given: one request per sign-in.
pub fn sessions(addr: SocketAddr, token: &str, seeded: Arc<Seeded>, password: Option<&'static str>) -> raw::Requests {
    let auth = format!("Bearer {token}");
    raw::Requests::Each(Arc::new(move |_, _| {
        let (name, code) = seeded.next_code()?;
        let password = password.map_or(String::new(), |p| format!(r#","password":{{"password":"{p}"}}"#));
        let body = format!(r#"{{"checks":{{"user":{{"loginName":"{name}"}}{password},"totp":{{"code":"{code}"}}}}}}"#);
        Some(raw::request(
            "POST",
            addr,
            "/v2/sessions",
            &[("Authorization", &auth), ("Content-Type", "application/json")],
            body.as_bytes(),
        ))
    }))
}

/// v2 ListUsers: one seeded user by exact user name (`by_name`), or a page
/// of 100 at a random offset.
pub fn list_users(addr: SocketAddr, token: &str, users: usize, by_name: bool) -> raw::Requests {
    let auth = format!("Bearer {token}");
    let counter = Arc::new(AtomicU64::new(0));
    raw::Requests::Each(Arc::new(move |_, _| {
        // A cheap spread over the users (Knuth's multiplicative hash).
        let n = counter.fetch_add(1, Ordering::Relaxed).wrapping_mul(2_654_435_761) % users.max(1) as u64;
        let body = if by_name {
            format!(
                r#"{{"queries":[{{"userNameQuery":{{"userName":"seed{n}","method":"TEXT_QUERY_METHOD_EQUALS"}}}}]}}"#
            )
        } else {
            format!(r#"{{"query":{{"offset":"{}","limit":100}}}}"#, n.saturating_sub(100))
        };
        Some(raw::request(
            "POST",
            addr,
            "/v2/users",
            &[("Authorization", &auth), ("Content-Type", "application/json")],
            body.as_bytes(),
        ))
    }))
}
