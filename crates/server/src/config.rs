//! Command-line flags (each also read from a `TWOFOLD_*` variable) and the
//! files kept in the data dir.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use twofold_app::EventStore;
use twofold_app::secrets::MasterKey;

use crate::{data_dir, serve};

#[derive(clap::Args, Clone)]
pub struct DatabaseArgs {
    /// Directory for the embedded database, the generated master key and the admin token.
    #[arg(long, env = "TWOFOLD_DATA_DIR", default_value = "./twofold-data")]
    pub data_dir: PathBuf,
    /// sqlite://PATH or postgres://USER@HOST:PORT/DB [default: sqlite://<data-dir>/twofold.db]
    #[arg(long, env = "TWOFOLD_DATABASE_URL")]
    pub database: Option<String>,
    /// Largest number of database connections.
    #[arg(long, env = "TWOFOLD_DB_MAX_CONNECTIONS", default_value_t = 10)]
    pub db_max_connections: u32,
    /// Seconds to wait for a database connection before a request fails with 503.
    #[arg(long, env = "TWOFOLD_DB_ACQUIRE_TIMEOUT", default_value_t = 5)]
    pub db_acquire_timeout: u64,
}

impl DatabaseArgs {
    pub fn url(&self) -> String {
        self.database
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("twofold.db").display()))
    }

    fn store_options(&self) -> twofold_store::StoreOptions {
        twofold_store::StoreOptions {
            max_connections: self.db_max_connections,
            acquire_timeout: Duration::from_secs(self.db_acquire_timeout),
        }
    }

    /// Opens the database (creating a SQLite file private to this user) and
    /// applies migrations. `markers`: files that show earlier use of the data
    /// dir, which forbid treating an empty database file as a new one.
    pub async fn open(&self, markers: &[PathBuf]) -> anyhow::Result<Arc<dyn EventStore>> {
        data_dir::prepare(&self.data_dir)?;
        let url = self.url();
        let file = data_dir::sqlite_file(&url);
        if let Some(file) = &file {
            data_dir::prepare_sqlite_file(file, markers)?;
        }
        let store = twofold_store::open(&url, &self.store_options())
            .await
            .with_context(|| match &file {
                Some(f) => format!(
                    "opening the database {}: restore it from a backup, or move the data dir {} \
                     away to start a new instance; `twofold check` reports details",
                    f.display(),
                    self.data_dir.display()
                ),
                None => "opening the database".to_owned(),
            })?;
        if let Some(file) = &file {
            data_dir::tighten_sqlite_files(file)?;
        }
        Ok(store)
    }

    /// SQLite's quick check of the whole file (None on PostgreSQL): what
    /// `twofold start` runs once it serves, stopping on problems.
    pub async fn quick_check(&self) -> Option<anyhow::Result<Vec<String>>> {
        let url = self.url();
        let found = twofold_store::quick_check(&url, &self.store_options()).await?;
        Some(found.with_context(|| format!("checking the database {url}")))
    }

    /// `twofold check`: the problems the database's own check finds.
    pub async fn check(&self) -> anyhow::Result<Vec<String>> {
        twofold_store::check(&self.url(), &self.store_options())
            .await
            .with_context(|| format!("opening the database {}", self.url()))
    }
}

/// Limits of client connections (see `serve.rs`).
#[derive(clap::Args)]
pub struct ConnectionArgs {
    /// Seconds a client has to send a request's headers, on a new connection
    /// and between requests on a kept-alive HTTP/1.1 connection.
    #[arg(long, env = "TWOFOLD_HTTP_HEADER_TIMEOUT", default_value_t = 10)]
    pub http_header_timeout: u64,
    /// Seconds a connection may stay without a request in progress (HTTP/2,
    /// where no header timeout applies between requests) before it is closed.
    #[arg(long, env = "TWOFOLD_HTTP_IDLE_TIMEOUT", default_value_t = 60)]
    pub http_idle_timeout: u64,
    /// Seconds between HTTP/2 keep-alive pings.
    #[arg(long, env = "TWOFOLD_HTTP2_KEEPALIVE_INTERVAL", default_value_t = 30)]
    pub http2_keepalive_interval: u64,
    /// Seconds to wait for a ping's answer before the connection is closed.
    #[arg(long, env = "TWOFOLD_HTTP2_KEEPALIVE_TIMEOUT", default_value_t = 20)]
    pub http2_keepalive_timeout: u64,
    /// Most client connections open at once; a connection above it is closed
    /// at once. Lowered to fit the open-files limit.
    #[arg(long, env = "TWOFOLD_MAX_CONNECTIONS", default_value_t = 4096)]
    pub max_connections: usize,
}

impl ConnectionArgs {
    pub fn limits(&self) -> serve::Limits {
        let secs = |s: u64| Duration::from_secs(s.max(1));
        serve::Limits {
            header_timeout: secs(self.http_header_timeout),
            idle_timeout: secs(self.http_idle_timeout),
            h2_keepalive_interval: secs(self.http2_keepalive_interval),
            h2_keepalive_timeout: secs(self.http2_keepalive_timeout),
            max_connections: serve::fit_open_files_limit(self.max_connections.clamp(1, 1 << 20)),
        }
    }
}

#[derive(clap::Args)]
pub struct StartArgs {
    /// Address to listen on (gRPC, gRPC-web and REST share it).
    #[arg(long, env = "TWOFOLD_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    #[command(flatten)]
    pub db: DatabaseArgs,
    #[command(flatten)]
    pub connections: ConnectionArgs,
    /// Host name of the instance; requests are matched to it by Host without the port.
    #[arg(long, env = "TWOFOLD_EXTERNAL_DOMAIN", default_value = "localhost")]
    pub external_domain: String,
    /// The OIDC issuer, e.g. https://id.example.com [default: the scheme, host and port of each request]
    #[arg(long, env = "TWOFOLD_EXTERNAL_URL")]
    pub external_url: Option<String>,
    /// Base URL of the login UI that OIDC sign-ins are sent to ({login-url}/login?authRequest=…) [default: {issuer}/ui/login]
    #[arg(long, env = "TWOFOLD_LOGIN_URL")]
    pub login_url: Option<String>,
    /// Seconds an OIDC auth request waits for the login to finish it
    /// (CreateCallback); later it is refused as expired.
    #[arg(long, env = "TWOFOLD_AUTH_REQUEST_LIFETIME", default_value_t = 1800)]
    pub auth_request_lifetime: u32,
    /// 32-byte key that encrypts secrets at rest [default: generated into <data-dir>/masterkey]
    #[arg(long, env = "TWOFOLD_MASTERKEY", hide_env_values = true)]
    pub masterkey: Option<String>,
    /// Where the first start writes the admin's personal access token [default: <data-dir>/admin.pat]
    #[arg(long, env = "TWOFOLD_ADMIN_PAT_FILE")]
    pub admin_pat_file: Option<PathBuf>,
    /// Issuer shown in authenticator apps for TOTP enrolments.
    #[arg(long, env = "TWOFOLD_TOTP_ISSUER", default_value = "Twofold")]
    pub totp_issuer: String,
    /// argon2id memory cost of password hashes, in KiB (OWASP: 19456).
    #[arg(long, env = "TWOFOLD_ARGON2_MEMORY_KIB", default_value_t = 19_456)]
    pub argon2_memory_kib: u32,
    /// argon2id passes (OWASP: 2).
    #[arg(long, env = "TWOFOLD_ARGON2_ITERATIONS", default_value_t = 2)]
    pub argon2_iterations: u32,
    /// Seconds OTP checks are refused after 5 failures in a row (doubling
    /// with each further failure, up to an hour).
    #[arg(long, env = "TWOFOLD_OTP_THROTTLE_SECONDS", default_value_t = 30)]
    pub otp_throttle_seconds: u32,
    /// argon2id lanes (OWASP: 1).
    #[arg(long, env = "TWOFOLD_ARGON2_PARALLELISM", default_value_t = 1)]
    pub argon2_parallelism: u32,
    /// Password hashing jobs that may wait for a hashing thread; beyond
    /// them sign-ins and password changes get 429 (gRPC: RESOURCE_EXHAUSTED).
    #[arg(long, env = "TWOFOLD_ARGON2_QUEUE", default_value_t = twofold_app::passwords::DEFAULT_QUEUE)]
    pub argon2_queue: usize,
    /// One-time-code messages (email, SMS) that may wait for sending;
    /// beyond them codes are not sent (logged and counted).
    #[arg(long, env = "TWOFOLD_DELIVERY_QUEUE", default_value_t = twofold_app::notify::DEFAULT_QUEUE)]
    pub delivery_queue: usize,
    /// Log one line per request at its end (request id, method, code, duration).
    #[arg(long, env = "TWOFOLD_ACCESS_LOG")]
    pub access_log: bool,
    /// Largest request body (REST) or message (gRPC) in bytes; larger ones
    /// get 413 (gRPC: RESOURCE_EXHAUSTED). Routes without a body take none.
    #[arg(long, env = "TWOFOLD_MAX_REQUEST_BODY_BYTES", default_value_t = 1 << 20)]
    pub max_request_body_bytes: usize,
}

impl StartArgs {
    pub fn app_config(&self) -> anyhow::Result<twofold_app::AppConfig> {
        let password_hashing = twofold_app::passwords::HashParams {
            memory_kib: self.argon2_memory_kib,
            iterations: self.argon2_iterations,
            parallelism: self.argon2_parallelism,
        };
        argon2::Params::new(
            password_hashing.memory_kib,
            password_hashing.iterations,
            password_hashing.parallelism,
            None,
        )
        .map_err(|e| anyhow::anyhow!("invalid argon2 parameters: {e}"))?;
        Ok(twofold_app::AppConfig {
            totp_issuer: self.totp_issuer.clone(),
            password_hashing,
            otp_throttle_secs: i64::from(self.otp_throttle_seconds.max(1)),
            hash_queue: self.argon2_queue,
            delivery_queue: self.delivery_queue,
            oidc: twofold_app::oidc::OidcSettings {
                external_url: self.external_url.clone(),
                login_url: self.login_url.clone(),
                auth_request_lifetime_us: i64::from(self.auth_request_lifetime.max(1)) * 1_000_000,
            },
        })
    }

    pub fn api_limits(&self) -> twofold_api::Limits {
        twofold_api::Limits {
            max_request_body_bytes: self.max_request_body_bytes,
        }
    }

    pub fn logging(&self) -> twofold_api::Logging {
        twofold_api::Logging {
            access_log: self.access_log,
        }
    }

    pub fn admin_pat_file(&self) -> PathBuf {
        self.admin_pat_file
            .clone()
            .unwrap_or_else(|| self.db.data_dir.join("admin.pat"))
    }

    /// The external domain; `localhost` also answers as 127.0.0.1 and ::1.
    pub fn instance_domains(&self) -> Vec<String> {
        let external = twofold_app::auth::host_without_port(&self.external_domain);
        let mut domains = vec![external.clone()];
        if external == "localhost" {
            domains.extend(["127.0.0.1".to_owned(), "::1".to_owned()]);
        }
        domains
    }

    pub fn master_key_file(&self) -> PathBuf {
        self.db.data_dir.join("masterkey")
    }

    /// The flag's key, else the one in the data dir, else a new one (which
    /// the caller writes there once the database accepted it). No new key
    /// next to an admin token of an earlier start: the data sealed under
    /// the old key would be lost.
    pub fn master_key(&self) -> anyhow::Result<(MasterKey, Option<String>)> {
        if let Some(k) = &self.masterkey {
            return Ok((MasterKey::from_bytes(k.as_bytes()).map_err(anyhow::Error::msg)?, None));
        }
        let path = self.master_key_file();
        match std::fs::read(&path) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                let key = MasterKey::from_bytes(text.trim().as_bytes())
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                Ok((key, None))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let pat = self.admin_pat_file();
                if pat.exists() {
                    anyhow::bail!(
                        "the master key {} is missing, but {} shows that data dir {} was used before: \
                         restore the key file or pass the original key with --masterkey / TWOFOLD_MASTERKEY \
                         (a new key cannot open what the old one sealed); nothing was changed",
                        path.display(),
                        pat.display(),
                        self.db.data_dir.display()
                    );
                }
                let text = MasterKey::generate_text();
                let key = MasterKey::from_bytes(text.as_bytes()).map_err(anyhow::Error::msg)?;
                Ok((key, Some(text)))
            }
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }
}

/// Creates `path` readable by its owner only (mode 0600); fails if it exists.
pub fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(contents)?;
    f.sync_all()
}
