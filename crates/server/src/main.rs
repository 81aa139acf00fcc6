//! `twofold`: the server binary.

mod config;
mod shutdown;

use std::net::SocketAddr;

use anyhow::Context;
use clap::{Parser, Subcommand};
use twofold_app::App;
use twofold_app::bootstrap::BootstrapConfig;

#[derive(Parser)]
#[command(
    name = "twofold",
    version,
    about = "Identity server for multi-factor authentication, speaking ZITADEL's API"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the server (creates the instance on first start).
    Start(config::StartArgs),
    /// Apply database migrations and exit.
    Migrate(config::DatabaseArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=warn".into()),
        )
        .init();
    match Cli::parse().command {
        Command::Start(args) => start(args).await,
        Command::Migrate(args) => {
            let store = args.open().await?;
            store.close().await;
            tracing::info!("migrations applied");
            Ok(())
        }
    }
}

async fn start(args: config::StartArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.db.data_dir)
        .with_context(|| format!("creating data dir {}", args.db.data_dir.display()))?;
    let key = args.master_key()?;
    let store = args.db.open().await?;
    let app = App::new(store.clone(), key, args.app_config()?);

    let boot = BootstrapConfig {
        domains: args.instance_domains(),
        org_name: "Twofold".into(),
    };
    if let Some(created) = app.bootstrap(&boot).await.map_err(|e| anyhow::anyhow!("{e}"))? {
        let path = args.admin_pat_file();
        // A stale file from an earlier database must not survive.
        let _ = std::fs::remove_file(&path);
        config::write_private(&path, format!("{}\n", created.admin_token).as_bytes())
            .with_context(|| format!("writing the admin token to {}", path.display()))?;
        tracing::info!(instance_id = %created.instance_id, pat_file = %path.display(),
            "first start: instance created; the admin personal access token is in the PAT file");
    }

    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let addr: SocketAddr = listener.local_addr()?;
    let router = twofold_api::router(app, args.api_limits()).await;
    let stop = shutdown::signal();
    tracing::info!("listening on {addr}");
    axum::serve(listener, router).with_graceful_shutdown(stop).await?;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}
