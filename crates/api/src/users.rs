//! zitadel.user.v2.UserService: human users and their second factors.
//! Most RPCs are "authenticated" at the auth layer; the use case checks
//! self-management or the permission on the target user's org.

use tonic::{Request, Response, Status};
use twofold_app::App;
use twofold_app::humans::{ContactMode, HumanInput};
use twofold_app::mfa::{DEFAULT_RECOVERY_CODES, OtpKind, SimpleFactor, Via};
use twofold_domain::UserId;
use twofold_domain::readmodel::directory::{Readiness, UserKind, UserState, UserView};
use twofold_proto::zitadel::object::v2 as object;
use twofold_proto::zitadel::user::v2::user_service_server::UserService;
use twofold_proto::zitadel::user::v2::*;

use crate::auth::{ctx, host};
use crate::error::to_status;
use crate::{convert, passkeys, queries, users_v2_admin, validate};

pub struct Users {
    pub app: App,
}

fn user_state(s: UserState) -> i32 {
    match s {
        UserState::Active => twofold_proto::zitadel::user::v2::UserState::Active as i32,
        UserState::Locked => twofold_proto::zitadel::user::v2::UserState::Locked as i32,
        UserState::Inactive => twofold_proto::zitadel::user::v2::UserState::Inactive as i32,
    }
}

fn user(u: UserView) -> User {
    let state = user_state(u.state);
    let r#type = match u.kind {
        UserKind::Machine {
            name,
            description,
            access_token_type,
        } => user::Type::Machine(MachineUser {
            name,
            description,
            has_secret: false,
            access_token_type,
        }),
        UserKind::Human(h) => user::Type::Human(HumanUser {
            user_id: u.id.as_str().to_owned(),
            state,
            username: u.user_name.clone(),
            login_names: vec![u.user_name.clone()],
            preferred_login_name: u.user_name.clone(),
            profile: Some(HumanProfile {
                given_name: h.given_name,
                family_name: h.family_name,
                nick_name: Some(h.nick_name).filter(|s| !s.is_empty()),
                display_name: Some(h.display_name),
                preferred_language: Some(h.preferred_language).filter(|s| !s.is_empty()),
                gender: Some(h.gender).filter(|g| *g != 0),
                avatar_url: String::new(),
            }),
            email: Some(HumanEmail {
                email: h.email,
                is_verified: h.email_verified,
            }),
            phone: Some(HumanPhone {
                phone: h.phone,
                is_verified: h.phone_verified,
            }),
            password_change_required: h.password_change_required,
            password_changed: h.password_changed_at.map(convert::timestamp),
            mfa_init_skipped: h.mfa_init_skipped.map(convert::timestamp),
        }),
    };
    User {
        details: convert::v2_read(&u.details),
        user_id: u.id.into_string(),
        state,
        login_names: vec![u.user_name.clone()],
        preferred_login_name: u.user_name.clone(),
        username: u.user_name,
        r#type: Some(r#type),
    }
}

pub(crate) fn email_mode(v: Option<&set_human_email::Verification>) -> ContactMode {
    match v {
        Some(set_human_email::Verification::IsVerified(true)) => ContactMode::Verified,
        Some(set_human_email::Verification::IsVerified(false)) => ContactMode::Unverified,
        Some(set_human_email::Verification::ReturnCode(_)) => ContactMode::ReturnCode,
        Some(set_human_email::Verification::SendCode(_)) | None => ContactMode::SendCode,
    }
}

/// The link template of a `send_code` verification.
pub(crate) fn email_link(v: Option<&set_human_email::Verification>) -> Option<String> {
    match v {
        Some(set_human_email::Verification::SendCode(s)) => s.url_template.clone(),
        _ => None,
    }
}

pub(crate) fn phone_mode(v: Option<&set_human_phone::Verification>) -> ContactMode {
    match v {
        Some(set_human_phone::Verification::IsVerified(true)) => ContactMode::Verified,
        Some(set_human_phone::Verification::IsVerified(false)) => ContactMode::Unverified,
        Some(set_human_phone::Verification::ReturnCode(_)) => ContactMode::ReturnCode,
        Some(set_human_phone::Verification::SendCode(_)) | None => ContactMode::SendCode,
    }
}

pub(crate) fn unsupported(what: &str) -> Status {
    Status::invalid_argument(format!("{what} are not supported by Twofold yet"))
}

/// A new human user as AddHumanUser (and AddOrganization's admins) give it.
pub(crate) fn human_input(r: AddHumanUserRequest) -> Result<HumanInput, Status> {
    const M: &str = "AddHumanUserRequest";
    if !r.metadata.is_empty() {
        return Err(unsupported("user metadata"));
    }
    if !r.idp_links.is_empty() {
        return Err(unsupported("identity provider links"));
    }
    if r.totp_secret.is_some() {
        return Err(unsupported("imported TOTP secrets"));
    }
    let profile = r
        .profile
        .ok_or_else(|| validate::invalid_field(M, "Profile", "value is required"))?;
    let email = r
        .email
        .ok_or_else(|| validate::invalid_field(M, "Email", "value is required"))?;
    if let Some(id) = &r.user_id {
        validate::id(M, "UserId", id)?;
    }
    if let Some(name) = &r.username {
        validate::id(M, "Username", name)?;
    }
    validate::id("SetHumanProfile", "GivenName", &profile.given_name)?;
    validate::id("SetHumanProfile", "FamilyName", &profile.family_name)?;
    let (password, change_required) = match r.password_type {
        Some(add_human_user_request::PasswordType::Password(p)) => (
            Some(validate::id("Password", "Password", &p.password)?.to_owned()),
            p.change_required,
        ),
        Some(add_human_user_request::PasswordType::HashedPassword(_)) => {
            return Err(unsupported("hashed passwords"));
        }
        None => (None, false),
    };
    let (org_id, org_domain) = match r.organization.and_then(|o| o.org) {
        Some(object::organization::Org::OrgId(id)) => (Some(id), None),
        Some(object::organization::Org::OrgDomain(d)) => (None, Some(d)),
        None => (None, None),
    };
    Ok(HumanInput {
        user_id: r.user_id,
        username: r.username,
        org_id,
        org_domain,
        given_name: profile.given_name,
        family_name: profile.family_name,
        nick_name: profile.nick_name.unwrap_or_default(),
        display_name: profile.display_name.unwrap_or_default(),
        preferred_language: profile.preferred_language.unwrap_or_default(),
        gender: validate::defined_enum("SetHumanProfile", "Gender", profile.gender.unwrap_or(0), 3)?,
        email_mode: email_mode(email.verification.as_ref()),
        email_url_template: email_link(email.verification.as_ref()),
        email: email.email,
        phone: r
            .phone
            .filter(|p| !p.phone.is_empty())
            .map(|p| (p.phone.clone(), phone_mode(p.verification.as_ref()))),
        password,
        password_change_required: change_required,
    })
}

#[tonic::async_trait]
impl UserService for Users {
    async fn add_human_user(
        &self,
        req: Request<AddHumanUserRequest>,
    ) -> Result<Response<AddHumanUserResponse>, Status> {
        let ctx = ctx(&req)?;
        let input = human_input(req.into_inner())?;
        let added = self.app.add_human(&ctx, input).await.map_err(to_status)?;
        Ok(Response::new(AddHumanUserResponse {
            user_id: added.user_id,
            details: convert::v2_changed(added.details),
            email_code: added.email_code,
            phone_code: added.phone_code,
        }))
    }

    async fn get_user_by_id(&self, req: Request<GetUserByIdRequest>) -> Result<Response<GetUserByIdResponse>, Status> {
        let ctx = ctx(&req)?;
        let id = UserId::from(validate::id("GetUserByIDRequest", "UserId", &req.get_ref().user_id)?);
        let u = self.app.user_v2(&ctx, &id).await.map_err(to_status)?.into_inner();
        Ok(Response::new(GetUserByIdResponse {
            details: convert::v2_read(&u.details),
            user: Some(user(u)),
        }))
    }

    async fn list_users(&self, req: Request<ListUsersRequest>) -> Result<Response<ListUsersResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.get_ref();
        let (query, sort) = queries::users(r)?;
        let list = self
            .app
            .list_users(&ctx, &query, sort, queries::list_v2(r.query.as_ref())?)
            .await
            .map_err(to_status)?;
        Ok(Response::new(ListUsersResponse {
            details: convert::v2_list(list.total),
            sorting_column: r.sorting_column,
            result: list.users.into_iter().map(user).collect(),
        }))
    }

    async fn delete_user(&self, req: Request<DeleteUserRequest>) -> Result<Response<DeleteUserResponse>, Status> {
        let ctx = ctx(&req)?;
        let id = UserId::from(validate::id("DeleteUserRequest", "UserId", &req.get_ref().user_id)?);
        let d = self.app.delete_user_v2(&ctx, &id).await.map_err(to_status)?;
        Ok(Response::new(DeleteUserResponse {
            details: convert::v2_changed(d),
        }))
    }

    async fn lock_user(&self, req: Request<LockUserRequest>) -> Result<Response<LockUserResponse>, Status> {
        let ctx = ctx(&req)?;
        let id = UserId::from(validate::id("LockUserRequest", "UserId", &req.get_ref().user_id)?);
        let d = self.app.lock_user(&ctx, &id, true).await.map_err(to_status)?;
        Ok(Response::new(LockUserResponse {
            details: convert::v2_changed(d),
        }))
    }

    async fn unlock_user(&self, req: Request<UnlockUserRequest>) -> Result<Response<UnlockUserResponse>, Status> {
        let ctx = ctx(&req)?;
        let id = UserId::from(validate::id("UnlockUserRequest", "UserId", &req.get_ref().user_id)?);
        let d = self.app.lock_user(&ctx, &id, false).await.map_err(to_status)?;
        Ok(Response::new(UnlockUserResponse {
            details: convert::v2_changed(d),
        }))
    }

    async fn set_email(&self, req: Request<SetEmailRequest>) -> Result<Response<SetEmailResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.get_ref();
        let id = UserId::from(validate::id("SetEmailRequest", "UserId", &r.user_id)?);
        let mode = match &r.verification {
            Some(set_email_request::Verification::IsVerified(true)) => ContactMode::Verified,
            Some(set_email_request::Verification::IsVerified(false)) => ContactMode::Unverified,
            Some(set_email_request::Verification::ReturnCode(_)) => ContactMode::ReturnCode,
            _ => ContactMode::SendCode,
        };
        let link = match &r.verification {
            Some(set_email_request::Verification::SendCode(s)) => s.url_template.as_deref(),
            _ => None,
        };
        let (d, code) = self
            .app
            .set_email(&ctx, &id, &r.email, mode, link)
            .await
            .map_err(to_status)?;
        Ok(Response::new(SetEmailResponse {
            details: convert::v2_changed(d),
            verification_code: code,
        }))
    }

    async fn verify_email(&self, req: Request<VerifyEmailRequest>) -> Result<Response<VerifyEmailResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.get_ref();
        let id = UserId::from(validate::id("VerifyEmailRequest", "UserId", &r.user_id)?);
        let code = validate::id("VerifyEmailRequest", "VerificationCode", &r.verification_code)?;
        let d = self.app.verify_email(&ctx, &id, code).await.map_err(to_status)?;
        Ok(Response::new(VerifyEmailResponse {
            details: convert::v2_changed(d),
        }))
    }

    async fn set_phone(&self, req: Request<SetPhoneRequest>) -> Result<Response<SetPhoneResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.get_ref();
        let id = UserId::from(validate::id("SetPhoneRequest", "UserId", &r.user_id)?);
        let mode = match &r.verification {
            Some(set_phone_request::Verification::IsVerified(true)) => ContactMode::Verified,
            Some(set_phone_request::Verification::IsVerified(false)) => ContactMode::Unverified,
            Some(set_phone_request::Verification::ReturnCode(_)) => ContactMode::ReturnCode,
            _ => ContactMode::SendCode,
        };
        let (d, code) = self.app.set_phone(&ctx, &id, &r.phone, mode).await.map_err(to_status)?;
        Ok(Response::new(SetPhoneResponse {
            details: convert::v2_changed(d),
            verification_code: code,
        }))
    }

    async fn verify_phone(&self, req: Request<VerifyPhoneRequest>) -> Result<Response<VerifyPhoneResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.get_ref();
        let id = UserId::from(validate::id("VerifyPhoneRequest", "UserId", &r.user_id)?);
        let code = validate::id("VerifyPhoneRequest", "VerificationCode", &r.verification_code)?;
        let d = self.app.verify_phone(&ctx, &id, code).await.map_err(to_status)?;
        Ok(Response::new(VerifyPhoneResponse {
            details: convert::v2_changed(d),
        }))
    }

    async fn register_totp(&self, req: Request<RegisterTotpRequest>) -> Result<Response<RegisterTotpResponse>, Status> {
        let ctx = ctx(&req)?;
        let id = UserId::from(validate::id("RegisterTOTPRequest", "UserId", &req.get_ref().user_id)?);
        let t = self.app.register_totp(&ctx, &id).await.map_err(to_status)?;
        Ok(Response::new(RegisterTotpResponse {
            details: convert::v2_changed(t.details),
            uri: t.uri,
            secret: t.secret,
        }))
    }

    async fn verify_totp_registration(
        &self,
        req: Request<VerifyTotpRegistrationRequest>,
    ) -> Result<Response<VerifyTotpRegistrationResponse>, Status> {
        const M: &str = "VerifyTOTPRegistrationRequest";
        let ctx = ctx(&req)?;
        let r = req.get_ref();
        let id = UserId::from(validate::id(M, "UserId", &r.user_id)?);
        let code = validate::id(M, "Code", &r.code)?;
        let d = self
            .app
            .verify_totp_registration(&ctx, &id, code)
            .await
            .map_err(to_status)?;
        Ok(Response::new(VerifyTotpRegistrationResponse {
            details: convert::v2_changed(d),
        }))
    }

    async fn remove_totp(&self, req: Request<RemoveTotpRequest>) -> Result<Response<RemoveTotpResponse>, Status> {
        let ctx = ctx(&req)?;
        let id = UserId::from(validate::id("RemoveTOTPRequest", "UserId", &req.get_ref().user_id)?);
        let d = self
            .app
            .remove_factor(&ctx, &id, OtpKind::Totp, Via::UserApi)
            .await
            .map_err(to_status)?;
        Ok(Response::new(RemoveTotpResponse {
            details: convert::v2_changed(d),
        }))
    }

    async fn add_otpsms(&self, req: Request<AddOtpsmsRequest>) -> Result<Response<AddOtpsmsResponse>, Status> {
        let ctx = ctx(&req)?;
        let id = UserId::from(validate::id("AddOTPSMSRequest", "UserId", &req.get_ref().user_id)?);
        let d = self
            .app
            .add_factor(&ctx, &id, SimpleFactor::OtpSms)
            .await
            .map_err(to_status)?;
        Ok(Response::new(AddOtpsmsResponse {
            details: convert::v2_changed(d),
        }))
    }

    async fn remove_otpsms(&self, req: Request<RemoveOtpsmsRequest>) -> Result<Response<RemoveOtpsmsResponse>, Status> {
        let ctx = ctx(&req)?;
        let id = UserId::from(validate::id("RemoveOTPSMSRequest", "UserId", &req.get_ref().user_id)?);
        let d = self
            .app
            .remove_factor(&ctx, &id, OtpKind::Sms, Via::UserApi)
            .await
            .map_err(to_status)?;
        Ok(Response::new(RemoveOtpsmsResponse {
            details: convert::v2_changed(d),
        }))
    }

    async fn add_otp_email(&self, req: Request<AddOtpEmailRequest>) -> Result<Response<AddOtpEmailResponse>, Status> {
        let ctx = ctx(&req)?;
        let id = UserId::from(validate::id("AddOTPEmailRequest", "UserId", &req.get_ref().user_id)?);
        let d = self
            .app
            .add_factor(&ctx, &id, SimpleFactor::OtpEmail)
            .await
            .map_err(to_status)?;
        Ok(Response::new(AddOtpEmailResponse {
            details: convert::v2_changed(d),
        }))
    }

    async fn remove_otp_email(
        &self,
        req: Request<RemoveOtpEmailRequest>,
    ) -> Result<Response<RemoveOtpEmailResponse>, Status> {
        let ctx = ctx(&req)?;
        let id = UserId::from(validate::id("RemoveOTPEmailRequest", "UserId", &req.get_ref().user_id)?);
        let d = self
            .app
            .remove_factor(&ctx, &id, OtpKind::Email, Via::UserApi)
            .await
            .map_err(to_status)?;
        Ok(Response::new(RemoveOtpEmailResponse {
            details: convert::v2_changed(d),
        }))
    }

    async fn register_u2f(&self, req: Request<RegisterU2fRequest>) -> Result<Response<RegisterU2fResponse>, Status> {
        let ctx = ctx(&req)?;
        let host = host(&req);
        let r = req.get_ref();
        let id = UserId::from(validate::id("RegisterU2FRequest", "UserId", &r.user_id)?);
        let u = self
            .app
            .register_u2f(&ctx, &id, &r.domain, &host)
            .await
            .map_err(to_status)?;
        Ok(Response::new(RegisterU2fResponse {
            details: convert::v2_changed(u.details),
            u2f_id: u.token_id,
            public_key_credential_creation_options: Some(convert::json_to_struct(u.options)),
        }))
    }

    async fn verify_u2f_registration(
        &self,
        req: Request<VerifyU2fRegistrationRequest>,
    ) -> Result<Response<VerifyU2fRegistrationResponse>, Status> {
        const M: &str = "VerifyU2FRegistrationRequest";
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let user_id = UserId::from(validate::id(M, "UserId", &r.user_id)?);
        validate::id(M, "TokenName", &r.token_name)?;
        let credential = r
            .public_key_credential
            .ok_or_else(|| validate::invalid_field(M, "PublicKeyCredential", "value is required"))?;
        let d = self
            .app
            .verify_u2f(
                &ctx,
                &user_id,
                &r.u2f_id,
                convert::struct_to_json(credential),
                &r.token_name,
            )
            .await
            .map_err(to_status)?;
        Ok(Response::new(VerifyU2fRegistrationResponse {
            details: convert::v2_changed(d),
        }))
    }

    async fn remove_u2f(&self, req: Request<RemoveU2fRequest>) -> Result<Response<RemoveU2fResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.get_ref();
        let id = UserId::from(validate::id("RemoveU2FRequest", "UserId", &r.user_id)?);
        let token = validate::id("RemoveU2FRequest", "U2fId", &r.u2f_id)?;
        let d = self
            .app
            .remove_u2f(&ctx, &id, token, Via::UserApi)
            .await
            .map_err(to_status)?;
        Ok(Response::new(RemoveU2fResponse {
            details: convert::v2_changed(d),
        }))
    }

    async fn list_authentication_method_types(
        &self,
        req: Request<ListAuthenticationMethodTypesRequest>,
    ) -> Result<Response<ListAuthenticationMethodTypesResponse>, Status> {
        let ctx = ctx(&req)?;
        let id = UserId::from(validate::id(
            "ListAuthenticationMethodTypesRequest",
            "UserId",
            &req.get_ref().user_id,
        )?);
        let u = self.app.authentication_methods(&ctx, &id).await.map_err(to_status)?;
        let mut types = Vec::new();
        {
            let f = &u.factors;
            if f.totp == Some(Readiness::Ready) {
                types.push(AuthenticationMethodType::Totp);
            }
            if f.u2f.iter().any(|t| t.readiness == Readiness::Ready) {
                types.push(AuthenticationMethodType::U2f);
            }
            if !f.passkeys.is_empty() {
                types.push(AuthenticationMethodType::Passkey);
            }
            if f.otp_sms {
                types.push(AuthenticationMethodType::OtpSms);
            }
            if f.otp_email {
                types.push(AuthenticationMethodType::OtpEmail);
            }
            if f.recovery_codes > 0 {
                types.push(AuthenticationMethodType::RecoveryCode);
            }
            if u.human().is_some_and(|h| h.password_set) {
                types.push(AuthenticationMethodType::Password);
            }
        }
        Ok(Response::new(ListAuthenticationMethodTypesResponse {
            details: convert::v2_list(types.len()),
            auth_method_types: types.into_iter().map(|t| t as i32).collect(),
        }))
    }

    async fn generate_recovery_codes(
        &self,
        req: Request<GenerateRecoveryCodesRequest>,
    ) -> Result<Response<GenerateRecoveryCodesResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.get_ref();
        let id = UserId::from(validate::id("GenerateRecoveryCodesRequest", "UserId", &r.user_id)?);
        let count = if r.count == 0 {
            DEFAULT_RECOVERY_CODES
        } else {
            r.count.max(0) as usize
        };
        let (d, codes) = self
            .app
            .generate_recovery_codes(&ctx, &id, count)
            .await
            .map_err(to_status)?;
        Ok(Response::new(GenerateRecoveryCodesResponse {
            details: convert::v2_changed(d),
            recovery_codes: codes,
        }))
    }

    async fn remove_recovery_codes(
        &self,
        req: Request<RemoveRecoveryCodesRequest>,
    ) -> Result<Response<RemoveRecoveryCodesResponse>, Status> {
        let ctx = ctx(&req)?;
        let id = UserId::from(validate::id(
            "RemoveRecoveryCodesRequest",
            "UserId",
            &req.get_ref().user_id,
        )?);
        let d = self.app.remove_recovery_codes(&ctx, &id).await.map_err(to_status)?;
        Ok(Response::new(RemoveRecoveryCodesResponse {
            details: convert::v2_changed(d),
        }))
    }

    async fn password_reset(
        &self,
        req: Request<PasswordResetRequest>,
    ) -> Result<Response<PasswordResetResponse>, Status> {
        crate::passwords::password_reset(&self.app, req).await
    }

    async fn set_password(&self, req: Request<SetPasswordRequest>) -> Result<Response<SetPasswordResponse>, Status> {
        crate::passwords::set_password(&self.app, req).await
    }

    async fn add_personal_access_token(
        &self,
        req: Request<AddPersonalAccessTokenRequest>,
    ) -> Result<Response<AddPersonalAccessTokenResponse>, Status> {
        crate::user_tokens::add(&self.app, req).await
    }

    async fn remove_personal_access_token(
        &self,
        req: Request<RemovePersonalAccessTokenRequest>,
    ) -> Result<Response<RemovePersonalAccessTokenResponse>, Status> {
        crate::user_tokens::remove(&self.app, req).await
    }

    async fn list_personal_access_tokens(
        &self,
        req: Request<ListPersonalAccessTokensRequest>,
    ) -> Result<Response<ListPersonalAccessTokensResponse>, Status> {
        crate::user_tokens::list(&self.app, req).await
    }

    // --- Handed over to users_v2_admin -------------------------------------

    async fn deactivate_user(
        &self,
        req: Request<DeactivateUserRequest>,
    ) -> Result<Response<DeactivateUserResponse>, Status> {
        users_v2_admin::deactivate_user(&self.app, req).await
    }

    async fn reactivate_user(
        &self,
        req: Request<ReactivateUserRequest>,
    ) -> Result<Response<ReactivateUserResponse>, Status> {
        users_v2_admin::reactivate_user(&self.app, req).await
    }

    async fn send_email_code(
        &self,
        req: Request<SendEmailCodeRequest>,
    ) -> Result<Response<SendEmailCodeResponse>, Status> {
        users_v2_admin::send_email_code(&self.app, req).await
    }

    async fn resend_email_code(
        &self,
        req: Request<ResendEmailCodeRequest>,
    ) -> Result<Response<ResendEmailCodeResponse>, Status> {
        users_v2_admin::resend_email_code(&self.app, req).await
    }

    async fn resend_phone_code(
        &self,
        req: Request<ResendPhoneCodeRequest>,
    ) -> Result<Response<ResendPhoneCodeResponse>, Status> {
        users_v2_admin::resend_phone_code(&self.app, req).await
    }

    async fn remove_phone(&self, req: Request<RemovePhoneRequest>) -> Result<Response<RemovePhoneResponse>, Status> {
        users_v2_admin::remove_phone(&self.app, req).await
    }

    async fn create_user(&self, req: Request<CreateUserRequest>) -> Result<Response<CreateUserResponse>, Status> {
        users_v2_admin::create_user(&self.app, req).await
    }

    async fn update_user(&self, req: Request<UpdateUserRequest>) -> Result<Response<UpdateUserResponse>, Status> {
        users_v2_admin::update_user(&self.app, req).await
    }

    async fn update_human_user(
        &self,
        req: Request<UpdateHumanUserRequest>,
    ) -> Result<Response<UpdateHumanUserResponse>, Status> {
        users_v2_admin::update_human_user(&self.app, req).await
    }

    async fn list_authentication_factors(
        &self,
        req: Request<ListAuthenticationFactorsRequest>,
    ) -> Result<Response<ListAuthenticationFactorsResponse>, Status> {
        users_v2_admin::list_authentication_factors(&self.app, req).await
    }

    async fn human_mfa_init_skipped(
        &self,
        req: Request<HumanMfaInitSkippedRequest>,
    ) -> Result<Response<HumanMfaInitSkippedResponse>, Status> {
        users_v2_admin::human_mfa_init_skipped(&self.app, req).await
    }

    async fn list_idp_links(
        &self,
        req: Request<ListIdpLinksRequest>,
    ) -> Result<Response<ListIdpLinksResponse>, Status> {
        users_v2_admin::list_idp_links(&self.app, req).await
    }

    async fn create_invite_code(
        &self,
        req: Request<CreateInviteCodeRequest>,
    ) -> Result<Response<CreateInviteCodeResponse>, Status> {
        users_v2_admin::create_invite_code(&self.app, req).await
    }

    async fn resend_invite_code(
        &self,
        req: Request<ResendInviteCodeRequest>,
    ) -> Result<Response<ResendInviteCodeResponse>, Status> {
        users_v2_admin::resend_invite_code(&self.app, req).await
    }

    async fn verify_invite_code(
        &self,
        req: Request<VerifyInviteCodeRequest>,
    ) -> Result<Response<VerifyInviteCodeResponse>, Status> {
        users_v2_admin::verify_invite_code(&self.app, req).await
    }

    async fn register_passkey(
        &self,
        req: Request<RegisterPasskeyRequest>,
    ) -> Result<Response<RegisterPasskeyResponse>, Status> {
        passkeys::register_passkey(&self.app, req).await
    }

    async fn verify_passkey_registration(
        &self,
        req: Request<VerifyPasskeyRegistrationRequest>,
    ) -> Result<Response<VerifyPasskeyRegistrationResponse>, Status> {
        passkeys::verify_passkey_registration(&self.app, req).await
    }

    async fn create_passkey_registration_link(
        &self,
        req: Request<CreatePasskeyRegistrationLinkRequest>,
    ) -> Result<Response<CreatePasskeyRegistrationLinkResponse>, Status> {
        passkeys::create_passkey_registration_link(&self.app, req).await
    }

    async fn list_passkeys(&self, req: Request<ListPasskeysRequest>) -> Result<Response<ListPasskeysResponse>, Status> {
        passkeys::list_passkeys(&self.app, req).await
    }

    async fn remove_passkey(
        &self,
        req: Request<RemovePasskeyRequest>,
    ) -> Result<Response<RemovePasskeyResponse>, Status> {
        passkeys::remove_passkey(&self.app, req).await
    }
}
