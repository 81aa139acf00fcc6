//! Errors on the wire, in ZITADEL's shape. gRPC: status code, message
//! `"<message> (<id>)"`, and a `zitadel.v1.ErrorDetail` in
//! `grpc-status-details-bin`. REST: `{"code","message","details":[…]}` with
//! grpc-gateway's code → HTTP status mapping. Connect: `{"code":"not_found",
//! "message","details":[{"type","value"}]}` with the same HTTP statuses.
//! Errors without an id (request validation, missing auth header, unknown
//! instance) carry no details.

use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use bytes::Bytes;
use prost::Message;
use serde_json::json;
use tonic::{Code, Status};
use twofold_domain::{DomainError, ErrorKind};
use twofold_proto::zitadel::v1::ErrorDetail;

const ERROR_DETAIL_NAME: &str = "zitadel.v1.ErrorDetail";
const ERROR_DETAIL_TYPE: &str = "type.googleapis.com/zitadel.v1.ErrorDetail";

/// `google.rpc.Status`, the payload of `grpc-status-details-bin`.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
    #[prost(message, repeated, tag = "3")]
    details: Vec<prost_types::Any>,
}

fn code(kind: ErrorKind) -> Code {
    match kind {
        ErrorKind::InvalidArgument => Code::InvalidArgument,
        ErrorKind::NotFound => Code::NotFound,
        ErrorKind::AlreadyExists => Code::AlreadyExists,
        ErrorKind::PermissionDenied => Code::PermissionDenied,
        ErrorKind::FailedPrecondition => Code::FailedPrecondition,
        ErrorKind::Unauthenticated => Code::Unauthenticated,
        ErrorKind::Unavailable => Code::Unavailable,
        ErrorKind::ResourceExhausted => Code::ResourceExhausted,
        ErrorKind::Internal => Code::Internal,
    }
}

pub fn to_status(e: DomainError) -> Status {
    let retry_after = e.retry_after_secs;
    let mut status = status_of(e);
    if let Some(secs) = retry_after
        && let Ok(v) = secs.to_string().parse()
    {
        status.metadata_mut().insert("retry-after", v);
    }
    status
}

fn status_of(e: DomainError) -> Status {
    let code = code(e.kind);
    if e.id.is_empty() {
        return Status::new(code, e.message);
    }
    let message = format!("{} ({})", e.message, e.id);
    let detail = ErrorDetail {
        id: e.id.into_owned(),
        message: e.message.into_owned(),
    };
    let details = RpcStatus {
        code: code as i32,
        message: message.clone(),
        details: vec![prost_types::Any {
            type_url: ERROR_DETAIL_TYPE.into(),
            value: detail.encode_to_vec(),
        }],
    };
    Status::with_details(code, message, Bytes::from(details.encode_to_vec()))
}

/// A request-validation error (as protoc-gen-validate words them; no details).
pub fn invalid(message: impl Into<String>) -> Status {
    Status::invalid_argument(message)
}

/// HTTP status grpc-gateway v2 uses for a gRPC code.
pub fn http_status(code: Code) -> http::StatusCode {
    use http::StatusCode as S;
    match code {
        Code::Ok => S::OK,
        Code::Cancelled => S::from_u16(499).unwrap_or(S::BAD_REQUEST),
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => S::BAD_REQUEST,
        Code::DeadlineExceeded => S::GATEWAY_TIMEOUT,
        Code::NotFound => S::NOT_FOUND,
        Code::AlreadyExists | Code::Aborted => S::CONFLICT,
        Code::PermissionDenied => S::FORBIDDEN,
        Code::Unauthenticated => S::UNAUTHORIZED,
        Code::ResourceExhausted => S::TOO_MANY_REQUESTS,
        Code::Unimplemented => S::NOT_IMPLEMENTED,
        Code::Unavailable => S::SERVICE_UNAVAILABLE,
        Code::Unknown | Code::Internal | Code::DataLoss => S::INTERNAL_SERVER_ERROR,
    }
}

/// The `zitadel.v1.ErrorDetail`s a status carries in its details.
fn error_details(status: &Status) -> Vec<ErrorDetail> {
    RpcStatus::decode(status.details())
        .map(|s| s.details)
        .unwrap_or_default()
        .iter()
        .filter(|any| any.type_url == ERROR_DETAIL_TYPE)
        .filter_map(|any| ErrorDetail::decode(any.value.as_slice()).ok())
        .collect()
}

/// The REST body of a status (`google.rpc.Status` as JSON).
pub fn rest_body(status: &Status) -> serde_json::Value {
    let mut body = json!({"code": status.code() as i32, "message": status.message()});
    let details: Vec<serde_json::Value> = error_details(status)
        .into_iter()
        .map(|d| json!({"@type": ERROR_DETAIL_TYPE, "id": d.id, "message": d.message}))
        .collect();
    if !details.is_empty()
        && let Some(obj) = body.as_object_mut()
    {
        obj.insert("details".into(), details.into());
    }
    body
}

/// An error the transport answers itself (oversize body, URI or headers; a
/// panic), with its own HTTP status but the contract's body.
pub fn protocol_error(http: http::StatusCode, code: Code, message: impl Into<String>) -> Response {
    let body = json!({"code": code as i32, "message": message.into()});
    (http, axum::Json(body)).into_response()
}

pub fn rest_response(status: &Status) -> Response {
    with_retry_after(
        (http_status(status.code()), axum::Json(rest_body(status))).into_response(),
        status,
    )
}

/// Connect's name of a code (`not_found`).
fn connect_code(code: Code) -> &'static str {
    match code {
        Code::Ok => "ok",
        Code::Cancelled => "canceled",
        Code::Unknown => "unknown",
        Code::InvalidArgument => "invalid_argument",
        Code::DeadlineExceeded => "deadline_exceeded",
        Code::NotFound => "not_found",
        Code::AlreadyExists => "already_exists",
        Code::PermissionDenied => "permission_denied",
        Code::ResourceExhausted => "resource_exhausted",
        Code::FailedPrecondition => "failed_precondition",
        Code::Aborted => "aborted",
        Code::OutOfRange => "out_of_range",
        Code::Unimplemented => "unimplemented",
        Code::Internal => "internal",
        Code::Unavailable => "unavailable",
        Code::DataLoss => "data_loss",
        Code::Unauthenticated => "unauthenticated",
    }
}

/// The Connect body of a status: each detail's protobuf bytes as unpadded
/// standard base64 (what connect-go writes), plus its JSON under `debug`.
pub fn connect_body(status: &Status) -> serde_json::Value {
    let mut body = json!({"code": connect_code(status.code())});
    let Some(obj) = body.as_object_mut() else {
        return body;
    };
    if !status.message().is_empty() {
        obj.insert("message".into(), status.message().into());
    }
    let details: Vec<serde_json::Value> = error_details(status)
        .into_iter()
        .map(|d| {
            json!({"type": ERROR_DETAIL_NAME,
                   "value": STANDARD_NO_PAD.encode(d.encode_to_vec()),
                   "debug": {"id": d.id, "message": d.message}})
        })
        .collect();
    if !details.is_empty() {
        obj.insert("details".into(), details.into());
    }
    body
}

/// A Connect error answer: always JSON, whatever the request's codec.
pub fn connect_response(status: &Status) -> Response {
    with_retry_after(
        (http_status(status.code()), axum::Json(connect_body(status))).into_response(),
        status,
    )
}

fn with_retry_after(mut resp: Response, status: &Status) -> Response {
    if let Some(v) = status.metadata().get("retry-after").and_then(|v| v.to_str().ok())
        && let Ok(v) = http::HeaderValue::from_str(v)
    {
        resp.headers_mut().insert(http::header::RETRY_AFTER, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rest_shape_round_trips_through_grpc_details() {
        let s = to_status(DomainError::already_exists(
            "INSTANCE-2B0ps",
            "Errors.Instance.MFA.AlreadyExists",
        ));
        assert_eq!(s.message(), "Errors.Instance.MFA.AlreadyExists (INSTANCE-2B0ps)");
        assert_eq!(
            rest_body(&s),
            json!({"code": 6, "message": "Errors.Instance.MFA.AlreadyExists (INSTANCE-2B0ps)",
                   "details": [{"@type": ERROR_DETAIL_TYPE, "id": "INSTANCE-2B0ps",
                                "message": "Errors.Instance.MFA.AlreadyExists"}]})
        );
        assert_eq!(http_status(s.code()), http::StatusCode::CONFLICT);
    }

    #[test]
    fn errors_without_id_have_no_details() {
        let s = to_status(DomainError::new(ErrorKind::Unauthenticated, "", "auth header missing"));
        assert_eq!(rest_body(&s), json!({"code": 16, "message": "auth header missing"}));
        assert_eq!(
            connect_body(&s),
            json!({"code": "unauthenticated", "message": "auth header missing"})
        );
    }

    #[test]
    fn connect_codes_and_statuses_follow_connects_table() {
        use http::StatusCode as S;
        for (code, name, http) in [
            (Code::Cancelled, "canceled", 499),
            (Code::Unknown, "unknown", 500),
            (Code::InvalidArgument, "invalid_argument", 400),
            (Code::DeadlineExceeded, "deadline_exceeded", 504),
            (Code::NotFound, "not_found", 404),
            (Code::AlreadyExists, "already_exists", 409),
            (Code::PermissionDenied, "permission_denied", 403),
            (Code::ResourceExhausted, "resource_exhausted", 429),
            (Code::FailedPrecondition, "failed_precondition", 400),
            (Code::Aborted, "aborted", 409),
            (Code::OutOfRange, "out_of_range", 400),
            (Code::Unimplemented, "unimplemented", 501),
            (Code::Internal, "internal", 500),
            (Code::Unavailable, "unavailable", 503),
            (Code::DataLoss, "data_loss", 500),
            (Code::Unauthenticated, "unauthenticated", 401),
        ] {
            let resp = connect_response(&Status::new(code, "m"));
            assert_eq!((connect_code(code), resp.status()), (name, S::from_u16(http).unwrap()));
        }
    }

    #[test]
    fn connect_shape_carries_the_detail_as_unpadded_base64() {
        // The worked example of the contract (part 3, §27.6).
        let s = to_status(DomainError::new(
            ErrorKind::FailedPrecondition,
            "COMMAND-Sx208nt",
            "Auth Request has already been handled",
        ));
        assert_eq!(
            connect_body(&s),
            json!({"code": "failed_precondition",
                   "message": "Auth Request has already been handled (COMMAND-Sx208nt)",
                   "details": [{"type": "zitadel.v1.ErrorDetail",
                                "value": "Cg9DT01NQU5ELVN4MjA4bnQSJUF1dGggUmVxdWVzdCBoYXMgYWxyZWFkeSBiZWVuIGhhbmRsZWQ",
                                "debug": {"id": "COMMAND-Sx208nt",
                                          "message": "Auth Request has already been handled"}}]})
        );
    }
}
