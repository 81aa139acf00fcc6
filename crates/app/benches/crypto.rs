//! Per-request cryptography: TOTP verification (three HMAC-SHA1 per code)
//! and the keyed hash that looks up a bearer token.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "benchmark code: a panic is a failed run"
)]

use twofold_app::secrets::MasterKey;
use twofold_app::totp;

fn main() {
    divan::main();
}

#[divan::bench]
fn totp_verification(bencher: divan::Bencher) {
    let seed = b"12345678901234567890";
    bencher.bench(|| totp::matched_step(divan::black_box(seed), divan::black_box("287082"), 59));
}

#[divan::bench]
fn token_hash(bencher: divan::Bencher) {
    let key = MasterKey::from_bytes(&[7; 32]).expect("32 bytes");
    let token = "aGVsbG8gd29ybGQgdGhpcyBpcyBhIHRva2VuIG9mIDMyIGJ5dGVz";
    bencher.bench(|| key.token_hash(divan::black_box(token)));
}
