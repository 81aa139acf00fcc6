//! Which requested scopes an auth request keeps (spec §28.4): the standard
//! ones and ZITADEL's reserved prefixes; any other scope is dropped silently.

use super::token::{OAuthCode, OAuthError};

pub const ORG_ID_PREFIX: &str = "urn:zitadel:iam:org:id:";
pub const OFFLINE_ACCESS: &str = "offline_access";
const PROJECT_AUD_PREFIX: &str = "urn:zitadel:iam:org:project:id:";
const AUD_SUFFIX: &str = ":aud";

const STANDARD: &[&str] = &["openid", "profile", "email", "phone", "address", OFFLINE_ACCESS];
const RESERVED_PREFIXES: &[&str] = &[
    PROJECT_AUD_PREFIX,
    "urn:zitadel:iam:org:project:role:",
    "urn:zitadel:iam:org:projects:roles",
    "urn:zitadel:iam:org:roles:id:",
    ORG_ID_PREFIX,
    "urn:zitadel:iam:org:domain:primary:",
    "urn:zitadel:iam:user:metadata",
    "urn:zitadel:iam:user:resourceowner",
];

/// The kept scopes of a space-separated `scope` parameter, in order, once each.
pub fn filter(scope: &str) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    for s in scope.split_whitespace() {
        let known = STANDARD.contains(&s) || RESERVED_PREFIXES.iter().any(|p| s.starts_with(p));
        if known && !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    }
    out
}

/// The scope of tokens issued on refresh (RFC 6749 §6): the grant's when
/// none is requested, else the requested one, which must be a subset of it.
/// The grant keeps its scope, so a later refresh may ask for all of it again.
pub fn narrowed(granted: &[String], requested: Option<&str>) -> Result<Vec<String>, OAuthError> {
    let Some(requested) = requested.filter(|r| !r.trim().is_empty()) else {
        return Ok(granted.to_vec());
    };
    let mut out: Vec<String> = vec![];
    for s in requested.split_whitespace() {
        if !granted.iter().any(|g| g == s) {
            return Err(OAuthError::new(
                OAuthCode::InvalidScope,
                format!("scope {s:?} was not granted"),
            ));
        }
        if !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    }
    Ok(out)
}

/// Project IDs that `urn:zitadel:iam:org:project:id:{id}:aud` scopes add to
/// the audience (`zitadel` stands for the instance's own API).
pub fn audience_projects(scopes: &[String]) -> Vec<String> {
    scopes
        .iter()
        .filter_map(|s| s.strip_prefix(PROJECT_AUD_PREFIX)?.strip_suffix(AUD_SUFFIX))
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_scope_narrows_only() {
        let granted: Vec<String> = ["openid", "email", "offline_access"].map(String::from).to_vec();
        // given requested; then the scope of the new tokens, or the refusal
        type Case<'a> = (Option<&'a str>, Result<Vec<&'a str>, &'a str>);
        let cases: Vec<Case> = vec![
            (None, Ok(vec!["openid", "email", "offline_access"])),
            (Some(" "), Ok(vec!["openid", "email", "offline_access"])),
            (Some("openid openid"), Ok(vec!["openid"])),
            (Some("email openid"), Ok(vec!["email", "openid"])),
            (Some("openid profile"), Err("scope \"profile\" was not granted")),
        ];
        for (requested, then) in cases {
            let got = narrowed(&granted, requested).map_err(|e| {
                assert_eq!(e.code, OAuthCode::InvalidScope);
                e.description.into_owned()
            });
            let want = then
                .map(|v| v.into_iter().map(str::to_owned).collect::<Vec<_>>())
                .map_err(str::to_owned);
            assert_eq!(got, want, "{requested:?}");
        }
    }

    #[test]
    fn unknown_scopes_are_dropped() {
        // given scope; then kept
        let cases = [
            ("openid profile", vec!["openid", "profile"]),
            ("openid custom openid", vec!["openid"]),
            (
                "openid urn:zitadel:iam:org:id:42 offline_access",
                vec!["openid", "urn:zitadel:iam:org:id:42", "offline_access"],
            ),
            (
                "urn:zitadel:iam:org:project:id:zitadel:aud",
                vec!["urn:zitadel:iam:org:project:id:zitadel:aud"],
            ),
            ("", vec![]),
        ];
        for (given, want) in cases {
            assert_eq!(filter(given), want, "{given}");
        }
        let aud = audience_projects(&filter("openid urn:zitadel:iam:org:project:id:zitadel:aud"));
        assert_eq!(aud, vec!["zitadel"]);
    }
}
