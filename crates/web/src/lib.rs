//! The hosted login and account pages under `/ui/`, rendered on the server
//! (askama templates, checked at compile time) and served on the API's
//! port. Every rule stays in the use cases the Session, User and Auth APIs
//! call, under the auth each of those RPCs declares: the pages only ask
//! and show. JavaScript is a static file and only enhances (WebAuthn,
//! printing); everything else works without it.
//!
//! Reusable pieces for further pages (the admin console): [`web::Web`]
//! (state, contexts for use cases), [`visit::Visit`] (instance, language,
//! session cookie), [`csrf`], [`headers`] and `templates/base.html`.

mod account;
mod account_totp;
mod catalog;
mod console;
mod csrf;
mod errors;
mod factor_removal;
mod headers;
mod keys;
mod login;
mod passkey_login;
mod qr;
mod setup;
mod setup_codes;
mod visit;
mod web;

use std::sync::Arc;

use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use twofold_api::methods::Methods;
use twofold_app::App;

pub use web::Web;

/// Where the pages live.
pub const UI_PREFIX: &str = "/ui";
/// The login's base (the default `--login-url` path).
pub const LOGIN_BASE: &str = "/ui/login";

const STYLE: &str = include_str!("../static/style.css");
const SCRIPT: &str = include_str!("../static/ui.js");

/// The pages, to be served beside the API (see `twofold_api::Api::with_pages`).
pub fn router(app: App, methods: Arc<Methods>) -> Router {
    let web = Arc::new(Web::new(app, methods));
    Router::new()
        .route("/ui/login", get(|| async { Redirect::to("/ui/login/login") }))
        .route("/ui/login/login", get(login::name_page).post(login::name_post))
        .route(
            "/ui/login/password",
            get(login::password_page).post(login::password_post),
        )
        .route(
            "/ui/login/passkey",
            get(passkey_login::discoverable_page).post(passkey_login::post),
        )
        .route("/ui/login/passkey/user", get(passkey_login::user_page))
        .route("/ui/login/mfa", get(login::choose_page))
        .route("/ui/login/mfa/{factor}", get(login::code_page).post(login::code_post))
        .route("/ui/login/mfa-setup", get(setup::totp_page).post(setup::totp_post))
        .route(
            "/ui/login/mfa-setup/codes",
            get(setup_codes::page).post(setup_codes::post),
        )
        .route(
            "/ui/login/mfa-setup/security-key",
            get(keys::set_up_page).post(keys::set_up_post),
        )
        .route("/ui/login/done", get(login::done))
        .route("/ui/account", get(account::page))
        .route(account_totp::PATH, get(account_totp::page).post(account_totp::post))
        .route("/ui/account/password", axum::routing::post(account::password_post))
        .route(
            "/ui/account/recovery-codes",
            axum::routing::post(account::recovery_codes_post),
        )
        .route(
            "/ui/account/sessions/{id}/end",
            axum::routing::post(account::end_session_post),
        )
        .route(
            "/ui/account/keys/{kind}",
            get(keys::account_page).post(keys::account_post),
        )
        .route(
            "/ui/account/factors/remove",
            get(factor_removal::page).post(factor_removal::post),
        )
        .route("/ui/account/logout", axum::routing::post(account::logout_post))
        .merge(console::routes())
        .route(
            "/ui/static/style.css",
            get(|| async { static_file("text/css; charset=utf-8", STYLE) }),
        )
        .route(
            "/ui/static/ui.js",
            get(|| async { static_file("text/javascript; charset=utf-8", SCRIPT) }),
        )
        .layer(axum::middleware::from_fn_with_state(web.clone(), csrf::seed_cookie))
        .layer(axum::middleware::map_response(headers::secure))
        .with_state(web)
}

fn static_file(content_type: &'static str, body: &'static str) -> axum::response::Response {
    (
        [
            (CONTENT_TYPE, content_type),
            (http::header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}
