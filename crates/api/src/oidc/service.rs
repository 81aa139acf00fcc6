//! zitadel.oidc.v2.OIDCService: GetAuthRequest and CreateCallback.

use tonic::{Request, Response, Status};
use twofold_app::App;
use twofold_app::oidc::Callback;
use twofold_domain::SessionId;
use twofold_domain::readmodel::auth_request::AuthRequestView;
use twofold_proto::zitadel::oidc::v2::oidc_service_server::OidcService;
use twofold_proto::zitadel::oidc::v2::*;

use crate::auth::ctx;
use crate::error::to_status;
use crate::{convert, validate};

pub struct Oidc {
    pub app: App,
}

fn auth_request(v: AuthRequestView) -> AuthRequest {
    let r = v.request;
    AuthRequest {
        id: v.id,
        creation_date: Some(convert::timestamp(v.details.creation_date)),
        client_id: r.client_id,
        scope: r.scope,
        redirect_uri: r.redirect_uri,
        prompt: r.prompt,
        ui_locales: r.ui_locales,
        login_hint: r.login_hint,
        max_age: r.max_age.map(convert::duration),
        hint_user_id: r.hint_user_id,
    }
}

#[tonic::async_trait]
impl OidcService for Oidc {
    async fn get_auth_request(
        &self,
        req: Request<GetAuthRequestRequest>,
    ) -> Result<Response<GetAuthRequestResponse>, Status> {
        let ctx = ctx(&req)?;
        let id = validate::text(
            "GetAuthRequestRequest",
            "AuthRequestId",
            &req.get_ref().auth_request_id,
            1,
            200,
        )?;
        let view = self.app.get_auth_request(&ctx, id).await.map_err(to_status)?;
        Ok(Response::new(GetAuthRequestResponse {
            auth_request: Some(auth_request(view)),
        }))
    }

    async fn create_callback(
        &self,
        req: Request<CreateCallbackRequest>,
    ) -> Result<Response<CreateCallbackResponse>, Status> {
        const M: &str = "CreateCallbackRequest";
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        validate::text(M, "AuthRequestId", &r.auth_request_id, 1, 200)?;
        let callback = match r.callback_kind {
            Some(create_callback_request::CallbackKind::Session(s)) => {
                let nested = |field: &str| {
                    validate::invalid_field(
                        M,
                        "Session",
                        &format!(
                            "embedded message failed validation | caused by: invalid Session.{field}: value length must be between 1 and 200 runes, inclusive"
                        ),
                    )
                };
                for (field, v) in [("SessionId", &s.session_id), ("SessionToken", &s.session_token)] {
                    if v.is_empty() || v.chars().count() > 200 {
                        return Err(nested(field));
                    }
                }
                Callback::Session {
                    session_id: SessionId::from(s.session_id),
                    session_token: s.session_token,
                }
            }
            Some(create_callback_request::CallbackKind::Error(e)) => Callback::Error {
                reason: validate::defined_enum(M, "Error", e.error, 16)?,
                description: e.error_description,
                uri: e.error_uri,
            },
            None => {
                return Err(validate::invalid_field(M, "CallbackKind", "value is required"));
            }
        };
        let (details, callback_url) = self
            .app
            .create_callback(&ctx, &r.auth_request_id, callback)
            .await
            .map_err(to_status)?;
        Ok(Response::new(CreateCallbackResponse {
            details: convert::v2_changed(details),
            callback_url,
        }))
    }
}
