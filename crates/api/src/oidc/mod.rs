//! The OIDC provider: its HTTP endpoints ([`endpoints`], [`tokens`]) and
//! the OIDCService v2 the login UI calls ([`service`]).

pub mod endpoints;
pub mod service;
pub mod tokens;
