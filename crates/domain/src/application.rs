//! Applications of a project (OIDC and API clients): their events, stored
//! on the project aggregate with ZITADEL's names and keys, and the
//! decisions of the application commands. The configuration rules live in
//! [`crate::oidc_config`].

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::DomainError;
use crate::event::EventPayload as E;
use crate::ids::{AppId, ClientId, OrgId};
use crate::oidc_config::{ApiAuthMethod, OidcConfig};
use crate::project::{AppKind, AppState, ProjectState};

/// `project.application.added` and `project.application.changed`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppAdded {
    pub app_id: AppId,
    pub name: String,
}

/// Events that name only the app (deactivated, reactivated, removed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppIdPayload {
    pub app_id: AppId,
}

/// `project.application.config.oidc.added`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OidcConfigAdded {
    pub app_id: AppId,
    pub client_id: ClientId,
    /// Keyed hash of the client secret; the secret itself is never stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hashed_secret: Option<String>,
    #[serde(flatten)]
    pub config: OidcConfig,
}

/// `project.application.config.oidc.changed`: the changed keys of the
/// config, with the values of [`OidcConfig`]'s payload keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OidcConfigChanged {
    pub app_id: AppId,
    #[serde(flatten)]
    pub changes: Map<String, Value>,
}

/// `project.application.config.oidc.secret.changed`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretChanged {
    pub app_id: AppId,
    pub hashed_secret: String,
}

/// `project.application.config.api.added`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiConfigAdded {
    pub app_id: AppId,
    pub client_id: ClientId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hashed_secret: Option<String>,
    #[serde(rename = "authMethodType")]
    pub auth_method: ApiAuthMethod,
}

/// `project.application.config.api.changed`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiConfigChanged {
    pub app_id: AppId,
    #[serde(rename = "authMethodType")]
    pub auth_method: ApiAuthMethod,
}

fn config_map(c: &OidcConfig) -> Map<String, Value> {
    match serde_json::to_value(c) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// The keys of `new` that differ from `old`.
fn config_changes(old: &OidcConfig, new: &OidcConfig) -> Map<String, Value> {
    let old = config_map(old);
    config_map(new)
        .into_iter()
        .filter(|(k, v)| old.get(k) != Some(v))
        .collect()
}

/// `config` with `changes` applied; unreadable changes leave it as it was.
pub fn changed_config(config: &OidcConfig, changes: &Map<String, Value>) -> OidcConfig {
    let mut m = config_map(config);
    m.extend(changes.clone());
    serde_json::from_value(Value::Object(m)).unwrap_or_else(|_| config.clone())
}

/// An app about to be added: its generated ids and secret hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewApp {
    pub app_id: AppId,
    pub name: String,
    pub client_id: ClientId,
    pub hashed_secret: Option<String>,
}

fn app_exists() -> DomainError {
    DomainError::already_exists("V3-DKcYh", "Application already exists")
}

fn app_missing(id: &'static str) -> DomainError {
    DomainError::not_found(id, "Application doesn't exist")
}

/// The checks both kinds of app share when added.
fn check_new(state: &ProjectState, org_id: &OrgId, app: &NewApp) -> Result<(), DomainError> {
    if !state.in_org(org_id) {
        return Err(DomainError::precondition("COMMAND-EbFMN", "Project not found"));
    }
    crate::names::check("name", &app.name)
}

fn check_name_free(state: &ProjectState, name: &str) -> Result<(), DomainError> {
    if state.apps.iter().any(|a| a.name == name) {
        return Err(app_exists());
    }
    Ok(())
}

/// AddOIDCApp; `config` is the normalized request.
pub fn decide_add_oidc(
    state: &ProjectState,
    org_id: &OrgId,
    app: &NewApp,
    config: &OidcConfig,
) -> Result<Vec<E>, DomainError> {
    check_new(state, org_id, app)?;
    if !config.is_valid() {
        return Err(DomainError::invalid("PROJECT-1n8df", "Application invalid"));
    }
    check_name_free(state, &app.name)?;
    Ok(vec![
        E::AppAdded(AppAdded {
            app_id: app.app_id.clone(),
            name: app.name.clone(),
        }),
        E::OidcConfigAdded(Box::new(OidcConfigAdded {
            app_id: app.app_id.clone(),
            client_id: app.client_id.clone(),
            hashed_secret: app.hashed_secret.clone(),
            config: config.clone(),
        })),
    ])
}

/// AddAPIApp.
pub fn decide_add_api(
    state: &ProjectState,
    org_id: &OrgId,
    app: &NewApp,
    auth_method: ApiAuthMethod,
) -> Result<Vec<E>, DomainError> {
    check_new(state, org_id, app)?;
    check_name_free(state, &app.name)?;
    Ok(vec![
        E::AppAdded(AppAdded {
            app_id: app.app_id.clone(),
            name: app.name.clone(),
        }),
        E::ApiConfigAdded(ApiConfigAdded {
            app_id: app.app_id.clone(),
            client_id: app.client_id.clone(),
            hashed_secret: app.hashed_secret.clone(),
            auth_method,
        }),
    ])
}

/// UpdateApp: a new name, unique in the project.
pub fn decide_rename(state: &ProjectState, org_id: &OrgId, app_id: &AppId, name: &str) -> Result<Vec<E>, DomainError> {
    let app = state.app(org_id, app_id).ok_or_else(|| app_missing("COMMAND-28di9"))?;
    if app.name == name {
        return Err(DomainError::precondition("COMMAND-2m8vx", "No changes"));
    }
    crate::names::check("name", name)?;
    check_name_free(state, name)?;
    Ok(vec![E::AppChanged(AppAdded {
        app_id: app_id.clone(),
        name: name.to_owned(),
    })])
}

/// UpdateOIDCAppConfig; `config` is the normalized request (URI lists
/// sent empty keep their values).
pub fn decide_update_oidc(
    state: &ProjectState,
    org_id: &OrgId,
    app_id: &AppId,
    config: OidcConfig,
) -> Result<Vec<E>, DomainError> {
    if !config.is_valid() {
        return Err(DomainError::invalid("COMMAND-5m9fs", "OIDC configuration is invalid"));
    }
    let app = state.app(org_id, app_id).ok_or_else(|| app_missing("COMMAND-2n8uU"))?;
    let current = app
        .oidc()
        .ok_or_else(|| DomainError::invalid("COMMAND-GBr34", "Application is not type OIDC"))?;
    let changes = config_changes(current, &config.updating(current));
    if changes.is_empty() {
        return Err(DomainError::precondition("COMMAND-1m88i", "No changes"));
    }
    Ok(vec![E::OidcConfigChanged(OidcConfigChanged {
        app_id: app_id.clone(),
        changes,
    })])
}

/// RegenerateOIDCClientSecret: a new secret for any OIDC app (ZITADEL does
/// not look at the auth method).
pub fn decide_regenerate_oidc_secret(
    state: &ProjectState,
    org_id: &OrgId,
    app_id: &AppId,
    hashed_secret: &str,
) -> Result<Vec<E>, DomainError> {
    let app = state.app(org_id, app_id).ok_or_else(|| app_missing("COMMAND-2g66f"))?;
    if app.oidc().is_none() {
        return Err(DomainError::invalid("COMMAND-Ghrh3", "Application is not type OIDC"));
    }
    Ok(vec![E::OidcSecretChanged(SecretChanged {
        app_id: app_id.clone(),
        hashed_secret: hashed_secret.to_owned(),
    })])
}

/// UpdateAPIAppConfig: a new auth method.
pub fn decide_update_api(
    state: &ProjectState,
    org_id: &OrgId,
    app_id: &AppId,
    auth_method: ApiAuthMethod,
) -> Result<Vec<E>, DomainError> {
    let app = state.app(org_id, app_id).ok_or_else(|| app_missing("COMMAND-2n8uU"))?;
    match app.kind {
        Some(AppKind::Api(current)) if current == auth_method => {
            Err(DomainError::precondition("COMMAND-1m88i", "No changes"))
        }
        Some(AppKind::Api(_)) => Ok(vec![E::ApiConfigChanged(ApiConfigChanged {
            app_id: app_id.clone(),
            auth_method,
        })]),
        _ => Err(DomainError::invalid("COMMAND-Gnwt3", "Application is not type API")),
    }
}

/// RegenerateAPIClientSecret (whatever the auth method, as ZITADEL).
pub fn decide_regenerate_api_secret(
    state: &ProjectState,
    org_id: &OrgId,
    app_id: &AppId,
    hashed_secret: &str,
) -> Result<Vec<E>, DomainError> {
    let app = state.app(org_id, app_id).ok_or_else(|| app_missing("COMMAND-2g66f"))?;
    if !matches!(app.kind, Some(AppKind::Api(_))) {
        return Err(DomainError::invalid("COMMAND-aeH4", "Application is not type API"));
    }
    Ok(vec![E::ApiSecretChanged(SecretChanged {
        app_id: app_id.clone(),
        hashed_secret: hashed_secret.to_owned(),
    })])
}

fn app_to_switch<'a>(state: &'a ProjectState, org_id: &OrgId, app_id: &AppId) -> Result<&'a AppState, DomainError> {
    state.app(org_id, app_id).ok_or_else(|| app_missing("COMMAND-ov9d3"))
}

pub fn decide_deactivate(state: &ProjectState, org_id: &OrgId, app_id: &AppId) -> Result<Vec<E>, DomainError> {
    if !app_to_switch(state, org_id, app_id)?.active {
        return Err(DomainError::precondition("COMMAND-dsh35", "Application is not active"));
    }
    Ok(vec![E::AppDeactivated(AppIdPayload { app_id: app_id.clone() })])
}

pub fn decide_reactivate(state: &ProjectState, org_id: &OrgId, app_id: &AppId) -> Result<Vec<E>, DomainError> {
    if app_to_switch(state, org_id, app_id)?.active {
        return Err(DomainError::precondition(
            "COMMAND-1n8cM",
            "Application is not inactive",
        ));
    }
    Ok(vec![E::AppReactivated(AppIdPayload { app_id: app_id.clone() })])
}

pub fn decide_remove(state: &ProjectState, org_id: &OrgId, app_id: &AppId) -> Result<Vec<E>, DomainError> {
    state.app(org_id, app_id).ok_or_else(|| app_missing("COMMAND-0po9s"))?;
    Ok(vec![E::AppRemoved(AppIdPayload { app_id: app_id.clone() })])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc_config::{AppType, AuthMethod, GrantType, ResponseType};
    use crate::project::tests::{added, stored};

    fn org() -> OrgId {
        OrgId::new("org1")
    }

    fn new_app(id: &str, name: &str) -> NewApp {
        NewApp {
            app_id: id.into(),
            name: name.into(),
            client_id: format!("client-{id}").into(),
            hashed_secret: Some("hash".into()),
        }
    }

    fn web() -> OidcConfig {
        OidcConfig {
            redirect_uris: vec!["https://shop.example/cb".into()],
            ..OidcConfig::default()
        }
        .normalized()
    }

    fn with_app(config: OidcConfig) -> Vec<E> {
        let mut events = vec![added()];
        events
            .extend(decide_add_oidc(&ProjectState::default_in_test(), &org(), &new_app("a1", "web"), &config).unwrap());
        events
    }

    fn api_app() -> Vec<E> {
        vec![
            E::AppAdded(AppAdded {
                app_id: "a2".into(),
                name: "api".into(),
            }),
            E::ApiConfigAdded(ApiConfigAdded {
                app_id: "a2".into(),
                client_id: "client-a2".into(),
                hashed_secret: None,
                auth_method: ApiAuthMethod::PrivateKeyJwt,
            }),
        ]
    }

    impl ProjectState {
        /// An existing project of org1 without apps.
        fn default_in_test() -> Self {
            ProjectState::fold(&stored(vec![added()]))
        }
    }

    fn run(given: &[E], decide: impl Fn(&ProjectState) -> Result<Vec<E>, DomainError>) -> Result<Vec<E>, String> {
        decide(&ProjectState::fold(&stored(given.to_vec()))).map_err(|e| e.id.into_owned())
    }

    #[test]
    fn adding_apps() {
        let a1 = new_app("a1", "web");
        let invalid_uri = OidcConfig {
            redirect_uris: vec!["https://shop.example/cb#x".into()],
            ..web()
        };
        let inconsistent = OidcConfig {
            response_types: vec![ResponseType::IdToken],
            ..web()
        };
        // (given, when: config, then: Ok(event count) or Err(id))
        let cases: Vec<(Vec<E>, OidcConfig, Result<usize, &str>)> = vec![
            (vec![added()], web(), Ok(2)),
            (vec![], web(), Err("COMMAND-EbFMN")),
            (vec![added()], invalid_uri, Err("PROJECT-1n8df")),
            (vec![added()], inconsistent, Err("PROJECT-1n8df")),
            (with_app(web()), web(), Err("V3-DKcYh")),
        ];
        for (given, config, then) in cases {
            let got = run(&given, |s| decide_add_oidc(s, &org(), &a1, &config)).map(|e| e.len());
            assert_eq!(got, then.map_err(str::to_owned), "{config:?}");
        }
        assert_eq!(
            run(&[added()], |s| decide_add_oidc(s, &OrgId::new("org2"), &a1, &web())),
            Err("COMMAND-EbFMN".into()),
            "another org's project is no project"
        );
        let state = ProjectState::fold(&stored(with_app(web())));
        let app = &state.apps[0];
        assert_eq!(
            (app.client_id.as_str(), app.hashed_secret.as_deref()),
            ("client-a1", Some("hash"))
        );
        assert_eq!(app.oidc(), Some(&web()));
        assert_eq!(
            run(&[added()], |s| decide_add_api(
                s,
                &org(),
                &new_app("a2", "api"),
                ApiAuthMethod::Basic
            ))
            .map(|e| e.len()),
            Ok(2)
        );
    }

    #[test]
    fn updating_oidc_config() {
        let mut given = with_app(web());
        given.extend(api_app());
        let native = OidcConfig {
            app_type: AppType::Native,
            auth_method: AuthMethod::None,
            ..OidcConfig::default()
        }
        .normalized();
        let a1 = AppId::new("a1");
        // (app, when: config, then: Ok(changed keys) or Err(id))
        type Case<'a> = (&'a str, OidcConfig, Result<Vec<&'a str>, &'a str>);
        let cases: Vec<Case> = vec![
            ("a1", native.clone(), Ok(vec!["applicationType", "authMethodType"])),
            ("a1", web(), Err("COMMAND-1m88i")),
            ("a1", OidcConfig::default().normalized(), Err("COMMAND-1m88i")),
            (
                "a1",
                OidcConfig {
                    clock_skew: 6_000_000_000,
                    ..web()
                },
                Err("COMMAND-5m9fs"),
            ),
            (
                "a1",
                OidcConfig {
                    redirect_uris: vec!["relative/cb".into()],
                    ..web()
                },
                Err("COMMAND-5m9fs"),
            ),
            ("a9", web(), Err("COMMAND-2n8uU")),
            ("a2", web(), Err("COMMAND-GBr34")),
        ];
        for (app, config, then) in cases {
            let got = run(&given, |s| decide_update_oidc(s, &org(), &app.into(), config.clone()));
            let keys = got.map(|events| match events.as_slice() {
                [E::OidcConfigChanged(c)] => c.changes.keys().cloned().collect::<Vec<_>>(),
                other => panic!("{other:?}"),
            });
            assert_eq!(
                keys,
                then.map(|k| k.into_iter().map(str::to_owned).collect())
                    .map_err(str::to_owned),
                "{app} {config:?}"
            );
        }
        let mut updated = given.clone();
        updated.extend(run(&given, |s| decide_update_oidc(s, &org(), &a1, native.clone())).unwrap());
        let state = ProjectState::fold(&stored(updated));
        let config = state.apps[0].oidc().unwrap();
        assert_eq!(config.app_type, AppType::Native);
        assert_eq!(
            config.redirect_uris,
            web().redirect_uris,
            "an empty list leaves the URIs"
        );
        assert_eq!(config.grant_types, vec![GrantType::AuthorizationCode]);
    }

    #[test]
    fn app_lifecycle() {
        let mut given = with_app(web());
        given.extend(api_app());
        let deactivated = [
            given.clone(),
            vec![E::AppDeactivated(AppIdPayload { app_id: "a1".into() })],
        ]
        .concat();
        type Decide = fn(&ProjectState, &OrgId, &AppId) -> Result<Vec<E>, DomainError>;
        // (given, when, app, then: Ok(event type) or Err(id))
        type Case<'a> = (&'a [E], &'a str, Decide, &'a str, Result<&'a str, &'a str>);
        let cases: Vec<Case> = vec![
            (
                &given,
                "deactivate",
                decide_deactivate,
                "a1",
                Ok("project.application.deactivated"),
            ),
            (
                &deactivated,
                "deactivate",
                decide_deactivate,
                "a1",
                Err("COMMAND-dsh35"),
            ),
            (&given, "deactivate", decide_deactivate, "a9", Err("COMMAND-ov9d3")),
            (&given, "reactivate", decide_reactivate, "a1", Err("COMMAND-1n8cM")),
            (
                &deactivated,
                "reactivate",
                decide_reactivate,
                "a1",
                Ok("project.application.reactivated"),
            ),
            (&given, "reactivate", decide_reactivate, "a9", Err("COMMAND-ov9d3")),
            (&given, "remove", decide_remove, "a2", Ok("project.application.removed")),
            (&given, "remove", decide_remove, "a9", Err("COMMAND-0po9s")),
            (&[], "remove", decide_remove, "a1", Err("COMMAND-0po9s")),
        ];
        for (given, when, decide, app, then) in cases {
            let got = run(given, |s| decide(s, &org(), &app.into()))
                .map(|events| events.iter().map(|e| e.to_parts().0).collect::<Vec<_>>());
            assert_eq!(
                got,
                then.map(|t| vec![t.to_owned()]).map_err(str::to_owned),
                "{when} {app}"
            );
        }
        assert_eq!(
            run(&given, |s| decide_deactivate(s, &OrgId::new("org2"), &"a1".into())),
            Err("COMMAND-ov9d3".into())
        );
        let removed = [given.clone(), vec![E::AppRemoved(AppIdPayload { app_id: "a1".into() })]].concat();
        let state = ProjectState::fold(&stored(removed));
        assert_eq!(state.apps.len(), 1);
    }

    #[test]
    fn secrets_and_names() {
        let mut given = with_app(OidcConfig {
            auth_method: AuthMethod::None,
            ..web()
        });
        given.extend(api_app());
        let regenerate = |app: &str| run(&given, |s| decide_regenerate_oidc_secret(s, &org(), &app.into(), "new"));
        assert_eq!(
            regenerate("a1"),
            Ok(vec![E::OidcSecretChanged(SecretChanged {
                app_id: "a1".into(),
                hashed_secret: "new".into()
            })]),
            "also for auth method NONE, as ZITADEL"
        );
        assert_eq!(regenerate("a2"), Err("COMMAND-Ghrh3".into()));
        assert_eq!(regenerate("a9"), Err("COMMAND-2g66f".into()));
        let rename = |app: &str, name: &str| run(&given, |s| decide_rename(s, &org(), &app.into(), name));
        assert_eq!(rename("a1", "web"), Err("COMMAND-2m8vx".into()));
        assert_eq!(rename("a1", "api"), Err("V3-DKcYh".into()));
        assert_eq!(rename("a9", "x"), Err("COMMAND-28di9".into()));
        assert_eq!(rename("a1", "web2").map(|e| e.len()), Ok(1));
    }

    #[test]
    fn api_apps() {
        let mut given = with_app(web());
        given.extend(api_app());
        let update = |app: &str, m| run(&given, |s| decide_update_api(s, &org(), &app.into(), m));
        assert_eq!(
            update("a2", ApiAuthMethod::Basic),
            Ok(vec![E::ApiConfigChanged(ApiConfigChanged {
                app_id: "a2".into(),
                auth_method: ApiAuthMethod::Basic
            })])
        );
        assert_eq!(update("a2", ApiAuthMethod::PrivateKeyJwt), Err("COMMAND-1m88i".into()));
        assert_eq!(update("a1", ApiAuthMethod::Basic), Err("COMMAND-Gnwt3".into()));
        assert_eq!(update("a9", ApiAuthMethod::Basic), Err("COMMAND-2n8uU".into()));
        let regenerate = |app: &str| run(&given, |s| decide_regenerate_api_secret(s, &org(), &app.into(), "h"));
        assert_eq!(
            regenerate("a2").map(|e| e[0].to_parts().0),
            Ok("project.application.config.api.secret.changed".into())
        );
        assert_eq!(regenerate("a1"), Err("COMMAND-aeH4".into()));
        assert_eq!(regenerate("a9"), Err("COMMAND-2g66f".into()));
        let mut changed = given.clone();
        changed.extend(update("a2", ApiAuthMethod::Basic).unwrap());
        changed.extend(regenerate("a2").unwrap());
        let state = ProjectState::fold(&stored(changed));
        let app = state.apps.iter().find(|a| a.id.as_str() == "a2").unwrap();
        assert_eq!(
            (&app.kind, app.hashed_secret.as_deref()),
            (&Some(AppKind::Api(ApiAuthMethod::Basic)), Some("h"))
        );
    }

    #[test]
    fn events_keep_zitadel_keys() {
        let events = decide_add_oidc(&ProjectState::default_in_test(), &org(), &new_app("a1", "web"), &web()).unwrap();
        let (ty, payload) = events[1].to_parts();
        assert_eq!(ty, "project.application.config.oidc.added");
        let payload = payload.unwrap();
        assert_eq!(payload["appId"], "a1");
        assert_eq!(payload["clientId"], "client-a1");
        assert_eq!(payload["hashedSecret"], "hash");
        assert_eq!(payload["redirectUris"], serde_json::json!(["https://shop.example/cb"]));
        assert_eq!(E::from_parts(&ty, Some(payload)).unwrap(), events[1]);
        assert_eq!(events[0].to_parts().0, "project.application.added");
    }
}
