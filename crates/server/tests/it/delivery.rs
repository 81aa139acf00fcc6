//! One-time passwords delivered through real SMTP and HTTP conversations.

use hmac::{Hmac, Mac};
use serde_json::{Value, json};

use crate::fixtures::PASSWORD;
use crate::harness::{Backend, Server, backend_tests, rest_error};
use crate::sinks::{http_sink, smtp_sink};

backend_tests!(otp_by_email_and_sms_providers);

fn code_in(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 8)
        .expect("an 8-digit code")
        .to_owned()
}

async fn otp_by_email_and_sms_providers(b: Backend) {
    let s = Server::start(b).await;
    let (smtp, mails) = smtp_sink().await;
    let (http, posts) = http_sink().await;

    let (status, got) = s
        .call(
            "POST",
            "/admin/v1/email/smtp",
            Some(json!({"senderAddress": "noreply@twofold.test", "senderName": "Twofold", "host": smtp.to_string()})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    let email_id = got["id"].as_str().unwrap().to_owned();
    let activate = format!("/admin/v1/email/{email_id}/_activate");
    assert_eq!(s.call("POST", &activate, Some(json!({}))).await.0, 200);
    let (status, got) = s.call("POST", &activate, Some(json!({}))).await;
    assert_eq!(
        (status, got),
        (
            400,
            rest_error(9, "COMMAND-vUHBSmBzaw", "Errors.SMTPConfig.AlreadyActive")
        )
    );
    let (status, got) = s
        .call(
            "POST",
            "/admin/v1/smtp",
            Some(json!({"senderAddress": "a@b.c", "senderName": "x", "host": "no-port"})),
        )
        .await;
    assert_eq!(
        (status, got),
        (400, rest_error(3, "COMMAND-EvAtufIinh", "Errors.Invalid.Argument"))
    );

    let (status, got) = s
        .call(
            "POST",
            "/admin/v1/sms/http",
            Some(json!({"endpoint": format!("http://{http}/sms"), "description": "test"})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    let sms_id = got["id"].as_str().unwrap().to_owned();
    let signing_key = got["signingKey"].as_str().unwrap().to_owned();
    assert_eq!(signing_key.len(), 36);
    assert_eq!(
        s.call("POST", &format!("/admin/v1/sms/{sms_id}/_activate"), Some(json!({})))
            .await
            .0,
        200
    );

    for t in [3, 4] {
        s.call(
            "POST",
            "/admin/v1/policies/login/second_factors",
            Some(json!({"type": t})),
        )
        .await;
    }
    let (_, got) = s
        .call(
            "POST",
            "/v2/users/human",
            Some(json!({
                "username": "paula",
                "profile": {"givenName": "Paula", "familyName": "P"},
                "email": {"email": "paula@example.com", "isVerified": true},
                "phone": {"phone": "+41790000042", "isVerified": true},
                "password": {"password": PASSWORD},
            })),
        )
        .await;
    let user = got["userId"].as_str().unwrap().to_owned();
    s.call("POST", &format!("/v2/users/{user}/otp_email"), Some(json!({})))
        .await;
    s.call("POST", &format!("/v2/users/{user}/otp_sms"), Some(json!({})))
        .await;
    let (status, got) = s
        .call(
            "POST",
            "/v2/sessions",
            Some(json!({"checks": {"user": {"loginName": "paula"}, "password": {"password": PASSWORD}}})),
        )
        .await;
    assert_eq!(status, 201, "{got}");
    let id = got["sessionId"].as_str().unwrap().to_owned();
    let path = format!("/v2/sessions/{id}");
    let patch = |body: Value| s.call("PATCH", &path, Some(body));

    // Email: sent by SMTP, not returned.
    let (status, got) = patch(json!({"challenges": {"otpEmail": {"sendCode": {}}}})).await;
    assert_eq!(status, 200, "{got}");
    assert!(got.get("challenges").is_none(), "the code is not returned: {got}");
    let (envelope, mail) = mails.wait_for(1).await;
    assert!(envelope.contains("paula@example.com"), "{envelope}");
    assert!(mail.contains("Subject: Verify One-Time Password"), "{mail}");
    assert!(mail.contains("Hello Paula P,"), "{mail}");
    let body = mail.split_once("\n\n").map_or(mail.as_str(), |(_, b)| b);
    let code = code_in(body);
    let (status, got) = patch(json!({"checks": {"otpEmail": {"code": "12345678"}}})).await;
    assert_eq!((status, got["details"][0]["id"].clone()), (400, json!("CODE-woT0xc")));
    let (status, got) = patch(json!({"checks": {"otpEmail": {"code": code}}})).await;
    assert_eq!(status, 200, "{got}");
    let (status, _) = patch(json!({"checks": {"otpEmail": {"code": code}}})).await;
    assert_eq!(status, 400, "used once");

    // SMS: posted to the HTTP provider, signed with its key.
    let (status, _) = patch(json!({"challenges": {"otpSms": {}}})).await;
    assert_eq!(status, 200);
    let (head, body) = posts.wait_for(1).await;
    let signature = head
        .lines()
        .find_map(|l| {
            l.strip_prefix("zitadel-signature:")
                .or_else(|| l.strip_prefix("ZITADEL-Signature:"))
        })
        .expect("signature header")
        .trim()
        .to_owned();
    let (t, v1) = signature.split_once(',').unwrap();
    let (t, v1) = (t.strip_prefix("t=").unwrap(), v1.strip_prefix("v1=").unwrap());
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(signing_key.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    assert_eq!(hex::encode(mac.finalize().into_bytes()), v1, "the signature verifies");
    let payload: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(payload["contextInfo"]["recipientPhoneNumber"], "+41790000042");
    let code = payload["args"]["oTP"].as_str().unwrap().to_owned();
    assert!(
        payload["templateData"]["text"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{code} is your one-time password"))
    );
    let (status, got) = patch(json!({"checks": {"otpSms": {"code": code}}})).await;
    assert_eq!(status, 200, "{got}");

    // Deliveries are recorded on the session.
    for _ in 0..50 {
        if s.count_events("session.otp.sms.sent").await == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(s.count_events("session.otp.email.sent").await, 1);
    assert_eq!(s.count_events("session.otp.sms.sent").await, 1);
    let stored = s.stored_text().await;
    assert!(!stored.contains(&signing_key), "the signing key is stored sealed");

    // Verification codes for a new email address and phone number are sent too.
    let (status, got) = s
        .call(
            "POST",
            "/v2/users/human",
            Some(json!({
                "username": "vera",
                "profile": {"givenName": "Vera", "familyName": "V"},
                "email": {"email": "vera@example.com", "sendCode": {}},
                "phone": {"phone": "+41790000043", "sendCode": {}},
            })),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert!(
        got.get("emailCode").is_none() && got.get("phoneCode").is_none(),
        "sent, not returned: {got}"
    );
    let vera = got["userId"].as_str().unwrap().to_owned();
    let (_, mail) = mails.wait_for(2).await;
    assert!(
        mail.contains("Subject: Verify email") && mail.contains("Hello Vera V,"),
        "{mail}"
    );
    let body = mail.split_once("\n\n").map_or(mail.as_str(), |(_, b)| b);
    let code = body
        .split(|c: char| !c.is_ascii_alphanumeric())
        .find(|w| w.len() == 6 && w.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()))
        .expect("a 6-character code")
        .to_owned();
    let (status, got) = s
        .call(
            "POST",
            &format!("/v2/users/{vera}/email/verify"),
            Some(json!({"verificationCode": code})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    let (_, sms) = posts.wait_for(2).await;
    let sms: Value = serde_json::from_str(&sms).unwrap();
    assert_eq!(sms["contextInfo"]["recipientPhoneNumber"], "+41790000043");
    let code = sms["args"]["oTP"].as_str().unwrap().to_owned();
    let (status, _) = s
        .call(
            "POST",
            &format!("/v2/users/{vera}/phone/verify"),
            Some(json!({"verificationCode": code})),
        )
        .await;
    assert_eq!(status, 200);
    for _ in 0..50 {
        if s.count_events("user.human.phone.code.sent").await == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(s.count_events("user.human.email.code.sent").await, 1);
    assert_eq!(s.count_events("user.human.phone.code.sent").await, 1);
    // Each message is counted once, by channel and outcome.
    let metrics = reqwest::get(s.url("/debug/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for channel in ["email", "sms"] {
        let series = format!("twofold_deliveries_total{{channel=\"{channel}\",outcome=\"sent\"}} 2");
        assert!(metrics.lines().any(|l| l == series), "{series} in\n{metrics}");
    }
}
