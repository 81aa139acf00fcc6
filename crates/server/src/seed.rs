//! `twofold seed` and `twofold rebuild`: load-test data and read models
//! derived again from the events.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use twofold_app::App;
use twofold_app::seed::{SeedBatch, SeedUser};

use crate::config;

#[derive(clap::Args)]
pub struct SeedArgs {
    #[command(flatten)]
    pub start: config::StartArgs,
    /// How many human users to create, named `seed<N>` (a name already
    /// taken fails its batch).
    #[arg(long)]
    pub users: u64,
    /// The number of the first user (to add to an earlier seed).
    #[arg(long, default_value_t = 0)]
    pub first: u64,
    /// Users per transaction.
    #[arg(long, default_value_t = 1000)]
    pub batch: usize,
    /// A password every seeded user gets: hashed once at the server's
    /// argon2 parameters and shared (load tests only). None: passwordless.
    #[arg(long)]
    pub password: Option<String>,
    /// Enrol every seeded user in TOTP and write `name base32-secret` lines
    /// to this file (created private; it holds second factors).
    #[arg(long)]
    pub totp_secrets: Option<PathBuf>,
    /// Earlier password + TOTP sign-ins to record in each TOTP user's
    /// history (two events each), for a realistic number of events.
    #[arg(long, default_value_t = 0)]
    pub sign_ins: u64,
}

/// Batches in flight at once: the store groups their commits.
const IN_FLIGHT: usize = 4;

pub async fn run(app: &App, args: &SeedArgs) -> anyhow::Result<()> {
    let fail = |e: twofold_domain::DomainError| anyhow::anyhow!("{e}");
    let (instance_id, org_id) = app.default_instance_org().await.map_err(fail)?;
    let hash = match &args.password {
        Some(pw) => Some(app.seed_password_hash(pw).await.map_err(fail)?),
        None => None,
    };
    let mut secrets = match &args.totp_secrets {
        Some(path) => Some(std::io::BufWriter::new(
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(path)
                .with_context(|| format!("creating {}", path.display()))?,
        )),
        None => None,
    };
    let now_step = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs()
        / twofold_app::totp::STEP_SECONDS;
    let sign_ins = args.sign_ins;
    let started = Instant::now();
    let mut running = tokio::task::JoinSet::new();
    let (mut next, end) = (args.first, args.first + args.users);
    let mut done = 0u64;
    while next < end || !running.is_empty() {
        while next < end && running.len() < IN_FLIGHT {
            let upto = end.min(next + args.batch.max(1) as u64);
            let mut users = Vec::with_capacity((upto - next) as usize);
            for i in next..upto {
                let user_name = format!("seed{i}");
                let totp_secret = match &mut secrets {
                    Some(out) => {
                        let s = twofold_app::totp::new_secret();
                        writeln!(out, "{user_name} {}", twofold_app::totp::base32(&s))?;
                        Some(s)
                    }
                    None => None,
                };
                users.push(SeedUser { user_name, totp_secret });
            }
            next = upto;
            let (app, instance_id, org_id, hash) = (app.clone(), instance_id.clone(), org_id.clone(), hash.clone());
            running.spawn(async move {
                let batch = SeedBatch {
                    instance_id: &instance_id,
                    org_id: &org_id,
                    password_hash: hash.as_deref(),
                    // Two steps back: the codes of the steps around "now" are all fresh.
                    totp_step: now_step.saturating_sub(2),
                    sign_ins,
                };
                app.seed_humans(&batch, &users).await
            });
        }
        if let Some(joined) = running.join_next().await {
            let before = done / 100_000;
            done += joined?.map_err(fail)? as u64;
            if done / 100_000 != before {
                tracing::info!(
                    users = done,
                    per_second = done as f64 / started.elapsed().as_secs_f64(),
                    "seeding"
                );
            }
        }
    }
    if let Some(out) = &mut secrets {
        out.flush()?;
    }
    tracing::info!(
        users = done,
        seconds = started.elapsed().as_secs_f64(),
        per_second = done as f64 / started.elapsed().as_secs_f64(),
        "seeded"
    );
    Ok(())
}

pub async fn rebuild(args: &config::DatabaseArgs) -> anyhow::Result<()> {
    let url = args.url();
    let done = twofold_store::rebuild(&url)
        .await
        .with_context(|| format!("opening the database {url}"))?
        .map_err(|e| anyhow::anyhow!("rebuilding the read models of {url}: {e}; nothing was changed"))?;
    tracing::info!(
        events = done.events,
        docs = done.docs,
        seconds = done.took.as_secs_f64(),
        events_per_second = done.events as f64 / done.took.as_secs_f64().max(1e-9),
        "read models rebuilt"
    );
    Ok(())
}
