//! `loadgen`: drives a running Twofold (started here from a built binary on
//! a fresh data dir) and, in the same run, the baselines its figures are
//! divided by: a bare hyper HTTP/1.1 server and a bare tonic gRPC server
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
mod drive;
mod login_page;
mod oidc_scenarios;
mod scenarios;

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
    /// Scenarios to run (default: all).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Where to write the JSON report.
    #[arg(long, default_value = "target/loadgen.json")]
    pub json: PathBuf,
}

impl Args {
    pub fn duration(&self) -> Duration {
        Duration::from_secs(self.seconds)
    }
    pub fn wants(&self, name: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|o| o == name)
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let results = scenarios::run_all(&args).await?;
    println!("{}", drive::table(&results));
    std::fs::write(&args.json, serde_json::to_vec_pretty(&drive::json(&results))?)?;
    eprintln!("JSON report: {}", args.json.display());
    Ok(())
}
