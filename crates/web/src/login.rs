//! The sign-in pages: login name, password, the second-factor chooser and
//! each factor's page, and the finish (OIDC callback or the account page).
//! Each step is one Session API use case called as the login client with
//! the session's token; what a step may do is decided there.

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::header::SET_COOKIE;
use http::{HeaderValue, StatusCode};
use serde::Deserialize;
use twofold_app::oidc::Callback;
use twofold_app::sessions::{ChallengeRequests, Checks, SessionChange, UserRef};
use twofold_domain::factors::SecondFactor;
use twofold_domain::login_flow::Next;
use twofold_domain::readmodel::directory::UserView;
use twofold_domain::readmodel::login_policy::LoginPolicyView;
use twofold_domain::readmodel::session::SessionView;
use twofold_domain::{DomainError, ErrorKind};

use crate::catalog::Catalog;
use crate::errors::{self, render};
use crate::visit::{LoginCookie, SESSION_COOKIE, Visit};
use crate::web::{Web, rpc};

pub const START: &str = "/ui/login/login";
pub(crate) const NEXT: &str = "/ui/login/mfa";

/// A handler's early answer (a redirect or an error page).
pub type Early<T> = Result<T, Response>;

/// An OIDC auth request ID as the authorize endpoint makes them.
pub(crate) fn auth_request_id(s: &str) -> Option<String> {
    let ok = s.len() <= 128
        && s.starts_with("V2_")
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    ok.then(|| s.to_owned())
}

/// The path segment of a factor's page.
pub fn factor_path(f: SecondFactor) -> &'static str {
    match f {
        SecondFactor::Otp => "totp",
        SecondFactor::U2f => "u2f",
        SecondFactor::OtpSms => "otp-sms",
        SecondFactor::OtpEmail => "otp-email",
        SecondFactor::RecoveryCodes => "recovery",
    }
}

fn factor_of_path(p: &str) -> Option<SecondFactor> {
    [
        SecondFactor::Otp,
        SecondFactor::U2f,
        SecondFactor::OtpSms,
        SecondFactor::OtpEmail,
        SecondFactor::RecoveryCodes,
    ]
    .into_iter()
    .find(|f| factor_path(*f) == p)
}

fn factor_label(t: &Catalog, f: SecondFactor) -> &'static str {
    t.get(match f {
        SecondFactor::Otp => "mfa.factor.totp",
        SecondFactor::U2f => "mfa.factor.u2f",
        SecondFactor::OtpSms => "mfa.factor.otp-sms",
        SecondFactor::OtpEmail => "mfa.factor.otp-email",
        SecondFactor::RecoveryCodes => "mfa.factor.recovery",
    })
}

/// A redirect (303) that also stores `cookie`.
pub fn redirect_with(web: &Web, to: &str, cookie: &LoginCookie) -> Response {
    let mut resp = Redirect::to(to).into_response();
    set_login_cookie(web, &mut resp, cookie);
    resp
}

pub fn set_login_cookie(web: &Web, resp: &mut Response, cookie: &LoginCookie) {
    if let Ok(v) = HeaderValue::from_str(&web.cookie_header(SESSION_COOKIE, &web.seal_login(cookie))) {
        resp.headers_mut().append(SET_COOKIE, v);
    }
}

/// The cookie after a session change (its token rotates with each).
pub(crate) fn rotated(cookie: &LoginCookie, change: &SessionChange) -> LoginCookie {
    LoginCookie {
        token: change.token.clone().unwrap_or_else(|| cookie.token.clone()),
        ..cookie.clone()
    }
}

pub fn form_expired(t: &Catalog) -> Response {
    errors::message_page(t, StatusCode::FORBIDDEN, t.get("error.form_expired").to_owned())
}

/// The status of a form shown again after a refusal.
fn refused_status(e: &DomainError) -> StatusCode {
    match e.kind {
        ErrorKind::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// The session being signed in, its user and their effective policy.
pub struct Current {
    pub cookie: LoginCookie,
    pub session: SessionView,
    pub user: UserView,
    pub policy: LoginPolicyView,
}

impl Current {
    pub fn next(&self, web: &Web) -> Next {
        web.app.login_next_step(&self.policy, &self.user, &self.session)
    }
}

/// The browser's session, or the start page (none, expired, ended).
pub async fn current(web: &Web, visit: &Visit) -> Early<Current> {
    let to_start = || Redirect::to(START).into_response();
    let cookie = visit.login.clone().ok_or_else(to_start)?;
    let ctx = web
        .login_ctx(&visit.instance, rpc::GET_SESSION)
        .map_err(|e| errors::page(visit.t, &e))?;
    let read = web
        .app
        .get_session(&ctx, &cookie.session_id(), Some(&cookie.token))
        .await
        .map_err(|_| to_start())?;
    let user = read.user.ok_or_else(to_start)?;
    let policy = web
        .app
        .org_login_policy(&visit.instance, &user.org_id)
        .await
        .map_err(|e| errors::page(visit.t, &e))?;
    Ok(Current {
        cookie,
        session: read.session,
        user,
        policy,
    })
}

// --- Login name -----------------------------------------------------------

#[derive(Template)]
#[template(path = "login_name.html")]
struct NamePage<'a> {
    t: &'a Catalog,
    csrf: String,
    error: Option<String>,
    login_name: String,
    auth_request: String,
    /// "Sign in with a passkey" is offered.
    passkey: bool,
}

#[derive(Deserialize)]
pub struct NameQuery {
    #[serde(rename = "authRequest")]
    auth_request: Option<String>,
}

pub async fn name_page(State(web): State<Arc<Web>>, visit: Visit, Query(q): Query<NameQuery>) -> Response {
    let page = NamePage {
        t: visit.t,
        csrf: web.csrf_token(&visit.seed),
        error: None,
        login_name: String::new(),
        auth_request: q.auth_request.as_deref().and_then(auth_request_id).unwrap_or_default(),
        passkey: crate::passkey_login::offered_first(&web, &visit).await,
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
pub struct NameForm {
    csrf: String,
    login_name: String,
    #[serde(default)]
    auth_request: String,
}

pub async fn name_post(State(web): State<Arc<Web>>, visit: Visit, Form(f): Form<NameForm>) -> Response {
    if !web.csrf_ok(&visit.seed, &f.csrf) {
        return form_expired(visit.t);
    }
    let ctx = match web.login_ctx(&visit.instance, rpc::CREATE_SESSION) {
        Ok(c) => c,
        Err(e) => return errors::page(visit.t, &e),
    };
    let checks = Checks {
        user: Some(UserRef::LoginName(f.login_name.trim().to_owned())),
        ..Checks::default()
    };
    match web
        .app
        .create_session(&ctx, checks, ChallengeRequests::default(), None)
        .await
    {
        Ok(change) => {
            let cookie = LoginCookie {
                sid: change.session_id.as_str().to_owned(),
                token: change.token.unwrap_or_default(),
                auth_request: auth_request_id(&f.auth_request),
            };
            redirect_with(&web, "/ui/login/password", &cookie)
        }
        Err(e) => {
            let page = NamePage {
                t: visit.t,
                csrf: web.csrf_token(&visit.seed),
                error: Some(errors::sentence(visit.t, &e)),
                login_name: f.login_name,
                auth_request: auth_request_id(&f.auth_request).unwrap_or_default(),
                passkey: crate::passkey_login::offered_first(&web, &visit).await,
            };
            render(refused_status(&e), &page)
        }
    }
}

// --- Password -------------------------------------------------------------

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage<'a> {
    t: &'a Catalog,
    csrf: String,
    error: Option<String>,
    login_name: String,
    /// "Sign in with a passkey" is offered.
    passkey: bool,
}

pub async fn password_page(State(web): State<Arc<Web>>, visit: Visit) -> Early<Response> {
    let c = current(&web, &visit).await?;
    let page = PasswordPage {
        t: visit.t,
        csrf: web.csrf_token(&visit.seed),
        error: None,
        passkey: crate::passkey_login::offered_to(&c),
        login_name: c.user.user_name,
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Deserialize)]
pub struct PasswordForm {
    csrf: String,
    password: String,
}

pub async fn password_post(State(web): State<Arc<Web>>, visit: Visit, Form(f): Form<PasswordForm>) -> Early<Response> {
    if !web.csrf_ok(&visit.seed, &f.csrf) {
        return Ok(form_expired(visit.t));
    }
    let c = current(&web, &visit).await?;
    let checks = Checks {
        password: Some(f.password),
        ..Checks::default()
    };
    match set_session(&web, &visit, &c.cookie, checks, ChallengeRequests::default()).await {
        Ok(change) => Ok(redirect_with(&web, NEXT, &rotated(&c.cookie, &change))),
        Err(e) => {
            let page = PasswordPage {
                t: visit.t,
                csrf: web.csrf_token(&visit.seed),
                error: Some(errors::sentence(visit.t, &e)),
                passkey: crate::passkey_login::offered_to(&c),
                login_name: c.user.user_name,
            };
            Ok(render(refused_status(&e), &page))
        }
    }
}

pub(crate) async fn set_session(
    web: &Web,
    visit: &Visit,
    cookie: &LoginCookie,
    checks: Checks,
    challenges: ChallengeRequests,
) -> Result<SessionChange, DomainError> {
    let ctx = web.login_ctx(&visit.instance, rpc::SET_SESSION)?;
    web.app
        .set_session(
            &ctx,
            &cookie.session_id(),
            Some(&cookie.token),
            checks,
            challenges,
            None,
        )
        .await
}

// --- Second factor --------------------------------------------------------

#[derive(Template)]
#[template(path = "choose.html")]
struct ChoosePage<'a> {
    t: &'a Catalog,
    factors: Vec<(&'static str, &'static str)>,
}

/// Where the login goes from here: the single factor's page, the
/// chooser, the set-up, or the finish.
pub async fn choose_page(State(web): State<Arc<Web>>, visit: Visit) -> Early<Response> {
    let c = current(&web, &visit).await?;
    Ok(match c.next(&web) {
        Next::Done => Redirect::to("/ui/login/done").into_response(),
        Next::SetUp { .. } => Redirect::to("/ui/login/mfa-setup").into_response(),
        Next::SecondFactor(factors) => match factors.as_slice() {
            [one] => Redirect::to(&format!("/ui/login/mfa/{}", factor_path(*one))).into_response(),
            _ => {
                let factors = factors
                    .iter()
                    .map(|f| (factor_path(*f), factor_label(visit.t, *f)))
                    .collect();
                render(StatusCode::OK, &ChoosePage { t: visit.t, factors })
            }
        },
    })
}

#[derive(Template)]
#[template(path = "code.html")]
struct CodePage<'a> {
    t: &'a Catalog,
    csrf: String,
    error: Option<String>,
    notice: Option<String>,
    factor: &'static str,
    title: &'static str,
    intro: &'static str,
    label: &'static str,
    numeric: bool,
    resend: bool,
    other: bool,
}

#[derive(Template)]
#[template(path = "u2f.html")]
struct U2fPage<'a> {
    t: &'a Catalog,
    csrf: String,
    error: Option<String>,
    options: String,
    other: bool,
}

fn code_page_for<'a>(
    web: &Web,
    visit: &'a Visit,
    f: SecondFactor,
    other: bool,
    error: Option<String>,
    notice: Option<String>,
) -> CodePage<'a> {
    let t = visit.t;
    let (intro, label) = match f {
        SecondFactor::Otp => ("mfa.totp.intro", "mfa.code"),
        SecondFactor::RecoveryCodes => ("mfa.recovery.intro", "mfa.recovery.label"),
        _ => ("mfa.otp.intro", "mfa.code"),
    };
    CodePage {
        t,
        csrf: web.csrf_token(&visit.seed),
        error,
        notice,
        factor: factor_path(f),
        title: factor_label(t, f),
        intro: t.get(intro),
        label: t.get(label),
        numeric: f != SecondFactor::RecoveryCodes,
        resend: matches!(f, SecondFactor::OtpSms | SecondFactor::OtpEmail),
        other,
    }
}

#[derive(Deserialize)]
pub struct CodeQuery {
    #[serde(default)]
    next: Option<String>,
}

/// A factor's page, if the user may use that factor now; else the chooser.
pub async fn code_page(
    State(web): State<Arc<Web>>,
    visit: Visit,
    Path(factor): Path<String>,
    Query(q): Query<CodeQuery>,
) -> Early<Response> {
    let f = factor_of_path(&factor).ok_or_else(|| not_found(visit.t))?;
    let c = current(&web, &visit).await?;
    let Next::SecondFactor(allowed) = c.next(&web) else {
        return Ok(Redirect::to(NEXT).into_response());
    };
    if !allowed.contains(&f) {
        return Ok(Redirect::to(NEXT).into_response());
    }
    let other = allowed.len() > 1;
    if f == SecondFactor::U2f {
        return u2f_page(&web, &visit, &c, other, None).await;
    }
    let notice = q.next.is_some().then(|| visit.t.get("mfa.totp.next_code").to_owned());
    Ok(render(
        StatusCode::OK,
        &code_page_for(&web, &visit, f, other, None, notice),
    ))
}

/// The security key page with a fresh challenge for the session.
async fn u2f_page(web: &Web, visit: &Visit, c: &Current, other: bool, error: Option<String>) -> Early<Response> {
    let requests = ChallengeRequests {
        web_auth_n: Some(visit.rp_id.clone()),
        ..ChallengeRequests::default()
    };
    let change = set_session(web, visit, &c.cookie, Checks::default(), requests)
        .await
        .map_err(|e| errors::page(visit.t, &e))?;
    let options = change
        .challenges
        .web_auth_n
        .as_ref()
        .map(|o| o.to_string())
        .unwrap_or_default();
    let page = U2fPage {
        t: visit.t,
        csrf: web.csrf_token(&visit.seed),
        error: error.clone(),
        options,
        other,
    };
    let status = errors::form_status(&error);
    let mut resp = render(status, &page);
    set_login_cookie(web, &mut resp, &rotated(&c.cookie, &change));
    Ok(resp)
}

fn not_found(t: &Catalog) -> Response {
    errors::message_page(t, StatusCode::NOT_FOUND, t.get("error.not_found").to_owned())
}

#[derive(Deserialize)]
pub struct CodeForm {
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    action: String,
}

/// A factor's answer, checked by the session use case (which refuses a
/// factor the policy does not allow now, whatever the form says).
pub async fn code_post(
    State(web): State<Arc<Web>>,
    visit: Visit,
    Path(factor): Path<String>,
    Form(f): Form<CodeForm>,
) -> Early<Response> {
    if !web.csrf_ok(&visit.seed, &f.csrf) {
        return Ok(form_expired(visit.t));
    }
    let factor = factor_of_path(&factor).ok_or_else(|| not_found(visit.t))?;
    let c = current(&web, &visit).await?;
    let other = matches!(c.next(&web), Next::SecondFactor(ref a) if a.len() > 1);
    let code = f.code.trim().to_owned();
    let (checks, requests) = if f.action == "send" {
        let requests = ChallengeRequests {
            otp_sms: (factor == SecondFactor::OtpSms).then_some(false),
            otp_email: (factor == SecondFactor::OtpEmail).then_some(false),
            ..ChallengeRequests::default()
        };
        (Checks::default(), requests)
    } else {
        let mut checks = Checks::default();
        match factor {
            SecondFactor::Otp => checks.totp = Some(code),
            SecondFactor::OtpSms => checks.otp_sms = Some(code),
            SecondFactor::OtpEmail => checks.otp_email = Some(code),
            SecondFactor::RecoveryCodes => checks.recovery_code = Some(code),
            SecondFactor::U2f => checks.web_auth_n = Some(serde_json::from_str(&f.code).unwrap_or_default()),
        }
        (checks, ChallengeRequests::default())
    };
    let sending = f.action == "send";
    match set_session(&web, &visit, &c.cookie, checks, requests).await {
        Ok(change) if sending => {
            let notice = Some(visit.t.get("mfa.otp.sent").to_owned());
            let mut resp = render(
                StatusCode::OK,
                &code_page_for(&web, &visit, factor, other, None, notice),
            );
            set_login_cookie(&web, &mut resp, &rotated(&c.cookie, &change));
            Ok(resp)
        }
        Ok(change) => Ok(redirect_with(&web, NEXT, &rotated(&c.cookie, &change))),
        Err(e) => {
            // The failure that starts the throttle is told as the throttle.
            let e = match e.kind {
                ErrorKind::InvalidArgument => match web.app.otp_throttle(&visit.instance, &c.user).await {
                    Ok(Some(throttled)) => throttled,
                    _ => e,
                },
                _ => e,
            };
            let message = errors::sentence(visit.t, &e);
            if factor == SecondFactor::U2f {
                return u2f_page(&web, &visit, &c, other, Some(message)).await;
            }
            let page = code_page_for(&web, &visit, factor, other, Some(message), None);
            Ok(render(refused_status(&e), &page))
        }
    }
}

// --- Finish ---------------------------------------------------------------

/// Signed in: the OIDC callback for an auth request, else the account page.
pub async fn done(State(web): State<Arc<Web>>, visit: Visit) -> Early<Response> {
    let c = current(&web, &visit).await?;
    if c.next(&web) != Next::Done {
        return Ok(Redirect::to(NEXT).into_response());
    }
    let Some(id) = c.cookie.auth_request.clone() else {
        return Ok(Redirect::to("/ui/account").into_response());
    };
    let ctx = web
        .login_ctx(&visit.instance, rpc::CREATE_CALLBACK)
        .map_err(|e| errors::page(visit.t, &e))?;
    let callback = Callback::Session {
        session_id: c.cookie.session_id(),
        session_token: c.cookie.token.clone(),
    };
    let (_, url) = web
        .app
        .create_callback(&ctx, &id, callback)
        .await
        .map_err(|e| errors::page(visit.t, &e))?;
    let cookie = LoginCookie {
        auth_request: None,
        ..c.cookie
    };
    // A page that moves on by itself rather than a redirect: this answer
    // ends a chain of redirects after a form post, which the pages' CSP
    // (`form-action 'self'`) would not let leave the origin.
    let mut resp = render(StatusCode::OK, &ToClient { t: visit.t, url });
    set_login_cookie(&web, &mut resp, &cookie);
    Ok(resp)
}

#[derive(Template)]
#[template(path = "redirect.html")]
struct ToClient<'a> {
    t: &'a Catalog,
    url: String,
}
