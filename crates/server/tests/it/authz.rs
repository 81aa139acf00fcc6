//! Authorization by construction (issue 10, finding 1): the owner of org A
//! walks every route of the API, from the method table the server itself
//! is built from, against resources of org B. Nothing of B may answer 2xx,
//! and a resource of B answers exactly like an unknown id.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use twofold_api::methods::{MethodInfo, Methods};

use crate::fixtures::totp;
use crate::harness::{Backend, RawCodec, Server, backend_tests, error_id, rest_error};

backend_tests!(
    cross_org_factor_reads,
    every_route_hides_other_orgs,
    unknown_ids_are_not_found
);

/// An id no resource has.
const UNKNOWN: &str = "999999999999999999";

/// Org B with one of everything, the owner of org A, and B's ids by the
/// path parameter that names them.
struct World {
    org_b: String,
    owner_a: String,
    human_b: String,
    machine_b: String,
    pat_b: String,
    session_b: String,
    project_b: String,
    app_b: String,
}

async fn world(s: &Server) -> World {
    let org_a = s.create_org("Org A").await;
    let org_b = s.create_org("Org B").await;
    let owner_a = s.actor(&org_a, "owner-a", &["ORG_OWNER"], &[]).await;
    let human_b = s.create_human(Some(&org_b), "bella").await;
    let (status, got) = s
        .call("POST", &format!("/v2/users/{human_b}/otp_email"), Some(json!({})))
        .await;
    assert_eq!(status, 200, "{got}");
    let machine_b = s.create_machine(&org_b, "bot-b").await;
    let (status, got) = s
        .call_in(
            &org_b,
            "POST",
            &format!("/management/v1/users/{machine_b}/pats"),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    let pat_b = got["tokenId"].as_str().unwrap().to_owned();
    let (status, got) = s
        .call(
            "POST",
            "/v2/sessions",
            Some(json!({"checks": {"user": {"userId": human_b}}})),
        )
        .await;
    assert_eq!(status, 201, "{got}");
    let session_b = got["sessionId"].as_str().unwrap().to_owned();
    // B has a policy of its own, so reading B's settings would show.
    let (status, got) = s
        .call_in(
            &org_b,
            "POST",
            "/management/v1/policies/lockout",
            Some(json!({"maxPasswordAttempts": 3})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    // A project with an app, and a machine secret.
    let (status, got) = s
        .call_in(&org_b, "POST", "/management/v1/projects", Some(json!({"name": "B's"})))
        .await;
    assert_eq!(status, 200, "{got}");
    let project_b = got["id"].as_str().unwrap().to_owned();
    let (status, got) = s
        .call_in(
            &org_b,
            "POST",
            &format!("/management/v1/projects/{project_b}/apps/oidc"),
            Some(json!({"name": "web", "redirectUris": ["https://b.example/cb"]})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    let app_b = got["appId"].as_str().unwrap().to_owned();
    let (status, got) = s
        .call_in(
            &org_b,
            "PUT",
            &format!("/management/v1/users/{machine_b}/secret"),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    World {
        org_b,
        owner_a,
        human_b,
        machine_b,
        pat_b,
        session_b,
        project_b,
        app_b,
    }
}

/// Finding 1, exactly as reported, over REST and gRPC.
async fn cross_org_factor_reads(b: Backend) {
    let s = Server::start(b).await;
    let w = world(&s).await;
    let user_b = &w.human_b;
    // TOTP and a password, as in the report.
    let (_, reg) = s
        .call("POST", &format!("/v2/users/{user_b}/totp"), Some(json!({})))
        .await;
    let secret = crate::fixtures::base32_decode(reg["secret"].as_str().unwrap());
    let (status, _) = s
        .call(
            "POST",
            &format!("/v2/users/{user_b}/totp/verify"),
            Some(json!({"code": totp(&secret, crate::fixtures::now())})),
        )
        .await;
    assert_eq!(status, 200);

    let not_found = rest_error(5, "QUERY-Dfbg2", "User could not be found");
    for id in [user_b.as_str(), UNKNOWN] {
        let factors = format!("/management/v1/users/{id}/auth_factors/_search");
        let (status, got) = s.call_as(&w.owner_a, None, "POST", &factors, None).await;
        assert_eq!((status, got), (404, not_found.clone()), "{factors}");
        let methods = format!("/v2/users/{id}/authentication_methods");
        let (status, got) = s.call_as(&w.owner_a, None, "GET", &methods, None).await;
        assert_eq!((status, got), (404, not_found.clone()), "{methods}");
    }
    // Those who may see B's user still do.
    let (status, got) = s
        .call_in(
            &w.org_b,
            "POST",
            &format!("/management/v1/users/{user_b}/auth_factors/_search"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(got["result"].as_array().unwrap().len(), 2, "{got}");
    let (status, got) = s
        .call("GET", &format!("/v2/users/{user_b}/authentication_methods"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        got["authMethodTypes"],
        json!([
            "AUTHENTICATION_METHOD_TYPE_TOTP",
            "AUTHENTICATION_METHOD_TYPE_OTP_EMAIL",
            "AUTHENTICATION_METHOD_TYPE_PASSWORD"
        ])
    );

    // gRPC: the same answers.
    use twofold_proto::zitadel::management::v1::{
        ListHumanAuthFactorsRequest, management_service_client::ManagementServiceClient,
    };
    use twofold_proto::zitadel::user::v2::{
        ListAuthenticationMethodTypesRequest, user_service_client::UserServiceClient,
    };
    let bearer = crate::harness::Bearer(w.owner_a.clone());
    let mut mgmt = ManagementServiceClient::with_interceptor(s.channel().await, bearer.clone());
    let mut users = UserServiceClient::with_interceptor(s.channel().await, bearer);
    for id in [user_b.as_str(), UNKNOWN] {
        let e = mgmt
            .list_human_auth_factors(ListHumanAuthFactorsRequest { user_id: id.into() })
            .await
            .unwrap_err();
        assert_eq!((e.code(), error_id(&e)), (tonic::Code::NotFound, "QUERY-Dfbg2".into()));
        let e = users
            .list_authentication_method_types(ListAuthenticationMethodTypesRequest {
                user_id: id.into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!((e.code(), error_id(&e)), (tonic::Code::NotFound, "QUERY-Dfbg2".into()));
    }
}

/// The REST verb and path template of a route.
fn route(m: &MethodInfo) -> Option<(&'static str, String)> {
    let h = m.http.as_ref()?;
    [
        ("GET", &h.get),
        ("POST", &h.post),
        ("PUT", &h.put),
        ("DELETE", &h.delete),
        ("PATCH", &h.patch),
    ]
    .into_iter()
    .find(|(_, t)| !t.is_empty())
    .map(|(v, t)| (v, t.clone()))
}

fn params(template: &str) -> Vec<String> {
    template
        .split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(str::to_owned)
        .collect()
}

/// Path parameters that are not resources: factor types of a policy.
const NOT_RESOURCES: &[&str] = &["type"];

/// Routes not walked, each with the reason.
const EXCLUDED: &[(&str, &str)] = &[
    // The caller's own resources: there is no other org's resource to name.
    ("/zitadel.auth.v1.AuthService/", "acts on the caller itself"),
];

/// Routes that answer 2xx to the owner of A by design, with what makes
/// that safe; everything else must not answer 2xx.
const SUCCEED: &[(&str, &str)] = &[
    (
        "/zitadel.management.v1.ManagementService/ListAppKeys",
        "an app the caller may not see has no keys, like an unknown app (checked: same answer)",
    ),
    (
        "/zitadel.user.v2.UserService/ListUsers",
        "lists only users the caller may see (checked: no id of B in the answer)",
    ),
    (
        "/zitadel.session.v2.SessionService/ListSessions",
        "lists only sessions the caller may see (checked: no id of B in the answer)",
    ),
    (
        "/zitadel.settings.v2.SettingsService/GetLoginSettings",
        "an org the caller may not read answers as an unknown one (checked)",
    ),
    (
        "/zitadel.settings.v2.SettingsService/GetLockoutSettings",
        "an org the caller may not read answers as an unknown one (checked)",
    ),
    (
        "/zitadel.user.v2.UserService/ListPersonalAccessTokens",
        "lists only tokens of users the caller may read (checked: no id of B in the answer)",
    ),
    (
        "/zitadel.org.v2.OrganizationService/ListOrganizations",
        "lists only orgs the caller may read (checked: no id of B in the answer)",
    ),
    (
        "/zitadel.management.v1.ManagementService/RemoveOrgMember",
        "acts on A's own member list; a non-member is removed with 200 as any unknown id (contract)",
    ),
];

/// Bodies that pass request validation, so the call reaches authorization.
fn body_for(grpc_path: &str) -> Value {
    let method = grpc_path.rsplit('/').next().unwrap_or("");
    match method {
        "SetEmail" => json!({"email": "x@example.com", "returnCode": {}}),
        "SetPhone" => json!({"phone": "+41790000001", "returnCode": {}}),
        "VerifyEmail" | "VerifyPhone" | "VerifyInviteCode" => json!({"verificationCode": "123456"}),
        "UpdateUser" => json!({"human": {}}),
        "VerifyTOTPRegistration" => json!({"code": "123456"}),
        "VerifyU2FRegistration" => json!({"publicKeyCredential": {"id": "x"}, "tokenName": "key"}),
        "VerifyPasskeyRegistration" => json!({"publicKeyCredential": {"id": "x"}, "passkeyName": "key"}),
        "CreatePasskeyRegistrationLink" => json!({"returnCode": {}}),
        "AddOrgMember" | "UpdateOrgMember" => json!({"roles": ["ORG_OWNER"]}),
        "AddPersonalAccessToken" => json!({"expirationDate": "2999-01-01T00:00:00Z"}),
        "AddIAMMember" | "UpdateIAMMember" => json!({"roles": ["IAM_OWNER"]}),
        "SetPassword" => json!({"newPassword": {"password": "N3w!password-Twofold"}}),
        "SetHumanPassword" => json!({"password": "N3w!password-Twofold"}),
        "PasswordReset" => json!({"returnCode": {}}),
        "UpdateProject" | "AddOIDCApp" | "AddAPIApp" | "UpdateApp" => json!({"name": "x"}),
        "CreateCallback" => json!({"error": {"error": "ERROR_REASON_ACCESS_DENIED"}}),
        "AddAppKey" => json!({"type": "KEY_TYPE_JSON"}),
        _ => json!({}),
    }
}

/// The value of a path parameter naming a resource of B (per user when
/// the route is about a user).
fn value_of(w: &World, template: &str, param: &str, user: &str) -> String {
    match param {
        "user_id" => user.to_owned(),
        "id" if template.contains("/users/") => user.to_owned(),
        "id" if template.contains("/orgs/") => w.org_b.clone(),
        "session_id" => w.session_b.clone(),
        "id" | "project_id" if template.contains("/projects/") => w.project_b.clone(),
        "app_id" => w.app_b.clone(),
        "token_id" if template.contains("/pats/") => w.pat_b.clone(),
        // Provider and security-key ids: B has none, any id will do.
        _ => UNKNOWN.to_owned(),
    }
}

fn fill(template: &str, values: impl Fn(&str) -> String) -> String {
    template
        .split('/')
        .map(|s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(p) => values(p),
            None => s.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// An answer without its list's `viewTimestamp` (the time it was read).
fn now_free((status, mut body): (u16, Value)) -> (u16, Value) {
    if let Some(d) = body.get_mut("details").and_then(Value::as_object_mut) {
        d.remove("viewTimestamp");
    }
    (status, body)
}

fn methods() -> Vec<std::sync::Arc<MethodInfo>> {
    let mut all: Vec<_> = Methods::load()
        .unwrap()
        .iter()
        .filter(|m| m.http.is_some() && m.auth.is_some())
        .cloned()
        .collect();
    all.sort_by(|a, b| a.grpc_path.cmp(&b.grpc_path));
    all
}

async fn every_route_hides_other_orgs(b: Backend) {
    let s = Server::start(b).await;
    let w = world(&s).await;
    let b_ids = [
        &w.human_b,
        &w.machine_b,
        &w.pat_b,
        &w.session_b,
        &w.org_b,
        &w.project_b,
        &w.app_b,
    ];
    let mut walked = 0;
    for m in methods() {
        let path = &*m.grpc_path;
        if EXCLUDED.iter().any(|(p, _)| path.starts_with(p)) {
            continue;
        }
        let (verb, template) = route(&m).unwrap();
        let body = (verb != "GET").then(|| body_for(path));
        let resources: Vec<String> = params(&template)
            .into_iter()
            .filter(|p| !NOT_RESOURCES.contains(&p.as_str()))
            .collect();
        let succeeds = SUCCEED.iter().any(|(p, _)| *p == path);
        if !resources.is_empty() {
            // Per resource: B's resource answers as an unknown id, never 2xx.
            for user in [&w.human_b, &w.machine_b] {
                let of_b = fill(&template, |p| value_of(&w, &template, p, user));
                let unknown = fill(&template, |p| {
                    if NOT_RESOURCES.contains(&p) {
                        value_of(&w, &template, p, user)
                    } else {
                        UNKNOWN.to_owned()
                    }
                });
                let got = now_free(s.call_as(&w.owner_a, None, verb, &of_b, body.clone()).await);
                let expected = now_free(s.call_as(&w.owner_a, None, verb, &unknown, body.clone()).await);
                assert_eq!(got, expected, "{verb} {of_b} answers unlike an unknown id");
                assert!(!(200..300).contains(&got.0) || succeeds, "{verb} {of_b} → {got:?}");
            }
        } else if path.starts_with("/zitadel.settings.v2.") {
            let of_b = format!("{template}?ctx.orgId={}", w.org_b);
            let unknown = format!("{template}?ctx.orgId={UNKNOWN}");
            let got = s.call_as(&w.owner_a, None, verb, &of_b, None).await;
            let expected = s.call_as(&w.owner_a, None, verb, &unknown, None).await;
            assert_eq!(got, expected, "{of_b} answers unlike an unknown org");
        } else {
            // Org-context routes in B's context; the rest as they are.
            let org = path.starts_with("/zitadel.management.").then_some(w.org_b.as_str());
            let got = s.call_as(&w.owner_a, org, verb, &template, body.clone()).await;
            if succeeds {
                let text = got.1.to_string();
                for id in b_ids {
                    assert!(!text.contains(id.as_str()), "{verb} {template} shows {id} of B: {text}");
                }
            } else {
                assert!(!(200..300).contains(&got.0), "{verb} {template} (org B) → {got:?}");
            }
        }
        walked += 1;
    }
    assert!(walked > 60, "only {walked} routes walked");

    // gRPC, every per-resource method: B's resource answers as an unknown id.
    let mut grpc = tonic::client::Grpc::new(s.channel().await);
    for m in methods() {
        let path = &*m.grpc_path;
        if EXCLUDED.iter().any(|(p, _)| path.starts_with(p)) {
            continue;
        }
        let (_, template) = route(&m).unwrap();
        let resources: Vec<String> = params(&template)
            .into_iter()
            .filter(|p| !NOT_RESOURCES.contains(&p.as_str()))
            .collect();
        if resources.is_empty() {
            continue;
        }
        for user in [&w.human_b, &w.machine_b] {
            let fields = |unknown: bool| {
                resources
                    .iter()
                    .map(|p| {
                        let number = m.input.get_field_by_name(p).unwrap().number();
                        let v = if unknown {
                            UNKNOWN.to_owned()
                        } else {
                            value_of(&w, &template, p, user)
                        };
                        (number, v)
                    })
                    .collect::<BTreeMap<u32, String>>()
            };
            let got = raw_call(&mut grpc, &w.owner_a, path, encode(&fields(false))).await;
            let expected = raw_call(&mut grpc, &w.owner_a, path, encode(&fields(true))).await;
            let as_json = |(code, id, bytes): &(tonic::Code, String, Vec<u8>)| {
                let message = prost_reflect::DynamicMessage::decode(m.output.clone(), bytes.as_slice()).unwrap();
                (
                    *code,
                    id.clone(),
                    now_free((0, serde_json::to_value(&message).unwrap())).1,
                )
            };
            assert_eq!(
                as_json(&got),
                as_json(&expected),
                "gRPC {path} answers unlike an unknown id"
            );
            let succeeds = SUCCEED.iter().any(|(p, _)| *p == path);
            assert!(got.0 != tonic::Code::Ok || succeeds, "gRPC {path} → {got:?}");
        }
    }
}

/// Per-resource routes whose contract answers an unknown id otherwise than
/// 404, with that answer (status, error id) and where the contract says so.
const UNKNOWN_NOT_404: &[(&str, u16, &str)] = &[
    // Keys of an unknown app: "app missing → 400 COMMAND-sak25" on add; an empty list.
    (
        "/zitadel.management.v1.ManagementService/AddAppKey",
        400,
        "COMMAND-sak25",
    ),
    ("/zitadel.management.v1.ManagementService/ListAppKeys", 200, ""),
    // "user missing/not human → FailedPrecondition COMMAND-SqyJz" (part 2 §20.6).
    ("/zitadel.user.v2.UserService/RegisterTOTP", 400, "COMMAND-SqyJz"),
    ("/zitadel.user.v2.UserService/AddOTPSMS", 400, "COMMAND-SqyJz"),
    ("/zitadel.user.v2.UserService/AddOTPEmail", 400, "COMMAND-SqyJz"),
    (
        "/zitadel.user.v2.UserService/GenerateRecoveryCodes",
        400,
        "COMMAND-SqyJz",
    ),
    // "user must exist in the ctx org (else FailedPrecondition COMMAND-Dggw2)" (part 2 §19.6).
    (
        "/zitadel.management.v1.ManagementService/AddPersonalAccessToken",
        400,
        "COMMAND-Dggw2",
    ),
    // "user unknown → 400 Password not found (COMMAND-G8dh3)" (part 3 §33.5).
    ("/zitadel.user.v2.UserService/SetPassword", 400, "COMMAND-G8dh3"),
    (
        "/zitadel.management.v1.ManagementService/SetHumanPassword",
        400,
        "COMMAND-G8dh3",
    ),
    // "project missing/other org → 400 COMMAND-EbFMN" (part 3 §30.6).
    (
        "/zitadel.management.v1.ManagementService/AddOIDCApp",
        400,
        "COMMAND-EbFMN",
    ),
    (
        "/zitadel.management.v1.ManagementService/AddAPIApp",
        400,
        "COMMAND-EbFMN",
    ),
    // "User must exist in the ctx org as a machine user, else 400" (part 3 §30.9).
    (
        "/zitadel.management.v1.ManagementService/GenerateMachineSecret",
        400,
        "COMMAND-x8910n",
    ),
    (
        "/zitadel.management.v1.ManagementService/RemoveMachineSecret",
        400,
        "COMMAND-x7s802",
    ),
    // "Not allowed for this user type / User could not be found … FailedPrecondition" (part 3 §35).
    (
        "/zitadel.user.v2.UserService/AddPersonalAccessToken",
        400,
        "COMMAND-Dggw2",
    ),
    // Removing a non-member answers 200 (part 2 §19.7, §19.8).
    ("/zitadel.management.v1.ManagementService/RemoveOrgMember", 200, ""),
    ("/zitadel.admin.v1.AdminService/RemoveIAMMember", 200, ""),
    // Terminating a session that does not exist (any more) is fine.
    ("/zitadel.session.v2.SessionService/DeleteSession", 200, ""),
    // Invite codes: "user unknown → 400 COMMAND-Wgvn4", verify "unknown → 400 COMMAND-F5g2h" (part 3 §33.8).
    ("/zitadel.user.v2.UserService/CreateInviteCode", 400, "COMMAND-Wgvn4"),
    ("/zitadel.user.v2.UserService/ResendInviteCode", 400, "COMMAND-Wgvn4"),
    ("/zitadel.user.v2.UserService/VerifyInviteCode", 400, "COMMAND-F5g2h"),
];

async fn unknown_ids_are_not_found(b: Backend) {
    let s = Server::start(b).await;
    let mut walked = Vec::new();
    for m in methods() {
        let (verb, template) = route(&m).unwrap();
        let resources: Vec<String> = params(&template)
            .into_iter()
            .filter(|p| !NOT_RESOURCES.contains(&p.as_str()))
            .collect();
        if resources.is_empty() {
            continue;
        }
        walked.push(m.grpc_path.clone());
        let path = fill(&template, |_| UNKNOWN.to_owned());
        let body = (verb != "GET").then(|| body_for(&m.grpc_path));
        let (status, got) = s.call(verb, &path, body).await;
        match UNKNOWN_NOT_404.iter().find(|(p, ..)| *p == &*m.grpc_path) {
            Some((_, expected, id)) => {
                assert_eq!(status, *expected, "{verb} {path}: {got}");
                if !id.is_empty() {
                    assert_eq!(got["details"][0]["id"], json!(id), "{verb} {path}: {got}");
                }
            }
            None => {
                assert_eq!(status, 404, "{verb} {path}: {got}");
                assert_eq!(got["code"], 5, "{verb} {path}: {got}");
                assert!(
                    got["details"][0]["id"].is_string(),
                    "{verb} {path}: the RPC's own not-found id: {got}"
                );
            }
        }
    }
    for (p, ..) in UNKNOWN_NOT_404 {
        assert!(walked.iter().any(|w| &**w == *p), "{p} is no per-resource route");
    }
    assert!(walked.len() > 30, "only {} per-resource routes", walked.len());
}

/// A protobuf message of string fields.
fn encode(fields: &BTreeMap<u32, String>) -> Vec<u8> {
    fn varint(mut n: u64, out: &mut Vec<u8>) {
        while n >= 0x80 {
            out.push((n as u8) | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
    }
    let mut out = Vec::new();
    for (number, value) in fields {
        varint(u64::from(*number) << 3 | 2, &mut out);
        varint(value.len() as u64, &mut out);
        out.extend_from_slice(value.as_bytes());
    }
    out
}

/// A unary gRPC call with an already encoded request; the status code and
/// error id, with the encoded answer on success.
async fn raw_call(
    grpc: &mut tonic::client::Grpc<tonic::transport::Channel>,
    token: &str,
    path: &str,
    message: Vec<u8>,
) -> (tonic::Code, String, Vec<u8>) {
    grpc.ready().await.unwrap();
    let mut req = tonic::Request::new(message);
    req.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let path: tonic::codegen::http::uri::PathAndQuery = path.parse().unwrap();
    match grpc.unary(req, path, RawCodec).await {
        Ok(resp) => (tonic::Code::Ok, String::new(), resp.into_inner()),
        Err(e) => (e.code(), error_id(&e), Vec::new()),
    }
}
