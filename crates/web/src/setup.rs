//! Setting up a second factor during sign-in, when the policy forces MFA
//! and the user has no allowed factor (or offers it, skippably): an
//! authenticator app by QR code, then recovery codes shown once. The login
//! client registers the factor for the user of the session being signed in
//! (as ZITADEL's login does); the User API use cases decide.

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use http::StatusCode;
use serde::Deserialize;
use twofold_app::mfa::DEFAULT_RECOVERY_CODES;
use twofold_domain::factors::SecondFactor;
use twofold_domain::login_flow::Next;

use crate::catalog::Catalog;
use crate::errors::{self, render};
use crate::login::{Current, Early, current, form_expired};
use crate::qr;
use crate::visit::Visit;
use crate::web::{Web, rpc};

/// The login's set-up step.
const STEP: &str = "/ui/login/mfa-setup";

/// After set-up: the next TOTP code proves the factor on the session (the
/// one just used to activate it cannot be used twice).
const AFTER: &str = "/ui/login/mfa/totp?next=1";

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage<'a> {
    t: &'a Catalog,
    csrf: String,
    error: Option<String>,
    qr: String,
    secret: String,
    uri: String,
    skippable: bool,
    /// A security key may be set up instead.
    security_key: bool,
    /// Codes by e-mail or SMS may be set up instead.
    codes: bool,
    /// Where the form posts: the login's set-up step or the account page.
    action: &'static str,
}

#[derive(Template)]
#[template(path = "codes.html")]
pub struct CodesPage<'a> {
    pub t: &'a Catalog,
    pub codes: Vec<String>,
    pub download: String,
    pub next: String,
}

impl<'a> CodesPage<'a> {
    pub fn new(t: &'a Catalog, codes: Vec<String>, next: &str) -> Self {
        let text = codes.join("\r\n");
        let download = format!(
            "data:text/plain;charset=utf-8,{}",
            url::form_urlencoded::byte_serialize(text.as_bytes())
                .collect::<String>()
                .replace('+', "%20")
        );
        Self {
            t,
            codes,
            download,
            next: next.to_owned(),
        }
    }
}

/// What a set-up page may offer besides an authenticator app.
#[derive(Clone, Copy)]
struct Also {
    skippable: bool,
    security_key: bool,
    codes: bool,
}

/// Whether the set-up step is the current one with an authenticator app,
/// and what else it offers (without an app: the page of the first other).
async fn set_up_step(web: &Web, visit: &Visit) -> Early<(Current, Also)> {
    let c = current(web, visit).await?;
    match c.next(web) {
        Next::SetUp { factors, skippable } if factors.contains(&SecondFactor::Otp) => {
            let also = Also {
                skippable,
                security_key: factors.contains(&SecondFactor::U2f),
                codes: crate::setup_codes::offers_codes(&factors),
            };
            Ok((c, also))
        }
        Next::SetUp { factors, .. } if factors.contains(&SecondFactor::U2f) => {
            Err(Redirect::to("/ui/login/mfa-setup/security-key").into_response())
        }
        Next::SetUp { factors, .. } if crate::setup_codes::offers_codes(&factors) => {
            Err(Redirect::to("/ui/login/mfa-setup/codes").into_response())
        }
        _ => Err(Redirect::to("/ui/login/mfa").into_response()),
    }
}

/// The authenticator-app set-up for the account page (no alternatives, not
/// skippable, posting to `action`).
pub fn account_page(web: &Web, visit: &Visit, uri: &str, action: &'static str, error: Option<String>) -> Response {
    let also = Also {
        skippable: false,
        security_key: false,
        codes: false,
    };
    let mut page = page(web, visit, uri, also, error.clone());
    page.action = action;
    let status = errors::form_status(&error);
    render(status, &page)
}

fn page<'a>(web: &Web, visit: &'a Visit, uri: &str, also: Also, error: Option<String>) -> SetupPage<'a> {
    let secret = url::Url::parse(uri)
        .ok()
        .and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == "secret")
                .map(|(_, v)| v.into_owned())
        })
        .unwrap_or_default();
    SetupPage {
        t: visit.t,
        csrf: web.csrf_token(&visit.seed),
        error,
        qr: qr::data_uri(uri).unwrap_or_default(),
        secret,
        uri: uri.to_owned(),
        skippable: also.skippable,
        security_key: also.security_key,
        codes: also.codes,
        action: STEP,
    }
}

/// A new secret (replacing one not yet activated) and its QR code.
pub async fn totp_page(State(web): State<Arc<Web>>, visit: Visit) -> Early<Response> {
    let (c, also) = set_up_step(&web, &visit).await?;
    let fail = |e| errors::page(visit.t, &e);
    let ctx = web.login_ctx(&visit.instance, rpc::REGISTER_TOTP).map_err(fail)?;
    let totp = web.app.register_totp(&ctx, &c.user.id).await.map_err(fail)?;
    Ok(render(StatusCode::OK, &page(&web, &visit, &totp.uri, also, None)))
}

#[derive(Deserialize)]
pub struct SetupForm {
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    uri: String,
    #[serde(default)]
    action: String,
}

/// The offered set-up skipped (the caller checked that it may be): the
/// skip is recorded and the sign-in goes on to its second factor.
pub(crate) async fn skip(web: &Web, visit: &Visit, c: &Current) -> Early<Response> {
    let fail = |e| errors::page(visit.t, &e);
    let ctx = web.login_ctx(&visit.instance, rpc::MFA_INIT_SKIPPED).map_err(fail)?;
    web.app.mfa_init_skipped(&ctx, &c.user.id).await.map_err(fail)?;
    Ok(Redirect::to("/ui/login/mfa").into_response())
}

pub async fn totp_post(State(web): State<Arc<Web>>, visit: Visit, Form(f): Form<SetupForm>) -> Early<Response> {
    if !web.csrf_ok(&visit.seed, &f.csrf) {
        return Ok(form_expired(visit.t));
    }
    let (c, also) = set_up_step(&web, &visit).await?;
    let fail = |e| errors::page(visit.t, &e);
    if f.action == "skip" && also.skippable {
        return skip(&web, &visit, &c).await;
    }
    let ctx = web.login_ctx(&visit.instance, rpc::VERIFY_TOTP).map_err(fail)?;
    if let Err(e) = web.app.verify_totp_registration(&ctx, &c.user.id, f.code.trim()).await {
        let error = Some(errors::sentence(visit.t, &e));
        return Ok(render(
            StatusCode::BAD_REQUEST,
            &page(&web, &visit, &f.uri, also, error),
        ));
    }
    after_set_up(&web, &visit, &c, AFTER).await
}

/// After a factor was set up: the recovery codes, once, where the policy
/// allows them and the user has none; then `next`.
pub async fn after_set_up(web: &Web, visit: &Visit, c: &Current, next: &str) -> Early<Response> {
    let fail = |e| errors::page(visit.t, &e);
    if !c.policy.second_factors.contains(&SecondFactor::RecoveryCodes) || c.user.factors.recovery_codes > 0 {
        return Ok(Redirect::to(next).into_response());
    }
    let ctx = web
        .login_ctx(&visit.instance, rpc::GENERATE_RECOVERY_CODES)
        .map_err(fail)?;
    let (_, codes) = web
        .app
        .generate_recovery_codes(&ctx, &c.user.id, DEFAULT_RECOVERY_CODES)
        .await
        .map_err(fail)?;
    Ok(render(StatusCode::OK, &CodesPage::new(visit.t, codes, next)))
}
