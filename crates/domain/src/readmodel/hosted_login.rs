//! Stored hosted login translations, one document per level and locale
//! (id `<instance or org id>:<locale>`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Collection, DocDetails, DocKey};
use crate::event::{EventPayload as E, StoredEvent};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranslationView {
    pub translations: Value,
    pub details: DocDetails,
}

pub fn translation_doc_id(owner_id: &str, locale: &str) -> String {
    format!("{owner_id}:{locale}")
}

pub(super) fn affected(ev: &StoredEvent) -> Vec<DocKey> {
    match &ev.payload {
        E::InstanceHostedLoginTranslationSet(t) | E::OrgHostedLoginTranslationSet(t) => vec![DocKey::new(
            Collection::HostedLoginTranslation,
            translation_doc_id(&ev.aggregate.id, &t.locale),
        )],
        _ => vec![],
    }
}

pub(super) fn apply(ev: &StoredEvent, prior: Option<TranslationView>) -> Option<TranslationView> {
    match (&ev.payload, prior) {
        (E::InstanceHostedLoginTranslationSet(t) | E::OrgHostedLoginTranslationSet(t), Some(mut v)) => {
            v.translations = t.translations.clone();
            v.details.touch(ev);
            Some(v)
        }
        (E::InstanceHostedLoginTranslationSet(t) | E::OrgHostedLoginTranslationSet(t), None) => Some(TranslationView {
            translations: t.translations.clone(),
            details: DocDetails::created(ev),
        }),
        (_, prior) => prior,
    }
}
