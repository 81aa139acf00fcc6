//! The claims of ID tokens, JWT access tokens and userinfo (spec §28.4,
//! §28.5). Times are seconds since the epoch.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::session::{ACCESS_TOKEN_US, ID_TOKEN_US, OidcSessionAdded};
use crate::event::Timestamp;
use crate::readmodel::directory::{OrgView, UserKind, UserView};

pub const RESOURCE_OWNER_SCOPE: &str = "urn:zitadel:iam:user:resourceowner";
const RESOURCE_OWNER_ID: &str = "urn:zitadel:iam:user:resourceowner:id";
const RESOURCE_OWNER_NAME: &str = "urn:zitadel:iam:user:resourceowner:name";
const RESOURCE_OWNER_PRIMARY_DOMAIN: &str = "urn:zitadel:iam:user:resourceowner:primary_domain";

fn secs(t: Timestamp) -> i64 {
    t.0.div_euclid(1_000_000)
}

fn has(scopes: &[String], s: &str) -> bool {
    scopes.iter().any(|x| x == s)
}

/// The user's claims the scopes ask for (userinfo, and the ID token of
/// apps with `id_token_userinfo_assertion`); `sub` always. Serialised
/// straight to the answer (userinfo) or into a token's claims
/// ([`user_claims`]).
pub struct UserClaims<'a> {
    pub user: &'a UserView,
    /// The user's org: read only when [`needs_org`].
    pub org: Option<&'a OrgView>,
    pub scopes: &'a [String],
}

/// The org whose claims `scopes` ask for is pinned by a scope
/// (`urn:zitadel:iam:org:id:{id}`).
fn pinned_org(scopes: &[String]) -> Option<&str> {
    scopes.iter().find_map(|s| s.strip_prefix(super::scopes::ORG_ID_PREFIX))
}

/// Whether the claims of `scopes` include the user's org.
pub fn needs_org(scopes: &[String]) -> bool {
    pinned_org(scopes).is_some() || has(scopes, RESOURCE_OWNER_SCOPE)
}

impl Serialize for UserClaims<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (user, scopes) = (self.user, self.scopes);
        let mut c = s.serialize_map(None)?;
        c.serialize_entry("sub", user.id.as_str())?;
        if has(scopes, "profile") {
            match &user.kind {
                UserKind::Human(h) => {
                    c.serialize_entry("name", &h.display_name)?;
                    c.serialize_entry("given_name", &h.given_name)?;
                    c.serialize_entry("family_name", &h.family_name)?;
                    if !h.nick_name.is_empty() {
                        c.serialize_entry("nickname", &h.nick_name)?;
                    }
                    if !h.preferred_language.is_empty() {
                        c.serialize_entry("locale", &h.preferred_language)?;
                    }
                    if let Some(g) = gender(h.gender) {
                        c.serialize_entry("gender", g)?;
                    }
                }
                UserKind::Machine { name, .. } => c.serialize_entry("name", name)?,
            }
            c.serialize_entry("updated_at", &secs(user.details.change_date))?;
            c.serialize_entry("preferred_username", &user.user_name)?;
        }
        if let Some(h) = user.human() {
            if has(scopes, "email") && !h.email.is_empty() {
                c.serialize_entry("email", &h.email)?;
                c.serialize_entry("email_verified", &h.email_verified)?;
            }
            if has(scopes, "phone") && !h.phone.is_empty() {
                c.serialize_entry("phone_number", &h.phone)?;
                c.serialize_entry("phone_number_verified", &h.phone_verified)?;
            }
        }
        let pinned = pinned_org(scopes);
        if let Some(id) = pinned {
            c.serialize_entry("urn:zitadel:iam:org:id", id)?;
        }
        if let Some(org) = self.org.filter(|_| needs_org(scopes)) {
            c.serialize_entry(RESOURCE_OWNER_ID, org.id.as_str())?;
            c.serialize_entry(RESOURCE_OWNER_NAME, &org.name)?;
            c.serialize_entry(RESOURCE_OWNER_PRIMARY_DOMAIN, &org.primary_domain)?;
        }
        c.end()
    }
}

/// [`UserClaims`] as a map, to merge into a token's claims.
pub fn user_claims(user: &UserView, org: Option<&OrgView>, scopes: &[String]) -> Map<String, Value> {
    match serde_json::to_value(UserClaims { user, org, scopes }) {
        Ok(Value::Object(m)) => m,
        // Unreachable: a map of strings, numbers and booleans.
        _ => Map::new(),
    }
}

fn gender(n: i32) -> Option<&'static str> {
    match n {
        1 => Some("female"),
        2 => Some("male"),
        3 => Some("diverse"),
        _ => None,
    }
}

/// The audience of a grant's tokens: what was requested, with the client.
pub fn audience(grant: &OidcSessionAdded) -> Vec<String> {
    let mut aud = grant.audience.clone();
    if !aud.contains(&grant.client_id) {
        aud.push(grant.client_id.clone());
    }
    aud
}

/// `at_hash` (Core §3.1.3.6, for SHA-256 algorithms): the left half of the
/// access token's hash.
pub fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.get(..16).unwrap_or_default())
}

/// `acr` of a sign-in that verified two or more factors (`amr` has `mfa`).
pub const ACR_MULTI_FACTOR: &str = "urn:twofold:acr:multi-factor";
/// `acr` of a sign-in with one factor.
pub const ACR_SINGLE_FACTOR: &str = "urn:twofold:acr:single-factor";

/// The `acr` of a grant: whether its sign-in satisfied MFA.
pub fn acr(amr: &[String]) -> &'static str {
    if amr.iter().any(|m| m == "mfa") {
        ACR_MULTI_FACTOR
    } else {
        ACR_SINGLE_FACTOR
    }
}

/// What an ID token is made of.
pub struct IdToken<'a> {
    pub issuer: &'a str,
    pub grant: &'a OidcSessionAdded,
    /// The grant's id (`sid`).
    pub sid: &'a str,
    pub access_token: Option<&'a str>,
    /// The user's claims when the app asserts them in the ID token.
    pub user: Option<Map<String, Value>>,
    pub now: Timestamp,
}

pub fn id_token(t: IdToken<'_>) -> Map<String, Value> {
    let g = t.grant;
    let mut c = Map::new();
    c.insert("iss".into(), json!(t.issuer));
    c.insert("sub".into(), json!(g.user_id));
    c.insert("aud".into(), json!(audience(g)));
    c.insert("exp".into(), json!(secs(Timestamp(t.now.0 + ID_TOKEN_US))));
    c.insert("iat".into(), json!(secs(t.now)));
    c.insert("auth_time".into(), json!(secs(g.auth_time)));
    if !g.nonce.is_empty() {
        c.insert("nonce".into(), json!(g.nonce));
    }
    if !g.amr.is_empty() {
        c.insert("amr".into(), json!(g.amr));
    }
    c.insert("acr".into(), json!(acr(&g.amr)));
    c.insert("azp".into(), json!(g.client_id));
    c.insert("client_id".into(), json!(g.client_id));
    if let Some(at) = t.access_token {
        c.insert("at_hash".into(), json!(at_hash(at)));
    }
    c.insert("sid".into(), json!(t.sid));
    for (k, v) in t.user.into_iter().flatten() {
        c.entry(k).or_insert(v);
    }
    c
}

/// The claims of a JWT access token (RFC 9068 shape; `jti` is the token
/// id and `sid` its grant, so it can be revoked).
pub fn jwt_access_token(
    issuer: &str,
    grant: &OidcSessionAdded,
    sid: &str,
    jti: &str,
    now: Timestamp,
) -> Map<String, Value> {
    let mut c = Map::new();
    c.insert("iss".into(), json!(issuer));
    c.insert("sub".into(), json!(grant.user_id));
    c.insert("aud".into(), json!(audience(grant)));
    c.insert("exp".into(), json!(secs(Timestamp(now.0 + ACCESS_TOKEN_US))));
    c.insert("iat".into(), json!(secs(now)));
    c.insert("nbf".into(), json!(secs(now)));
    c.insert("client_id".into(), json!(grant.client_id));
    c.insert("jti".into(), json!(jti));
    c.insert("sid".into(), json!(sid));
    if !grant.scope.is_empty() {
        c.insert("scope".into(), json!(grant.scope.join(" ")));
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::readmodel::DocDetails;
    use crate::readmodel::directory::{HumanView, OrgState, UserState};

    fn user() -> UserView {
        UserView {
            id: "u1".into(),
            org_id: "o1".into(),
            user_name: "ada".into(),
            state: UserState::Active,
            kind: UserKind::Human(Box::new(HumanView {
                given_name: "Ada".into(),
                family_name: "Lovelace".into(),
                display_name: "Ada L".into(),
                email: "ada@example.com".into(),
                email_verified: true,
                ..HumanView::default()
            })),
            factors: Default::default(),
            details: DocDetails {
                change_date: Timestamp(7_000_000),
                ..DocDetails::default()
            },
        }
    }

    fn org() -> OrgView {
        OrgView {
            id: "o1".into(),
            name: "Bank".into(),
            state: OrgState::Active,
            primary_domain: "bank.localhost".into(),
            details: DocDetails::default(),
        }
    }

    fn scopes(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_owned).collect()
    }

    #[test]
    fn user_claims_follow_the_scopes() {
        let u = user();
        let o = org();
        // given scopes; then the claim keys
        let cases = [
            ("openid", vec!["sub"]),
            (
                "openid profile",
                vec![
                    "sub",
                    "name",
                    "given_name",
                    "family_name",
                    "updated_at",
                    "preferred_username",
                ],
            ),
            ("openid email phone", vec!["sub", "email", "email_verified"]),
            (
                "openid urn:zitadel:iam:user:resourceowner",
                vec![
                    "sub",
                    "urn:zitadel:iam:user:resourceowner:id",
                    "urn:zitadel:iam:user:resourceowner:name",
                    "urn:zitadel:iam:user:resourceowner:primary_domain",
                ],
            ),
            (
                "openid urn:zitadel:iam:org:id:o1",
                vec![
                    "sub",
                    "urn:zitadel:iam:org:id",
                    "urn:zitadel:iam:user:resourceowner:id",
                    "urn:zitadel:iam:user:resourceowner:name",
                    "urn:zitadel:iam:user:resourceowner:primary_domain",
                ],
            ),
        ];
        for (given, want) in cases {
            let got = user_claims(&u, Some(&o), &scopes(given));
            assert_eq!(got.keys().collect::<Vec<_>>(), want, "{given}");
        }
        let got = user_claims(&u, Some(&o), &scopes("profile urn:zitadel:iam:user:resourceowner"));
        assert_eq!(got["updated_at"], 7);
        assert_eq!(
            got["urn:zitadel:iam:user:resourceowner:primary_domain"],
            "bank.localhost"
        );
    }

    #[test]
    fn id_tokens_carry_the_grant() {
        let grant = OidcSessionAdded {
            user_id: "u1".into(),
            client_id: "c@p".into(),
            audience: vec!["p".into(), "c@p".into()],
            amr: vec!["pwd".into(), "otp".into(), "mfa".into()],
            auth_time: Timestamp(3_500_000),
            nonce: "n".into(),
            ..OidcSessionAdded::default()
        };
        let got = id_token(IdToken {
            issuer: "http://localhost:8080",
            grant: &grant,
            sid: "V2_1",
            access_token: Some("token"),
            user: Some(user_claims(&user(), None, &scopes("email"))),
            now: Timestamp(10_000_000),
        });
        assert_eq!(
            Value::Object(got),
            json!({
                "iss": "http://localhost:8080", "sub": "u1", "aud": ["p", "c@p"], "exp": 10 + 12 * 3600,
                "iat": 10, "auth_time": 3, "nonce": "n", "amr": ["pwd", "otp", "mfa"],
                "acr": ACR_MULTI_FACTOR, "azp": "c@p",
                "client_id": "c@p", "at_hash": at_hash("token"), "sid": "V2_1",
                "email": "ada@example.com", "email_verified": true
            })
        );
        // the client joins an audience that lacks it
        assert_eq!(
            audience(&OidcSessionAdded {
                client_id: "c".into(),
                ..OidcSessionAdded::default()
            }),
            ["c"]
        );
    }

    #[test]
    fn acr_tells_whether_mfa_was_satisfied() {
        let amr = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(acr(&amr(&["pwd", "otp", "mfa"])), ACR_MULTI_FACTOR);
        assert_eq!(acr(&amr(&["pwd"])), ACR_SINGLE_FACTOR);
        assert_eq!(acr(&amr(&["user"])), ACR_SINGLE_FACTOR);
        assert_eq!(acr(&[]), ACR_SINGLE_FACTOR);
    }

    #[test]
    fn at_hash_is_the_left_half_of_sha256() {
        // OIDC Core A.3 example access token
        assert_eq!(
            at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }
}
