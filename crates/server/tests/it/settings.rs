//! SettingsService v2 (every read), the password complexity and age
//! policies behind it (admin and management v1), and the complexity
//! policy's enforcement on AddHumanUser.

use serde_json::{Value, json};
use tonic::Code;
use twofold_proto::zitadel::settings::v2::settings_service_client::SettingsServiceClient;
use twofold_proto::zitadel::settings::v2::{
    GetPasswordComplexitySettingsRequest, PasswordComplexitySettings, RequestContext, request_context,
};

use crate::harness::{Backend, Bearer, Server, backend_tests, error_id, rest_error};

backend_tests!(
    fresh_instance_settings,
    complexity_policy_lifecycle,
    complexity_over_grpc,
    weak_password_refused_and_nothing_stored,
    password_age_policy_lifecycle,
    security_settings_set_and_read,
);

/// The response without `details`, and its resource owner.
async fn get(s: &Server, path: &str) -> (Value, String) {
    let (status, mut body) = s.call("GET", path, None).await;
    assert_eq!(status, 200, "{path}: {body}");
    let details = body.as_object_mut().unwrap().remove("details").unwrap_or(Value::Null);
    let owner = details["resourceOwner"].as_str().unwrap_or_default().to_owned();
    (body, owner)
}

const INSTANCE: &str = "RESOURCE_OWNER_TYPE_INSTANCE";

async fn fresh_instance_settings(b: Backend) {
    let s = Server::start(b).await;
    let instance = s.instance_id().await;
    let org = s.my_org_id().await;

    let (body, _) = get(&s, "/v2/settings").await;
    assert_eq!(
        body,
        json!({"defaultOrgId": org, "defaultLanguage": "en", "supportedLanguages": ["en"]})
    );
    let (body, owner) = get(&s, "/v2/settings/password/complexity").await;
    assert_eq!(
        body,
        json!({"settings": {"minLength": "8", "requiresUppercase": true, "requiresLowercase": true,
            "requiresNumber": true, "requiresSymbol": true, "resourceOwnerType": INSTANCE}})
    );
    assert_eq!(owner, instance);
    let (body, owner) = get(&s, "/v2/settings/password/expiry?ctx.instance=true").await;
    assert_eq!(body, json!({"settings": {"resourceOwnerType": INSTANCE}}));
    assert_eq!(owner, instance);
    let (body, _) = get(&s, "/v2/settings/branding").await;
    assert_eq!(
        body,
        json!({"settings": {
            "lightTheme": {"primaryColor": "#5469d4", "backgroundColor": "#fafafa",
                "warnColor": "#cd3d56", "fontColor": "#000000"},
            "darkTheme": {"primaryColor": "#2073c4", "backgroundColor": "#111827",
                "warnColor": "#ff3b5b", "fontColor": "#ffffff"},
            "resourceOwnerType": INSTANCE, "themeMode": "THEME_MODE_AUTO"}})
    );
    let (body, _) = get(&s, &format!("/v2/settings/domain?ctx.orgId={org}")).await;
    assert_eq!(body, json!({"settings": {"resourceOwnerType": INSTANCE}}));
    let (body, _) = get(&s, "/v2/settings/legal_support").await;
    assert_eq!(
        body,
        json!({"settings": {"docsLink": "https://zitadel.com/docs", "resourceOwnerType": INSTANCE}})
    );
    let (status, body) = s.call("GET", "/v2/settings/security", None).await;
    assert_eq!((status, body), (200, json!({"settings": {"embeddedIframe": {}}})));
    let (body, _) = get(&s, "/v2/settings/login/idps").await;
    assert_eq!(body, json!({}));

    // Set up as ZITADEL does: the default policy is an event of the instance.
    assert_eq!(
        s.event_payloads("instance.policy.password.complexity.added").await,
        vec![json!({"minLength": 8, "hasLowercase": true, "hasUppercase": true, "hasNumber": true, "hasSymbol": true})]
    );
}

async fn complexity_policy_lifecycle(b: Backend) {
    let s = Server::start(b).await;
    let bank = s.create_org("Bank").await;
    const ORG: &str = "/management/v1/policies/password/complexity";
    const ADMIN: &str = "/admin/v1/policies/password/complexity";
    let lax = json!({"minLength": 12});

    let (status, got) = s.call_in(&bank, "PUT", ORG, Some(lax.clone())).await;
    assert_eq!(
        (status, got),
        (404, rest_error(5, "ORG-Dgs3g", "Password Complexity Policy not found"))
    );
    let (status, got) = s.call_in(&bank, "POST", ORG, Some(json!({"minLength": 73}))).await;
    assert_eq!(
        (status, got),
        (400, rest_error(3, "MODEL-Lsp0e", "Given minimum length is not allowed"))
    );
    let (status, got) = s.call_in(&bank, "POST", ORG, Some(lax.clone())).await;
    assert_eq!(status, 200, "{got}");
    let (status, got) = s.call_in(&bank, "POST", ORG, Some(lax.clone())).await;
    assert_eq!(
        (status, got),
        (
            409,
            rest_error(6, "Org-LdhbS", "Password Complexity Policy already exists")
        )
    );
    let (status, got) = s.call_in(&bank, "PUT", ORG, Some(lax.clone())).await;
    assert_eq!(
        (status, got),
        (
            400,
            rest_error(9, "Org-DAs21", "Errors.Org.PasswordComplexityPolicy.NotChanged")
        )
    );
    let (status, mut got) = s.call_in(&bank, "GET", ORG, None).await;
    assert_eq!(status, 200);
    got["policy"].as_object_mut().unwrap().remove("details");
    assert_eq!(got, json!({"policy": {"minLength": "12"}}));

    // The org's own policy is in force for its users, and for Settings v2.
    let (body, owner) = get(&s, &format!("/v2/settings/password/complexity?ctx.orgId={bank}")).await;
    assert_eq!(
        body,
        json!({"settings": {"minLength": "12", "resourceOwnerType": "RESOURCE_OWNER_TYPE_ORG"}})
    );
    assert_eq!(owner, bank);
    let human = |org: &str, password: &str| {
        json!({
            "organization": {"orgId": org},
            "profile": {"givenName": "Bob", "familyName": "Builder"},
            "email": {"email": format!("{}@example.com", password.len())},
            "password": {"password": password},
        })
    };
    let (status, got) = s
        .call("POST", "/v2/users/human", Some(human(&bank, "lowercaseonly")))
        .await;
    assert_eq!(status, 200, "{got}");
    let (status, got) = s
        .call("POST", "/v2/users/human", Some(human(&bank, "Sh0rt!pass")))
        .await;
    assert_eq!(
        (status, got),
        (400, rest_error(3, "COMMA-HuJf6", "Password is too short"))
    );

    // Reset: the org inherits the default again.
    let (status, _) = s.call_in(&bank, "DELETE", ORG, None).await;
    assert_eq!(status, 200);
    let (status, got) = s.call_in(&bank, "DELETE", ORG, None).await;
    assert_eq!(
        (status, got),
        (404, rest_error(5, "ORG-ADgs2", "Password Complexity Policy not found"))
    );
    let (_, got) = s.call_in(&bank, "GET", ORG, None).await;
    assert_eq!(got["isDefault"], true);
    let (status, got) = s.call("GET", "/auth/v1/policies/passwords/complexity", None).await;
    assert_eq!((status, &got["policy"]["minLength"]), (200, &json!("8")), "{got}");

    // The instance default changes for every org without its own.
    let strict =
        json!({"minLength": 8, "hasUppercase": true, "hasLowercase": true, "hasNumber": true, "hasSymbol": true});
    let (status, got) = s.call("PUT", ADMIN, Some(strict)).await;
    assert_eq!(
        (status, got),
        (
            400,
            rest_error(
                9,
                "INSTANCE-9jlsf",
                "Default Password Complexity Policy has not been changed"
            )
        )
    );
    let (status, got) = s
        .call("PUT", ADMIN, Some(json!({"minLength": 10, "hasLowercase": true})))
        .await;
    assert_eq!(status, 200, "{got}");
    let (_, mut got) = s.call("GET", ADMIN, None).await;
    got["policy"].as_object_mut().unwrap().remove("details");
    assert_eq!(
        got,
        json!({"policy": {"minLength": "10", "hasLowercase": true, "isDefault": true}})
    );
    let (status, got) = s.call("POST", "/v2/users/human", Some(human(&bank, "nouppers"))).await;
    assert_eq!(
        (status, got),
        (400, rest_error(3, "COMMA-HuJf6", "Password is too short"))
    );
    let (status, got) = s
        .call("POST", "/v2/users/human", Some(human(&bank, "nouppercase")))
        .await;
    assert_eq!(status, 200, "{got}");
}

async fn complexity_over_grpc(b: Backend) {
    let s = Server::start(b).await;
    let bank = s.create_org("Bank").await;
    let (status, got) = s
        .call_in(
            &bank,
            "POST",
            "/management/v1/policies/password/complexity",
            Some(json!({"minLength": 9, "hasNumber": true})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    let mut client = SettingsServiceClient::with_interceptor(s.channel().await, Bearer(s.token.clone()));
    let ask = |owner| GetPasswordComplexitySettingsRequest {
        ctx: Some(RequestContext {
            resource_owner: Some(owner),
        }),
    };
    let got = client
        .get_password_complexity_settings(ask(request_context::ResourceOwner::OrgId(bank.clone())))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        got.settings,
        Some(PasswordComplexitySettings {
            min_length: 9,
            requires_number: true,
            resource_owner_type: 2,
            ..Default::default()
        })
    );
    assert_eq!(got.details.unwrap().resource_owner, bank);
    let got = client
        .get_password_complexity_settings(ask(request_context::ResourceOwner::Instance(true)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.settings.unwrap().min_length, 8);

    // Connect GET (a read without side effects), JSON encoding.
    let mut url =
        url::Url::parse(&s.url("/zitadel.settings.v2.SettingsService/GetPasswordComplexitySettings")).unwrap();
    let message = json!({"ctx": {"orgId": bank}}).to_string();
    url.query_pairs_mut()
        .extend_pairs([("connect", "v1"), ("encoding", "json"), ("message", message.as_str())]);
    let (status, got) = s.send(reqwest::Client::new().get(url).bearer_auth(&s.token)).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(
        got["settings"],
        json!({"minLength": "9", "requiresNumber": true, "resourceOwnerType": "RESOURCE_OWNER_TYPE_ORG"})
    );

    // Admin update over gRPC: min_length out of range.
    let err = s
        .admin()
        .await
        .update_password_complexity_policy(
            twofold_proto::zitadel::admin::v1::UpdatePasswordComplexityPolicyRequest {
                min_length: 0,
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), error_id(&err)),
        (Code::InvalidArgument, "MODEL-Lsp0e".into())
    );
}

async fn weak_password_refused_and_nothing_stored(b: Backend) {
    let s = Server::start(b).await;
    let weak = |password: &str| {
        json!({
            "username": "weak",
            "profile": {"givenName": "Wendy", "familyName": "Weak"},
            "email": {"email": "weak@example.com"},
            "password": {"password": password},
        })
    };
    let cases = [
        ("Sh0rt!", "COMMA-HuJf6", "Password is too short"),
        ("NOLOWER1!", "COMMA-co3Xw", "Password must contain lower case"),
        ("noupper1!", "COMMA-VoaRj", "Password must contain upper case"),
        ("NoNumber!", "COMMA-ZBv4H", "Password must contain number"),
        ("NoSymbol1", "COMMA-ZDLwA", "Password must contain symbol"),
    ];
    for (password, id, message) in cases {
        let (status, got) = s.call("POST", "/v2/users/human", Some(weak(password))).await;
        assert_eq!((status, got), (400, rest_error(3, id, message)), "{password}");
    }
    assert_eq!(s.count_events("user.human.added").await, 0);
    // The user name was not claimed either.
    let (status, got) = s.call("POST", "/v2/users/human", Some(weak("Str0ng!pass"))).await;
    assert_eq!(status, 200, "{got}");
}

async fn password_age_policy_lifecycle(b: Backend) {
    let s = Server::start(b).await;
    let bank = s.create_org("Bank").await;
    const ORG: &str = "/management/v1/policies/password/age";
    const ADMIN: &str = "/admin/v1/policies/password/age";
    assert_eq!(
        s.event_payloads("instance.policy.password.age.added").await,
        vec![json!({})]
    );

    let (status, got) = s.call_in(&bank, "PUT", ORG, Some(json!({"maxAgeDays": 1}))).await;
    assert_eq!(
        (status, got),
        (404, rest_error(5, "ORG-0oPew", "Password Age Policy not found"))
    );
    let quarterly = json!({"maxAgeDays": 90, "expireWarnDays": 7});
    let (status, got) = s.call_in(&bank, "POST", ORG, Some(quarterly.clone())).await;
    assert_eq!(status, 200, "{got}");
    let (status, got) = s.call_in(&bank, "POST", ORG, Some(quarterly.clone())).await;
    assert_eq!(
        (status, got),
        (409, rest_error(6, "ORG-Lk0dS", "Password Age Policy already exists"))
    );
    let (status, got) = s.call_in(&bank, "PUT", ORG, Some(quarterly)).await;
    assert_eq!(
        (status, got),
        (400, rest_error(9, "Org-dsgjR", "Errors.ORg.LabelPolicy.NotChanged"))
    );
    let (body, owner) = get(&s, &format!("/v2/settings/password/expiry?ctx.orgId={bank}")).await;
    assert_eq!(
        body,
        json!({"settings": {"maxAgeDays": "90", "expireWarnDays": "7", "resourceOwnerType": "RESOURCE_OWNER_TYPE_ORG"}})
    );
    assert_eq!(owner, bank);
    let (status, _) = s.call_in(&bank, "DELETE", ORG, None).await;
    assert_eq!(status, 200);
    let (status, got) = s.call_in(&bank, "DELETE", ORG, None).await;
    assert_eq!(
        (status, got),
        (404, rest_error(5, "ORG-Dgs1g", "Password Age Policy not found"))
    );

    let (status, got) = s.call("PUT", ADMIN, Some(json!({}))).await;
    assert_eq!(
        (status, got),
        (
            400,
            rest_error(9, "INSTANCE-180sf", "Default Password Age Policy has not been changed")
        )
    );
    let (status, got) = s.call("PUT", ADMIN, Some(json!({"maxAgeDays": 365}))).await;
    assert_eq!(status, 200, "{got}");
    let (_, mut got) = s.call_in(&bank, "GET", ORG, None).await;
    got["policy"].as_object_mut().unwrap().remove("details");
    assert_eq!(
        got,
        json!({"policy": {"maxAgeDays": "365", "isDefault": true}, "isDefault": true})
    );
    let (body, _) = get(&s, &format!("/v2/settings/password/expiry?ctx.orgId={bank}")).await;
    assert_eq!(
        body,
        json!({"settings": {"maxAgeDays": "365", "resourceOwnerType": INSTANCE}})
    );
}

async fn security_settings_set_and_read(b: Backend) {
    let s = Server::start(b).await;
    let instance = s.instance_id().await;
    const SET: &str = "/v2/policies/security";
    let (status, got) = s.call("PUT", SET, Some(json!({}))).await;
    assert_eq!((status, got), (400, rest_error(9, "POLICY-EWsf3", "No changes")));

    let set = json!({"embeddedIframe": {"enabled": true, "allowedOrigins": ["https://app.example.com"]}});
    let (status, got) = s.call("PUT", SET, Some(set.clone())).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["details"]["resourceOwner"], instance);
    let (status, got) = s.call("GET", "/v2/settings/security", None).await;
    assert_eq!((status, got), (200, json!({"settings": set})));
    assert_eq!(
        s.event_payloads("instance.policy.security.set").await,
        vec![json!({"enable_iframe_embedding": true, "allowedOrigins": ["https://app.example.com"]})]
    );

    // Full replacement: absent iframe settings turn embedding off.
    let (status, got) = s.call("PUT", SET, Some(json!({"enableImpersonation": true}))).await;
    assert_eq!(status, 200, "{got}");
    let (_, got) = s.call("GET", "/v2/settings/security", None).await;
    assert_eq!(
        got,
        json!({"settings": {"embeddedIframe": {}, "enableImpersonation": true}})
    );
}
