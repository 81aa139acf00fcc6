//! Domain values ⇄ protobuf messages.

use prost_types::{Duration, Timestamp as PbTimestamp};
use twofold_app::WriteDetails;
use twofold_app::members::MemberEntry;
use twofold_domain::Timestamp;
use twofold_domain::readmodel::DocDetails;
use twofold_domain::readmodel::directory::{OrgView, PatView, UserKind, UserState as DocUserState, UserView};
use twofold_domain::readmodel::login_policy::LoginPolicyView;
use twofold_proto::zitadel::member::v1 as member;
use twofold_proto::zitadel::object::v2 as object_v2;
use twofold_proto::zitadel::org::v1 as org;
use twofold_proto::zitadel::policy::v1 as policy;
use twofold_proto::zitadel::user::v1 as user;
use twofold_proto::zitadel::v1::{ListDetails, ObjectDetails};

const NANOS_PER_SEC: i64 = 1_000_000_000;

pub fn timestamp(t: Timestamp) -> PbTimestamp {
    PbTimestamp {
        seconds: t.0.div_euclid(1_000_000),
        nanos: (t.0.rem_euclid(1_000_000) * 1_000) as i32,
    }
}

pub fn duration(nanos: i64) -> Duration {
    Duration {
        seconds: nanos / NANOS_PER_SEC,
        nanos: (nanos % NANOS_PER_SEC) as i32,
    }
}

/// A request duration in nanoseconds; None when negative or too long to hold.
pub fn duration_nanos(d: Option<&Duration>) -> Option<i64> {
    let Some(d) = d else { return Some(0) };
    let nanos = d.seconds.checked_mul(NANOS_PER_SEC)?.checked_add(i64::from(d.nanos))?;
    (nanos >= 0).then_some(nanos)
}

/// Details of an add-style response: creation date only.
pub fn added(d: WriteDetails) -> Option<ObjectDetails> {
    Some(ObjectDetails {
        sequence: d.sequence,
        creation_date: Some(timestamp(d.date)),
        change_date: None,
        resource_owner: d.resource_owner,
    })
}

/// Details of a change/remove-style response: change date only.
pub fn changed(d: WriteDetails) -> Option<ObjectDetails> {
    Some(ObjectDetails {
        sequence: d.sequence,
        creation_date: None,
        change_date: Some(timestamp(d.date)),
        resource_owner: d.resource_owner,
    })
}

/// Details of a read model.
pub fn read(d: &DocDetails) -> Option<ObjectDetails> {
    Some(ObjectDetails {
        sequence: d.sequence,
        creation_date: Some(timestamp(d.creation_date)),
        change_date: Some(timestamp(d.change_date)),
        resource_owner: d.resource_owner.clone(),
    })
}

/// List details: read models are current when read, so the view time is now.
pub fn list(total: usize) -> Option<ListDetails> {
    Some(ListDetails {
        total_result: total as u64,
        processed_sequence: 0,
        view_timestamp: Some(timestamp(twofold_app::clock::now())),
    })
}

/// v2 `Details` of a write: sequence, change date, resource owner.
pub fn v2_changed(d: WriteDetails) -> Option<object_v2::Details> {
    Some(object_v2::Details {
        sequence: d.sequence,
        change_date: Some(timestamp(d.date)),
        resource_owner: d.resource_owner,
        creation_date: None,
    })
}

/// v2 `Details` of a read model (both dates).
pub fn v2_read(d: &DocDetails) -> Option<object_v2::Details> {
    Some(object_v2::Details {
        sequence: d.sequence,
        change_date: Some(timestamp(d.change_date)),
        resource_owner: d.resource_owner.clone(),
        creation_date: Some(timestamp(d.creation_date)),
    })
}

/// v2 `ListDetails`: read models are current when read.
pub fn v2_list(total: usize) -> Option<object_v2::ListDetails> {
    Some(object_v2::ListDetails {
        total_result: total as u64,
        processed_sequence: 0,
        timestamp: Some(timestamp(twofold_app::clock::now())),
    })
}

pub fn login_policy(v: &LoginPolicyView) -> policy::LoginPolicy {
    let s = &v.settings;
    policy::LoginPolicy {
        details: read(&v.details),
        allow_username_password: s.allow_username_password,
        allow_register: s.allow_register,
        allow_external_idp: s.allow_external_idp,
        force_mfa: s.force_mfa,
        passwordless_type: s.passwordless_type,
        is_default: v.is_default,
        hide_password_reset: s.hide_password_reset,
        ignore_unknown_usernames: s.ignore_unknown_usernames,
        default_redirect_uri: s.default_redirect_uri.clone(),
        password_check_lifetime: Some(duration(s.password_check_lifetime)),
        external_login_check_lifetime: Some(duration(s.external_login_check_lifetime)),
        mfa_init_skip_lifetime: Some(duration(s.mfa_init_skip_lifetime)),
        second_factor_check_lifetime: Some(duration(s.second_factor_check_lifetime)),
        multi_factor_check_lifetime: Some(duration(s.multi_factor_check_lifetime)),
        second_factors: v.second_factors.iter().map(|f| i32::from(*f)).collect(),
        multi_factors: v.multi_factors.iter().map(|f| i32::from(*f)).collect(),
        idps: vec![],
        allow_domain_discovery: s.allow_domain_discovery,
        disable_login_with_email: s.disable_login_with_email,
        disable_login_with_phone: s.disable_login_with_phone,
        force_mfa_local_only: s.force_mfa_local_only,
    }
}

pub fn org(o: OrgView) -> org::Org {
    org::Org {
        id: o.id.into_string(),
        details: read(&o.details),
        state: org::OrgState::Active as i32,
        name: o.name,
        primary_domain: o.primary_domain,
    }
}

pub fn user(u: UserView) -> user::User {
    let r#type = match u.kind {
        UserKind::Machine {
            name,
            description,
            access_token_type,
        } => user::user::Type::Machine(user::Machine {
            name,
            description,
            has_secret: false,
            access_token_type,
        }),
        UserKind::Human(_) => user::user::Type::Human(user::Human {}),
    };
    user::User {
        id: u.id.into_string(),
        details: read(&u.details),
        state: match u.state {
            DocUserState::Active => user::UserState::Active,
            DocUserState::Inactive => user::UserState::Inactive,
            DocUserState::Locked => user::UserState::Locked,
        } as i32,
        login_names: vec![u.user_name.clone()],
        preferred_login_name: u.user_name.clone(),
        user_name: u.user_name,
        r#type: Some(r#type),
    }
}

pub fn member(e: MemberEntry) -> member::Member {
    let m = e.member;
    let mut out = member::Member {
        user_id: m.user_id.into_string(),
        details: read(&m.details),
        roles: m.roles,
        ..Default::default()
    };
    if let Some(u) = e.user {
        out.preferred_login_name = u.user_name.clone();
        out.user_resource_owner = u.org_id.into_string();
        match u.kind {
            UserKind::Machine { name, .. } => {
                out.display_name = name;
                out.user_type = user::Type::Machine as i32;
            }
            UserKind::Human(h) => {
                out.display_name = h.display_name;
                out.first_name = h.given_name;
                out.last_name = h.family_name;
                out.email = h.email;
                out.user_type = user::Type::Human as i32;
            }
        }
    }
    out
}

pub fn pat(p: PatView) -> user::PersonalAccessToken {
    user::PersonalAccessToken {
        id: p.token_id,
        details: read(&p.details),
        expiration_date: Some(timestamp(p.expiration)),
        scopes: p.scopes,
    }
}

/// A user's READY factors, as ZITADEL lists them (TOTP, U2F, SMS, email).
pub fn auth_factors(f: &twofold_domain::readmodel::directory::FactorsView) -> Vec<user::AuthFactor> {
    use twofold_domain::readmodel::directory::Readiness;
    use user::auth_factor::Type;
    let ready = |t| user::AuthFactor {
        state: user::AuthFactorState::Ready as i32,
        r#type: Some(t),
    };
    let mut result = Vec::new();
    if f.totp == Some(Readiness::Ready) {
        result.push(ready(Type::Otp(user::AuthFactorOtp {})));
    }
    for t in f.u2f.iter().filter(|t| t.readiness == Readiness::Ready) {
        result.push(ready(Type::U2f(user::AuthFactorU2f {
            id: t.id.clone(),
            name: t.name.clone(),
        })));
    }
    if f.otp_sms {
        result.push(ready(Type::OtpSms(user::AuthFactorOtpsms {})));
    }
    if f.otp_email {
        result.push(ready(Type::OtpEmail(user::AuthFactorOtpEmail {})));
    }
    result
}

/// `google.protobuf.Struct` → JSON object.
pub fn struct_to_json(s: prost_types::Struct) -> serde_json::Value {
    serde_json::Value::Object(s.fields.into_iter().map(|(k, v)| (k, value_to_json(v))).collect())
}

fn value_to_json(v: prost_types::Value) -> serde_json::Value {
    use prost_types::value::Kind;
    match v.kind {
        None | Some(Kind::NullValue(_)) => serde_json::Value::Null,
        Some(Kind::BoolValue(b)) => b.into(),
        Some(Kind::NumberValue(n)) => serde_json::Number::from_f64(n).map_or(serde_json::Value::Null, Into::into),
        Some(Kind::StringValue(s)) => s.into(),
        Some(Kind::ListValue(l)) => l.values.into_iter().map(value_to_json).collect(),
        Some(Kind::StructValue(s)) => struct_to_json(s),
    }
}

/// JSON object → `google.protobuf.Struct` (non-objects give an empty Struct).
pub fn json_to_struct(v: serde_json::Value) -> prost_types::Struct {
    match json_to_value(v).kind {
        Some(prost_types::value::Kind::StructValue(s)) => s,
        _ => prost_types::Struct::default(),
    }
}

fn json_to_value(v: serde_json::Value) -> prost_types::Value {
    use prost_types::value::Kind;
    let kind = match v {
        serde_json::Value::Null => Kind::NullValue(0),
        serde_json::Value::Bool(b) => Kind::BoolValue(b),
        serde_json::Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or_default()),
        serde_json::Value::String(s) => Kind::StringValue(s),
        serde_json::Value::Array(a) => Kind::ListValue(prost_types::ListValue {
            values: a.into_iter().map(json_to_value).collect(),
        }),
        serde_json::Value::Object(o) => Kind::StructValue(prost_types::Struct {
            fields: o.into_iter().map(|(k, v)| (k, json_to_value(v))).collect(),
        }),
    };
    prost_types::Value { kind: Some(kind) }
}

/// A request timestamp in microseconds (sub-microsecond digits are dropped).
pub fn from_timestamp(t: &PbTimestamp) -> Timestamp {
    Timestamp(
        t.seconds
            .saturating_mul(1_000_000)
            .saturating_add(i64::from(t.nanos) / 1_000),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_and_durations() {
        let t = timestamp(Timestamp(1_700_000_000_123_456));
        assert_eq!((t.seconds, t.nanos), (1_700_000_000, 123_456_000));
        let d = duration(64_800 * NANOS_PER_SEC);
        assert_eq!((d.seconds, d.nanos), (64_800, 0));
        assert_eq!(duration_nanos(Some(&Duration { seconds: -1, nanos: 0 })), None);
        assert_eq!(
            duration_nanos(Some(&Duration {
                seconds: i64::MAX,
                nanos: 0
            })),
            None
        );
        assert_eq!(duration_nanos(None), Some(0));
    }
}
