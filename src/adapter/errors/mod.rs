//! Error-body dialects, written once: parse a provider's error answer into an [`ErrorBody`], then turn
//! it into an [`Error`] with one shared rule.
//!
//! - [`stripe`]: `{"error": {"type", "code", "message", "param"}, "request_id"}` (xpay, WooshPay, Bias).
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
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    /// A small xorshift generator, so that the property loops need no dependency and are repeatable.
    pub(super) struct Rng(u64);

    impl Rng {
        pub(super) fn new(seed: u64) -> Rng {
            Rng(seed | 1)
        }
        pub(super) fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }
        /// Random bytes, biased towards JSON punctuation and error-body words.
        pub(super) fn bytes(&mut self) -> Vec<u8> {
            const PIECES: &[&str] = &[
                "{",
                "}",
                "[",
                "]",
                ",",
                ":",
                "\"",
                "\"error\"",
                "\"detail\"",
                "\"loc\"",
                "\"msg\"",
                "\"message\"",
                "\"code\"",
                "\"type\"",
                "\"param\"",
                "\"errors\"",
                "0",
                "-1",
                "1e400",
                "null",
                "true",
                "\"x\"",
                "\\u0000",
                "\"request_id\"",
                "\"title\"",
                "\"content\"",
                "\u{e9}",
            ];
            let len = (self.next() % 40) as usize;
            let mut out = Vec::new();
            for _ in 0..len {
                let r = self.next();
                if r % 3 == 0 {
                    out.push((r >> 8) as u8);
                } else {
                    let piece = PIECES[(r >> 8) as usize % PIECES.len()];
                    out.extend_from_slice(piece.as_bytes());
                }
            }
            out
        }

        /// A random JSON value built from error-body keys, so that most inputs get deep into the parsers.
        pub(super) fn json(&mut self, depth: u32) -> Value {
            const KEYS: &[&str] = &[
                "error",
                "detail",
                "loc",
                "msg",
                "message",
                "code",
                "type",
                "param",
                "field",
                "errors",
                "issues",
                "path",
                "request_id",
                "requestId",
                "error_code",
                "error_message",
                "title",
                "content",
                "x",
            ];
            const TEXTS: &[&str] = &[
                "",
                "amount",
                "not_found",
                "a[b][0]",
                "Payment already refunded",
                "\u{e9}.",
                ".",
            ];
            match self.next() % if depth == 0 { 4 } else { 7 } {
                0 => Value::Null,
                1 => Value::from((self.next() as i64) >> (self.next() % 64)),
                2 => Value::String(TEXTS[self.next() as usize % TEXTS.len()].to_owned()),
                3 => serde_json::from_str("1.5e3").unwrap_or(Value::Null),
                4 | 5 => {
                    let mut map = Map::new();
                    for _ in 0..self.next() % 5 {
                        let key = KEYS[self.next() as usize % KEYS.len()];
                        map.insert(key.to_owned(), self.json(depth - 1));
                    }
                    Value::Object(map)
                }
                _ => Value::Array((0..self.next() % 4).map(|_| self.json(depth - 1)).collect()),
            }
        }

        /// One input: raw bytes, a random body, or a random body with a byte changed or cut.
        pub(super) fn input(&mut self) -> Vec<u8> {
            match self.next() % 4 {
                0 => self.bytes(),
                1 => self.json(4).to_string().into_bytes(),
                _ => {
                    let mut map = Map::new();
                    let key = ["error", "detail", "message", "errors"][self.next() as usize % 4];
                    map.insert(key.to_owned(), self.json(3));
                    let mut out = Value::Object(map).to_string().into_bytes();
                    if self.next() % 4 == 0 && !out.is_empty() {
                        let at = self.next() as usize % out.len();
                        if self.next() % 2 == 0 {
                            out.truncate(at);
                        } else {
                            out[at] = self.next() as u8;
                        }
                    }
                    out
                }
            }
        }
    }

    const EMPTY: CodeTable = CodeTable::new(&[]);

    #[test]
    fn field_path_joins_with_dots() {
        assert_eq!(field_path("metadata[order_id]"), "metadata.order_id");
        assert_eq!(field_path("a[b][c]"), "a.b.c");
        assert_eq!(field_path("metadata[order][0]"), "metadata.order.0");
        assert_eq!(field_path("items[0].id"), "items.0.id");
        assert_eq!(field_path("amount"), "amount");
        assert_eq!(field_path("a[]"), "a");
        assert_eq!(field_path(""), "");
        assert_eq!(field_path("[]]["), "");
    }

    #[test]
    fn into_error_carries_code_fields_and_request_id() {
        let e = ErrorBody::new("bad")
            .with_code("parameter_invalid")
            .with_type("invalid_request_error")
            .with_param("metadata[order][0]")
            .with_request_id("req_1")
            .into_error(400, &EMPTY);
        assert_eq!(e.kind(), &ErrorKind::Validation);
        assert_eq!(e.delivery(), Delivery::Rejected);
        assert_eq!(e.message(), "bad");
        assert_eq!(e.provider_code(), Some("parameter_invalid"));
        assert_eq!(e.field(), Some("metadata.order.0"));
        assert_eq!(e.field_errors()[0].code.as_deref(), Some("parameter_invalid"));
        assert_eq!(e.request_id(), Some("req_1"));
    }

    #[test]
    fn into_error_falls_back_to_type_and_status_text() {
        let e = ErrorBody::default()
            .with_type("idempotency_error")
            .into_error(400, &EMPTY);
        assert_eq!(e.provider_code(), Some("idempotency_error"));
        assert_eq!(e.message(), "http 400");
        let e = ErrorBody::default().into_error(502, &EMPTY);
        assert_eq!(e.kind(), &ErrorKind::ProviderUnavailable);
        assert_eq!(e.message(), "http 502");
        assert_eq!(e.provider_code(), None);
        assert!(e.field_errors().is_empty());
    }

    #[test]
    fn param_is_not_duplicated_when_already_a_field() {
        let body = stripe::parse(br#"{"error":{"code":"c","message":"m","param":"amount"}}"#).unwrap();
        assert_eq!(body.fields.len(), 1);
        let e = body.into_error(400, &EMPTY);
        assert_eq!(e.field_errors().len(), 1);
    }

    #[test]
    fn new_sets_the_sentence() {
        assert_eq!(ErrorBody::new("x").sentence.as_deref(), Some("x"));
        assert_eq!(ErrorBody::new("").sentence, None);
        assert_eq!(ErrorBody::new("x").without_sentence().sentence, None);
    }

    #[test]
    fn parse_any_reads_every_providers_documented_bodies() {
        let cases: &[(&str, &str, Option<&str>, Option<&str>)] = &[
            // (body, message, code, first field)
            (
                r#"{"detail":[{"loc":["body","payment_id"],"msg":"field required","type":"value_error.missing"}]}"#,
                "body.payment_id: field required",
                Some("value_error.missing"),
                Some("body.payment_id"),
            ),
            (
                r#"{"detail":"Authentication credentials were not provided."}"#,
                "Authentication credentials were not provided.",
                None,
                None,
            ),
            (
                r#"{"message":{"code":400,"title":"Bad request","content":"The payment could not be processed","type":"danger"}}"#,
                "Bad request: The payment could not be processed",
                Some("400"),
                None,
            ),
            (
                r#"{"error":{"type":"invalid_request_error","code":"amount_exceeds_refundable","message":"too much","param":"amount","doc_url":null},"request_id":"req_8f2a91"}"#,
                "too much",
                Some("amount_exceeds_refundable"),
                Some("amount"),
            ),
            (
                r#"{"statusCode":400,"message":["amount must be a positive number"],"error":"Bad Request"}"#,
                "amount must be a positive number",
                None,
                None,
            ),
            (
                r#"{"error":"forbidden for this key"}"#,
                "forbidden for this key",
                None,
                None,
            ),
            (
                r#"{"message":"Validation failed","code":"validation_error","errors":[{"field":"amount","message":"must be an integer","code":"invalid_type"},{"param":"payment","message":"is required"}]}"#,
                "Validation failed",
                Some("validation_error"),
                Some("amount"),
            ),
            (
                r#"{"error": {"code": "amount_exceeds_refundable", "message": "Amount too large", "field": "amount"}}"#,
                "Amount too large",
                Some("amount_exceeds_refundable"),
                Some("amount"),
            ),
            (
                r#"{"detail": {"code": "charge_already_refunded", "message": "Already refunded"}}"#,
                "Already refunded",
                Some("charge_already_refunded"),
                None,
            ),
            (
                r#"{"success": false, "message": "Charge is not refundable", "code": "charge_not_refundable", "request_id": "req_body_9"}"#,
                "Charge is not refundable",
                Some("charge_not_refundable"),
                None,
            ),
            (
                r#"{"error": "not_found", "message": "Refund ref_err not found"}"#,
                "Refund ref_err not found",
                Some("not_found"),
                None,
            ),
            (r#"{"type":"invalid_request_error","message":"m"}"#, "m", None, None),
            (
                r#"{"error_code":"E42","error_message":"nope"}"#,
                "nope",
                Some("E42"),
                None,
            ),
        ];
        for (body, message, code, field) in cases {
            let parsed = parse_any(body.as_bytes()).unwrap_or_else(|| panic!("{body}"));
            assert_eq!(parsed.message, *message, "{body}");
            assert_eq!(parsed.code.as_deref(), *code, "{body}");
            assert_eq!(parsed.fields.first().map(|f| f.field.as_str()), *field, "{body}");
        }
    }

    #[test]
    fn parse_any_refuses_what_is_not_an_error_body() {
        for body in [
            "",
            "<html>bad gateway</html>",
            "null",
            "42",
            "\"text\"",
            r#"["invalid_request_error","amount_too_large","m"]"#,
            r#"{"unrelated":true}"#,
            r#"{"error":null,"request_id":"req_1"}"#,
            r#"{"error":{}}"#,
            r#"{"detail":[]}"#,
            r#"{"detail":null}"#,
            r#"{"message":""}"#,
            "{\"error\":",
            "\u{feff}{}",
        ] {
            assert_eq!(parse_any(body.as_bytes()), None, "{body}");
        }
    }

    #[test]
    fn random_bytes_never_panic() {
        let tables = [
            EMPTY,
            CodeTable::new(&[("*", ErrorKind::NotFound)])
                .with_types(&[("*", ErrorKind::AlreadyRefunded)])
                .with_statuses(&[(409, ErrorKind::IdempotencyConflict)])
                .with_sentence_rules(),
        ];
        let mut rng = Rng::new(0x5EED_0000_0000_0013);
        let mut read = 0;
        for _ in 0..20_000 {
            let bytes = rng.input();
            let status = (rng.next() % 700) as u16;
            let parsed = [
                stripe::parse(&bytes),
                fastapi::parse(&bytes),
                flat::parse(&bytes),
                parse_any(&bytes),
            ];
            for body in parsed.into_iter().flatten() {
                read += 1;
                assert!(body.says_something());
                for table in &tables {
                    let e = body.clone().into_error(status, table);
                    assert!(!e.message().is_empty());
                    if status == 429 || (500..=599).contains(&status) {
                        assert_eq!(e.kind(), &crate::adapter::kind_for_status(status));
                    }
                }
            }
        }
        assert!(read > 1_000, "the generator reaches the parsers: {read} bodies read");
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(parse_any(deep.as_bytes()), None);
        let deep = format!(r#"{{"error":{}{}}}"#, "{\"a\":".repeat(50_000), "}".repeat(50_000));
        assert_eq!(parse_any(deep.as_bytes()), None);
    }
}
