//! What operators see: metrics on `/debug/metrics`, request ids on every
//! transport and in the log, and the bounded password-hashing queue.

use serde_json::{Value, json};
use twofold_proto::zitadel::admin::v1::ListLoginPolicySecondFactorsRequest;

use crate::fixtures::{PASSWORD, totp};
use crate::harness::{Backend, Server, backend_tests};
use crate::sessions::{check_totp, create, enrolled, fresh_step};

backend_tests!(
    metrics_after_a_sign_in,
    request_ids_are_echoed_and_logged,
    a_full_hashing_queue_answers_429
);

async fn metrics_text(s: &Server) -> String {
    let resp = reqwest::get(s.url("/debug/metrics")).await.unwrap();
    assert_eq!(resp.status(), 200);
    let content_type = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    resp.text().await.unwrap()
}

/// The value of the series `name{labels}` (exact label text), if present.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

async fn metrics_after_a_sign_in(b: Backend) {
    let s = Server::start(b).await;
    let t = fresh_step().await;
    let (_, seed) = enrolled(&s, None, "alice", t).await;
    let (id, _) = create(&s, "alice").await;
    let (status, got) = check_totp(&s, &id, "000000").await;
    assert_eq!(status, 400, "{got}");
    let (status, got) = check_totp(&s, &id, &totp(&seed, t)).await;
    assert_eq!(status, 200, "{got}");

    let text = metrics_text(&s).await;
    let create = "method=\"/zitadel.session.v2.SessionService/CreateSession\"";
    let set = "method=\"/zitadel.session.v2.SessionService/SetSession\"";
    for (series, expected) in [
        (format!("twofold_requests_total{{{create},code=\"OK\"}}"), 1.0),
        (format!("twofold_requests_total{{{set},code=\"OK\"}}"), 1.0),
        (
            format!("twofold_requests_total{{{set},code=\"INVALID_ARGUMENT\"}}"),
            1.0,
        ),
        (
            format!("twofold_request_duration_seconds_count{{{set},code=\"OK\"}}"),
            1.0,
        ),
        (
            "twofold_sign_in_checks_total{factor=\"password\",outcome=\"success\"}".to_owned(),
            1.0,
        ),
        (
            "twofold_sign_in_checks_total{factor=\"totp\",outcome=\"success\"}".to_owned(),
            1.0,
        ),
        (
            "twofold_sign_in_checks_total{factor=\"totp\",outcome=\"failure\"}".to_owned(),
            1.0,
        ),
        ("twofold_otp_throttled_total".to_owned(), 0.0),
        ("twofold_user_locks_total".to_owned(), 0.0),
    ] {
        assert_eq!(value(&text, &series), Some(expected), "{series} in\n{text}");
    }
    assert!(value(&text, "twofold_store_commit_duration_seconds_count").unwrap() >= 3.0);
    assert!(value(&text, "twofold_store_commit_batch_size_count").unwrap() >= 3.0);
    // Probes and scrapes are not API calls.
    assert!(!text.contains("/debug/"), "{text}");
}

async fn request_ids_are_echoed_and_logged(b: Backend) {
    let s = Server::start_args(b, &["--access-log"]).await;
    let path = "/admin/v1/policies/login/second_factors/_search";

    // REST: the client's id comes back and names the request in the log.
    let resp = s
        .req("POST", path)
        .header("x-request-id", "rest-7f3a")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-request-id"], "rest-7f3a");

    // Without one, or with one that is not a sane token, a new one.
    for sent in [None, Some("has space"), Some(&*"x".repeat(200))] {
        let mut rb = s.req("POST", path);
        if let Some(v) = sent {
            rb = rb.header("x-request-id", v);
        }
        let resp = rb.send().await.unwrap();
        let got = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert!(!got.is_empty() && Some(got.as_str()) != sent, "{got}");
    }

    // gRPC: in the response metadata, for answers and errors alike.
    let mut admin = s.admin().await;
    let mut req = tonic::Request::new(ListLoginPolicySecondFactorsRequest {});
    req.metadata_mut().insert("x-request-id", "grpc-91c2".parse().unwrap());
    let resp = admin.list_login_policy_second_factors(req).await.unwrap();
    assert_eq!(resp.metadata().get("x-request-id").unwrap(), "grpc-91c2");
    let mut anonymous =
        twofold_proto::zitadel::admin::v1::admin_service_client::AdminServiceClient::new(s.channel().await);
    let mut req = tonic::Request::new(ListLoginPolicySecondFactorsRequest {});
    req.metadata_mut().insert("x-request-id", "grpc-e404".parse().unwrap());
    let err = anonymous.list_login_policy_second_factors(req).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unauthenticated);
    assert_eq!(err.metadata().get("x-request-id").unwrap(), "grpc-e404");

    // gRPC-web.
    let resp = s
        .req("POST", "/zitadel.admin.v1.AdminService/ListLoginPolicySecondFactors")
        .header("content-type", "application/grpc-web+proto")
        .header("x-grpc-web", "1")
        .header("x-request-id", "web-55d0")
        .body(vec![0u8, 0, 0, 0, 0])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-request-id"], "web-55d0");

    // The log line of each request carries its id, method and code.
    for (id, code) in [
        ("rest-7f3a", "OK"),
        ("grpc-91c2", "OK"),
        ("grpc-e404", "UNAUTHENTICATED"),
        ("web-55d0", "OK"),
    ] {
        let log = s.log_with(&[id, "request finished"]).await;
        let line = log
            .lines()
            .find(|l| l.contains(id) && l.contains("request finished"))
            .unwrap_or_else(|| panic!("no log line for {id} in\n{log}"));
        assert!(line.contains("ListLoginPolicySecondFactors"), "{line}");
        assert!(line.contains(code), "{line}");
    }
}

async fn a_full_hashing_queue_answers_429(b: Backend) {
    // Slow hashes and room for one waiting job: a burst of sign-ins
    // overflows the queue while the hashing threads are busy.
    let s = Server::start_args(b, &["--argon2-queue", "1", "--argon2-iterations", "40"]).await;
    s.create_human(None, "bob").await;
    let body = json!({"checks": {"user": {"loginName": "bob"}, "password": {"password": PASSWORD}}});
    let calls: Vec<_> = (0..12)
        .map(|_| {
            let rb = s.req("POST", "/v2/sessions").json(&body);
            tokio::spawn(async move {
                let resp = rb.send().await.unwrap();
                let status = resp.status().as_u16();
                (status, resp.json::<Value>().await.unwrap())
            })
        })
        .collect();
    let mut answers = Vec::new();
    for call in calls {
        answers.push(call.await.unwrap());
    }
    let statuses: Vec<u16> = answers.iter().map(|(status, _)| *status).collect();
    assert!(statuses.contains(&201), "{answers:?}");
    let (_, busy) = answers
        .iter()
        .find(|(status, _)| *status == 429)
        .unwrap_or_else(|| panic!("no 429 in {answers:?}"));
    assert_eq!(busy["details"][0]["id"], "PASSW-Busy1", "{busy}");
    assert!(statuses.iter().all(|s| *s == 201 || *s == 429), "{statuses:?}");
    let text = metrics_text(&s).await;
    assert!(
        value(&text, "twofold_password_hash_queue_full_total").unwrap() >= 1.0,
        "{text}"
    );
}
