//! Read models: JSON documents kept in step with the event log. The store
//! asks [`affected`] which documents an event touches, loads them, and writes
//! back what [`apply`] returns, in the same transaction as the append, so a
//! read after a successful write always sees it.

pub mod auth_request;
pub mod directory;
pub mod hosted_login;
pub mod login_policy;
pub mod projects;
pub mod providers;
pub mod query;
pub mod scoped_policy;
pub mod security;
pub mod session;
pub mod token_query;
pub mod user_factors;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::event::StoredEvent;
use crate::lockout::LockoutSettings;
use crate::password_age::PasswordAgeSettings;
use crate::password_complexity::PasswordComplexitySettings;

/// Document collections; `as_str` is the name the store keeps them under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Collection {
    LoginPolicy,
    Instance,
    InstanceDomain,
    /// One document, id [`directory::DEFAULT_INSTANCE_ID`]: the instance created at first start.
    DefaultInstance,
    Org,
    User,
    Pat,
    /// Verified passkeys by credential ID ([`directory::PasskeyCredentialView`]).
    PasskeyCredential,
    Member,
    Session,
    LockoutPolicy,
    PasswordComplexityPolicy,
    PasswordAgePolicy,
    SecurityPolicy,
    Provider,
    Project,
    App,
    HostedLoginTranslation,
    /// Per human user: org and ready factor kinds ([`user_factors`]).
    UserFactors,
    AuthRequest,
    /// The tokens of a grant ([`crate::oidc::session::OidcSession`]).
    OidcSession,
}

impl Collection {
    pub fn as_str(self) -> &'static str {
        match self {
            Collection::LoginPolicy => "login_policy",
            Collection::Instance => "instance",
            Collection::InstanceDomain => "instance_domain",
            Collection::DefaultInstance => "default_instance",
            Collection::Org => "org",
            Collection::User => "user",
            Collection::Pat => "pat",
            Collection::PasskeyCredential => "passkey_credential",
            Collection::Member => "member",
            Collection::Session => "session",
            Collection::LockoutPolicy => "lockout_policy",
            Collection::PasswordComplexityPolicy => "password_complexity_policy",
            Collection::PasswordAgePolicy => "password_age_policy",
            Collection::SecurityPolicy => "security_policy",
            Collection::Provider => "provider",
            Collection::Project => "project",
            Collection::App => "app",
            Collection::HostedLoginTranslation => "hosted_login_translation",
            Collection::UserFactors => "user_factors",
            Collection::AuthRequest => "auth_request",
            Collection::OidcSession => "oidc_session",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DocKey {
    pub collection: Collection,
    pub id: String,
}

impl DocKey {
    pub fn new(collection: Collection, id: impl Into<String>) -> Self {
        Self {
            collection,
            id: id.into(),
        }
    }
}

/// The new state of one document: None deletes it. `lookup` is a secondary
/// key the store indexes (e.g. a token hash, or the user of a membership).
#[derive(Clone, Debug, PartialEq)]
pub struct DocWrite {
    pub key: DocKey,
    pub doc: Option<Value>,
    pub lookup: Option<String>,
}

/// Documents `ev` may change.
pub fn affected(ev: &StoredEvent) -> Vec<DocKey> {
    let mut keys = login_policy::affected(ev);
    keys.extend(directory::affected(ev));
    keys.extend(session::affected(ev));
    keys.extend(scoped_policy::affected::<LockoutSettings>(ev));
    keys.extend(scoped_policy::affected::<PasswordComplexitySettings>(ev));
    keys.extend(scoped_policy::affected::<PasswordAgeSettings>(ev));
    keys.extend(security::affected(ev));
    keys.extend(providers::affected(ev));
    keys.extend(projects::affected(ev));
    keys.extend(hosted_login::affected(ev));
    keys.extend(auth_request::affected(ev));
    if ev.aggregate.kind == crate::event::AggregateType::OidcSession {
        keys.push(DocKey::new(Collection::OidcSession, ev.aggregate.id.clone()));
    }
    keys
}

/// New state of the document `key` after `ev`, given its state before.
pub fn apply(ev: &StoredEvent, key: &DocKey, prior: Option<Value>) -> DocWrite {
    use directory::{InstanceDomainView, MemberView, PatView, UserView};
    match key.collection {
        Collection::LoginPolicy => typed(key, prior, |p| login_policy::apply(ev, p), no_lookup),
        Collection::Provider => providers::apply(ev, key, prior),
        // Written only as derived from the user document (see `derived`).
        Collection::UserFactors => DocWrite {
            key: key.clone(),
            lookup: None,
            doc: prior,
        },
        Collection::LockoutPolicy => typed(
            key,
            prior,
            |p| scoped_policy::apply::<LockoutSettings>(ev, p),
            no_lookup,
        ),
        Collection::PasswordComplexityPolicy => typed(
            key,
            prior,
            |p| scoped_policy::apply::<PasswordComplexitySettings>(ev, p),
            no_lookup,
        ),
        Collection::PasswordAgePolicy => typed(
            key,
            prior,
            |p| scoped_policy::apply::<PasswordAgeSettings>(ev, p),
            no_lookup,
        ),
        Collection::SecurityPolicy => typed(key, prior, |p| security::apply(ev, p), no_lookup),
        Collection::HostedLoginTranslation => typed(key, prior, |p| hosted_login::apply(ev, p), no_lookup),
        Collection::Session => typed(
            key,
            prior,
            |p| session::apply(ev, p),
            |s: &session::SessionView| Some(s.token_hash.clone()),
        ),
        Collection::Instance => typed(key, prior, |p| directory::instance(ev, p), no_lookup),
        Collection::InstanceDomain | Collection::DefaultInstance => typed(
            key,
            prior,
            |_: Option<InstanceDomainView>| {
                Some(InstanceDomainView {
                    instance_id: crate::ids::InstanceId::from(ev.instance_id.as_str()),
                })
            },
            no_lookup,
        ),
        Collection::Org => typed(key, prior, |p| directory::org(ev, p), no_lookup),
        Collection::User => typed(
            key,
            prior,
            |p| directory::user(ev, p),
            |u: &UserView| Some(u.user_name.to_lowercase()),
        ),
        Collection::Pat => typed(
            key,
            prior,
            |p| directory::pat(ev, p),
            |p: &PatView| Some(p.token_hash.clone()),
        ),
        Collection::PasskeyCredential => typed(
            key,
            prior,
            |p| directory::passkey_credential(ev, p),
            |p: &directory::PasskeyCredentialView| Some(p.key_id.clone()),
        ),
        Collection::Project => typed(
            key,
            prior,
            |p| projects::project(ev, p),
            |p: &projects::ProjectView| Some(p.org_id.as_str().to_owned()),
        ),
        Collection::App => typed(key, prior, |p| projects::app(ev, p), projects::app_lookup),
        Collection::AuthRequest => typed(
            key,
            prior,
            |p| auth_request::apply(ev, p),
            |a: &auth_request::AuthRequestView| a.code_hash.clone(),
        ),
        Collection::OidcSession => typed(
            key,
            prior,
            |p: Option<crate::oidc::session::OidcSession>| {
                let mut s = p.unwrap_or_default();
                s.apply(ev);
                Some(s)
            },
            no_lookup,
        ),
        Collection::Member => typed(
            key,
            prior,
            |p| directory::member(ev, p),
            |m: &MemberView| Some(m.user_id.as_str().to_owned()),
        ),
    }
}

/// A document kept in step with the written document `w` (its summary).
pub fn derived(w: &DocWrite) -> Option<DocWrite> {
    user_factors::derived(w)
}

/// Runs a reducer over a typed document. A prior document that no longer
/// parses is treated as absent, which only happens after a schema change.
#[expect(
    clippy::expect_used,
    reason = "read models are derived, string-keyed structs: serializing them cannot fail"
)]
pub(crate) fn typed<T: Serialize + DeserializeOwned>(
    key: &DocKey,
    prior: Option<Value>,
    reduce: impl FnOnce(Option<T>) -> Option<T>,
    lookup: impl FnOnce(&T) -> Option<String>,
) -> DocWrite {
    let prior = prior.and_then(|v| serde_json::from_value(v).ok());
    let next = reduce(prior);
    DocWrite {
        key: key.clone(),
        lookup: next.as_ref().and_then(lookup),
        doc: next.map(|d| serde_json::to_value(d).expect("read models serialize")),
    }
}

/// For documents without a secondary key.
pub(crate) fn no_lookup<T>(_: &T) -> Option<String> {
    None
}

/// Sequence and dates of the last event applied to a document.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DocDetails {
    pub sequence: u64,
    pub creation_date: crate::Timestamp,
    pub change_date: crate::Timestamp,
    pub resource_owner: String,
}

impl DocDetails {
    pub fn created(ev: &StoredEvent) -> Self {
        Self {
            sequence: ev.sequence,
            creation_date: ev.created_at,
            change_date: ev.created_at,
            resource_owner: ev.aggregate.owner.clone(),
        }
    }

    pub fn touch(&mut self, ev: &StoredEvent) {
        self.sequence = ev.sequence;
        self.change_date = ev.created_at;
    }
}
