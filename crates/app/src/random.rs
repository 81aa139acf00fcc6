//! The OS random source, the one place allowed to give up without it.

/// Fills `buf` from the OS CSPRNG. Without one no secret, salt or id can be
/// made safely, and getrandom fails only on a broken system, so this is the
/// one place where the process stops rather than carry on.
#[expect(clippy::expect_used, reason = "no safe way to continue without randomness")]
pub fn fill(buf: &mut [u8]) {
    getrandom::fill(buf).expect("the OS random source must work");
}
