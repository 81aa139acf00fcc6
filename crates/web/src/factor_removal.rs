//! Removing a factor on the account page. The page first asks for a second
//! factor check on the current session (the first factor the user has and
//! the policy allows: authenticator app, security key, recovery code, or a
//! passkey), checked by the session use case, then for a confirmation.
//! The removal is accepted only with a proof the page sealed after that
//! check (for this session and this factor) while the session's latest
//! second-factor check is recent (`login_flow::recently_checked`: five
//! minutes). A user with no factor to check with needs only the
//! confirmation. The User API's use cases remove.

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::StatusCode;
use serde::Deserialize;
use twofold_app::mfa::{OtpKind, Via};
use twofold_app::sessions::{ChallengeRequests, Checks};
use twofold_domain::factors::SecondFactor;
use twofold_domain::login_flow::allowed_enrolled;
use twofold_domain::readmodel::directory::{Readiness, UserView};
use twofold_domain::readmodel::login_policy::LoginPolicyView;
use twofold_domain::{DomainError, passkey};

use crate::catalog::Catalog;
use crate::errors::{self, render};
use crate::keys::{Account, account_user};
use crate::login::{Early, form_expired, rotated, set_login_cookie, set_session};
use crate::visit::{LoginCookie, Visit};
use crate::web::{Web, rpc};

const ACCOUNT: &str = "/ui/account";
/// Labels sealed removal proofs.
const PROOF: &str = "tf-ui-remove:";

/// A factor the account page can remove.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Target {
    Totp,
    OtpSms,
    OtpEmail,
    SecurityKey(String),
    Passkey(String),
}

impl Target {
    fn parse(factor: &str, id: &str) -> Option<Self> {
        match factor {
            "totp" => Some(Self::Totp),
            "otp-sms" => Some(Self::OtpSms),
            "otp-email" => Some(Self::OtpEmail),
            "security-key" if !id.is_empty() => Some(Self::SecurityKey(id.to_owned())),
            "passkey" if !id.is_empty() => Some(Self::Passkey(id.to_owned())),
            _ => None,
        }
    }

    /// `(factor, id)` as the forms carry them.
    fn fields(&self) -> (&'static str, &str) {
        match self {
            Self::Totp => ("totp", ""),
            Self::OtpSms => ("otp-sms", ""),
            Self::OtpEmail => ("otp-email", ""),
            Self::SecurityKey(id) => ("security-key", id),
            Self::Passkey(id) => ("passkey", id),
        }
    }

    fn rpc(&self) -> &'static str {
        match self {
            Self::Totp => rpc::REMOVE_TOTP,
            Self::OtpSms => rpc::REMOVE_OTP_SMS,
            Self::OtpEmail => rpc::REMOVE_OTP_EMAIL,
            Self::SecurityKey(_) => rpc::REMOVE_U2F,
            Self::Passkey(_) => rpc::REMOVE_PASSKEY,
        }
    }

    /// The factor as the account page lists it, if the user has it.
    fn label(&self, t: &Catalog, user: &UserView) -> Option<String> {
        let f = &user.factors;
        match self {
            Self::Totp => (f.totp == Some(Readiness::Ready)).then(|| t.get("account.factor.totp").to_owned()),
            Self::OtpSms => f.otp_sms.then(|| t.get("account.factor.otp_sms").to_owned()),
            Self::OtpEmail => f.otp_email.then(|| t.get("account.factor.otp_email").to_owned()),
            Self::SecurityKey(id) => f
                .u2f
                .iter()
                .find(|k| &k.id == id)
                .map(|k| t.with("account.factor.u2f", &k.name)),
            Self::Passkey(id) => f
                .passkeys
                .contains(id)
                .then(|| t.get("keys.passkey.default_name").to_owned()),
        }
    }

    /// The link on the account page.
    pub fn href(&self) -> String {
        match self.fields() {
            (f, "") => format!("{ACCOUNT}/factors/remove?factor={f}"),
            (f, id) => format!("{ACCOUNT}/factors/remove?factor={f}&id={id}"),
        }
    }
}

/// What the user proves themselves with before a removal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Checker {
    Totp,
    RecoveryCode,
    SecurityKey,
    Passkey,
}

fn checker(policy: &LoginPolicyView, user: &UserView) -> Option<Checker> {
    let second = allowed_enrolled(policy, &user.factors)
        .into_iter()
        .find_map(|f| match f {
            SecondFactor::Otp => Some(Checker::Totp),
            SecondFactor::U2f => Some(Checker::SecurityKey),
            SecondFactor::RecoveryCodes => Some(Checker::RecoveryCode),
            SecondFactor::OtpSms | SecondFactor::OtpEmail => None,
        });
    let passkey = passkey::passkey_allowed(policy) && !user.factors.passkeys.is_empty();
    second.or(passkey.then_some(Checker::Passkey))
}

/// A factor row of the account page: its label and, where the page can
/// remove it, the link.
pub struct FactorRow {
    pub label: String,
    pub remove: Option<String>,
}

pub fn rows(t: &Catalog, user: &UserView) -> Vec<FactorRow> {
    let f = &user.factors;
    let mut targets = vec![Target::Totp];
    // Only verified keys (a registration may be pending).
    let ready = f.u2f.iter().filter(|k| k.readiness == Readiness::Ready);
    targets.extend(ready.map(|k| Target::SecurityKey(k.id.clone())));
    targets.extend(f.passkeys.iter().map(|id| Target::Passkey(id.clone())));
    targets.extend([Target::OtpSms, Target::OtpEmail]);
    let mut out: Vec<FactorRow> = targets
        .into_iter()
        .filter_map(|target| {
            target.label(t, user).map(|label| FactorRow {
                label,
                remove: Some(target.href()),
            })
        })
        .collect();
    if f.recovery_codes > 0 {
        out.push(FactorRow {
            label: t.with("account.factor.recovery", f.recovery_codes),
            remove: None,
        });
    }
    out
}

#[derive(Template)]
#[template(path = "factor_remove.html")]
struct RemovePage<'a> {
    t: &'a Catalog,
    csrf: String,
    error: Option<String>,
    what: String,
    factor: &'static str,
    id: String,
    /// Set: the confirmation with this proof; else the check.
    proof: Option<String>,
    /// The check's WebAuthn request options (empty: a code).
    webauthn: String,
    /// What the check asks for.
    intro: &'static str,
    code_label: &'static str,
    numeric: bool,
}

#[derive(Deserialize)]
pub struct RemoveQuery {
    #[serde(default)]
    factor: String,
    #[serde(default)]
    id: String,
}

#[derive(Deserialize)]
pub struct RemoveForm {
    csrf: String,
    #[serde(default)]
    factor: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    step: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    proof: String,
}

fn not_found(t: &Catalog) -> Response {
    errors::message_page(t, StatusCode::NOT_FOUND, t.get("error.not_found").to_owned())
}

/// The signed-in user and the factor they asked to remove (which they have).
async fn asked(web: &Web, visit: &Visit, factor: &str, id: &str) -> Early<(Account, Target, String)> {
    let target = Target::parse(factor, id).ok_or_else(|| not_found(visit.t))?;
    let a = account_user(web, visit, target.rpc()).await?;
    let what = target.label(visit.t, &a.user).ok_or_else(|| not_found(visit.t))?;
    Ok((a, target, what))
}

fn proof_text(cookie: &LoginCookie, target: &Target) -> String {
    let (factor, id) = target.fields();
    format!("{PROOF}{}|{factor}|{id}", cookie.sid)
}

/// The check's page (a fresh WebAuthn challenge where a key checks).
async fn check_page(
    web: &Web,
    visit: &Visit,
    a: &Account,
    target: &Target,
    what: String,
    error: Option<String>,
) -> Early<Response> {
    let t = visit.t;
    let (factor, id) = target.fields();
    let mut page = RemovePage {
        t,
        csrf: web.csrf_token(&visit.seed),
        error,
        what,
        factor,
        id: id.to_owned(),
        proof: None,
        webauthn: String::new(),
        intro: t.get("remove.check_totp"),
        code_label: t.get("mfa.code"),
        numeric: true,
    };
    let status = errors::form_status(&page.error);
    match checker(&a.policy, &a.user) {
        None => {
            page.proof = Some(String::new());
            Ok(render(status, &page))
        }
        Some(Checker::Totp) => Ok(render(status, &page)),
        Some(Checker::RecoveryCode) => {
            page.intro = t.get("remove.check_recovery");
            page.code_label = t.get("mfa.recovery.label");
            page.numeric = false;
            Ok(render(status, &page))
        }
        Some(c @ (Checker::SecurityKey | Checker::Passkey)) => {
            let requests = ChallengeRequests {
                web_auth_n: Some(visit.rp_id.clone()),
                passkey: c == Checker::Passkey,
                ..ChallengeRequests::default()
            };
            let change = set_session(web, visit, &a.cookie, Checks::default(), requests)
                .await
                .map_err(|e| errors::page(t, &e))?;
            page.webauthn = change
                .challenges
                .web_auth_n
                .as_ref()
                .map(|o| o.to_string())
                .unwrap_or_default();
            page.intro = t.get("remove.check_key");
            let mut resp = render(status, &page);
            set_login_cookie(web, &mut resp, &rotated(&a.cookie, &change));
            Ok(resp)
        }
    }
}

pub async fn page(State(web): State<Arc<Web>>, visit: Visit, Query(q): Query<RemoveQuery>) -> Early<Response> {
    let (a, target, what) = asked(&web, &visit, &q.factor, &q.id).await?;
    check_page(&web, &visit, &a, &target, what, None).await
}

pub async fn post(State(web): State<Arc<Web>>, visit: Visit, Form(f): Form<RemoveForm>) -> Early<Response> {
    if !web.csrf_ok(&visit.seed, &f.csrf) {
        return Ok(form_expired(visit.t));
    }
    let (a, target, what) = asked(&web, &visit, &f.factor, &f.id).await?;
    match f.step.as_str() {
        "check" => check(&web, &visit, &a, &target, what, &f.code).await,
        "remove" => remove(&web, &visit, &a, &target, what, &f.proof).await,
        _ => Ok(not_found(visit.t)),
    }
}

/// The check on the session; then the confirmation with a proof of it.
async fn check(web: &Web, visit: &Visit, a: &Account, target: &Target, what: String, code: &str) -> Early<Response> {
    let Some(c) = checker(&a.policy, &a.user) else {
        return check_page(web, visit, a, target, what, None).await;
    };
    let code = code.trim().to_owned();
    let checks = match c {
        Checker::Totp => Checks {
            totp: Some(code),
            ..Checks::default()
        },
        Checker::RecoveryCode => Checks {
            recovery_code: Some(code),
            ..Checks::default()
        },
        Checker::SecurityKey | Checker::Passkey => Checks {
            web_auth_n: Some(serde_json::from_str(&code).unwrap_or_default()),
            ..Checks::default()
        },
    };
    match set_session(web, visit, &a.cookie, checks, ChallengeRequests::default()).await {
        Ok(change) => {
            let cookie = rotated(&a.cookie, &change);
            let (factor, id) = target.fields();
            let page = RemovePage {
                t: visit.t,
                csrf: web.csrf_token(&visit.seed),
                error: None,
                what,
                factor,
                id: id.to_owned(),
                proof: Some(web.app.seal_for_ui(proof_text(&cookie, target).as_bytes())),
                webauthn: String::new(),
                intro: "",
                code_label: "",
                numeric: false,
            };
            let mut resp = render(StatusCode::OK, &page);
            set_login_cookie(web, &mut resp, &cookie);
            Ok(resp)
        }
        Err(e) => {
            let e = throttled_or(web, visit, &a.user, e).await;
            check_page(web, visit, a, target, what, Some(errors::sentence(visit.t, &e))).await
        }
    }
}

/// The failure that starts the throttle is told as the throttle.
async fn throttled_or(web: &Web, visit: &Visit, user: &UserView, e: DomainError) -> DomainError {
    match e.kind {
        twofold_domain::ErrorKind::InvalidArgument => match web.app.otp_throttle(&visit.instance, user).await {
            Ok(Some(throttled)) => throttled,
            _ => e,
        },
        _ => e,
    }
}

/// The removal, with the proof of a recent check on this session.
async fn remove(web: &Web, visit: &Visit, a: &Account, target: &Target, what: String, proof: &str) -> Early<Response> {
    if checker(&a.policy, &a.user).is_some() {
        let proved = web
            .app
            .open_for_ui(proof)
            .is_some_and(|p| p == proof_text(&a.cookie, target).as_bytes());
        if !proved || !web.app.recently_checked(&a.session) {
            let error = Some(visit.t.get("remove.check_again").to_owned());
            return check_page(web, visit, a, target, what, error).await;
        }
    }
    let me = &a.user.id;
    let ctx = &a.ctx;
    let done = match target {
        Target::Totp => web.app.remove_factor(ctx, me, OtpKind::Totp, Via::UserApi).await,
        Target::OtpSms => web.app.remove_factor(ctx, me, OtpKind::Sms, Via::UserApi).await,
        Target::OtpEmail => web.app.remove_factor(ctx, me, OtpKind::Email, Via::UserApi).await,
        Target::SecurityKey(id) => web.app.remove_u2f(ctx, me, id, Via::UserApi).await,
        Target::Passkey(id) => web.app.remove_passkey(ctx, me, id, Via::UserApi).await,
    };
    done.map_err(|e| errors::page(visit.t, &e))?;
    Ok(Redirect::to(ACCOUNT).into_response())
}
