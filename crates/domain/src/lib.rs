//! Twofold's domain core. Pure: no I/O, no SQL, no transport types.
//!
//! Commands are decided against state folded from an aggregate's events
//! (`decide_*` functions returning new event payloads); read models are
//! reduced from stored events by [`readmodel`]. Storage and transports live in
//! other crates and call into this one.

pub mod app_key;
pub mod application;
pub mod contact_codes;
pub mod error;
pub mod event;
pub mod factors;
pub mod hosted_login;
pub mod human;
pub mod ids;
pub mod invite;
pub mod lockout;
pub mod login_flow;
pub mod login_policy;
pub mod machine_secret;
pub mod member;
pub mod mfa;
pub mod names;
pub mod notify;
pub mod oidc;
pub mod oidc_config;
pub mod org;
pub mod passkey;
pub mod password_age;
pub mod password_code;
pub mod password_complexity;
pub mod permissions;
pub mod policy_preview;
pub mod project;
pub mod readmodel;
pub mod scope;
pub mod scoped_policy;
pub mod security;
pub mod session;
pub mod setup;
pub mod snapshot;
pub mod url_template;
pub mod user;
pub mod user_lifecycle;
pub mod user_update;

pub use error::{DomainError, ErrorKind};
pub use event::{AggregateRef, AggregateType, EventPayload, StoredEvent, Timestamp};
pub use ids::{AppId, ClientId, InstanceId, OrgId, ProjectId, SessionId, UserId};
