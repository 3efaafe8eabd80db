//! The Stripe-style envelope: `{"error": {"type", "code", "message", "param", ...}, "request_id"}`.
//!
//! Read with the variants the providers of this workspace send (the request id at the top level or
//! inside, `doc_url`, `"object": "error"`, `issues`). Unknown fields are ignored.

use serde_json::{Map, Value};

use super::{ErrorBody, entries, field_path, object, push_field, put, request_id, text};
use crate::error::FieldError;

/// Reads the envelope. Accepts in the `error` object: `type`, `code` (string or integer), `message`,
/// `param` or `field` (bracketed paths become dotted, and it becomes a field error too), `request_id`,
/// and `errors`/`issues` lists of `{field | param | loc | path, message | msg, code | type}`. A top-level
/// `request_id`/`requestId` is read too. `None` when the body is not JSON, has no `error` object, or the
/// object has none of message, code and type.
pub fn parse(body: &[u8]) -> Option<ErrorBody> {
    let top = object(body)?;
    let Some(Value::Object(error)) = top.get("error") else {
        return None;
    };
    let mut parsed = ErrorBody::new(text(error.get("message")).unwrap_or_default());
    parsed.code = text(error.get("code"));
    parsed.error_type = text(error.get("type"));
    parsed.request_id = request_id(error).or_else(|| request_id(&top));
    parsed.param = text(error.get("param")).or_else(|| text(error.get("field")));
    if let Some(param) = parsed.param.as_deref().map(field_path).filter(|p| !p.is_empty()) {
        let field = FieldError::new(param, parsed.message.clone(), parsed.code.clone());
        parsed.fields.push(field);
    }
    for field in entries(error.get("errors"))
        .into_iter()
        .chain(entries(error.get("issues")))
    {
        push_field(&mut parsed.fields, field);
    }
    parsed.says_something().then_some(parsed)
}

/// The envelope for `body`, as a sandbox skin answers: `{"error": {"type"?, "code"?, "message", "param"?},
/// "request_id"?}` (the request id at the top level, as xpay documents it). Field errors other than
/// `param` are not written: the envelope has one offending parameter.
pub fn write(body: &ErrorBody) -> Value {
    let mut error = Map::new();
    put(&mut error, "type", body.error_type.as_ref());
    put(&mut error, "code", body.code.as_ref());
    error.insert("message".to_owned(), Value::String(body.message.clone()));
    put(&mut error, "param", body.param.as_ref());
    let mut top = Map::new();
    top.insert("error".to_owned(), Value::Object(error));
    put(&mut top, "request_id", body.request_id.as_ref());
    Value::Object(top)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_xpay_envelope() {
        let body = parse(
            br#"{"error":{"type":"invalid_request_error","code":"amount_exceeds_refundable","message":"too much","param":"amount","doc_url":null},"request_id":"req_8f2a91"}"#,
        )
        .unwrap();
        assert_eq!(body.message, "too much");
        assert_eq!(body.sentence.as_deref(), Some("too much"));
        assert_eq!(body.code.as_deref(), Some("amount_exceeds_refundable"));
        assert_eq!(body.error_type.as_deref(), Some("invalid_request_error"));
        assert_eq!(body.param.as_deref(), Some("amount"));
        assert_eq!(body.request_id.as_deref(), Some("req_8f2a91"));
        assert_eq!(
            body.fields,
            vec![FieldError::new(
                "amount",
                "too much",
                Some("amount_exceeds_refundable".into())
            )]
        );
        let body = parse(
            br#"{"error":{"type":"api_error","code":null,"message":"internal error","param":null,"doc_url":null}}"#,
        )
        .unwrap();
        assert_eq!(body.code, None);
        assert!(body.fields.is_empty());
        let body = parse(br#"{"error":{"type":"api_error","message":"unavailable"},"requestId":"req_503"}"#).unwrap();
        assert_eq!(body.request_id.as_deref(), Some("req_503"));
    }

    #[test]
    fn reads_a_request_id_inside_the_error_object() {
        let body = parse(
            br#"{"error":{"type":"invalid_request_error","code":"amount_too_large","message":"Refund amount ($30.00) is greater than unrefunded amount on payment ($25.00)","param":"amount","request_id":"req_body_1"}}"#,
        )
        .unwrap();
        assert_eq!(body.request_id.as_deref(), Some("req_body_1"));
        assert_eq!(body.fields[0].field, "amount");
        let body = parse(
            br#"{"error":{"type":"invalid_request_error","code":"parameter_invalid","message":"bad","param":"metadata[order][0]"}}"#,
        )
        .unwrap();
        assert_eq!(body.fields[0].field, "metadata.order.0");
        assert_eq!(body.param.as_deref(), Some("metadata[order][0]"));
        let body = parse(br#"{"error":{"type":"authentication_error","message":"Invalid API Key provided"}}"#).unwrap();
        assert_eq!(body.error_type.as_deref(), Some("authentication_error"));
        let body = parse(br#"{"error":{"type":"idempotency_error"}}"#).unwrap();
        assert_eq!(body.message, "");
        assert_eq!(body.sentence, None);
    }

    #[test]
    fn reads_bias_and_syncgram_variants() {
        let body = parse(
            br#"{"object":"error","error":{"type":"invalid_request_error","live":false,"code":"parameter_invalid","message":"Invalid","param":null,"issues":[{"path":["amount"],"message":"Expected number"}]}}"#,
        )
        .unwrap();
        assert_eq!(body.fields, vec![FieldError::new("amount", "Expected number", None)]);
        let body = parse(
            br#"{"error": {"code": "amount_exceeds_refundable", "message": "Amount too large", "field": "amount"}}"#,
        )
        .unwrap();
        assert_eq!(body.fields[0].field, "amount");
        assert_eq!(
            parse(br#"{"error":{"code":404}}"#).unwrap().code.as_deref(),
            Some("404")
        );
    }

    #[test]
    fn refuses_other_shapes() {
        for body in [
            r#"{"error":"text"}"#,
            r#"{"error":{}}"#,
            r#"{"error":{"message":""}}"#,
            r#"{"error":{"message":1.5}}"#,
            r#"{"error":[1,2]}"#,
            r#"{"detail":"x"}"#,
            r#"[{"error":{"message":"m"}}]"#,
            "not json",
        ] {
            assert_eq!(parse(body.as_bytes()), None, "{body}");
        }
    }

    #[test]
    fn write_then_parse_round_trips() {
        let original = ErrorBody::new("Refund amount is greater than unrefunded amount.")
            .with_type("invalid_request_error")
            .with_code("amount_too_large")
            .with_param("metadata[order]")
            .with_request_id("req_1");
        let json = write(&original);
        assert_eq!(
            json,
            serde_json::json!({"error": {"type": "invalid_request_error", "code": "amount_too_large",
                "message": "Refund amount is greater than unrefunded amount.", "param": "metadata[order]"},
                "request_id": "req_1"})
        );
        let parsed = parse(json.to_string().as_bytes()).unwrap();
        assert_eq!(parsed.message, original.message);
        assert_eq!(parsed.code, original.code);
        assert_eq!(parsed.error_type, original.error_type);
        assert_eq!(parsed.param, original.param);
        assert_eq!(parsed.request_id, original.request_id);
        assert_eq!(parsed.fields[0].field, "metadata.order");
    }
}
