//! The Admin (instance) and Management (context org) RPCs of the policies
//! an org may replace with its own — lockout, password complexity, password
//! age — on one generic implementation (`twofold_app::scoped_policy`). Each
//! kind says how it travels on the wire ([`WirePolicy`]) and which request
//! messages carry its settings ([`PolicyInput`]); the handlers only name the
//! kind and their response message.

use tonic::{Request, Status};
use twofold_app::App;
use twofold_app::scoped_policy::StoredPolicy;
use twofold_domain::lockout::LockoutSettings;
use twofold_domain::password_age::PasswordAgeSettings;
use twofold_domain::password_complexity::PasswordComplexitySettings;
use twofold_domain::readmodel::scoped_policy::PolicyView;
use twofold_domain::scope::Scope;
use twofold_proto::zitadel::v1::ObjectDetails;
use twofold_proto::zitadel::{admin::v1 as admin, management::v1 as mgmt, policy::v1 as policy};

use crate::auth::ctx;
use crate::convert::{self, read};
use crate::error::to_status;

/// A policy kind's v1 message.
pub(crate) trait WirePolicy: StoredPolicy {
    type Message;
    fn message(v: &PolicyView<Self>) -> Self::Message;
}

/// A request message carrying a policy kind's settings.
pub(crate) trait PolicyInput {
    type Policy: StoredPolicy;
    fn settings(&self) -> Self::Policy;
}

impl WirePolicy for LockoutSettings {
    type Message = policy::LockoutPolicy;
    fn message(v: &PolicyView<Self>) -> Self::Message {
        policy::LockoutPolicy {
            details: read(&v.details),
            max_password_attempts: v.settings.max_password_attempts,
            max_otp_attempts: v.settings.max_otp_attempts,
            is_default: v.is_default,
        }
    }
}

impl WirePolicy for PasswordComplexitySettings {
    type Message = policy::PasswordComplexityPolicy;
    fn message(v: &PolicyView<Self>) -> Self::Message {
        policy::PasswordComplexityPolicy {
            details: read(&v.details),
            min_length: v.settings.min_length,
            has_uppercase: v.settings.has_uppercase,
            has_lowercase: v.settings.has_lowercase,
            has_number: v.settings.has_number,
            has_symbol: v.settings.has_symbol,
            is_default: v.is_default,
        }
    }
}

impl WirePolicy for PasswordAgeSettings {
    type Message = policy::PasswordAgePolicy;
    fn message(v: &PolicyView<Self>) -> Self::Message {
        policy::PasswordAgePolicy {
            details: read(&v.details),
            max_age_days: v.settings.max_age_days,
            expire_warn_days: v.settings.expire_warn_days,
            is_default: v.is_default,
        }
    }
}

/// The request messages `$Req` (same fields) carry settings of kind `$P`.
macro_rules! policy_input {
    ($P:ty: $($Req:ty),+ => |$r:ident| $settings:expr) => {$(
        impl PolicyInput for $Req {
            type Policy = $P;
            fn settings(&self) -> $P {
                let $r = self;
                $settings
            }
        }
    )+};
}

policy_input!(LockoutSettings:
admin::UpdateLockoutPolicyRequest, mgmt::AddCustomLockoutPolicyRequest, mgmt::UpdateCustomLockoutPolicyRequest
=> |r| LockoutSettings {
    max_password_attempts: u64::from(r.max_password_attempts),
    max_otp_attempts: u64::from(r.max_otp_attempts),
});

// The Admin API's minimum length is 32 bits wide, the Management API's 64.
policy_input!(PasswordComplexitySettings: admin::UpdatePasswordComplexityPolicyRequest => |r| PasswordComplexitySettings {
    min_length: u64::from(r.min_length),
    has_lowercase: r.has_lowercase,
    has_uppercase: r.has_uppercase,
    has_number: r.has_number,
    has_symbol: r.has_symbol,
});

policy_input!(PasswordComplexitySettings:
mgmt::AddCustomPasswordComplexityPolicyRequest,
mgmt::UpdateCustomPasswordComplexityPolicyRequest
=> |r| PasswordComplexitySettings {
    min_length: r.min_length,
    has_lowercase: r.has_lowercase,
    has_uppercase: r.has_uppercase,
    has_number: r.has_number,
    has_symbol: r.has_symbol,
});

policy_input!(PasswordAgeSettings:
admin::UpdatePasswordAgePolicyRequest,
mgmt::AddCustomPasswordAgePolicyRequest,
mgmt::UpdateCustomPasswordAgePolicyRequest
=> |r| PasswordAgeSettings {
    max_age_days: u64::from(r.max_age_days),
    expire_warn_days: u64::from(r.expire_warn_days),
});

/// The instance default of kind `P`.
pub(crate) async fn default<P: WirePolicy, T>(app: &App, req: &Request<T>) -> Result<Option<P::Message>, Status> {
    let ctx = ctx(req)?;
    let v = app.default_policy::<P>(&ctx.instance_id).await.map_err(to_status)?;
    Ok(Some(P::message(&v)))
}

/// The policy of kind `P` in force for an org (`ctx`'s unless `org` names
/// one), and whether it is the default.
pub(crate) async fn in_force<P: WirePolicy, T>(
    app: &App,
    req: &Request<T>,
    mine: bool,
) -> Result<(Option<P::Message>, bool), Status> {
    let ctx = ctx(req)?;
    let org = if mine { &ctx.caller.org_id } else { &ctx.org_id };
    let v = app.org_policy::<P>(&ctx.instance_id, org).await.map_err(to_status)?;
    Ok((Some(P::message(&v)), v.is_default))
}

/// Replaces the policy of `scope` with the request's settings.
pub(crate) async fn update<R: PolicyInput>(
    app: &App,
    req: &Request<R>,
    scope: Scope,
) -> Result<Option<ObjectDetails>, Status> {
    let ctx = ctx(req)?;
    let d = app
        .update_policy(&ctx, scope, req.get_ref().settings())
        .await
        .map_err(to_status)?;
    Ok(convert::changed(d))
}

/// The context org's own policy, from the request's settings.
pub(crate) async fn add_custom<R: PolicyInput>(app: &App, req: &Request<R>) -> Result<Option<ObjectDetails>, Status> {
    let ctx = ctx(req)?;
    let d = app
        .add_custom_policy(&ctx, req.get_ref().settings())
        .await
        .map_err(to_status)?;
    Ok(convert::added(d))
}

/// The context org back on the instance default of kind `P`.
pub(crate) async fn reset<P: StoredPolicy, T>(app: &App, req: &Request<T>) -> Result<Option<ObjectDetails>, Status> {
    let ctx = ctx(req)?;
    let d = app.reset_policy::<P>(&ctx).await.map_err(to_status)?;
    Ok(convert::changed(d))
}
