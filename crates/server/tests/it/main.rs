//! The integration suite: one binary (see the kanidm lesson in the stack
//! guide), each test against a real `twofold` process. Every test runs on
//! SQLite, and on PostgreSQL when TWOFOLD_TEST_DATABASE_URL is set.

mod fixtures;
mod harness;
mod proxy;
mod sessions;
mod sinks;

mod admin_policy;
mod auth;
mod bad_input;
mod delivery;
mod directory;
mod factors;
mod humans;
mod input_hygiene;
mod js_sdk;
mod lifecycle;
mod management;
mod multinode;
mod org_policy;
mod permissions;
mod transport;
mod u2f;
