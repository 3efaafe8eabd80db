//! Flat bodies, the message at the top level. The shapes the five providers meet:
//!
//! - `{"message": "...", "code": "...", "type"?, "field" | "param"?, "errors"?: [..], "request_id"?}`,
//!   also inside `{"success": false, ...}` (cursor-paged APIs, a FastAPI service's own errors, a bare Stripe-style error object);
//! - `{"error": "text"}` (the same providers) and `{"error": "not_found", "message": "..."}`,
//!   where a code-like `error` is the code (SyncgramPay);
//! - `{"error_code": ..., "error_message" | "error_description": ...}`;
//! - NestJS's `{"statusCode": 400, "message": ["..", ".."], "error": "Bad Request"}` (xpay's framework);
//! - 4Geeks's `{"message": {"code": 400, "title": "...", "content": "...", "type": "danger"}}`.

use serde_json::{Map, Value};

use super::{ErrorBody, entries, field_path, loc_path, object, push_field, put, request_id, text};
use crate::error::FieldError;

/// Reads a flat body (see the module doc). `message` may be a string, a list of strings (joined with
/// `"; "`) or the 4Geeks object (`"title: content"`, its numeric `code` as the code; its `type` is a UI
/// hint and is dropped). `code` and `error_code` may be strings or integers. `None` when the body is not
/// a JSON object or says none of message, code, type and field errors. An `error` that is an object is
/// the [`super::stripe`] envelope, not read here.
pub fn parse(body: &[u8]) -> Option<ErrorBody> {
    let top = object(body)?;
    let (message, message_code) = message(top.get("message"));
    let message = message
        .or_else(|| text(top.get("error_message")))
        .or_else(|| text(top.get("error_description")))
        .or_else(|| text(top.get("msg")));
    let mut code = text(top.get("code"))
        .or_else(|| text(top.get("error_code")))
        .or(message_code);
    let message = match (text(top.get("error")), message) {
        (Some(error), Some(message)) => {
            // `{"error": "not_found", "message": "..."}` uses `error` as the code; NestJS's
            // `"error": "Bad Request"` is only the status phrase.
            if code.is_none() && is_code_like(&error) {
                code = Some(error);
            }
            message
        }
        (Some(error), None) => error,
        (None, message) => message.unwrap_or_default(),
    };
    let mut parsed = ErrorBody::new(message);
    parsed.code = code;
    parsed.error_type = text(top.get("type"));
    parsed.request_id = request_id(&top);
    parsed.param = text(top.get("param")).or_else(|| text(top.get("field")));
    if let Some(path) = loc_path(top.get("param")).or_else(|| loc_path(top.get("field"))) {
        let field = FieldError::new(path, parsed.message.clone(), parsed.code.clone());
        parsed.fields.push(field);
    }
    for field in entries(top.get("errors")) {
        push_field(&mut parsed.fields, field);
    }
    parsed.says_something().then_some(parsed)
}

/// `message` as text, a list of texts, or the 4Geeks object; with the object's code.
fn message(value: Option<&Value>) -> (Option<String>, Option<String>) {
    match value {
        Some(Value::Array(items)) => {
            let texts: Vec<String> = items.iter().filter_map(|i| text(Some(i))).collect();
            ((!texts.is_empty()).then(|| texts.join("; ")), None)
        }
        Some(Value::Object(object)) => {
            let title = text(object.get("title"));
            let content = text(object.get("content"));
            let message = match (title, content) {
                (Some(title), Some(content)) => Some(format!("{title}: {content}")),
                (Some(one), None) | (None, Some(one)) => Some(one),
                (None, None) => None,
            };
            (message, text(object.get("code")))
        }
        other => (text(other), None),
    }
}

/// A machine code rather than a sentence: letters, digits, `_`, `.`, `-`, nothing else.
fn is_code_like(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// The flat body for `body`, as a sandbox skin answers: `{"message", "code"?, "type"?, "param"?,
/// "errors"?: [{"field", "message", "code"?}], "request_id"?}`. Field errors other than the one for
/// `param` go to `errors`.
pub fn write(body: &ErrorBody) -> Value {
    let mut top = Map::new();
    top.insert("message".to_owned(), Value::String(body.message.clone()));
    put(&mut top, "code", body.code.as_ref());
    put(&mut top, "type", body.error_type.as_ref());
    put(&mut top, "param", body.param.as_ref());
    let param = body.param.as_deref().map(field_path);
    let errors: Vec<Value> = body
        .fields
        .iter()
        .filter(|f| param.as_deref() != Some(f.field.as_str()))
        .map(|f| super::field_json(f, "field", "message", "code"))
        .collect();
    if !errors.is_empty() {
        top.insert("errors".to_owned(), Value::Array(errors));
    }
    put(&mut top, "request_id", body.request_id.as_ref());
    Value::Object(top)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_message_and_code() {
        let body = parse(
            br#"{"success": false, "message": "Charge is not refundable", "code": "charge_not_refundable", "request_id": "req_body_9"}"#,
        )
        .unwrap();
        assert_eq!(body.message, "Charge is not refundable");
        assert_eq!(body.sentence.as_deref(), Some("Charge is not refundable"));
        assert_eq!(body.code.as_deref(), Some("charge_not_refundable"));
        assert_eq!(body.request_id.as_deref(), Some("req_body_9"));
        let body = parse(br#"{"type":"invalid_request_error","message":"m"}"#).unwrap();
        assert_eq!(body.error_type.as_deref(), Some("invalid_request_error"));
    }

    #[test]
    fn reads_error_text() {
        let body = parse(br#"{"error":"forbidden for this key"}"#).unwrap();
        assert_eq!(body.message, "forbidden for this key");
        assert_eq!(body.code, None);
        let body = parse(br#"{"error":"unauthorized"}"#).unwrap();
        assert_eq!(body.message, "unauthorized");
        let body = parse(br#"{"error": "not_found", "message": "Refund ref_err not found"}"#).unwrap();
        assert_eq!(body.code.as_deref(), Some("not_found"));
        assert_eq!(body.message, "Refund ref_err not found");
        let body = parse(br#"{"error":"Charge has already been fully refunded"}"#).unwrap();
        assert_eq!(body.sentence.as_deref(), Some("Charge has already been fully refunded"));
    }

    #[test]
    fn reads_error_code_and_error_message() {
        let body = parse(br#"{"error_code":1042,"error_message":"Refund exceeds amount"}"#).unwrap();
        assert_eq!(body.code.as_deref(), Some("1042"));
        assert_eq!(body.message, "Refund exceeds amount");
        let body = parse(br#"{"error":"invalid_grant","error_description":"bad key"}"#).unwrap();
        assert_eq!(body.code.as_deref(), Some("invalid_grant"));
        assert_eq!(body.message, "bad key");
    }

    #[test]
    fn reads_nestjs_lists() {
        let body = parse(
            br#"{"statusCode":400,"message":["amount must be a positive number","reason too long"],"error":"Bad Request"}"#,
        )
        .unwrap();
        assert_eq!(body.message, "amount must be a positive number; reason too long");
        assert_eq!(body.code, None, "the status phrase is not a code");
    }

    #[test]
    fn reads_the_fourgeeks_message_object() {
        let body = parse(
            br#"{"message":{"code":400,"title":"Bad request","content":"The payment could not be processed","type":"danger"}}"#,
        )
        .unwrap();
        assert_eq!(body.message, "Bad request: The payment could not be processed");
        assert_eq!(
            body.sentence.as_deref(),
            Some("Bad request: The payment could not be processed")
        );
        assert_eq!(body.code.as_deref(), Some("400"));
        assert_eq!(body.error_type, None);
        let body = parse(br#"{"message":{"code":"refund_error","content":"Payment already refunded"}}"#).unwrap();
        assert_eq!(body.message, "Payment already refunded");
        assert_eq!(body.code.as_deref(), Some("refund_error"));
    }

    #[test]
    fn reads_field_lists() {
        let body = parse(
            br#"{"message":"Validation failed","code":"validation_error","errors":[{"field":"amount","message":"must be an integer","code":"invalid_type"},{"param":"payment","message":"is required"}]}"#,
        )
        .unwrap();
        assert_eq!(
            body.fields,
            vec![
                FieldError::new("amount", "must be an integer", Some("invalid_type".into())),
                FieldError::new("payment", "is required", None),
            ]
        );
        let body =
            parse(br#"{"message":"m","field":"metadata[a]","errors":[{"field":"metadata.a","message":"x"}]}"#).unwrap();
        assert_eq!(body.fields.len(), 1, "the same path once");
        assert_eq!(body.fields[0].field, "metadata.a");
    }

    #[test]
    fn refuses_other_shapes() {
        for body in [
            r#"{}"#,
            r#"{"unrelated":true}"#,
            r#"{"error":null,"request_id":"req_1"}"#,
            r#"{"error":{"message":"m"}}"#,
            r#"{"message":""}"#,
            r#"{"message":[]}"#,
            r#"{"message":{}}"#,
            r#"{"message":{"type":"danger"}}"#,
            r#"{"success":false}"#,
            r#"["m"]"#,
            "<html/>",
        ] {
            assert_eq!(parse(body.as_bytes()), None, "{body}");
        }
    }

    #[test]
    fn write_then_parse_round_trips() {
        let original = ErrorBody::new("Validation failed")
            .with_code("validation_error")
            .with_type("invalid_request_error")
            .with_param("amount")
            .with_field(FieldError::new(
                "amount",
                "Validation failed",
                Some("validation_error".into()),
            ))
            .with_field(FieldError::new("payment", "is required", None))
            .with_request_id("req_2");
        let json = write(&original);
        assert_eq!(
            json,
            serde_json::json!({"message": "Validation failed", "code": "validation_error",
                "type": "invalid_request_error", "param": "amount",
                "errors": [{"field": "payment", "message": "is required"}], "request_id": "req_2"})
        );
        assert_eq!(parse(json.to_string().as_bytes()).unwrap(), original);
    }
}
