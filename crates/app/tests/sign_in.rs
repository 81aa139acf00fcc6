//! Sign-in use cases over the real SQLite store with a settable clock:
//! throttle windows, code expiry and TOTP replay, without sleeping.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a panic is a failed test"
)]

use std::sync::Arc;
use std::time::Duration;

use totp_rs::{Algorithm, Builder, Secret};
use twofold_app::auth::{MethodAuth, RequestCtx};
use twofold_app::bootstrap::BootstrapConfig;
use twofold_app::clock::ManualClock;
use twofold_app::humans::{ContactMode, HumanInput};
use twofold_app::login_policy::FactorChange;
use twofold_app::mfa::SimpleFactor;
use twofold_app::passwords::HashParams;
use twofold_app::secrets::MasterKey;
use twofold_app::sessions::{ChallengeRequests, Checks, SessionChange, UserRef};
use twofold_app::{App, AppConfig, EventStore};
use twofold_domain::factors::SecondFactor;
use twofold_domain::permissions::{CheckedOn, OnSelf, Permission, ResourceCheck};
use twofold_domain::scope::Scope;
use twofold_domain::{AggregateRef, DomainError, EventPayload, SessionId, Timestamp, UserId};

const PASSWORD: &str = "Password1!";
/// 2023-11-14T22:13:00Z: the start of a TOTP step.
const START: Timestamp = Timestamp(1_700_000_000_000_000 - 20_000_000);

struct World {
    app: App,
    store: Arc<dyn EventStore>,
    clock: Arc<ManualClock>,
    ctx: RequestCtx,
    _db: TempDb,
}

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

/// A fresh instance on a new SQLite file, and the admin's request context.
async fn world() -> World {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("twofold-app-{}-{n}.db", std::process::id()));
    let db = TempDb(path.clone());
    let store = twofold_store::open(
        &format!("sqlite://{}", path.display()),
        &twofold_store::StoreOptions::default(),
    )
    .await
    .unwrap();
    let clock = Arc::new(ManualClock::new(START));
    let config = AppConfig {
        // Cheap hashes: these tests are about time, not hashing cost.
        password_hashing: HashParams {
            memory_kib: 1_024,
            iterations: 1,
            parallelism: 1,
        },
        ..AppConfig::default()
    };
    let app = App::new(store.clone(), MasterKey::from_bytes(&[7; 32]).unwrap(), config).with_clock(clock.clone());
    let boot = BootstrapConfig {
        domains: vec!["localhost".into()],
        org_name: "Twofold".into(),
    };
    let admin = app.bootstrap(&boot).await.unwrap().unwrap();
    let instance = app.resolve_instance("localhost").await.unwrap();
    let header = format!("Bearer {}", admin.admin_token);
    let caller = app.authenticate(&instance.id, Some(&header)).await.unwrap();
    let ctx = app
        .authorize(
            &instance.id,
            caller,
            None,
            &MethodAuth {
                permission: None,
                enrolment: false,
                check: None,
            },
        )
        .await
        .unwrap();
    World {
        app,
        store,
        clock,
        ctx,
        _db: db,
    }
}

impl World {
    /// The context of an RPC that declares `permission` checked `on`.
    fn rpc(&self, permission: Permission, on: CheckedOn) -> RequestCtx {
        RequestCtx {
            check: Some(ResourceCheck {
                permission,
                on,
                on_self: OnSelf::Same,
                session_token: false,
            }),
            ..self.ctx.clone()
        }
    }

    /// The context of the user v2 factor RPCs.
    fn credential_rpc(&self) -> RequestCtx {
        self.rpc(Permission::UserCredentialWrite, CheckedOn::TargetUser)
    }

    async fn human(&self, name: &str) -> UserId {
        let input = HumanInput {
            user_id: None,
            username: Some(name.into()),
            org_id: None,
            org_domain: None,
            given_name: "Given".into(),
            family_name: "Family".into(),
            nick_name: String::new(),
            display_name: String::new(),
            preferred_language: String::new(),
            gender: 0,
            email: format!("{name}@example.com"),
            email_mode: ContactMode::Verified,
            email_url_template: None,
            phone: None,
            password: Some(PASSWORD.into()),
            password_change_required: false,
        };
        self.app
            .add_human(&self.rpc(Permission::UserWrite, CheckedOn::RequestedOrg), input)
            .await
            .unwrap()
            .user_id
            .into()
    }

    async fn allow(&self, factor: SecondFactor) {
        let change = FactorChange::AddSecond(factor);
        self.app
            .change_factor(&self.ctx, Scope::Instance, change, Default::default())
            .await
            .unwrap();
    }

    async fn create(&self, name: &str) -> String {
        let checks = Checks {
            user: Some(UserRef::LoginName(name.into())),
            password: Some(PASSWORD.into()),
            ..Checks::default()
        };
        let ctx = self.rpc(Permission::SessionWrite, CheckedOn::Instance);
        let change = self
            .app
            .create_session(&ctx, checks, ChallengeRequests::default(), None);
        change.await.unwrap().session_id.into_string()
    }

    async fn set(&self, id: &str, checks: Checks, challenges: ChallengeRequests) -> Result<SessionChange, DomainError> {
        let ctx = self.rpc(Permission::SessionWrite, CheckedOn::SessionUser);
        self.app
            .set_session(&ctx, &SessionId::from(id), None, checks, challenges, None)
            .await
    }

    async fn check(&self, id: &str, checks: Checks) -> Result<SessionChange, DomainError> {
        self.set(id, checks, ChallengeRequests::default()).await
    }

    async fn email_code(&self, id: &str) -> String {
        let ask = ChallengeRequests {
            otp_email: Some(true),
            ..ChallengeRequests::default()
        };
        let change = self.set(id, Checks::default(), ask).await.unwrap();
        change.challenges.otp_email.unwrap()
    }

    fn advance(&self, secs: u64) {
        self.clock.advance(Duration::from_secs(secs));
    }

    fn unix_seconds(&self) -> u64 {
        use twofold_app::Clock;
        self.clock.now().0 as u64 / 1_000_000
    }

    async fn user_events(&self, user_id: &UserId, wanted: fn(&EventPayload) -> bool) -> usize {
        let org = self.ctx.caller.org_id.clone();
        let events = self
            .store
            .events(&self.ctx.instance_id, &AggregateRef::user(user_id, &org))
            .await
            .unwrap();
        events.iter().filter(|e| wanted(&e.payload)).count()
    }

    /// A user with a verified TOTP (enrolled with the previous step's code,
    /// which is thereby used up), and a session with a password check.
    async fn totp_user(&self, name: &str) -> (UserId, String, totp_rs::Totp) {
        let user = self.human(name).await;
        let reg = self.app.register_totp(&self.credential_rpc(), &user).await.unwrap();
        let totp = Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(6)
            .with_step_duration(30)
            .with_secret(Secret::try_from_base32(&reg.secret).unwrap())
            .build_noncompliant();
        let code = totp.generate(self.unix_seconds() - 30).to_string();
        self.app
            .verify_totp_registration(&self.credential_rpc(), &user, &code)
            .await
            .unwrap();
        let session = self.create(name).await;
        (user, session, totp)
    }
}

fn totp_check(code: String) -> Checks {
    Checks {
        totp: Some(code),
        ..Checks::default()
    }
}

fn email_check(code: &str) -> Checks {
    Checks {
        otp_email: Some(code.into()),
        ..Checks::default()
    }
}

fn id(r: Result<SessionChange, DomainError>) -> String {
    r.err().map(|e| e.id.into_owned()).unwrap_or_default()
}

#[tokio::test]
async fn totp_step_is_used_once() {
    let w = world().await;
    let (_, session, totp) = w.totp_user("tina").await;
    let code = totp.generate(w.unix_seconds()).to_string();
    let first = w.check(&session, totp_check(code.clone())).await.unwrap();
    assert!(first.token.is_some(), "a check rotates the token");
    assert_eq!(id(w.check(&session, totp_check(code.clone())).await), "SESSION-R3play");
    // Still the same step's code a little later: still used up.
    w.advance(5);
    assert_eq!(id(w.check(&session, totp_check(code)).await), "SESSION-R3play");
    w.advance(30);
    let next = totp.generate(w.unix_seconds()).to_string();
    w.check(&session, totp_check(next)).await.unwrap();
}

/// Was a black-box test that slept through the window.
#[tokio::test]
async fn totp_throttle_window_then_a_right_code_works() {
    let w = world().await;
    let (user, session, totp) = w.totp_user("mallory").await;
    let good = totp.generate(w.unix_seconds()).to_string();
    let wrong = format!("{:06}", (good.parse::<u32>().unwrap() + 1) % 1_000_000);
    for _ in 0..5 {
        assert_eq!(id(w.check(&session, totp_check(wrong.clone())).await), "EVENT-8isk2");
        w.advance(1);
    }
    // The fifth failure was 1 s ago: 29 s of the 30 s window remain.
    let e = w.check(&session, totp_check(good.clone())).await.err().unwrap();
    assert_eq!((e.id.as_ref(), e.retry_after_secs), ("SESSION-Thr0t", Some(29)));
    let failed = |e: &EventPayload| matches!(e, EventPayload::TotpCheckFailed);
    assert_eq!(w.user_events(&user, failed).await, 5, "refused checks are not counted");

    w.advance(29);
    let next = totp.generate(w.unix_seconds()).to_string();
    w.check(&session, totp_check(next)).await.unwrap();
}

#[tokio::test]
async fn otp_email_throttle_window_ends_on_time() {
    let w = world().await;
    w.allow(SecondFactor::OtpEmail).await;
    let user = w.human("otto").await;
    w.app
        .add_factor(&w.credential_rpc(), &user, SimpleFactor::OtpEmail)
        .await
        .unwrap();
    let session = w.create("otto").await;
    let code = w.email_code(&session).await;
    for _ in 0..5 {
        assert_eq!(id(w.check(&session, email_check("00000000")).await), "CODE-woT0xc");
    }
    let e = w.check(&session, email_check(&code)).await.err().unwrap();
    assert_eq!((e.id.as_ref(), e.retry_after_secs), ("SESSION-Thr0t", Some(30)));
    // Each further failure doubles the window.
    w.advance(30);
    assert_eq!(id(w.check(&session, email_check("00000000")).await), "CODE-woT0xc");
    let e = w.check(&session, email_check(&code)).await.err().unwrap();
    assert_eq!((e.id.as_ref(), e.retry_after_secs), ("SESSION-Thr0t", Some(60)));
    w.advance(59);
    assert_eq!(id(w.check(&session, email_check(&code)).await), "SESSION-Thr0t");
    w.advance(1);
    w.check(&session, email_check(&code)).await.unwrap();
}

#[tokio::test]
async fn otp_email_code_expires_after_five_minutes() {
    let w = world().await;
    w.allow(SecondFactor::OtpEmail).await;
    let user = w.human("eve").await;
    w.app
        .add_factor(&w.credential_rpc(), &user, SimpleFactor::OtpEmail)
        .await
        .unwrap();
    let session = w.create("eve").await;

    let code = w.email_code(&session).await;
    w.advance(300);
    w.check(&session, email_check(&code)).await.unwrap();

    let code = w.email_code(&session).await;
    w.advance(301);
    assert_eq!(id(w.check(&session, email_check(&code)).await), "CODE-QvUQ4P");
    let failed = |e: &EventPayload| matches!(e, EventPayload::OtpEmailCheckFailed);
    assert_eq!(
        w.user_events(&user, failed).await,
        1,
        "an expired code is a failed check"
    );
}

#[tokio::test]
async fn password_reset_code_expires_after_an_hour() {
    use twofold_app::password_reset::SetPasswordBy;
    use twofold_domain::password_code::ResetMedium;
    let w = world().await;
    let user = w.human("rita").await;
    let reset = w.rpc(Permission::UserWrite, CheckedOn::TargetUser);
    let new_code = || async {
        let (_, code) = w
            .app
            .request_password_reset(&reset, &user, ResetMedium::Returned, None, "localhost")
            .await
            .unwrap();
        code.unwrap()
    };
    let set = |code: String, password: &'static str| {
        let (w, user, reset) = (&w, &user, &reset);
        async move {
            w.app
                .set_password(reset, user, password, false, SetPasswordBy::Code(code))
                .await
                .err()
                .map(|e| e.id.into_owned())
                .unwrap_or_default()
        }
    };

    let code = new_code().await;
    w.advance(3_600);
    assert_eq!(set(code.clone(), "N3w!password").await, "", "valid for the whole hour");
    let code = new_code().await;
    w.advance(3_601);
    assert_eq!(set(code, "An0ther!password").await, "CODE-QvUQ4P");

    // The session's password check follows the change.
    let sessions = w.rpc(Permission::SessionWrite, CheckedOn::Instance);
    let sign_in = |password: &'static str| {
        let checks = Checks {
            user: Some(UserRef::LoginName("rita".into())),
            password: Some(password.into()),
            ..Checks::default()
        };
        w.app
            .create_session(&sessions, checks, ChallengeRequests::default(), None)
    };
    let first = sign_in("N3w!password").await;
    assert!(first.is_ok(), "{:?}", first.err());
    assert_eq!(sign_in(PASSWORD).await.err().unwrap().id, "COMMAND-3M0fs");
}
