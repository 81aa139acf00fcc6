//! OIDC scenarios (issue 13): client-credentials token issuance and
//! userinfo, each beside the bare-hyper baseline. A machine user with a
//! secret is the client; its access token is what userinfo reads.

use serde_json::{Value, json};

use crate::Args;
use crate::drive::{Outcome, run};

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

/// `cc-token` and `userinfo` against Twofold at `url` (admin `token`).
pub async fn run_oidc(args: &Args, url: &str, token: &str, out: &mut Vec<Outcome>) -> anyhow::Result<()> {
    if !args.wants("cc-token") && !args.wants("userinfo") {
        return Ok(());
    }
    let (n, d) = (args.connections, args.duration());
    let (id, secret) = machine_client(url, token).await?;
    if args.wants("cc-token") {
        let clients: Vec<_> = (0..n).map(|_| client()).collect();
        let (url, id, secret) = (url.to_owned(), id.clone(), secret.clone());
        out.push(
            run("twofold: client-credentials token", Some(BASELINE), n, d, move |w| {
                let (c, url, id, secret) = (clients[w].clone(), url.clone(), id.clone(), secret.clone());
                async move { issue(&c, &url, &id, &secret).await.is_some() }
            })
            .await,
        );
    }
    if args.wants("userinfo") {
        let access = issue(&client(), url, &id, &secret)
            .await
            .ok_or_else(|| anyhow::anyhow!("issuing the userinfo token"))?;
        let clients: Vec<_> = (0..n).map(|_| client()).collect();
        let target = format!("{url}/oidc/v1/userinfo");
        out.push(
            run("twofold: userinfo", Some(BASELINE), n, d, move |w| {
                let (c, target, access) = (clients[w].clone(), target.clone(), access.clone());
                async move {
                    c.get(&target)
                        .bearer_auth(&access)
                        .send()
                        .await
                        .is_ok_and(|r| r.status().is_success())
                }
            })
            .await,
        );
    }
    Ok(())
}
