//! List requests → the domain's queries. Every query kind, sorting column
//! and limit a request names is either evaluated or refused with
//! InvalidArgument naming it; none is dropped. A query whose oneof is empty
//! (sent empty, or of a kind this server's protos do not know, which the
//! decoders leave out) is refused as protoc-gen-validate refuses a missing
//! required oneof.

use tonic::Status;
use twofold_domain::DomainError;
use twofold_domain::Timestamp;
use twofold_domain::readmodel::query::{
    ListRequest, MAX_QUERY_DEPTH, MemberQuery, MemberSort, OrgQuery, SessionQuery, Text, TextMethod, TimeMethod,
    UserQuery, UserSort, UserStateQuery,
};
use twofold_domain::readmodel::token_query::{PatQuery, PatSort};
use twofold_proto::zitadel::{filter, member, object, org, session, user, v1};

use crate::error::to_status;
use crate::{convert, validate};

/// The empty-oneof refusal for `queries[index]` of `message`.
/// A query wrapper (e.g. `notQuery`) without the query it wraps.
fn query_missing() -> Status {
    to_status(DomainError::invalid("GRPC-vR9nC", "List.Query.Invalid"))
}

pub(crate) fn query_required(message: &str, index: usize, query_message: &str) -> Status {
    validate::invalid_field(
        message,
        &format!("Queries[{index}]"),
        &format!("embedded message failed validation | caused by: invalid {query_message}.Query: value is required"),
    )
}

fn unsupported(field: &str) -> Status {
    Status::invalid_argument(format!("{field} is not supported by Twofold"))
}

pub(crate) fn text(
    message: &str,
    field: &str,
    value: &str,
    method: i32,
    (min, max): (usize, usize),
) -> Result<Text, Status> {
    validate::text(message, field, value, min, max)?;
    let method = TextMethod::from_i32(method)
        .ok_or_else(|| validate::invalid_field(message, "Method", "value must be one of the defined enum values"))?;
    Ok(Text {
        value: value.to_owned(),
        method,
    })
}

fn sorting_column<T>(message: &str, value: i32, parse: impl Fn(i32) -> Option<T>) -> Result<T, Status> {
    parse(value).ok_or_else(|| {
        validate::invalid_field(message, "SortingColumn", "value must be one of the defined enum values")
    })
}

fn list_request(offset: u64, limit: u32, asc: bool) -> Result<ListRequest, Status> {
    ListRequest::checked(offset, limit, asc).map_err(to_status)
}

/// Offset, limit and direction of a v1 list.
pub fn list_v1(q: Option<&v1::ListQuery>) -> Result<ListRequest, Status> {
    let q = q.cloned().unwrap_or_default();
    list_request(q.offset, q.limit, q.asc)
}

/// Offset, limit and direction of a v2 list.
pub fn list_v2(q: Option<&object::v2::ListQuery>) -> Result<ListRequest, Status> {
    let q = q.cloned().unwrap_or_default();
    list_request(q.offset, q.limit, q.asc)
}

/// v2 ListUsers: the top-level queries, AND-combined.
pub fn users(r: &user::v2::ListUsersRequest) -> Result<(UserQuery, UserSort), Status> {
    let mut all = Vec::with_capacity(r.queries.len());
    for (i, q) in r.queries.iter().enumerate() {
        let query = q
            .query
            .as_ref()
            .ok_or_else(|| query_required("ListUsersRequest", i, "SearchQuery"))?;
        all.push(user_query(query, 1)?);
    }
    let sort = sorting_column("ListUsersRequest", r.sorting_column, UserSort::from_i32)?;
    Ok((UserQuery::And(all), sort))
}

fn nested_user_query(q: &user::v2::SearchQuery, depth: usize) -> Result<UserQuery, Status> {
    if depth > MAX_QUERY_DEPTH {
        return Err(to_status(DomainError::invalid(
            "USER-zsQ97",
            "Too many query nesting levels (Max 20)",
        )));
    }
    let query = q.query.as_ref().ok_or_else(query_missing)?;
    user_query(query, depth)
}

fn user_query(q: &user::v2::search_query::Query, depth: usize) -> Result<UserQuery, Status> {
    use user::v2::search_query::Query as Q;
    const NAME: (usize, usize) = (1, 200);
    Ok(match q {
        Q::UserNameQuery(q) => UserQuery::UserName(text("UserNameQuery", "UserName", &q.user_name, q.method, NAME)?),
        Q::FirstNameQuery(q) => {
            UserQuery::FirstName(text("FirstNameQuery", "FirstName", &q.first_name, q.method, NAME)?)
        }
        Q::LastNameQuery(q) => UserQuery::LastName(text("LastNameQuery", "LastName", &q.last_name, q.method, NAME)?),
        Q::NickNameQuery(q) => UserQuery::NickName(text("NickNameQuery", "NickName", &q.nick_name, q.method, NAME)?),
        Q::DisplayNameQuery(q) => UserQuery::DisplayName(text(
            "DisplayNameQuery",
            "DisplayName",
            &q.display_name,
            q.method,
            NAME,
        )?),
        Q::EmailQuery(q) => UserQuery::Email(text(
            "EmailQuery",
            "EmailAddress",
            &q.email_address,
            q.method,
            (0, 200),
        )?),
        Q::PhoneQuery(q) => UserQuery::Phone(text("PhoneQuery", "Number", &q.number, q.method, (0, 20))?),
        Q::LoginNameQuery(q) => {
            UserQuery::LoginName(text("LoginNameQuery", "LoginName", &q.login_name, q.method, NAME)?)
        }
        Q::StateQuery(q) => UserQuery::State(match user::v2::UserState::try_from(q.state) {
            Ok(user::v2::UserState::Active) => UserStateQuery::Active,
            Ok(user::v2::UserState::Inactive) => UserStateQuery::Inactive,
            Ok(user::v2::UserState::Deleted) => UserStateQuery::Deleted,
            Ok(user::v2::UserState::Locked) => UserStateQuery::Locked,
            Ok(user::v2::UserState::Initial) => UserStateQuery::Initial,
            // ZITADEL matches the stored state 0, which no user has.
            Ok(user::v2::UserState::Unspecified) => return Ok(UserQuery::Or(vec![])),
            Err(_) => {
                return Err(validate::invalid_field(
                    "StateQuery",
                    "State",
                    "value must be one of the defined enum values",
                ));
            }
        }),
        Q::TypeQuery(q) => match user::v2::Type::try_from(q.r#type) {
            Ok(user::v2::Type::Human) => UserQuery::Human(true),
            Ok(user::v2::Type::Machine) => UserQuery::Human(false),
            Ok(user::v2::Type::Unspecified) => UserQuery::Or(vec![]),
            Err(_) => {
                return Err(validate::invalid_field(
                    "TypeQuery",
                    "Type",
                    "value must be one of the defined enum values",
                ));
            }
        },
        Q::InUserIdsQuery(q) => UserQuery::InUserIds(q.user_ids.clone()),
        Q::InUserEmailsQuery(q) => UserQuery::InUserEmails(q.user_emails.clone()),
        Q::OrganizationIdQuery(q) => {
            validate::id("OrganizationIdQuery", "OrganizationId", &q.organization_id)?;
            UserQuery::Organization(q.organization_id.clone())
        }
        Q::OrQuery(q) => UserQuery::Or(
            q.queries
                .iter()
                .map(|q| nested_user_query(q, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Q::AndQuery(q) => UserQuery::And(
            q.queries
                .iter()
                .map(|q| nested_user_query(q, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Q::NotQuery(q) => {
            let inner = q.query.as_ref().ok_or_else(query_missing)?;
            UserQuery::Not(Box::new(nested_user_query(inner, depth + 1)?))
        }
        Q::MetadataKeyFilter(_) => return Err(unsupported("metadataKeyFilter")),
        Q::MetadataValueFilter(_) => return Err(unsupported("metadataValueFilter")),
    })
}

fn time_method(message: &str, method: i32) -> Result<TimeMethod, Status> {
    TimeMethod::from_i32(method)
        .ok_or_else(|| validate::invalid_field(message, "Method", "value must be one of the defined enum values"))
}

/// v2 ListSessions: the queries (AND-combined) and whether sorted by creation date.
pub fn sessions(r: &session::v2::ListSessionsRequest) -> Result<(Vec<SessionQuery>, bool), Status> {
    use session::v2::search_query::Query as Q;
    let mut all = Vec::with_capacity(r.queries.len());
    for (i, q) in r.queries.iter().enumerate() {
        let query = q
            .query
            .as_ref()
            .ok_or_else(|| query_required("ListSessionsRequest", i, "SearchQuery"))?;
        let time = |t: Option<&prost_types::Timestamp>| t.map(convert::from_timestamp).unwrap_or_default();
        all.push(match query {
            Q::IdsQuery(q) => SessionQuery::Ids(q.ids.clone()),
            Q::UserIdQuery(q) => SessionQuery::UserId(q.id.clone()),
            Q::CreationDateQuery(q) => SessionQuery::CreationDate(
                time(q.creation_date.as_ref()),
                time_method("CreationDateQuery", q.method)?,
            ),
            Q::CreatorQuery(q) => SessionQuery::Creator(q.id.clone()),
            Q::ExpirationDateQuery(q) => SessionQuery::ExpirationDate(
                time(q.expiration_date.as_ref()),
                time_method("ExpirationDateQuery", q.method)?,
            ),
            Q::UserAgentQuery(_) => return Err(unsupported("userAgentQuery")),
        });
    }
    let by_creation = sorting_column("ListSessionsRequest", r.sorting_column, |c| match c {
        0 => Some(false),
        1 => Some(true),
        _ => None,
    })?;
    Ok((all, by_creation))
}

/// Member lists (Admin and Management): the queries, AND-combined.
pub fn members(message: &str, queries: &[member::v1::SearchQuery]) -> Result<Vec<MemberQuery>, Status> {
    use member::v1::search_query::Query as Q;
    const NAME: (usize, usize) = (0, 200);
    let mut all = Vec::with_capacity(queries.len());
    for (i, q) in queries.iter().enumerate() {
        let query = q
            .query
            .as_ref()
            .ok_or_else(|| query_required(message, i, "SearchQuery"))?;
        all.push(match query {
            Q::FirstNameQuery(q) => {
                MemberQuery::FirstName(text("FirstNameQuery", "FirstName", &q.first_name, q.method, NAME)?)
            }
            Q::LastNameQuery(q) => {
                MemberQuery::LastName(text("LastNameQuery", "LastName", &q.last_name, q.method, NAME)?)
            }
            Q::EmailQuery(q) => MemberQuery::Email(text("EmailQuery", "Email", &q.email, q.method, NAME)?),
            Q::UserIdQuery(q) => MemberQuery::UserId(q.user_id.clone()),
        });
    }
    Ok(all)
}

/// Sort order of ListIAMMembers.
pub fn member_sort(message: &str, column: i32) -> Result<MemberSort, Status> {
    sorting_column(message, column, |c| match c {
        0 => Some(MemberSort::Unspecified),
        1 => Some(MemberSort::UserId),
        2 => Some(MemberSort::CreationDate),
        _ => None,
    })
}

/// Admin ListOrgs: the queries (AND-combined) and whether sorted by name.
pub fn orgs(r: &twofold_proto::zitadel::admin::v1::ListOrgsRequest) -> Result<(Vec<OrgQuery>, bool), Status> {
    use org::v1::org_query::Query as Q;
    const NAME: (usize, usize) = (0, 200);
    let mut all = Vec::with_capacity(r.queries.len());
    for (i, q) in r.queries.iter().enumerate() {
        let query = q
            .query
            .as_ref()
            .ok_or_else(|| query_required("ListOrgsRequest", i, "OrgQuery"))?;
        all.push(match query {
            Q::NameQuery(n) => OrgQuery::Name(text("OrgNameQuery", "Name", &n.name, n.method, NAME)?),
            Q::DomainQuery(d) => OrgQuery::Domain(text("OrgDomainQuery", "Domain", &d.domain, d.method, NAME)?),
            Q::IdQuery(i) => OrgQuery::Id(i.id.clone()),
            Q::StateQuery(st) => match org::v1::OrgState::try_from(st.state) {
                // Orgs are never deactivated here, so only ACTIVE matches.
                Ok(s) => OrgQuery::Active(s == org::v1::OrgState::Active),
                Err(_) => {
                    return Err(validate::invalid_field(
                        "OrgStateQuery",
                        "State",
                        "value must be one of the defined enum values",
                    ));
                }
            },
        });
    }
    let by_name = sorting_column("ListOrgsRequest", r.sorting_column, |c| match c {
        0 => Some(false),
        1 => Some(true),
        _ => None,
    })?;
    Ok((all, by_name))
}

/// v2 ListOrganizations: the queries (AND-combined) and whether sorted by name.
pub fn orgs_v2(r: &org::v2::ListOrganizationsRequest) -> Result<(Vec<OrgQuery>, bool), Status> {
    use org::v2::search_query::Query as Q;
    const NAME: (usize, usize) = (1, 200);
    let mut all = Vec::with_capacity(r.queries.len());
    for (i, q) in r.queries.iter().enumerate() {
        let query = q
            .query
            .as_ref()
            .ok_or_else(|| query_required("ListOrganizationsRequest", i, "SearchQuery"))?;
        all.push(match query {
            Q::NameQuery(n) => OrgQuery::Name(text("OrganizationNameQuery", "Name", &n.name, n.method, NAME)?),
            Q::DomainQuery(d) => {
                OrgQuery::Domain(text("OrganizationDomainQuery", "Domain", &d.domain, d.method, NAME)?)
            }
            Q::StateQuery(st) => match org::v2::OrganizationState::try_from(st.state) {
                // Orgs are never deactivated here, so only ACTIVE matches.
                Ok(s) => OrgQuery::Active(s == org::v2::OrganizationState::Active),
                Err(_) => {
                    return Err(validate::invalid_field(
                        "OrganizationStateQuery",
                        "State",
                        "value must be one of the defined enum values",
                    ));
                }
            },
            Q::IdQuery(q) => OrgQuery::Id(validate::id("OrganizationIDQuery", "Id", &q.id)?.to_owned()),
            Q::DefaultQuery(_) => OrgQuery::Default,
        });
    }
    let by_name = sorting_column("ListOrganizationsRequest", r.sorting_column, |c| match c {
        0 => Some(false),
        1 => Some(true),
        _ => None,
    })?;
    Ok((all, by_name))
}

/// v2 ListPersonalAccessTokens: the filters (AND-combined) and the sort.
pub fn pats_v2(r: &user::v2::ListPersonalAccessTokensRequest) -> Result<(Vec<PatQuery>, PatSort), Status> {
    use user::v2::personal_access_tokens_search_filter::Filter as F;
    const M: &str = "ListPersonalAccessTokensRequest";
    let id = |message: &str, f: &filter::v2::IdFilter| -> Result<String, Status> {
        Ok(validate::text(message, "Id", &f.id, 0, 200)?.to_owned())
    };
    let time = |f: &filter::v2::TimestampFilter| -> Result<(Timestamp, TimeMethod), Status> {
        let t = f.timestamp.as_ref().map(convert::from_timestamp).unwrap_or_default();
        Ok((t, time_method("TimestampFilter", f.method)?))
    };
    let mut all = Vec::with_capacity(r.filters.len());
    for (i, f) in r.filters.iter().enumerate() {
        let filter = f.filter.as_ref().ok_or_else(|| {
            validate::invalid_field(
                M,
                &format!("Filters[{i}]"),
                "embedded message failed validation | caused by: invalid PersonalAccessTokensSearchFilter.Filter: value is required",
            )
        })?;
        all.push(match filter {
            F::TokenIdFilter(f) => PatQuery::TokenId(id("IDFilter", f)?),
            F::UserIdFilter(f) => PatQuery::UserId(id("IDFilter", f)?),
            F::OrganizationIdFilter(f) => PatQuery::OrgId(id("IDFilter", f)?),
            F::CreatedDateFilter(f) => {
                let (t, m) = time(f)?;
                PatQuery::Created(t, m)
            }
            F::ExpirationDateFilter(f) => {
                let (t, m) = time(f)?;
                PatQuery::Expiration(t, m)
            }
        });
    }
    let sort = sorting_column(M, r.sorting_column.unwrap_or_default(), PatSort::from_i32)?;
    Ok((all, sort))
}

/// Offset, limit and direction of a `zitadel.filter.v2` pagination.
pub fn pagination(p: Option<&filter::v2::PaginationRequest>) -> Result<ListRequest, Status> {
    let p = p.cloned().unwrap_or_default();
    list_request(p.offset, p.limit, p.asc)
}
