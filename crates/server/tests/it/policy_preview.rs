//! The lock-out preview of login-policy changes (twofold.policy.v1) and the
//! guard rail that refuses a change locking out every owner.

use serde_json::{Value, json};
use twofold_proto::twofold::policy::v1::PreviewLoginPolicyChangeRequest;
use twofold_proto::twofold::policy::v1::policy_service_client::PolicyServiceClient;
use twofold_proto::twofold::policy::v1::preview_login_policy_change_request::Change;

use crate::fixtures::{ORG, base32_decode, now, totp};
use crate::harness::{Backend, Bearer, Server, backend_tests, rest_error};

backend_tests!(
    preview_categories_and_scopes,
    guard_rail_protects_the_owners,
    preview_latency_at_100k_users,
    backfill_matches_the_projection,
);

const ORG_WITHOUT_POLICY: &str = "The organization uses the instance's default login policy, so its factors cannot be \
     changed here: add a custom login policy first (POST /management/v1/policies/login), or change the default with \
     the Admin API";
const LOCK_OUT: &str = "This change would lock out every owner (no owner could sign in any more). Check its impact \
     with the preview (POST /admin/v1/policies/login/_preview or /management/v1/policies/login/_preview), or repeat \
     the request with the header x-twofold-force: true";

async fn with_otp_email(s: &Server, user: &str) {
    let (status, got) = s
        .call("POST", &format!("/v2/users/{user}/otp_email"), Some(json!({})))
        .await;
    assert_eq!(status, 200, "{got}");
}

async fn with_totp(s: &Server, user: &str) {
    let (status, reg) = s.call("POST", &format!("/v2/users/{user}/totp"), Some(json!({}))).await;
    assert_eq!(status, 200, "{reg}");
    let code = totp(&base32_decode(reg["secret"].as_str().unwrap()), now());
    let (status, got) = s
        .call(
            "POST",
            &format!("/v2/users/{user}/totp/verify"),
            Some(json!({"code": code})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
}

fn user(id: &str, name: &str, org: &str) -> Value {
    json!({"userId": id, "loginName": name, "orgId": org})
}

/// The expected answer: each category as (count, examples).
fn impact(groups: [(u64, Vec<Value>); 5]) -> Value {
    let names = ["lockedOut", "mustEnroll", "mfaDowngraded", "losesAFactor", "unaffected"];
    let mut out = json!({"total": groups.iter().map(|g| g.0).sum::<u64>()});
    for (name, (count, examples)) in names.iter().zip(groups) {
        out[*name] = if examples.is_empty() {
            json!({"count": count})
        } else {
            json!({"count": count, "examples": examples})
        };
    }
    out
}

fn none() -> (u64, Vec<Value>) {
    (0, vec![])
}

/// A full login-policy body: passwords and passkeys allowed, MFA as given.
fn policy(passwords: bool, force_mfa: bool) -> Value {
    json!({
        "allowUsernamePassword": passwords,
        "allowRegister": true,
        "allowExternalIdp": true,
        "forceMfa": force_mfa,
        "passwordlessType": "PASSWORDLESS_TYPE_ALLOWED",
        "passwordCheckLifetime": "864000s",
        "externalLoginCheckLifetime": "864000s",
        "mfaInitSkipLifetime": "2592000s",
        "secondFactorCheckLifetime": "64800s",
        "multiFactorCheckLifetime": "43200s",
        "allowDomainDiscovery": true,
    })
}

async fn instance(s: &Server, body: Value) -> (u16, Value) {
    s.call("POST", "/admin/v1/policies/login/_preview", Some(body)).await
}

async fn org(s: &Server, org: &str, body: Value) -> (u16, Value) {
    s.call_in(org, "POST", "/management/v1/policies/login/_preview", Some(body))
        .await
}

async fn preview_categories_and_scopes(b: Backend) {
    let s = Server::start(b).await;
    let second = |t: &str| json!({"type": format!("SECOND_FACTOR_TYPE_{t}")});
    let (status, got) = s
        .call(
            "POST",
            "/admin/v1/policies/login/second_factors",
            Some(second("OTP_EMAIL")),
        )
        .await;
    assert_eq!(status, 200, "{got}");

    let a = s.create_org("Alpha").await;
    let pw = s.create_human(Some(&a), "pw").await;
    let mail = s.create_human(Some(&a), "mail").await;
    with_otp_email(&s, &mail).await;
    let both = s.create_human(Some(&a), "both").await;
    with_otp_email(&s, &both).await;
    with_totp(&s, &both).await;

    // An org with its own policy is out of reach of the instance's.
    let c = s.create_org("Custom").await;
    let mut custom = policy(true, false);
    custom["secondFactors"] = json!(["SECOND_FACTOR_TYPE_OTP_EMAIL"]);
    let (status, got) = s
        .call_in(&c, "POST", "/management/v1/policies/login", Some(custom))
        .await;
    assert_eq!(status, 200, "{got}");
    let cmail = s.create_human(Some(&c), "cmail").await;
    with_otp_email(&s, &cmail).await;

    let events_before = (
        s.count_events("instance.policy.login.secondfactor.removed").await,
        s.count_events("instance.policy.login.changed").await,
        s.count_events("org.policy.login.added").await,
    );

    // Removing OTP email: a user with only that factor falls back to a
    // password alone; one with TOTP too keeps a factor.
    let got = instance(&s, json!({"removeSecondFactor": "SECOND_FACTOR_TYPE_OTP_EMAIL"})).await;
    assert_eq!(
        got.clone(),
        (
            200,
            impact([
                none(),
                none(),
                (1, vec![user(&mail, "mail", &a)]),
                (1, vec![user(&both, "both", &a)]),
                (1, vec![user(&pw, "pw", &a)]),
            ])
        )
    );

    // The same answer over Connect and native gRPC.
    let connect = s
        .req(
            "POST",
            "/twofold.policy.v1.PolicyService/PreviewInstanceLoginPolicyChange",
        )
        .json(&json!({"removeSecondFactor": "SECOND_FACTOR_TYPE_OTP_EMAIL"}));
    assert_eq!(s.send(connect).await, got);
    let mut grpc = PolicyServiceClient::with_interceptor(s.channel().await, Bearer(s.token.clone()));
    let answer = grpc
        .preview_instance_login_policy_change(PreviewLoginPolicyChangeRequest {
            change: Some(Change::RemoveSecondFactor(3)),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (answer.total, answer.mfa_downgraded.unwrap().examples[0].user_id.clone()),
        (Some(3), mail.clone())
    );

    // Forcing MFA sends the user without any factor to MFA set-up.
    let got = instance(&s, json!({"policy": policy(true, true)})).await;
    assert_eq!(got.0, 200, "{}", got.1);
    assert_eq!(
        got.1["mustEnroll"],
        json!({"count": 1, "examples": [user(&pw, "pw", &a)]})
    );
    assert_eq!(got.1["unaffected"]["count"], 2);

    // No passwords and no passkeys: nobody can sign in.
    let got = instance(&s, json!({"policy": policy(false, false)})).await;
    assert_eq!(got.0, 200, "{}", got.1);
    assert_eq!(
        (got.1["total"].clone(), got.1["lockedOut"]["count"].clone()),
        (json!(3), json!(3))
    );

    // The change's own errors.
    let got = instance(&s, json!({"addSecondFactor": "SECOND_FACTOR_TYPE_OTP"})).await;
    assert_eq!(
        got,
        (
            409,
            rest_error(6, "INSTANCE-2B0ps", "Errors.Instance.MFA.AlreadyExists")
        )
    );
    let (status, _) = instance(&s, json!({})).await;
    assert_eq!(status, 400);

    // Org scope: the one org, with its own policy.
    let got = org(&s, &c, json!({"removeSecondFactor": "SECOND_FACTOR_TYPE_OTP_EMAIL"})).await;
    assert_eq!(
        got,
        (
            200,
            impact([none(), none(), (1, vec![user(&cmail, "cmail", &c)]), none(), none()])
        )
    );
    // Back to the default, which allows OTP email too: nothing changes.
    let got = org(&s, &c, json!({"resetToDefault": true})).await;
    assert_eq!(
        got,
        (
            200,
            impact([none(), none(), none(), none(), (1, vec![user(&cmail, "cmail", &c)])])
        )
    );
    // An org without a policy of its own: factor changes fail as the change would...
    let got = org(&s, &a, json!({"removeSecondFactor": "SECOND_FACTOR_TYPE_OTP_EMAIL"})).await;
    assert_eq!(got, (400, rest_error(9, "Org-4Rf9x", ORG_WITHOUT_POLICY)));
    // ...and a policy body previews the custom policy (no factors) it would create.
    let got = org(&s, &a, json!({"policy": policy(true, false)})).await;
    assert_eq!(
        got,
        (
            200,
            impact([
                none(),
                none(),
                (2, vec![user(&both, "both", &a), user(&mail, "mail", &a)]),
                none(),
                (1, vec![user(&pw, "pw", &a)]),
            ])
        )
    );

    // Previews store nothing.
    let events_after = (
        s.count_events("instance.policy.login.secondfactor.removed").await,
        s.count_events("instance.policy.login.changed").await,
        s.count_events("org.policy.login.added").await,
    );
    assert_eq!(events_before, events_after);
    let (_, got) = s
        .call("POST", "/admin/v1/policies/login/second_factors/_search", None)
        .await;
    assert_eq!(
        got["result"],
        json!([
            "SECOND_FACTOR_TYPE_OTP",
            "SECOND_FACTOR_TYPE_U2F",
            "SECOND_FACTOR_TYPE_OTP_EMAIL"
        ])
    );
}

async fn guard_rail_protects_the_owners(b: Backend) {
    let s = Server::start(b).await;
    let a = s.create_org("Alpha").await;
    let boss = s.create_human(Some(&a), "boss").await;
    s.add_iam_member(&boss, &["IAM_OWNER"]).await;

    // Passwords off while the only human owner has no passkey: refused.
    let (status, got) = s
        .call("PUT", "/admin/v1/policies/login", Some(policy(false, false)))
        .await;
    assert_eq!((status, got), (400, rest_error(9, "POLICY-LockOut", LOCK_OUT)));
    assert_eq!(s.count_events("instance.policy.login.changed").await, 0);
    // A change that keeps passwords is not.
    let (status, got) = s
        .call("PUT", "/admin/v1/policies/login", Some(policy(true, true)))
        .await;
    assert_eq!(status, 200, "{got}");
    // An org's policy protects its ORG_OWNERs, on creation and on update.
    let c = s.create_org("Custom").await;
    let owner = s.create_human(Some(&c), "owner").await;
    s.add_org_member(&c, &owner, &["ORG_OWNER"]).await;
    let (status, got) = s
        .call_in(&c, "POST", "/management/v1/policies/login", Some(policy(false, false)))
        .await;
    assert_eq!((status, got), (400, rest_error(9, "POLICY-LockOut", LOCK_OUT)));
    let (status, got) = s
        .call_in(&c, "POST", "/management/v1/policies/login", Some(policy(true, false)))
        .await;
    assert_eq!(status, 200, "{got}");
    let (status, got) = s
        .call_in(&c, "PUT", "/management/v1/policies/login", Some(policy(false, false)))
        .await;
    assert_eq!((status, got), (400, rest_error(9, "POLICY-LockOut", LOCK_OUT)));
    let (status, got) = s
        .send(
            s.req("PUT", "/management/v1/policies/login")
                .header(ORG, &c)
                .header("x-twofold-force", "true")
                .json(&policy(false, false)),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    // The header lets it through.
    let (status, got) = s
        .send(
            s.req("PUT", "/admin/v1/policies/login")
                .header("x-twofold-force", "true")
                .json(&policy(false, false)),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(s.count_events("instance.policy.login.changed").await, 2);
}

/// Seeds `n` users' factor summaries straight into the read model (the rows
/// the store derives from user documents), over 100 orgs and 64 factor sets.
async fn seed_summaries(s: &Server, n: u32) {
    use sqlx::Connection;
    let instance = s.instance_id().await;
    let select = "'user_factors', 'seed' || x, 'seed-org-' || (x % 100) || ':' || ((x % 64) | 1), \
        '{\"userId\":\"seed' || x || '\",\"loginName\":\"seed' || x || '\",\"orgId\":\"seed-org-' || (x % 100) || \
        '\",\"state\":\"Active\",\"mask\":' || ((x % 64) | 1) || '}'";
    if s.db_url.starts_with("sqlite:") {
        let sql = format!(
            "WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < {n}) \
             INSERT INTO docs (instance_id, collection, id, lookup, body) SELECT $1, {select} FROM g"
        );
        let mut c = sqlx::SqliteConnection::connect(&s.db_url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&instance)
            .execute(&mut c)
            .await
            .unwrap();
    } else {
        let sql = format!(
            "INSERT INTO docs (instance_id, collection, id, lookup, body) \
             SELECT $1, {select} FROM generate_series(1, {n}) AS g(x)"
        );
        let mut c = sqlx::PgConnection::connect(&s.db_url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&instance)
            .execute(&mut c)
            .await
            .unwrap();
        // What autovacuum does after a bulk load: statistics, and the
        // visibility map that lets the count read the index alone.
        sqlx::query("VACUUM ANALYZE docs").execute(&mut c).await.unwrap();
    }
}

/// Median and slowest of `runs` REST calls of `path` with `body`, in ms.
async fn latency(s: &Server, org: Option<&str>, path: &str, body: Value, runs: usize) -> (f64, f64, Value) {
    let mut times = Vec::new();
    let mut last = Value::Null;
    for _ in 0..runs {
        let mut rb = s.req("POST", path).json(&body);
        if let Some(o) = org {
            rb = rb.header(ORG, o);
        }
        let t = std::time::Instant::now();
        let (status, got) = s.send(rb).await;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(status, 200, "{got}");
        last = got;
    }
    times.sort_by(f64::total_cmp);
    (times[runs / 2], times[runs - 1], last)
}

async fn preview_latency_at_100k_users(b: Backend) {
    let s = Server::start(b).await;
    seed_summaries(&s, 100_000).await;
    let remove_u2f = json!({"removeSecondFactor": "SECOND_FACTOR_TYPE_U2F"});
    let (median, max, got) = latency(&s, None, "/admin/v1/policies/login/_preview", remove_u2f.clone(), 21).await;
    eprintln!("instance preview over 100000 users: median {median:.1} ms, slowest {max:.1} ms");
    assert_eq!(got["total"], 100_000);
    let sum: u64 = ["lockedOut", "mustEnroll", "mfaDowngraded", "losesAFactor", "unaffected"]
        .iter()
        .map(|c| got[*c]["count"].as_u64().unwrap())
        .sum();
    assert_eq!(sum, 100_000);
    assert_eq!(got["losesAFactor"]["examples"].as_array().unwrap().len(), 20);
    // Second factors enrolled but no TOTP (the one left allowed): 30 of the
    // 64 factor sets, 1562 or 1563 users each.
    assert_eq!(got["mfaDowngraded"]["count"], 46_875);
    let bound = if cfg!(debug_assertions) { 1000.0 } else { 50.0 };
    assert!(median < bound, "median {median} ms");
}

/// The summaries the store derives, as (id, lookup, body) rows.
async fn summaries(s: &Server) -> Vec<(String, String, Value)> {
    use sqlx::Connection;
    let sql = "SELECT id, lookup, body FROM docs WHERE collection = 'user_factors' ORDER BY id";
    let rows: Vec<(String, String, String)> = if s.db_url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(&s.db_url).await.unwrap();
        sqlx::query_as(sql).fetch_all(&mut c).await.unwrap()
    } else {
        let mut c = sqlx::PgConnection::connect(&s.db_url).await.unwrap();
        sqlx::query_as(sql).fetch_all(&mut c).await.unwrap()
    };
    rows.into_iter()
        .map(|(id, lookup, body)| (id, lookup, serde_json::from_str(&body).unwrap()))
        .collect()
}

/// The migration that derives summaries for users created before them
/// writes exactly what the store derives.
async fn backfill_matches_the_projection(b: Backend) {
    use sqlx::Connection;
    let s = Server::start(b).await;
    let a = s.create_org("Alpha").await;
    s.create_human(Some(&a), "plain").await;
    let both = s.create_human(Some(&a), "both").await;
    with_otp_email(&s, &both).await;
    with_totp(&s, &both).await;
    s.create_machine(&a, "robot").await;
    let derived = summaries(&s).await;
    assert_eq!(derived.len(), 2, "humans only: {derived:?}");
    assert_eq!(derived.iter().find(|r| r.0 == both).unwrap().2["mask"], 1 | 2 | 8);

    let delete = "DELETE FROM docs WHERE collection = 'user_factors'";
    if s.db_url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(&s.db_url).await.unwrap();
        sqlx::query(delete).execute(&mut c).await.unwrap();
        let sql = include_str!("../../../../migrations/sqlite/0003_user_factors.sql");
        sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
    } else {
        let mut c = sqlx::PgConnection::connect(&s.db_url).await.unwrap();
        sqlx::query(delete).execute(&mut c).await.unwrap();
        let sql = include_str!("../../../../migrations/postgres/0003_user_factors.sql");
        sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
    }
    assert_eq!(summaries(&s).await, derived);
}
