//! Where login and lockout policies and memberships live: the instance (its
//! defaults, its IAM members) or an org.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Instance,
    Org,
}
