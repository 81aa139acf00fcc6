//! Keys of applications that authenticate with `private_key_jwt`: the
//! server makes the key pair, hands the private key out once and keeps the
//! public key (PEM) in `project.application.oidc.key.added`, on the project
//! aggregate as ZITADEL does (the same event name for API apps).

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::event::{EventPayload as E, Timestamp};
use crate::ids::{AppId, ClientId, OrgId};
use crate::oidc_config::{ApiAuthMethod, AuthMethod};
use crate::project::{AppKind, ProjectState};

/// `KEY_TYPE_JSON`, the only key type.
pub const KEY_TYPE_JSON: i32 = 1;

/// The expiry of a key added without one: 9999-12-31T23:59:59Z.
pub const NO_EXPIRY: Timestamp = Timestamp(253_402_300_799_000_000);

/// `project.application.oidc.key.added`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppKeyAdded {
    pub application_id: AppId,
    pub client_id: ClientId,
    pub key_id: String,
    #[serde(rename = "type")]
    pub key_type: i32,
    pub expiration_date: Timestamp,
    /// The public key as a PEM `PUBLIC KEY` (SPKI); the private key is never stored.
    pub public_key: String,
}

/// `project.application.oidc.key.removed` (Twofold adds the app's id, so
/// the key can be found without the project's history).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppKeyRemoved {
    pub application_id: AppId,
    pub key_id: String,
}

/// A key about to be added: made by the caller, checked here.
pub struct NewKey {
    pub key_id: String,
    pub expiration_date: Timestamp,
    pub public_key: String,
}

fn uses_keys(kind: Option<&AppKind>) -> bool {
    matches!(
        kind,
        Some(AppKind::Oidc(c)) if c.auth_method == AuthMethod::PrivateKeyJwt
    ) || matches!(kind, Some(AppKind::Api(ApiAuthMethod::PrivateKeyJwt)))
}

/// AddAppKey: only for apps that authenticate with a key, expiring later
/// than `now`.
pub fn decide_add(
    state: &ProjectState,
    org_id: &OrgId,
    app_id: &AppId,
    key: NewKey,
    now: Timestamp,
) -> Result<Vec<E>, DomainError> {
    let app = state
        .app(org_id, app_id)
        .ok_or_else(|| DomainError::precondition("COMMAND-sak25", "Application not found"))?;
    if !uses_keys(app.kind.as_ref()) {
        return Err(DomainError::precondition(
            "COMMAND-Dff54",
            "Chosen Auth Method does not require a key",
        ));
    }
    if key.expiration_date <= now {
        return Err(DomainError::invalid("DOMAIN-dv3t5", "Errors.AuthNKey.ExpireBeforeNow"));
    }
    Ok(vec![E::AppKeyAdded(AppKeyAdded {
        application_id: app_id.clone(),
        client_id: app.client_id.clone(),
        key_id: key.key_id,
        key_type: KEY_TYPE_JSON,
        expiration_date: key.expiration_date,
        public_key: key.public_key,
    })])
}

/// RemoveAppKey: a key of the app; any other id is not found.
pub fn decide_remove(
    state: &ProjectState,
    org_id: &OrgId,
    app_id: &AppId,
    key_id: &str,
) -> Result<Vec<E>, DomainError> {
    let found = state
        .app(org_id, app_id)
        .is_some_and(|a| a.key_ids.iter().any(|k| k == key_id));
    if !found {
        return Err(DomainError::not_found("COMMAND-4m77G", "Application key not found"));
    }
    Ok(vec![E::AppKeyRemoved(AppKeyRemoved {
        application_id: app_id.clone(),
        key_id: key_id.to_owned(),
    })])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::application::{ApiConfigAdded, AppAdded, AppIdPayload};
    use crate::project::tests::{added, stored};

    fn api_app(method: ApiAuthMethod) -> Vec<E> {
        vec![
            added(),
            E::AppAdded(AppAdded {
                app_id: "a1".into(),
                name: "api".into(),
            }),
            E::ApiConfigAdded(ApiConfigAdded {
                app_id: "a1".into(),
                client_id: "c1".into(),
                hashed_secret: None,
                auth_method: method,
            }),
        ]
    }

    fn key(id: &str, expires: i64) -> NewKey {
        NewKey {
            key_id: id.into(),
            expiration_date: Timestamp(expires),
            public_key: "PEM".into(),
        }
    }

    fn state(given: &[E]) -> ProjectState {
        ProjectState::fold(&stored(given.to_vec()))
    }

    #[test]
    fn adding_keys() {
        let jwt = api_app(ApiAuthMethod::PrivateKeyJwt);
        let basic = api_app(ApiAuthMethod::Basic);
        let org = OrgId::new("org1");
        // (given, org, app, key expiry, then: Ok or Err(id)); now = 10
        type Case<'a> = (&'a [E], &'a str, &'a str, i64, Result<(), &'a str>);
        let cases: Vec<Case> = vec![
            (&jwt, "org1", "a1", 11, Ok(())),
            (&jwt, "org1", "a1", 10, Err("DOMAIN-dv3t5")),
            (&jwt, "org1", "a9", 11, Err("COMMAND-sak25")),
            (&jwt, "org2", "a1", 11, Err("COMMAND-sak25")),
            (&basic, "org1", "a1", 11, Err("COMMAND-Dff54")),
        ];
        for (given, org_id, app, expires, then) in cases {
            let got = decide_add(
                &state(given),
                &OrgId::new(org_id),
                &app.into(),
                key("k1", expires),
                Timestamp(10),
            )
            .map(|_| ())
            .map_err(|e| e.id.into_owned());
            assert_eq!(got, then.map_err(str::to_owned), "{org_id} {app} {expires}");
        }
        let events = decide_add(&state(&jwt), &org, &"a1".into(), key("k1", 11), Timestamp(10)).unwrap();
        let (ty, payload) = events[0].to_parts();
        assert_eq!(ty, "project.application.oidc.key.added");
        let payload = payload.unwrap();
        assert_eq!(
            (&payload["applicationId"], &payload["clientId"], &payload["type"]),
            (&"a1".into(), &"c1".into(), &1.into())
        );
        assert_eq!(E::from_parts(&ty, Some(payload)).unwrap(), events[0]);
    }

    #[test]
    fn removing_keys() {
        let org = OrgId::new("org1");
        let mut given = api_app(ApiAuthMethod::PrivateKeyJwt);
        given.extend(decide_add(&state(&given), &org, &"a1".into(), key("k1", 11), Timestamp(10)).unwrap());
        let remove = |given: &[E], app: &str, k: &str| {
            decide_remove(&state(given), &org, &app.into(), k).map_err(|e| e.id.into_owned())
        };
        let removed = remove(&given, "a1", "k1").unwrap();
        assert_eq!(removed[0].to_parts().0, "project.application.oidc.key.removed");
        assert_eq!(remove(&given, "a1", "k2"), Err("COMMAND-4m77G".into()));
        assert_eq!(remove(&given, "a9", "k1"), Err("COMMAND-4m77G".into()));
        let mut after = given.clone();
        after.extend(removed);
        assert_eq!(remove(&after, "a1", "k1"), Err("COMMAND-4m77G".into()), "once");
        let mut app_gone = given.clone();
        app_gone.push(E::AppRemoved(AppIdPayload { app_id: "a1".into() }));
        assert_eq!(remove(&app_gone, "a1", "k1"), Err("COMMAND-4m77G".into()));
    }
}
