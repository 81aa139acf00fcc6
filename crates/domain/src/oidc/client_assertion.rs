//! `private_key_jwt` client authentication (RFC 7523 §3, OIDC Core §9): the
//! rules a client assertion's claims must meet once its signature has been
//! verified with one of the app's keys, and the single use of its `jti`.
//! Every refusal is `invalid_client`, whatever failed.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::token::{OAuthError, invalid_client};
use crate::event::{EventPayload as E, Timestamp};

/// The only signature algorithm accepted (the keys are RSA).
pub const ALG: &str = "RS256";
/// The longest an assertion may be valid from now on.
pub const MAX_LIFETIME_US: i64 = 3_600_000_000;
/// The longest `jti` (it names the aggregate that records its use).
const MAX_JTI_LEN: usize = 200;

const US_PER_SEC: i64 = 1_000_000;

/// The header and claims of an assertion as presented.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Assertion {
    pub alg: String,
    pub kid: String,
    pub iss: String,
    pub sub: String,
    pub aud: Vec<String>,
    /// Seconds since the epoch.
    pub exp: Option<i64>,
    pub iat: Option<i64>,
    pub nbf: Option<i64>,
    pub jti: String,
}

impl Assertion {
    /// Reads a JWS header and claims set; None when they are not objects of
    /// the expected member types.
    pub fn read(header: &Map<String, Value>, claims: &Map<String, Value>) -> Option<Self> {
        let text = |m: &Map<String, Value>, k: &str| -> Option<String> {
            match m.get(k) {
                None => Some(String::new()),
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => None,
            }
        };
        let number = |k: &str| -> Option<Option<i64>> {
            match claims.get(k) {
                None => Some(None),
                Some(v) => v.as_i64().map(Some),
            }
        };
        let aud = match claims.get("aud") {
            None => vec![],
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()?,
            Some(_) => return None,
        };
        Some(Self {
            alg: text(header, "alg")?,
            kid: text(header, "kid")?,
            iss: text(claims, "iss")?,
            sub: text(claims, "sub")?,
            aud,
            exp: number("exp")?,
            iat: number("iat")?,
            nbf: number("nbf")?,
            jti: text(claims, "jti")?,
        })
    }
}

/// What the assertion is checked against.
pub struct Expected<'a> {
    pub client_id: &'a str,
    /// The audiences that name this server: the issuer and the URL of the
    /// endpoint called.
    pub audiences: &'a [String],
    /// The expiry of the key that verified the signature.
    pub key_expires: Timestamp,
    /// The app's clock skew (µs) for `iat`, `nbf` and `exp`.
    pub skew_us: i64,
    pub now: Timestamp,
}

/// An accepted assertion: its `jti`, used once until `expires`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    pub jti: String,
    pub expires: Timestamp,
}

/// Checks the claims of an assertion whose signature verified.
pub fn check(a: &Assertion, e: &Expected<'_>) -> Result<Accepted, OAuthError> {
    let refuse = |why: &'static str| Err(invalid_client(why));
    let now = e.now.0;
    if a.alg != ALG {
        return refuse("client assertion: unsupported alg");
    }
    if e.key_expires.0 <= now {
        return refuse("client assertion: key expired");
    }
    if a.iss != e.client_id || a.sub != e.client_id {
        return refuse("client assertion: iss and sub must be the client_id");
    }
    if !a.aud.iter().any(|aud| e.audiences.contains(aud)) {
        return refuse("client assertion: aud must contain the issuer");
    }
    let Some(exp) = a.exp.and_then(|s| s.checked_mul(US_PER_SEC)) else {
        return refuse("client assertion: exp missing");
    };
    if exp.saturating_add(e.skew_us) <= now {
        return refuse("client assertion: expired");
    }
    if exp > now.saturating_add(MAX_LIFETIME_US).saturating_add(e.skew_us) {
        return refuse("client assertion: exp too far in the future");
    }
    let future = |t: Option<i64>| t.is_some_and(|s| s.saturating_mul(US_PER_SEC) > now.saturating_add(e.skew_us));
    if future(a.iat) || future(a.nbf) {
        return refuse("client assertion: not yet valid");
    }
    if a.jti.is_empty() || a.jti.len() > MAX_JTI_LEN {
        return refuse("client assertion: jti missing");
    }
    Ok(Accepted {
        jti: a.jti.clone(),
        expires: Timestamp(exp),
    })
}

/// `client_assertion.used`: a `jti` of a client was used (aggregate
/// `client_assertion`, id `<client_id>:<jti>`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssertionUsed {
    pub expires_at: Timestamp,
}

/// The use of an accepted assertion; refused when its `jti` was used
/// before (`used_before`: the aggregate has events).
pub fn decide_use(used_before: bool, accepted: &Accepted) -> Result<Vec<E>, OAuthError> {
    if used_before {
        return Err(invalid_client("client assertion: jti already used"));
    }
    Ok(vec![E::ClientAssertionUsed(AssertionUsed {
        expires_at: accepted.expires,
    })])
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const NOW: i64 = 1_000_000;

    fn valid() -> Assertion {
        Assertion {
            alg: "RS256".into(),
            kid: "k1".into(),
            iss: "c1".into(),
            sub: "c1".into(),
            aud: vec!["https://id.example".into()],
            exp: Some(NOW + 60),
            iat: Some(NOW),
            nbf: None,
            jti: "j1".into(),
        }
    }

    fn run(a: Assertion, key_expires: i64) -> Result<Accepted, String> {
        let audiences = [
            "https://id.example".to_owned(),
            "https://id.example/oauth/v2/token".to_owned(),
        ];
        check(
            &a,
            &Expected {
                client_id: "c1",
                audiences: &audiences,
                key_expires: Timestamp(key_expires * US_PER_SEC),
                skew_us: 2 * US_PER_SEC,
                now: Timestamp(NOW * US_PER_SEC),
            },
        )
        .map_err(|e| e.description.into_owned())
    }

    #[test]
    fn claims_are_checked() {
        let with = |f: fn(&mut Assertion)| {
            let mut a = valid();
            f(&mut a);
            a
        };
        // (given claims, key expiry, then: Ok or the refusal)
        let cases: Vec<(Assertion, i64, Result<(), &str>)> = vec![
            (valid(), NOW + 1, Ok(())),
            (
                with(|a| a.aud = vec!["x".into(), "https://id.example/oauth/v2/token".into()]),
                NOW + 1,
                Ok(()),
            ),
            (with(|a| a.iat = Some(NOW + 2)), NOW + 1, Ok(())),
            (with(|a| a.exp = Some(NOW - 1)), NOW + 1, Ok(())),
            (with(|a| a.exp = Some(NOW + 3602)), NOW + 1, Ok(())),
            (valid(), NOW, Err("client assertion: key expired")),
            (
                with(|a| a.alg = "HS256".into()),
                NOW + 1,
                Err("client assertion: unsupported alg"),
            ),
            (
                with(|a| a.iss = "c2".into()),
                NOW + 1,
                Err("client assertion: iss and sub must be the client_id"),
            ),
            (
                with(|a| a.sub = String::new()),
                NOW + 1,
                Err("client assertion: iss and sub must be the client_id"),
            ),
            (
                with(|a| a.aud = vec!["https://other.example".into()]),
                NOW + 1,
                Err("client assertion: aud must contain the issuer"),
            ),
            (
                with(|a| a.aud = vec![]),
                NOW + 1,
                Err("client assertion: aud must contain the issuer"),
            ),
            (with(|a| a.exp = None), NOW + 1, Err("client assertion: exp missing")),
            (
                with(|a| a.exp = Some(NOW - 2)),
                NOW + 1,
                Err("client assertion: expired"),
            ),
            (
                with(|a| a.exp = Some(NOW + 3603)),
                NOW + 1,
                Err("client assertion: exp too far in the future"),
            ),
            (
                with(|a| a.iat = Some(NOW + 3)),
                NOW + 1,
                Err("client assertion: not yet valid"),
            ),
            (
                with(|a| a.nbf = Some(NOW + 3)),
                NOW + 1,
                Err("client assertion: not yet valid"),
            ),
            (
                with(|a| a.jti = String::new()),
                NOW + 1,
                Err("client assertion: jti missing"),
            ),
            (
                with(|a| a.jti = "j".repeat(201)),
                NOW + 1,
                Err("client assertion: jti missing"),
            ),
        ];
        for (given, key_expires, then) in cases {
            let got = run(given.clone(), key_expires).map(|_| ());
            assert_eq!(got, then.map_err(str::to_owned), "{given:?}");
        }
        assert_eq!(
            run(valid(), NOW + 1),
            Ok(Accepted {
                jti: "j1".into(),
                expires: Timestamp((NOW + 60) * US_PER_SEC)
            })
        );
    }

    #[test]
    fn claims_are_read_with_their_types() {
        let header = json!({"alg": "RS256", "kid": "k1"});
        let claims =
            json!({"iss": "c1", "sub": "c1", "aud": "https://id.example", "exp": NOW + 60, "iat": NOW, "jti": "j1"});
        let read = |h: &Value, c: &Value| Assertion::read(h.as_object().unwrap(), c.as_object().unwrap());
        assert_eq!(read(&header, &claims), Some(valid()));
        assert_eq!(
            read(&header, &json!({"aud": ["a", "b"]})).map(|a| a.aud),
            Some(vec!["a".to_owned(), "b".to_owned()])
        );
        assert_eq!(read(&header, &json!({"aud": [1]})), None);
        assert_eq!(read(&header, &json!({"exp": "soon"})), None);
        assert_eq!(read(&json!({"alg": 1}), &claims), None);
    }

    #[test]
    fn a_jti_is_used_once() {
        let accepted = Accepted {
            jti: "j1".into(),
            expires: Timestamp(5),
        };
        let events = decide_use(false, &accepted).unwrap();
        let (ty, payload) = events[0].to_parts();
        assert_eq!(
            (ty.as_str(), payload),
            ("client_assertion.used", Some(json!({"expiresAt": 5})))
        );
        assert_eq!(
            decide_use(true, &accepted).map_err(|e| e.description.into_owned()),
            Err("client assertion: jti already used".into())
        );
    }
}
