//! Read model of the delivery providers: `smtp:<id>` and `sms:<id>` hold a
//! provider's settings (secrets sealed), `active:email` / `active:sms` name
//! the active one.

use serde_json::Value;

use super::{Collection, DocKey, DocWrite, no_lookup, typed};
use crate::event::{EventPayload as E, StoredEvent};
use crate::notify::{HttpSmsConfig, ProviderId, SmtpConfig};

pub const ACTIVE_EMAIL: &str = "active:email";
pub const ACTIVE_SMS: &str = "active:sms";

pub fn smtp_doc_id(id: &str) -> String {
    format!("smtp:{id}")
}

pub fn sms_doc_id(id: &str) -> String {
    format!("sms:{id}")
}

pub(super) fn affected(ev: &StoredEvent) -> Vec<DocKey> {
    let key = |id: String| vec![DocKey::new(Collection::Provider, id)];
    match &ev.payload {
        E::SmtpConfigAdded(c) => key(smtp_doc_id(&c.id)),
        E::SmsConfigHttpAdded(c) => key(sms_doc_id(&c.id)),
        E::SmtpConfigActivated(_) | E::SmtpConfigDeactivated(_) => key(ACTIVE_EMAIL.into()),
        E::SmsConfigActivated(_) | E::SmsConfigDeactivated(_) => key(ACTIVE_SMS.into()),
        _ => vec![],
    }
}

pub(super) fn apply(ev: &StoredEvent, key: &DocKey, prior: Option<Value>) -> DocWrite {
    match &ev.payload {
        E::SmtpConfigAdded(c) => typed(key, prior, |_: Option<SmtpConfig>| Some(c.clone()), no_lookup),
        E::SmsConfigHttpAdded(c) => typed(key, prior, |_: Option<HttpSmsConfig>| Some(c.clone()), no_lookup),
        E::SmtpConfigActivated(p) | E::SmsConfigActivated(p) => {
            typed(key, prior, |_: Option<ProviderId>| Some(p.clone()), no_lookup)
        }
        // Deactivating the active one leaves the channel without provider.
        E::SmtpConfigDeactivated(p) | E::SmsConfigDeactivated(p) => typed(
            key,
            prior,
            |prior: Option<ProviderId>| prior.filter(|a| a.id != p.id),
            no_lookup,
        ),
        _ => typed(key, prior, |p: Option<Value>| p, no_lookup),
    }
}
