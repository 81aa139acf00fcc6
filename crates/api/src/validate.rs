//! Request validation, worded as protoc-gen-validate words it in ZITADEL
//! (`invalid <Message>.<Field>: <reason>`, InvalidArgument, no details), so
//! clients matching on those texts keep working.

use prost_types::Duration;
use tonic::Status;
use twofold_domain::factors::{MultiFactor, SecondFactor};

use crate::convert;
use crate::error::invalid;

/// A PGV-style error for any rule (`invalid <Message>.<Field>: <reason>`).
pub fn invalid_field(message: &str, field: &str, reason: &str) -> Status {
    invalid(format!("invalid {message}.{field}: {reason}"))
}

/// An enum field with `not_in: [0]` and `defined_only`: 0 is rejected first.
fn required_enum<T>(message: &str, field: &str, value: i32, parse: impl Fn(i32) -> Option<T>) -> Result<T, Status> {
    if value == 0 {
        return Err(invalid_field(message, field, "value must not be in list [0]"));
    }
    parse(value).ok_or_else(|| invalid_field(message, field, "value must be one of the defined enum values"))
}

pub fn second_factor(message: &str, value: i32) -> Result<SecondFactor, Status> {
    required_enum(message, "Type", value, SecondFactor::from_i32)
}

/// `zitadel.authn.v1.KeyType`: only `KEY_TYPE_JSON`.
pub fn key_type(message: &str, value: i32) -> Result<i32, Status> {
    required_enum(message, "Type", value, |v| {
        (v == twofold_domain::app_key::KEY_TYPE_JSON).then_some(v)
    })
}

pub fn multi_factor(message: &str, value: i32) -> Result<MultiFactor, Status> {
    required_enum(message, "Type", value, MultiFactor::from_i32)
}

/// `defined_only` for an enum whose values are `0..=max`.
pub fn defined_enum(message: &str, field: &str, value: i32, max: i32) -> Result<i32, Status> {
    if (0..=max).contains(&value) {
        Ok(value)
    } else {
        Err(invalid_field(
            message,
            field,
            "value must be one of the defined enum values",
        ))
    }
}

/// A lifetime: absent means 0s; negative or absurdly long ones are refused.
pub fn lifetime(message: &str, field: &str, d: Option<&Duration>) -> Result<i64, Status> {
    convert::duration_nanos(d).ok_or_else(|| invalid_field(message, field, "value must be a duration of 0s or more"))
}

/// A string field with PGV `min_len`/`max_len` (counted in characters).
pub fn text<'a>(message: &str, field: &str, value: &'a str, min: usize, max: usize) -> Result<&'a str, Status> {
    let n = value.chars().count();
    if n >= min && n <= max {
        return Ok(value);
    }
    let reason = match (min, max) {
        (0, max) => format!("value length must be at most {max} runes"),
        (min, usize::MAX) => format!("value length must be at least {min} runes"),
        (min, max) => format!("value length must be between {min} and {max} runes, inclusive"),
    };
    Err(invalid_field(message, field, &reason))
}

/// An ID or name field: 1 to 200 characters, as ZITADEL's protos require.
pub fn id<'a>(message: &str, field: &str, value: &'a str) -> Result<&'a str, Status> {
    text(message, field, value, 1, 200)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_messages() {
        let m = "AddSecondFactorToLoginPolicyRequest";
        assert_eq!(
            second_factor(m, 0).unwrap_err().message(),
            "invalid AddSecondFactorToLoginPolicyRequest.Type: value must not be in list [0]"
        );
        assert_eq!(
            second_factor(m, 9).unwrap_err().message(),
            "invalid AddSecondFactorToLoginPolicyRequest.Type: value must be one of the defined enum values"
        );
        assert_eq!(second_factor(m, 3).unwrap(), SecondFactor::OtpEmail);
    }
}
