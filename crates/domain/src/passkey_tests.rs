//! Given/when/then tables for passkey registration and sign-in.

use super::*;
use crate::event::{AggregateRef, HumanAdded, StoredEvent};
use crate::login_policy::LoginPolicySettings;
use crate::readmodel::DocDetails;

const NOW: Timestamp = Timestamp(1_000_000_000);

fn given(payloads: Vec<E>) -> UserState {
    let mut events = vec![E::HumanAdded(Box::new(HumanAdded {
        user_name: "alice".into(),
        first_name: "A".into(),
        last_name: "L".into(),
        nick_name: String::new(),
        display_name: "A L".into(),
        preferred_language: String::new(),
        gender: 0,
        email: "a@example.com".into(),
        phone: String::new(),
        encoded_hash: None,
        change_required: false,
    }))];
    events.extend(payloads);
    let stored: Vec<StoredEvent> = events
        .into_iter()
        .enumerate()
        .map(|(i, payload)| StoredEvent {
            instance_id: "i".into(),
            aggregate: AggregateRef::user(&"u".into(), &"o".into()),
            sequence: i as u64 + 1,
            position: i as i64,
            created_at: Timestamp(0),
            creator: "c".into(),
            payload,
        })
        .collect();
    UserState::fold(&stored)
}

fn added(id: &str) -> E {
    E::PasskeyAdded(PasskeyAdded {
        token_id: id.into(),
        state: "st".into(),
        rp_id: "localhost".into(),
    })
}

fn verified(id: &str, count: u32) -> E {
    E::PasskeyVerified(PasskeyVerified {
        token_id: id.into(),
        key_id: format!("key-{id}"),
        credential: "{}".into(),
        sign_count: count,
        name: "phone".into(),
    })
}

fn code(id: &str, hash: &str, expiry: i64) -> E {
    E::PasskeyCodeRequested(PasskeyCodeRequested {
        id: id.into(),
        code_hash: hash.into(),
        expiry: Timestamp(expiry),
        code_returned: true,
    })
}

fn id_of<T: std::fmt::Debug>(r: Result<T, DomainError>) -> String {
    r.map(|v| format!("ok {v:?}")).unwrap_or_else(|e| e.id.into_owned())
}

#[test]
fn register_with_and_without_a_code() {
    let given_code = |id: &str, hash: &str| GivenCode {
        id: id.into(),
        code_hash: hash.into(),
    };
    let failed = |id: &str| {
        RegisterRefusal::Failed(
            vec![E::PasskeyCodeCheckFailed(PasskeyCodeId { id: id.into() })],
            code_invalid(),
        )
    };
    let valid = code("c1", "h1", NOW.0 + 1);
    type Case = (&'static str, Vec<E>, Option<GivenCode>, Result<Vec<E>, RegisterRefusal>);
    let cases: Vec<Case> = vec![
        ("no code", vec![], None, Ok(vec![added("t1")])),
        (
            "valid code",
            vec![valid.clone()],
            Some(given_code("c1", "h1")),
            Ok(vec![
                E::PasskeyCodeCheckSucceeded(PasskeyCodeId { id: "c1".into() }),
                added("t1"),
            ]),
        ),
        (
            "wrong code",
            vec![valid.clone()],
            Some(given_code("c1", "h2")),
            Err(failed("c1")),
        ),
        (
            "unknown code id",
            vec![valid.clone()],
            Some(given_code("c2", "h1")),
            Err(failed("c2")),
        ),
        (
            "expired code",
            vec![code("c1", "h1", NOW.0 - 1)],
            Some(given_code("c1", "h1")),
            Err(failed("c1")),
        ),
        (
            "used code",
            vec![valid, E::PasskeyCodeCheckSucceeded(PasskeyCodeId { id: "c1".into() })],
            Some(given_code("c1", "h1")),
            Err(failed("c1")),
        ),
    ];
    for (name, history, code_given, want) in cases {
        let got = decide_register(
            &given(history),
            "t1",
            "st".into(),
            "localhost",
            code_given.as_ref(),
            NOW,
        );
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn register_needs_a_human() {
    let gone = given(vec![E::UserRemoved(crate::event::UserRemoved {
        user_name: "alice".into(),
    })]);
    let got = decide_register(&gone, "t", "s".into(), "rp", None, NOW);
    assert!(matches!(got, Err(RegisterRefusal::Error(e)) if e.id == "COMMAND-Mv9sd"));
    let got = decide_register(&UserState::default(), "t", "s".into(), "rp", None, NOW);
    assert!(matches!(got, Err(RegisterRefusal::Error(e)) if e.id == "COMMAND-M9dsd"));
}

#[test]
fn verify_takes_the_first_pending_registration() {
    let key = |id: &str| RegisteredPasskey {
        key_id: id.into(),
        credential: "{}".into(),
        sign_count: 0,
        resident_key: None,
    };
    type Case = (
        &'static str,
        Vec<E>,
        Result<RegisteredPasskey, RegistrationRefused>,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        ("nothing pending", vec![], Ok(key("k")), "WEBAU-5M9so"),
        (
            "unparsable",
            vec![added("t1")],
            Err(RegistrationRefused::Unparsable("x".into())),
            "WEBAU-sEr8c",
        ),
        (
            "rejected",
            vec![added("t1")],
            Err(RegistrationRefused::Rejected("origin".into())),
            "WEBAU-3Vb9s",
        ),
        (
            "the client says the credential is not discoverable",
            vec![added("t1")],
            Ok(RegisteredPasskey {
                resident_key: Some(false),
                ..key("k")
            }),
            NOT_RESIDENT,
        ),
        (
            "same credential twice",
            vec![added("t0"), verified("t0", 0), added("t1")],
            Ok(key("key-t0")),
            "WEBAU-3Vb9s",
        ),
    ];
    for (name, history, checked, want) in cases {
        assert_eq!(id_of(decide_verify(&given(history), checked, "n")), want, "{name}");
    }
    let got = decide_verify(&given(vec![added("t1"), added("t2")]), Ok(key("k")), "n").unwrap();
    assert!(matches!(&got[..], [E::PasskeyVerified(v)] if v.token_id == "t1"));
    let resident = RegisteredPasskey {
        resident_key: Some(true),
        ..key("k")
    };
    assert!(decide_verify(&given(vec![added("t1")]), Ok(resident), "n").is_ok());
    let s = given(vec![
        added("t1"),
        E::PasskeyVerified(PasskeyVerified {
            token_id: "t1".into(),
            key_id: "k".into(),
            credential: "{}".into(),
            sign_count: 3,
            name: "n".into(),
        }),
    ]);
    assert_eq!(
        s.passkeys
            .ready()
            .map(|t| (t.id.as_str(), t.sign_count))
            .collect::<Vec<_>>(),
        vec![("t1", 3)]
    );
}

#[test]
fn remove_known_tokens_only() {
    let s = given(vec![added("t1")]);
    assert_eq!(
        decide_remove(&s, "t1").unwrap(),
        vec![E::PasskeyRemoved(PasskeyRemoved { token_id: "t1".into() })]
    );
    assert_eq!(id_of(decide_remove(&s, "t2")), "COMMAND-DAfb2");
    let removed = given(vec![
        added("t1"),
        E::PasskeyRemoved(PasskeyRemoved { token_id: "t1".into() }),
    ]);
    assert_eq!(id_of(decide_remove(&removed, "t1")), "COMMAND-DAfb2");
}

fn policy(multi: bool, passwordless_type: i32) -> LoginPolicyView {
    LoginPolicyView {
        details: DocDetails {
            resource_owner: "org1".into(),
            ..DocDetails::default()
        },
        settings: LoginPolicySettings {
            passwordless_type,
            ..LoginPolicySettings::instance_default()
        },
        second_factors: vec![],
        multi_factors: if multi {
            vec![MultiFactor::U2fWithVerification]
        } else {
            vec![]
        },
        is_default: false,
    }
}

#[test]
fn sign_in_with_a_passkey() {
    let ok = |count: u32, uv: bool| {
        PasskeyEvidence::Verified(PasskeyAssertion {
            token_id: "t1".into(),
            sign_count: count,
            credential: "{\"c\":1}".into(),
            user_verified: uv,
        })
    };
    let ready = |count: u32| vec![added("t1"), verified("t1", count)];
    let allowed = policy(true, PASSWORDLESS_ALLOWED);
    let cases: Vec<(&str, Vec<E>, LoginPolicyView, PasskeyEvidence, &str)> = vec![
        (
            "allowed, counter advances",
            ready(1),
            allowed.clone(),
            ok(2, true),
            "ok",
        ),
        (
            "counters not supported (both zero)",
            ready(0),
            allowed.clone(),
            ok(0, true),
            "ok",
        ),
        (
            "multi factor not in the policy",
            ready(1),
            policy(false, 1),
            ok(2, true),
            FACTOR_NOT_ALLOWED,
        ),
        (
            "passwordless not allowed",
            ready(1),
            policy(true, 0),
            ok(2, true),
            FACTOR_NOT_ALLOWED,
        ),
        ("counter equal", ready(5), allowed.clone(), ok(5, true), POSSIBLE_CLONE),
        (
            "counter backwards",
            ready(5),
            allowed.clone(),
            ok(4, true),
            POSSIBLE_CLONE,
        ),
        (
            "counter reset to zero",
            ready(5),
            allowed.clone(),
            ok(0, true),
            POSSIBLE_CLONE,
        ),
        (
            "relying party saw the regression",
            ready(5),
            allowed.clone(),
            PasskeyEvidence::CounterRegressed,
            POSSIBLE_CLONE,
        ),
        (
            "no user verification",
            ready(1),
            allowed.clone(),
            ok(2, false),
            "WEBAU-3M9si",
        ),
        (
            "refused assertion",
            ready(1),
            allowed.clone(),
            PasskeyEvidence::Refused("sig".into()),
            "WEBAU-ADgv4",
        ),
        (
            "pending passkey",
            vec![added("t1")],
            allowed.clone(),
            ok(2, true),
            "COMMAND-Aej7i",
        ),
        (
            "removed passkey",
            [
                ready(1),
                vec![E::PasskeyRemoved(PasskeyRemoved { token_id: "t1".into() })],
            ]
            .concat(),
            allowed.clone(),
            ok(2, true),
            "COMMAND-Aej7i",
        ),
    ];
    for (name, history, policy, evidence, want) in cases {
        let got = decide_check(&given(history), Some(&policy), &evidence);
        let got = match got {
            Ok(E::PasskeySignCountChanged(c)) => {
                assert_eq!(c.credential, "{\"c\":1}", "{name}");
                "ok".to_owned()
            }
            other => id_of(other),
        };
        assert_eq!(got, want, "{name}");
    }
    // The new counter is what the next check compares with.
    let s = given(
        [
            ready(1),
            vec![E::PasskeySignCountChanged(PasskeySignCount {
                token_id: "t1".into(),
                sign_count: 7,
                credential: "{}".into(),
            })],
        ]
        .concat(),
    );
    assert_eq!(id_of(decide_check(&s, Some(&allowed), &ok(7, true))), POSSIBLE_CLONE);
    assert!(decide_check(&s, Some(&allowed), &ok(8, true)).is_ok());
}

#[test]
fn challenges_of_each_family_follow_the_policy() {
    use crate::event::WebAuthnChallenged;
    use crate::factors::SecondFactor;
    use crate::session::SessionState;
    use crate::session::challenges::{
        ChallengeRequest, PASSKEY_USER_VERIFICATION, require_challenges, require_webauthn_check,
    };
    let us = given(vec![]);
    let with_u2f = |mut p: LoginPolicyView| {
        p.second_factors = vec![SecondFactor::U2f];
        p
    };
    let passkey = ChallengeRequest {
        webauthn: true,
        passkey: true,
        ..ChallengeRequest::default()
    };
    let security_key = ChallengeRequest {
        webauthn: true,
        ..ChallengeRequest::default()
    };
    let cases: Vec<(&str, ChallengeRequest, LoginPolicyView, usize, &str)> = vec![
        ("passkey allowed", passkey, policy(true, 1), 1, "ok"),
        ("passkey, no passkeys", passkey, policy(true, 1), 0, "WEBAU-4G8sw"),
        (
            "passkey not in the policy",
            passkey,
            with_u2f(policy(false, 1)),
            1,
            FACTOR_NOT_ALLOWED,
        ),
        (
            "passwordless not allowed",
            passkey,
            policy(true, 0),
            1,
            FACTOR_NOT_ALLOWED,
        ),
        (
            "security key without U2F",
            security_key,
            policy(true, 1),
            1,
            FACTOR_NOT_ALLOWED,
        ),
        (
            "security key with U2F",
            security_key,
            with_u2f(policy(false, 0)),
            1,
            "ok",
        ),
    ];
    for (name, req, p, keys, want) in cases {
        let got = match require_challenges(Some(&us), Some(&p), req, keys) {
            Ok(()) => "ok".to_owned(),
            Err(e) => e.id.into_owned(),
        };
        assert_eq!(got, want, "{name}");
    }
    // A check against a pending challenge is decided by the policy as it is now.
    let session = |uv: &str| SessionState {
        webauthn_challenge: Some(WebAuthnChallenged {
            state: "{}".into(),
            rp_id: "localhost".into(),
            user_verification: uv.into(),
            discoverable: false,
        }),
        ..SessionState::default()
    };
    let passkey_challenge = session(PASSKEY_USER_VERIFICATION);
    assert!(require_webauthn_check(&passkey_challenge, Some(&us), Some(&policy(true, 1))).is_ok());
    let refused = require_webauthn_check(&passkey_challenge, Some(&us), Some(&with_u2f(policy(false, 1))));
    assert_eq!(refused.map(|_| ()).unwrap_err().id, FACTOR_NOT_ALLOWED);
    let key_challenge = session("");
    let refused = require_webauthn_check(&key_challenge, Some(&us), Some(&policy(true, 1)));
    assert_eq!(refused.map(|_| ()).unwrap_err().id, FACTOR_NOT_ALLOWED);
    assert!(require_webauthn_check(&key_challenge, Some(&us), Some(&with_u2f(policy(false, 0)))).is_ok());
}

#[test]
fn a_discoverable_assertion_names_the_user_holding_the_passkey() {
    let holder = given(vec![added("t1"), verified("t1", 0)]);
    let pending = given(vec![added("t1")]);
    let removed = given(vec![
        added("t1"),
        verified("t1", 0),
        E::PasskeyRemoved(PasskeyRemoved { token_id: "t1".into() }),
    ]);
    let cases: Vec<(&str, Option<&UserState>, &str, bool, &str)> = vec![
        ("the holder, its user handle", Some(&holder), "key-t1", true, "ok ()"),
        ("no user has the credential", None, "key-t1", true, "WEBAU-ADgv4"),
        ("another user's handle", Some(&holder), "key-t1", false, "WEBAU-ADgv4"),
        (
            "not one of the user's passkeys",
            Some(&holder),
            "key-t2",
            true,
            "WEBAU-ADgv4",
        ),
        (
            "registration not finished",
            Some(&pending),
            "key-t1",
            true,
            "WEBAU-ADgv4",
        ),
        ("passkey removed", Some(&removed), "key-t1", true, "WEBAU-ADgv4"),
    ];
    for (name, owner, credential, handle_matches, want) in cases {
        assert_eq!(
            id_of(decide_identified(owner, credential, handle_matches)),
            want,
            "{name}"
        );
    }
}
