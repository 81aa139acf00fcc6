//! Projects: an org's container of applications. The project aggregate
//! (id = project ID, owner = org ID) holds the project's settings and every
//! application event (see [`crate::application`]), as ZITADEL's does.

use serde::{Deserialize, Serialize};

use crate::application::{ApiConfigAdded, AppAdded, AppIdPayload, OidcConfigAdded, OidcConfigChanged, SecretChanged};
use crate::error::DomainError;
use crate::event::{EventPayload as E, NamePayload, StoredEvent};
use crate::ids::{AppId, ClientId, OrgId};
use crate::oidc_config::{ApiAuthMethod, OidcConfig};

/// What a project is created and updated with (`project.added` keys).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProjectSettings {
    pub name: String,
    pub project_role_assertion: bool,
    pub project_role_check: bool,
    pub has_project_check: bool,
    /// `PrivateLabelingSetting` (0–2).
    pub private_labeling_setting: i32,
}

/// `project.changed`: only the keys that changed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProjectChanged {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_role_assertion: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_role_check: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_project_check: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_labeling_setting: Option<i32>,
}

impl ProjectChanged {
    fn between(old: &ProjectSettings, new: &ProjectSettings) -> Self {
        fn diff<T: PartialEq + Clone>(old: &T, new: &T) -> Option<T> {
            (old != new).then(|| new.clone())
        }
        Self {
            name: diff(&old.name, &new.name),
            project_role_assertion: diff(&old.project_role_assertion, &new.project_role_assertion),
            project_role_check: diff(&old.project_role_check, &new.project_role_check),
            has_project_check: diff(&old.has_project_check, &new.has_project_check),
            private_labeling_setting: diff(&old.private_labeling_setting, &new.private_labeling_setting),
        }
    }

    pub fn apply_to(&self, s: &mut ProjectSettings) {
        if let Some(v) = &self.name {
            s.name = v.clone();
        }
        if let Some(v) = self.project_role_assertion {
            s.project_role_assertion = v;
        }
        if let Some(v) = self.project_role_check {
            s.project_role_check = v;
        }
        if let Some(v) = self.has_project_check {
            s.has_project_check = v;
        }
        if let Some(v) = self.private_labeling_setting {
            s.private_labeling_setting = v;
        }
    }
}

/// An application's kind with its kind-specific configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AppKind {
    Oidc(OidcConfig),
    Api(ApiAuthMethod),
}

/// An application as its project's events leave it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppState {
    pub id: AppId,
    pub name: String,
    pub active: bool,
    pub client_id: ClientId,
    /// Keyed hash of the client secret, if the app has one.
    pub hashed_secret: Option<String>,
    /// None until the app's config event (pushed with its added event).
    pub kind: Option<AppKind>,
    /// The ids of its keys (`private_key_jwt`).
    pub key_ids: Vec<String>,
}

impl AppState {
    pub fn oidc(&self) -> Option<&OidcConfig> {
        match &self.kind {
            Some(AppKind::Oidc(c)) => Some(c),
            _ => None,
        }
    }
}

/// A project folded from its aggregate's events.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProjectState {
    pub exists: bool,
    pub org_id: OrgId,
    pub settings: ProjectSettings,
    pub active: bool,
    pub apps: Vec<AppState>,
}

impl ProjectState {
    pub fn fold(events: &[StoredEvent]) -> Self {
        let mut s = Self::default();
        for ev in events {
            s.apply(ev);
        }
        s
    }

    fn app_mut(&mut self, id: &AppId) -> Option<&mut AppState> {
        self.apps.iter_mut().find(|a| a.id == *id)
    }

    fn apply(&mut self, ev: &StoredEvent) {
        match &ev.payload {
            E::ProjectAdded(p) => {
                *self = Self {
                    exists: true,
                    org_id: OrgId::from(ev.aggregate.owner.as_str()),
                    settings: p.clone(),
                    active: true,
                    apps: vec![],
                }
            }
            E::ProjectChanged(c) => c.apply_to(&mut self.settings),
            E::ProjectDeactivated => self.active = false,
            E::ProjectReactivated => self.active = true,
            E::ProjectRemoved(_) => *self = Self::default(),
            E::AppAdded(AppAdded { app_id, name }) => self.apps.push(AppState {
                id: app_id.clone(),
                name: name.clone(),
                active: true,
                client_id: ClientId::default(),
                hashed_secret: None,
                kind: None,
                key_ids: vec![],
            }),
            E::AppChanged(AppAdded { app_id, name }) => {
                if let Some(a) = self.app_mut(app_id) {
                    a.name = name.clone();
                }
            }
            E::OidcConfigAdded(c) => {
                let OidcConfigAdded {
                    app_id,
                    client_id,
                    hashed_secret,
                    config,
                } = c.as_ref();
                if let Some(a) = self.app_mut(app_id) {
                    a.client_id = client_id.clone();
                    a.hashed_secret = hashed_secret.clone();
                    a.kind = Some(AppKind::Oidc(config.clone()));
                }
            }
            E::OidcConfigChanged(OidcConfigChanged { app_id, changes }) => {
                if let Some(a) = self.app_mut(app_id)
                    && let Some(AppKind::Oidc(config)) = &mut a.kind
                {
                    *config = crate::application::changed_config(config, changes);
                }
            }
            E::ApiConfigAdded(ApiConfigAdded {
                app_id,
                client_id,
                hashed_secret,
                auth_method,
            }) => {
                if let Some(a) = self.app_mut(app_id) {
                    a.client_id = client_id.clone();
                    a.hashed_secret = hashed_secret.clone();
                    a.kind = Some(AppKind::Api(*auth_method));
                }
            }
            E::ApiConfigChanged(c) => {
                if let Some(a) = self.app_mut(&c.app_id) {
                    a.kind = Some(AppKind::Api(c.auth_method));
                }
            }
            E::OidcSecretChanged(SecretChanged { app_id, hashed_secret })
            | E::ApiSecretChanged(SecretChanged { app_id, hashed_secret }) => {
                if let Some(a) = self.app_mut(app_id) {
                    a.hashed_secret = Some(hashed_secret.clone());
                }
            }
            E::AppDeactivated(AppIdPayload { app_id }) => {
                if let Some(a) = self.app_mut(app_id) {
                    a.active = false;
                }
            }
            E::AppReactivated(AppIdPayload { app_id }) => {
                if let Some(a) = self.app_mut(app_id) {
                    a.active = true;
                }
            }
            E::AppRemoved(AppIdPayload { app_id }) => self.apps.retain(|a| a.id != *app_id),
            E::AppKeyAdded(k) => {
                if let Some(a) = self.app_mut(&k.application_id) {
                    a.key_ids.push(k.key_id.clone());
                }
            }
            E::AppKeyRemoved(k) => {
                if let Some(a) = self.app_mut(&k.application_id) {
                    a.key_ids.retain(|id| *id != k.key_id);
                }
            }
            _ => {}
        }
    }

    /// Whether the project exists and belongs to `org_id` (management
    /// calls only reach the projects of their org).
    pub fn in_org(&self, org_id: &OrgId) -> bool {
        self.exists && self.org_id == *org_id
    }

    /// An app of this project in `org_id`, if both exist.
    pub fn app(&self, org_id: &OrgId, app_id: &AppId) -> Option<&AppState> {
        self.in_org(org_id)
            .then(|| self.apps.iter().find(|a| a.id == *app_id))
            .flatten()
    }
}

fn project_not_found(id: &'static str) -> DomainError {
    DomainError::not_found(id, "Project not found")
}

/// A project's name: required, as PGV already makes sure.
fn checked_name(settings: &ProjectSettings) -> Result<(), DomainError> {
    if settings.name.trim().is_empty() {
        return Err(DomainError::invalid("PROJECT-IOVCC", "Project is invalid"));
    }
    crate::names::check("name", &settings.name)
}

/// AddProject: `project.added` on a new aggregate (the name's uniqueness in
/// the org is claimed with it).
pub fn decide_add(state: &ProjectState, settings: &ProjectSettings) -> Result<Vec<E>, DomainError> {
    checked_name(settings)?;
    if state.exists {
        return Err(DomainError::already_exists(
            "V3-DKcYh",
            "Project already exists on organization",
        ));
    }
    Ok(vec![E::ProjectAdded(settings.clone())])
}

/// UpdateProject: every field as sent; unchanged is no error and no event.
pub fn decide_update(state: &ProjectState, org_id: &OrgId, settings: &ProjectSettings) -> Result<Vec<E>, DomainError> {
    checked_name(settings)?;
    if !state.in_org(org_id) {
        return Err(project_not_found("COMMAND-3M9sd"));
    }
    let changed = ProjectChanged::between(&state.settings, settings);
    Ok(if changed == ProjectChanged::default() {
        vec![]
    } else {
        vec![E::ProjectChanged(changed)]
    })
}

pub fn decide_deactivate(state: &ProjectState, org_id: &OrgId) -> Result<Vec<E>, DomainError> {
    if !state.in_org(org_id) {
        return Err(project_not_found("COMMAND-112M9"));
    }
    if !state.active {
        return Err(DomainError::precondition("COMMAND-mki55", "Project is not active"));
    }
    Ok(vec![E::ProjectDeactivated])
}

pub fn decide_reactivate(state: &ProjectState, org_id: &OrgId) -> Result<Vec<E>, DomainError> {
    if !state.in_org(org_id) {
        return Err(project_not_found("COMMAND-3M9sd"));
    }
    if state.active {
        return Err(DomainError::precondition("COMMAND-5M9bs", "Project is not deactivated"));
    }
    Ok(vec![E::ProjectReactivated])
}

/// RemoveProject: every application is removed first (so each app's
/// client ID stops resolving with it), then the project.
pub fn decide_remove(state: &ProjectState, org_id: &OrgId) -> Result<Vec<E>, DomainError> {
    if !state.in_org(org_id) {
        return Err(project_not_found("COMMAND-3M9sd"));
    }
    let mut events: Vec<E> = state
        .apps
        .iter()
        .map(|a| E::AppRemoved(AppIdPayload { app_id: a.id.clone() }))
        .collect();
    events.push(E::ProjectRemoved(NamePayload {
        name: state.settings.name.clone(),
    }));
    Ok(events)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::event::{AggregateRef, Timestamp};
    use crate::ids::ProjectId;

    pub(crate) fn stored(events: Vec<E>) -> Vec<StoredEvent> {
        let agg = AggregateRef::project(&ProjectId::new("p1"), &OrgId::new("org1"));
        events
            .into_iter()
            .enumerate()
            .map(|(i, payload)| StoredEvent {
                instance_id: "i1".into(),
                aggregate: agg.clone(),
                sequence: i as u64 + 1,
                position: i as i64 + 1,
                created_at: Timestamp(i as i64),
                creator: "u1".into(),
                payload,
            })
            .collect()
    }

    pub(crate) fn settings(name: &str) -> ProjectSettings {
        ProjectSettings {
            name: name.into(),
            ..ProjectSettings::default()
        }
    }

    pub(crate) fn added() -> E {
        E::ProjectAdded(settings("Shop"))
    }

    fn app_added(id: &str) -> E {
        E::AppAdded(AppAdded {
            app_id: id.into(),
            name: format!("app {id}"),
        })
    }

    type Decide = fn(&ProjectState, &OrgId) -> Result<Vec<E>, DomainError>;

    #[test]
    fn state_transitions() {
        let org = OrgId::new("org1");
        let other = OrgId::new("org2");
        // (given, when, org, then: Ok(events) or Err(error id))
        type Case<'a> = (Vec<E>, &'a str, Decide, &'a OrgId, Result<Vec<E>, &'a str>);
        let cases: Vec<Case> = vec![
            (
                vec![added()],
                "deactivate",
                decide_deactivate,
                &org,
                Ok(vec![E::ProjectDeactivated]),
            ),
            (
                vec![added(), E::ProjectDeactivated],
                "deactivate",
                decide_deactivate,
                &org,
                Err("COMMAND-mki55"),
            ),
            (vec![], "deactivate", decide_deactivate, &org, Err("COMMAND-112M9")),
            (
                vec![added()],
                "deactivate",
                decide_deactivate,
                &other,
                Err("COMMAND-112M9"),
            ),
            (
                vec![added()],
                "reactivate",
                decide_reactivate,
                &org,
                Err("COMMAND-5M9bs"),
            ),
            (
                vec![added(), E::ProjectDeactivated],
                "reactivate",
                decide_reactivate,
                &org,
                Ok(vec![E::ProjectReactivated]),
            ),
            (vec![], "reactivate", decide_reactivate, &org, Err("COMMAND-3M9sd")),
            (
                vec![
                    added(),
                    app_added("a1"),
                    app_added("a2"),
                    E::AppRemoved(AppIdPayload { app_id: "a2".into() }),
                ],
                "remove",
                decide_remove,
                &org,
                Ok(vec![
                    E::AppRemoved(AppIdPayload { app_id: "a1".into() }),
                    E::ProjectRemoved(NamePayload { name: "Shop".into() }),
                ]),
            ),
            (vec![added()], "remove", decide_remove, &other, Err("COMMAND-3M9sd")),
            (
                vec![added(), E::ProjectRemoved(NamePayload { name: "Shop".into() })],
                "remove",
                decide_remove,
                &org,
                Err("COMMAND-3M9sd"),
            ),
        ];
        for (given, when, decide, org_id, then) in cases {
            let state = ProjectState::fold(&stored(given.clone()));
            let got = decide(&state, org_id).map_err(|e| e.id.into_owned());
            assert_eq!(
                got,
                then.map_err(str::to_owned),
                "given {given:?} when {when} in {org_id}"
            );
        }
    }

    #[test]
    fn add_and_update() {
        let org = OrgId::new("org1");
        assert_eq!(
            decide_add(&ProjectState::default(), &settings("Shop")),
            Ok(vec![added()])
        );
        assert_eq!(
            decide_add(&ProjectState::default(), &settings("  ")).unwrap_err().id,
            "PROJECT-IOVCC"
        );
        let state = ProjectState::fold(&stored(vec![added()]));
        // (when: settings, then)
        let renamed = ProjectSettings {
            project_role_check: true,
            ..settings("Store")
        };
        let cases: Vec<(ProjectSettings, Result<Vec<E>, &str>)> = vec![
            (settings("Shop"), Ok(vec![])),
            (
                renamed.clone(),
                Ok(vec![E::ProjectChanged(ProjectChanged {
                    name: Some("Store".into()),
                    project_role_check: Some(true),
                    ..ProjectChanged::default()
                })]),
            ),
            (settings(""), Err("PROJECT-IOVCC")),
        ];
        for (when, then) in cases {
            let got = decide_update(&state, &org, &when).map_err(|e| e.id.into_owned());
            assert_eq!(got, then.map_err(str::to_owned), "{when:?}");
        }
        assert_eq!(
            decide_update(&state, &OrgId::new("org2"), &settings("Shop"))
                .unwrap_err()
                .id,
            "COMMAND-3M9sd"
        );
        let mut updated = stored(vec![added()]);
        updated.extend(stored(decide_update(&state, &org, &renamed).unwrap()));
        assert_eq!(ProjectState::fold(&updated).settings, renamed);
    }

    #[test]
    fn events_keep_zitadel_names() {
        let (ty, payload) = added().to_parts();
        assert_eq!(ty, "project.added");
        assert_eq!(payload.unwrap()["name"], "Shop");
        let (ty, payload) = E::ProjectChanged(ProjectChanged {
            name: Some("X".into()),
            ..ProjectChanged::default()
        })
        .to_parts();
        assert_eq!(
            (ty.as_str(), payload),
            ("project.changed", Some(serde_json::json!({"name": "X"})))
        );
    }
}
