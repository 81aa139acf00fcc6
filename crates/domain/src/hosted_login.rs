//! Hosted login translations (Settings v2): a JSON document per level
//! (instance, org) and locale, read deep-merged over the built-in one.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::DomainError;
use crate::event::EventPayload as E;

/// A BCP 47 language tag in canonical case (`de-CH`, `zh-Hant-TW`) and its
/// primary language (`de`), whose document stands in for the tag's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Locale {
    pub tag: String,
    pub language: String,
}

impl Locale {
    /// None unless `s` is a well-formed tag: a 2–3 or 5–8 letter language,
    /// then subtags of 1–8 letters or digits (script, region, variants…).
    pub fn parse(s: &str) -> Option<Self> {
        let mut parts = s.split('-');
        let language = parts.next()?;
        let letters = |p: &str| p.bytes().all(|b| b.is_ascii_alphabetic());
        if !letters(language) || !matches!(language.len(), 2 | 3 | 5..=8) {
            return None;
        }
        let mut tag = language.to_ascii_lowercase();
        for p in parts {
            if p.is_empty() || p.len() > 8 || !p.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return None;
            }
            tag.push('-');
            match p.len() {
                // Region: DE, CH.
                2 if letters(p) => tag.push_str(&p.to_ascii_uppercase()),
                // Script: Hant, Latn.
                4 if letters(p) => {
                    let mut chars = p.chars();
                    tag.extend(chars.next().map(|c| c.to_ascii_uppercase()));
                    tag.push_str(&chars.as_str().to_ascii_lowercase());
                }
                _ => tag.push_str(&p.to_ascii_lowercase()),
            }
        }
        Some(Self {
            language: language.to_ascii_lowercase(),
            tag,
        })
    }
}

/// Payload of `instance.hosted_login_translation.set` / `org.…`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TranslationSet {
    pub locale: String,
    pub translations: Value,
}

/// Where a Set stores its document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetLevel {
    Instance,
    Org,
}

pub fn set_level_missing() -> DomainError {
    DomainError::invalid("COMMA-YB6Sri", "Errors.Arguments.Level.Invalid")
}

pub fn get_level_missing() -> DomainError {
    DomainError::invalid("QUERY-YB6Sri", "Errors.Arguments.Level.Invalid")
}

/// A Get's locale, or its refusal.
pub fn get_locale(s: &str) -> Result<Locale, DomainError> {
    Locale::parse(s).ok_or_else(|| DomainError::invalid("QUERY-rZLAGi", "Errors.Arguments.Locale.Invalid"))
}

/// Replaces the whole document of (level, locale).
pub fn decide_set(level: SetLevel, locale: &str, translations: Value) -> Result<Vec<E>, DomainError> {
    let locale =
        Locale::parse(locale).ok_or_else(|| DomainError::invalid("COMMA-xmjATA", "Errors.Arguments.Locale.Invalid"))?;
    let set = TranslationSet {
        locale: locale.tag,
        translations,
    };
    Ok(vec![match level {
        SetLevel::Instance => E::InstanceHostedLoginTranslationSet(set),
        SetLevel::Org => E::OrgHostedLoginTranslationSet(set),
    }])
}

/// The document's version: hex MD5 of its JSON with keys sorted and whole
/// numbers without a fraction (as Go writes a map of float64s), so equal
/// documents have one etag whatever their key order or number form.
pub fn etag(doc: &Value) -> String {
    fn sorted(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut entries: Vec<_> = m.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                Value::Object(entries.into_iter().map(|(k, v)| (k.clone(), sorted(v))).collect())
            }
            Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
            Value::Number(n) => match n.as_f64() {
                #[expect(clippy::cast_possible_truncation, reason = "only whole numbers within i64 range")]
                Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Value::from(f as i64),
                _ => Value::Number(n.clone()),
            },
            other => other.clone(),
        }
    }
    format!("{:x}", md5::compute(sorted(doc).to_string()))
}

/// `over` merged into `base`: objects key by key, anything else replaced.
pub fn merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, o) => *b = o.clone(),
    }
}

/// The built-in translation: Twofold ships English only, which every
/// language falls back to (as to the instance's default language).
pub fn system() -> Value {
    json!({
        "common": {"back": "Back", "continue": "Continue"},
        "loginname": {
            "title": "Welcome back!",
            "description": "Enter your login data.",
            "register": "Register new user"
        },
        "password": {
            "verify": {"title": "Password", "description": "Enter your password.", "resetPassword": "Reset Password"}
        },
        "error": {"unknownContext": "Could not get the context of the user.", "sessionExpired": "Your session has expired."}
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locales() {
        let cases = [
            ("en", Some(("en", "en"))),
            ("DE-ch", Some(("de-CH", "de"))),
            ("zh-hant-tw", Some(("zh-Hant-TW", "zh"))),
            ("es-419", Some(("es-419", "es"))),
            ("gsw", Some(("gsw", "gsw"))),
            ("e", None),
            ("", None),
            ("toolonglanguage", None),
            ("de_CH", None),
            ("de-", None),
            ("de-toolongsubtag", None),
            ("12", None),
        ];
        for (input, expected) in cases {
            let got = Locale::parse(input);
            let got = got.as_ref().map(|l| (l.tag.as_str(), l.language.as_str()));
            assert_eq!(got, expected, "{input}");
        }
    }

    #[test]
    fn set_decisions() {
        let doc = json!({"a": 1});
        let events = decide_set(SetLevel::Org, "de-ch", doc.clone()).unwrap();
        assert_eq!(
            events,
            vec![E::OrgHostedLoginTranslationSet(TranslationSet {
                locale: "de-CH".into(),
                translations: doc.clone()
            })]
        );
        assert!(matches!(
            decide_set(SetLevel::Instance, "en", doc.clone()).unwrap()[..],
            [E::InstanceHostedLoginTranslationSet(_)]
        ));
        assert_eq!(decide_set(SetLevel::Instance, "x", doc).unwrap_err().id, "COMMA-xmjATA");
        assert_eq!(get_locale("x").unwrap_err().id, "QUERY-rZLAGi");
    }

    #[test]
    fn deep_merge_and_etag() {
        let mut base = json!({"a": {"x": 1, "y": 2}, "b": "keep", "c": [1]});
        merge(&mut base, &json!({"a": {"y": 3, "z": 4}, "c": {"new": true}}));
        assert_eq!(
            base,
            json!({"a": {"x": 1, "y": 3, "z": 4}, "b": "keep", "c": {"new": true}})
        );
        assert_eq!(etag(&json!({})), "99914b932bd37a50b983c5e7c90ae93b");
        assert_eq!(etag(&system()).len(), 32);
        assert_eq!(
            etag(&json!({"b": {"d": 1, "c": 2}, "a": 0})),
            etag(&json!({"a": 0.0, "b": {"c": 2.0, "d": 1}}))
        );
        assert_ne!(etag(&json!({"a": 0.5})), etag(&json!({"a": 0})));
    }
}
