//! Password complexity policy: the minimum length and the character classes
//! a new password must contain. The instance has a default (8 characters,
//! all four classes, set at setup); an org may have its own. Every password
//! set is checked against the policy in force for the user's org.

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::readmodel::Collection;
use crate::scoped_policy::{Refusals, ScopedPolicy, scoped_policy_events};

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Payload of a `*.policy.password.complexity.added` event (zero values
/// omitted, so `Default` is the all-off value a missing key decodes to).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PasswordComplexitySettings {
    #[serde(rename = "minLength", skip_serializing_if = "is_zero")]
    pub min_length: u64,
    #[serde(rename = "hasLowercase", skip_serializing_if = "is_false")]
    pub has_lowercase: bool,
    #[serde(rename = "hasUppercase", skip_serializing_if = "is_false")]
    pub has_uppercase: bool,
    #[serde(rename = "hasNumber", skip_serializing_if = "is_false")]
    pub has_number: bool,
    #[serde(rename = "hasSymbol", skip_serializing_if = "is_false")]
    pub has_symbol: bool,
}

/// Payload of a `*.policy.password.complexity.changed` event: present keys changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PasswordComplexityChanges {
    #[serde(rename = "minLength", skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u64>,
    #[serde(rename = "hasLowercase", skip_serializing_if = "Option::is_none")]
    pub has_lowercase: Option<bool>,
    #[serde(rename = "hasUppercase", skip_serializing_if = "Option::is_none")]
    pub has_uppercase: Option<bool>,
    #[serde(rename = "hasNumber", skip_serializing_if = "Option::is_none")]
    pub has_number: Option<bool>,
    #[serde(rename = "hasSymbol", skip_serializing_if = "Option::is_none")]
    pub has_symbol: Option<bool>,
}

/// Where a password is being set: ZITADEL reports the same violation with
/// `COMMA-` ids when a user is created and `DOMAIN-` ids on a later set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasswordSet {
    UserCreation,
    Change,
}

/// The longest minimum a policy may ask for (bcrypt's limit upstream).
const MAX_MIN_LENGTH: u64 = 72;

impl PasswordComplexitySettings {
    /// Checks `password` in ZITADEL's order, stopping at the first failure.
    /// Length counts bytes; only ASCII letters and digits form classes, any
    /// other character is a symbol.
    pub fn check(&self, password: &str, at: PasswordSet) -> Result<(), DomainError> {
        let fail = |comma: &'static str, domain: &'static str, message: &'static str| {
            let id = match at {
                PasswordSet::UserCreation => comma,
                PasswordSet::Change => domain,
            };
            Err(DomainError::invalid(id, message))
        };
        let has = |f: fn(&u8) -> bool| password.as_bytes().iter().any(f);
        if (password.len() as u64) < self.min_length {
            return fail("COMMA-HuJf6", "DOMAIN-HuJf6", "Password is too short");
        }
        if self.has_lowercase && !has(u8::is_ascii_lowercase) {
            return fail("COMMA-co3Xw", "DOMAIN-co3Xw", "Password must contain lower case");
        }
        if self.has_uppercase && !has(u8::is_ascii_uppercase) {
            return fail("COMMA-VoaRj", "DOMAIN-VoaRj", "Password must contain upper case");
        }
        if self.has_number && !has(u8::is_ascii_digit) {
            return fail("COMMA-ZBv4H", "DOMAIN-ZBv4H", "Password must contain number");
        }
        if self.has_symbol && !has(|b| !b.is_ascii_alphanumeric()) {
            return fail("COMMA-ZDLwA", "DOMAIN-ZDLwA", "Password must contain symbol");
        }
        Ok(())
    }
}

impl ScopedPolicy for PasswordComplexitySettings {
    type Changes = PasswordComplexityChanges;
    const REFUSALS: Refusals = Refusals {
        org_missing: ("ORG-Dgs3g", "Password Complexity Policy not found"),
        reset_missing: ("ORG-ADgs2", "Password Complexity Policy not found"),
        org_exists: ("Org-LdhbS", "Password Complexity Policy already exists"),
        instance_unchanged: (
            "INSTANCE-9jlsf",
            "Default Password Complexity Policy has not been changed",
        ),
        org_unchanged: ("Org-DAs21", "Errors.Org.PasswordComplexityPolicy.NotChanged"),
    };
    const COLLECTION: Collection = Collection::PasswordComplexityPolicy;

    /// The default of a new instance (ZITADEL's).
    fn instance_default() -> Self {
        Self {
            min_length: 8,
            has_lowercase: true,
            has_uppercase: true,
            has_number: true,
            has_symbol: true,
        }
    }

    fn validate(&self) -> Result<(), DomainError> {
        if self.min_length == 0 || self.min_length > MAX_MIN_LENGTH {
            return Err(DomainError::invalid(
                "MODEL-Lsp0e",
                "Given minimum length is not allowed",
            ));
        }
        Ok(())
    }

    fn changes_to(&self, new: &Self) -> PasswordComplexityChanges {
        let diff = |old: bool, new: bool| (old != new).then_some(new);
        PasswordComplexityChanges {
            min_length: (self.min_length != new.min_length).then_some(new.min_length),
            has_lowercase: diff(self.has_lowercase, new.has_lowercase),
            has_uppercase: diff(self.has_uppercase, new.has_uppercase),
            has_number: diff(self.has_number, new.has_number),
            has_symbol: diff(self.has_symbol, new.has_symbol),
        }
    }

    fn apply(&mut self, c: &PasswordComplexityChanges) {
        if let Some(v) = c.min_length {
            self.min_length = v;
        }
        if let Some(v) = c.has_lowercase {
            self.has_lowercase = v;
        }
        if let Some(v) = c.has_uppercase {
            self.has_uppercase = v;
        }
        if let Some(v) = c.has_number {
            self.has_number = v;
        }
        if let Some(v) = c.has_symbol {
            self.has_symbol = v;
        }
    }

    scoped_policy_events!(
        InstancePasswordComplexityPolicyAdded,
        InstancePasswordComplexityPolicyChanged,
        OrgPasswordComplexityPolicyAdded,
        OrgPasswordComplexityPolicyChanged,
        OrgPasswordComplexityPolicyRemoved
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(min_length: u64, classes: bool) -> PasswordComplexitySettings {
        PasswordComplexitySettings {
            min_length,
            has_lowercase: classes,
            has_uppercase: classes,
            has_number: classes,
            has_symbol: classes,
        }
    }

    #[test]
    fn passwords_are_checked_in_order_with_the_id_of_where_they_are_set() {
        let strict = PasswordComplexitySettings::instance_default();
        // given policy, when password is set at, then the first failed rule
        let cases: &[(PasswordComplexitySettings, &str, PasswordSet, Option<&str>)] = &[
            (strict, "Secr3t!pass", PasswordSet::UserCreation, None),
            (strict, "S3c!a", PasswordSet::UserCreation, Some("COMMA-HuJf6")),
            (strict, "S3c!a", PasswordSet::Change, Some("DOMAIN-HuJf6")),
            (strict, "SECR3T!PASS", PasswordSet::Change, Some("DOMAIN-co3Xw")),
            (strict, "secr3t!pass", PasswordSet::UserCreation, Some("COMMA-VoaRj")),
            (strict, "secr3t!pass", PasswordSet::Change, Some("DOMAIN-VoaRj")),
            (strict, "Secret!pass", PasswordSet::Change, Some("DOMAIN-ZBv4H")),
            (strict, "Secr3tpass", PasswordSet::Change, Some("DOMAIN-ZDLwA")),
            // Non-ASCII letters and spaces are symbols, not letters.
            (strict, "Secr3t pass", PasswordSet::Change, None),
            (strict, "ÄÖÜ3äöüx", PasswordSet::Change, Some("DOMAIN-VoaRj")),
            // Length counts bytes: 4 characters, 8 bytes.
            (policy(8, false), "äöüß", PasswordSet::Change, None),
            (policy(8, false), "abcdefg", PasswordSet::Change, Some("DOMAIN-HuJf6")),
            (policy(1, false), "a", PasswordSet::UserCreation, None),
        ];
        for (p, pw, at, want) in cases {
            let got = p.check(pw, *at).err().map(|e| e.id.to_string());
            assert_eq!(got.as_deref(), *want, "{pw:?} at {at:?}");
        }
    }

    #[test]
    fn a_minimum_length_outside_1_to_72_is_refused() {
        for (min_length, ok) in [(0, false), (1, true), (72, true), (73, false)] {
            let got = policy(min_length, true).validate().err().map(|e| e.id);
            assert_eq!(got.is_none(), ok, "{min_length}: {got:?}");
        }
    }

    #[test]
    fn added_payload_omits_zero_values() {
        let json = serde_json::to_value(policy(8, false)).unwrap();
        assert_eq!(json, serde_json::json!({"minLength": 8}));
        let back: PasswordComplexitySettings = serde_json::from_value(json).unwrap();
        assert_eq!(back, policy(8, false));
    }
}
