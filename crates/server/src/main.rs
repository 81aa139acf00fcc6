//! `twofold`: the server binary.

mod config;
mod data_dir;
mod seed;
mod serve;
mod shutdown;

use std::net::SocketAddr;

use anyhow::Context;
use clap::{Parser, Subcommand};
use twofold_app::App;
use twofold_app::bootstrap::{BootstrapConfig, KeyVerdict};

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
    Start(Box<config::StartArgs>),
    /// Apply database migrations and exit.
    Migrate(config::DatabaseArgs),
    /// Check the database for corruption without changing it; exits
    /// non-zero when it finds any.
    Check(config::DatabaseArgs),
    /// Create many human users quickly, for load tests (see docs/benchmarks.md).
    Seed(Box<seed::SeedArgs>),
    /// Rebuild every read model from the event log (servers stopped).
    Rebuild(config::DatabaseArgs),
}

/// mimalloc instead of the system allocator: with glibc's malloc,
/// allocating and freeing were a quarter of the instructions of a small REST
/// call (`docs/benchmarks.md`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .event_format(twofold_api::EventFormat(
            tracing_subscriber::fmt::format().with_ansi(ansi),
        ))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=warn".into()),
        )
        .init();
    match Cli::parse().command {
        Command::Start(args) => start(*args).await,
        Command::Seed(args) => {
            let (app, store) = open_app(&args.start).await?;
            let seeded = seed::run(&app, &args).await;
            store.close().await;
            seeded
        }
        Command::Rebuild(args) => seed::rebuild(&args).await,
        Command::Migrate(args) => {
            let markers = data_dir::earlier_use(&[args.data_dir.join("masterkey"), args.data_dir.join("admin.pat")]);
            let store = args.open(&markers).await?;
            store.close().await;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Check(args) => {
            let problems = args.check().await?;
            if !problems.is_empty() {
                anyhow::bail!(
                    "the database {} is corrupt: {}; restore it from a backup",
                    args.url(),
                    problems.join("; ")
                );
            }
            println!("ok: no problems found in {}", args.url());
            Ok(())
        }
    }
}

async fn start(args: config::StartArgs) -> anyhow::Result<()> {
    let (app, store) = open_app(&args).await?;
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let addr: SocketAddr = listener.local_addr()?;
    let api = twofold_api::router(app.clone(), args.api_limits(), args.logging()).await?;
    let pages = twofold_web::router(app, api.methods());
    let router = api.with_pages(pages);
    let signal = shutdown::signal().context("installing the SIGTERM/SIGINT handlers")?;
    let corrupt = std::sync::Arc::new(std::sync::OnceLock::new());
    let stop = stop_on_corruption(&args, corrupt.clone(), signal);
    tracing::info!("listening on {addr}");
    serve::serve(listener, router, args.connections.limits(), stop).await;
    store.close().await;
    if let Some(problem) = corrupt.get() {
        anyhow::bail!(
            "the database {} failed its integrity check: {problem}; the server stopped; \
             restore it from a backup",
            args.db.url()
        );
    }
    tracing::info!("stopped");
    Ok(())
}

/// `signal`, or the end of a failed quick check of the whole SQLite file,
/// which runs beside the serving server so that the time to ready does not
/// grow with the database (docs/operations.md); its problem goes to `corrupt`.
fn stop_on_corruption(
    args: &config::StartArgs,
    corrupt: std::sync::Arc<std::sync::OnceLock<String>>,
    signal: impl std::future::Future<Output = ()>,
) -> impl std::future::Future<Output = ()> {
    let (found, problem) = tokio::sync::oneshot::channel::<String>();
    let db = args.db.clone();
    tokio::spawn(async move {
        let started = std::time::Instant::now();
        let problems = match db.quick_check().await {
            None => return,
            Some(Ok(p)) if p.is_empty() => {
                tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "integrity check: ok");
                return;
            }
            Some(Ok(p)) => p.join("; "),
            Some(Err(e)) => format!("{e:#}"),
        };
        tracing::error!(problems = %problems, "the database failed its integrity check: stopping");
        let _ = found.send(problems);
    });
    async move {
        tokio::select! {
            () = signal => {}
            Ok(p) = problem => {
                let _ = corrupt.set(p);
            }
        }
    }
}

/// Opens the data dir and the database, settles the master key and creates
/// the instance on the first start.
async fn open_app(args: &config::StartArgs) -> anyhow::Result<(App, std::sync::Arc<dyn twofold_app::EventStore>)> {
    let dir = &args.db.data_dir;
    data_dir::prepare(dir)?;
    let pat_file = args.admin_pat_file();
    let key_file = args.master_key_file();
    let markers = data_dir::earlier_use(&[key_file.clone(), pat_file.clone()]);
    for file in &markers {
        data_dir::tighten(file, 0o600)?;
    }
    let (key, generated) = args.master_key()?;
    let store = args.db.open(&markers).await?;
    let app = App::new(store.clone(), key, args.app_config()?);
    if !app.instance_exists().await.map_err(|e| anyhow::anyhow!("{e}"))? && pat_file.exists() {
        anyhow::bail!(
            "the database {} holds no instance, but {} exists from an earlier start: the database \
             was lost or replaced; restore it from a backup, or move {} away to start a new instance",
            args.db.url(),
            pat_file.display(),
            pat_file.display()
        );
    }
    settle_master_key(&app, args, generated.as_deref()).await?;
    let boot = BootstrapConfig {
        domains: args.instance_domains(),
        org_name: "Twofold".into(),
    };
    if let Some(created) = app.bootstrap(&boot).await.map_err(|e| anyhow::anyhow!("{e}"))? {
        // Never over an existing file: its token may be the only one left.
        config::write_private(&pat_file, format!("{}\n", created.admin_token).as_bytes())
            .with_context(|| format!("writing the admin token to {}", pat_file.display()))?;
        tracing::info!(instance_id = %created.instance_id, pat_file = %pat_file.display(),
            "first start: instance created; the admin personal access token is in the PAT file");
    }
    Ok((app, store))
}

/// Refuses a master key other than the one the database recorded (or a new
/// one for a database that holds an instance); else records it, writing a
/// generated key to its file first.
async fn settle_master_key(app: &App, args: &config::StartArgs, generated: Option<&str>) -> anyhow::Result<()> {
    let dir = args.db.data_dir.display();
    let fail = |e: twofold_domain::DomainError| anyhow::anyhow!("{e}");
    match app.verify_master_key(generated.is_some()).await.map_err(fail)? {
        KeyVerdict::Matches => return Ok(()),
        KeyVerdict::Mismatch => anyhow::bail!(
            "the master key does not match the one the database {} was created with (data dir {dir}): \
             start with the original key (--masterkey / TWOFOLD_MASTERKEY, or the file {}); nothing was changed",
            args.db.url(),
            args.master_key_file().display()
        ),
        KeyVerdict::Lost => anyhow::bail!(
            "the database {} was used with a master key, but none was given and {} is missing (data dir {dir}): \
             restore the key file or pass the original key with --masterkey / TWOFOLD_MASTERKEY; nothing was changed",
            args.db.url(),
            args.master_key_file().display()
        ),
        KeyVerdict::Unrecorded => {}
    }
    if let Some(text) = generated {
        let path = args.master_key_file();
        config::write_private(&path, text.as_bytes()).with_context(|| format!("writing {}", path.display()))?;
        tracing::warn!(path = %path.display(),
            "no master key given: generated one; keep this file safe and backed up, \
             or pass --masterkey / TWOFOLD_MASTERKEY");
    }
    let existing = app.instance_exists().await.map_err(fail)?;
    app.record_master_key().await.map_err(fail)?;
    if app.verify_master_key(false).await.map_err(fail)? != KeyVerdict::Matches {
        anyhow::bail!(
            "another node recorded a different master key for the database {} at the same time",
            args.db.url()
        );
    }
    if existing {
        tracing::info!("recorded the master key check of this database (created by an earlier version)");
    }
    Ok(())
}
