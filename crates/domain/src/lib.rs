//! Twofold's domain core. Pure: no I/O, no SQL, no transport types.
//!
//! Commands are decided against state folded from an aggregate's events
//! (`decide_*` functions returning new event payloads); read models are
//! reduced from stored events by [`readmodel`]. Storage and transports live in
//! other crates and call into this one.

pub mod error;
pub mod event;
pub mod factors;
pub mod human;
pub mod ids;
pub mod lockout;
pub mod login_policy;
pub mod member;
pub mod mfa;
pub mod names;
pub mod notify;
pub mod org;
pub mod password_age;
pub mod password_complexity;
pub mod permissions;
pub mod policy_preview;
pub mod readmodel;
pub mod scope;
pub mod security;
pub mod session;
pub mod setup;
pub mod user;

pub use error::{DomainError, ErrorKind};
pub use event::{AggregateRef, AggregateType, EventPayload, StoredEvent, Timestamp};
pub use ids::{InstanceId, OrgId, SessionId, UserId};
