//! The integration suite's PostgreSQL tests need `TWOFOLD_TEST_DATABASE_URL`.
//! Built without it, they are marked ignored (`cfg(twofold_pg_tests)` unset),
//! so `cargo test` reports them as ignored instead of counting them as passed.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(twofold_pg_tests)");
    println!("cargo::rerun-if-env-changed=TWOFOLD_TEST_DATABASE_URL");
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var("TWOFOLD_TEST_DATABASE_URL").is_ok_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=twofold_pg_tests");
    }
}
