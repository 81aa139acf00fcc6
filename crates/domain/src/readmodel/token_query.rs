//! Filtering, sorting and paging of personal access tokens (UserService v2
//! ListPersonalAccessTokens).

use std::cmp::Ordering;

use super::directory::PatView;
use super::query::{ListRequest, TimeMethod};
use crate::Timestamp;

/// A `PersonalAccessTokensSearchFilter`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PatQuery {
    TokenId(String),
    UserId(String),
    OrgId(String),
    Created(Timestamp, TimeMethod),
    Expiration(Timestamp, TimeMethod),
}

impl PatQuery {
    pub fn matches(&self, p: &PatView) -> bool {
        match self {
            Self::TokenId(id) => p.token_id == *id,
            Self::UserId(id) => p.user_id.as_str() == id,
            Self::OrgId(id) => p.org_id.as_str() == id,
            Self::Created(t, m) => m.matches(p.details.creation_date, *t),
            Self::Expiration(t, m) => m.matches(p.expiration, *t),
        }
    }
}

/// `PersonalAccessTokenFieldName`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatSort {
    /// Creation order.
    Unspecified,
    CreatedDate,
    Id,
    UserId,
    OrgId,
    ExpirationDate,
}

impl PatSort {
    pub fn from_i32(n: i32) -> Option<Self> {
        use PatSort::*;
        Some(match n {
            0 => Unspecified,
            1 => CreatedDate,
            2 => Id,
            3 => UserId,
            4 => OrgId,
            5 => ExpirationDate,
            _ => return None,
        })
    }

    fn compare(self, a: &PatView, b: &PatView) -> Ordering {
        match self {
            Self::Unspecified | Self::CreatedDate => a.details.creation_date.cmp(&b.details.creation_date),
            Self::Id => a.token_id.cmp(&b.token_id),
            Self::UserId => a.user_id.as_str().cmp(b.user_id.as_str()),
            Self::OrgId => a.org_id.as_str().cmp(b.org_id.as_str()),
            Self::ExpirationDate => a.expiration.cmp(&b.expiration),
        }
    }
}

/// The total and the requested page of `pats`, sorted.
pub fn pats_page(mut pats: Vec<PatView>, sort: PatSort, list: ListRequest) -> (usize, Vec<PatView>) {
    list.sort(&mut pats, sort != PatSort::Unspecified, |a, b| sort.compare(a, b));
    (pats.len(), list.page(pats))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::readmodel::DocDetails;
    use crate::{OrgId, UserId};

    fn pat(id: &str, user: &str, org: &str, created: i64, expiration: i64) -> PatView {
        PatView {
            token_id: id.into(),
            token_hash: String::new(),
            user_id: UserId::from(user),
            org_id: OrgId::from(org),
            expiration: Timestamp(expiration),
            scopes: vec![],
            details: DocDetails {
                creation_date: Timestamp(created),
                ..DocDetails::default()
            },
        }
    }

    #[test]
    fn queries() {
        use TimeMethod::*;
        let p = pat("t1", "u1", "o1", 10, 100);
        let cases = [
            (PatQuery::TokenId("t1".into()), true),
            (PatQuery::TokenId("t2".into()), false),
            (PatQuery::UserId("u1".into()), true),
            (PatQuery::UserId("u2".into()), false),
            (PatQuery::OrgId("o1".into()), true),
            (PatQuery::OrgId("o2".into()), false),
            (PatQuery::Created(Timestamp(10), Equals), true),
            (PatQuery::Created(Timestamp(10), Greater), false),
            (PatQuery::Created(Timestamp(5), Greater), true),
            (PatQuery::Expiration(Timestamp(100), LessOrEquals), true),
            (PatQuery::Expiration(Timestamp(100), Less), false),
            (PatQuery::Expiration(Timestamp(50), GreaterOrEquals), true),
        ];
        for (q, expected) in cases {
            assert_eq!(q.matches(&p), expected, "{q:?}");
        }
    }

    #[test]
    fn sorting_and_paging() {
        let pats = vec![
            pat("b", "u2", "o1", 1, 300),
            pat("c", "u1", "o2", 2, 100),
            pat("a", "u3", "o3", 3, 200),
        ];
        let ids =
            |(total, page): (usize, Vec<PatView>)| (total, page.into_iter().map(|p| p.token_id).collect::<Vec<_>>());
        let list = |asc| ListRequest {
            asc,
            ..ListRequest::default()
        };
        let cases = [
            (PatSort::Unspecified, false, vec!["b", "c", "a"]),
            (PatSort::Id, true, vec!["a", "b", "c"]),
            (PatSort::Id, false, vec!["c", "b", "a"]),
            (PatSort::UserId, true, vec!["c", "b", "a"]),
            (PatSort::ExpirationDate, true, vec!["c", "a", "b"]),
            (PatSort::CreatedDate, false, vec!["a", "c", "b"]),
        ];
        for (sort, asc, expected) in cases {
            assert_eq!(
                ids(pats_page(pats.clone(), sort, list(asc))),
                (3, expected.into_iter().map(String::from).collect()),
                "{sort:?} asc={asc}"
            );
        }
        let paged = ListRequest {
            offset: 1,
            limit: 1,
            asc: true,
        };
        assert_eq!(ids(pats_page(pats, PatSort::Id, paged)), (3, vec!["b".to_owned()]));
        assert_eq!(PatSort::from_i32(6), None);
    }
}
