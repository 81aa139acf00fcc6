//! The SQL of a page of users (`EventStore::user_page`, v2 ListUsers),
//! whose cost does not grow with the number of users (migration 0007):
//!
//! - the total is a sum of per-org counts (`user_counts`), plus the scope's
//!   `also` user when it is not in those orgs;
//! - a page of every user at offset k seeks to the mark of the bucket that
//!   holds position k (`user_marks_*`, a few hundred rows per million
//!   users: their sizes are read as one row, then only the marks the page
//!   needs) and skips fewer than 2,000 index entries from it.
//!
//! Pages of some orgs walk their offset in `docs_users_by_org` (migration
//! 0004). When the marks do not add up to the count (a user document
//! without the key, never written by Twofold), the page takes that plain
//! query too. Ties go by `id` as the unfiltered listing orders them.

use twofold_app::ports::{UserOrder, UserPage, UserScope};

/// The sizes of the instance's buckets in the page's order, as one text
/// `n,n,…` (NULL without marks): one row, not one per mark (each a
/// hand-over between threads in sqlx's SQLite driver), and no window
/// function (SQLite's running sums over a million users' thousand marks
/// took 2 ms, half of a page's CPU).
pub(crate) fn bucket_sizes_sql(order: UserOrder, postgres: bool) -> &'static str {
    match (order, postgres) {
        (UserOrder::Created, false) => {
            "SELECT group_concat(n, ',' ORDER BY created, id) FROM user_marks_created WHERE instance_id = $1"
        }
        (UserOrder::Created, true) => {
            "SELECT string_agg(n::text, ',' ORDER BY created, id) FROM user_marks_created WHERE instance_id = $1"
        }
        (UserOrder::UserName, false) => {
            "SELECT group_concat(n, ',' ORDER BY name, id) FROM user_marks_name WHERE instance_id = $1"
        }
        (UserOrder::UserName, true) => {
            "SELECT string_agg(n::text, ',' ORDER BY name, id) FROM user_marks_name WHERE instance_id = $1"
        }
    }
}

/// The key (as text) and id of the instance's mark `$2` (from 0, in the
/// page's order).
pub(crate) fn mark_at_sql(order: UserOrder) -> &'static str {
    match order {
        UserOrder::Created => {
            "SELECT CAST(created AS TEXT), id FROM user_marks_created WHERE instance_id = $1 \
             ORDER BY created, id LIMIT 1 OFFSET $2"
        }
        UserOrder::UserName => {
            "SELECT name, id FROM user_marks_name WHERE instance_id = $1 ORDER BY name, id LIMIT 1 OFFSET $2"
        }
    }
}

/// The bucket sizes of [`bucket_sizes_sql`]'s text.
pub(crate) fn bucket_sizes(text: Option<&str>) -> Result<Vec<i64>, twofold_app::StoreError> {
    text.unwrap_or_default()
        .split(',')
        .filter(|n| !n.is_empty())
        .map(|n| n.parse().map_err(|e| crate::shared::corrupt("user mark", e)))
        .collect()
}

/// The scope's users without `also`: binds the instance ID, then the orgs.
pub(crate) fn count_sql(scope: &UserScope) -> String {
    let base = "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM user_counts WHERE instance_id = $1";
    match scope {
        UserScope::All => base.to_owned(),
        UserScope::Orgs { orgs, .. } if orgs.is_empty() => format!("{base} AND FALSE"),
        UserScope::Orgs { orgs, .. } => format!("{base} AND org_id IN ({})", params(2, orgs.len())),
    }
}

/// The org of user `$2` (a row only if the user exists).
pub(crate) const USER_ORG: &str =
    "SELECT user_org FROM docs WHERE instance_id = $1 AND collection = 'user' AND id = $2";

/// `$from, $from+1, …` (`count` of them).
fn params(from: usize, count: usize) -> String {
    let list: Vec<String> = (from..from + count).map(|i| format!("${i}")).collect();
    list.join(", ")
}

/// The sort key's column, compared as Rust compares strings (bytes):
/// SQLite's default, PostgreSQL's "C".
fn key(order: UserOrder, postgres: bool) -> &'static str {
    match (order, postgres) {
        (UserOrder::Created, _) => "user_created",
        (UserOrder::UserName, false) => "lookup",
        (UserOrder::UserName, true) => "lookup COLLATE \"C\"",
    }
}

/// A page's ids from the partial indexes of migration 0004 alone, ordered,
/// then only the page's documents read. Descending pages order ties by
/// ascending id, as the general listing does.
fn page_of(order: UserOrder, descending: bool, postgres: bool, filter: &str, limit: usize) -> String {
    let key = key(order, postgres);
    let dir = if descending { " DESC" } else { "" };
    format!(
        "SELECT d.body FROM (SELECT id, {key} AS k FROM docs WHERE instance_id = $1 AND collection = 'user'{filter} \
         ORDER BY {key}{dir}, id LIMIT ${limit} OFFSET ${}) p \
         JOIN docs d ON d.instance_id = $1 AND d.collection = 'user' AND d.id = p.id ORDER BY p.k{dir}, p.id",
        limit + 1
    )
}

/// The plain page: binds the instance ID, the scope's orgs and `also`,
/// then limit and offset. Its offset walks index entries.
pub(crate) fn plain_sql(page: &UserPage, postgres: bool) -> String {
    let mut filter = String::new();
    let mut n = 1;
    if let UserScope::Orgs { orgs, also } = &page.scope {
        let mut terms = Vec::new();
        if !orgs.is_empty() {
            terms.push(format!("user_org IN ({})", params(n + 1, orgs.len())));
            n += orgs.len();
        }
        if also.is_some() {
            n += 1;
            terms.push(format!("id = ${n}"));
        }
        if terms.is_empty() {
            terms.push("FALSE".to_owned());
        }
        filter = format!(" AND ({})", terms.join(" OR "));
    }
    page_of(page.order, page.descending, postgres, &filter, n + 1)
}

/// The ascending page of every user from a mark: binds the instance ID,
/// the mark's key and id, then limit and offset.
pub(crate) fn from_mark_sql(order: UserOrder, postgres: bool) -> String {
    let filter = format!(" AND ({}, id) >= ($2, $3)", key(order, postgres));
    page_of(order, false, postgres, &filter, 4)
}

/// The key (as text) and id of the user `$4` places after mark (`$2`, `$3`).
pub(crate) fn after_mark_sql(order: UserOrder, postgres: bool) -> String {
    let key = key(order, postgres);
    let text = match order {
        UserOrder::Created => "CAST(user_created AS TEXT)",
        UserOrder::UserName => "lookup",
    };
    format!(
        "SELECT {text}, id FROM docs WHERE instance_id = $1 AND collection = 'user' AND ({key}, id) >= ($2, $3) \
         ORDER BY {key}, id LIMIT 1 OFFSET $4"
    )
}

/// The users of key `$2` with an id above `$3`.
pub(crate) fn ties_sql(order: UserOrder, postgres: bool) -> String {
    format!(
        "SELECT COUNT(*) FROM docs WHERE instance_id = $1 AND collection = 'user' AND {} = $2 AND id > $3",
        key(order, postgres)
    )
}

/// The descending page of every user from key `$2` down to key `$3`:
/// binds the instance ID, the keys, then limit and offset. (Its order,
/// ascending ids within a key, is no index's: the bounds keep its sort to
/// about a page.)
pub(crate) fn down_from_sql(order: UserOrder, postgres: bool) -> String {
    let key = key(order, postgres);
    page_of(order, true, postgres, &format!(" AND {key} <= $2 AND {key} >= $3"), 4)
}

/// A mark's key as the page's order binds it.
pub(crate) enum Key {
    Created(i64),
    Name(String),
}

impl Key {
    pub fn parse(order: UserOrder, text: String) -> Result<Self, twofold_app::StoreError> {
        match order {
            UserOrder::Created => text
                .parse()
                .map(Key::Created)
                .map_err(|e| crate::shared::corrupt("user mark", e)),
            UserOrder::UserName => Ok(Key::Name(text)),
        }
    }
}

/// A count or place as SQL binds it.
pub(crate) fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// How to read a page of every user. A place is a bucket (the index of
/// its mark, in the page's order) and how many users into it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Plan {
    /// The marks do not cover every user: the plain query.
    Plain,
    /// Past the last user.
    Empty,
    /// Ascending: the page starts at this place.
    Up(usize, u64),
    /// Descending: the page's keys lie between those of these places (in
    /// ascending order: its first user's, its last user's).
    Down((usize, u64), (usize, u64)),
}

/// The positions (from the lowest user) whose marks the page needs: its
/// first user's and its last user's. None: the page is empty.
pub(crate) fn positions(total: u64, offset: u64, limit: u64, descending: bool) -> Option<(u64, u64)> {
    if offset >= total || limit == 0 {
        return None;
    }
    Some(match descending {
        false => (offset, offset),
        true => (total - 1 - offset, (total - offset).saturating_sub(limit)),
    })
}

/// The plan from the sizes of the instance's buckets (in the page's
/// order): the places of the page's `positions` as bucket indices and how
/// many users into each bucket.
pub(crate) fn plan(sizes: &[i64], total: u64, positions: Option<(u64, u64)>, descending: bool) -> Plan {
    let Some((first, last)) = positions else {
        return Plan::Empty;
    };
    if sizes.iter().any(|n| *n < 0) || sizes.iter().sum::<i64>() != int(total) {
        return Plan::Plain;
    }
    let place = |position: u64| {
        let mut below = 0u64;
        sizes.iter().enumerate().find_map(|(i, n)| {
            let n = n.unsigned_abs();
            let found = (below <= position && position < below + n).then(|| (i, position - below));
            below += n;
            found
        })
    };
    let found = match descending {
        false => place(first).map(|(m, s)| Plan::Up(m, s)),
        true => place(first).zip(place(last)).map(|(f, l)| Plan::Down(f, l)),
    };
    found.unwrap_or(Plan::Plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marks(buckets: &[i64], total: u64, offset: u64, limit: u64, descending: bool) -> Plan {
        plan(buckets, total, positions(total, offset, limit, descending), descending)
    }

    #[test]
    fn a_page_starts_in_the_bucket_of_its_first_user() {
        let buckets = [3, 0, 2, 4];
        assert_eq!(marks(&buckets, 9, 0, 2, false), Plan::Up(0, 0));
        assert_eq!(marks(&buckets, 9, 3, 2, false), Plan::Up(2, 0));
        assert_eq!(marks(&buckets, 9, 6, 2, false), Plan::Up(3, 1));
        // Descending: offset 0 is the highest user.
        assert_eq!(marks(&buckets, 9, 0, 2, true), Plan::Down((3, 3), (3, 2)));
        assert_eq!(marks(&buckets, 9, 4, 3, true), Plan::Down((2, 1), (0, 2)));
        assert_eq!(marks(&buckets, 9, 8, 5, true), Plan::Down((0, 0), (0, 0)));
        assert_eq!(marks(&buckets, 9, 9, 1, true), Plan::Empty);
        assert_eq!(marks(&buckets, 9, 9, 1, false), Plan::Empty);
        assert_eq!(marks(&buckets, 9, 0, 0, false), Plan::Empty);
    }

    #[test]
    fn bucket_sizes_are_read_from_their_text() {
        assert_eq!(bucket_sizes(Some("3,0,2,4")).unwrap(), vec![3, 0, 2, 4]);
        assert_eq!(bucket_sizes(None).unwrap(), Vec::<i64>::new());
        assert!(bucket_sizes(Some("3,x")).is_err());
    }

    #[test]
    fn marks_that_miss_users_take_the_plain_query() {
        assert_eq!(marks(&[3, 2], 6, 0, 1, false), Plan::Plain);
        assert_eq!(marks(&[], 1, 0, 1, false), Plan::Plain);
        assert_eq!(marks(&[], 0, 0, 1, false), Plan::Empty);
        assert_eq!(marks(&[3, -1, 4], 6, 0, 1, false), Plan::Plain);
    }
}
