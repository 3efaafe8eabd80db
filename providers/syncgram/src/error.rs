//! SyncgramPay error bodies into [`refunds::Error`].
//!
//! The refund pages document the statuses (400 invalid or not refundable, 401 bad key, 403 charge of
//! another organisation, 404 charge or refund missing) but not the bodies. The API is a FastAPI
//! service, so the decoder reads every shape such a service commonly answers with, in this order:
//!
//! - `{"detail": "text"}` (FastAPI `HTTPException`);
//! - `{"detail": [{"loc": ["body", "amount"], "msg": "...", "type": "..."}]}` (FastAPI validation);
//! - `{"detail": {"code": "...", "message": "..."}}` (an `HTTPException` with an object);
//! - `{"error": "text"}` or `{"error": {"code": "...", "message": "...", "field": "..."}}`;
//! - `{"message": "...", "code": "..."}`, also inside a `{"success": false, ...}` envelope.
//!
//! The kind comes from the HTTP status first ([`refunds::adapter::kind_for_status`]), then from the
//! provider code, then, for 400s, from the message (the only signal when the body is a bare
//! `detail` string). 409 is read as an idempotency conflict (assumed: not documented).

use refunds::adapter::{ApiResponse, kind_for_status};
use refunds::{Delivery, Error, ErrorKind, FieldError};
use serde_json::{Map, Value};

/// Decodes a non-2xx SyncgramPay answer (an [`refunds::adapter::ErrorDecoder`]).
pub(crate) fn decode_error(response: &ApiResponse) -> Error {
    let status = response.status;
    let parsed = match serde_json::from_slice::<Value>(&response.body) {
        Ok(Value::Object(object)) => Parsed::from_object(&object),
        _ => Parsed::default(),
    };
    let kind = refine_kind(status, parsed.code.as_deref(), parsed.message.as_deref());
    let message = parsed
        .message
        .clone()
        .or_else(|| parsed.fields.first().map(|f| f.message.clone()))
        .unwrap_or_else(|| format!("http {status} with no readable error message"));
    Error::new(kind, Delivery::Rejected, message)
        .with_provider_code(parsed.code)
        .with_field_errors(parsed.fields)
        .with_request_id(parsed.request_id)
}

/// What the body said, whatever its shape.
#[derive(Debug, Default)]
struct Parsed {
    code: Option<String>,
    message: Option<String>,
    fields: Vec<FieldError>,
    request_id: Option<String>,
}

impl Parsed {
    fn from_object(object: &Map<String, Value>) -> Parsed {
        let mut parsed = Parsed {
            request_id: text(object.get("request_id")),
            ..Parsed::default()
        };
        match object.get("detail") {
            Some(Value::String(detail)) => parsed.message = Some(detail.clone()),
            Some(Value::Array(items)) => parsed.fields = fastapi_field_errors(items),
            Some(Value::Object(inner)) => parsed.read_error_object(inner),
            _ => {}
        }
        match object.get("error") {
            Some(Value::String(error)) => {
                // `{"error": "not_found", "message": "..."}` uses `error` as the code.
                if object.get("message").is_some() && is_code_like(error) {
                    parsed.code.get_or_insert_with(|| error.clone());
                } else {
                    parsed.message.get_or_insert_with(|| error.clone());
                }
            }
            Some(Value::Object(inner)) => parsed.read_error_object(inner),
            _ => {}
        }
        parsed.read_error_object(object);
        parsed
    }

    /// Reads `code`/`error_code`, `message`/`msg` and `field` without overwriting what is known.
    fn read_error_object(&mut self, object: &Map<String, Value>) {
        if self.code.is_none() {
            self.code = text(object.get("code")).or_else(|| text(object.get("error_code")));
        }
        if self.message.is_none() {
            self.message = text(object.get("message")).or_else(|| text(object.get("msg")));
        }
        if self.request_id.is_none() {
            self.request_id = text(object.get("request_id"));
        }
        if let (Some(field), Some(message)) = (text(object.get("field")), self.message.clone()) {
            if !self.fields.iter().any(|f| f.field == field) {
                self.fields.push(FieldError::new(field, message, self.code.clone()));
            }
        }
        if let Some(Value::Array(items)) = object.get("errors") {
            if self.fields.is_empty() {
                self.fields = fastapi_field_errors(items);
            }
        }
    }
}

/// A string, or a number written as text (codes are sometimes numeric).
fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn is_code_like(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
}

/// FastAPI's `[{"loc": [...], "msg": "...", "type": "..."}]`, with the location joined by `.`.
fn fastapi_field_errors(items: &[Value]) -> Vec<FieldError> {
    items
        .iter()
        .filter_map(|item| {
            let item = item.as_object()?;
            let field = match item.get("loc") {
                Some(Value::Array(parts)) => parts
                    .iter()
                    .filter_map(|p| match p {
                        Value::String(s) => Some(s.clone()),
                        Value::Number(n) => Some(n.to_string()),
                        _ => None,
                    })
                    .collect::<Vec<_>>()
                    .join("."),
                Some(Value::String(s)) => s.clone(),
                _ => text(item.get("field")).unwrap_or_default(),
            };
            let message = text(item.get("msg"))
                .or_else(|| text(item.get("message")))
                .unwrap_or_default();
            let code = text(item.get("type")).or_else(|| text(item.get("code")));
            Some(FieldError::new(field, message, code))
        })
        .collect()
}

/// Status table first, then the provider code, then (for a 400 with only a message) the message.
fn refine_kind(status: u16, code: Option<&str>, message: Option<&str>) -> ErrorKind {
    let by_status = match status {
        409 => ErrorKind::IdempotencyConflict,
        _ => kind_for_status(status),
    };
    if let Some(kind) = code.and_then(kind_for_code) {
        return kind;
    }
    if matches!(status, 400 | 409 | 422) {
        if let Some(kind) = message.and_then(kind_for_message) {
            return kind;
        }
    }
    by_status
}

/// Provider codes (assumed spellings; none are documented).
fn kind_for_code(code: &str) -> Option<ErrorKind> {
    let code = code.to_ascii_lowercase();
    let kind = match code.as_str() {
        "amount_exceeds_refundable"
        | "amount_exceeds_refundable_amount"
        | "refund_amount_exceeds"
        | "refund_amount_exceeds_charge"
        | "insufficient_refundable_amount"
        | "amount_too_large" => ErrorKind::AmountExceedsRefundable,
        "already_refunded" | "charge_already_refunded" | "fully_refunded" => ErrorKind::AlreadyRefunded,
        "charge_not_refundable" | "not_refundable" | "validation_error" | "invalid_request" => ErrorKind::Validation,
        "idempotency_conflict" | "idempotency_key_conflict" | "duplicate_reference" => ErrorKind::IdempotencyConflict,
        "charge_not_found" | "refund_not_found" | "not_found" => ErrorKind::NotFound,
        "unauthorized" | "invalid_api_key" => ErrorKind::Authentication,
        "forbidden" | "permission_denied" => ErrorKind::PermissionDenied,
        _ => return None,
    };
    Some(kind)
}

/// Messages of 400s (assumed wording, matched loosely and case-insensitively).
fn kind_for_message(message: &str) -> Option<ErrorKind> {
    let m = message.to_ascii_lowercase();
    if m.contains("idempotency") && (m.contains("conflict") || m.contains("different")) {
        return Some(ErrorKind::IdempotencyConflict);
    }
    if (m.contains("already") && m.contains("refunded")) || m.contains("fully refunded") {
        return Some(ErrorKind::AlreadyRefunded);
    }
    if m.contains("exceed") && (m.contains("amount") || m.contains("refundable")) {
        return Some(ErrorKind::AmountExceedsRefundable);
    }
    if m.contains("not refundable") || m.contains("cannot be refunded") {
        return Some(ErrorKind::Validation);
    }
    None
}
