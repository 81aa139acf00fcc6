//! Link templates of verification, invite, password-reset and passkey-
//! registration mails. ZITADEL takes Go templates; Twofold knows their
//! field references (`{{.Code}}`, `{{ .UserID }}`, `{{.OrgID}}`, and
//! `{{.CodeID}}` where the code has an id), which is what link templates
//! use. A template that does not parse is `DOMAIN-oGh5e`, one naming an
//! unknown field `DOMAIN-ieYa7`, as ZITADEL's parse and execute steps. A
//! template is checked when it is given, by rendering it with sample data.

use crate::error::DomainError;

/// What a link may refer to.
#[derive(Clone, Copy, Debug)]
pub struct LinkData<'a> {
    pub user_id: &'a str,
    pub code: &'a str,
    pub org_id: &'a str,
    /// The code's id, for codes that have one (passkey registration).
    pub code_id: Option<&'a str>,
}

fn unparsable() -> DomainError {
    DomainError::invalid("DOMAIN-oGh5e", "URL Template is invalid")
}

fn unrenderable() -> DomainError {
    DomainError::invalid("DOMAIN-ieYa7", "URL Template is invalid")
}

pub fn render(template: &str, d: LinkData<'_>) -> Result<String, DomainError> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some((text, action)) = rest.split_once("{{") {
        out.push_str(text);
        let (field, tail) = action.split_once("}}").ok_or_else(unparsable)?;
        let name = field.trim().strip_prefix('.').ok_or_else(unparsable)?;
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(unparsable());
        }
        out.push_str(match name {
            "UserID" => d.user_id,
            "Code" => d.code,
            "OrgID" => d.org_id,
            "CodeID" => d.code_id.ok_or_else(unrenderable)?,
            _ => return Err(unrenderable()),
        });
        rest = tail;
    }
    out.push_str(rest);
    Ok(out)
}

/// A template as given with a request: it must render (with a code id
/// when the code will have one).
pub fn check(template: &str, with_code_id: bool) -> Result<(), DomainError> {
    let sample = LinkData {
        user_id: "userID",
        code: "code",
        org_id: "orgID",
        code_id: with_code_id.then_some("codeID"),
    };
    render(template, sample).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        let d = LinkData {
            user_id: "u1",
            code: "ABC123",
            org_id: "o1",
            code_id: None,
        };
        let cases = [
            (
                "https://login.example/verify?code={{.Code}}&userId={{ .UserID }}&organization={{.OrgID}}",
                Ok("https://login.example/verify?code=ABC123&userId=u1&organization=o1"),
            ),
            ("https://plain.example/", Ok("https://plain.example/")),
            ("https://x/{{.Code", Err("DOMAIN-oGh5e")),
            ("https://x/{{Code}}", Err("DOMAIN-oGh5e")),
            ("https://x/{{.Code | urlquery}}", Err("DOMAIN-oGh5e")),
            ("https://x/}}", Ok("https://x/}}")),
            ("https://x/{{.Secret}}", Err("DOMAIN-ieYa7")),
        ];
        for (template, then) in cases {
            let got = render(template, d).map_err(|e| e.id.into_owned());
            assert_eq!(got, then.map(str::to_owned).map_err(str::to_owned), "{template}");
        }
        assert!(check("https://x/{{.UserID}}", false).is_ok());
        // A code id only where the code has one (passkey registration).
        let with_id = "https://x/{{.CodeID}}/{{.Code}}";
        assert_eq!(check(with_id, false).unwrap_err().id, "DOMAIN-ieYa7");
        assert!(check(with_id, true).is_ok());
        let d = LinkData {
            code_id: Some("c7"),
            ..d
        };
        assert_eq!(render(with_id, d).unwrap(), "https://x/c7/ABC123");
        assert_eq!(render("https://x/{{ .CodeID }}", d).unwrap(), "https://x/c7");
    }
}
