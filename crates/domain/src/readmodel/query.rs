//! Filtering and paging of listed documents, as ZITADEL's list requests
//! describe them (text queries with a match method, offset and limit).

/// ZITADEL's `TextQueryMethod` numbers.
pub fn text_matches(value: &str, query: &str, method: i32) -> bool {
    let ignore_case = method % 2 == 1;
    let (v, q) = if ignore_case {
        (value.to_lowercase(), query.to_lowercase())
    } else {
        (value.to_owned(), query.to_owned())
    };
    match method {
        0 | 1 => v == q,
        2 | 3 => v.starts_with(&q),
        4 | 5 => v.contains(&q),
        6 | 7 => v.ends_with(&q),
        _ => false,
    }
}

/// Largest page a list returns, and the page size when none is asked for.
pub const MAX_LIMIT: usize = 1000;
pub const DEFAULT_LIMIT: usize = 100;

/// The page `offset..offset+limit` of `items` (limit 0 = default).
pub fn page<T>(items: Vec<T>, offset: u64, limit: u32) -> Vec<T> {
    let limit = match limit as usize {
        0 => DEFAULT_LIMIT,
        n => n.min(MAX_LIMIT),
    };
    items.into_iter().skip(offset as usize).take(limit).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods() {
        assert!(text_matches("Bank", "Bank", 0));
        assert!(!text_matches("Bank", "bank", 0));
        assert!(text_matches("Bank", "bank", 1));
        assert!(text_matches("Bank EU", "Ba", 2));
        assert!(text_matches("Bank EU", "k e", 5));
        assert!(text_matches("Bank EU", "EU", 6));
        assert!(!text_matches("Bank", "Bank", 42));
    }

    #[test]
    fn paging() {
        let v: Vec<u32> = (0..10).collect();
        assert_eq!(page(v.clone(), 8, 0), vec![8, 9]);
        assert_eq!(page(v, 2, 3), vec![2, 3, 4]);
    }
}
