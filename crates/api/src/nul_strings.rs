//! No string of a request may contain U+0000: PostgreSQL cannot store or
//! compare it in text (every such lookup would fail as an internal error),
//! and no identifier, name or secret needs it. Checked once for every RPC,
//! on the request message, by the gRPC layer (`auth::layer`) and by the
//! direct path of REST and Connect (`direct`), so no handler can forget it.

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use prost_reflect::{DynamicMessage, MapKey, Value};
use tonic::Status;

use crate::methods::MethodInfo;

/// The request again when no string of its message holds U+0000, else the
/// refusal. `max_message_bytes` is the gRPC message size limit.
pub async fn refuse_nul(info: &MethodInfo, req: Request, max_message_bytes: usize) -> Result<Request, Response> {
    let (parts, body) = req.into_parts();
    let bytes = match Limited::new(body, max_message_bytes.saturating_add(5)).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<LengthLimitError>() => {
            return Err(
                Status::resource_exhausted(format!("request message larger than {max_message_bytes} bytes"))
                    .into_http(),
            );
        }
        Err(e) => return Err(Status::invalid_argument(format!("invalid request message: {e}")).into_http()),
    };
    // One uncompressed frame; anything else is tonic's to judge.
    if let [0, l0, l1, l2, l3, message @ ..] = &bytes[..]
        && u32::from_be_bytes([*l0, *l1, *l2, *l3]) as usize == message.len()
    {
        check(info, message).map_err(|status| status.into_http())?;
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// The refusal when a string of the encoded request `message` holds U+0000.
/// A message without a zero byte holds no NUL character: most are not
/// decoded here. One that does not decode is left to the decoder to refuse.
pub fn check(info: &MethodInfo, message: &[u8]) -> Result<(), Status> {
    if message.contains(&0)
        && let Ok(msg) = DynamicMessage::decode(info.input.clone(), message)
        && let Some(field) = nul_field(&msg)
    {
        return Err(Status::invalid_argument(format!(
            "invalid {field}: must not contain the NUL character"
        )));
    }
    Ok(())
}

/// The path of the first string (or map key) that contains U+0000.
fn nul_field(msg: &DynamicMessage) -> Option<String> {
    for (field, value) in msg.fields() {
        if let Some(inner) = nul_in(value) {
            let name = field.json_name();
            return Some(if inner.is_empty() {
                name.to_owned()
            } else {
                format!("{name}.{inner}")
            });
        }
    }
    None
}

/// Some("") when `value` itself holds a NUL, Some(path) when a field below does.
fn nul_in(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => s.contains('\0').then(String::new),
        Value::Message(m) => nul_field(m),
        Value::List(items) => items.iter().find_map(nul_in),
        Value::Map(entries) => entries.iter().find_map(|(k, v)| match k {
            MapKey::String(k) if k.contains('\0') => Some(String::new()),
            _ => nul_in(v),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::methods::Methods;

    #[test]
    fn nul_is_found_with_its_path() {
        let methods = Methods::load().unwrap();
        let input = methods
            .get("/zitadel.session.v2.SessionService/CreateSession")
            .map(|m| m.input.clone())
            .unwrap();
        let json = serde_json::json!({"checks": {"user": {"loginName": "a\u{0}b"}}});
        let msg = DynamicMessage::deserialize(input.clone(), json).unwrap();
        assert_eq!(nul_field(&msg).as_deref(), Some("checks.user.loginName"));
        let json = serde_json::json!({"checks": {"user": {"loginName": "ab"}}, "metadata": {"k": "AA=="}});
        let msg = DynamicMessage::deserialize(input, json).unwrap();
        assert_eq!(nul_field(&msg), None);
    }
}
