//! Errors as the API reports them: a kind (mapped to a gRPC code and HTTP
//! status by the transport), a stable id such as `INSTANCE-2B0ps`, and the
//! English message (or the raw i18n key where ZITADEL shows the key).

use std::borrow::Cow;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    InvalidArgument,
    NotFound,
    AlreadyExists,
    PermissionDenied,
    FailedPrecondition,
    Unauthenticated,
    ResourceExhausted,
    Unavailable,
    Internal,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message} ({id})")]
pub struct DomainError {
    pub kind: ErrorKind,
    /// Stable identifier of the error site; empty for errors that carry none.
    pub id: Cow<'static, str>,
    pub message: Cow<'static, str>,
    /// For throttling errors: seconds until a retry can succeed.
    pub retry_after_secs: Option<u64>,
}

impl DomainError {
    pub fn new(kind: ErrorKind, id: impl Into<Cow<'static, str>>, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            kind,
            id: id.into(),
            message: message.into(),
            retry_after_secs: None,
        }
    }

    pub fn invalid(id: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::InvalidArgument, id, message)
    }
    pub fn not_found(id: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::NotFound, id, message)
    }
    pub fn already_exists(id: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::AlreadyExists, id, message)
    }
    pub fn precondition(id: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::FailedPrecondition, id, message)
    }
    pub fn permission_denied(id: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::PermissionDenied, id, message)
    }
    pub fn unauthenticated(id: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Unauthenticated, id, message)
    }
    pub fn internal(id: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Internal, id, message)
    }
    pub fn unavailable(id: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Unavailable, id, message)
    }
}
