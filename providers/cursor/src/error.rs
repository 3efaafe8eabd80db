//! Error answers into [`refunds::Error`].
//!
//! The excerpt documents no error body, so every common shape is read, none required:
//!
//! - Stripe style: `{"error": {"type", "code", "message", "param", "request_id"}}` (also
//!   `{"error": "text"}`),
//! - flat: `{"message", "code", "param" | "field", "errors": [{"field" | "param", "message", "code"}]}`,
//! - `{"detail": "text"}` or a validation list `{"detail": [{"loc": [..], "msg", "type"}]}`.
//!
//! The HTTP status decides the kind first ([`kind_for_status`]); a known provider code then refines
//! it. A body that is none of these keeps the status's kind and the body text.

use refunds::adapter::{ApiResponse, kind_for_status};
use refunds::{Delivery, Error, ErrorKind, FieldError};
use serde_json::Value;

/// Provider codes that say more than the HTTP status. All assumed (Stripe-like names); the
/// document lists none.
fn kind_for_code(code: &str) -> Option<ErrorKind> {
    Some(match code {
        "amount_too_large" | "amount_exceeds_refundable" | "insufficient_refundable_amount" => {
            ErrorKind::AmountExceedsRefundable
        }
        "charge_already_refunded" | "payment_already_refunded" | "already_refunded" => ErrorKind::AlreadyRefunded,
        "payment_not_found" | "resource_missing" | "not_found" => ErrorKind::NotFound,
        "payment_not_succeeded" | "payment_not_refundable" | "invalid_payment_status" => ErrorKind::Validation,
        "rate_limit" | "rate_limited" | "too_many_requests" => ErrorKind::RateLimited,
        "unauthorized" | "invalid_api_key" | "authentication_required" => ErrorKind::Authentication,
        "permission_denied" | "forbidden" => ErrorKind::PermissionDenied,
        _ => return None,
    })
}

/// What the body said, whichever shape it had.
#[derive(Debug, Default)]
struct Said {
    code: Option<String>,
    error_type: Option<String>,
    message: Option<String>,
    request_id: Option<String>,
    fields: Vec<FieldError>,
}

fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A field path as a dotted string: `"amount"`, or `["body", "amount"]` joined to `body.amount`.
fn path(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Array(parts) => {
            let parts: Vec<String> = parts.iter().filter_map(|p| text(Some(p))).collect();
            (!parts.is_empty()).then(|| parts.join("."))
        }
        other => text(Some(other)),
    }
}

/// Reads one object of the Stripe or flat shape.
fn read_object(object: &serde_json::Map<String, Value>, said: &mut Said) {
    said.code = said.code.take().or_else(|| text(object.get("code")));
    said.error_type = said.error_type.take().or_else(|| text(object.get("type")));
    said.message = said
        .message
        .take()
        .or_else(|| text(object.get("message")))
        .or_else(|| text(object.get("error_description")));
    said.request_id = said.request_id.take().or_else(|| text(object.get("request_id")));
    let field = path(object.get("param")).or_else(|| path(object.get("field")));
    if let Some(field) = field {
        let message = said.message.clone().unwrap_or_default();
        said.fields.push(FieldError::new(field, message, said.code.clone()));
    }
    if let Some(Value::Array(errors)) = object.get("errors") {
        said.fields.extend(errors.iter().filter_map(field_error));
    }
}

/// One entry of an `errors` or `detail` list.
fn field_error(entry: &Value) -> Option<FieldError> {
    let object = entry.as_object()?;
    let field = path(object.get("field"))
        .or_else(|| path(object.get("param")))
        .or_else(|| path(object.get("loc")))
        .or_else(|| path(object.get("path")))?;
    let message = text(object.get("message"))
        .or_else(|| text(object.get("msg")))
        .unwrap_or_default();
    let code = text(object.get("code")).or_else(|| text(object.get("type")));
    Some(FieldError::new(field, message, code))
}

fn read_body(body: &[u8]) -> Option<Said> {
    let Value::Object(top) = serde_json::from_slice::<Value>(body).ok()? else {
        return None;
    };
    let mut said = Said::default();
    match top.get("error") {
        Some(Value::Object(inner)) => read_object(inner, &mut said),
        Some(Value::String(message)) => said.message = Some(message.clone()),
        _ => {}
    }
    read_object(&top, &mut said);
    match top.get("detail") {
        Some(Value::String(message)) => {
            said.message.get_or_insert_with(|| message.clone());
        }
        Some(Value::Array(entries)) => {
            said.fields.extend(entries.iter().filter_map(field_error));
            if said.message.is_none() {
                said.message = said.fields.first().map(|f| f.message.clone());
            }
        }
        _ => {}
    }
    let said_anything =
        said.code.is_some() || said.message.is_some() || said.error_type.is_some() || !said.fields.is_empty();
    said_anything.then_some(said)
}

/// The provider's error answer as an [`Error`]: kind, code, message, field errors and the body's
/// request id. The transport adds the HTTP status, header request id, `Retry-After` and delivery.
pub(crate) fn decode_error(response: &ApiResponse) -> Error {
    let by_status = kind_for_status(response.status);
    let Some(said) = read_body(&response.body) else {
        return Error::new(by_status, Delivery::Rejected, format!("http {}", response.status))
            .with_body(&response.body);
    };
    let kind = said
        .code
        .as_deref()
        .and_then(kind_for_code)
        .filter(|_| refinable(&by_status))
        .unwrap_or(by_status);
    let message = said
        .message
        .clone()
        .or_else(|| said.code.clone())
        .unwrap_or_else(|| format!("http {}", response.status));
    Error::new(kind, Delivery::Rejected, message)
        .with_provider_code(said.code.or(said.error_type))
        .with_field_errors(said.fields)
        .with_request_id(said.request_id)
}

/// A code refines only a status that leaves room for it: a 5xx stays an outage and a 429 stays rate
/// limiting whatever the body says, so retries keep their meaning.
fn refinable(by_status: &ErrorKind) -> bool {
    matches!(
        by_status,
        ErrorKind::Validation | ErrorKind::NotFound | ErrorKind::Other | ErrorKind::PermissionDenied
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(status: u16, body: &str) -> Error {
        decode_error(&ApiResponse {
            status,
            headers: http::HeaderMap::new(),
            body: body.as_bytes().to_vec(),
            request_id: None,
        })
    }

    #[test]
    fn codes_refine_client_errors_only() {
        let e = decode(400, r#"{"error":{"code":"amount_too_large","message":"no"}}"#);
        assert_eq!(e.kind(), &ErrorKind::AmountExceedsRefundable);
        let e = decode(503, r#"{"error":{"code":"amount_too_large","message":"no"}}"#);
        assert_eq!(e.kind(), &ErrorKind::ProviderUnavailable);
        let e = decode(409, r#"{"error":{"code":"mystery"}}"#);
        assert_eq!(e.kind(), &ErrorKind::Other);
        assert_eq!(e.message(), "mystery");
    }
}
