//! The OIDC provider's decisions: auth requests ([`auth_request`]), the
//! authorize parameters ([`authorize`]), scope filtering ([`scopes`]) and
//! the login policy a session must satisfy to finish a sign-in ([`door`]).

pub mod auth_request;
pub mod authorize;
pub mod door;
pub mod scopes;
