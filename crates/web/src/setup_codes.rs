//! Setting up one-time codes by e-mail or SMS during sign-in: offered only
//! when the policy allows them and the address or number is verified (the
//! domain's `login_flow::next_step` decides), added through the same use
//! case as the User API's AddOTPEmail / AddOTPSMS, then proved at once by a
//! code sent there.

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use http::StatusCode;
use serde::Deserialize;
use twofold_app::mfa::SimpleFactor;
use twofold_domain::factors::SecondFactor;
use twofold_domain::login_flow::Next;

use crate::catalog::Catalog;
use crate::errors::{self, render};
use crate::login::{Current, Early, current, form_expired};
use crate::visit::Visit;
use crate::web::{Web, rpc};

const PATH: &str = "/ui/login/mfa-setup/codes";

/// One place codes can go: its form value, and the button naming the address.
struct Channel {
    value: &'static str,
    label: String,
}

#[derive(Template)]
#[template(path = "setup_codes.html")]
struct CodesSetupPage<'a> {
    t: &'a Catalog,
    csrf: String,
    channels: Vec<Channel>,
    skippable: bool,
}

/// The login's set-up step, if it offers codes now: the channels, and
/// whether the step may be skipped.
async fn step(web: &Web, visit: &Visit) -> Early<(Current, Vec<SecondFactor>, bool)> {
    let c = current(web, visit).await?;
    match c.next(web) {
        Next::SetUp { factors, skippable } if offers_codes(&factors) => {
            let codes = factors.into_iter().filter(|f| is_code(*f)).collect();
            Ok((c, codes, skippable))
        }
        _ => Err(Redirect::to("/ui/login/mfa").into_response()),
    }
}

fn is_code(f: SecondFactor) -> bool {
    matches!(f, SecondFactor::OtpEmail | SecondFactor::OtpSms)
}

/// Whether a set-up step offers codes by e-mail or SMS.
pub fn offers_codes(factors: &[SecondFactor]) -> bool {
    factors.iter().any(|f| is_code(*f))
}

fn channel(t: &Catalog, c: &Current, f: SecondFactor) -> Channel {
    let human = c.user.human();
    let (value, key, to) = match f {
        SecondFactor::OtpSms => ("sms", "setup.codes.sms", human.map(|h| h.phone.as_str())),
        _ => ("email", "setup.codes.email", human.map(|h| h.email.as_str())),
    };
    Channel {
        value,
        label: t.get(key).replace("{to}", to.unwrap_or_default()),
    }
}

pub async fn page(State(web): State<Arc<Web>>, visit: Visit) -> Early<Response> {
    let (c, codes, skippable) = step(&web, &visit).await?;
    let page = CodesSetupPage {
        t: visit.t,
        csrf: web.csrf_token(&visit.seed),
        channels: codes.into_iter().map(|f| channel(visit.t, &c, f)).collect(),
        skippable,
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Deserialize)]
pub struct CodesForm {
    csrf: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    action: String,
}

pub async fn post(State(web): State<Arc<Web>>, visit: Visit, Form(f): Form<CodesForm>) -> Early<Response> {
    if !web.csrf_ok(&visit.seed, &f.csrf) {
        return Ok(form_expired(visit.t));
    }
    let (c, codes, skippable) = step(&web, &visit).await?;
    let fail = |e| errors::page(visit.t, &e);
    if f.action == "skip" && skippable {
        return crate::setup::skip(&web, &visit, &c).await;
    }
    // Only a channel this step offers; anything else is a forged form.
    let (factor, rpc, simple, path) = match f.channel.as_str() {
        "email" => (
            SecondFactor::OtpEmail,
            rpc::ADD_OTP_EMAIL,
            SimpleFactor::OtpEmail,
            "otp-email",
        ),
        "sms" => (SecondFactor::OtpSms, rpc::ADD_OTP_SMS, SimpleFactor::OtpSms, "otp-sms"),
        _ => return Ok(Redirect::to(PATH).into_response()),
    };
    if !codes.contains(&factor) {
        return Ok(Redirect::to(PATH).into_response());
    }
    let ctx = web.login_ctx(&visit.instance, rpc).map_err(fail)?;
    web.app.add_factor(&ctx, &c.user.id, simple).await.map_err(fail)?;
    // The session still needs a second factor: the new one, right away.
    crate::setup::after_set_up(&web, &visit, &c, &format!("/ui/login/mfa/{path}")).await
}
