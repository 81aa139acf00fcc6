//! Registering WebAuthn credentials from the pages: security keys (U2F, a
//! second factor) and passkeys (discoverable and user-verified, enough to
//! sign in on their own), on the account page and, for security keys, in
//! the login's set-up step. Each is offered only while the user's
//! effective login policy allows it, by the session rules' own tests
//! (`session::require_allowed`, `passkey::passkey_allowed`); the User API's
//! use cases register and verify. The browser's part is `static/ui.js`
//! (forms with `data-webauthn-create`).

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::StatusCode;
use serde::Deserialize;
use twofold_app::auth::RequestCtx;
use twofold_app::passkeys::Attachment;
use twofold_domain::factors::SecondFactor;
use twofold_domain::login_flow::Next;
use twofold_domain::readmodel::directory::UserView;
use twofold_domain::readmodel::login_policy::LoginPolicyView;
use twofold_domain::readmodel::session::SessionView;
use twofold_domain::{DomainError, UserId, passkey, session};

use crate::account::signed_in;
use crate::catalog::Catalog;
use crate::errors::{self, render};
use crate::login::{Early, START, current, form_expired};
use crate::visit::{LoginCookie, Visit};
use crate::web::{Web, rpc};

/// The two WebAuthn credential families a user can register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    SecurityKey,
    Passkey,
}

impl Kind {
    fn of_path(p: &str) -> Option<Self> {
        match p {
            "security-key" => Some(Self::SecurityKey),
            "passkey" => Some(Self::Passkey),
            _ => None,
        }
    }

    fn path(self) -> &'static str {
        match self {
            Self::SecurityKey => "security-key",
            Self::Passkey => "passkey",
        }
    }

    /// Whether `policy` lets this kind sign in (and so be registered).
    pub fn allowed(self, policy: &LoginPolicyView) -> bool {
        match self {
            Self::SecurityKey => session::require_allowed(policy, SecondFactor::U2f).is_ok(),
            Self::Passkey => passkey::passkey_allowed(policy),
        }
    }

    fn rpcs(self) -> (&'static str, &'static str) {
        match self {
            Self::SecurityKey => (rpc::REGISTER_U2F, rpc::VERIFY_U2F),
            Self::Passkey => (rpc::REGISTER_PASSKEY, rpc::VERIFY_PASSKEY),
        }
    }

    fn text(self, t: &Catalog) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::SecurityKey => (
                t.get("keys.security_key.title"),
                t.get("keys.security_key.intro"),
                t.get("keys.security_key.default_name"),
            ),
            Self::Passkey => (
                t.get("keys.passkey.title"),
                t.get("keys.passkey.intro"),
                t.get("keys.passkey.default_name"),
            ),
        }
    }
}

#[derive(Template)]
#[template(path = "webauthn_register.html")]
struct RegisterPage<'a> {
    t: &'a Catalog,
    csrf: String,
    error: Option<String>,
    title: &'static str,
    intro: &'static str,
    options: String,
    token_id: String,
    name: String,
    action: String,
    back: &'static str,
}

/// A new pending registration: its ID and the creation options (WebAuthn JSON).
async fn start(
    web: &Web,
    visit: &Visit,
    ctx: &RequestCtx,
    user: &UserId,
    kind: Kind,
) -> Result<(String, String), DomainError> {
    match kind {
        Kind::SecurityKey => {
            let n = web.app.register_u2f(ctx, user, "", &visit.rp_id).await?;
            Ok((n.token_id, n.options.to_string()))
        }
        Kind::Passkey => {
            let n = web
                .app
                .register_passkey(ctx, user, None, Attachment::Unspecified, "", &visit.rp_id)
                .await?;
            Ok((n.token_id, n.options.to_string()))
        }
    }
}

#[derive(Deserialize)]
pub struct RegisterForm {
    csrf: String,
    #[serde(default)]
    token_id: String,
    #[serde(default)]
    credential: String,
    #[serde(default)]
    name: String,
}

async fn verify(web: &Web, ctx: &RequestCtx, user: &UserId, kind: Kind, f: &RegisterForm) -> Result<(), DomainError> {
    let credential = serde_json::from_str(&f.credential).unwrap_or_default();
    let name = f.name.trim();
    match kind {
        Kind::SecurityKey => web.app.verify_u2f(ctx, user, &f.token_id, credential, name).await?,
        Kind::Passkey => web.app.verify_passkey(ctx, user, credential, name).await?,
    };
    Ok(())
}

/// Starts a registration and shows the page that finishes it (again with
/// `error` after a refused answer).
#[allow(clippy::too_many_arguments)]
async fn register_page(
    web: &Web,
    visit: &Visit,
    ctx: &RequestCtx,
    user: &UserId,
    kind: Kind,
    action: String,
    back: &'static str,
    error: Option<String>,
) -> Early<Response> {
    let (token_id, options) = start(web, visit, ctx, user, kind)
        .await
        .map_err(|e| errors::page(visit.t, &e))?;
    let (title, intro, name) = kind.text(visit.t);
    let status = errors::form_status(&error);
    let page = RegisterPage {
        t: visit.t,
        csrf: web.csrf_token(&visit.seed),
        error,
        title,
        intro,
        options,
        token_id,
        name: name.to_owned(),
        action,
        back,
    };
    Ok(render(status, &page))
}

fn not_allowed(t: &Catalog) -> Response {
    errors::message_page(t, StatusCode::FORBIDDEN, t.get("error.factor_not_allowed").to_owned())
}

fn not_found(t: &Catalog) -> Response {
    errors::message_page(t, StatusCode::NOT_FOUND, t.get("error.not_found").to_owned())
}

// --- Account page ---------------------------------------------------------

const ACCOUNT: &str = "/ui/account";

/// The signed-in user acting through an RPC, with their session.
pub struct Account {
    pub cookie: LoginCookie,
    pub ctx: RequestCtx,
    pub session: SessionView,
    pub user: UserView,
    pub policy: LoginPolicyView,
}

/// The signed-in user acting through `rpc`, their view and effective policy.
pub async fn account_user(web: &Web, visit: &Visit, rpc: &str) -> Early<Account> {
    // Read as the account page does; act as `rpc` would.
    let (cookie, reader) = signed_in(web, visit, rpc::LIST_SESSIONS).await?;
    let (_, ctx) = signed_in(web, visit, rpc).await?;
    let fail = |e| errors::page(visit.t, &e);
    let read = web
        .app
        .get_session(&reader, &cookie.session_id(), Some(&cookie.token))
        .await
        .map_err(fail)?;
    let user = read.user.ok_or_else(|| Redirect::to(START).into_response())?;
    let policy = web
        .app
        .org_login_policy(&visit.instance, &user.org_id)
        .await
        .map_err(fail)?;
    Ok(Account {
        cookie,
        ctx,
        session: read.session,
        user,
        policy,
    })
}

/// The account page's links to register what the policy allows.
pub fn offered(t: &Catalog, policy: &LoginPolicyView) -> Vec<(String, &'static str)> {
    [Kind::SecurityKey, Kind::Passkey]
        .into_iter()
        .filter(|k| k.allowed(policy))
        .map(|k| {
            let label = match k {
                Kind::SecurityKey => t.get("keys.security_key.add"),
                Kind::Passkey => t.get("keys.passkey.add"),
            };
            (format!("{ACCOUNT}/keys/{}", k.path()), label)
        })
        .collect()
}

pub async fn account_page(State(web): State<Arc<Web>>, visit: Visit, Path(kind): Path<String>) -> Early<Response> {
    let kind = Kind::of_path(&kind).ok_or_else(|| not_found(visit.t))?;
    let a = account_user(&web, &visit, kind.rpcs().0).await?;
    if !kind.allowed(&a.policy) {
        return Ok(not_allowed(visit.t));
    }
    let action = format!("{ACCOUNT}/keys/{}", kind.path());
    register_page(&web, &visit, &a.ctx, &a.user.id, kind, action, ACCOUNT, None).await
}

pub async fn account_post(
    State(web): State<Arc<Web>>,
    visit: Visit,
    Path(kind): Path<String>,
    Form(f): Form<RegisterForm>,
) -> Early<Response> {
    if !web.csrf_ok(&visit.seed, &f.csrf) {
        return Ok(form_expired(visit.t));
    }
    let kind = Kind::of_path(&kind).ok_or_else(|| not_found(visit.t))?;
    let a = account_user(&web, &visit, kind.rpcs().1).await?;
    if !kind.allowed(&a.policy) {
        return Ok(not_allowed(visit.t));
    }
    match verify(&web, &a.ctx, &a.user.id, kind, &f).await {
        Ok(()) => Ok(Redirect::to(ACCOUNT).into_response()),
        Err(e) => {
            let again = account_user(&web, &visit, kind.rpcs().0).await?;
            let error = Some(registration_refused(visit.t, &e));
            let action = format!("{ACCOUNT}/keys/{}", kind.path());
            register_page(&web, &visit, &again.ctx, &a.user.id, kind, action, ACCOUNT, error).await
        }
    }
}

fn registration_refused(t: &Catalog, e: &DomainError) -> String {
    match e.id.as_ref() {
        "WEBAU-sEr8c" | "WEBAU-3Vb9s" => t.get("keys.refused").to_owned(),
        _ => errors::sentence(t, e),
    }
}

// --- Set-up step of the login -----------------------------------------------

const SET_UP_KEY: &str = "/ui/login/mfa-setup/security-key";

/// The login's set-up step, if it offers a security key now.
async fn key_set_up_step(web: &Web, visit: &Visit) -> Early<crate::login::Current> {
    let c = current(web, visit).await?;
    match c.next(web) {
        Next::SetUp { factors, .. } if factors.contains(&SecondFactor::U2f) => Ok(c),
        _ => Err(Redirect::to("/ui/login/mfa").into_response()),
    }
}

pub async fn set_up_page(State(web): State<Arc<Web>>, visit: Visit) -> Early<Response> {
    let c = key_set_up_step(&web, &visit).await?;
    let ctx = web
        .login_ctx(&visit.instance, rpc::REGISTER_U2F)
        .map_err(|e| errors::page(visit.t, &e))?;
    let back = "/ui/login/mfa-setup";
    register_page(
        &web,
        &visit,
        &ctx,
        &c.user.id,
        Kind::SecurityKey,
        SET_UP_KEY.into(),
        back,
        None,
    )
    .await
}

pub async fn set_up_post(State(web): State<Arc<Web>>, visit: Visit, Form(f): Form<RegisterForm>) -> Early<Response> {
    if !web.csrf_ok(&visit.seed, &f.csrf) {
        return Ok(form_expired(visit.t));
    }
    let c = key_set_up_step(&web, &visit).await?;
    let fail = |e| errors::page(visit.t, &e);
    let ctx = web.login_ctx(&visit.instance, rpc::VERIFY_U2F).map_err(fail)?;
    match verify(&web, &ctx, &c.user.id, Kind::SecurityKey, &f).await {
        // Registered: the login asks for the key (the step after set-up).
        Ok(()) => crate::setup::after_set_up(&web, &visit, &c, "/ui/login/mfa").await,
        Err(e) => {
            let ctx = web.login_ctx(&visit.instance, rpc::REGISTER_U2F).map_err(fail)?;
            let error = Some(registration_refused(visit.t, &e));
            let back = "/ui/login/mfa-setup";
            let kind = Kind::SecurityKey;
            register_page(&web, &visit, &ctx, &c.user.id, kind, SET_UP_KEY.into(), back, error).await
        }
    }
}
