//! Several server processes on one PostgreSQL database, crashes and
//! database outages. PostgreSQL only: skipped without TWOFOLD_TEST_DATABASE_URL.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{Backend, PgDatabase, Server, postgres_available, spawn_twofold, unique_name};
use crate::proxy::Proxy;

const SECOND: &str = "/admin/v1/policies/login/second_factors";

async fn post(url: String, token: &str, body: Value) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await;
    match resp {
        Ok(r) => {
            let status = r.status().as_u16();
            (status, r.json().await.unwrap_or(Value::Null))
        }
        Err(_) => (0, Value::Null),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(twofold_pg_tests),
    ignore = "TWOFOLD_TEST_DATABASE_URL is not set (see README: PostgreSQL suite)"
)]
async fn two_nodes_race_and_read_each_others_writes() {
    if !postgres_available() {
        return;
    }
    let a = Server::start(Backend::Postgres).await;
    let b = a.another_node();

    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let url = if i % 2 == 0 { a.url(SECOND) } else { b.url(SECOND) };
            let token = a.token.clone();
            tokio::spawn(async move { post(url, &token, json!({"type": "SECOND_FACTOR_TYPE_OTP_SMS"})).await.0 })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    statuses.sort();
    let mut expected = vec![200];
    expected.extend([409; 39]);
    assert_eq!(statuses, expected);
    assert_eq!(
        a.count_events("instance.policy.login.secondfactor.added").await,
        3,
        "2 at setup + 1"
    );

    // A write acknowledged by one node is visible on the other at once.
    let http = reqwest::Client::new();
    for i in 0..10 {
        let (writer, reader) = if i % 2 == 0 {
            (a.url(""), b.url(""))
        } else {
            (b.url(""), a.url(""))
        };
        let name = format!("org-{i}");
        let (status, body) = post(format!("{writer}/management/v1/orgs"), &a.token, json!({"name": name})).await;
        assert_eq!(status, 200, "{body}");
        let id = body["id"].as_str().unwrap();
        let resp = http
            .get(format!("{reader}/admin/v1/orgs/{id}"))
            .bearer_auth(&a.token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "write of round {i} not visible on the other node");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(twofold_pg_tests),
    ignore = "TWOFOLD_TEST_DATABASE_URL is not set (see README: PostgreSQL suite)"
)]
async fn kill_9_under_write_load_loses_no_acknowledged_write() {
    if !postgres_available() {
        return;
    }
    let mut a = Server::start(Backend::Postgres).await;
    let b = a.another_node();
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Instant::now() + Duration::from_millis(1500);

    let writers: Vec<_> = (0..8)
        .map(|w| {
            let url = if w % 2 == 0 {
                a.url("/management/v1/orgs")
            } else {
                b.url("/management/v1/orgs")
            };
            let (token, acked) = (a.token.clone(), acked.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while Instant::now() < stop {
                    let name = format!("w{w}-{n}");
                    n += 1;
                    if let (200, body) = post(url.clone(), &token, json!({"name": name})).await {
                        acked.lock().unwrap().push(body["id"].as_str().unwrap().to_owned());
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    std::process::Command::new("kill")
        .args(["-9", &a.pid().to_string()])
        .status()
        .unwrap();
    for w in writers {
        w.await.unwrap();
    }
    let _ = a.stop_killed();

    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() > 10, "the load produced writes: {}", acked.len());
    let http = reqwest::Client::new();
    for id in &acked {
        let resp = http
            .get(b.url(&format!("/admin/v1/orgs/{id}")))
            .bearer_auth(&a.token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "acknowledged org {id} is missing");
    }
    let (status, _) = post(
        b.url("/management/v1/orgs"),
        &a.token,
        json!({"name": "after the crash"}),
    )
    .await;
    assert_eq!(status, 200, "the surviving node keeps serving");
}

async fn ready(s: &Server) -> u16 {
    match reqwest::Client::new().get(s.url("/debug/ready")).send().await {
        Ok(r) => r.status().as_u16(),
        Err(_) => 0,
    }
}

async fn wait_ready(s: &Server, want: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while ready(s).await != want {
        assert!(Instant::now() < deadline, "/debug/ready never answered {want}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(twofold_pg_tests),
    ignore = "TWOFOLD_TEST_DATABASE_URL is not set (see README: PostgreSQL suite)"
)]
async fn database_outage_and_recovery() {
    if !postgres_available() {
        return;
    }
    let pg: std::net::SocketAddr = "127.0.0.1:5432".parse().unwrap();
    let proxy = Proxy::start(pg).await;
    let proxy_addr = proxy.addr;
    let s = Server::start_with(Backend::Postgres, |url| {
        url.replace("127.0.0.1:5432", &proxy_addr.to_string())
    })
    .await;

    let (status, before) = s
        .call("POST", "/management/v1/orgs", Some(json!({"name": "before"})))
        .await;
    assert_eq!(status, 200);
    wait_ready(&s, 200).await;

    proxy.cut();
    wait_ready(&s, 412).await;
    let started = Instant::now();
    let (status, body) = s
        .call("POST", "/management/v1/orgs", Some(json!({"name": "during"})))
        .await;
    assert_eq!((status, body["code"].clone()), (503, json!(14)), "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "fails fast: {:?}",
        started.elapsed()
    );

    proxy.restore().await;
    wait_ready(&s, 200).await;
    let id = before["id"].as_str().unwrap();
    let (status, _) = s.call("GET", &format!("/admin/v1/orgs/{id}"), None).await;
    assert_eq!(status, 200, "the acknowledged write survived");
    let (status, _) = s
        .call("POST", "/management/v1/orgs", Some(json!({"name": "after"})))
        .await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(twofold_pg_tests),
    ignore = "TWOFOLD_TEST_DATABASE_URL is not set (see README: PostgreSQL suite)"
)]
async fn two_nodes_starting_together_bootstrap_once() {
    if !postgres_available() {
        return;
    }
    let (_db, url) = PgDatabase::create().await;
    let key = "0123456789abcdef0123456789abcdef";
    let dirs: Vec<_> = (0..2).map(|_| std::env::temp_dir().join(unique_name())).collect();
    let starts: Vec<_> = dirs
        .iter()
        .map(|dir| {
            let (dir, url) = (dir.clone(), url.clone());
            std::thread::spawn(move || spawn_twofold(&dir, &url, &["--masterkey", key]))
        })
        .collect();
    let mut nodes: Vec<_> = starts.into_iter().map(|t| t.join().unwrap()).collect();

    let pats: Vec<_> = dirs
        .iter()
        .filter_map(|d| std::fs::read_to_string(d.join("admin.pat")).ok())
        .collect();
    assert_eq!(pats.len(), 1, "exactly one node created the instance");
    for (_, addr) in &nodes {
        let resp = reqwest::Client::new()
            .get(format!("http://{addr}/admin/v1/policies/login"))
            .bearer_auth(pats[0].trim())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "both nodes serve the one instance");
    }
    let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(&url).await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE event_type = 'instance.added'")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(n, 1);
    for (child, _) in &mut nodes {
        let _ = child.kill();
        let _ = child.wait();
    }
    for d in dirs {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(twofold_pg_tests),
    ignore = "TWOFOLD_TEST_DATABASE_URL is not set (see README: PostgreSQL suite)"
)]
async fn totp_code_is_single_use_across_nodes() {
    use crate::fixtures::{PASSWORD, base32_decode, now, totp};
    if !postgres_available() {
        return;
    }
    let a = Server::start(Backend::Postgres).await;
    let b = a.another_node();
    while now() % 30 > 25 {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let t = now();
    let user = a.create_human(None, "twin").await;
    let (_, reg) = a.call("POST", &format!("/v2/users/{user}/totp"), Some(json!({}))).await;
    let seed = base32_decode(reg["secret"].as_str().unwrap());
    let (status, _) = a
        .call(
            "POST",
            &format!("/v2/users/{user}/totp/verify"),
            Some(json!({"code": totp(&seed, t - 30)})),
        )
        .await;
    assert_eq!(status, 200);
    let mut sessions = Vec::new();
    for node in [a.url(""), b.url(""), a.url(""), b.url("")] {
        let (status, got) = post(
            format!("{node}/v2/sessions"),
            &a.token,
            json!({"checks": {"user": {"loginName": "twin"}, "password": {"password": PASSWORD}}}),
        )
        .await;
        assert_eq!(status, 201, "{got}");
        sessions.push((node, got["sessionId"].as_str().unwrap().to_owned()));
    }
    let code = totp(&seed, t);
    let tasks: Vec<_> = sessions
        .into_iter()
        .map(|(node, id)| {
            let (token, code) = (a.token.clone(), code.clone());
            tokio::spawn(async move {
                reqwest::Client::new()
                    .patch(format!("{node}/v2/sessions/{id}"))
                    .bearer_auth(token)
                    .json(&json!({"checks": {"totp": {"code": code}}}))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    statuses.sort();
    assert_eq!(
        statuses,
        vec![200, 400, 400, 400],
        "one code, one sign-in, whichever node"
    );
}

/// A REST call with `token` to the node at `base`.
async fn call_at(base: &str, token: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut rb = reqwest::Client::new()
        .request(method.parse().unwrap(), format!("{base}{path}"))
        .bearer_auth(token);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(twofold_pg_tests),
    ignore = "TWOFOLD_TEST_DATABASE_URL is not set (see README: PostgreSQL suite)"
)]
async fn a_node_never_serves_a_cached_read_another_node_changed() {
    use crate::fixtures::{base32_decode, now, totp};
    if !postgres_available() {
        return;
    }
    let a = Server::start(Backend::Postgres).await;
    let b = a.another_node();
    let (on_a, on_b) = (a.url(""), b.url(""));
    let token = a.token.clone();
    let factors = "/admin/v1/policies/login/second_factors/_search";

    // A policy: each read on A (cached from the second on) follows B.
    for (change, want) in [("POST", true), ("DELETE", false), ("POST", true)] {
        for _ in 0..2 {
            let (status, _) = call_at(&on_a, &token, "POST", factors, None).await;
            assert_eq!(status, 200);
        }
        let (status, got) = match change {
            "POST" => {
                let body = json!({"type": "SECOND_FACTOR_TYPE_OTP_SMS"});
                call_at(&on_b, &token, "POST", SECOND, Some(body)).await
            }
            _ => {
                let path = format!("{SECOND}/SECOND_FACTOR_TYPE_OTP_SMS");
                call_at(&on_b, &token, "DELETE", &path, None).await
            }
        };
        assert_eq!(status, 200, "{got}");
        let (_, list) = call_at(&on_a, &token, "POST", factors, None).await;
        assert_eq!(
            list["result"].to_string().contains("SECOND_FACTOR_TYPE_OTP_SMS"),
            want,
            "A after B's {change}: {list}"
        );
    }

    // A user's factors: TOTP added and removed on B, listed on A.
    let user = a.create_human(None, "cached").await;
    let methods = format!("/v2/users/{user}/authentication_methods");
    let (_, got) = call_at(&on_a, &token, "GET", &methods, None).await;
    assert_eq!(got["authMethodTypes"], json!(["AUTHENTICATION_METHOD_TYPE_PASSWORD"]));
    let (_, reg) = call_at(
        &on_b,
        &token,
        "POST",
        &format!("/v2/users/{user}/totp"),
        Some(json!({})),
    )
    .await;
    let code = totp(&base32_decode(reg["secret"].as_str().unwrap()), now());
    let verify = format!("/v2/users/{user}/totp/verify");
    let (status, got) = call_at(&on_b, &token, "POST", &verify, Some(json!({"code": code}))).await;
    assert_eq!(status, 200, "{got}");
    let (_, got) = call_at(&on_a, &token, "GET", &methods, None).await;
    assert_eq!(
        got["authMethodTypes"],
        json!(["AUTHENTICATION_METHOD_TYPE_TOTP", "AUTHENTICATION_METHOD_TYPE_PASSWORD"])
    );
    let (status, _) = call_at(&on_b, &token, "DELETE", &format!("/v2/users/{user}/totp"), None).await;
    assert_eq!(status, 200);
    let (_, got) = call_at(&on_a, &token, "GET", &methods, None).await;
    assert_eq!(got["authMethodTypes"], json!(["AUTHENTICATION_METHOD_TYPE_PASSWORD"]));

    // A token revoked on B is refused by A at once.
    let org = a.my_org_id().await;
    let bot = a.create_machine(&org, "cached-bot").await;
    a.add_org_member(&org, &bot, &["ORG_OWNER"]).await;
    let pats = format!("/management/v1/users/{bot}/pats");
    let (status, pat) = a.call_in(&org, "POST", &pats, Some(json!({}))).await;
    assert_eq!(status, 200, "{pat}");
    let bot_token = pat["token"].as_str().unwrap();
    for _ in 0..2 {
        let (status, got) = call_at(&on_a, bot_token, "GET", "/management/v1/policies/login", None).await;
        assert_eq!(status, 200, "{got}");
    }
    let revoke = format!("{on_b}{pats}/{}", pat["tokenId"].as_str().unwrap());
    let resp = reqwest::Client::new()
        .delete(revoke)
        .bearer_auth(&token)
        .header(crate::fixtures::ORG, &org)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (status, got) = call_at(&on_a, bot_token, "GET", "/management/v1/policies/login", None).await;
    assert_eq!(
        (status, got),
        (
            401,
            crate::harness::rest_error(16, "AUTH-7fs1e", "Errors.Token.Invalid")
        )
    );
}
