//! U2F / WebAuthn security keys as second factors, with webauthn-rs as the
//! relying party. The ceremony state travels in events, so any node can
//! finish a registration another node started.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use twofold_domain::mfa;
use twofold_domain::{DomainError, ErrorKind, UserId};
use url::Url;
use webauthn_rs::prelude::{RegisterPublicKeyCredential, SecurityKey, SecurityKeyRegistration, Uuid};
use webauthn_rs::{Webauthn, WebauthnBuilder};

use crate::access::Reach;
use crate::auth::RequestCtx;
use crate::mfa::Via;
use crate::{App, WriteDetails};
use twofold_domain::permissions::Permission;

pub struct NewU2f {
    pub token_id: String,
    /// `PublicKeyCredentialCreationOptions` as WebAuthn JSON (`{"publicKey":{…}}`).
    pub options: serde_json::Value,
    pub details: WriteDetails,
}

/// The relying party for `rp_id`: origins `https://<rp_id>` and, for local
/// development, `http://<rp_id>`, on any port.
pub(crate) fn relying_party(rp_id: &str) -> Result<Webauthn, DomainError> {
    let invalid = || {
        DomainError::invalid(
            "WEBAU-Rp1d0",
            format!("{rp_id:?} cannot be a WebAuthn relying party ID"),
        )
    };
    let https = Url::parse(&format!("https://{rp_id}")).map_err(|_| invalid())?;
    let http = Url::parse(&format!("http://{rp_id}")).map_err(|_| invalid())?;
    WebauthnBuilder::new(rp_id, &https)
        .map_err(|_| invalid())?
        .append_allowed_origin(&http)
        .allow_any_port(true)
        // A second factor proves possession: user presence only (see the
        // workspace Cargo.toml).
        .danger_set_user_presence_only_security_keys(true)
        .rp_name("Twofold")
        .build()
        .map_err(|_| invalid())
}

/// WebAuthn's user handle: a stable UUID derived from the user ID.
pub(crate) fn user_handle(user_id: &str) -> Uuid {
    let digest = Sha256::digest(user_id.as_bytes());
    let mut b = [0u8; 16];
    b.iter_mut().zip(digest).for_each(|(b, d)| *b = d);
    Uuid::from_bytes(b)
}

/// The user to register a security key for is not one the caller reaches.
fn user_missing() -> DomainError {
    DomainError::not_found("COMMAND-M9dsd", "User could not be found")
}

fn internal(e: impl std::fmt::Display) -> DomainError {
    tracing::error!(error = %e, "webauthn state");
    DomainError::internal("WEBAU-Int01", "An internal error occurred")
}

impl App {
    /// Starts a registration; `domain` is the relying party ID (empty: the
    /// host the request came in on).
    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn register_u2f(
        &self,
        ctx: &RequestCtx,
        user_id: &UserId,
        domain: &str,
        request_host: &str,
    ) -> Result<NewU2f, DomainError> {
        let missing = user_missing();
        let user = self.user_to_act_on(ctx, user_id, missing).await?;
        let rp_id = if domain.is_empty() { request_host } else { domain };
        let rp = relying_party(rp_id)?;
        let aggregate = twofold_domain::AggregateRef::user(&user.id, &user.org_id);
        let state = self.load_user(&ctx.instance_id, &aggregate).await?;
        // Keys already registered may not register again.
        let exclude = state
            .u2f
            .iter()
            .filter_map(|t| t.credential.as_deref())
            .filter_map(|c| serde_json::from_str::<SecurityKey>(c).ok())
            .map(|k| k.cred_id().clone())
            .collect::<Vec<_>>();
        let display = user.human().map_or(user.user_name.clone(), |h| h.display_name.clone());
        let (options, reg_state) = rp
            .start_securitykey_registration(
                user_handle(user.id.as_str()),
                &user.user_name,
                &display,
                Some(exclude),
                None,
                None,
            )
            .map_err(internal)?;
        let reg_state = serde_json::to_string(&reg_state).map_err(internal)?;
        let token_id = self.ids.next();
        let details = self
            .on_user(ctx, &user, |s| {
                mfa::decide_register_u2f(s, &token_id, reg_state.clone(), rp_id)
            })
            .await?;
        Ok(NewU2f {
            token_id,
            options: serde_json::to_value(options).map_err(internal)?,
            details,
        })
    }

    /// Finishes a registration with the authenticator's response. A
    /// malformed or wrong credential is refused with 400 and nothing stored.
    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn verify_u2f(
        &self,
        ctx: &RequestCtx,
        user_id: &UserId,
        token_id: &str,
        credential: serde_json::Value,
        name: &str,
    ) -> Result<WriteDetails, DomainError> {
        let missing = user_missing();
        let user = self.user_to_act_on(ctx, user_id, missing).await?;
        let parsed: Result<RegisterPublicKeyCredential, String> =
            serde_json::from_value(credential).map_err(|e| format!("not a WebAuthn registration response ({e})"));
        self.on_user(ctx, &user, |s| {
            let pending = mfa::pending_u2f(s, token_id)?;
            let checked = match &parsed {
                Err(e) => Err(e.clone()),
                Ok(reg) => {
                    let reg_state: SecurityKeyRegistration =
                        serde_json::from_str(pending.pending.as_deref().unwrap_or_default()).map_err(internal)?;
                    relying_party(&pending.rp_id)?
                        .finish_securitykey_registration(reg, &reg_state)
                        .map_err(|e| e.to_string())
                        .and_then(|key| {
                            let id = URL_SAFE_NO_PAD.encode(key.cred_id().as_slice());
                            serde_json::to_string(&key).map(|c| (id, c)).map_err(|e| e.to_string())
                        })
                }
            };
            mfa::decide_verify_u2f(s, token_id, checked, name)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn remove_u2f(
        &self,
        ctx: &RequestCtx,
        user_id: &UserId,
        token_id: &str,
        via: Via,
    ) -> Result<WriteDetails, DomainError> {
        let missing = mfa::u2f_token_missing;
        let user = match via {
            Via::UserApi => self.user_to_act_on(ctx, user_id, missing()).await?,
            Via::Management => {
                self.visible_user(ctx, user_id, Reach::ContextOrg(Permission::UserWrite), missing())
                    .await?
            }
        };
        if token_id.is_empty() {
            return Err(DomainError::new(
                ErrorKind::FailedPrecondition,
                "COMMAND-6M9de",
                "ID missing",
            ));
        }
        self.on_user(ctx, &user, |s| mfa::decide_remove_u2f(s, token_id)).await
    }
}
