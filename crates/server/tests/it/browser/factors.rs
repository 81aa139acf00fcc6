//! Factors on the pages beyond codes: security keys and passkeys with
//! Chromium's virtual authenticator (the WebDriver WebAuthn extension),
//! registered through the pages, then used to sign in; and removing a
//! factor from the account page after a fresh check. WebAuthn needs a
//! relying party ID that is a domain, so these browsers visit `localhost`
//! (which the test server answers as 127.0.0.1).

use fantoccini::wd::WebDriverCompatibleCommand;
use serde_json::{Value, json};

use super::{Browser, org_with_policy};
use crate::fixtures::{base32_decode, totp};
use crate::harness::{Backend, Server, backend_tests};
use crate::sessions::{enrolled, fresh_step};

backend_tests!(
    security_key_added_on_the_account_page_then_signs_in,
    security_key_set_up_when_forced,
    passkey_signs_in_without_a_password,
    totp_removed_after_a_fresh_code,
    codes_by_email_set_up_when_forced,
    totp_added_on_the_account_page,
);

/// A command of the WebDriver WebAuthn extension
/// (`/session/{id}/webauthn/…`), which fantoccini does not wrap.
#[derive(Debug)]
struct WebAuthn {
    method: http::Method,
    path: String,
    body: Option<Value>,
}

impl WebDriverCompatibleCommand for WebAuthn {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/webauthn/{}",
            session.unwrap_or_default(),
            self.path
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (self.method.clone(), self.body.as_ref().map(Value::to_string))
    }
}

/// The kind of authenticator Chromium simulates.
enum Authenticator {
    /// A USB security key: no resident keys, no user verification.
    SecurityKey,
    /// A platform passkey: resident keys, the user verified.
    Passkey,
}

impl Browser {
    /// A browser on `localhost` with a virtual authenticator; its ID.
    async fn with_authenticator(s: &Server, kind: Authenticator) -> Option<(Self, String)> {
        let mut br = Self::start(s).await?;
        br.base = s.url("").replace("127.0.0.1", "localhost");
        let options = match kind {
            Authenticator::SecurityKey => json!({
                "protocol": "ctap2", "transport": "usb",
                "hasResidentKey": false, "hasUserVerification": false,
                "isUserConsenting": true, "automaticPresenceSimulation": true,
            }),
            Authenticator::Passkey => json!({
                "protocol": "ctap2", "transport": "internal",
                "hasResidentKey": true, "hasUserVerification": true, "isUserVerified": true,
                "isUserConsenting": true, "automaticPresenceSimulation": true,
            }),
        };
        let id = br.webauthn(http::Method::POST, "authenticator", Some(options)).await;
        let id = id.as_str().expect("an authenticator ID").to_owned();
        Some((br, id))
    }

    async fn webauthn(&self, method: http::Method, path: &str, body: Option<Value>) -> Value {
        let path = path.to_owned();
        self.c.issue_cmd(WebAuthn { method, path, body }).await.unwrap()
    }

    /// The credentials the virtual authenticator holds.
    async fn credentials(&self, authenticator: &str) -> Vec<Value> {
        let path = format!("authenticator/{authenticator}/credentials");
        let got = self.webauthn(http::Method::GET, &path, None).await;
        got.as_array().cloned().unwrap_or_default()
    }

    /// Starts the page's WebAuthn ceremony and waits for the next page.
    async fn ceremony(&self) {
        let page = self.el("html").await;
        self.el("#webauthn-start").await.click().await.unwrap();
        let deadline = tokio::time::Instant::now() + super::WAIT;
        while page.tag_name().await.is_ok() {
            let failed = self
                .c
                .execute(
                    "return document.querySelector('#webauthn-form').dataset.webauthnError || ''",
                    vec![],
                )
                .await
                .unwrap_or_default();
            assert!(
                failed.as_str().is_none_or(str::is_empty),
                "the browser refused: {failed}"
            );
            assert!(tokio::time::Instant::now() < deadline, "the page did not change");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    async fn sign_out(&self) {
        let page = self.el("html").await;
        self.el("#logout").await.click().await.unwrap();
        self.left(page).await;
        self.el("#login_name").await;
    }
}

async fn security_key_added_on_the_account_page_then_signs_in(b: Backend) {
    let s = Server::start(b).await;
    let Some((br, auth)) = Browser::with_authenticator(&s, Authenticator::SecurityKey).await else {
        return;
    };
    let shots = b == Backend::Sqlite;
    let org = org_with_policy(&s, &["U2F"], false).await;
    s.create_human(Some(&org), "frank").await;
    // Password only so far: signed in, the account page offers a key (and
    // no passkey: the org's policy does not allow them).
    br.sign_in("frank", false).await;
    assert_eq!(br.text("#login-name").await, "frank");
    assert!(
        br.c.find(fantoccini::Locator::Css("a[href='/ui/account/keys/passkey']"))
            .await
            .is_err()
    );
    // Nor can one be registered by opening its page.
    br.goto("/ui/account/keys/passkey").await;
    assert_eq!(
        br.text("p.error").await,
        "This sign-in method is not allowed for your account any more. Choose another one."
    );
    br.goto("/ui/account").await;
    br.el("a[href='/ui/account/keys/security-key']")
        .await
        .click()
        .await
        .unwrap();
    br.el("#key_name").await;
    assert_eq!(br.path().await, "/ui/account/keys/security-key");
    if shots {
        br.page("add-security-key").await;
    }
    br.fill("#key_name", "Blue key").await;
    br.ceremony().await;
    assert_eq!(br.path().await, "/ui/account");
    let factors = br.text("#factors").await;
    assert!(factors.contains("Security key: Blue key"), "{factors}");
    assert_eq!(br.credentials(&auth).await.len(), 1);
    br.sign_out().await;

    // Password, then the key: straight to it (the one allowed factor).
    br.sign_in("frank", false).await;
    br.el("form[action='/ui/login/mfa/u2f'] #webauthn-start").await;
    assert_eq!(br.path().await, "/ui/login/mfa/u2f");
    if shots {
        br.page("security-key").await;
    }
    br.ceremony().await;
    assert_eq!(br.text("#login-name").await, "frank");
    assert_eq!(br.path().await, "/ui/account");
    br.close().await;
}

async fn security_key_set_up_when_forced(b: Backend) {
    let s = Server::start(b).await;
    let Some((br, _)) = Browser::with_authenticator(&s, Authenticator::SecurityKey).await else {
        return;
    };
    let org = org_with_policy(&s, &["U2F"], true).await;
    s.create_human(Some(&org), "gina").await;
    // Forced MFA, a security key the only factor allowed: its set-up.
    br.sign_in("gina", false).await;
    br.el("#key_name").await;
    assert_eq!(br.path().await, "/ui/login/mfa-setup/security-key");
    if b == Backend::Sqlite {
        br.page("mfa-setup-security-key").await;
    }
    br.ceremony().await;
    // Registered; the key then proves the second factor.
    br.el("form[action='/ui/login/mfa/u2f'] #webauthn-start").await;
    br.ceremony().await;
    assert_eq!(br.text("#login-name").await, "gina");
    let factors = br.text("#factors").await;
    assert!(factors.contains("Security key: Security key"), "{factors}");
    br.close().await;
}

async fn passkey_signs_in_without_a_password(b: Backend) {
    let s = Server::start(b).await;
    let Some((br, auth)) = Browser::with_authenticator(&s, Authenticator::Passkey).await else {
        return;
    };
    let shots = b == Backend::Sqlite;
    let org = s.create_org("Passkeys").await;
    let (status, got) = s
        .call_in(
            &org,
            "POST",
            "/management/v1/policies/login",
            Some(json!({
                "allowUsernamePassword": true,
                "passwordlessType": "PASSWORDLESS_TYPE_ALLOWED",
                "multiFactors": ["MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"],
                "passwordCheckLifetime": "864000s",
                "multiFactorCheckLifetime": "43200s",
            })),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    s.create_human(Some(&org), "hana").await;
    br.sign_in("hana", false).await;
    assert_eq!(br.text("#login-name").await, "hana");
    br.el("a[href='/ui/account/keys/passkey']").await.click().await.unwrap();
    br.el("#key_name").await;
    if shots {
        br.page("add-passkey").await;
    }
    br.ceremony().await;
    let factors = br.text("#factors").await;
    assert!(factors.contains("Passkey"), "{factors}");
    let creds = br.credentials(&auth).await;
    assert_eq!(creds.len(), 1);
    assert_eq!(creds[0]["isResidentCredential"], true, "{creds:?}");
    br.sign_out().await;

    // From the login-name page, no name needed: the passkey names the user.
    br.goto("/ui/login/login").await;
    br.el("#passkey-sign-in").await.click().await.unwrap();
    br.el("form[action='/ui/login/passkey'] #webauthn-start").await;
    if shots {
        br.page("passkey").await;
    }
    br.ceremony().await;
    assert_eq!(br.text("#login-name").await, "hana");
    br.sign_out().await;

    // From the password page, for the user named there.
    br.goto("/ui/login/login").await;
    br.fill("#login_name", "hana").await;
    br.enter("#login_name").await;
    br.el("#passkey-sign-in").await.click().await.unwrap();
    br.el("form[action='/ui/login/passkey'] #webauthn-start").await;
    br.ceremony().await;
    assert_eq!(br.text("#login-name").await, "hana");
    br.close().await;
}

async fn totp_removed_after_a_fresh_code(b: Backend) {
    let s = Server::start(b).await;
    let Some(br) = Browser::start(&s).await else { return };
    let shots = b == Backend::Sqlite;
    let t = fresh_step().await;
    let (_, seed) = enrolled(&s, None, "ivan", t).await;
    br.sign_in("ivan", false).await;
    br.submit_code(&totp(&seed, t)).await;
    assert!(br.text("#factors").await.contains("Authenticator app"));
    br.el("a[href='/ui/account/factors/remove?factor=totp']")
        .await
        .click()
        .await
        .unwrap();
    // Signed in a moment ago, still asked for a code first.
    br.el("form[action='/ui/account/factors/remove'] #code").await;
    assert_eq!(br.text("#removing").await, "Authenticator app");
    if shots {
        br.page("remove-check").await;
    }
    // Posting the removal without the check is refused.
    br.c.execute(
        "const f = document.querySelector('form[action=\"/ui/account/factors/remove\"]');
         f.querySelector('button').value = 'remove';
         const p = document.createElement('input');
         p.type = 'hidden'; p.name = 'proof'; p.value = 'forged';
         f.appendChild(p);",
        vec![],
    )
    .await
    .unwrap();
    br.submit_code("123456").await;
    assert_eq!(br.text("#form-error").await, "Please confirm it is you again.");
    // The code used to sign in cannot prove it again: the next one does.
    br.submit_code(&totp(&seed, t + 30)).await;
    br.el("#confirm-remove").await;
    if shots {
        br.page("remove-confirm").await;
    }
    let page = br.el("html").await;
    br.el("#confirm-remove").await.click().await.unwrap();
    br.left(page).await;
    assert_eq!(br.path().await, "/ui/account");
    let main = br.text("main").await;
    assert!(main.contains("No second factor is set up."), "{main}");
    br.close().await;
}

/// MFA forced with only codes by e-mail allowed, and the user's address
/// verified: the set-up step offers them, adds them, and the first code
/// sent there finishes the sign-in.
async fn codes_by_email_set_up_when_forced(b: Backend) {
    let s = Server::start(b).await;
    let Some(br) = Browser::start(&s).await else { return };
    let (smtp, mails) = crate::sinks::smtp_sink().await;
    let config = json!({"senderAddress": "noreply@twofold.test", "senderName": "Twofold", "host": smtp.to_string()});
    let (status, got) = s.call("POST", "/admin/v1/email/smtp", Some(config)).await;
    assert_eq!(status, 200, "{got}");
    let id = got["id"].as_str().unwrap().to_owned();
    let activate = format!("/admin/v1/email/{id}/_activate");
    assert_eq!(s.call("POST", &activate, Some(json!({}))).await.0, 200);
    let org = org_with_policy(&s, &["OTP_EMAIL"], true).await;
    let erin = s.create_human(Some(&org), "erin").await;

    br.sign_in("erin", false).await;
    br.el("#codes-email").await;
    assert_eq!(br.path().await, "/ui/login/mfa-setup/codes");
    if b == Backend::Sqlite {
        br.page("mfa-setup-codes").await;
    }
    let page = br.el("html").await;
    br.el("#codes-email").await.click().await.unwrap();
    br.left(page).await;
    assert_eq!(br.path().await, "/ui/login/mfa/otp-email");
    let page = br.el("html").await;
    br.el("button[value=send]").await.click().await.unwrap();
    br.left(page).await;
    let (_, mail) = mails.wait_for(1).await;
    let (_, rest) = mail.split_once("one-time password ").expect("a code in the mail");
    let code: String = rest.chars().take_while(char::is_ascii_digit).collect();
    br.submit_code(&code).await;
    assert_eq!(br.text("#login-name").await, "erin");

    let (status, got) = s
        .call_in(
            &org,
            "POST",
            &format!("/management/v1/users/{erin}/auth_factors/_search"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert!(got["result"][0].get("otpEmail").is_some(), "{got}");
    br.close().await;
}

/// A user without an authenticator app adds one from the account page (the
/// policy allows it, does not force MFA), then signs in with it.
async fn totp_added_on_the_account_page(b: Backend) {
    let s = Server::start(b).await;
    let Some(br) = Browser::start(&s).await else { return };
    let org = org_with_policy(&s, &["OTP"], false).await;
    s.create_human(Some(&org), "finn").await;
    br.sign_in("finn", false).await;
    assert_eq!(br.text("#login-name").await, "finn");
    let page = br.el("html").await;
    br.el("a[href='/ui/account/totp']").await.click().await.unwrap();
    br.left(page).await;
    let secret = br.text("#totp-secret").await;
    if b == Backend::Sqlite {
        br.page("account-add-totp").await;
    }
    let seed = base32_decode(&secret);
    let t = fresh_step().await;
    br.submit_code(&totp(&seed, t)).await;
    let factors = br.text("#factors").await;
    assert!(factors.contains("Authenticator app"), "{factors}");
    assert!(
        br.c.find(fantoccini::Locator::Css("a[href='/ui/account/totp']"))
            .await
            .is_err()
    );
    br.el("#logout").await.click().await.unwrap();
    // The next sign-in asks for it.
    br.sign_in("finn", false).await;
    br.el("form[action='/ui/login/mfa/totp'] #code").await;
    br.submit_code(&totp(&seed, t + 30)).await;
    assert_eq!(br.text("#login-name").await, "finn");
    br.close().await;
}
