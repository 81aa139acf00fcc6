//! The integration suite: one binary (see the kanidm lesson in the stack
//! guide), each test against a real `twofold` process. Every test runs on
//! SQLite, and on PostgreSQL when TWOFOLD_TEST_DATABASE_URL is set.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]

mod fixtures;
mod harness;
mod history;
mod hosted_login;
mod proxy;
mod python_sdk;
mod sessions;
mod settings;
mod sinks;
mod soft_passkey;
mod storage_faults;

mod admin_policy;
mod auth;
mod authz;
mod bad_input;
mod browser;
mod connect;
mod connections;
mod console_browser;
mod data_dir;
mod delivery;
mod directory;
mod factors;
mod humans;
mod input_hygiene;
mod js_sdk;
mod lifecycle;
mod login_client;
mod management;
mod multinode;
mod observability;
mod oidc;
mod oidc_keys;
mod oidc_tokens;
mod org_policy;
mod orgs_v2;
mod passkeys;
mod passwords;
mod pats_v2;
mod permissions;
mod policy_preview;
mod projects;
mod queries;
mod seed;
mod transport;
mod u2f;
mod user_pages;
mod users_v2;
