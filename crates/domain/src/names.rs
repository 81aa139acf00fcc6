//! Names people and machines are shown by (org names, user names, given,
//! family, nick and display names): one rule for all of them.

use crate::error::DomainError;

/// Refuses control characters (C0, DEL, C1: `\u{0}`, ESC…) and the
/// invisible bidirectional formatting characters in a name: they corrupt
/// terminals and logs, or make one name display as another (U+202E shows
/// what follows it reversed). `field` names the field in the error.
pub fn check(field: &str, value: &str) -> Result<(), DomainError> {
    if value.chars().any(|c| c.is_control() || is_bidi_format(c)) {
        return Err(DomainError::invalid(
            "NAME-ctrl1",
            format!("{field} must not contain control or bidirectional formatting characters"),
        ));
    }
    Ok(())
}

/// Unicode's Bidi_Control characters: marks, embeddings, overrides, isolates.
fn is_bidi_format(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_bidi_characters_are_refused() {
        for bad in [
            "a\u{0}b",
            "a\u{1b}[31m",
            "a\u{7f}",
            "a\u{85}",
            "a\u{9f}",
            "a\u{202e}b",
            "a\u{2066}b",
            "a\u{200f}",
            "\n",
        ] {
            let e = check("user name", bad).unwrap_err();
            assert_eq!(e.id, "NAME-ctrl1", "{bad:?}");
            assert_eq!(
                e.message,
                "user name must not contain control or bidirectional formatting characters"
            );
        }
        for good in ["Zoë Ångström", "東京", "مرحبا", "O'Brien-Smith", "a b", "👩‍💻"] {
            assert!(check("user name", good).is_ok(), "{good}");
        }
    }
}
