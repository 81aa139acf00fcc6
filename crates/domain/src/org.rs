//! Organizations.

/// The domain generated for a new org: `<label>.<host>`, where the label is
/// the lower-cased name with spaces as `-` and everything but letters,
/// digits and `-` removed (at most 63 characters, no `-` at either end).
/// None when nothing of the name is left.
pub fn generated_domain(name: &str, host: &str) -> Option<String> {
    let label: String = name
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c == ' ' { '-' } else { c })
        .filter(|c| c.is_alphanumeric() || *c == '-')
        .take(63)
        .collect();
    let label = label.trim_matches('-');
    (!label.is_empty()).then(|| format!("{label}.{host}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_domains() {
        assert_eq!(
            generated_domain("ACME Corp", "localhost").unwrap(),
            "acme-corp.localhost"
        );
        assert_eq!(
            generated_domain(" -Bank (EU)- ", "example.com").unwrap(),
            "bank-eu.example.com"
        );
        assert_eq!(generated_domain("!!!", "localhost"), None);
    }
}
