//! Client authentication the token endpoint will use, over the real SQLite
//! store: an app's secret (and a machine user's) verifies until it is
//! regenerated or removed, and only while the app and project are active.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a panic is a failed test"
)]

use twofold_app::App;
use twofold_app::AppConfig;
use twofold_app::auth::{MethodAuth, RequestCtx};
use twofold_app::bootstrap::BootstrapConfig;
use twofold_app::secrets::MasterKey;
use twofold_app::users::NewMachineUser;
use twofold_domain::oidc_config::{ApiAuthMethod, AppType, AuthMethod, OidcConfig};
use twofold_domain::project::ProjectSettings;
use twofold_domain::{ClientId, InstanceId, ProjectId, UserId};

/// A database file removed when the test ends.
struct TempDb(std::path::PathBuf);

impl Drop for TempDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = self.0.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
}

struct World {
    app: App,
    ctx: RequestCtx,
    _db: TempDb,
}

async fn world() -> World {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("twofold-secrets-{}-{n}.db", std::process::id()));
    let db = TempDb(path.clone());
    let store = twofold_store::open(
        &format!("sqlite://{}", path.display()),
        &twofold_store::StoreOptions::default(),
    )
    .await
    .unwrap();
    let app = App::new(store, MasterKey::from_bytes(&[9; 32]).unwrap(), AppConfig::default());
    let boot = BootstrapConfig {
        domains: vec!["localhost".into()],
        org_name: "Twofold".into(),
    };
    let admin = app.bootstrap(&boot).await.unwrap().unwrap();
    let instance = app.resolve_instance("localhost").await.unwrap();
    let header = format!("Bearer {}", admin.admin_token);
    let caller = app.authenticate(&instance.id, Some(&header)).await.unwrap();
    let auth = MethodAuth {
        permission: None,
        enrolment: false,
        check: None,
    };
    let ctx = app.authorize(&instance.id, caller, None, &auth).await.unwrap();
    World { app, ctx, _db: db }
}

impl World {
    fn instance(&self) -> &InstanceId {
        &self.ctx.instance_id
    }

    async fn project(&self, name: &str) -> ProjectId {
        let settings = ProjectSettings {
            name: name.into(),
            ..ProjectSettings::default()
        };
        self.app.add_project(&self.ctx, settings).await.unwrap().0
    }

    async fn verifies(&self, client_id: &ClientId, secret: &str) -> bool {
        self.app
            .verify_client_secret(self.instance(), client_id, secret)
            .await
            .is_ok()
    }
}

fn web() -> OidcConfig {
    OidcConfig {
        redirect_uris: vec!["https://shop.example/cb".into()],
        ..OidcConfig::default()
    }
}

#[tokio::test]
async fn app_secrets_verify_until_regenerated() {
    let w = world().await;
    let project = w.project("Shop").await;
    let added = w.app.add_oidc_app(&w.ctx, &project, "web", web()).await.unwrap();
    let secret = added.client_secret.clone().unwrap();
    let client = &added.client_id;

    let found = w.app.app_by_client_id(w.instance(), client).await.unwrap().unwrap();
    assert_eq!(
        (found.id.clone(), found.project_id.clone()),
        (added.app_id.clone(), project.clone())
    );
    assert!(w.verifies(client, &secret).await);
    assert!(!w.verifies(client, "wrong").await);
    assert!(!w.verifies(&ClientId::new("unknown"), &secret).await);

    let (new_secret, _) = w
        .app
        .regenerate_oidc_secret(&w.ctx, &project, &added.app_id)
        .await
        .unwrap();
    assert_ne!(new_secret, secret);
    assert!(!w.verifies(client, &secret).await, "the old secret no longer verifies");
    assert!(w.verifies(client, &new_secret).await);

    // Inactive apps and apps of inactive projects do not authenticate.
    w.app.deactivate_app(&w.ctx, &project, &added.app_id).await.unwrap();
    assert!(!w.verifies(client, &new_secret).await);
    w.app.reactivate_app(&w.ctx, &project, &added.app_id).await.unwrap();
    assert!(w.verifies(client, &new_secret).await);
    w.app.deactivate_project(&w.ctx, &project).await.unwrap();
    assert!(!w.verifies(client, &new_secret).await);
    w.app.reactivate_project(&w.ctx, &project).await.unwrap();
    assert!(w.verifies(client, &new_secret).await);

    // Removing the project removes its apps: the client ID is gone.
    w.app.remove_project(&w.ctx, &project).await.unwrap();
    assert!(w.app.app_by_client_id(w.instance(), client).await.unwrap().is_none());
    assert!(!w.verifies(client, &new_secret).await);
}

#[tokio::test]
async fn api_app_secrets_verify_until_regenerated() {
    let w = world().await;
    let project = w.project("Backend").await;
    let added = w
        .app
        .add_api_app(&w.ctx, &project, "api", ApiAuthMethod::Basic)
        .await
        .unwrap();
    let secret = added.client_secret.unwrap();
    assert!(w.verifies(&added.client_id, &secret).await);
    let (new_secret, _) = w
        .app
        .regenerate_api_secret(&w.ctx, &project, &added.app_id)
        .await
        .unwrap();
    assert!(!w.verifies(&added.client_id, &secret).await);
    assert!(w.verifies(&added.client_id, &new_secret).await);
}

#[tokio::test]
async fn public_clients_have_no_secret() {
    let w = world().await;
    let project = w.project("Mobile").await;
    let native = OidcConfig {
        redirect_uris: vec!["com.example.app:/cb".into()],
        app_type: AppType::Native,
        auth_method: AuthMethod::None,
        ..OidcConfig::default()
    };
    let added = w.app.add_oidc_app(&w.ctx, &project, "app", native).await.unwrap();
    assert_eq!(added.client_secret, None);
    assert!(!w.verifies(&added.client_id, "").await);
    let found = w
        .app
        .app_by_client_id(w.instance(), &added.client_id)
        .await
        .unwrap()
        .unwrap();
    assert!(found.oidc().unwrap().requires_pkce());
    assert_eq!(found.hashed_secret, None);
}

#[tokio::test]
async fn machine_secrets_verify_until_replaced_or_removed() {
    let w = world().await;
    let user = NewMachineUser {
        user_name: "svc".into(),
        name: "Service".into(),
        description: String::new(),
        access_token_type: 0,
        user_id: None,
    };
    let (user_id, _) = w.app.add_machine_user(&w.ctx, user).await.unwrap();
    let user_id = UserId::new(user_id);
    let first = w.app.generate_machine_secret(&w.ctx, &user_id).await.unwrap();
    assert_eq!(first.client_id, "svc");
    let verify = |secret: String| {
        let app = w.app.clone();
        let instance = w.instance().clone();
        async move { app.verify_machine_secret(&instance, "svc", &secret).await }
    };
    assert_eq!(verify(first.client_secret.clone()).await.unwrap(), user_id);
    assert!(verify("wrong".into()).await.is_err());
    let second = w.app.generate_machine_secret(&w.ctx, &user_id).await.unwrap();
    assert!(verify(first.client_secret.clone()).await.is_err(), "replaced");
    assert!(verify(second.client_secret.clone()).await.is_ok());
    w.app.remove_machine_secret(&w.ctx, &user_id).await.unwrap();
    assert!(verify(second.client_secret.clone()).await.is_err(), "removed");
    assert_eq!(
        w.app.remove_machine_secret(&w.ctx, &user_id).await.unwrap_err().id,
        "COMMAND-coi82n"
    );
}
