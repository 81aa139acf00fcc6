//! Building blocks for scenarios: orgs, machine users with tokens, members.

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
