//! The integration suite: one binary (see the kanidm lesson in the stack
//! guide), each test against a real `twofold` process. Every test runs on
//! SQLite, and on PostgreSQL when TWOFOLD_TEST_DATABASE_URL is set.

mod harness;

mod admin_policy;
mod auth;
mod lifecycle;
mod management;
mod transport;
