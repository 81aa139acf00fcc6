//! The human users of an org with the factors they have enrolled, and the
//! removal of one of them (authenticator app, security key, codes by SMS
//! or e-mail) after a confirmation, through the Management API's use cases.

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::StatusCode;
use serde::Deserialize;
use twofold_app::mfa::{OtpKind, Via};
use twofold_domain::UserId;
use twofold_domain::readmodel::directory::{Readiness, UserView};
use twofold_domain::readmodel::query::{ListRequest, UserQuery, UserSort};

use super::{acting, rpc};
use crate::catalog::Catalog;
use crate::errors::{self, render};
use crate::login::{Early, form_expired};
use crate::visit::Visit;
use crate::web::Web;

/// An enrolled factor the console can remove.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Factor {
    Otp,
    OtpSms,
    OtpEmail,
    U2f(String),
}

impl Factor {
    /// Its path segment.
    fn slug(&self) -> String {
        match self {
            Self::Otp => "otp".to_owned(),
            Self::OtpSms => "otp_sms".to_owned(),
            Self::OtpEmail => "otp_email".to_owned(),
            Self::U2f(id) => format!("u2f-{id}"),
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "otp" => Some(Self::Otp),
            "otp_sms" => Some(Self::OtpSms),
            "otp_email" => Some(Self::OtpEmail),
            _ => s
                .strip_prefix("u2f-")
                .filter(|id| !id.is_empty())
                .map(|id| Self::U2f(id.to_owned())),
        }
    }

    fn rpc(&self) -> &'static str {
        match self {
            Self::Otp => rpc::REMOVE_OTP,
            Self::OtpSms => rpc::REMOVE_OTP_SMS,
            Self::OtpEmail => rpc::REMOVE_OTP_EMAIL,
            Self::U2f(_) => rpc::REMOVE_U2F,
        }
    }
}

pub struct FactorRow {
    pub label: String,
    /// Where its removal is confirmed; None for what the console does not remove.
    pub remove: Option<String>,
}

pub struct UserRow {
    pub id: String,
    pub login_name: String,
    pub factors: Vec<FactorRow>,
}

fn users_path(org: &str) -> String {
    format!("/ui/console/orgs/{org}/users")
}

/// The user's factors, each with its removal where there is one.
fn factor_rows(t: &Catalog, org: &str, u: &UserView) -> Vec<FactorRow> {
    let f = &u.factors;
    let remove = |factor: Factor| {
        Some(format!(
            "{}/{}/remove/{}",
            users_path(org),
            u.id.as_str(),
            factor.slug()
        ))
    };
    let mut out = vec![];
    if f.totp == Some(Readiness::Ready) {
        out.push(FactorRow {
            label: t.get("console.factor.otp").to_owned(),
            remove: remove(Factor::Otp),
        });
    }
    for k in f.u2f.iter().filter(|k| k.readiness == Readiness::Ready) {
        out.push(FactorRow {
            label: format!("{}: {}", t.get("console.factor.u2f"), k.name),
            remove: remove(Factor::U2f(k.id.clone())),
        });
    }
    if f.otp_sms {
        out.push(FactorRow {
            label: t.get("console.factor.otp_sms").to_owned(),
            remove: remove(Factor::OtpSms),
        });
    }
    if f.otp_email {
        out.push(FactorRow {
            label: t.get("console.factor.otp_email").to_owned(),
            remove: remove(Factor::OtpEmail),
        });
    }
    if !f.passkeys.is_empty() {
        out.push(FactorRow {
            label: t.with("console.factor.passkeys", f.passkeys.len()),
            remove: None,
        });
    }
    if f.recovery_codes > 0 {
        out.push(FactorRow {
            label: t.with("console.factor.recovery_left", f.recovery_codes),
            remove: None,
        });
    }
    out
}

#[derive(Template)]
#[template(path = "console_users.html")]
struct UsersPage<'a> {
    t: &'a Catalog,
    org_id: String,
    title: String,
    notice: Option<String>,
    users: Vec<UserRow>,
}

#[derive(Deserialize)]
pub struct Removed {
    removed: Option<String>,
}

pub async fn page(
    State(web): State<Arc<Web>>,
    visit: Visit,
    Path(org): Path<String>,
    Query(q): Query<Removed>,
) -> Early<Response> {
    let t = visit.t;
    let fail = |e| errors::page(t, &e);
    // The org's users as the caller may see them (user.read, per user).
    let ctx = acting(&web, &visit, rpc::LIST_USERS, Some(&org)).await?;
    let name = web.app.org(&ctx.instance_id, &org).await.map_err(fail)?.name;
    let query = UserQuery::And(vec![UserQuery::Organization(org.clone()), UserQuery::Human(true)]);
    let list = web
        .app
        .list_users(
            &ctx,
            &query,
            UserSort::UserName,
            ListRequest {
                asc: true,
                ..ListRequest::default()
            },
        )
        .await
        .map_err(fail)?;
    let users = list
        .users
        .iter()
        .map(|u| UserRow {
            id: u.id.as_str().to_owned(),
            login_name: u.user_name.clone(),
            factors: factor_rows(t, &org, u),
        })
        .collect();
    let page = UsersPage {
        t,
        title: t.with("console.users.title", &name),
        notice: q.removed.is_some().then(|| t.get("console.users.removed").to_owned()),
        org_id: org,
        users,
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "console_confirm.html")]
struct ConfirmPage<'a> {
    t: &'a Catalog,
    csrf: String,
    question: String,
    action: String,
    back: String,
}

/// The user and the factor a removal names, as the caller may see them.
async fn removal(web: &Web, visit: &Visit, org: &str, user: &str, factor: &str) -> Early<(UserView, Factor)> {
    let t = visit.t;
    let factor = Factor::parse(factor)
        .ok_or_else(|| errors::message_page(t, StatusCode::NOT_FOUND, t.get("error.not_found").to_owned()))?;
    let ctx = acting(web, visit, rpc::GET_USER, Some(org)).await?;
    let user = web
        .app
        .user(&ctx, &UserId::from(user))
        .await
        .map_err(|e| errors::page(t, &e))?
        .into_inner();
    Ok((user, factor))
}

pub async fn confirm(
    State(web): State<Arc<Web>>,
    visit: Visit,
    Path((org, user, factor)): Path<(String, String, String)>,
) -> Early<Response> {
    let t = visit.t;
    let (u, f) = removal(&web, &visit, &org, &user, &factor).await?;
    let what = match &f {
        Factor::Otp => t.get("console.factor.otp").to_owned(),
        Factor::OtpSms => t.get("console.factor.otp_sms").to_owned(),
        Factor::OtpEmail => t.get("console.factor.otp_email").to_owned(),
        Factor::U2f(id) => {
            let name = u.factors.u2f.iter().find(|k| k.id == *id).map(|k| k.name.clone());
            format!("{}: {}", t.get("console.factor.u2f"), name.unwrap_or_default())
        }
    };
    let page = ConfirmPage {
        t,
        csrf: web.csrf_token(&visit.seed),
        question: t
            .get("console.users.confirm")
            .replace("{factor}", &what)
            .replace("{user}", &u.user_name),
        action: format!("{}/{}/remove/{}", users_path(&org), u.id.as_str(), f.slug()),
        back: users_path(&org),
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn remove(
    State(web): State<Arc<Web>>,
    visit: Visit,
    Path((org, user, factor)): Path<(String, String, String)>,
    Form(form): Form<CsrfForm>,
) -> Early<Response> {
    if !web.csrf_ok(&visit.seed, &form.csrf) {
        return Ok(form_expired(visit.t));
    }
    let (u, f) = removal(&web, &visit, &org, &user, &factor).await?;
    let ctx = acting(&web, &visit, f.rpc(), Some(&org)).await?;
    let app = &web.app;
    let done = match &f {
        Factor::Otp => app.remove_factor(&ctx, &u.id, OtpKind::Totp, Via::Management).await,
        Factor::OtpSms => app.remove_factor(&ctx, &u.id, OtpKind::Sms, Via::Management).await,
        Factor::OtpEmail => app.remove_factor(&ctx, &u.id, OtpKind::Email, Via::Management).await,
        Factor::U2f(id) => app.remove_u2f(&ctx, &u.id, id, Via::Management).await,
    };
    done.map_err(|e| errors::page(visit.t, &e))?;
    Ok(Redirect::to(&format!("{}?removed=1", users_path(&org))).into_response())
}

#[cfg(test)]
mod tests {
    use super::Factor;

    #[test]
    fn factor_slugs_round_trip() {
        for f in [Factor::Otp, Factor::OtpSms, Factor::OtpEmail, Factor::U2f("123".into())] {
            assert_eq!(Factor::parse(&f.slug()), Some(f));
        }
        assert_eq!(Factor::parse("u2f-"), None);
        assert_eq!(Factor::parse("password"), None);
    }
}
