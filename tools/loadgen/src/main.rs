//! `loadgen`: drives a running Twofold (started here from a built binary on
//! a fresh data dir) and, in the same run, the baselines its figures are
//! divided by: a bare hyper HTTP/1.1 server (in a process of its own, as
//! Twofold runs) and a bare tonic gRPC server
//! answering a fixed small response, and a raw SQLite loop of one durable
//! insert per transaction. Prints a table and writes JSON.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "a load generator run by hand: a panic ends the run and serves no one"
)]

mod baselines;
mod cpu;
mod drive;
mod login_page;
mod oidc_scenarios;
mod raw;
mod scenarios;
mod signin;
mod wrk;

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

#[derive(Parser)]
#[command(about = "Twofold load generator with same-run baselines")]
pub struct Args {
    /// The `twofold` binary to start (build it with --release).
    #[arg(long, default_value = "target/release/twofold")]
    pub twofold: PathBuf,
    /// Concurrent connections per scenario.
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    /// Seconds each scenario runs.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Connections for the write and sign-in scenarios (each gets its own org or user).
    #[arg(long, default_value_t = 16)]
    pub write_connections: usize,
    /// Threads of the raw HTTP/1.1 client [default: one per core].
    #[arg(long)]
    pub client_threads: Option<usize>,
    /// Seed this many users (password and TOTP) with `twofold seed` before
    /// starting Twofold: needed by sign-in-totp, totp-only and list-users.
    #[arg(long, default_value_t = 0)]
    pub seed_users: u64,
    /// Earlier sign-ins recorded in each seeded user's history (two events
    /// each; `twofold seed --sign-ins`).
    #[arg(long, default_value_t = 0)]
    pub seed_sign_ins: u64,
    /// Use (and keep) this data dir instead of a fresh temporary one; it is
    /// seeded only when it holds no database yet.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Connections of the ListUsers scenarios.
    #[arg(long, default_value_t = 8)]
    pub list_connections: usize,
    /// argon2id memory cost given to the server and the hash baseline, KiB.
    #[arg(long, default_value_t = 19_456)]
    pub argon2_memory_kib: u32,
    /// argon2id passes given to the server and the hash baseline.
    #[arg(long, default_value_t = 2)]
    pub argon2_iterations: u32,
    /// Scenarios to run (default: all): baselines, wrk, rest-list,
    /// connect-list, grpc-list, writes, sign-in, hash-only, sign-in-totp,
    /// totp-only, list-users.
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Also start a Twofold on this PostgreSQL database (dropped and created
    /// afresh: name a scratch database) and run rest-list and writes on it,
    /// each compared with the same run's SQLite figure.
    #[arg(long)]
    pub postgres: Option<String>,
    /// Where to write the JSON report.
    #[arg(long, default_value = "target/loadgen.json")]
    pub json: PathBuf,
    /// Internal: serve the bare hyper baseline, print its address, and run
    /// until stdin closes (the baseline's own process; see `baselines`).
    #[arg(long, hide = true)]
    pub serve_hyper: bool,
}

impl Args {
    pub fn duration(&self) -> Duration {
        Duration::from_secs(self.seconds)
    }
    pub fn client_threads(&self) -> usize {
        self.client_threads.unwrap_or(cpu::cores() as usize)
    }
    /// Whether to run scenario `name`: listed in `--only`, or by default
    /// every scenario but those that need seeded users (run by default only
    /// with `--seed-users`).
    pub fn wants(&self, name: &str) -> bool {
        const SEEDED: [&str; 4] = ["hash-only", "sign-in-totp", "totp-only", "list-users"];
        match self.only.is_empty() {
            true => self.seed_users > 0 || !SEEDED.contains(&name),
            false => self.only.iter().any(|o| o == name),
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.serve_hyper {
        return baselines::serve_hyper_here().await;
    }
    let results = scenarios::run_all(&args).await?;
    println!("{}", drive::table(&results));
    std::fs::write(&args.json, serde_json::to_vec_pretty(&drive::json(&results))?)?;
    eprintln!("JSON report: {}", args.json.display());
    Ok(())
}
