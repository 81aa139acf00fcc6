//! Login policy: which ways of signing in are allowed, and which second and
//! multi factors users may use. The instance has one default policy; an org
//! may replace it with a custom one (see [`crate::readmodel::login_policy`]).

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::event::{EventPayload, MfaTypePayload};
use crate::factors::{MultiFactor, SecondFactor};
use crate::scope::Scope;

const HOUR_NS: i64 = 3_600 * 1_000_000_000;

fn is_false(b: &bool) -> bool {
    !*b
}
fn is_zero(n: &i64) -> bool {
    *n == 0
}
fn is_zero_i32(n: &i32) -> bool {
    *n == 0
}

/// The policy's settings (everything except the factor lists). Durations are
/// nanoseconds, as ZITADEL stores them; zero values are left out of events.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LoginPolicySettings {
    #[serde(skip_serializing_if = "is_false")]
    pub allow_username_password: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub allow_register: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub allow_external_idp: bool,
    #[serde(rename = "forceMFA", skip_serializing_if = "is_false")]
    pub force_mfa: bool,
    #[serde(rename = "forceMFALocalOnly", skip_serializing_if = "is_false")]
    pub force_mfa_local_only: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub hide_password_reset: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub ignore_unknown_usernames: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub allow_domain_discovery: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub disable_login_with_email: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub disable_login_with_phone: bool,
    /// 0 not allowed, 1 allowed.
    #[serde(skip_serializing_if = "is_zero_i32")]
    pub passwordless_type: i32,
    #[serde(rename = "defaultRedirectURI", skip_serializing_if = "String::is_empty")]
    pub default_redirect_uri: String,
    #[serde(skip_serializing_if = "is_zero")]
    pub password_check_lifetime: i64,
    #[serde(skip_serializing_if = "is_zero")]
    pub external_login_check_lifetime: i64,
    #[serde(skip_serializing_if = "is_zero")]
    pub mfa_init_skip_lifetime: i64,
    #[serde(skip_serializing_if = "is_zero")]
    pub second_factor_check_lifetime: i64,
    #[serde(skip_serializing_if = "is_zero")]
    pub multi_factor_check_lifetime: i64,
}

impl LoginPolicySettings {
    /// The default policy every new instance starts with (ZITADEL's defaults).
    pub fn instance_default() -> Self {
        Self {
            allow_username_password: true,
            allow_register: true,
            allow_external_idp: true,
            allow_domain_discovery: true,
            passwordless_type: 1,
            password_check_lifetime: 240 * HOUR_NS,
            external_login_check_lifetime: 240 * HOUR_NS,
            mfa_init_skip_lifetime: 720 * HOUR_NS,
            second_factor_check_lifetime: 18 * HOUR_NS,
            multi_factor_check_lifetime: 12 * HOUR_NS,
            ..Self::default()
        }
    }

    /// The fields that differ from `self` in `new`; None when nothing differs.
    fn changes_to(&self, new: &Self) -> Option<LoginPolicyChanges> {
        fn diff<T: PartialEq + Clone>(old: &T, new: &T) -> Option<T> {
            (old != new).then(|| new.clone())
        }
        let c = LoginPolicyChanges {
            allow_username_password: diff(&self.allow_username_password, &new.allow_username_password),
            allow_register: diff(&self.allow_register, &new.allow_register),
            allow_external_idp: diff(&self.allow_external_idp, &new.allow_external_idp),
            force_mfa: diff(&self.force_mfa, &new.force_mfa),
            force_mfa_local_only: diff(&self.force_mfa_local_only, &new.force_mfa_local_only),
            hide_password_reset: diff(&self.hide_password_reset, &new.hide_password_reset),
            ignore_unknown_usernames: diff(&self.ignore_unknown_usernames, &new.ignore_unknown_usernames),
            allow_domain_discovery: diff(&self.allow_domain_discovery, &new.allow_domain_discovery),
            disable_login_with_email: diff(&self.disable_login_with_email, &new.disable_login_with_email),
            disable_login_with_phone: diff(&self.disable_login_with_phone, &new.disable_login_with_phone),
            passwordless_type: diff(&self.passwordless_type, &new.passwordless_type),
            default_redirect_uri: diff(&self.default_redirect_uri, &new.default_redirect_uri),
            password_check_lifetime: diff(&self.password_check_lifetime, &new.password_check_lifetime),
            external_login_check_lifetime: diff(
                &self.external_login_check_lifetime,
                &new.external_login_check_lifetime,
            ),
            mfa_init_skip_lifetime: diff(&self.mfa_init_skip_lifetime, &new.mfa_init_skip_lifetime),
            second_factor_check_lifetime: diff(&self.second_factor_check_lifetime, &new.second_factor_check_lifetime),
            multi_factor_check_lifetime: diff(&self.multi_factor_check_lifetime, &new.multi_factor_check_lifetime),
        };
        (c != LoginPolicyChanges::default()).then_some(c)
    }

    pub fn apply(&mut self, c: &LoginPolicyChanges) {
        fn set<T: Clone>(field: &mut T, v: &Option<T>) {
            if let Some(v) = v {
                *field = v.clone();
            }
        }
        set(&mut self.allow_username_password, &c.allow_username_password);
        set(&mut self.allow_register, &c.allow_register);
        set(&mut self.allow_external_idp, &c.allow_external_idp);
        set(&mut self.force_mfa, &c.force_mfa);
        set(&mut self.force_mfa_local_only, &c.force_mfa_local_only);
        set(&mut self.hide_password_reset, &c.hide_password_reset);
        set(&mut self.ignore_unknown_usernames, &c.ignore_unknown_usernames);
        set(&mut self.allow_domain_discovery, &c.allow_domain_discovery);
        set(&mut self.disable_login_with_email, &c.disable_login_with_email);
        set(&mut self.disable_login_with_phone, &c.disable_login_with_phone);
        set(&mut self.passwordless_type, &c.passwordless_type);
        set(&mut self.default_redirect_uri, &c.default_redirect_uri);
        set(&mut self.password_check_lifetime, &c.password_check_lifetime);
        set(
            &mut self.external_login_check_lifetime,
            &c.external_login_check_lifetime,
        );
        set(&mut self.mfa_init_skip_lifetime, &c.mfa_init_skip_lifetime);
        set(&mut self.second_factor_check_lifetime, &c.second_factor_check_lifetime);
        set(&mut self.multi_factor_check_lifetime, &c.multi_factor_check_lifetime);
    }
}

/// Payload of a `*.policy.login.changed` event: a key is present iff that
/// field changed (even when the new value is false or zero).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LoginPolicyChanges {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_username_password: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_register: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_external_idp: Option<bool>,
    #[serde(rename = "forceMFA", skip_serializing_if = "Option::is_none")]
    pub force_mfa: Option<bool>,
    #[serde(rename = "forceMFALocalOnly", skip_serializing_if = "Option::is_none")]
    pub force_mfa_local_only: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hide_password_reset: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignore_unknown_usernames: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_domain_discovery: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disable_login_with_email: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disable_login_with_phone: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passwordless_type: Option<i32>,
    #[serde(rename = "defaultRedirectURI", skip_serializing_if = "Option::is_none")]
    pub default_redirect_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_check_lifetime: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_login_check_lifetime: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mfa_init_skip_lifetime: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub second_factor_check_lifetime: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multi_factor_check_lifetime: Option<i64>,
}

/// The two scopes of a policy share every rule and differ in event names
/// and error ids (ZITADEL's, kept for compatibility).
impl Scope {
    fn second_factor_exists(self) -> DomainError {
        match self {
            Self::Instance => DomainError::already_exists("INSTANCE-2B0ps", "Errors.Instance.MFA.AlreadyExists"),
            Self::Org => DomainError::already_exists("Org-2B0ps", "Multifactor already exists"),
        }
    }
    fn multi_factor_exists(self) -> DomainError {
        match self {
            Self::Instance => DomainError::already_exists("INSTANCE-3M9od", "Errors.Instance.MFA.AlreadyExists"),
            Self::Org => DomainError::already_exists("Org-3M9od", "Multifactor already exists"),
        }
    }
    fn second_factor_missing(self) -> DomainError {
        match self {
            Self::Instance => DomainError::not_found("INSTANCE-3M9od", "Multifactor not existing"),
            Self::Org => DomainError::not_found("Org-3M9od", "Multifactor not existing"),
        }
    }
    fn multi_factor_missing(self) -> DomainError {
        match self {
            Self::Instance => DomainError::not_found("INSTANCE-3M9df", "Multifactor not existing"),
            Self::Org => DomainError::not_found("Org-3M9df", "Multifactor not existing"),
        }
    }
    fn redirect_invalid(self) -> DomainError {
        match self {
            Self::Instance => DomainError::invalid("IAM-SFdqd", "Default Redirect URI is invalid"),
            Self::Org => DomainError::invalid("Org-Sfd21", "Default Redirect URI is invalid"),
        }
    }
    fn policy_missing(self) -> DomainError {
        match self {
            Self::Instance => DomainError::not_found("INSTANCE-M0sif", "Default Login Policy not found"),
            Self::Org => DomainError::not_found("Org-M0sif", "Login Policy not found"),
        }
    }
    fn not_changed(self) -> DomainError {
        match self {
            Self::Instance => DomainError::precondition("INSTANCE-5M9vdd", "Default Login Policy has not been changed"),
            Self::Org => DomainError::precondition("Org-5M9vdd", "Errors.Org.LoginPolicy.NotChanged"),
        }
    }

    /// Factor lists of an org can only change once the org has its own
    /// policy. ZITADEL accepts such calls and stores an event nobody sees
    /// (its issue #9047); Twofold refuses them and stores nothing.
    fn require_policy(self, state: &LoginPolicyState) -> Result<(), DomainError> {
        match self {
            Self::Org if !state.exists => Err(DomainError::precondition(
                "Org-4Rf9x",
                "The organization uses the instance's default login policy, so its factors cannot be changed \
                 here: add a custom login policy first (POST /management/v1/policies/login), or change the \
                 default with the Admin API",
            )),
            _ => Ok(()),
        }
    }

    fn changed_event(self, c: LoginPolicyChanges) -> EventPayload {
        match self {
            Self::Instance => EventPayload::InstanceLoginPolicyChanged(c),
            Self::Org => EventPayload::OrgLoginPolicyChanged(c),
        }
    }
    fn second_factor_event(self, added: bool, f: SecondFactor) -> EventPayload {
        let p = MfaTypePayload { mfa_type: f };
        match (self, added) {
            (Self::Instance, true) => EventPayload::InstanceSecondFactorAdded(p),
            (Self::Instance, false) => EventPayload::InstanceSecondFactorRemoved(p),
            (Self::Org, true) => EventPayload::OrgSecondFactorAdded(p),
            (Self::Org, false) => EventPayload::OrgSecondFactorRemoved(p),
        }
    }
    fn multi_factor_event(self, added: bool, f: MultiFactor) -> EventPayload {
        let p = MfaTypePayload { mfa_type: f };
        match (self, added) {
            (Self::Instance, true) => EventPayload::InstanceMultiFactorAdded(p),
            (Self::Instance, false) => EventPayload::InstanceMultiFactorRemoved(p),
            (Self::Org, true) => EventPayload::OrgMultiFactorAdded(p),
            (Self::Org, false) => EventPayload::OrgMultiFactorRemoved(p),
        }
    }
}

/// A login-policy event of either scope, seen through the one shape the fold needs.
enum PolicyChange<'a> {
    Added(&'a LoginPolicySettings),
    Changed(&'a LoginPolicyChanges),
    /// The org went back to the instance default: settings and factors reset.
    Removed,
    SecondFactor(SecondFactor, bool),
    MultiFactor(MultiFactor, bool),
}

fn policy_change(scope: Scope, e: &EventPayload) -> Option<PolicyChange<'_>> {
    use EventPayload as E;
    match (scope, e) {
        (Scope::Instance, E::InstanceLoginPolicyAdded(s)) => Some(PolicyChange::Added(s)),
        (Scope::Instance, E::InstanceLoginPolicyChanged(c)) => Some(PolicyChange::Changed(c)),
        (Scope::Instance, E::InstanceSecondFactorAdded(p)) => Some(PolicyChange::SecondFactor(p.mfa_type, true)),
        (Scope::Instance, E::InstanceSecondFactorRemoved(p)) => Some(PolicyChange::SecondFactor(p.mfa_type, false)),
        (Scope::Instance, E::InstanceMultiFactorAdded(p)) => Some(PolicyChange::MultiFactor(p.mfa_type, true)),
        (Scope::Instance, E::InstanceMultiFactorRemoved(p)) => Some(PolicyChange::MultiFactor(p.mfa_type, false)),
        (Scope::Org, E::OrgLoginPolicyAdded(s)) => Some(PolicyChange::Added(s)),
        (Scope::Org, E::OrgLoginPolicyChanged(c)) => Some(PolicyChange::Changed(c)),
        (Scope::Org, E::OrgLoginPolicyRemoved) => Some(PolicyChange::Removed),
        (Scope::Org, E::OrgSecondFactorAdded(p)) => Some(PolicyChange::SecondFactor(p.mfa_type, true)),
        (Scope::Org, E::OrgSecondFactorRemoved(p)) => Some(PolicyChange::SecondFactor(p.mfa_type, false)),
        (Scope::Org, E::OrgMultiFactorAdded(p)) => Some(PolicyChange::MultiFactor(p.mfa_type, true)),
        (Scope::Org, E::OrgMultiFactorRemoved(p)) => Some(PolicyChange::MultiFactor(p.mfa_type, false)),
        _ => None,
    }
}

/// Whether `e` is an event of the `scope`'s login policy.
pub fn is_policy_event(scope: Scope, e: &EventPayload) -> bool {
    policy_change(scope, e).is_some()
}

/// State of one login policy folded from its aggregate's events.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoginPolicyState {
    pub exists: bool,
    pub settings: LoginPolicySettings,
    /// Active factors in the order they were added.
    pub second_factors: Vec<SecondFactor>,
    pub multi_factors: Vec<MultiFactor>,
}

impl LoginPolicyState {
    pub fn fold<'a>(scope: Scope, events: impl IntoIterator<Item = &'a EventPayload>) -> Self {
        let mut s = Self::default();
        for e in events {
            s.apply(scope, e);
        }
        s
    }

    pub fn apply(&mut self, scope: Scope, e: &EventPayload) {
        match policy_change(scope, e) {
            Some(PolicyChange::Added(settings)) => {
                self.exists = true;
                self.settings = settings.clone();
            }
            Some(PolicyChange::Changed(c)) => self.settings.apply(c),
            Some(PolicyChange::Removed) => *self = Self::default(),
            Some(PolicyChange::SecondFactor(f, added)) => toggle(&mut self.second_factors, f, added),
            Some(PolicyChange::MultiFactor(f, added)) => toggle(&mut self.multi_factors, f, added),
            None => {}
        }
    }
}

fn toggle<T: PartialEq>(list: &mut Vec<T>, item: T, on: bool) {
    list.retain(|x| *x != item);
    if on {
        list.push(item);
    }
}

pub fn decide_add_second_factor(
    scope: Scope,
    state: &LoginPolicyState,
    f: SecondFactor,
) -> Result<Vec<EventPayload>, DomainError> {
    scope.require_policy(state)?;
    if state.second_factors.contains(&f) {
        return Err(scope.second_factor_exists());
    }
    Ok(vec![scope.second_factor_event(true, f)])
}

pub fn decide_remove_second_factor(
    scope: Scope,
    state: &LoginPolicyState,
    f: SecondFactor,
) -> Result<Vec<EventPayload>, DomainError> {
    scope.require_policy(state)?;
    if !state.second_factors.contains(&f) {
        return Err(scope.second_factor_missing());
    }
    Ok(vec![scope.second_factor_event(false, f)])
}

pub fn decide_add_multi_factor(
    scope: Scope,
    state: &LoginPolicyState,
    f: MultiFactor,
) -> Result<Vec<EventPayload>, DomainError> {
    scope.require_policy(state)?;
    if state.multi_factors.contains(&f) {
        return Err(scope.multi_factor_exists());
    }
    Ok(vec![scope.multi_factor_event(true, f)])
}

pub fn decide_remove_multi_factor(
    scope: Scope,
    state: &LoginPolicyState,
    f: MultiFactor,
) -> Result<Vec<EventPayload>, DomainError> {
    scope.require_policy(state)?;
    if !state.multi_factors.contains(&f) {
        return Err(scope.multi_factor_missing());
    }
    Ok(vec![scope.multi_factor_event(false, f)])
}

/// Full replacement of the settings: every field of `new` counts, and an
/// update that changes nothing is an error rather than a silent no-op.
pub fn decide_update(
    scope: Scope,
    state: &LoginPolicyState,
    new: LoginPolicySettings,
) -> Result<Vec<EventPayload>, DomainError> {
    if !redirect_uri_is_valid(&new.default_redirect_uri) {
        return Err(scope.redirect_invalid());
    }
    if !state.exists {
        return Err(scope.policy_missing());
    }
    let changes = state.settings.changes_to(&new).ok_or_else(|| scope.not_changed())?;
    Ok(vec![scope.changed_event(changes)])
}

/// An org's own policy, built from the request alone: nothing is copied
/// from the instance default. Factor numbers are checked here because the
/// request carries them as plain lists.
pub fn decide_add_custom(
    state: &LoginPolicyState,
    settings: LoginPolicySettings,
    second_factors: &[i32],
    multi_factors: &[i32],
    idp_count: usize,
) -> Result<Vec<EventPayload>, DomainError> {
    if !redirect_uri_is_valid(&settings.default_redirect_uri) {
        return Err(DomainError::invalid("Org-WSfdq", "Default Redirect URI is invalid"));
    }
    let second = second_factors
        .iter()
        .map(|n| SecondFactor::from_i32(*n).ok_or_else(|| DomainError::invalid("Org-SFeea", "Multifactor invalid")))
        .collect::<Result<Vec<_>, _>>()?;
    let multi = multi_factors
        .iter()
        .map(|n| MultiFactor::from_i32(*n).ok_or_else(|| DomainError::invalid("Org-WSfrg", "Multifactor invalid")))
        .collect::<Result<Vec<_>, _>>()?;
    if state.exists {
        return Err(DomainError::already_exists("Org-Dgfb2", "Login Policy already exists"));
    }
    if idp_count > 0 {
        // Twofold has no external identity providers to link.
        return Err(DomainError::precondition(
            "Org-FEd32",
            "Identity Provider Configuration doesn't exist",
        ));
    }
    let mut events = vec![EventPayload::OrgLoginPolicyAdded(settings)];
    events.extend(second.into_iter().map(|f| Scope::Org.second_factor_event(true, f)));
    events.extend(multi.into_iter().map(|f| Scope::Org.multi_factor_event(true, f)));
    Ok(events)
}

/// Back to the instance default: the org's policy and factors are dropped.
pub fn decide_reset(state: &LoginPolicyState) -> Result<Vec<EventPayload>, DomainError> {
    if !state.exists {
        return Err(DomainError::not_found("Org-GHB37", "Login Policy not found"));
    }
    Ok(vec![EventPayload::OrgLoginPolicyRemoved])
}

/// Empty, or an absolute URI with a scheme; http(s) URIs also need a host.
/// Other schemes are app deep links (`myapp://callback`) and are accepted.
pub fn redirect_uri_is_valid(uri: &str) -> bool {
    if uri.is_empty() {
        return true;
    }
    let Some((scheme, rest)) = uri.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    let scheme_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !scheme_ok || uri.chars().any(char::is_whitespace) {
        return false;
    }
    if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https") {
        let Some(authority) = rest.strip_prefix("//") else {
            return false;
        };
        let authority = authority.split(['/', '?', '#']).next().unwrap_or("");
        let host_port = authority.rsplit('@').next().unwrap_or("");
        let host = if host_port.starts_with('[') {
            host_port.split(']').next().unwrap_or("").trim_start_matches('[')
        } else {
            host_port.split(':').next().unwrap_or("")
        };
        return !host.is_empty();
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use Scope::Instance;
    use SecondFactor::*;

    /// Given events, when a command with this factor, then events or an error id.
    type Case = (Vec<EventPayload>, SecondFactor, Result<Vec<EventPayload>, &'static str>);

    fn given(events: &[EventPayload]) -> LoginPolicyState {
        LoginPolicyState::fold(Instance, events)
    }
    fn added(f: SecondFactor) -> EventPayload {
        EventPayload::InstanceSecondFactorAdded(MfaTypePayload { mfa_type: f })
    }
    fn removed(f: SecondFactor) -> EventPayload {
        EventPayload::InstanceSecondFactorRemoved(MfaTypePayload { mfa_type: f })
    }

    #[test]
    fn add_second_factor_table() {
        let cases: Vec<Case> = vec![
            (vec![], Otp, Ok(vec![added(Otp)])),
            (vec![added(Otp)], Otp, Err("INSTANCE-2B0ps")),
            (vec![added(Otp), removed(Otp)], Otp, Ok(vec![added(Otp)])),
            (vec![added(U2f)], OtpSms, Ok(vec![added(OtpSms)])),
        ];
        for (events, f, then) in cases {
            let got = decide_add_second_factor(Instance, &given(&events), f);
            match then {
                Ok(expected) => assert_eq!(got.unwrap(), expected),
                Err(id) => assert_eq!(got.unwrap_err().id, id),
            }
        }
    }

    #[test]
    fn remove_second_factor_table() {
        let cases: Vec<Case> = vec![
            (vec![], Otp, Err("INSTANCE-3M9od")),
            (vec![added(Otp)], Otp, Ok(vec![removed(Otp)])),
            (vec![added(Otp), removed(Otp)], Otp, Err("INSTANCE-3M9od")),
        ];
        for (events, f, then) in cases {
            let got = decide_remove_second_factor(Instance, &given(&events), f);
            match then {
                Ok(expected) => assert_eq!(got.unwrap(), expected),
                Err(id) => {
                    let e = got.unwrap_err();
                    assert_eq!((e.kind, e.id.as_ref()), (ErrorKind::NotFound, id));
                }
            }
        }
    }

    #[test]
    fn multi_factor_errors_use_their_own_ids() {
        let mf = MultiFactor::U2fWithVerification;
        let on = vec![EventPayload::InstanceMultiFactorAdded(MfaTypePayload { mfa_type: mf })];
        assert_eq!(
            decide_add_multi_factor(Instance, &given(&on), mf).unwrap_err().id,
            "INSTANCE-3M9od"
        );
        assert_eq!(
            decide_remove_multi_factor(Instance, &given(&[]), mf).unwrap_err().id,
            "INSTANCE-3M9df"
        );
    }

    #[test]
    fn factor_order_is_insertion_order() {
        let s = given(&[added(U2f), added(Otp), removed(U2f), added(U2f)]);
        assert_eq!(s.second_factors, vec![Otp, U2f]);
    }

    #[test]
    fn update_is_full_replacement_and_reports_only_changes() {
        let s = given(&[EventPayload::InstanceLoginPolicyAdded(
            LoginPolicySettings::instance_default(),
        )]);
        let mut new = LoginPolicySettings::instance_default();
        new.force_mfa = true;
        new.allow_register = false;
        let events = decide_update(Instance, &s, new).unwrap();
        let (_, payload) = events[0].to_parts();
        assert_eq!(
            payload.unwrap(),
            serde_json::json!({"allowRegister": false, "forceMFA": true})
        );
    }

    #[test]
    fn identical_update_is_rejected() {
        let s = given(&[EventPayload::InstanceLoginPolicyAdded(
            LoginPolicySettings::instance_default(),
        )]);
        let e = decide_update(Instance, &s, LoginPolicySettings::instance_default()).unwrap_err();
        assert_eq!(
            (e.kind, e.id.as_ref()),
            (ErrorKind::FailedPrecondition, "INSTANCE-5M9vdd")
        );
    }

    #[test]
    fn update_without_policy_is_not_found() {
        let e = decide_update(Instance, &given(&[]), LoginPolicySettings::default()).unwrap_err();
        assert_eq!(e.id, "INSTANCE-M0sif");
    }

    #[test]
    fn org_factor_changes_need_a_custom_policy() {
        let none = LoginPolicyState::default();
        let e = decide_add_second_factor(Scope::Org, &none, Otp).unwrap_err();
        assert_eq!((e.kind, e.id.as_ref()), (ErrorKind::FailedPrecondition, "Org-4Rf9x"));
        let e = decide_remove_multi_factor(Scope::Org, &none, MultiFactor::U2fWithVerification).unwrap_err();
        assert_eq!(e.id, "Org-4Rf9x");
    }

    #[test]
    fn custom_policy_starts_from_the_request_and_resets() {
        let none = LoginPolicyState::default();
        let events = decide_add_custom(&none, LoginPolicySettings::default(), &[2], &[], 0).unwrap();
        let state = LoginPolicyState::fold(Scope::Org, &events);
        assert!(state.exists);
        assert_eq!(state.second_factors, vec![U2f]);
        assert_eq!(state.settings, LoginPolicySettings::default());
        assert_eq!(
            decide_add_custom(&state, LoginPolicySettings::default(), &[], &[], 0)
                .unwrap_err()
                .id,
            "Org-Dgfb2"
        );
        assert_eq!(
            decide_add_custom(&none, LoginPolicySettings::default(), &[0], &[], 0)
                .unwrap_err()
                .id,
            "Org-SFeea"
        );
        assert_eq!(
            decide_add_custom(&none, LoginPolicySettings::default(), &[], &[5], 0)
                .unwrap_err()
                .id,
            "Org-WSfrg"
        );
        let reset = decide_reset(&state).unwrap();
        let mut all = events.clone();
        all.extend(reset);
        let after = LoginPolicyState::fold(Scope::Org, &all);
        assert_eq!(after, LoginPolicyState::default());
        assert_eq!(decide_reset(&after).unwrap_err().id, "Org-GHB37");
    }

    #[test]
    fn redirect_uris() {
        for ok in [
            "",
            "https://example.com/cb",
            "http://localhost:3000",
            "myapp://callback",
            "https://[::1]:8080/",
        ] {
            assert!(redirect_uri_is_valid(ok), "{ok}");
        }
        for bad in [
            "example.com",
            "https:///path",
            "http://",
            "1http://x",
            "https://exa mple.com",
        ] {
            assert!(!redirect_uri_is_valid(bad), "{bad}");
        }
    }

    #[test]
    fn default_settings_event_omits_zero_values() {
        let (_, payload) = EventPayload::InstanceLoginPolicyAdded(LoginPolicySettings::instance_default()).to_parts();
        let p = payload.unwrap();
        assert_eq!(p["secondFactorCheckLifetime"], 64_800_000_000_000i64);
        assert!(p.get("forceMFA").is_none());
    }
}
