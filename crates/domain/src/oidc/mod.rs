//! The OIDC provider's decisions: auth requests ([`auth_request`]), the
//! authorize parameters ([`authorize`]), scope filtering ([`scopes`]), the
//! login policy a session must satisfy to finish a sign-in ([`door`]), the
//! signing keys ([`keys`]), the token endpoint's rules ([`token`]) and `private_key_jwt`
//! ([`client_assertion`]), the
//! tokens of a grant ([`session`]) and the claims they carry ([`claims`]).

pub mod auth_request;
pub mod authorize;
pub mod claims;
pub mod client_assertion;
pub mod door;
pub mod keys;
pub mod scopes;
pub mod session;
pub mod token;
