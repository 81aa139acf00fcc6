//! The admin console (`/ui/console`) in a real browser, set up as the
//! hosted login's browser tests are (browser.rs): an instance owner signs in
//! through the hosted login, previews and saves a login-policy change, and
//! removes a user's authenticator app; the API then shows both. Each page is
//! checked with axe-core and at 320 px, and photographed into
//! `docs/console/*.png` (see docs/console.md).

use std::path::Path;

use serde_json::json;

use crate::browser::Browser;
use crate::harness::{Backend, Server, backend_tests};
use crate::sessions::{enrolled, fresh_step};

backend_tests!(
    owner_previews_saves_and_removes_a_factor,
    a_user_without_a_role_is_not_allowed,
    signed_out_and_forged_requests_change_nothing,
);

/// A console page checked and, on SQLite, photographed as `docs/console/{name}.png`.
async fn page(br: &Browser, b: Backend, name: &str) {
    if b == Backend::Sqlite {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/console");
        std::fs::create_dir_all(&dir).unwrap();
        // browser.rs photographs into docs/login; its sibling is ours.
        br.page(&format!("../console/{name}")).await;
    } else {
        br.el("main h1").await;
    }
}

async fn click(br: &Browser, css: &str) {
    let before = br.el("html").await;
    br.el(css).await.click().await.unwrap();
    br.left(before).await;
}

/// Signs `name` in with the password, skipping the MFA set-up the default policy offers.
async fn sign_in(br: &Browser, name: &str) {
    br.sign_in(name, false).await;
    click(br, "button[value=skip]").await;
    br.el("#login-name").await;
}

async fn owner_previews_saves_and_removes_a_factor(b: Backend) {
    let s = Server::start(b).await;
    let Some(br) = Browser::start(&s).await else { return };
    let home_org = s.my_org_id().await;
    let owner = s.create_human(None, "root").await;
    s.add_iam_member(&owner, &["IAM_OWNER"]).await;
    let bank = s.create_org("Bank").await;
    let t = fresh_step().await;
    let (alice, _) = enrolled(&s, None, "alice", t).await;
    enrolled(&s, None, "bob", t).await;
    enrolled(&s, Some(&bank), "carol", t).await;

    sign_in(&br, "root").await;
    br.goto("/ui/console").await;
    page(&br, b, "home").await;
    click(&br, "#instance-policy").await;
    assert_eq!(br.path().await, "/ui/console/policy");
    page(&br, b, "policy").await;

    // OTP off: everyone whose only second factor is the app loses MFA.
    br.el("#second-otp").await.click().await.unwrap();
    click(&br, "#preview-button").await;
    br.el("#preview").await;
    assert_eq!(br.text("#count-mfa_downgraded").await, "3");
    assert_eq!(br.text("#count-unaffected").await, "1");
    assert_eq!(br.text("#count-locked_out").await, "0");
    let examples = br.text("#examples-mfa_downgraded").await;
    for name in ["alice", "bob", "carol"] {
        assert!(examples.contains(name), "{examples}");
    }
    page(&br, b, "preview").await;
    click(&br, "#save").await;
    assert_eq!(br.path().await, "/ui/console/policy?saved=1");
    br.el("#notice").await;
    assert!(
        br.text("#history")
            .await
            .contains("Second factor no longer allowed: Authenticator app (TOTP)")
    );
    assert!(!br.el("#second-otp").await.is_selected().await.unwrap());
    let (status, got) = s
        .call("POST", "/admin/v1/policies/login/second_factors/_search", None)
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["result"], json!(["SECOND_FACTOR_TYPE_U2F"]));

    // Passwords off would lock out the only human owner: refused, with "save anyway".
    br.el("#allow_password").await.click().await.unwrap();
    click(&br, "#preview-button").await;
    assert_eq!(br.text("#count-locked_out").await, "4");
    click(&br, "#save").await;
    assert!(br.text("#form-error").await.contains("lock out every owner"));
    br.el("#save-anyway").await;
    page(&br, b, "refused").await;
    let (_, got) = s.call("GET", "/admin/v1/policies/login", None).await;
    assert_eq!(got["policy"]["allowUsernamePassword"], json!(true), "{got}");

    // Alice's authenticator app, removed after a confirmation.
    br.goto(&format!("/ui/console/orgs/{home_org}/users")).await;
    page(&br, b, "users").await;
    click(&br, &format!("#user-{alice} a.button")).await;
    assert!(br.text("#question").await.contains("alice"));
    page(&br, b, "confirm").await;
    click(&br, "#confirm").await;
    br.el("#notice").await;
    assert!(br.text(&format!("#user-{alice}")).await.contains("No second factor"));
    let (status, got) = s
        .call(
            "POST",
            &format!("/management/v1/users/{alice}/auth_factors/_search"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["result"], json!(null), "{got}");

    // An org on the instance default gets a policy of its own forcing MFA:
    // carol's app is not allowed there (OTP is off in the default it starts from).
    br.goto(&format!("/ui/console/orgs/{bank}/policy")).await;
    assert!(br.el("#policy-default").await.is_selected().await.unwrap());
    page(&br, b, "org-policy").await;
    br.el("#policy-custom").await.click().await.unwrap();
    br.el("#force_mfa").await.click().await.unwrap();
    click(&br, "#preview-button").await;
    assert_eq!(br.text("#count-must_enroll").await, "1");
    assert_eq!(br.text("#examples-must_enroll").await, "carol");
    click(&br, "#save").await;
    assert!(br.text("#history").await.contains("Policy created"));
    let (_, got) = s.call_in(&bank, "GET", "/management/v1/policies/login", None).await;
    assert_eq!(got["policy"]["forceMfa"], json!(true), "{got}");
    assert_eq!(got["policy"]["isDefault"], json!(null), "{got}");
    // And back to the default, where her app is not allowed either and MFA is not forced.
    br.el("#policy-default").await.click().await.unwrap();
    click(&br, "#preview-button").await;
    assert_eq!(br.text("#count-mfa_downgraded").await, "1");
    click(&br, "#save").await;
    assert!(
        br.text("#history")
            .await
            .contains("Back to the instance's default policy")
    );
    let (_, got) = s.call_in(&bank, "GET", "/management/v1/policies/login", None).await;
    assert_eq!(got["policy"]["isDefault"], json!(true), "{got}");
    br.close().await;
}

async fn a_user_without_a_role_is_not_allowed(b: Backend) {
    let s = Server::start(b).await;
    let Some(br) = Browser::start(&s).await else { return };
    s.create_human(None, "dave").await;
    sign_in(&br, "dave").await;
    for path in ["/ui/console", "/ui/console/policy"] {
        br.goto(path).await;
        let main = br.text("main").await;
        assert!(main.contains("not allowed"), "{path}: {main}");
    }
    br.close().await;
}

/// Without a browser: signed out, the console sends to the login; a post
/// without the form's CSRF token is refused and changes nothing.
async fn signed_out_and_forged_requests_change_nothing(b: Backend) {
    let s = Server::start(b).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for path in ["/ui/console", "/ui/console/policy"] {
        let resp = http.get(s.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), 303, "{path}");
        assert_eq!(resp.headers()["location"], "/ui/login/login", "{path}");
    }
    let resp = http
        .post(s.url("/ui/console/policy"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("step=force&second=u2f&allow_password=on")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let (_, got) = s
        .call("POST", "/admin/v1/policies/login/second_factors/_search", None)
        .await;
    assert_eq!(
        got["result"],
        json!(["SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_U2F"])
    );
}
