//! Building blocks for scenarios: orgs, machine users with tokens, members.

use hmac::{Hmac, Mac};
use serde_json::{Value, json};

use crate::harness::Server;

pub const ORG: &str = "x-zitadel-orgid";

impl Server {
    /// A REST request with another token, optionally in another org context.
    pub async fn call_as(
        &self,
        token: &str,
        org: Option<&str>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut rb = reqwest::Client::new()
            .request(method.parse().unwrap(), self.url(path))
            .bearer_auth(token);
        if let Some(o) = org {
            rb = rb.header(ORG, o);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        self.send(rb).await
    }

    /// As the admin, in `org`'s context.
    pub async fn call_in(&self, org: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.call_as(&self.token.clone(), Some(org), method, path, body).await
    }

    pub async fn create_org(&self, name: &str) -> String {
        let (status, body) = self
            .call("POST", "/management/v1/orgs", Some(json!({"name": name})))
            .await;
        assert_eq!(status, 200, "{body}");
        body["id"].as_str().unwrap().to_owned()
    }

    pub async fn create_machine(&self, org: &str, user_name: &str) -> String {
        let (status, body) = self
            .call_in(
                org,
                "POST",
                "/management/v1/users/machine",
                Some(json!({"userName": user_name, "name": user_name})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["userId"].as_str().unwrap().to_owned()
    }

    pub async fn create_pat(&self, org: &str, user_id: &str) -> String {
        let (status, body) = self
            .call_in(
                org,
                "POST",
                &format!("/management/v1/users/{user_id}/pats"),
                Some(json!({})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }

    pub async fn add_org_member(&self, org: &str, user_id: &str, roles: &[&str]) {
        let (status, body) = self
            .call_in(
                org,
                "POST",
                "/management/v1/orgs/me/members",
                Some(json!({"userId": user_id, "roles": roles})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }

    pub async fn add_iam_member(&self, user_id: &str, roles: &[&str]) {
        let (status, body) = self
            .call(
                "POST",
                "/admin/v1/members",
                Some(json!({"userId": user_id, "roles": roles})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }

    /// A machine user in `org` with a token; member of `org` with `org_roles`
    /// and of the instance with `iam_roles` (none when empty).
    pub async fn actor(&self, org: &str, user_name: &str, org_roles: &[&str], iam_roles: &[&str]) -> String {
        let user = self.create_machine(org, user_name).await;
        if !org_roles.is_empty() {
            self.add_org_member(org, &user, org_roles).await;
        }
        if !iam_roles.is_empty() {
            self.add_iam_member(&user, iam_roles).await;
        }
        self.create_pat(org, &user).await
    }

    pub async fn my_org_id(&self) -> String {
        let (_, body) = self.call("GET", "/management/v1/orgs/me", None).await;
        body["org"]["id"].as_str().unwrap().to_owned()
    }
}

pub const PASSWORD: &str = "Secr3t!pass-Twofold";

impl Server {
    /// A human user in `org` (None: the admin's org) with a verified email
    /// and a password; returns its ID.
    pub async fn create_human(&self, org: Option<&str>, username: &str) -> String {
        let mut body = json!({
            "username": username,
            "profile": {"givenName": "Alice", "familyName": "Liddell"},
            "email": {"email": format!("{username}@example.com"), "isVerified": true},
            "password": {"password": PASSWORD},
        });
        if let Some(o) = org {
            body["organization"] = json!({"orgId": o});
        }
        let (status, got) = self.call("POST", "/v2/users/human", Some(body)).await;
        assert_eq!(status, 200, "{got}");
        got["userId"].as_str().unwrap().to_owned()
    }
}

/// RFC 4648 base32 (upper case, no padding) → bytes.
pub fn base32_decode(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut out, mut buf, mut bits) = (Vec::new(), 0u32, 0);
    for c in s.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c).expect("base32 character") as u32;
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    out
}

/// RFC 6238 TOTP (SHA-1, 6 digits, 30 s), written here independently of the server.
pub fn totp(secret: &[u8], unix: u64) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret).unwrap();
    mac.update(&(unix / 30).to_be_bytes());
    let h = mac.finalize().into_bytes();
    let o = (h[19] & 0x0f) as usize;
    let bin = u32::from_be_bytes([h[o] & 0x7f, h[o + 1], h[o + 2], h[o + 3]]);
    format!("{:06}", bin % 1_000_000)
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}
