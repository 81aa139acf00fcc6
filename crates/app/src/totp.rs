//! TOTP (RFC 6238: SHA-1, 6 digits, 30 s steps, ±1 step of skew) with
//! totp-rs for the arithmetic. Which steps may still be used is the
//! domain's business; this module only computes.

use totp_rs::{Algorithm, Builder, Secret};

pub const STEP_SECONDS: u64 = 30;

/// 20 bytes (160 bits) from the OS CSPRNG, as RFC 4226 recommends.
pub fn new_secret() -> Vec<u8> {
    let mut b = vec![0u8; 20];
    crate::random::fill(&mut b);
    b
}

/// Base32 without padding (20 bytes → 32 characters).
pub fn base32(secret: &[u8]) -> String {
    Secret::from(secret.to_vec())
        .to_base32()
        .trim_end_matches('=')
        .to_owned()
}

/// `otpauth://totp/<issuer>:<account>?algorithm=SHA1&digits=6&issuer=<issuer>&period=30&secret=<base32>`,
/// byte for byte as ZITADEL builds it (path escaped, query form-encoded, keys sorted).
pub fn uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    format!(
        "otpauth://totp/{}:{}?algorithm=SHA1&digits=6&issuer={}&period=30&secret={}",
        escape_path(issuer),
        escape_path(account),
        escape_query(issuer),
        base32(secret)
    )
}

fn escape(s: &str, keep: &str, space: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || keep.as_bytes().contains(&b) {
            out.push(b as char);
        } else if b == b' ' {
            out.push_str(space);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn escape_path(s: &str) -> String {
    escape(s, "-._~!$&'()*+,;=:@", "%20")
}

fn escape_query(s: &str) -> String {
    escape(s, "-._~", "+")
}

/// The step in T-1..=T+1 whose code equals `code` (trimmed), checking every
/// candidate so the time taken does not depend on which one matched.
pub fn matched_step(secret: &[u8], code: &str, unix_seconds: u64) -> Option<u64> {
    let code = code.trim();
    if code.len() != 6 {
        return None;
    }
    let totp = Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(STEP_SECONDS)
        .with_skew(1)
        .with_secret(secret.to_vec())
        .build_noncompliant();
    let now = unix_seconds / STEP_SECONDS;
    let mut matched = None;
    for step in now.saturating_sub(1)..=now + 1 {
        let expected = totp.generate(step * STEP_SECONDS).to_string();
        let equal = twofold_domain::human::constant_time_eq(expected.as_bytes(), code.as_bytes());
        if equal && matched.is_none() {
            matched = Some(step);
        }
    }
    matched
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 seed, last six digits of the 8-digit values.
    #[test]
    fn rfc6238_vectors() {
        let seed = b"12345678901234567890";
        for (time, code) in [
            (59u64, "287082"),
            (1111111109, "081804"),
            (1234567890, "005924"),
            (2000000000, "279037"),
        ] {
            assert_eq!(matched_step(seed, code, time), Some(time / 30), "{time}");
        }
        // Beyond 2038 (T > 2^32 seconds).
        assert_eq!(matched_step(seed, "353130", 20000000000), Some(20000000000 / 30));
    }

    #[test]
    fn skew_is_one_step_each_way() {
        let seed = b"12345678901234567890";
        assert_eq!(matched_step(seed, "287082", 59 + 30), Some(1));
        assert_eq!(matched_step(seed, "287082", 59 + 60), None);
        assert_eq!(matched_step(seed, " 287082 ", 59), Some(1), "whitespace is trimmed");
        assert_eq!(matched_step(seed, "28708", 59), None);
    }

    #[test]
    fn uri_format() {
        let secret = [0u8; 20];
        assert_eq!(
            uri("Twofold", "alice@acme.example", &secret),
            "otpauth://totp/Twofold:alice@acme.example?algorithm=SHA1&digits=6&issuer=Twofold&period=30&secret=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        );
        assert!(uri("My IdP", "a b", &secret).starts_with("otpauth://totp/My%20IdP:a%20b?algor"));
        assert!(uri("My IdP", "a", &secret).contains("&issuer=My+IdP&"));
    }
}
