//! The pages' texts: one catalogue file per language (`locales/*.txt`,
//! `key = text` lines), chosen by the Accept-Language header.

use std::collections::HashMap;
use std::sync::LazyLock;

pub struct Catalog {
    /// The language tag pages declare (`<html lang>`).
    pub lang: &'static str,
    texts: HashMap<&'static str, &'static str>,
}

fn parse(lang: &'static str, file: &'static str) -> Catalog {
    let texts = file
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect();
    Catalog { lang, texts }
}

static EN: LazyLock<Catalog> = LazyLock::new(|| parse("en", include_str!("../locales/en.txt")));
static DE: LazyLock<Catalog> = LazyLock::new(|| parse("de", include_str!("../locales/de.txt")));

impl Catalog {
    /// The text of `key` (the key itself where the catalogue lacks it,
    /// which the catalogue tests rule out).
    pub fn get(&self, key: &'static str) -> &'static str {
        self.texts.get(key).copied().unwrap_or(key)
    }

    /// The text of `key` with `{n}` replaced by `n`.
    pub fn with(&self, key: &str, n: impl std::fmt::Display) -> String {
        self.texts
            .get(key)
            .copied()
            .unwrap_or(key)
            .replace("{n}", &n.to_string())
    }
}

/// The first supported language of an Accept-Language value by weight
/// (then order); English when none is.
pub fn negotiate(header: Option<&str>) -> &'static Catalog {
    let mut best: Option<(f32, &'static Catalog)> = None;
    for item in header.unwrap_or("").split(',') {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        let lang = tag.split('-').next().unwrap_or("");
        let catalog: &'static Catalog = match lang {
            "de" => &DE,
            "en" => &EN,
            _ => continue,
        };
        if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, catalog));
        }
    }
    best.map_or(&EN, |(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_key() {
        let mut en: Vec<_> = EN.texts.keys().collect();
        let mut de: Vec<_> = DE.texts.keys().collect();
        en.sort();
        de.sort();
        assert_eq!(en, de);
        assert!(en.len() > 20);
    }

    #[test]
    fn languages_by_weight() {
        assert_eq!(negotiate(None).lang, "en");
        assert_eq!(negotiate(Some("de-CH,de;q=0.9,en;q=0.8")).lang, "de");
        assert_eq!(negotiate(Some("fr,en;q=0.5,de;q=0.7")).lang, "de");
        assert_eq!(negotiate(Some("fr")).lang, "en");
        assert_eq!(negotiate(Some("de;q=0")).lang, "en");
    }

    #[test]
    fn numbers_are_filled_in() {
        assert_eq!(
            EN.with("error.throttled", 30),
            "Too many wrong codes. Wait 30 seconds, then try again."
        );
    }
}
