//! The other doors of the one port: gRPC-web, health, reflection.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use prost::Message;
use serde_json::json;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use twofold_proto::zitadel::admin::v1::ListLoginPolicySecondFactorsResponse;

use crate::harness::{Backend, Server, backend_tests};

backend_tests!(grpc_web_binary_and_text, health_endpoints);

const METHOD: &str = "/zitadel.admin.v1.AdminService/ListLoginPolicySecondFactors";

/// The first data frame of a gRPC-web body, and the grpc-status of its trailer frame.
fn parse_frames(mut body: &[u8]) -> (Vec<u8>, String) {
    let (mut data, mut status) = (Vec::new(), String::new());
    while body.len() >= 5 {
        let flag = body[0];
        let len = u32::from_be_bytes(body[1..5].try_into().unwrap()) as usize;
        let payload = &body[5..5 + len];
        if flag & 0x80 == 0 {
            data = payload.to_vec();
        } else {
            let text = String::from_utf8_lossy(payload);
            status = text
                .lines()
                .find_map(|l| l.strip_prefix("grpc-status:"))
                .unwrap_or("")
                .trim()
                .to_owned();
        }
        body = &body[5 + len..];
    }
    (data, status)
}

async fn grpc_web_binary_and_text(b: Backend) {
    let s = Server::start(b).await;
    let empty_frame = [0u8, 0, 0, 0, 0];

    let resp = s
        .req("POST", METHOD)
        .header("content-type", "application/grpc-web+proto")
        .header("x-grpc-web", "1")
        .body(empty_frame.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (data, status) = parse_frames(&resp.bytes().await.unwrap());
    assert_eq!(status, "0");
    let list = ListLoginPolicySecondFactorsResponse::decode(data.as_slice()).unwrap();
    assert_eq!(list.result, vec![1, 2]);

    let resp = s
        .req("POST", METHOD)
        .header("content-type", "application/grpc-web-text")
        .header("accept", "application/grpc-web-text")
        .body(STANDARD.encode(empty_frame))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    // Text mode may concatenate separately encoded (padded) chunks; every
    // 4-character group of padded base64 decodes on its own.
    let text = text.trim();
    assert_eq!(text.len() % 4, 0, "padded base64: {text}");
    let raw: Vec<u8> = text
        .as_bytes()
        .chunks(4)
        .flat_map(|quartet| STANDARD.decode(quartet).unwrap())
        .collect();
    let (data, status) = parse_frames(&raw);
    assert_eq!(status, "0");
    assert_eq!(
        ListLoginPolicySecondFactorsResponse::decode(data.as_slice())
            .unwrap()
            .result,
        vec![1, 2]
    );
}

async fn health_endpoints(b: Backend) {
    let s = Server::start(b).await;
    let http = reqwest::Client::new();

    let resp = http.get(s.url("/debug/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "ok");

    let resp = http.get(s.url("/debug/ready")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    assert_eq!(resp.text().await.unwrap(), "\"ok\"");

    for path in ["/admin/v1/healthz", "/management/v1/healthz"] {
        let (status, body) = s.send(http.get(s.url(path))).await;
        assert_eq!((status, body), (200, json!({})), "{path}");
    }

    let mut health = HealthClient::new(s.channel().await);
    for service in [
        "zitadel.admin.v1.AdminService",
        "zitadel.management.v1.ManagementService",
    ] {
        let resp = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(resp.status(), ServingStatus::Serving, "{service}");
    }
}
