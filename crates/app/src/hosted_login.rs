//! Hosted login translations (Settings v2): the stored document of a level
//! and locale, read merged over the levels it inherits from.

use serde_json::Value;
use twofold_domain::hosted_login::{self, Locale, SetLevel};
use twofold_domain::readmodel::Collection;
use twofold_domain::readmodel::hosted_login::{TranslationView, translation_doc_id};
use twofold_domain::{AggregateRef, DomainError, OrgId};

use crate::App;
use crate::auth::RequestCtx;

/// The level a Get reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TranslationLevel {
    /// Only the built-in translation.
    System,
    Instance,
    Org(OrgId),
}

pub struct Translation {
    pub etag: String,
    pub translations: Value,
}

impl App {
    /// The document stored by `owner_id` for the locale, else for its language.
    async fn stored_translation(
        &self,
        ctx: &RequestCtx,
        owner_id: &str,
        locale: &Locale,
    ) -> Result<Option<Value>, DomainError> {
        for tag in [&locale.tag, &locale.language] {
            let doc: Option<TranslationView> = self
                .typed_doc(
                    &ctx.instance_id,
                    Collection::HostedLoginTranslation,
                    &translation_doc_id(owner_id, tag),
                )
                .await?;
            if let Some(d) = doc {
                return Ok(Some(d.translations));
            }
        }
        Ok(None)
    }

    /// The requested level's translation merged over the instance's (for an
    /// org) and the built-in one, unless `ignore_inheritance`. The etag is
    /// that of the nearest stored document, from the requested level down.
    pub async fn hosted_login_translation(
        &self,
        ctx: &RequestCtx,
        level: TranslationLevel,
        locale: &str,
        ignore_inheritance: bool,
    ) -> Result<Translation, DomainError> {
        let locale = hosted_login::get_locale(locale)?;
        let system = hosted_login::system();
        // Lowest level first.
        let mut chain = vec![Some(system)];
        if level != TranslationLevel::System {
            chain.push(self.stored_translation(ctx, ctx.instance_id.as_str(), &locale).await?);
        }
        if let TranslationLevel::Org(org) = &level {
            chain.push(self.stored_translation(ctx, org.as_str(), &locale).await?);
        }
        let etag = chain
            .iter()
            .rev()
            .flatten()
            .next()
            .map(hosted_login::etag)
            .unwrap_or_default();
        let translations = if ignore_inheritance {
            chain
                .pop()
                .flatten()
                .unwrap_or_else(|| Value::Object(Default::default()))
        } else {
            let mut merged = Value::Object(Default::default());
            for doc in chain.iter().flatten() {
                hosted_login::merge(&mut merged, doc);
            }
            merged
        };
        Ok(Translation { etag, translations })
    }

    /// Replaces the document of (level, locale); returns its etag.
    pub async fn set_hosted_login_translation(
        &self,
        ctx: &RequestCtx,
        org: Option<&str>,
        locale: &str,
        translations: Value,
    ) -> Result<String, DomainError> {
        let level = if org.is_some() {
            SetLevel::Org
        } else {
            SetLevel::Instance
        };
        // The whole document is replaced, whatever was stored before.
        let etag = hosted_login::etag(&translations);
        let events = hosted_login::decide_set(level, locale, translations)?;
        let aggregate = match org {
            Some(id) => AggregateRef::org(&self.org(&ctx.instance_id, id).await?.id),
            None => AggregateRef::instance(&ctx.instance_id),
        };
        self.execute(&ctx.instance_id, ctx.caller.user_id.as_str(), aggregate, |_| {
            Ok(events.clone())
        })
        .await?;
        Ok(etag)
    }
}
