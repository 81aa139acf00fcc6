//! A request tonic could not read (bad frame, garbage or too deeply nested
//! protobuf, bad gRPC-web base64) is the client's error: INVALID_ARGUMENT,
//! not the INTERNAL tonic reports (the gRPC status-code guide's server-side
//! INTERNAL is about the server's own messages). A message over the size
//! limit is RESOURCE_EXHAUSTED, as gRPC servers elsewhere answer it.
//!
//! tonic answers these before any handler runs, as a trailers-only
//! response, and only its status message tells them apart, so the messages
//! are matched here; the integration suite pins the wording of the tonic in use.

use axum::response::Response;
use tonic::{Code, Status};

/// Beginnings of the messages tonic, tonic-prost and tonic-web give for a
/// request they cannot read.
const DECODE_FAILURES: &[&str] = &[
    "failed to decode Protobuf message",
    "protocol error:",
    "Unexpected EOF decoding stream.",
    "Missing request message.",
    "Error decompressing:",
    "tonic-web:",
];
const TOO_LARGE: &str = "Error, decoded message length too large";

pub fn client_errors(resp: Response) -> Response {
    // Only trailers-only answers carry the status in the headers.
    let Some(status) = Status::from_header_map(resp.headers()) else {
        return resp;
    };
    match rewrite(&status) {
        Some(s) => s.into_http(),
        None => resp,
    }
}

fn rewrite(status: &Status) -> Option<Status> {
    let message = status.message();
    match status.code() {
        Code::Internal | Code::DataLoss | Code::Unknown if DECODE_FAILURES.iter().any(|p| message.starts_with(p)) => {
            Some(Status::invalid_argument(format!("invalid request message: {message}")))
        }
        Code::OutOfRange if message.starts_with(TOO_LARGE) => Some(Status::resource_exhausted(message)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The integration suite (`grpc_garbage_is_invalid_argument`) pins these
    // against the tonic actually in use.
    #[test]
    fn decode_failures_become_client_errors() {
        let s = rewrite(&Status::internal("failed to decode Protobuf message: invalid varint")).unwrap();
        assert_eq!(s.code(), Code::InvalidArgument);
        let s = rewrite(&Status::data_loss("tonic-web: incomplete grpc-web message frame")).unwrap();
        assert_eq!(s.code(), Code::InvalidArgument);
        let s = rewrite(&Status::out_of_range(format!(
            "{TOO_LARGE}: found 9 bytes, the limit is: 8 bytes"
        )))
        .unwrap();
        assert_eq!(s.code(), Code::ResourceExhausted);
    }

    #[test]
    fn handler_errors_are_left_alone() {
        assert!(rewrite(&Status::internal("An internal error occurred (STORE-Int01)")).is_none());
        assert!(rewrite(&Status::invalid_argument("failed to decode Protobuf message")).is_none());
    }
}
