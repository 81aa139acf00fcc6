//! Cross-site request forgery: every form carries a token derived (keyed
//! MAC) from a random per-browser cookie, and every POST must bring the
//! token of the cookie it comes with. Another site can neither read the
//! cookie nor compute the token; SameSite=Lax keeps the cookie off its
//! cross-site POSTs as well.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderValue;
use http::header::SET_COOKIE;
use twofold_app::secrets::random_token;
use twofold_domain::human::constant_time_eq;

use crate::visit::cookie;
use crate::web::Web;

pub const COOKIE: &str = "tf_csrf";

/// This browser's CSRF seed (its cookie, or a new one the response sets).
#[derive(Clone, Debug)]
pub struct Seed(pub String);

/// Gives every request a seed; a new one goes out as a cookie.
pub async fn seed_cookie(State(web): State<Arc<Web>>, mut req: Request, next: Next) -> Response {
    let existing = cookie(req.headers(), COOKIE).filter(|v| v.len() >= 32);
    let fresh = existing.is_none();
    let seed = existing.unwrap_or_else(|| random_token(32));
    req.extensions_mut().insert(Seed(seed.clone()));
    let mut resp = next.run(req).await;
    if fresh && let Ok(v) = HeaderValue::from_str(&web.cookie_header(COOKIE, &seed)) {
        resp.headers_mut().append(SET_COOKIE, v);
    }
    resp
}

impl Web {
    /// The token forms carry for `seed`.
    pub fn csrf_token(&self, seed: &Seed) -> String {
        self.app.mac_for_ui(&format!("csrf:{}", seed.0))
    }

    /// Whether a posted token belongs to the browser's seed.
    pub fn csrf_ok(&self, seed: &Seed, posted: &str) -> bool {
        constant_time_eq(self.csrf_token(seed).as_bytes(), posted.as_bytes())
    }
}
