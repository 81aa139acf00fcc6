//! The UserService v2 calls a login and a user admin need beyond the first
//! set: CreateUser, UpdateUser/UpdateHumanUser, Deactivate/ReactivateUser,
//! email and phone codes, ListAuthenticationFactors, HumanMFAInitSkipped,
//! ListIDPLinks and invite codes. The trait methods in [`crate::users`]
//! hand over to these; each use case applies the check its RPC declares.

use tonic::{Request, Response, Status};
use twofold_app::App;
use twofold_app::humans::{ContactMode, HumanInput};
use twofold_app::invites::InviteDelivery;
use twofold_app::password_reset::SetPasswordBy;
use twofold_app::user_update::{PasswordChange, PhoneChange, UpdateKind, UserUpdate};
use twofold_app::users::NewMachineUser;
use twofold_domain::readmodel::directory::Readiness;
use twofold_domain::user_update::ProfileUpdate;
use twofold_domain::{DomainError, UserId};
use twofold_proto::zitadel::user::v2::*;

use crate::auth::ctx;
use crate::error::to_status;
use crate::users::{email_link, email_mode, phone_mode, unsupported};
use crate::{convert, validate};

fn user_id(message: &str, id: &str) -> Result<UserId, Status> {
    Ok(UserId::from(validate::id(message, "UserId", id)?))
}

/// Verification codes are 1 to 20 characters.
fn code<'a>(message: &str, code: &'a str) -> Result<&'a str, Status> {
    validate::text(message, "VerificationCode", code, 1, 20)
}

fn optional(message: &str, field: &str, value: Option<&String>, max: usize) -> Result<(), Status> {
    match value {
        Some(v) => validate::text(message, field, v, 1, max).map(|_| ()),
        None => Ok(()),
    }
}

pub async fn deactivate_user(
    app: &App,
    req: Request<DeactivateUserRequest>,
) -> Result<Response<DeactivateUserResponse>, Status> {
    let ctx = ctx(&req)?;
    let id = user_id("DeactivateUserRequest", &req.get_ref().user_id)?;
    let d = app.set_user_active(&ctx, &id, true).await.map_err(to_status)?;
    Ok(Response::new(DeactivateUserResponse {
        details: convert::v2_changed(d),
    }))
}

pub async fn reactivate_user(
    app: &App,
    req: Request<ReactivateUserRequest>,
) -> Result<Response<ReactivateUserResponse>, Status> {
    let ctx = ctx(&req)?;
    let id = user_id("ReactivateUserRequest", &req.get_ref().user_id)?;
    let d = app.set_user_active(&ctx, &id, false).await.map_err(to_status)?;
    Ok(Response::new(ReactivateUserResponse {
        details: convert::v2_changed(d),
    }))
}

fn email_code_mode(return_code: bool, template: Option<&String>, message: &str) -> Result<ContactMode, Status> {
    optional(message, "UrlTemplate", template, 200)?;
    Ok(if return_code {
        ContactMode::ReturnCode
    } else {
        ContactMode::SendCode
    })
}

pub async fn send_email_code(
    app: &App,
    req: Request<SendEmailCodeRequest>,
) -> Result<Response<SendEmailCodeResponse>, Status> {
    const M: &str = "SendEmailCodeRequest";
    let ctx = ctx(&req)?;
    let r = req.get_ref();
    let id = user_id(M, &r.user_id)?;
    let (ret, template) = match &r.verification {
        Some(send_email_code_request::Verification::ReturnCode(_)) => (true, None),
        Some(send_email_code_request::Verification::SendCode(s)) => (false, s.url_template.as_ref()),
        None => (false, None),
    };
    let mode = email_code_mode(ret, template, "SendEmailVerificationCode")?;
    let (d, code) = app
        .email_code(&ctx, &id, mode, template.map(String::as_str), false)
        .await
        .map_err(to_status)?;
    Ok(Response::new(SendEmailCodeResponse {
        details: convert::v2_changed(d),
        verification_code: code,
    }))
}

pub async fn resend_email_code(
    app: &App,
    req: Request<ResendEmailCodeRequest>,
) -> Result<Response<ResendEmailCodeResponse>, Status> {
    const M: &str = "ResendEmailCodeRequest";
    let ctx = ctx(&req)?;
    let r = req.get_ref();
    let id = user_id(M, &r.user_id)?;
    let (ret, template) = match &r.verification {
        Some(resend_email_code_request::Verification::ReturnCode(_)) => (true, None),
        Some(resend_email_code_request::Verification::SendCode(s)) => (false, s.url_template.as_ref()),
        None => (false, None),
    };
    let mode = email_code_mode(ret, template, "SendEmailVerificationCode")?;
    let (d, code) = app
        .email_code(&ctx, &id, mode, template.map(String::as_str), true)
        .await
        .map_err(to_status)?;
    Ok(Response::new(ResendEmailCodeResponse {
        details: convert::v2_changed(d),
        verification_code: code,
    }))
}

pub async fn resend_phone_code(
    app: &App,
    req: Request<ResendPhoneCodeRequest>,
) -> Result<Response<ResendPhoneCodeResponse>, Status> {
    let ctx = ctx(&req)?;
    let r = req.get_ref();
    let id = user_id("ResendPhoneCodeRequest", &r.user_id)?;
    let mode = match &r.verification {
        Some(resend_phone_code_request::Verification::ReturnCode(_)) => ContactMode::ReturnCode,
        _ => ContactMode::SendCode,
    };
    let (d, code) = app.resend_phone_code(&ctx, &id, mode).await.map_err(to_status)?;
    Ok(Response::new(ResendPhoneCodeResponse {
        details: convert::v2_changed(d),
        verification_code: code,
    }))
}

pub async fn remove_phone(
    app: &App,
    req: Request<RemovePhoneRequest>,
) -> Result<Response<RemovePhoneResponse>, Status> {
    let ctx = ctx(&req)?;
    let id = user_id("RemovePhoneRequest", &req.get_ref().user_id)?;
    let d = app.remove_phone(&ctx, &id).await.map_err(to_status)?;
    Ok(Response::new(RemovePhoneResponse {
        details: convert::v2_changed(d),
    }))
}

fn human_input(
    org_id: String,
    user_id: Option<String>,
    username: Option<String>,
    h: create_user_request::Human,
) -> Result<HumanInput, Status> {
    const M: &str = "CreateUserRequest_Human";
    if !h.metadata.is_empty() {
        return Err(unsupported("user metadata"));
    }
    if !h.idp_links.is_empty() {
        return Err(unsupported("identity provider links"));
    }
    if h.totp_secret.is_some() {
        return Err(unsupported("imported TOTP secrets"));
    }
    let profile = h
        .profile
        .ok_or_else(|| validate::invalid_field(M, "Profile", "value is required"))?;
    let email = h
        .email
        .ok_or_else(|| validate::invalid_field(M, "Email", "value is required"))?;
    validate::id("SetHumanProfile", "GivenName", &profile.given_name)?;
    validate::id("SetHumanProfile", "FamilyName", &profile.family_name)?;
    let (password, change_required) = match h.password_type {
        Some(create_user_request::human::PasswordType::Password(p)) => (
            Some(validate::id("Password", "Password", &p.password)?.to_owned()),
            p.change_required,
        ),
        Some(create_user_request::human::PasswordType::HashedPassword(_)) => {
            return Err(unsupported("hashed passwords"));
        }
        None => (None, false),
    };
    Ok(HumanInput {
        user_id,
        username,
        org_id: Some(org_id),
        org_domain: None,
        given_name: profile.given_name,
        family_name: profile.family_name,
        nick_name: profile.nick_name.unwrap_or_default(),
        display_name: profile.display_name.unwrap_or_default(),
        preferred_language: profile.preferred_language.unwrap_or_default(),
        gender: validate::defined_enum("SetHumanProfile", "Gender", profile.gender.unwrap_or(0), 3)?,
        email_mode: email_mode(email.verification.as_ref()),
        email_url_template: email_link(email.verification.as_ref()),
        email: email.email,
        phone: h
            .phone
            .filter(|p| !p.phone.is_empty())
            .map(|p| (p.phone.clone(), phone_mode(p.verification.as_ref()))),
        password,
        password_change_required: change_required,
    })
}

pub async fn create_user(app: &App, req: Request<CreateUserRequest>) -> Result<Response<CreateUserResponse>, Status> {
    const M: &str = "CreateUserRequest";
    let ctx = ctx(&req)?;
    let r = req.into_inner();
    validate::id(M, "OrganizationId", &r.organization_id)?;
    optional(M, "UserId", r.user_id.as_ref(), 200)?;
    optional(M, "Username", r.username.as_ref(), 200)?;
    match r.user_type {
        Some(create_user_request::UserType::Human(h)) => {
            let input = human_input(r.organization_id, r.user_id, r.username, h)?;
            let added = app.add_human(&ctx, input).await.map_err(to_status)?;
            Ok(Response::new(CreateUserResponse {
                id: added.user_id,
                creation_date: Some(convert::timestamp(added.details.date)),
                email_code: added.email_code,
                phone_code: added.phone_code,
            }))
        }
        Some(create_user_request::UserType::Machine(m)) => {
            const MM: &str = "CreateUserRequest_Machine";
            validate::id(MM, "Name", &m.name)?;
            optional(MM, "Description", m.description.as_ref(), 500)?;
            let new = NewMachineUser {
                user_name: r.username.unwrap_or_default(),
                name: m.name,
                description: m.description.unwrap_or_default(),
                access_token_type: AccessTokenType::Bearer as i32,
                user_id: r.user_id,
            };
            let (id, d) = app
                .create_machine_user(&ctx, &r.organization_id, new)
                .await
                .map_err(to_status)?;
            Ok(Response::new(CreateUserResponse {
                id,
                creation_date: Some(convert::timestamp(d.date)),
                email_code: None,
                phone_code: None,
            }))
        }
        None => Err(validate::invalid_field(M, "UserType", "value is required")),
    }
}

/// The password of an update, with its proof as SetPassword takes it
/// (none: the caller's `user.write`).
fn password_change(p: Option<SetPassword>) -> Result<Option<Box<PasswordChange>>, Status> {
    const M: &str = "SetPassword";
    let Some(p) = p else { return Ok(None) };
    let (password, change_required) = match p.password_type {
        Some(set_password::PasswordType::Password(p)) => (
            validate::id("Password", "Password", &p.password)?.to_owned(),
            p.change_required,
        ),
        Some(set_password::PasswordType::HashedPassword(_)) => return Err(unsupported("hashed passwords")),
        None => return Err(validate::invalid_field(M, "PasswordType", "value is required")),
    };
    let by = match p.verification {
        Some(set_password::Verification::CurrentPassword(c)) => {
            SetPasswordBy::CurrentPassword(validate::id(M, "CurrentPassword", &c)?.to_owned())
        }
        Some(set_password::Verification::VerificationCode(c)) => {
            SetPasswordBy::Code(validate::text(M, "VerificationCode", &c, 1, 20)?.to_owned())
        }
        None => SetPasswordBy::Permission,
    };
    Ok(Some(Box::new(PasswordChange {
        password,
        change_required,
        by,
    })))
}

/// A profile field of UpdateHumanUser: empty means unchanged.
fn unless_empty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.is_empty())
}

pub async fn update_human_user(
    app: &App,
    req: Request<UpdateHumanUserRequest>,
) -> Result<Response<UpdateHumanUserResponse>, Status> {
    const M: &str = "UpdateHumanUserRequest";
    let ctx = ctx(&req)?;
    let r = req.into_inner();
    let id = user_id(M, &r.user_id)?;
    optional(M, "Username", r.username.as_ref(), 200)?;
    let password = password_change(r.password)?;
    let profile = match r.profile {
        Some(p) => {
            validate::id("SetHumanProfile", "GivenName", &p.given_name)?;
            validate::id("SetHumanProfile", "FamilyName", &p.family_name)?;
            ProfileUpdate {
                given_name: Some(p.given_name),
                family_name: Some(p.family_name),
                nick_name: unless_empty(p.nick_name),
                display_name: unless_empty(p.display_name),
                preferred_language: unless_empty(p.preferred_language),
                gender: p
                    .gender
                    .map(|g| validate::defined_enum("SetHumanProfile", "Gender", g, 3))
                    .transpose()?,
            }
        }
        None => ProfileUpdate::default(),
    };
    let update = UserUpdate {
        user_name: r.username,
        kind: UpdateKind::Human {
            profile,
            email_link: r.email.as_ref().and_then(|e| email_link(e.verification.as_ref())),
            email: r.email.map(|e| {
                let mode = email_mode(e.verification.as_ref());
                (e.email, mode)
            }),
            // This call never removes the phone: an empty number is "unchanged".
            phone: r.phone.filter(|p| !p.phone.is_empty()).map(|p| {
                let mode = phone_mode(p.verification.as_ref());
                PhoneChange::Set(p.phone, mode)
            }),
            password,
        },
    };
    let u = app.update_user(&ctx, &id, update).await.map_err(to_status)?;
    Ok(Response::new(UpdateHumanUserResponse {
        details: convert::v2_changed(u.details),
        email_code: u.email_code,
        phone_code: u.phone_code,
    }))
}

pub async fn update_user(app: &App, req: Request<UpdateUserRequest>) -> Result<Response<UpdateUserResponse>, Status> {
    const M: &str = "UpdateUserRequest";
    let ctx = ctx(&req)?;
    let r = req.into_inner();
    let id = user_id(M, &r.user_id)?;
    optional(M, "Username", r.username.as_ref(), 200)?;
    let kind = match r.user_type {
        Some(update_user_request::UserType::Human(h)) => {
            let password = password_change(h.password)?;
            let profile = match h.profile {
                Some(p) => {
                    const P: &str = "UpdateUserRequest_Human_Profile";
                    for (field, value, max) in [
                        ("GivenName", p.given_name.as_ref(), 200),
                        ("FamilyName", p.family_name.as_ref(), 200),
                        ("NickName", p.nick_name.as_ref(), 200),
                        ("DisplayName", p.display_name.as_ref(), 200),
                        ("PreferredLanguage", p.preferred_language.as_ref(), 10),
                    ] {
                        optional(P, field, value, max)?;
                    }
                    ProfileUpdate {
                        given_name: p.given_name,
                        family_name: p.family_name,
                        nick_name: p.nick_name,
                        display_name: p.display_name,
                        preferred_language: p.preferred_language,
                        gender: p
                            .gender
                            .map(|g| validate::defined_enum(P, "Gender", g, 3))
                            .transpose()?,
                    }
                }
                None => ProfileUpdate::default(),
            };
            let phone = match h.phone {
                // An empty number removes the phone; it cannot come with a verification.
                Some(p) if p.phone.is_empty() && p.verification.is_some() => {
                    return Err(to_status(DomainError::invalid(
                        "USERv2-4f3d6",
                        "Verifying phone removal is not supported",
                    )));
                }
                Some(p) if p.phone.is_empty() => Some(PhoneChange::Remove),
                Some(p) => {
                    let mode = phone_mode(p.verification.as_ref());
                    Some(PhoneChange::Set(p.phone, mode))
                }
                None => None,
            };
            UpdateKind::Human {
                profile,
                email_link: h.email.as_ref().and_then(|e| email_link(e.verification.as_ref())),
                email: h.email.map(|e| {
                    let mode = email_mode(e.verification.as_ref());
                    (e.email, mode)
                }),
                phone,
                password,
            }
        }
        Some(update_user_request::UserType::Machine(m)) => {
            const MM: &str = "UpdateUserRequest_Machine";
            if let Some(name) = &m.name {
                validate::text(MM, "Name", name, 0, 200)?;
            }
            if let Some(d) = &m.description {
                validate::text(MM, "Description", d, 0, 500)?;
            }
            UpdateKind::Machine {
                name: m.name,
                description: m.description,
            }
        }
        None => return Err(Status::unimplemented("user type is not implemented")),
    };
    let u = app
        .update_user(
            &ctx,
            &id,
            UserUpdate {
                user_name: r.username,
                kind,
            },
        )
        .await
        .map_err(to_status)?;
    Ok(Response::new(UpdateUserResponse {
        change_date: Some(convert::timestamp(u.details.date)),
        email_code: u.email_code,
        phone_code: u.phone_code,
    }))
}

pub async fn list_authentication_factors(
    app: &App,
    req: Request<ListAuthenticationFactorsRequest>,
) -> Result<Response<ListAuthenticationFactorsResponse>, Status> {
    let ctx = ctx(&req)?;
    let r = req.get_ref();
    let id = user_id("ListAuthenticationFactorsRequest", &r.user_id)?;
    let u = app.authentication_methods(&ctx, &id).await.map_err(to_status)?;
    // Defaults: all four types, READY only.
    let wants_type = |t: AuthFactors| r.auth_factors.is_empty() || r.auth_factors.contains(&(t as i32));
    let wants_state = |s: AuthFactorState| {
        if r.states.is_empty() {
            s == AuthFactorState::Ready
        } else {
            r.states.contains(&(s as i32))
        }
    };
    let state = |readiness: Readiness| match readiness {
        Readiness::Ready => AuthFactorState::Ready,
        Readiness::NotReady => AuthFactorState::NotReady,
    };
    let f = &u.factors;
    let mut found = Vec::new();
    if let Some(totp) = f.totp {
        found.push((AuthFactors::Otp, state(totp), auth_factor::Type::Otp(AuthFactorOtp {})));
    }
    for t in &f.u2f {
        let key = AuthFactorU2f {
            id: t.id.clone(),
            name: t.name.clone(),
        };
        found.push((AuthFactors::U2f, state(t.readiness), auth_factor::Type::U2f(key)));
    }
    if f.otp_sms {
        let t = auth_factor::Type::OtpSms(AuthFactorOtpsms {});
        found.push((AuthFactors::OtpSms, AuthFactorState::Ready, t));
    }
    if f.otp_email {
        let t = auth_factor::Type::OtpEmail(AuthFactorOtpEmail {});
        found.push((AuthFactors::OtpEmail, AuthFactorState::Ready, t));
    }
    let result = found
        .into_iter()
        .filter(|(kind, state, _)| wants_type(*kind) && wants_state(*state))
        .map(|(_, state, t)| AuthFactor {
            state: state as i32,
            r#type: Some(t),
        })
        .collect();
    Ok(Response::new(ListAuthenticationFactorsResponse { result }))
}

pub async fn human_mfa_init_skipped(
    app: &App,
    req: Request<HumanMfaInitSkippedRequest>,
) -> Result<Response<HumanMfaInitSkippedResponse>, Status> {
    let ctx = ctx(&req)?;
    let id = user_id("HumanMFAInitSkippedRequest", &req.get_ref().user_id)?;
    let d = app.mfa_init_skipped(&ctx, &id).await.map_err(to_status)?;
    Ok(Response::new(HumanMfaInitSkippedResponse {
        details: convert::v2_changed(d),
    }))
}

/// Twofold links no identity providers yet: every user's list is empty.
pub async fn list_idp_links(
    app: &App,
    req: Request<ListIdpLinksRequest>,
) -> Result<Response<ListIdpLinksResponse>, Status> {
    let ctx = ctx(&req)?;
    let id = user_id("ListIDPLinksRequest", &req.get_ref().user_id)?;
    app.user_v2(&ctx, &id).await.map_err(to_status)?;
    Ok(Response::new(ListIdpLinksResponse {
        details: convert::v2_list(0),
        result: vec![],
    }))
}

pub async fn create_invite_code(
    app: &App,
    req: Request<CreateInviteCodeRequest>,
) -> Result<Response<CreateInviteCodeResponse>, Status> {
    const S: &str = "SendInviteCode";
    let ctx = ctx(&req)?;
    let r = req.into_inner();
    let id = user_id("CreateInviteCodeRequest", &r.user_id)?;
    let delivery = match r.verification {
        Some(create_invite_code_request::Verification::ReturnCode(_)) => InviteDelivery::Return,
        Some(create_invite_code_request::Verification::SendCode(s)) => {
            optional(S, "UrlTemplate", s.url_template.as_ref(), 200)?;
            optional(S, "ApplicationName", s.application_name.as_ref(), 200)?;
            InviteDelivery::Send {
                url_template: s.url_template.unwrap_or_default(),
                application_name: s.application_name.unwrap_or_default(),
            }
        }
        None => InviteDelivery::Send {
            url_template: String::new(),
            application_name: String::new(),
        },
    };
    let (d, code) = app.invite_code(&ctx, &id, delivery, false).await.map_err(to_status)?;
    Ok(Response::new(CreateInviteCodeResponse {
        details: convert::v2_changed(d),
        invite_code: code,
    }))
}

pub async fn resend_invite_code(
    app: &App,
    req: Request<ResendInviteCodeRequest>,
) -> Result<Response<ResendInviteCodeResponse>, Status> {
    let ctx = ctx(&req)?;
    let id = user_id("ResendInviteCodeRequest", &req.get_ref().user_id)?;
    // Sent like the pending invite (its template and application name).
    let again = InviteDelivery::Send {
        url_template: String::new(),
        application_name: String::new(),
    };
    let (d, _) = app.invite_code(&ctx, &id, again, true).await.map_err(to_status)?;
    Ok(Response::new(ResendInviteCodeResponse {
        details: convert::v2_changed(d),
    }))
}

pub async fn verify_invite_code(
    app: &App,
    req: Request<VerifyInviteCodeRequest>,
) -> Result<Response<VerifyInviteCodeResponse>, Status> {
    const M: &str = "VerifyInviteCodeRequest";
    let ctx = ctx(&req)?;
    let r = req.get_ref();
    let id = user_id(M, &r.user_id)?;
    let code = code(M, &r.verification_code)?;
    let d = app.verify_invite_code(&ctx, &id, code).await.map_err(to_status)?;
    Ok(Response::new(VerifyInviteCodeResponse {
        details: convert::v2_changed(d),
    }))
}
