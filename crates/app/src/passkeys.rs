//! Passkeys (UserService v2 and the v1 passwordless RPCs): registration
//! with webauthn-rs as the relying party, registration codes, listing and
//! removal. Passkeys are their own credential family, separate from U2F
//! security keys; signing in with one is decided in the session checks.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use twofold_domain::event::WebAuthnChallenged;
use twofold_domain::notify::Channel;
use twofold_domain::passkey::{
    self, GivenCode, PasskeyAssertion, PasskeyCodeRequested, PasskeyEvidence, RegisterRefusal, RegisteredPasskey,
    RegistrationRefused,
};
use twofold_domain::permissions::Permission;
use twofold_domain::readmodel::Collection;
use twofold_domain::readmodel::directory::{PasskeyCredentialView, UserView};
use twofold_domain::url_template::{self, LinkData};
use twofold_domain::user::UserState;
use twofold_domain::{AggregateRef, DomainError, Timestamp, UserId};
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, WebauthnError,
};

use crate::access::Reach;
use crate::auth::RequestCtx;
use crate::command::Decision;
use crate::mfa::Via;
use crate::notify::{Delivery, Purpose};
use crate::u2f::{relying_party, user_handle};
use crate::{App, WriteDetails, secrets};

/// Which authenticators the browser should offer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Attachment {
    #[default]
    Unspecified,
    Platform,
    CrossPlatform,
}

pub struct NewPasskey {
    pub token_id: String,
    /// `PublicKeyCredentialCreationOptions` as WebAuthn JSON (`{"publicKey":{…}}`).
    pub options: serde_json::Value,
    pub details: WriteDetails,
}

/// A registration code: its ID and the code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistrationCode {
    pub id: String,
    pub code: String,
}

/// How a new registration code is handed out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodeDelivery {
    Return,
    /// By email, with the link rendered from the template (empty: the
    /// default login link under `origin`).
    Send {
        url_template: String,
        origin: String,
    },
}

/// A passkey as listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasskeyInfo {
    pub id: String,
    pub name: String,
    pub ready: bool,
}

/// An unknown user (not the caller) when registering without a code: the
/// permission check comes first, as in ZITADEL.
fn register_target_missing() -> DomainError {
    DomainError::not_found("COMMAND-4g3xq", "Errors.NotFound")
}

fn user_missing() -> DomainError {
    DomainError::not_found("COMMAND-M9dsd", "User could not be found")
}

fn begin_failed(e: impl std::fmt::Display) -> DomainError {
    tracing::error!(error = %e, "passkey registration could not start");
    DomainError::internal("WEBAU-bM8sd", "WebAuthN begin registration failed")
}

/// The creation options a passkey needs, whatever the library defaults:
/// a resident (discoverable) key and user verification.
fn passkey_selection(attachment: Attachment) -> serde_json::Value {
    let attach = match attachment {
        Attachment::Unspecified => None,
        Attachment::Platform => Some("platform"),
        Attachment::CrossPlatform => Some("cross-platform"),
    };
    match attach {
        Some(a) => json!({
            "authenticatorAttachment": a,
            "residentKey": "required",
            "requireResidentKey": true,
            "userVerification": "required",
        }),
        None => json!({
            "residentKey": "required",
            "requireResidentKey": true,
            "userVerification": "required",
        }),
    }
}

/// The user's verified passkeys, as webauthn-rs reads them.
pub(crate) fn passkeys_of(state: &UserState) -> Vec<(String, Passkey)> {
    state
        .passkeys
        .ready()
        .filter_map(|t| {
            let c = t.credential.as_deref()?;
            serde_json::from_str(c).ok().map(|k| (t.id.clone(), k))
        })
        .collect()
}

impl App {
    /// The current state of a user read through its view.
    pub(crate) async fn user_state(&self, ctx: &RequestCtx, user: &UserView) -> Result<UserState, DomainError> {
        self.load_user(&ctx.instance_id, &AggregateRef::user(&user.id, &user.org_id))
            .await
    }

    /// Starts a passkey registration. With a code the code authorises it;
    /// without, the caller itself or `user.credential.write` on the user's
    /// org. `domain` is the relying party ID (empty: the request's host).
    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn register_passkey(
        &self,
        ctx: &RequestCtx,
        user_id: &UserId,
        code: Option<RegistrationCode>,
        attachment: Attachment,
        domain: &str,
        request_host: &str,
    ) -> Result<NewPasskey, DomainError> {
        let user = match &code {
            None => self.user_to_act_on(ctx, user_id, register_target_missing()).await?,
            Some(_) => self.user_for_code(ctx, user_id, user_missing()).await?,
        };
        let rp_id = if domain.is_empty() { request_host } else { domain };
        let rp = relying_party(rp_id)?;
        let state = self.user_state(ctx, &user).await?;
        let exclude = passkeys_of(&state)
            .into_iter()
            .map(|(_, k)| k.cred_id().clone())
            .collect::<Vec<_>>();
        let display = user
            .human()
            .map(|h| h.display_name.clone())
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| user.user_name.clone());
        let (options, reg_state) = rp
            .start_passkey_registration(user_handle(user.id.as_str()), &user.user_name, &display, Some(exclude))
            .map_err(begin_failed)?;
        let reg_state = serde_json::to_string(&reg_state).map_err(begin_failed)?;
        let mut options = serde_json::to_value(options).map_err(begin_failed)?;
        options
            .get_mut("publicKey")
            .and_then(serde_json::Value::as_object_mut)
            .ok_or_else(|| begin_failed("creation options without publicKey"))?
            .insert("authenticatorSelection".into(), passkey_selection(attachment));
        let given = code.map(|c| GivenCode {
            id: c.id,
            code_hash: self.keys.token_hash(c.code.trim()),
        });
        let token_id = self.ids.next();
        let now = self.now();
        let details = self
            .execute_many(
                &ctx.instance_id,
                ctx.caller.user_id.as_str(),
                vec![AggregateRef::user(&user.id, &user.org_id)],
                |loaded| {
                    let s = crate::command::user_state(loaded, 0);
                    match passkey::decide_register(&s, &token_id, reg_state.clone(), rp_id, given.as_ref(), now) {
                        Ok(events) => Ok(Decision::one(events)),
                        Err(RegisterRefusal::Error(e)) => Err(e),
                        Err(RegisterRefusal::Failed(events, e)) => Ok(Decision {
                            error_after_push: Some(e),
                            ..Decision::one(events)
                        }),
                    }
                },
            )
            .await?;
        Ok(NewPasskey {
            token_id,
            options,
            details,
        })
    }

    /// Finishes the first pending registration with the authenticator's
    /// response.
    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn verify_passkey(
        &self,
        ctx: &RequestCtx,
        user_id: &UserId,
        credential: serde_json::Value,
        name: &str,
    ) -> Result<WriteDetails, DomainError> {
        let user = self.user_to_act_on(ctx, user_id, user_missing()).await?;
        let parsed: Result<RegisterPublicKeyCredential, String> =
            serde_json::from_value(credential).map_err(|e| format!("not a WebAuthn registration response ({e})"));
        self.on_user(ctx, &user, |s| {
            let pending = passkey::pending(s)?;
            let checked = match &parsed {
                Err(e) => Err(RegistrationRefused::Unparsable(e.clone())),
                Ok(reg) => finish_registration(pending.pending.as_deref().unwrap_or_default(), &pending.rp_id, reg),
            };
            passkey::decide_verify(s, checked, name)
        })
        .await
    }

    /// A new registration code for the user, returned or sent by email.
    /// Needs `user.passkey.write` on the user's org.
    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn passkey_registration_code(
        &self,
        ctx: &RequestCtx,
        user_id: &UserId,
        delivery: CodeDelivery,
    ) -> Result<(WriteDetails, Option<RegistrationCode>), DomainError> {
        if let CodeDelivery::Send { url_template, .. } = &delivery
            && !url_template.is_empty()
        {
            url_template::check(url_template, true)?;
        }
        let user = self.user_to_act_on(ctx, user_id, user_missing()).await?;
        self.new_passkey_code(ctx, &user, delivery).await
    }

    async fn new_passkey_code(
        &self,
        ctx: &RequestCtx,
        user: &UserView,
        delivery: CodeDelivery,
    ) -> Result<(WriteDetails, Option<RegistrationCode>), DomainError> {
        let code = secrets::random_code(passkey::CODE_LEN, secrets::UPPER_DIGITS);
        let id = self.ids.next();
        let requested = PasskeyCodeRequested {
            id: id.clone(),
            code_hash: self.keys.token_hash(&code),
            expiry: Timestamp(self.now().0 + passkey::CODE_LIFETIME_MICROS),
            code_returned: delivery == CodeDelivery::Return,
        };
        let user_ref = AggregateRef::user(&user.id, &user.org_id);
        let d = self
            .execute_on_user(&ctx.instance_id, ctx.caller.user_id.as_str(), user_ref.clone(), |s| {
                if !s.exists || !s.human {
                    return Err(user_missing());
                }
                Ok(passkey::decide_request_code(requested.clone()))
            })
            .await?;
        let (url_template, origin) = match delivery {
            CodeDelivery::Return => return Ok((d, Some(RegistrationCode { id, code }))),
            CodeDelivery::Send { url_template, origin } => (url_template, origin),
        };
        let link = if url_template.is_empty() {
            default_link(&origin, user, &id, &code)
        } else {
            let data = LinkData {
                user_id: user.id.as_str(),
                code: &code,
                org_id: user.org_id.as_str(),
                code_id: Some(&id),
            };
            url_template::render(&url_template, data)?
        };
        let (email, name) = user
            .human()
            .map(|h| (h.email.clone(), h.display_name.clone()))
            .unwrap_or_default();
        self.deliver(Delivery {
            instance_id: ctx.instance_id.clone(),
            purpose: Purpose::PasskeyRegistration { user: user_ref, link },
            channel: Channel::Email,
            recipient: email,
            display_name: name,
            code,
        });
        Ok((d, None))
    }

    /// The v1 registration links: a code by email with the default link
    /// (`send`), or the link returned. Management acts on a user of the
    /// context org with `permission`; Auth on the caller.
    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn passkey_registration_link(
        &self,
        ctx: &RequestCtx,
        user_id: &UserId,
        via: Via,
        permission: Permission,
        origin: &str,
        send: bool,
    ) -> Result<(WriteDetails, Option<String>), DomainError> {
        let user = match via {
            Via::UserApi => self.user_to_act_on(ctx, user_id, user_missing()).await?,
            Via::Management => {
                self.visible_user(ctx, user_id, Reach::ContextOrg(permission), user_missing())
                    .await?
            }
        };
        if send {
            let delivery = CodeDelivery::Send {
                url_template: String::new(),
                origin: origin.to_owned(),
            };
            return Ok((self.new_passkey_code(ctx, &user, delivery).await?.0, None));
        }
        let (d, code) = self.new_passkey_code(ctx, &user, CodeDelivery::Return).await?;
        Ok((d, code.map(|c| default_link(origin, &user, &c.id, &c.code))))
    }

    /// The user a discoverable passkey assertion names: the holder of the
    /// credential, found by its ID, whose user handle it carries; an active
    /// user. Anything else is refused like a bad assertion. Whether the
    /// assertion is genuine is checked afterwards, as the user's.
    pub(crate) async fn passkey_holder(
        &self,
        ctx: &RequestCtx,
        challenge: &WebAuthnChallenged,
        assertion: &serde_json::Value,
    ) -> Result<UserView, DomainError> {
        let refused =
            |why: String| DomainError::invalid("WEBAU-ADgv4", format!("The passkey's assertion was refused: {why}"));
        let cred: PublicKeyCredential = serde_json::from_value(assertion.clone())
            .map_err(|e| refused(format!("not a WebAuthn assertion ({e})")))?;
        let rp = relying_party(&challenge.rp_id)?;
        let (handle, cred_id) = rp
            .identify_discoverable_authentication(&cred)
            .map_err(|e| refused(e.to_string()))?;
        let key_id = URL_SAFE_NO_PAD.encode(cred_id);
        let holder: Option<PasskeyCredentialView> = self
            .typed_lookup(&ctx.instance_id, Collection::PasskeyCredential, &key_id)
            .await?
            .into_iter()
            .next();
        let user: Option<UserView> = match &holder {
            Some(h) => {
                self.typed_doc(&ctx.instance_id, Collection::User, h.user_id.as_str())
                    .await?
            }
            None => None,
        };
        let state = match &user {
            Some(u) => Some(self.user_state(ctx, u).await?),
            None => None,
        };
        let handle_matches = user.as_ref().is_some_and(|u| user_handle(u.id.as_str()) == handle);
        passkey::decide_identified(state.as_ref(), &key_id, handle_matches)?;
        let user = user.ok_or_else(twofold_domain::human::user_not_found)?;
        twofold_domain::session::require_active_user(&user)?;
        Ok(user)
    }

    /// The user's passkeys (`ready_only`: verified ones only).
    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn list_passkeys(
        &self,
        ctx: &RequestCtx,
        user_id: &UserId,
        via: Via,
    ) -> Result<Vec<PasskeyInfo>, DomainError> {
        let user = match via {
            Via::UserApi => self.user_to_act_on(ctx, user_id, user_missing()).await?,
            Via::Management => {
                self.visible_user(ctx, user_id, Reach::ContextOrg(Permission::UserRead), user_missing())
                    .await?
            }
        };
        let state = self.user_state(ctx, &user).await?;
        Ok(state
            .passkeys
            .ready()
            .map(|t| PasskeyInfo {
                id: t.id.clone(),
                name: t.name.clone(),
                ready: true,
            })
            .collect())
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn remove_passkey(
        &self,
        ctx: &RequestCtx,
        user_id: &UserId,
        token_id: &str,
        via: Via,
    ) -> Result<WriteDetails, DomainError> {
        let user = match via {
            Via::UserApi => self.user_to_act_on(ctx, user_id, passkey::token_missing()).await?,
            Via::Management => {
                self.visible_user(
                    ctx,
                    user_id,
                    Reach::ContextOrg(Permission::UserWrite),
                    passkey::token_missing(),
                )
                .await?
            }
        };
        self.on_user(ctx, &user, |s| passkey::decide_remove(s, token_id)).await
    }
}

/// ZITADEL's default registration link (its v1 login's page).
fn default_link(origin: &str, user: &UserView, code_id: &str, code: &str) -> String {
    format!(
        "{origin}/ui/login/login/passwordless/init?userID={}&orgID={}&codeID={code_id}&code={code}",
        user.id.as_str(),
        user.org_id.as_str()
    )
}

/// Checks a passkey assertion of the user `user_id` against the session's
/// challenge; the counter comparison with the stored one is the domain's.
pub(crate) fn finish_assertion(
    state: &UserState,
    user_id: &UserId,
    challenge: &WebAuthnChallenged,
    assertion: serde_json::Value,
) -> PasskeyEvidence {
    let refused = |e: String| PasskeyEvidence::Refused(e);
    let cred: PublicKeyCredential = match serde_json::from_value(assertion) {
        Ok(c) => c,
        Err(e) => return refused(format!("not a WebAuthn assertion ({e})")),
    };
    // A user handle, required for a discoverable credential, is the user's.
    match cred.get_user_unique_id() {
        Some(h) if h != user_handle(user_id.as_str()).as_bytes() => {
            return refused("the user handle is not the user's".into());
        }
        None if challenge.discoverable => return refused("no user handle".into()),
        _ => {}
    }
    let rp = match relying_party(&challenge.rp_id) {
        Ok(rp) => rp,
        Err(e) => return refused(e.message.into_owned()),
    };
    let keys = passkeys_of(state);
    let result = if challenge.discoverable {
        let Some((_, key)) = keys
            .iter()
            .find(|(_, k)| k.cred_id().as_slice() == cred.get_credential_id())
        else {
            return refused(NOT_THE_USERS.into());
        };
        match serde_json::from_str::<DiscoverableAuthentication>(&challenge.state) {
            Ok(auth) => rp.finish_discoverable_authentication_v2(&cred, auth, key),
            Err(e) => return refused(e.to_string()),
        }
    } else {
        match serde_json::from_str::<PasskeyAuthentication>(&challenge.state) {
            Ok(auth) => rp.finish_passkey_authentication(&cred, &auth),
            Err(e) => return refused(e.to_string()),
        }
    };
    let result = match result {
        Ok(r) => r,
        Err(WebauthnError::CredentialPossibleCompromise) => return PasskeyEvidence::CounterRegressed,
        Err(e) => return refused(e.to_string()),
    };
    for (token_id, mut key) in keys {
        if key.cred_id() == result.cred_id() {
            key.update_credential(&result);
            return match serde_json::to_string(&key) {
                Ok(credential) => PasskeyEvidence::Verified(PasskeyAssertion {
                    token_id,
                    sign_count: result.counter(),
                    credential,
                    user_verified: result.user_verified(),
                }),
                Err(e) => refused(e.to_string()),
            };
        }
    }
    refused(NOT_THE_USERS.into())
}

const NOT_THE_USERS: &str = "the credential is not one of the user's passkeys";

/// The relying party's verdict on a registration response.
fn finish_registration(
    reg_state: &str,
    rp_id: &str,
    reg: &RegisterPublicKeyCredential,
) -> Result<RegisteredPasskey, RegistrationRefused> {
    let state: PasskeyRegistration =
        serde_json::from_str(reg_state).map_err(|e| RegistrationRefused::Rejected(e.to_string()))?;
    let rp = relying_party(rp_id).map_err(|e| RegistrationRefused::Rejected(e.message.into_owned()))?;
    let key = rp
        .finish_passkey_registration(reg, &state)
        .map_err(|e| RegistrationRefused::Rejected(e.to_string()))?;
    let credential = serde_json::to_string(&key).map_err(|e| RegistrationRefused::Rejected(e.to_string()))?;
    // The counter the authenticator started at, and the client's credProps
    // report (`rk`), from the credential as the library keeps them.
    let stored = serde_json::from_str::<serde_json::Value>(&credential).unwrap_or_default();
    let sign_count = stored
        .pointer("/cred/counter")
        .and_then(serde_json::Value::as_u64)
        .and_then(|c| u32::try_from(c).ok())
        .unwrap_or(0);
    let resident_key = stored
        .pointer("/cred/extensions/cred_props/Unsigned/rk")
        .and_then(serde_json::Value::as_bool);
    Ok(RegisteredPasskey {
        key_id: URL_SAFE_NO_PAD.encode(key.cred_id().as_slice()),
        credential,
        sign_count,
        resident_key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creation_options_require_a_resident_key_and_user_verification() {
        let sel = passkey_selection(Attachment::Platform);
        assert_eq!(sel["residentKey"], "required");
        assert_eq!(sel["requireResidentKey"], true);
        assert_eq!(sel["userVerification"], "required");
        assert_eq!(sel["authenticatorAttachment"], "platform");
        assert!(
            passkey_selection(Attachment::Unspecified)
                .get("authenticatorAttachment")
                .is_none()
        );
        assert_eq!(
            passkey_selection(Attachment::CrossPlatform)["authenticatorAttachment"],
            "cross-platform"
        );
    }
}
