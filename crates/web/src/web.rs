//! The pages' shared state and how they reach the use cases: as the login
//! client before anyone is signed in, as the signed-in user afterwards,
//! each time under the auth the corresponding RPC declares.

use std::sync::Arc;

use twofold_api::methods::Methods;
use twofold_app::App;
use twofold_app::auth::{MethodAuth, RequestCtx};
use twofold_domain::permissions::ResourceCheck;
use twofold_domain::{DomainError, InstanceId};

pub struct Web {
    pub app: App,
    methods: Arc<Methods>,
    /// Cookies are `Secure` when the external URL is https.
    secure: bool,
}

/// The RPCs whose use cases the pages call.
pub mod rpc {
    pub const CREATE_SESSION: &str = "/zitadel.session.v2.SessionService/CreateSession";
    pub const SET_SESSION: &str = "/zitadel.session.v2.SessionService/SetSession";
    pub const GET_SESSION: &str = "/zitadel.session.v2.SessionService/GetSession";
    pub const LIST_SESSIONS: &str = "/zitadel.session.v2.SessionService/ListSessions";
    pub const DELETE_SESSION: &str = "/zitadel.session.v2.SessionService/DeleteSession";
    pub const CREATE_CALLBACK: &str = "/zitadel.oidc.v2.OIDCService/CreateCallback";
    pub const REGISTER_TOTP: &str = "/zitadel.user.v2.UserService/RegisterTOTP";
    pub const VERIFY_TOTP: &str = "/zitadel.user.v2.UserService/VerifyTOTPRegistration";
    pub const MFA_INIT_SKIPPED: &str = "/zitadel.user.v2.UserService/HumanMFAInitSkipped";
    pub const GENERATE_RECOVERY_CODES: &str = "/zitadel.user.v2.UserService/GenerateRecoveryCodes";
    pub const UPDATE_MY_PASSWORD: &str = "/zitadel.auth.v1.AuthService/UpdateMyPassword";
    pub const REGISTER_U2F: &str = "/zitadel.user.v2.UserService/RegisterU2F";
    pub const VERIFY_U2F: &str = "/zitadel.user.v2.UserService/VerifyU2FRegistration";
    pub const REGISTER_PASSKEY: &str = "/zitadel.user.v2.UserService/RegisterPasskey";
    pub const VERIFY_PASSKEY: &str = "/zitadel.user.v2.UserService/VerifyPasskeyRegistration";
    pub const ADD_OTP_EMAIL: &str = "/zitadel.user.v2.UserService/AddOTPEmail";
    pub const ADD_OTP_SMS: &str = "/zitadel.user.v2.UserService/AddOTPSMS";
    pub const REMOVE_TOTP: &str = "/zitadel.user.v2.UserService/RemoveTOTP";
    pub const REMOVE_OTP_SMS: &str = "/zitadel.user.v2.UserService/RemoveOTPSMS";
    pub const REMOVE_OTP_EMAIL: &str = "/zitadel.user.v2.UserService/RemoveOTPEmail";
    pub const REMOVE_U2F: &str = "/zitadel.user.v2.UserService/RemoveU2F";
    pub const REMOVE_PASSKEY: &str = "/zitadel.user.v2.UserService/RemovePasskey";
}

fn undeclared(rpc: &str) -> DomainError {
    tracing::error!(rpc, "the hosted login calls an RPC the descriptors do not declare");
    DomainError::internal("WEB-NoRpc", "An internal error occurred")
}

impl Web {
    pub fn new(app: App, methods: Arc<Methods>) -> Self {
        let secure = app
            .oidc_settings()
            .external_url
            .as_deref()
            .is_some_and(|u| u.to_ascii_lowercase().starts_with("https://"));
        Self { app, methods, secure }
    }

    fn auth(&self, rpc: &str) -> Result<MethodAuth, DomainError> {
        self.methods
            .get(rpc)
            .and_then(|m| m.auth.clone())
            .ok_or_else(|| undeclared(rpc))
    }

    fn check(&self, rpc: &str) -> Result<Option<ResourceCheck>, DomainError> {
        Ok(self.auth(rpc)?.check)
    }

    /// Acting as the login client (sessions, callbacks).
    pub fn login_ctx(&self, instance: &InstanceId, rpc: &str) -> Result<RequestCtx, DomainError> {
        Ok(self.app.login_ui_ctx(instance, self.check(rpc)?))
    }

    /// Acting as the user whose session `token` is, as a request to `rpc`
    /// bearing that token would (force-MFA rules included).
    pub async fn user_ctx(&self, instance: &InstanceId, token: &str, rpc: &str) -> Result<RequestCtx, DomainError> {
        self.user_ctx_in(instance, token, rpc, None).await
    }

    /// As [`Web::user_ctx`], acting on `org` as `x-zitadel-orgid` would.
    pub async fn user_ctx_in(
        &self,
        instance: &InstanceId,
        token: &str,
        rpc: &str,
        org: Option<&str>,
    ) -> Result<RequestCtx, DomainError> {
        let auth = self.auth(rpc)?;
        let caller = self
            .app
            .authenticate(instance, Some(&format!("Bearer {token}")))
            .await?;
        self.app.authorize(instance, caller, org, &auth).await
    }

    /// A `Set-Cookie` value: only for the pages, never for scripts.
    pub fn cookie_header(&self, name: &str, value: &str) -> String {
        let secure = if self.secure { "; Secure" } else { "" };
        format!("{name}={value}; Path=/ui; HttpOnly; SameSite=Lax{secure}")
    }

    /// A `Set-Cookie` value that removes the cookie.
    pub fn clear_cookie_header(&self, name: &str) -> String {
        format!("{}; Max-Age=0", self.cookie_header(name, ""))
    }
}

#[cfg(test)]
mod tests {
    use super::rpc::*;

    /// Every RPC the pages act as is served and declares its auth.
    #[test]
    fn the_rpcs_are_declared() {
        let methods = twofold_api::methods::Methods::load().unwrap();
        for path in [
            CREATE_SESSION,
            SET_SESSION,
            GET_SESSION,
            LIST_SESSIONS,
            DELETE_SESSION,
            CREATE_CALLBACK,
            REGISTER_TOTP,
            VERIFY_TOTP,
            MFA_INIT_SKIPPED,
            GENERATE_RECOVERY_CODES,
            ADD_OTP_EMAIL,
            ADD_OTP_SMS,
            UPDATE_MY_PASSWORD,
            REGISTER_U2F,
            VERIFY_U2F,
            REGISTER_PASSKEY,
            VERIFY_PASSKEY,
            REMOVE_TOTP,
            REMOVE_OTP_SMS,
            REMOVE_OTP_EMAIL,
            REMOVE_U2F,
            REMOVE_PASSKEY,
        ] {
            assert!(methods.get(path).and_then(|m| m.auth.as_ref()).is_some(), "{path}");
        }
    }
}
