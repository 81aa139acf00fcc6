//! Second factors (used after a password) and multi factors (passwordless).
//! The numbers are the wire enum values and are what events store (`mfaType`).

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "i32", try_from = "i32")]
pub enum SecondFactor {
    /// TOTP authenticator app.
    Otp,
    U2f,
    OtpEmail,
    OtpSms,
    RecoveryCodes,
}

impl SecondFactor {
    pub fn from_i32(v: i32) -> Option<Self> {
        match v {
            1 => Some(Self::Otp),
            2 => Some(Self::U2f),
            3 => Some(Self::OtpEmail),
            4 => Some(Self::OtpSms),
            5 => Some(Self::RecoveryCodes),
            _ => None,
        }
    }
}

impl From<SecondFactor> for i32 {
    fn from(f: SecondFactor) -> i32 {
        match f {
            SecondFactor::Otp => 1,
            SecondFactor::U2f => 2,
            SecondFactor::OtpEmail => 3,
            SecondFactor::OtpSms => 4,
            SecondFactor::RecoveryCodes => 5,
        }
    }
}

impl TryFrom<i32> for SecondFactor {
    type Error = String;
    fn try_from(v: i32) -> Result<Self, String> {
        Self::from_i32(v).ok_or_else(|| format!("unknown second factor type {v}"))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "i32", try_from = "i32")]
pub enum MultiFactor {
    /// Passkey: a security key with user verification (PIN or biometrics).
    U2fWithVerification,
}

impl MultiFactor {
    pub fn from_i32(v: i32) -> Option<Self> {
        (v == 1).then_some(Self::U2fWithVerification)
    }
}

impl From<MultiFactor> for i32 {
    fn from(_: MultiFactor) -> i32 {
        1
    }
}

impl TryFrom<i32> for MultiFactor {
    type Error = String;
    fn try_from(v: i32) -> Result<Self, String> {
        Self::from_i32(v).ok_or_else(|| format!("unknown multi factor type {v}"))
    }
}

/// A factor of either list, for code that treats both lists alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Factor {
    Second(SecondFactor),
    Multi(MultiFactor),
}
