//! OIDC auth requests over the real SQLite store with a settable clock: a
//! request waits 30 minutes for its callback, then is gone.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a panic is a failed test"
)]

use std::sync::Arc;
use std::time::Duration;

use twofold_app::auth::{MethodAuth, RequestCtx};
use twofold_app::bootstrap::BootstrapConfig;
use twofold_app::clock::ManualClock;
use twofold_app::humans::{ContactMode, HumanInput};
use twofold_app::oidc::Callback;
use twofold_app::passwords::HashParams;
use twofold_app::secrets::MasterKey;
use twofold_app::sessions::{ChallengeRequests, Checks, UserRef};
use twofold_app::{App, AppConfig};
use twofold_domain::oidc::authorize::AuthorizeParams;
use twofold_domain::oidc_config::{AuthMethod, OidcConfig};
use twofold_domain::permissions::{CheckedOn, OnSelf, Permission, ResourceCheck};
use twofold_domain::project::ProjectSettings;
use twofold_domain::scope::Scope;
use twofold_domain::{SessionId, Timestamp};

const PASSWORD: &str = "Password1!";
const START: Timestamp = Timestamp(1_700_000_000_000_000);
const REDIRECT: &str = "https://app.example/cb";

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

fn rpc(ctx: &RequestCtx, permission: Permission, on: CheckedOn) -> RequestCtx {
    RequestCtx {
        check: Some(ResourceCheck {
            permission,
            on,
            on_self: OnSelf::Same,
            session_token: false,
        }),
        ..ctx.clone()
    }
}

#[tokio::test]
async fn an_auth_request_expires_after_30_minutes() {
    let path = std::env::temp_dir().join(format!("twofold-oidc-expiry-{}.db", std::process::id()));
    let _db = TempDb(path.clone());
    let store = twofold_store::open(
        &format!("sqlite://{}", path.display()),
        &twofold_store::StoreOptions::default(),
    )
    .await
    .unwrap();
    let clock = Arc::new(ManualClock::new(START));
    let config = AppConfig {
        password_hashing: HashParams {
            memory_kib: 1_024,
            iterations: 1,
            parallelism: 1,
        },
        ..AppConfig::default()
    };
    let app = App::new(store, MasterKey::from_bytes(&[7; 32]).unwrap(), config).with_clock(clock.clone());
    let boot = BootstrapConfig {
        domains: vec!["localhost".into()],
        org_name: "Twofold".into(),
    };
    let admin = app.bootstrap(&boot).await.unwrap().unwrap();
    let instance = app.resolve_instance("localhost").await.unwrap();
    let header = format!("Bearer {}", admin.admin_token);
    let caller = app.authenticate(&instance.id, Some(&header)).await.unwrap();
    let no_check = MethodAuth {
        permission: None,
        enrolment: false,
        check: None,
    };
    let ctx = app.authorize(&instance.id, caller, None, &no_check).await.unwrap();
    // The admin also acts as the login client (session.link).
    let roles = vec!["IAM_OWNER".to_owned(), "IAM_LOGIN_CLIENT".to_owned()];
    app.change_member(&ctx, Scope::Instance, &ctx.caller.user_id, roles)
        .await
        .unwrap();

    let settings = ProjectSettings {
        name: "Shop".into(),
        ..ProjectSettings::default()
    };
    let (project, _) = app.add_project(&ctx, settings).await.unwrap();
    let config = OidcConfig {
        redirect_uris: vec![REDIRECT.into()],
        auth_method: AuthMethod::Basic,
        ..OidcConfig::default()
    };
    let added = app.add_oidc_app(&ctx, &project, "web", config).await.unwrap();
    let input = HumanInput {
        user_id: None,
        username: Some("alice".into()),
        org_id: None,
        org_domain: None,
        given_name: "Alice".into(),
        family_name: "Liddell".into(),
        nick_name: String::new(),
        display_name: String::new(),
        preferred_language: String::new(),
        gender: 0,
        email: "alice@example.com".into(),
        email_mode: ContactMode::Verified,
        email_url_template: None,
        phone: None,
        password: Some(PASSWORD.into()),
        password_change_required: false,
    };
    app.add_human(&rpc(&ctx, Permission::UserWrite, CheckedOn::RequestedOrg), input)
        .await
        .unwrap();
    let checks = Checks {
        user: Some(UserRef::LoginName("alice".into())),
        password: Some(PASSWORD.into()),
        ..Checks::default()
    };
    let session = app
        .create_session(
            &rpc(&ctx, Permission::SessionWrite, CheckedOn::Instance),
            checks,
            ChallengeRequests::default(),
            None,
        )
        .await
        .unwrap();
    let token = session.token.unwrap();

    let params = AuthorizeParams {
        client_id: added.client_id.as_str().to_owned(),
        redirect_uri: REDIRECT.into(),
        response_type: "code".into(),
        scope: "openid".into(),
        state: "st".into(),
        ..AuthorizeParams::default()
    };
    let start = || app.start_auth_request(&instance.id, &params, "http://localhost:8080");
    let first = start().await.unwrap().unwrap();
    let second = start().await.unwrap().unwrap();
    let link = |id: String| {
        let ctx = rpc(&ctx, Permission::SessionLink, CheckedOn::Instance);
        let callback = Callback::Session {
            session_id: SessionId::from(session.session_id.as_str()),
            session_token: token.clone(),
        };
        let app = app.clone();
        async move { app.create_callback(&ctx, &id, callback).await }
    };
    let read = rpc(&ctx, Permission::SessionRead, CheckedOn::Instance);

    // Within 30 minutes: linked.
    clock.advance(Duration::from_secs(30 * 60 - 1));
    assert!(app.get_auth_request(&read, &first).await.is_ok());
    let (_, url) = link(first).await.unwrap();
    assert!(url.starts_with(&format!("{REDIRECT}?code=")), "{url}");

    // Past them: not found to the login, refused to a callback.
    clock.advance(Duration::from_secs(1));
    let err = app.get_auth_request(&read, &second).await.unwrap_err();
    assert_eq!(err.id, "QUERY-Thee9");
    let err = link(second).await.unwrap_err();
    assert_eq!(
        (err.id.as_ref(), err.message.as_ref()),
        ("OIDC-AuRqX", "Auth Request has expired")
    );
}
