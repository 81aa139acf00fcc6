//! Use cases of Twofold: each command loads an aggregate's events, lets the
//! domain decide, and appends the result with optimistic concurrency; each
//! query reads a read model. Storage is reached through [`ports::EventStore`].

pub mod auth;
pub mod bootstrap;
pub mod clock;
pub mod command;
pub mod ids;
pub mod login_policy;
pub mod members;
pub mod orgs;
pub mod ports;
pub mod secrets;
pub mod users;

use std::sync::Arc;

pub use command::WriteDetails;
pub use ports::{EventStore, StoreError};

/// Everything a request needs, shared by all transports.
#[derive(Clone)]
pub struct App {
    pub(crate) store: Arc<dyn EventStore>,
    pub(crate) ids: Arc<ids::IdGenerator>,
    pub(crate) keys: Arc<secrets::MasterKey>,
}

impl App {
    pub fn new(store: Arc<dyn EventStore>, keys: secrets::MasterKey) -> Self {
        Self {
            store,
            ids: Arc::new(ids::IdGenerator::new()),
            keys: Arc::new(keys),
        }
    }

    /// Whether the database answers within two seconds (readiness probes
    /// must answer quickly, also while the database is unreachable).
    pub async fn ready(&self) -> bool {
        let ping = tokio::time::timeout(std::time::Duration::from_secs(2), self.store.ping());
        matches!(ping.await, Ok(Ok(())))
    }
}
