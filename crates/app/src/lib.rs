//! Use cases of Twofold: each command loads an aggregate's events, lets the
//! domain decide, and appends the result with optimistic concurrency; each
//! query reads a read model. Storage is reached through [`ports::EventStore`].

pub mod access;
pub mod app_keys;
pub mod apps;
pub mod auth;
pub mod bootstrap;
pub mod clock;
pub mod command;
pub mod contact_codes;
mod docs;
pub mod freshness;
pub mod hosted_login;
pub mod humans;
pub mod ids;
pub mod invites;
pub mod login_policy;
pub mod login_ui;
pub mod machine_secrets;
pub mod members;
pub mod metrics;
pub mod mfa;
pub mod notify;
pub mod oidc;
pub mod org_setup;
pub mod orgs;
mod parsed;
pub mod passkeys;
pub mod password_reset;
pub mod passwords;
pub mod policy_history;
pub mod policy_preview;
pub mod ports;
pub mod projects;
pub mod random;
pub mod scoped_policy;
pub mod secrets;
pub mod security;
pub mod seed;
pub mod sessions;
pub mod signing_keys;
pub mod token_use;
pub mod tokens;
pub mod totp;
pub mod u2f;
pub mod user_state;
pub mod user_tokens;
pub mod user_update;
pub mod users;

use std::sync::Arc;

pub use command::WriteDetails;
pub use ports::{Clock, EventStore, StoreError};

/// Settings of the use cases (from flags).
#[derive(Clone, Debug)]
pub struct AppConfig {
    /// Issuer shown in authenticator apps (`otpauth://totp/<issuer>:…`).
    pub totp_issuer: String,
    pub password_hashing: passwords::HashParams,
    /// First throttling window after repeated OTP failures, in seconds.
    pub otp_throttle_secs: i64,
    /// Password hashing jobs that may wait for a hashing thread; more are
    /// refused (429 / RESOURCE_EXHAUSTED).
    pub hash_queue: usize,
    /// One-time-code messages that may wait for sending; more are dropped.
    pub delivery_queue: usize,
    /// Where the OIDC endpoints and the login UI are.
    pub oidc: oidc::OidcSettings,
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            totp_issuer: "Twofold".into(),
            password_hashing: passwords::HashParams::default(),
            otp_throttle_secs: 30,
            hash_queue: passwords::DEFAULT_QUEUE,
            delivery_queue: notify::DEFAULT_QUEUE,
            oidc: oidc::OidcSettings::default(),
        }
    }
}

/// Everything a request needs, shared by all transports.
#[derive(Clone)]
pub struct App {
    pub(crate) store: Arc<dyn EventStore>,
    pub(crate) ids: Arc<ids::IdGenerator>,
    pub(crate) keys: Arc<secrets::MasterKey>,
    pub(crate) config: Arc<AppConfig>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) deliveries: Arc<notify::Deliveries>,
    pub(crate) signing: Arc<signing_keys::KeyCache>,
    pub(crate) parsed: Arc<parsed::Parsed>,
}

impl App {
    pub fn new(store: Arc<dyn EventStore>, keys: secrets::MasterKey, config: AppConfig) -> Self {
        passwords::start_hashing(config.hash_queue);
        Self {
            store,
            ids: Arc::new(ids::IdGenerator::new()),
            keys: Arc::new(keys),
            deliveries: Arc::new(notify::Deliveries::new(config.delivery_queue)),
            signing: Arc::new(signing_keys::KeyCache::default()),
            parsed: Arc::new(parsed::Parsed::default()),
            config: Arc::new(config),
            clock: Arc::new(clock::SystemClock),
        }
    }

    /// The same app reading the time from `clock` (tests set the time).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub(crate) fn now(&self) -> twofold_domain::Timestamp {
        self.clock.now()
    }

    /// Whether the database answers within two seconds (readiness probes
    /// must answer quickly, also while the database is unreachable).
    pub async fn ready(&self) -> bool {
        let ping = tokio::time::timeout(std::time::Duration::from_secs(2), self.store.ping());
        matches!(ping.await, Ok(Ok(())))
    }
}
