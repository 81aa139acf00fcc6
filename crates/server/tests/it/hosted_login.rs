//! SettingsService hosted login translations: the built-in English one,
//! documents stored per instance / org and locale, merged on read.

use serde_json::{Value, json};

use crate::harness::{Backend, Server, backend_tests, rest_error};

backend_tests!(hosted_login_translations);

const PATH: &str = "/v2/settings/hosted_login_translation";

async fn get(s: &Server, query: &str) -> (u16, Value) {
    s.call("GET", &format!("{PATH}?{query}"), None).await
}

async fn set(s: &Server, body: Value) -> (u16, Value) {
    s.call("PUT", PATH, Some(body)).await
}

fn md5_hex(v: &Value) -> String {
    twofold_domain::hosted_login::etag(v)
}

async fn hosted_login_translations(b: Backend) {
    let s = Server::start(b).await;
    let org = s.create_org("Bank").await;
    let system = twofold_domain::hosted_login::system();
    let system_etag = md5_hex(&system);

    // Nothing stored: the built-in translation at every level, for any language.
    for query in [
        "locale=en&system=true",
        "locale=en&instance=true",
        "locale=de-CH&instance=true",
        &format!("locale=fr&organizationId={org}"),
    ] {
        let got = get(&s, query).await;
        assert_eq!(
            got,
            (200, json!({"etag": system_etag, "translations": system})),
            "{query}"
        );
    }
    let got = get(&s, "locale=en&instance=true&ignoreInheritance=true").await;
    assert_eq!(got, (200, json!({"etag": system_etag, "translations": {}})));

    // Stored for the instance (German) and for the org (Swiss German).
    let instance_doc = json!({"loginname": {"title": "Willkommen zurück!"}, "extra": {"a": 1}});
    let (status, got) = set(
        &s,
        json!({"instance": true, "locale": "de", "translations": instance_doc}),
    )
    .await;
    assert_eq!((status, got), (200, json!({"etag": md5_hex(&instance_doc)})));
    let org_doc = json!({"loginname": {"description": "Grüezi"}});
    let (status, got) = set(
        &s,
        json!({"organizationId": org, "locale": "de-ch", "translations": org_doc}),
    )
    .await;
    assert_eq!((status, got), (200, json!({"etag": md5_hex(&org_doc)})));
    assert_eq!(s.count_events("instance.hosted_login_translation.set").await, 1);
    assert_eq!(s.count_events("org.hosted_login_translation.set").await, 1);

    let mut de = system.clone();
    twofold_domain::hosted_login::merge(&mut de, &instance_doc);
    // The locale's language stands in for it; the built-in one is merged under.
    let got = get(&s, "locale=de-AT&instance=true").await;
    assert_eq!(got, (200, json!({"etag": md5_hex(&instance_doc), "translations": de})));
    assert_eq!(de["loginname"]["title"], "Willkommen zurück!");
    assert_eq!(de["loginname"]["register"], "Register new user");
    let mut de_ch = de.clone();
    twofold_domain::hosted_login::merge(&mut de_ch, &org_doc);
    let got = get(&s, &format!("locale=de-CH&organizationId={org}")).await;
    assert_eq!(got, (200, json!({"etag": md5_hex(&org_doc), "translations": de_ch})));
    let got = get(&s, &format!("locale=de-CH&organizationId={org}&ignoreInheritance=true")).await;
    assert_eq!(got, (200, json!({"etag": md5_hex(&org_doc), "translations": org_doc})));
    // An org without a document of its own inherits the instance's etag.
    let got = get(&s, &format!("locale=de&organizationId={org}")).await;
    assert_eq!(got, (200, json!({"etag": md5_hex(&instance_doc), "translations": de})));
    // The system level ignores everything stored.
    let got = get(&s, "locale=de&system=true").await;
    assert_eq!(got, (200, json!({"etag": system_etag, "translations": system})));

    // Set replaces the whole document.
    let replaced = json!({"extra": {"b": 2}});
    let (status, _) = set(&s, json!({"instance": true, "locale": "de", "translations": replaced})).await;
    assert_eq!(status, 200);
    let got = get(&s, "locale=de&instance=true&ignoreInheritance=true").await;
    assert_eq!(
        got,
        (200, json!({"etag": md5_hex(&replaced), "translations": replaced}))
    );

    // Refusals, nothing stored.
    let invalid = |m: &str| json!({"code": 3, "message": m});
    let gets = [
        (
            "locale=en",
            rest_error(3, "QUERY-YB6Sri", "Errors.Arguments.Level.Invalid"),
        ),
        (
            "locale=en_US&instance=true",
            rest_error(3, "QUERY-rZLAGi", "Errors.Arguments.Locale.Invalid"),
        ),
        (
            "locale=e&instance=true",
            invalid("invalid GetHostedLoginTranslationRequest.Locale: value length must be at least 2 runes"),
        ),
        (
            "locale=en&instance=false",
            invalid("invalid GetHostedLoginTranslationRequest.Instance: value must equal true"),
        ),
    ];
    for (query, expected) in gets {
        assert_eq!(get(&s, query).await, (400, expected), "{query}");
    }
    let before = s.count_events("instance.hosted_login_translation.set").await;
    let sets = [
        (
            json!({"locale": "en", "translations": {}}),
            400,
            rest_error(3, "COMMA-YB6Sri", "Errors.Arguments.Level.Invalid"),
        ),
        (
            json!({"instance": true, "locale": "not a locale", "translations": {}}),
            400,
            rest_error(3, "COMMA-xmjATA", "Errors.Arguments.Locale.Invalid"),
        ),
        (
            json!({"organizationId": "404404", "locale": "en", "translations": {}}),
            404,
            rest_error(5, "QUERY-leq5Q", "Organisation not found"),
        ),
    ];
    for (body, status, expected) in sets {
        assert_eq!(set(&s, body.clone()).await, (status, expected), "{body}");
    }
    assert_eq!(s.count_events("instance.hosted_login_translation.set").await, before);

    // Instance policy permissions: an org owner may neither read nor set;
    // the login client may read only.
    let my_org = s.my_org_id().await;
    let owner = s.actor(&my_org, "owner", &["ORG_OWNER"], &[]).await;
    let client = s.actor(&my_org, "login-client", &[], &["IAM_LOGIN_CLIENT"]).await;
    let denied = (403, rest_error(7, "AUTH-5mWD2", "No matching permissions found"));
    let query = format!("{PATH}?locale=en&instance=true");
    assert_eq!(s.call_as(&owner, None, "GET", &query, None).await, denied);
    let (status, got) = s.call_as(&client, None, "GET", &query, None).await;
    assert_eq!((status, &got["etag"]), (200, &json!(system_etag)), "{got}");
    let body = json!({"instance": true, "locale": "en", "translations": {}});
    assert_eq!(s.call_as(&client, None, "PUT", PATH, Some(body)).await, denied);
}
