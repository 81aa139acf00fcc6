//! What every page request brings: the instance (by host), the language
//! (Accept-Language), the CSRF seed and the sealed login cookie, which
//! holds only a reference to a session (its id and token), never user data.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::response::Response;
use http::HeaderMap;
use http::request::Parts;
use serde::{Deserialize, Serialize};
use twofold_domain::{InstanceId, SessionId};

use crate::catalog::{self, Catalog};
use crate::csrf::Seed;
use crate::errors;
use crate::web::Web;

pub const SESSION_COOKIE: &str = "tf_session";
/// Labels sealed session cookies, so no other sealed value passes for one.
const LABEL: &str = "tf-ui-session:";

/// The session a browser is signing in (or signed in) with.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LoginCookie {
    pub sid: String,
    pub token: String,
    /// The OIDC auth request the login finishes (`V2_…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_request: Option<String>,
}

impl LoginCookie {
    pub fn session_id(&self) -> SessionId {
        SessionId::new(self.sid.clone())
    }
}

pub struct Visit {
    pub instance: InstanceId,
    /// The host without its port: the WebAuthn relying party.
    pub rp_id: String,
    pub t: &'static Catalog,
    pub seed: Seed,
    pub login: Option<LoginCookie>,
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

impl Web {
    pub fn seal_login(&self, c: &LoginCookie) -> String {
        let json = serde_json::to_string(c).unwrap_or_default();
        self.app.seal_for_ui(format!("{LABEL}{json}").as_bytes())
    }

    fn open_login(&self, sealed: &str) -> Option<LoginCookie> {
        let plain = String::from_utf8(self.app.open_for_ui(sealed)?).ok()?;
        serde_json::from_str(plain.strip_prefix(LABEL)?).ok()
    }
}

impl FromRequestParts<Arc<Web>> for Visit {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, web: &Arc<Web>) -> Result<Self, Response> {
        let t = catalog::negotiate(
            parts
                .headers
                .get(http::header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok()),
        );
        let host = twofold_api::request_host(parts);
        let instance = match web.app.resolve_instance(&host).await {
            Ok(i) => i.id.clone(),
            Err(e) => return Err(errors::page(t, &e)),
        };
        let seed = parts
            .extensions
            .get::<Seed>()
            .cloned()
            .unwrap_or_else(|| Seed(String::new()));
        let login = cookie(&parts.headers, SESSION_COOKIE).and_then(|v| web.open_login(&v));
        Ok(Self {
            instance,
            rp_id: twofold_app::auth::host_without_port(&host),
            t,
            seed,
            login,
        })
    }
}
