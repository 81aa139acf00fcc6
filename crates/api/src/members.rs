//! Pieces shared by the member RPCs of both services.

use twofold_proto::zitadel::member::v1::SearchQuery;
use twofold_proto::zitadel::member::v1::search_query::Query;

/// The user a member search is narrowed to, if any.
pub fn member_filter(queries: &[SearchQuery]) -> Option<String> {
    queries.iter().find_map(|q| {
        let Some(Query::UserIdQuery(u)) = &q.query else {
            return None;
        };
        Some(u.user_id.clone())
    })
}
