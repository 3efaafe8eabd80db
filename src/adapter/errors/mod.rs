//! Error-body dialects, written once: parse a provider's error answer into an [`ErrorBody`], then turn
//! it into an [`Error`] with one shared rule.
//!
//! - [`stripe`]: `{"error": {"type", "code", "message", "param"}, "request_id"}` (Stripe and the APIs that copy its envelope).
//! - [`fastapi`]: `{"detail": [{"loc", "msg", "type"}]}`, `{"detail": "text"}`, `{"detail": {"code", "message"}}`
//!   (4Geeks, SyncgramPay, Bias's proxies).
//! - [`flat`]: `{"message", "code"}`, `{"error": "text"}`, `{"error_code", "error_message"}`, NestJS's
//!   `{"message": [..]}` and 4Geeks's `{"message": {"code", "title", "content"}}`.
//! - [`parse_any`]: the three in that order, for providers whose shape is not documented.
//!
//! Each dialect also has a `write` for sandbox skins, so the simulator and the parser agree on the shape.
//!
//! The kind is decided by [`ErrorBody::into_error`]: the HTTP status first
//! ([`kind_for_status`](crate::adapter::kind_for_status)); then, only for a 4xx that leaves room for it
//! ([`refinable`]: not 401, 403, 408 or 429), the provider's [`CodeTable`] by code, by error `type`, and
//! optionally by the provider's own sentence ([`refine_by_sentence`]). A body never turns a 5xx into
//! `NotFound` or a 429 into something that is not retried.
//!
//! # How a provider uses this
//!
//! ```
//! use refunds::adapter::ApiResponse;
//! use refunds::adapter::errors::{self, CodeTable};
//! use refunds::{Error, ErrorKind};
//!
//! /// Codes that say more than the status; first match wins, `*` at either end is a wildcard.
//! const CODES: CodeTable = CodeTable::new(&[
//!     ("amount_too_large", ErrorKind::AmountExceedsRefundable),
//!     ("charge_already_refunded", ErrorKind::AlreadyRefunded),
//!     ("resource_missing", ErrorKind::NotFound),
//!     ("idempotency_key_in_use", ErrorKind::IdempotencyConflict),
//! ])
//! .with_types(&[("idempotency_error", ErrorKind::IdempotencyConflict)])
//! .with_statuses(&[(409, ErrorKind::IdempotencyConflict)]);
//!
//! /// The provider's `ErrorDecoder`: the transport adds provider, status, header request id,
//! /// `Retry-After`, delivery and the body.
//! fn decode_error(response: &ApiResponse) -> Error {
//!     errors::stripe::parse(&response.body)
//!         .unwrap_or_default()
//!         .into_error(response.status, &CODES)
//! }
//!
//! let body = br#"{"error":{"type":"invalid_request_error","code":"amount_too_large","message":"too much","param":"amount"}}"#;
//! let e = errors::stripe::parse(body).unwrap_or_default().into_error(400, &CODES);
//! assert_eq!(e.kind(), &ErrorKind::AmountExceedsRefundable);
//! assert_eq!(e.field(), Some("amount"));
//! // The same body on a 503 stays an outage.
//! let e = errors::stripe::parse(body).unwrap_or_default().into_error(503, &CODES);
//! assert_eq!(e.kind(), &ErrorKind::ProviderUnavailable);
//! ```
//!
//! A sandbox skin writes the same shape:
//!
//! ```
//! use refunds::adapter::errors::{self, ErrorBody};
//!
//! let json = errors::stripe::write(
//!     &ErrorBody::new("Refund amount is greater than unrefunded amount.")
//!         .with_type("invalid_request_error")
//!         .with_code("amount_too_large")
//!         .with_param("amount"),
//! );
//! assert_eq!(json["error"]["code"], "amount_too_large");
//! ```

pub mod fastapi;
pub mod flat;
pub mod stripe;
mod table;

pub use table::{CodeTable, refinable, refine_by_sentence};

use serde_json::{Map, Value};

use crate::error::{Delivery, Error, FieldError};

/// What a provider's error body said, whatever its dialect.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErrorBody {
    /// The message for [`Error::message`]; may be empty (then `"http {status}"` is used).
    pub message: String,
    /// The provider's machine code (`amount_too_large`, `value_error.missing`, `400`).
    pub code: Option<String>,
    /// The provider's error category (`invalid_request_error`, `idempotency_error`).
    pub error_type: Option<String>,
    /// The offending parameter as the provider spelled it (`metadata[order_id]`).
    pub param: Option<String>,
    /// Field-level complaints, paths joined with `.`.
    pub fields: Vec<FieldError>,
    /// The provider's request id, when the body carries one.
    pub request_id: Option<String>,
    /// The provider's own human sentence, for [`refine_by_sentence`]. `None` for FastAPI schema
    /// complaints, whose text describes the schema ("ensure this value is greater than 0"), never a balance.
    pub sentence: Option<String>,
}

impl ErrorBody {
    /// A body saying `message`, which is also its [`sentence`](ErrorBody::sentence) when not empty.
    pub fn new(message: impl Into<String>) -> ErrorBody {
        let message = message.into();
        ErrorBody {
            sentence: (!message.is_empty()).then(|| message.clone()),
            message,
            ..ErrorBody::default()
        }
    }

    /// Sets the machine code.
    pub fn with_code(mut self, code: impl Into<String>) -> ErrorBody {
        self.code = Some(code.into());
        self
    }

    /// Sets the error category (`type`).
    pub fn with_type(mut self, error_type: impl Into<String>) -> ErrorBody {
        self.error_type = Some(error_type.into());
        self
    }

    /// Sets the offending parameter (bracketed or dotted). [`ErrorBody::into_error`] makes it a field
    /// error when no field error names it yet.
    pub fn with_param(mut self, param: impl Into<String>) -> ErrorBody {
        self.param = Some(param.into());
        self
    }

    /// Adds a field-level complaint.
    pub fn with_field(mut self, field: FieldError) -> ErrorBody {
        self.fields.push(field);
        self
    }

    /// Sets the request id.
    pub fn with_request_id(mut self, request_id: impl Into<String>) -> ErrorBody {
        self.request_id = Some(request_id.into());
        self
    }

    /// Drops the sentence, for messages that describe a schema rather than the provider's refusal.
    pub fn without_sentence(mut self) -> ErrorBody {
        self.sentence = None;
        self
    }

    /// The [`Error`] for this body answered with HTTP `status`.
    ///
    /// The kind is `table.kind(status, &self)` (the status first; see [`CodeTable::kind`]), the delivery
    /// `Rejected` (the transport makes a 5xx `Ambiguous`), the message this body's or `"http {status}"`,
    /// the provider code the body's `code` or else its `type`, plus field errors (with `param`) and the
    /// body's request id.
    pub fn into_error(self, status: u16, table: &CodeTable) -> Error {
        let kind = table.kind(status, &self);
        let ErrorBody {
            message,
            code,
            error_type,
            param,
            mut fields,
            request_id,
            sentence: _,
        } = self;
        let message = if message.is_empty() {
            format!("http {status}")
        } else {
            message
        };
        if let Some(param) = param.as_deref().map(field_path).filter(|p| !p.is_empty()) {
            push_field(&mut fields, FieldError::new(param, message.clone(), code.clone()));
        }
        Error::new(kind, Delivery::Rejected, message)
            .with_provider_code(code.or(error_type))
            .with_field_errors(fields)
            .with_request_id(request_id)
    }

    /// True when the body says anything an error can carry (message, code, type or fields).
    fn says_something(&self) -> bool {
        !self.message.is_empty() || self.code.is_some() || self.error_type.is_some() || !self.fields.is_empty()
    }
}

/// Tries [`stripe::parse`], then [`fastapi::parse`], then [`flat::parse`]: for providers whose error
/// shape is not documented.
pub fn parse_any(body: &[u8]) -> Option<ErrorBody> {
    stripe::parse(body)
        .or_else(|| fastapi::parse(body))
        .or_else(|| flat::parse(body))
}

/// A provider's parameter spelling as the SDK's dotted path: `metadata[order][0]` → `metadata.order.0`,
/// `items[0].id` → `items.0.id`. Empty segments are dropped.
pub fn field_path(param: &str) -> String {
    param
        .split(['[', ']', '.'])
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(".")
}

// ---- helpers shared by the dialects -------------------------------------------------------------

/// The top-level JSON object of `body`, or `None` for anything else (arrays, scalars, bad JSON).
fn object(body: &[u8]) -> Option<Map<String, Value>> {
    match serde_json::from_slice::<Value>(body).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// A non-empty string, or an integer written as text (codes are sometimes numeric).
fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        _ => None,
    }
}

/// `request_id` (or `requestId`) of an object.
fn request_id(object: &Map<String, Value>) -> Option<String> {
    text(object.get("request_id")).or_else(|| text(object.get("requestId")))
}

/// A location as a dotted path: a list of names and indices (`["body", "items", 0]`), or one string
/// (bracketed or dotted). Parts that are neither strings nor integers are skipped.
fn loc_path(value: Option<&Value>) -> Option<String> {
    let path = match value? {
        Value::Array(parts) => parts.iter().filter_map(|p| text(Some(p))).collect::<Vec<_>>().join("."),
        other => field_path(&text(Some(other))?),
    };
    (!path.is_empty()).then_some(path)
}

/// One entry of an `errors`, `issues` or `detail` list: `{field | param | loc | path, message | msg,
/// code | type}`. Entries that are not objects, or name neither a field nor a message, are skipped.
fn entry(value: &Value) -> Option<FieldError> {
    let object = value.as_object()?;
    let field = loc_path(object.get("loc"))
        .or_else(|| loc_path(object.get("field")))
        .or_else(|| loc_path(object.get("param")))
        .or_else(|| loc_path(object.get("path")));
    let message = text(object.get("msg")).or_else(|| text(object.get("message")));
    if field.is_none() && message.is_none() {
        return None;
    }
    let code = text(object.get("type")).or_else(|| text(object.get("code")));
    Some(FieldError::new(
        field.unwrap_or_default(),
        message.unwrap_or_default(),
        code,
    ))
}

/// The entries of a list value; anything else gives none.
fn entries(value: Option<&Value>) -> Vec<FieldError> {
    match value {
        Some(Value::Array(items)) => items.iter().filter_map(entry).collect(),
        _ => Vec::new(),
    }
}

/// Adds `field` unless a complaint about the same path is already there.
fn push_field(fields: &mut Vec<FieldError>, field: FieldError) {
    if !fields.iter().any(|f| f.field == field.field) {
        fields.push(field);
    }
}

/// A field error as a JSON object for the writers: `{key: path, "message", "code"?}`.
fn field_json(field: &FieldError, key: &str, message_key: &str, code_key: &str) -> Value {
    let mut object = Map::new();
    object.insert(key.to_owned(), Value::String(field.field.clone()));
    object.insert(message_key.to_owned(), Value::String(field.message.clone()));
    if let Some(code) = &field.code {
        object.insert(code_key.to_owned(), Value::String(code.clone()));
    }
    Value::Object(object)
}

/// Inserts `key: value` when `value` is `Some`.
fn put(object: &mut Map<String, Value>, key: &str, value: Option<&String>) {
    if let Some(value) = value {
        object.insert(key.to_owned(), Value::String(value.clone()));
    }
}

#[cfg(test)]
mod tests;
