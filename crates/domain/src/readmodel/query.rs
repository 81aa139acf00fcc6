//! Filtering, sorting and paging of listed documents, as ZITADEL's list
//! requests describe them. Everything a list request asks is evaluated
//! here; what cannot be is refused by the transport, never dropped.

use std::cmp::Ordering;

use super::directory::{OrgView, UserKind, UserState, UserView};
use super::session::SessionView;
use crate::error::DomainError;
use crate::{OrgId, Timestamp};

/// ZITADEL's `TextQueryMethod` (object v1 and v2 share the numbers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextMethod {
    Equals,
    EqualsIgnoreCase,
    StartsWith,
    StartsWithIgnoreCase,
    Contains,
    ContainsIgnoreCase,
    EndsWith,
    EndsWithIgnoreCase,
}

impl TextMethod {
    pub fn from_i32(n: i32) -> Option<Self> {
        use TextMethod::*;
        Some(match n {
            0 => Equals,
            1 => EqualsIgnoreCase,
            2 => StartsWith,
            3 => StartsWithIgnoreCase,
            4 => Contains,
            5 => ContainsIgnoreCase,
            6 => EndsWith,
            7 => EndsWithIgnoreCase,
            _ => return None,
        })
    }

    pub fn matches(self, value: &str, query: &str) -> bool {
        use TextMethod::*;
        let ignore_case = matches!(
            self,
            EqualsIgnoreCase | StartsWithIgnoreCase | ContainsIgnoreCase | EndsWithIgnoreCase
        );
        let (v, q) = if ignore_case {
            (value.to_lowercase(), query.to_lowercase())
        } else {
            (value.to_owned(), query.to_owned())
        };
        match self {
            Equals | EqualsIgnoreCase => v == q,
            StartsWith | StartsWithIgnoreCase => v.starts_with(&q),
            Contains | ContainsIgnoreCase => v.contains(&q),
            EndsWith | EndsWithIgnoreCase => v.ends_with(&q),
        }
    }
}

/// A text condition: `method` applied to a field and `value`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text {
    pub value: String,
    pub method: TextMethod,
}

impl Text {
    pub fn matches(&self, field: &str) -> bool {
        self.method.matches(field, &self.value)
    }
}

/// ZITADEL's v1 `TimestampQueryMethod`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeMethod {
    Equals,
    Greater,
    GreaterOrEquals,
    Less,
    LessOrEquals,
}

impl TimeMethod {
    pub fn from_i32(n: i32) -> Option<Self> {
        use TimeMethod::*;
        Some(match n {
            0 => Equals,
            1 => Greater,
            2 => GreaterOrEquals,
            3 => Less,
            4 => LessOrEquals,
            _ => return None,
        })
    }

    pub fn matches(self, value: Timestamp, query: Timestamp) -> bool {
        use TimeMethod::*;
        match self {
            Equals => value == query,
            Greater => value > query,
            GreaterOrEquals => value >= query,
            Less => value < query,
            LessOrEquals => value <= query,
        }
    }
}

/// The user states a v2 `StateQuery` can name (`USER_STATE_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserStateQuery {
    Active,
    Inactive,
    Deleted,
    Locked,
    Initial,
}

/// A condition of v2 ListUsers (`zitadel.user.v2.SearchQuery`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserQuery {
    UserName(Text),
    FirstName(Text),
    LastName(Text),
    NickName(Text),
    DisplayName(Text),
    Email(Text),
    Phone(Text),
    /// Any of the user's login names.
    LoginName(Text),
    State(UserStateQuery),
    /// true: human users, false: machine users.
    Human(bool),
    InUserIds(Vec<String>),
    InUserEmails(Vec<String>),
    Organization(String),
    Or(Vec<UserQuery>),
    And(Vec<UserQuery>),
    Not(Box<UserQuery>),
}

/// Nesting of or/and/not beyond this is refused, as ZITADEL does.
pub const MAX_QUERY_DEPTH: usize = 20;

impl UserQuery {
    /// The lower-cased user name every match has, when the query requires
    /// an exact (or case-insensitively exact) user or login name at its top
    /// level: the users with that name are then all the candidates, found
    /// by the user documents' lookup key instead of a scan of every user.
    pub fn exact_user_name(&self) -> Option<String> {
        match self {
            Self::UserName(t) | Self::LoginName(t)
                if matches!(t.method, TextMethod::Equals | TextMethod::EqualsIgnoreCase) =>
            {
                Some(t.value.to_lowercase())
            }
            Self::And(all) => all.iter().find_map(Self::exact_user_name),
            _ => None,
        }
    }

    pub fn matches(&self, u: &UserView) -> bool {
        let human = u.human();
        let human_text =
            |q: &Text, field: fn(&super::directory::HumanView) -> &str| human.is_some_and(|h| q.matches(field(h)));
        match self {
            Self::UserName(q) => q.matches(&u.user_name),
            Self::FirstName(q) => human_text(q, |h| &h.given_name),
            Self::LastName(q) => human_text(q, |h| &h.family_name),
            Self::NickName(q) => human_text(q, |h| &h.nick_name),
            Self::DisplayName(q) => human_text(q, |h| &h.display_name),
            Self::Email(q) => human_text(q, |h| &h.email),
            Self::Phone(q) => human_text(q, |h| &h.phone),
            Self::LoginName(q) => login_names(u).iter().any(|n| q.matches(n)),
            Self::State(s) => match s {
                UserStateQuery::Active => u.state == UserState::Active,
                UserStateQuery::Locked => u.state == UserState::Locked,
                UserStateQuery::Inactive => u.state == UserState::Inactive,
                // Twofold has no deleted (they are gone) or initial users.
                UserStateQuery::Deleted | UserStateQuery::Initial => false,
            },
            Self::Human(h) => human.is_some() == *h,
            Self::InUserIds(ids) => ids.iter().any(|id| u.id == *id),
            Self::InUserEmails(emails) => human.is_some_and(|h| emails.contains(&h.email)),
            Self::Organization(org) => u.org_id == *org,
            Self::Or(qs) => qs.iter().any(|q| q.matches(u)),
            Self::And(qs) => qs.iter().all(|q| q.matches(u)),
            Self::Not(q) => !q.matches(u),
        }
    }
}

/// A user's login names (Twofold has one: the user name).
pub fn login_names(u: &UserView) -> Vec<&str> {
    vec![u.user_name.as_str()]
}

/// Sort orders of v2 ListUsers (`UserFieldName`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserSort {
    /// Creation order (the default).
    Unspecified,
    UserName,
    FirstName,
    LastName,
    NickName,
    DisplayName,
    Email,
    State,
    Type,
    CreationDate,
}

impl UserSort {
    pub fn from_i32(n: i32) -> Option<Self> {
        use UserSort::*;
        Some(match n {
            0 => Unspecified,
            1 => UserName,
            2 => FirstName,
            3 => LastName,
            4 => NickName,
            5 => DisplayName,
            6 => Email,
            7 => State,
            8 => Type,
            9 => CreationDate,
            _ => return None,
        })
    }

    fn compare(self, a: &UserView, b: &UserView) -> Ordering {
        let h = |u: &UserView, f: fn(&super::directory::HumanView) -> String| u.human().map(f).unwrap_or_default();
        match self {
            Self::Unspecified | Self::CreationDate => a.details.creation_date.cmp(&b.details.creation_date),
            Self::UserName => a.user_name.to_lowercase().cmp(&b.user_name.to_lowercase()),
            Self::FirstName => h(a, |h| h.given_name.to_lowercase()).cmp(&h(b, |h| h.given_name.to_lowercase())),
            Self::LastName => h(a, |h| h.family_name.to_lowercase()).cmp(&h(b, |h| h.family_name.to_lowercase())),
            Self::NickName => h(a, |h| h.nick_name.to_lowercase()).cmp(&h(b, |h| h.nick_name.to_lowercase())),
            Self::DisplayName => h(a, |h| h.display_name.to_lowercase()).cmp(&h(b, |h| h.display_name.to_lowercase())),
            Self::Email => h(a, |h| h.email.to_lowercase()).cmp(&h(b, |h| h.email.to_lowercase())),
            Self::State => state_rank(a.state).cmp(&state_rank(b.state)),
            Self::Type => kind_rank(&a.kind).cmp(&kind_rank(&b.kind)),
        }
    }
}

fn state_rank(s: UserState) -> u8 {
    // v2 numbering: ACTIVE 1, INACTIVE 2, LOCKED 4.
    match s {
        UserState::Active => 1,
        UserState::Inactive => 2,
        UserState::Locked => 4,
    }
}

fn kind_rank(k: &UserKind) -> u8 {
    match k {
        UserKind::Human(_) => 1,
        UserKind::Machine { .. } => 2,
    }
}

/// Offset, limit and direction of a list request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ListRequest {
    pub offset: u64,
    pub limit: u32,
    /// With a sorting column: ascending when true, descending otherwise
    /// (ZITADEL's rule). Without one the default order applies.
    pub asc: bool,
}

/// Largest page a list returns, and the page size when none is asked for.
pub const MAX_LIMIT: usize = 1000;
pub const DEFAULT_LIMIT: usize = 100;

impl ListRequest {
    /// A limit above [`MAX_LIMIT`] is refused, not cut down.
    pub fn checked(offset: u64, limit: u32, asc: bool) -> Result<Self, DomainError> {
        if limit as usize > MAX_LIMIT {
            return Err(DomainError::invalid("QUERY-4M0fs", "Limit exceeded"));
        }
        Ok(Self { offset, limit, asc })
    }

    /// The page size: the limit asked for, [`DEFAULT_LIMIT`] for none.
    pub fn limit_or_default(self) -> usize {
        match self.limit as usize {
            0 => DEFAULT_LIMIT,
            n => n.min(MAX_LIMIT),
        }
    }

    /// The page `offset..offset+limit` of `items` (limit 0 = default).
    pub fn page<T>(self, items: Vec<T>) -> Vec<T> {
        let limit = self.limit_or_default();
        let offset = usize::try_from(self.offset).unwrap_or(usize::MAX);
        items.into_iter().skip(offset).take(limit).collect()
    }

    /// Sorts by `cmp`, descending unless `asc` when the column was chosen.
    pub fn sort<T>(self, items: &mut [T], chosen: bool, cmp: impl Fn(&T, &T) -> Ordering) {
        if chosen && !self.asc {
            items.sort_by(|a, b| cmp(b, a));
        } else {
            items.sort_by(cmp);
        }
    }
}

/// The total and the requested page of matching users, sorted.
pub fn users_page(mut users: Vec<UserView>, sort: UserSort, list: ListRequest) -> (usize, Vec<UserView>) {
    list.sort(&mut users, sort != UserSort::Unspecified, |a, b| sort.compare(a, b));
    (users.len(), list.page(users))
}

/// A condition of v2 ListSessions (`zitadel.session.v2.SearchQuery`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionQuery {
    Ids(Vec<String>),
    UserId(String),
    CreationDate(Timestamp, TimeMethod),
    /// None: sessions the caller created.
    Creator(Option<String>),
    /// Sessions without expiry count as later than any date.
    ExpirationDate(Timestamp, TimeMethod),
}

impl SessionQuery {
    pub fn matches(&self, s: &SessionView, caller_id: &str) -> bool {
        match self {
            Self::Ids(ids) => ids.iter().any(|id| s.id == *id),
            Self::UserId(id) => s.user_id.as_ref().is_some_and(|u| u == id),
            Self::CreationDate(t, m) => m.matches(s.details.creation_date, *t),
            Self::Creator(c) => s.creator == c.as_deref().unwrap_or(caller_id),
            Self::ExpirationDate(t, m) => match s.expiration {
                Some(e) => m.matches(e, *t),
                None => matches!(m, TimeMethod::Greater | TimeMethod::GreaterOrEquals),
            },
        }
    }
}

/// Sessions: creation date descending by default (newest first); with the
/// creation-date column chosen, ascending when `asc`.
pub fn sessions_page(
    mut sessions: Vec<SessionView>,
    by_creation: bool,
    list: ListRequest,
) -> (usize, Vec<SessionView>) {
    if by_creation {
        list.sort(&mut sessions, true, |a, b| {
            a.details.creation_date.cmp(&b.details.creation_date)
        });
    } else {
        sessions.sort_by_key(|s| std::cmp::Reverse(s.details.creation_date));
    }
    (sessions.len(), list.page(sessions))
}

/// A condition of Admin ListOrgs (`zitadel.org.v1.OrgQuery`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrgQuery {
    Name(Text),
    Domain(Text),
    Id(String),
    /// Orgs are never deactivated in Twofold: true matches all, false none.
    Active(bool),
    /// The instance's default org (v2 `DefaultOrganizationQuery`).
    Default,
}

impl OrgQuery {
    /// `default_org`: the instance's default org.
    pub fn matches(&self, o: &OrgView, default_org: &OrgId) -> bool {
        match self {
            Self::Name(q) => q.matches(&o.name),
            Self::Domain(q) => q.matches(&o.primary_domain),
            Self::Id(id) => o.id == *id,
            Self::Active(a) => *a,
            Self::Default => o.id == *default_org,
        }
    }
}

/// A condition of the member lists (`zitadel.member.v1.SearchQuery`),
/// evaluated on the member's user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MemberQuery {
    FirstName(Text),
    LastName(Text),
    Email(Text),
    UserId(String),
}

impl MemberQuery {
    /// `user` is the member's user (None if it is gone).
    pub fn matches(&self, user_id: &str, user: Option<&UserView>) -> bool {
        let human = user.and_then(UserView::human);
        match self {
            Self::FirstName(q) => human.is_some_and(|h| q.matches(&h.given_name)),
            Self::LastName(q) => human.is_some_and(|h| q.matches(&h.family_name)),
            Self::Email(q) => human.is_some_and(|h| q.matches(&h.email)),
            Self::UserId(id) => user_id == id,
        }
    }
}

/// Sort orders of the member lists (`MemberFieldColumnName`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberSort {
    Unspecified,
    UserId,
    CreationDate,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::readmodel::DocDetails;
    use crate::readmodel::directory::HumanView;

    fn text(value: &str, method: TextMethod) -> Text {
        Text {
            value: value.into(),
            method,
        }
    }

    #[test]
    fn text_methods() {
        use TextMethod::*;
        let cases = [
            ("Bank", "Bank", Equals, true),
            ("Bank", "bank", Equals, false),
            ("Bank", "bank", EqualsIgnoreCase, true),
            ("Bank EU", "Ba", StartsWith, true),
            ("Bank EU", "ba", StartsWith, false),
            ("Bank EU", "ba", StartsWithIgnoreCase, true),
            ("Bank EU", "k E", Contains, true),
            ("Bank EU", "k e", ContainsIgnoreCase, true),
            ("Bank EU", "EU", EndsWith, true),
            ("Bank EU", "eu", EndsWithIgnoreCase, true),
            ("Bank EU", "Bank", EndsWith, false),
        ];
        for (value, query, method, expected) in cases {
            assert_eq!(method.matches(value, query), expected, "{value} {method:?} {query}");
        }
        assert_eq!(TextMethod::from_i32(7), Some(EndsWithIgnoreCase));
        assert_eq!(TextMethod::from_i32(8), None);
    }

    #[test]
    fn exact_user_name_only_when_every_match_has_it() {
        use TextMethod::*;
        let name = |m| UserQuery::UserName(text("Alice", m));
        assert_eq!(name(Equals).exact_user_name().as_deref(), Some("alice"));
        assert_eq!(
            UserQuery::LoginName(text("ALICE", EqualsIgnoreCase))
                .exact_user_name()
                .as_deref(),
            Some("alice")
        );
        assert_eq!(name(StartsWith).exact_user_name(), None);
        let and = UserQuery::And(vec![UserQuery::Human(true), name(Equals)]);
        assert_eq!(and.exact_user_name().as_deref(), Some("alice"));
        // Under Or or Not, other users may match too.
        assert_eq!(UserQuery::Or(vec![name(Equals)]).exact_user_name(), None);
        assert_eq!(UserQuery::Not(Box::new(name(Equals))).exact_user_name(), None);
        assert_eq!(UserQuery::And(vec![]).exact_user_name(), None);
    }

    fn human(id: &str, org: &str, user_name: &str, given: &str, email: &str, created: i64) -> UserView {
        UserView {
            id: id.into(),
            org_id: org.into(),
            user_name: user_name.into(),
            state: UserState::Active,
            kind: UserKind::Human(Box::new(HumanView {
                given_name: given.into(),
                family_name: "Liddell".into(),
                nick_name: "ally".into(),
                display_name: format!("{given} Liddell"),
                email: email.into(),
                phone: "+41790000000".into(),
                ..HumanView::default()
            })),
            factors: Default::default(),
            details: DocDetails {
                creation_date: Timestamp(created),
                ..DocDetails::default()
            },
        }
    }

    fn machine(id: &str, org: &str, user_name: &str, created: i64) -> UserView {
        UserView {
            id: id.into(),
            org_id: org.into(),
            user_name: user_name.into(),
            state: UserState::Locked,
            kind: UserKind::Machine {
                name: user_name.into(),
                description: String::new(),
                access_token_type: 0,
            },
            factors: Default::default(),
            details: DocDetails {
                creation_date: Timestamp(created),
                ..DocDetails::default()
            },
        }
    }

    #[test]
    fn user_queries() {
        use TextMethod::*;
        use UserQuery as Q;
        let alice = human("1", "a", "alice", "Alice", "alice@example.com", 1);
        let bot = machine("2", "b", "bot", 2);
        // (query, matches alice, matches bot)
        let cases: Vec<(Q, bool, bool)> = vec![
            (Q::UserName(text("ali", StartsWith)), true, false),
            (Q::UserName(text("BOT", EqualsIgnoreCase)), false, true),
            (Q::FirstName(text("alice", EqualsIgnoreCase)), true, false),
            (Q::LastName(text("Lid", StartsWith)), true, false),
            (Q::NickName(text("ally", Equals)), true, false),
            (Q::DisplayName(text("Alice Liddell", Equals)), true, false),
            (Q::Email(text("@example.com", EndsWith)), true, false),
            (Q::Phone(text("+4179", StartsWith)), true, false),
            (Q::LoginName(text("nobody-xyz", Equals)), false, false),
            (Q::LoginName(text("alice", Equals)), true, false),
            (Q::State(UserStateQuery::Active), true, false),
            (Q::State(UserStateQuery::Locked), false, true),
            (Q::State(UserStateQuery::Initial), false, false),
            (Q::Human(true), true, false),
            (Q::Human(false), false, true),
            (Q::InUserIds(vec!["2".into(), "9".into()]), false, true),
            (Q::InUserIds(vec![]), false, false),
            (Q::InUserEmails(vec!["alice@example.com".into()]), true, false),
            (Q::Organization("b".into()), false, true),
            (
                Q::Or(vec![Q::Organization("a".into()), Q::UserName(text("bot", Equals))]),
                true,
                true,
            ),
            (
                Q::And(vec![Q::Organization("a".into()), Q::UserName(text("bot", Equals))]),
                false,
                false,
            ),
            (Q::And(vec![]), true, true),
            (Q::Or(vec![]), false, false),
            (Q::Not(Box::new(Q::Organization("a".into()))), false, true),
        ];
        for (q, a, b) in cases {
            assert_eq!((q.matches(&alice), q.matches(&bot)), (a, b), "{q:?}");
        }
    }

    #[test]
    fn user_sorting_and_paging() {
        let users = vec![
            human("1", "a", "carol", "Zoe", "z@x", 1),
            human("2", "a", "Bob", "Yan", "y@x", 2),
            machine("3", "a", "alf", 3),
        ];
        let names =
            |(total, page): (usize, Vec<UserView>)| (total, page.into_iter().map(|u| u.user_name).collect::<Vec<_>>());
        let list = |asc| ListRequest {
            asc,
            ..ListRequest::default()
        };
        assert_eq!(
            names(users_page(users.clone(), UserSort::Unspecified, list(false))),
            (3, vec!["carol".into(), "Bob".into(), "alf".into()])
        );
        assert_eq!(
            names(users_page(users.clone(), UserSort::UserName, list(true))),
            (3, vec!["alf".into(), "Bob".into(), "carol".into()])
        );
        assert_eq!(
            names(users_page(users.clone(), UserSort::UserName, list(false))),
            (3, vec!["carol".into(), "Bob".into(), "alf".into()])
        );
        assert_eq!(
            names(users_page(users.clone(), UserSort::FirstName, list(true))),
            (3, vec!["alf".into(), "Bob".into(), "carol".into()]),
            "machines have no first name"
        );
        let paged = ListRequest {
            offset: 1,
            limit: 1,
            asc: true,
        };
        assert_eq!(
            names(users_page(users, UserSort::UserName, paged)),
            (3, vec!["Bob".into()])
        );
        assert!(ListRequest::checked(0, 1000, false).is_ok());
        assert_eq!(ListRequest::checked(0, 1001, false).unwrap_err().id, "QUERY-4M0fs");
        assert_eq!(UserSort::from_i32(10), None);
    }

    #[test]
    fn session_queries() {
        use TimeMethod::*;
        let s = SessionView {
            id: "s1".into(),
            creator: "admin".into(),
            user_id: Some("u1".into()),
            details: DocDetails {
                creation_date: Timestamp(100),
                ..DocDetails::default()
            },
            ..SessionView::default()
        };
        let cases = [
            (SessionQuery::Ids(vec!["s1".into()]), true),
            (SessionQuery::Ids(vec!["s2".into()]), false),
            (SessionQuery::UserId("u1".into()), true),
            (SessionQuery::UserId("u2".into()), false),
            (SessionQuery::CreationDate(Timestamp(100), Equals), true),
            (SessionQuery::CreationDate(Timestamp(100), Greater), false),
            (SessionQuery::CreationDate(Timestamp(50), Greater), true),
            (SessionQuery::CreationDate(Timestamp(100), LessOrEquals), true),
            (SessionQuery::Creator(Some("admin".into())), true),
            (SessionQuery::Creator(Some("other".into())), false),
            (SessionQuery::Creator(None), false),
            (SessionQuery::ExpirationDate(Timestamp(1), Greater), true),
            (SessionQuery::ExpirationDate(Timestamp(1), Less), false),
        ];
        for (q, expected) in cases {
            assert_eq!(q.matches(&s, "caller"), expected, "{q:?}");
        }
        assert!(
            SessionQuery::Creator(None).matches(&s, "admin"),
            "unset creator: the caller"
        );
    }

    #[test]
    fn member_and_org_queries() {
        let alice = human("1", "a", "alice", "Alice", "alice@example.com", 1);
        assert!(MemberQuery::FirstName(text("ali", TextMethod::StartsWithIgnoreCase)).matches("1", Some(&alice)));
        assert!(!MemberQuery::Email(text("bob", TextMethod::Contains)).matches("1", Some(&alice)));
        assert!(MemberQuery::UserId("1".into()).matches("1", None));
        assert!(!MemberQuery::LastName(text("L", TextMethod::StartsWith)).matches("1", None));
        let org = OrgView {
            id: "o1".into(),
            name: "Bank EU".into(),
            state: super::super::directory::OrgState::Active,
            primary_domain: "bank.example".into(),
            details: DocDetails::default(),
        };
        let default = OrgId::from("o1");
        assert!(OrgQuery::Name(text("bank", TextMethod::StartsWithIgnoreCase)).matches(&org, &default));
        assert!(OrgQuery::Domain(text(".example", TextMethod::EndsWith)).matches(&org, &default));
        assert!(!OrgQuery::Id("o2".into()).matches(&org, &default));
        assert!(!OrgQuery::Active(false).matches(&org, &default));
        assert!(OrgQuery::Default.matches(&org, &default));
        assert!(!OrgQuery::Default.matches(&org, &OrgId::from("o2")));
    }
}
