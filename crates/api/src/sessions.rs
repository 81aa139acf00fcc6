//! zitadel.session.v2.SessionService: sign-in sessions.

use tonic::{Request, Response, Status};
use twofold_app::App;
use twofold_app::metrics::{self, Factor};
use twofold_app::sessions::{ChallengeRequests, Checks, SessionChange, SessionRead, UserRef};
use twofold_domain::{SessionId, UserId};
use twofold_proto::zitadel::session::v2::session_service_server::SessionService;
use twofold_proto::zitadel::session::v2::*;

use crate::auth::ctx;
use crate::error::to_status;
use crate::{convert, queries, validate};

pub struct Sessions {
    pub app: App,
}

/// Checks from the request, validated as protoc-gen-validate would.
fn checks(message: &str, c: Option<twofold_proto::zitadel::session::v2::Checks>) -> Result<Checks, Status> {
    let Some(c) = c else { return Ok(Checks::default()) };
    let nested = |field: &str, inner: &str, reason: &str| {
        validate::invalid_field(
            message,
            "Checks",
            &format!(
                "embedded message failed validation | caused by: invalid Checks.{field}: embedded message failed validation | caused by: invalid {inner}: {reason}"
            ),
        )
    };
    if let Some(t) = &c.totp
        && t.code.chars().count() != 6
    {
        return Err(nested("Totp", "CheckTOTP.Code", "value length must be 6 runes"));
    }
    for (name, otp) in [("OtpSms", &c.otp_sms), ("OtpEmail", &c.otp_email)] {
        if otp.as_ref().is_some_and(|o| o.code.is_empty()) {
            return Err(nested(name, "CheckOTP.Code", "value length must be at least 1 runes"));
        }
    }
    if c.idp_intent.is_some() {
        return Err(Status::invalid_argument(
            "identity provider intents are not supported by Twofold",
        ));
    }
    Ok(Checks {
        user: c.user.and_then(|u| u.search).map(|s| match s {
            check_user::Search::UserId(id) => UserRef::Id(UserId::from(id)),
            check_user::Search::LoginName(n) => UserRef::LoginName(n),
        }),
        password: c.password.map(|p| p.password),
        web_auth_n: c.web_auth_n.map(|w| {
            w.credential_assertion_data
                .map(convert::struct_to_json)
                .unwrap_or_default()
        }),
        totp: c.totp.map(|t| t.code),
        otp_sms: c.otp_sms.map(|o| o.code),
        otp_email: c.otp_email.map(|o| o.code),
        recovery_code: c.recovery_code.map(|r| r.code),
    })
}

/// The factors a call checks (for the sign-in metrics).
fn factors(c: &Checks) -> Vec<Factor> {
    [
        (c.password.is_some(), Factor::Password),
        (c.web_auth_n.is_some(), Factor::Webauthn),
        (c.totp.is_some(), Factor::Totp),
        (c.otp_sms.is_some(), Factor::OtpSms),
        (c.otp_email.is_some(), Factor::OtpEmail),
        (c.recovery_code.is_some(), Factor::RecoveryCode),
    ]
    .into_iter()
    .filter_map(|(given, f)| given.then_some(f))
    .collect()
}

fn challenge_requests(r: Option<RequestChallenges>) -> Result<ChallengeRequests, Status> {
    let Some(r) = r else {
        return Ok(ChallengeRequests::default());
    };
    // REQUIRED user verification asks for a passkey; PREFERRED and
    // DISCOURAGED for a security key.
    let passkey = r
        .web_auth_n
        .as_ref()
        .is_some_and(|w| w.user_verification_requirement == UserVerificationRequirement::Required as i32);
    let web_auth_n = match r.web_auth_n {
        Some(w) => Some(validate::id("RequestChallenges.WebAuthN", "Domain", &w.domain)?.to_owned()),
        None => None,
    };
    Ok(ChallengeRequests {
        web_auth_n,
        passkey,
        otp_sms: r.otp_sms.map(|o| o.return_code),
        otp_email: r.otp_email.map(|o| {
            matches!(
                o.delivery_type,
                Some(request_challenges::otp_email::DeliveryType::ReturnCode(_))
            )
        }),
    })
}

fn lifetime(message: &str, d: Option<&prost_types::Duration>) -> Result<Option<i64>, Status> {
    match d {
        None => Ok(None),
        Some(d) => match convert::duration_nanos(Some(d)) {
            Some(n) if n > 0 => Ok(Some(n)),
            _ => Err(validate::invalid_field(
                message,
                "Lifetime",
                "value must be greater than 0s",
            )),
        },
    }
}

fn challenges(c: twofold_app::sessions::Challenges) -> Option<Challenges> {
    let out = Challenges {
        web_auth_n: c.web_auth_n.map(|v| challenges::WebAuthN {
            public_key_credential_request_options: Some(convert::json_to_struct(v)),
        }),
        otp_sms: c.otp_sms,
        otp_email: c.otp_email,
    };
    (out != Challenges::default()).then_some(out)
}

fn session(r: SessionRead) -> Session {
    let s = r.session;
    let ts = |t: Option<twofold_domain::Timestamp>| t.map(convert::timestamp);
    let factors = s.user_id.as_ref().map(|id| Factors {
        user: Some(UserFactor {
            verified_at: ts(s.user_checked_at),
            id: id.as_str().to_owned(),
            login_name: r.user.as_ref().map(|u| u.user_name.clone()).unwrap_or_default(),
            display_name: r
                .user
                .as_ref()
                .and_then(|u| u.human().map(|h| h.display_name.clone()))
                .unwrap_or_default(),
            organization_id: s
                .user_org_id
                .as_ref()
                .map(|o| o.as_str().to_owned())
                .unwrap_or_default(),
        }),
        password: s.password_checked_at.map(|t| PasswordFactor {
            verified_at: ts(Some(t)),
        }),
        web_auth_n: s.webauthn_checked_at.map(|t| WebAuthNFactor {
            verified_at: ts(Some(t)),
            user_verified: s.webauthn_user_verified,
        }),
        intent: None,
        totp: s.totp_checked_at.map(|t| TotpFactor {
            verified_at: ts(Some(t)),
        }),
        otp_sms: s.otp_sms_checked_at.map(|t| OtpFactor {
            verified_at: ts(Some(t)),
        }),
        otp_email: s.otp_email_checked_at.map(|t| OtpFactor {
            verified_at: ts(Some(t)),
        }),
        recovery_code: s.recovery_code_checked_at.map(|t| RecoveryCodeFactor {
            verified_at: ts(Some(t)),
        }),
    });
    Session {
        id: s.id.into_string(),
        creation_date: Some(convert::timestamp(s.details.creation_date)),
        change_date: Some(convert::timestamp(s.details.change_date)),
        sequence: s.details.sequence,
        factors,
        metadata: Default::default(),
        user_agent: None,
        expiration_date: s.expiration.map(convert::timestamp),
    }
}

#[tonic::async_trait]
impl SessionService for Sessions {
    async fn list_sessions(&self, req: Request<ListSessionsRequest>) -> Result<Response<ListSessionsResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.get_ref();
        let (queries, by_creation) = queries::sessions(r)?;
        let (total, list) = self
            .app
            .list_sessions(&ctx, &queries, by_creation, queries::list_v2(r.query.as_ref())?)
            .await
            .map_err(to_status)?;
        Ok(Response::new(ListSessionsResponse {
            details: convert::v2_list(total),
            sessions: list.into_iter().map(session).collect(),
        }))
    }

    async fn get_session(&self, req: Request<GetSessionRequest>) -> Result<Response<GetSessionResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.get_ref();
        let id = SessionId::from(validate::id("GetSessionRequest", "SessionId", &r.session_id)?);
        let s = self
            .app
            .get_session(&ctx, &id, r.session_token.as_deref())
            .await
            .map_err(to_status)?;
        Ok(Response::new(GetSessionResponse {
            session: Some(session(s)),
        }))
    }

    async fn create_session(
        &self,
        req: Request<CreateSessionRequest>,
    ) -> Result<Response<CreateSessionResponse>, Status> {
        const M: &str = "CreateSessionRequest";
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let lifetime = lifetime(M, r.lifetime.as_ref())?;
        let checks = checks(M, r.checks)?;
        let factors = factors(&checks);
        let result = self
            .app
            .create_session(&ctx, checks, challenge_requests(r.challenges)?, lifetime)
            .await;
        metrics::sign_in(&factors, result.as_ref().map(|_| ()));
        let c: SessionChange = result.map_err(to_status)?;
        Ok(Response::new(CreateSessionResponse {
            details: convert::v2_changed(c.details),
            session_id: c.session_id.into_string(),
            session_token: c.token.unwrap_or_default(),
            challenges: challenges(c.challenges),
        }))
    }

    async fn set_session(&self, req: Request<SetSessionRequest>) -> Result<Response<SetSessionResponse>, Status> {
        const M: &str = "SetSessionRequest";
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let id = SessionId::from(validate::id(M, "SessionId", &r.session_id)?);
        let lifetime = lifetime(M, r.lifetime.as_ref())?;
        let checks = checks(M, r.checks)?;
        let factors = factors(&checks);
        let result = self
            .app
            .set_session(
                &ctx,
                &id,
                Some(r.session_token.as_str()),
                checks,
                challenge_requests(r.challenges)?,
                lifetime,
            )
            .await;
        metrics::sign_in(&factors, result.as_ref().map(|_| ()));
        let c = result.map_err(to_status)?;
        Ok(Response::new(SetSessionResponse {
            details: convert::v2_changed(c.details),
            session_token: c.token.unwrap_or_default(),
            challenges: challenges(c.challenges),
        }))
    }

    async fn delete_session(
        &self,
        req: Request<DeleteSessionRequest>,
    ) -> Result<Response<DeleteSessionResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.get_ref();
        let id = SessionId::from(validate::id("DeleteSessionRequest", "SessionId", &r.session_id)?);
        let d = self
            .app
            .delete_session(&ctx, &id, r.session_token.as_deref())
            .await
            .map_err(to_status)?;
        Ok(Response::new(DeleteSessionResponse {
            details: convert::v2_changed(d),
        }))
    }
}
