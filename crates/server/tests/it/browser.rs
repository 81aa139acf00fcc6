//! The hosted login (`/ui/login`) in a real browser: headless Chromium
//! driven through chromedriver (WebDriver), against a real `twofold start`.
//! Skipped, with a message, where `/usr/bin/chromium` or
//! `/usr/bin/chromedriver` is missing (`.ci/run` installs them with apt).
//! Each page is checked with axe-core (no serious or critical violation;
//! skipped with a message without npm) and for overflow at 320 px, and
//! photographed into `docs/login/*.png` (see docs/login.md).
//! The HTTP-level rules (headers, cookies, CSRF, languages) are checked
//! without a browser.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use tokio::process::{Child, Command};

use crate::fixtures::{PASSWORD, base32_decode, now, totp};
use crate::harness::{Backend, Server, backend_tests};
use crate::js_sdk::available;
use crate::sessions::{enrolled, fresh_step};

mod factors;

backend_tests!(
    password_and_totp_sign_in,
    forced_set_up_then_recovery_code,
    throttled_after_five_wrong_codes,
    factor_removed_from_the_policy,
    oidc_sign_in_ends_at_the_client,
    pages_are_secured_and_translated,
);

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const WAIT: Duration = Duration::from_secs(15);

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Set (to anything) to photograph each page into the docs.
const SCREENSHOTS_ENV: &str = "TWOFOLD_SCREENSHOTS";

fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/login")
}

/// axe-core's source, installed by `npm ci` from the pinned lockfile; None
/// (with a message) where npm is missing or the registry out of reach.
async fn axe_source() -> Option<String> {
    static AXE: tokio::sync::OnceCell<Option<String>> = tokio::sync::OnceCell::const_new();
    AXE.get_or_init(|| async {
        let dir = browser_dir();
        if !available("npm").await {
            eprintln!("SKIPPED accessibility checks: npm not found on PATH (needed to install axe-core)");
            return None;
        }
        if !crate::js_sdk::npm_ci(&dir).await {
            return None;
        }
        Some(std::fs::read_to_string(dir.join("node_modules/axe-core/axe.min.js")).unwrap())
    })
    .await
    .clone()
}

/// A headless Chromium with its own chromedriver.
pub(crate) struct Browser {
    c: Client,
    driver: Child,
    base: String,
    axe: Option<String>,
}

impl Browser {
    /// None (with a message) where Chromium or chromedriver is missing.
    pub(crate) async fn start(s: &Server) -> Option<Self> {
        for bin in [CHROMIUM, CHROMEDRIVER] {
            if !Path::new(bin).exists() {
                eprintln!("SKIPPED browser test: {bin} not found (apt-get install chromium chromium-driver)");
                return None;
            }
        }
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        let status = format!("{url}/status");
        let deadline = tokio::time::Instant::now() + WAIT;
        while !reqwest::get(&status).await.is_ok_and(|r| r.status().is_success()) {
            assert!(tokio::time::Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=480,900", "--lang=en-US"],
                "prefs": {"intl.accept_languages": "en-US,en"}
            }
        });
        let c = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.as_object().unwrap().clone())
            .connect(&url)
            .await
            .expect("a WebDriver session");
        Some(Self {
            c,
            driver,
            base: s.url(""),
            axe: axe_source().await,
        })
    }

    pub(crate) async fn goto(&self, path: &str) {
        self.c.goto(&format!("{}{path}", self.base)).await.unwrap();
    }

    /// Waits for `css` to be on the page.
    pub(crate) async fn el(&self, css: &str) -> fantoccini::elements::Element {
        match self.c.wait().at_most(WAIT).for_element(Locator::Css(css)).await {
            Ok(e) => e,
            Err(e) => {
                let url = self.c.current_url().await.map(|u| u.to_string());
                let html = self.c.source().await.unwrap_or_default();
                panic!("no {css} on {url:?}: {e}\n{html}")
            }
        }
    }

    async fn fill(&self, css: &str, value: &str) {
        let e = self.el(css).await;
        e.clear().await.unwrap();
        e.send_keys(value).await.unwrap();
    }

    /// Presses Enter in `css`: the form's first submit button is the primary action.
    async fn enter(&self, css: &str) {
        let page = self.el("html").await;
        self.el(css).await.send_keys("\u{E007}").await.unwrap();
        self.left(page).await;
    }

    /// Waits until `page` (an element of the page before) is gone: the next page is there.
    pub(crate) async fn left(&self, page: fantoccini::elements::Element) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while page.tag_name().await.is_ok() {
            assert!(tokio::time::Instant::now() < deadline, "the page did not change");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub(crate) async fn text(&self, css: &str) -> String {
        self.el(css).await.text().await.unwrap()
    }

    pub(crate) async fn path(&self) -> String {
        let u = self.c.current_url().await.unwrap();
        match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        }
    }

    /// The page checked (axe-core, 320 px) and photographed as `name`.
    pub(crate) async fn page(&self, name: &str) {
        self.el("main h1").await;
        if let Some(axe) = &self.axe {
            self.c.execute(axe, vec![]).await.unwrap();
            let found = self
                .c
                .execute_async(
                    "const done = arguments[arguments.length - 1];
                     axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}})
                        .then(r => done(r.violations
                            .filter(v => v.impact === 'serious' || v.impact === 'critical')
                            .map(v => v.id + ' (' + v.impact + '): ' + v.help + ' at ' + v.nodes.map(n => n.target.join(' ')).join(', '))))
                        .catch(e => done(['axe failed: ' + e]));",
                    vec![],
                )
                .await
                .unwrap();
            assert_eq!(found, json!([]), "accessibility violations on {name}");
        }
        self.c.set_window_size(320, 800).await.unwrap();
        let widths = self
            .c
            .execute(
                "return [document.documentElement.scrollWidth, window.innerWidth]",
                vec![],
            )
            .await
            .unwrap();
        let (scroll, inner) = (widths[0].as_u64().unwrap(), widths[1].as_u64().unwrap());
        assert!(scroll <= inner, "{name} overflows at {inner} px: {scroll} px wide");
        self.c.set_window_size(480, 900).await.unwrap();
        // Only when asked: a run would otherwise rewrite tracked files.
        if std::env::var_os(SCREENSHOTS_ENV).is_none() {
            return;
        }
        let png = self.c.screenshot().await.unwrap();
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    pub(crate) async fn close(mut self) {
        self.c.close().await.unwrap();
        let _ = self.driver.kill().await;
    }

    /// Login name (Enter) and password up to the page after them.
    pub(crate) async fn sign_in(&self, name: &str, shots: bool) {
        self.goto("/ui/login/login").await;
        if shots {
            self.page("login-name").await;
        }
        self.fill("#login_name", name).await;
        self.enter("#login_name").await;
        self.el("#password").await;
        if shots {
            self.page("password").await;
        }
        self.fill("#password", PASSWORD).await;
        self.enter("#password").await;
    }

    async fn submit_code(&self, code: &str) {
        self.fill("#code", code).await;
        let page = self.el("html").await;
        self.el("form button[type=submit]").await.click().await.unwrap();
        self.left(page).await;
    }
}

/// An org whose login policy allows password and `factors`, optionally forcing MFA.
async fn org_with_policy(s: &Server, factors: &[&str], force_mfa: bool) -> String {
    let org = s.create_org("Bank").await;
    let factors: Vec<String> = factors.iter().map(|f| format!("SECOND_FACTOR_TYPE_{f}")).collect();
    let (status, got) = s
        .call_in(
            &org,
            "POST",
            "/management/v1/policies/login",
            Some(json!({
                "allowUsernamePassword": true,
                "forceMfa": force_mfa,
                "secondFactors": factors,
                "passwordCheckLifetime": "864000s",
                "secondFactorCheckLifetime": "64800s",
                "multiFactorCheckLifetime": "43200s",
            })),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    org
}

async fn password_and_totp_sign_in(b: Backend) {
    let s = Server::start(b).await;
    let Some(br) = Browser::start(&s).await else { return };
    let t = fresh_step().await;
    let (_, seed) = enrolled(&s, None, "alice", t).await;
    br.sign_in("alice", b == Backend::Sqlite).await;
    // One allowed factor: straight to it, no chooser.
    br.el("form[action='/ui/login/mfa/totp'] #code").await;
    assert_eq!(br.path().await, "/ui/login/mfa/totp");
    if b == Backend::Sqlite {
        br.page("totp").await;
    }
    br.submit_code(&totp(&seed, t)).await;
    assert_eq!(br.text("#login-name").await, "alice");
    assert_eq!(br.path().await, "/ui/account");
    if b == Backend::Sqlite {
        br.page("account").await;
    }
    br.el("#logout").await.click().await.unwrap();
    br.el("#login_name").await;
    // Signed out: the account page sends the browser to the login.
    br.goto("/ui/account").await;
    br.el("#login_name").await;
    br.close().await;
}

async fn forced_set_up_then_recovery_code(b: Backend) {
    let s = Server::start(b).await;
    let Some(br) = Browser::start(&s).await else { return };
    let org = org_with_policy(&s, &["OTP", "RECOVERY_CODES"], true).await;
    s.create_human(Some(&org), "carol").await;
    fresh_step().await;
    br.sign_in("carol", false).await;
    // Forced MFA and no factor: set one up (scan = read the key off the page).
    let secret = br.text("#totp-secret").await;
    assert_eq!(br.path().await, "/ui/login/mfa-setup");
    if b == Backend::Sqlite {
        br.page("mfa-setup").await;
    }
    let seed = base32_decode(&secret);
    let t = now();
    br.submit_code(&totp(&seed, t)).await;
    // The recovery codes, once.
    let codes = br.text("#recovery-codes").await;
    let codes: Vec<&str> = codes.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    assert_eq!(codes.len(), 10, "{codes:?}");
    if b == Backend::Sqlite {
        br.page("recovery-codes").await;
    }
    br.el("#continue").await.click().await.unwrap();
    // The code just used cannot prove the factor again: the next one does.
    br.el("form[action='/ui/login/mfa/totp'] #code").await;
    assert!(br.text("p.notice").await.contains("next code"));
    br.submit_code(&totp(&seed, t + 30)).await;
    assert_eq!(br.text("#login-name").await, "carol");
    br.el("#logout").await.click().await.unwrap();

    // Two allowed factors now: the chooser, then a recovery code.
    br.sign_in("carol", false).await;
    br.el("#factor-recovery").await;
    assert_eq!(br.path().await, "/ui/login/mfa");
    if b == Backend::Sqlite {
        br.page("choose").await;
    }
    br.el("#factor-recovery").await.click().await.unwrap();
    br.el("form[action='/ui/login/mfa/recovery'] #code").await;
    if b == Backend::Sqlite {
        br.page("recovery-code").await;
    }
    br.submit_code(codes[0]).await;
    assert_eq!(br.text("#login-name").await, "carol");
    let factors = br.text("#factors").await;
    assert!(factors.contains("Recovery codes left: 9"), "{factors}");
    br.close().await;
}

async fn throttled_after_five_wrong_codes(b: Backend) {
    let s = Server::start(b).await;
    let Some(br) = Browser::start(&s).await else { return };
    let t = fresh_step().await;
    let (_, seed) = enrolled(&s, None, "bob", t).await;
    br.sign_in("bob", false).await;
    let wrong = if totp(&seed, t) == "000000" { "111111" } else { "000000" };
    for attempt in 1..=4 {
        br.submit_code(wrong).await;
        assert_eq!(br.text("#form-error").await, "The code is wrong.", "attempt {attempt}");
    }
    // The fifth wrong code starts the throttle, and the page says so.
    br.submit_code(wrong).await;
    let said = br.text("#form-error").await;
    assert!(
        said.starts_with("Too many wrong codes. Wait ") && said.ends_with(" seconds, then try again."),
        "{said}"
    );
    if b == Backend::Sqlite {
        br.page("throttled").await;
    }
    // Within the window even the right code is refused with the same sentence.
    br.submit_code(&totp(&seed, t)).await;
    assert!(br.text("#form-error").await.starts_with("Too many wrong codes. Wait "));
    assert_eq!(br.path().await, "/ui/login/mfa/totp");
    br.close().await;
}

async fn factor_removed_from_the_policy(b: Backend) {
    let s = Server::start(b).await;
    let Some(br) = Browser::start(&s).await else { return };
    let org = org_with_policy(&s, &["OTP", "RECOVERY_CODES"], false).await;
    let t = fresh_step().await;
    let (dave, seed) = enrolled(&s, Some(&org), "dave", t).await;
    let (status, got) = s
        .call("POST", &format!("/v2/users/{dave}/recovery_codes"), Some(json!({})))
        .await;
    assert_eq!(status, 200, "{got}");
    let (status, got) = s
        .call_in(
            &org,
            "DELETE",
            "/management/v1/policies/login/second_factors/SECOND_FACTOR_TYPE_OTP",
            None,
        )
        .await;
    assert_eq!(status, 200, "{got}");

    br.sign_in("dave", false).await;
    // TOTP is no longer offered: the one factor left, without a chooser.
    br.el("form[action='/ui/login/mfa/recovery'] #code").await;
    assert_eq!(br.path().await, "/ui/login/mfa/recovery");
    br.goto("/ui/login/mfa/totp").await;
    br.el("form[action='/ui/login/mfa/recovery'] #code").await;
    assert_eq!(br.path().await, "/ui/login/mfa/recovery");
    // Nor can it be forced by posting the form to the TOTP page.
    br.c.execute(
        "document.querySelector('form').setAttribute('action', '/ui/login/mfa/totp')",
        vec![],
    )
    .await
    .unwrap();
    br.submit_code(&totp(&seed, t)).await;
    assert_eq!(
        br.text("#form-error").await,
        "This sign-in method is not allowed for your account any more. Choose another one."
    );
    if b == Backend::Sqlite {
        br.page("factor-not-allowed").await;
    }
    br.close().await;
}

/// Opened for an OIDC auth request, the login ends with the callback to
/// the client's registered redirect URI, with a code and the client's state.
async fn oidc_sign_in_ends_at_the_client(b: Backend) {
    let s = Server::start(b).await;
    let Some(br) = Browser::start(&s).await else { return };
    let org = s.my_org_id().await;
    let (_, _, client_id) = crate::oidc::public_app(&s, &org).await;
    let id = crate::oidc::auth_request(&s, &client_id, "st-42").await;
    let t = fresh_step().await;
    let (_, seed) = enrolled(&s, None, "erin", t).await;
    br.goto(&format!("/ui/login/login?authRequest={id}")).await;
    br.fill("#login_name", "erin").await;
    br.enter("#login_name").await;
    br.fill("#password", PASSWORD).await;
    br.enter("#password").await;
    br.submit_code(&totp(&seed, t)).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    let landed = loop {
        let url = br.c.current_url().await.unwrap();
        if url.host_str() == Some("app.example") {
            break url;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("still at {url}: {}", br.c.source().await.unwrap());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(landed.path(), "/cb");
    let q: std::collections::HashMap<_, _> = landed.query_pairs().into_owned().collect();
    assert_eq!(q.get("state").map(String::as_str), Some("st-42"), "{landed}");
    assert!(q.get("code").is_some_and(|c| !c.is_empty()), "{landed}");
    br.close().await;
}

/// Headers, cookies and CSRF as any client sees them (no browser needed).
async fn pages_are_secured_and_translated(b: Backend) {
    let s = Server::start(b).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = http
        .get(s.url("/ui/login/login?authRequest=https://evil.example"))
        .header("accept-language", "fr, de-CH;q=0.8, en;q=0.5")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let h = resp.headers().clone();
    let csp = h["content-security-policy"].to_str().unwrap();
    for part in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(part), "{csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "same-origin");
    assert!(h.get("access-control-allow-origin").is_none(), "the pages take no CORS");
    let cookie = h["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("tf_csrf="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("<html lang=\"de\">") && html.contains("Anmeldename"),
        "{html}"
    );
    // Only an auth request ID is carried on, never a URL.
    assert!(html.contains("name=\"auth_request\" value=\"\""), "{html}");
    assert!(
        !html.contains("<script>") && !html.contains("style="),
        "no inline script or style"
    );

    // A post without the token of its cookie changes nothing.
    let seed = cookie.split(';').next().unwrap().to_owned();
    let resp = http
        .post(s.url("/ui/login/login"))
        .header("cookie", &seed)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("csrf=forged&login_name=admin&auth_request=")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert!(resp.headers().get("set-cookie").is_none());
    assert!(resp.text().await.unwrap().contains("The form expired"));
    // The API keeps its CORS.
    let resp = http
        .get(s.url("/debug/healthz"))
        .header("origin", "https://app.example")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
}
