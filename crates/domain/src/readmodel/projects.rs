//! Read models of projects and their applications. A project document is
//! found by its id and, through its lookup key (the org id), with the other
//! projects of its org. An application document (id `<project>:<app>`, so
//! a project's apps share a prefix) is found by its client ID, its lookup
//! key: what an authorize or token endpoint needs in one query.

use serde::{Deserialize, Serialize};

use super::query::Text;
use super::{Collection, DocDetails, DocKey};
use crate::application::{ApiConfigAdded, ApiConfigChanged, AppAdded, AppIdPayload, OidcConfigChanged, SecretChanged};
use crate::event::{AggregateType, EventPayload as E, StoredEvent, Timestamp};
use crate::ids::{AppId, ClientId, OrgId, ProjectId};
use crate::oidc_config::{ApiAuthMethod, OidcConfig};
use crate::project::ProjectSettings;

/// Whether a project or application may be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Activity {
    Active,
    Inactive,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectView {
    pub id: ProjectId,
    pub org_id: OrgId,
    pub settings: ProjectSettings,
    pub state: Activity,
    pub details: DocDetails,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AppConfigView {
    Oidc(OidcConfig),
    Api(ApiAuthMethod),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppView {
    pub id: AppId,
    pub project_id: ProjectId,
    pub org_id: OrgId,
    pub name: String,
    pub state: Activity,
    pub client_id: ClientId,
    /// Keyed hash of the client secret (never shown; checked by the token endpoint).
    pub hashed_secret: Option<String>,
    /// None only between the app's added event and its config event.
    pub config: Option<AppConfigView>,
    pub details: DocDetails,
    /// Its keys (`private_key_jwt`), oldest first.
    #[serde(default)]
    pub keys: Vec<AppKeyView>,
}

/// A public key of an app.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppKeyView {
    pub id: String,
    pub expiration_date: Timestamp,
    /// PEM `PUBLIC KEY` (SPKI).
    pub public_key: String,
    pub details: DocDetails,
}

impl AppView {
    pub fn oidc(&self) -> Option<&OidcConfig> {
        match &self.config {
            Some(AppConfigView::Oidc(c)) => Some(c),
            _ => None,
        }
    }
}

/// A condition of ListProjects (`zitadel.project.v1.ProjectQuery`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProjectQuery {
    Name(Text),
    ResourceOwner(String),
}

impl ProjectQuery {
    pub fn matches(&self, p: &ProjectView) -> bool {
        match self {
            Self::Name(q) => q.matches(&p.settings.name),
            Self::ResourceOwner(org) => p.org_id == *org,
        }
    }
}

/// A condition of ListApps (`zitadel.app.v1.AppQuery`: only the name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AppQuery {
    Name(Text),
}

impl AppQuery {
    pub fn matches(&self, a: &AppView) -> bool {
        match self {
            Self::Name(q) => q.matches(&a.name),
        }
    }
}

/// Document id of an application: `<project id>:<app id>`.
pub fn app_doc_id(project_id: &str, app_id: &str) -> String {
    format!("{project_id}:{app_id}")
}

fn app_of(ev: &StoredEvent) -> Option<&AppId> {
    match &ev.payload {
        E::AppAdded(AppAdded { app_id, .. })
        | E::AppChanged(AppAdded { app_id, .. })
        | E::AppDeactivated(AppIdPayload { app_id })
        | E::AppReactivated(AppIdPayload { app_id })
        | E::AppRemoved(AppIdPayload { app_id })
        | E::OidcConfigChanged(OidcConfigChanged { app_id, .. })
        | E::OidcSecretChanged(SecretChanged { app_id, .. })
        | E::ApiSecretChanged(SecretChanged { app_id, .. })
        | E::ApiConfigChanged(ApiConfigChanged { app_id, .. })
        | E::ApiConfigAdded(ApiConfigAdded { app_id, .. }) => Some(app_id),
        E::OidcConfigAdded(c) => Some(&c.app_id),
        E::AppKeyAdded(k) => Some(&k.application_id),
        E::AppKeyRemoved(k) => Some(&k.application_id),
        _ => None,
    }
}

pub(super) fn affected(ev: &StoredEvent) -> Vec<DocKey> {
    if ev.aggregate.kind != AggregateType::Project {
        return vec![];
    }
    match app_of(ev) {
        Some(app_id) => vec![DocKey::new(
            Collection::App,
            app_doc_id(&ev.aggregate.id, app_id.as_str()),
        )],
        None => vec![DocKey::new(Collection::Project, ev.aggregate.id.clone())],
    }
}

pub(super) fn project(ev: &StoredEvent, prior: Option<ProjectView>) -> Option<ProjectView> {
    let mut v = match (&ev.payload, prior) {
        (E::ProjectAdded(settings), _) => {
            return Some(ProjectView {
                id: ProjectId::from(ev.aggregate.id.as_str()),
                org_id: OrgId::from(ev.aggregate.owner.as_str()),
                settings: settings.clone(),
                state: Activity::Active,
                details: DocDetails::created(ev),
            });
        }
        (E::ProjectRemoved(_), _) | (_, None) => return None,
        (_, Some(v)) => v,
    };
    match &ev.payload {
        E::ProjectChanged(c) => c.apply_to(&mut v.settings),
        E::ProjectDeactivated => v.state = Activity::Inactive,
        E::ProjectReactivated => v.state = Activity::Active,
        _ => return Some(v),
    }
    v.details.touch(ev);
    Some(v)
}

pub(super) fn app(ev: &StoredEvent, prior: Option<AppView>) -> Option<AppView> {
    let mut v = match (&ev.payload, prior) {
        (E::AppAdded(a), _) => {
            return Some(AppView {
                id: a.app_id.clone(),
                project_id: ProjectId::from(ev.aggregate.id.as_str()),
                org_id: OrgId::from(ev.aggregate.owner.as_str()),
                name: a.name.clone(),
                state: Activity::Active,
                client_id: ClientId::default(),
                hashed_secret: None,
                config: None,
                details: DocDetails::created(ev),
                keys: vec![],
            });
        }
        (E::AppRemoved(_), _) | (_, None) => return None,
        (_, Some(v)) => v,
    };
    v.details.touch(ev);
    match &ev.payload {
        E::AppChanged(a) => v.name = a.name.clone(),
        E::AppDeactivated(_) => v.state = Activity::Inactive,
        E::AppReactivated(_) => v.state = Activity::Active,
        E::OidcConfigAdded(c) => {
            v.client_id = c.client_id.clone();
            v.hashed_secret = c.hashed_secret.clone();
            v.config = Some(AppConfigView::Oidc(c.config.clone()));
        }
        E::OidcConfigChanged(c) => {
            if let Some(AppConfigView::Oidc(config)) = &mut v.config {
                *config = crate::application::changed_config(config, &c.changes);
            }
        }
        E::OidcSecretChanged(s) | E::ApiSecretChanged(s) => v.hashed_secret = Some(s.hashed_secret.clone()),
        E::ApiConfigChanged(c) => v.config = Some(AppConfigView::Api(c.auth_method)),
        E::ApiConfigAdded(c) => {
            v.client_id = c.client_id.clone();
            v.hashed_secret = c.hashed_secret.clone();
            v.config = Some(AppConfigView::Api(c.auth_method));
        }
        E::AppKeyAdded(k) => v.keys.push(AppKeyView {
            id: k.key_id.clone(),
            expiration_date: k.expiration_date,
            public_key: k.public_key.clone(),
            details: DocDetails::created(ev),
        }),
        E::AppKeyRemoved(k) => v.keys.retain(|key| key.id != k.key_id),
        _ => {}
    }
    Some(v)
}

/// The lookup key of an app document: its client ID, once it has one.
pub(super) fn app_lookup(v: &AppView) -> Option<String> {
    (!v.client_id.as_str().is_empty()).then(|| v.client_id.as_str().to_owned())
}

#[cfg(test)]
mod tests {
    use super::super::{DocWrite, apply};
    use super::*;
    use crate::application::{NewApp, decide_add_oidc};
    use crate::project::tests::{added, stored};
    use crate::project::{ProjectState, decide_remove};

    /// Folds `events` into the documents they touch, as the store does.
    fn project_docs(events: Vec<E>) -> std::collections::BTreeMap<String, DocWrite> {
        let mut docs = std::collections::BTreeMap::new();
        for ev in stored(events) {
            for key in super::super::affected(&ev) {
                let name = format!("{}/{}", key.collection.as_str(), key.id);
                let prior = docs.get(&name).and_then(|w: &DocWrite| w.doc.clone());
                docs.insert(name, apply(&ev, &key, prior));
            }
        }
        docs
    }

    #[test]
    fn apps_are_found_by_client_id_until_removed() {
        let org = OrgId::new("org1");
        let state = ProjectState::fold(&stored(vec![added()]));
        let new = NewApp {
            app_id: "a1".into(),
            name: "web".into(),
            client_id: "c1".into(),
            hashed_secret: Some("h".into()),
        };
        let config = OidcConfig {
            redirect_uris: vec!["https://a.example/cb".into()],
            ..OidcConfig::default()
        }
        .normalized();
        let mut events = vec![added()];
        events.extend(decide_add_oidc(&state, &org, &new, &config).unwrap());
        events.push(E::AppDeactivated(AppIdPayload { app_id: "a1".into() }));
        let docs = project_docs(events.clone());
        let app = &docs["app/p1:a1"];
        assert_eq!(app.lookup.as_deref(), Some("c1"));
        let view: AppView = serde_json::from_value(app.doc.clone().unwrap()).unwrap();
        assert_eq!(
            (view.state, view.oidc(), view.hashed_secret.as_deref()),
            (Activity::Inactive, Some(&config), Some("h"))
        );
        let project = &docs["project/p1"];
        let pv: ProjectView = serde_json::from_value(project.doc.clone().unwrap()).unwrap();
        assert_eq!((pv.org_id.as_str(), pv.settings.name.as_str()), ("org1", "Shop"));

        // Removing the project removes its apps' documents with it.
        let state = ProjectState::fold(&stored(events.clone()));
        events.extend(decide_remove(&state, &org).unwrap());
        let docs = project_docs(events);
        assert_eq!(docs["app/p1:a1"].doc, None);
        assert_eq!(docs["project/p1"].doc, None);
    }
}
