//! The auth-request read model: one document per open request (what
//! `GetAuthRequest` reads), looked up by its code's keyed hash once a
//! session is linked (what the token endpoint will need). A failed request
//! is gone, as in ZITADEL.

use serde::{Deserialize, Serialize};

use super::{Collection, DocDetails, DocKey};
use crate::event::{AggregateType, EventPayload as E, StoredEvent, Timestamp};
use crate::oidc::auth_request::{AuthRequestAdded, SessionLinked};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthRequestView {
    pub id: String,
    pub details: DocDetails,
    pub request: AuthRequestAdded,
    pub linked: Option<SessionLinked>,
    pub code_hash: Option<String>,
    pub code_expires_at: Option<Timestamp>,
    /// Kept after the exchange, so a second use of the code is recognised.
    #[serde(default)]
    pub exchanged: bool,
}

pub(super) fn affected(ev: &StoredEvent) -> Vec<DocKey> {
    if ev.aggregate.kind == AggregateType::AuthRequest {
        vec![DocKey::new(Collection::AuthRequest, ev.aggregate.id.clone())]
    } else {
        vec![]
    }
}

pub(super) fn apply(ev: &StoredEvent, prior: Option<AuthRequestView>) -> Option<AuthRequestView> {
    let mut v = match (&ev.payload, prior) {
        (E::AuthRequestAdded(a), _) => AuthRequestView {
            id: ev.aggregate.id.clone(),
            details: DocDetails::created(ev),
            request: (**a).clone(),
            linked: None,
            code_hash: None,
            code_expires_at: None,
            exchanged: false,
        },
        (E::AuthRequestFailed(_), _) | (_, None) => return None,
        (_, Some(v)) => v,
    };
    v.details.touch(ev);
    match &ev.payload {
        E::AuthRequestSessionLinked(l) => v.linked = Some(l.clone()),
        E::AuthRequestCodeAdded(c) => {
            v.code_hash = Some(c.code_hash.clone());
            v.code_expires_at = Some(c.expires_at);
        }
        E::AuthRequestCodeExchanged(_) => v.exchanged = true,
        _ => {}
    }
    Some(v)
}
