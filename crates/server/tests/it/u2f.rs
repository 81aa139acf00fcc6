//! U2F security keys, registered with a software authenticator.

use serde_json::{Value, json};
use webauthn_authenticator_rs::prelude::{CreationChallengeResponse, Url, WebauthnAuthenticator};
use webauthn_authenticator_rs::softtoken::SoftToken;

use crate::harness::{Backend, Server, backend_tests, rest_error};

backend_tests!(u2f_register_verify_list_remove);

async fn start(s: &Server, user: &str) -> (String, Value) {
    let (status, got) = s
        .call(
            "POST",
            &format!("/v2/users/{user}/u2f"),
            Some(json!({"domain": "localhost"})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    (
        got["u2fId"].as_str().unwrap().to_owned(),
        got["publicKeyCredentialCreationOptions"].clone(),
    )
}

/// The software key's answer to the server's creation options.
fn answer(token: &mut SoftToken, s: &Server, options: &Value) -> Value {
    let ccr: CreationChallengeResponse = serde_json::from_value(options.clone()).unwrap();
    let origin = Url::parse(&format!("http://localhost:{}", s.addr.port())).unwrap();
    let cred = token.do_registration(origin, ccr).expect("the soft token registers");
    serde_json::to_value(cred).unwrap()
}

async fn u2f_register_verify_list_remove(b: Backend) {
    let s = Server::start(b).await;
    let user = s.create_human(None, "keyholder").await;
    let (mut token, _) = SoftToken::new(true).unwrap();

    let (id, options) = start(&s, &user).await;
    let pk = &options["publicKey"];
    assert_eq!(pk["rp"]["id"], "localhost");
    assert_eq!(pk["attestation"], "none");
    assert!(pk["challenge"].is_string());
    let cred = answer(&mut token, &s, &options);

    let verify = format!("/v2/users/{user}/u2f/{id}");
    let (status, got) = s
        .call(
            "POST",
            &verify,
            Some(json!({"publicKeyCredential": cred, "tokenName": "my key"})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    let (_, list) = s
        .call(
            "POST",
            &format!("/management/v1/users/{user}/auth_factors/_search"),
            None,
        )
        .await;
    assert_eq!(
        list,
        json!({"result": [{"state": "AUTH_FACTOR_STATE_READY", "u2f": {"id": id, "name": "my key"}}]})
    );
    let (_, got) = s
        .call("GET", &format!("/v2/users/{user}/authentication_methods"), None)
        .await;
    assert_eq!(
        got["authMethodTypes"],
        json!(["AUTHENTICATION_METHOD_TYPE_U2F", "AUTHENTICATION_METHOD_TYPE_PASSWORD"])
    );

    // A second registration excludes the key already registered.
    let (id2, options) = start(&s, &user).await;
    assert_eq!(
        options["publicKey"]["excludeCredentials"].as_array().map(Vec::len),
        Some(1)
    );

    // Tampered or malformed answers: 400 with a clear message, nothing stored.
    let (mut other, _) = SoftToken::new(true).unwrap();
    let mut tampered = answer(&mut other, &s, &options);
    tampered["response"]["clientDataJSON"] = json!("eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIn0");
    let verify2 = format!("/v2/users/{user}/u2f/{id2}");
    for bad in [tampered, json!({"id": "nonsense"})] {
        let (status, got) = s
            .call(
                "POST",
                &verify2,
                Some(json!({"publicKeyCredential": bad, "tokenName": "evil"})),
            )
            .await;
        assert_eq!(status, 400, "{got}");
        assert_eq!(got["details"][0]["id"], "WEBAU-sEr8c");
        assert!(
            got["message"]
                .as_str()
                .unwrap()
                .starts_with("The security key's response was refused"),
            "{got}"
        );
    }
    assert_eq!(s.count_events("user.human.mfa.u2f.token.verified").await, 1);

    let remove = format!("/management/v1/users/{user}/auth_factors/u2f/{id}");
    let (status, got) = s.call("DELETE", &remove, None).await;
    assert_eq!(status, 200, "{got}");
    let (status, got) = s.call("DELETE", &remove, None).await;
    assert_eq!(
        (status, got),
        (404, rest_error(5, "COMMAND-DAfb2", "WebAuthN Token could not be found"))
    );
    let (_, list) = s
        .call(
            "POST",
            &format!("/management/v1/users/{user}/auth_factors/_search"),
            None,
        )
        .await;
    assert_eq!(list, json!({}));
}
