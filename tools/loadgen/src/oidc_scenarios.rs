//! OIDC scenarios (issue 13): client-credentials token issuance and
//! userinfo, each beside the bare-hyper baseline. A machine user with a
//! secret is the client; its access token is what userinfo reads.

use std::net::SocketAddr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::cpu::Server;
use crate::drive::{Outcome, run_raw};
use crate::{Args, raw};

const BASELINE: &str = "baseline: bare hyper";

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .http1_only()
        .pool_max_idle_per_host(1)
        .build()
        .expect("client")
}

const FORM: &str = "grant_type=client_credentials&scope=openid+profile";

/// A machine user with a client secret: (client id, secret).
async fn machine_client(url: &str, token: &str) -> anyhow::Result<(String, String)> {
    let c = client();
    let user: Value = c
        .post(format!("{url}/management/v1/users/machine"))
        .bearer_auth(token)
        .json(&json!({"userName": "cc-load", "name": "cc-load"}))
        .send()
        .await?
        .json()
        .await?;
    let id = user["userId"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("creating the machine user: {user}"))?;
    let secret: Value = c
        .put(format!("{url}/management/v1/users/{id}/secret"))
        .bearer_auth(token)
        .json(&json!({}))
        .send()
        .await?
        .json()
        .await?;
    let field = |k: &str| secret[k].as_str().map(str::to_owned);
    field("clientId")
        .zip(field("clientSecret"))
        .ok_or_else(|| anyhow::anyhow!("generating the secret: {secret}"))
}

async fn issue(c: &reqwest::Client, url: &str, id: &str, secret: &str) -> Option<String> {
    let r = c
        .post(format!("{url}/oauth/v2/token"))
        .basic_auth(id, Some(secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(FORM)
        .send()
        .await
        .ok()?;
    if !r.status().is_success() {
        return None;
    }
    let v: Value = r.json().await.ok()?;
    v["access_token"].as_str().map(str::to_owned)
}

/// `cc-token` and `userinfo` against Twofold at `url` (admin `token`),
/// on the raw client like the other HTTP scenarios.
pub async fn run_oidc(
    args: &Args,
    (url, addr, server): (&str, SocketAddr, Server),
    token: &str,
    out: &mut Vec<Outcome>,
) -> anyhow::Result<()> {
    if !args.wants("cc-token") && !args.wants("userinfo") {
        return Ok(());
    }
    let (conns, d) = ((args.connections, args.client_threads()), args.duration());
    let (id, secret) = machine_client(url, token).await?;
    if args.wants("cc-token") {
        let basic = format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")));
        let headers = [
            ("Authorization", basic.as_str()),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ];
        let req = raw::request("POST", addr, "/oauth/v2/token", &headers, FORM.as_bytes());
        out.push(run_raw(
            "twofold: client-credentials token",
            Some(BASELINE),
            server,
            addr,
            raw::Requests::Fixed(req.into()),
            conns,
            d,
        ));
    }
    if args.wants("userinfo") {
        let access = issue(&client(), url, &id, &secret)
            .await
            .ok_or_else(|| anyhow::anyhow!("issuing the userinfo token"))?;
        let bearer = format!("Bearer {access}");
        let req = raw::request("GET", addr, "/oidc/v1/userinfo", &[("Authorization", &bearer)], b"");
        out.push(run_raw(
            "twofold: userinfo",
            Some(BASELINE),
            server,
            addr,
            raw::Requests::Fixed(req.into()),
            conns,
            d,
        ));
    }
    Ok(())
}
