//! What a refusal says to a person: one clear sentence per kind, never an
//! internal id. Unexpected errors are logged and answered generically.

use askama::Template;
use axum::response::{Html, IntoResponse, Response};
use http::StatusCode;
use twofold_domain::session::{FACTOR_NOT_ALLOWED, PASSWORD_NOT_ALLOWED, THROTTLED};
use twofold_domain::{DomainError, ErrorKind};

use crate::catalog::Catalog;

/// The sentence for `e`.
pub fn sentence(t: &Catalog, e: &DomainError) -> String {
    let key = match e.id.as_ref() {
        THROTTLED => return t.with("error.throttled", e.retry_after_secs.unwrap_or(1)),
        FACTOR_NOT_ALLOWED => "error.factor_not_allowed",
        PASSWORD_NOT_ALLOWED => "error.password_not_allowed",
        "COMMAND-JLK35" | "COMMAND-SF3fg" => "error.locked",
        "COMMAND-3M0fs" => "error.password_wrong",
        "COMMAND-3nJ4t" => "error.no_password",
        "QUERY-Dfbg2" | "COMMAND-Df4b3" => "error.user_not_found",
        "SESSION-Gj4ko" => "error.user_inactive",
        "EVENT-8isk2" | "CODE-woT0xc" | "SESSION-Rc1nv" => "error.code_wrong",
        "SESSION-R3play" => "error.code_used",
        "CODE-QvUQ4P" => "error.code_expired",
        "COMMAND-S34gh" => "error.code_not_sent",
        "COMMAND-Hkl3d" | "COMMAND-Hewfq" | "QUERY-SFeaa" | "QUERY-dsfr3" | "AUTHZ-EGDo3" => "error.session_expired",
        "DOMAIN-HuJf6" => "error.password_short",
        "DOMAIN-co3Xw" => "error.password_lower",
        "DOMAIN-VoaRj" => "error.password_upper",
        "DOMAIN-ZBv4H" => "error.password_number",
        "DOMAIN-ZDLwA" => "error.password_symbol",
        _ => {
            tracing::warn!(error = %e, "hosted login: unexpected refusal");
            "error.generic"
        }
    };
    t.get(key).to_owned()
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    t: &'a Catalog,
    message: String,
}

/// A page that only says what went wrong (no instance, broken link).
pub fn page(t: &'static Catalog, e: &DomainError) -> Response {
    let status = match e.kind {
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        _ => StatusCode::BAD_REQUEST,
    };
    message_page(t, status, sentence(t, e))
}

pub fn message_page(t: &Catalog, status: StatusCode, message: String) -> Response {
    render(status, &ErrorPage { t, message })
}

/// The status of a form page: 400 when it shows why the last submission
/// was refused, else 200.
pub fn form_status<E>(error: &Option<E>) -> StatusCode {
    if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    }
}

/// A rendered template; a template that fails to render is a defect.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "hosted login: template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "An internal error occurred").into_response()
        }
    }
}
