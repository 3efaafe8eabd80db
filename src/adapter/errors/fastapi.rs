//! FastAPI / Django REST framework bodies: `{"detail": [{"loc", "msg", "type"}]}` (validation),
//! `{"detail": "text"}` (`HTTPException`), and `{"detail": {"code", "message"}}` (an exception with an
//! object). Used by 4Geeks and SyncgramPay. The Bachs API (SyncgramPay's documentation site) adds a
//! top-level `error_code` and `errors` list beside a `detail` string (its official Python client,
//! `bachs` 2.0.0, reads `detail`, `error_code` and `errors`).

use serde_json::{Map, Value};

use super::{ErrorBody, entries, entry, loc_path, object, push_field, put, request_id, text};
use crate::error::FieldError;

/// Reads a `detail` body:
///
/// - a list: each `{loc, msg, type}` becomes a field error (`loc` parts are strings or integers, joined
///   with `.`: `["body", "items", 0, "id"]` → `body.items.0.id`; `field`/`message`/`code` are read
///   too); the message is `"path: msg"` joined with `"; "`, the code the first entry's `type`, and there
///   is no sentence (the text describes the schema);
/// - a string: the message and sentence, with a top-level `error_code` (or `code`) as the code and
///   the entries of a top-level `errors` list as field errors;
/// - an object: `code` (or `error_code`), `message` (or `msg`), `field`/`param` as a field error.
///
/// A top-level `request_id` is kept. `None` when the body is not JSON, has no `detail`, or the detail
/// says nothing (empty string, empty list).
pub fn parse(body: &[u8]) -> Option<ErrorBody> {
    let top = object(body)?;
    let mut parsed = match top.get("detail")? {
        Value::String(detail) => {
            let mut parsed = ErrorBody::new(detail.clone());
            parsed.code = text(top.get("error_code")).or_else(|| text(top.get("code")));
            parsed.fields = entries(top.get("errors"));
            parsed
        }
        Value::Array(items) => {
            let fields: Vec<FieldError> = items.iter().filter_map(entry).collect();
            let message = fields
                .iter()
                .map(|f| match (f.field.is_empty(), f.message.is_empty()) {
                    (true, _) => f.message.clone(),
                    (false, true) => f.field.clone(),
                    (false, false) => format!("{}: {}", f.field, f.message),
                })
                .collect::<Vec<_>>()
                .join("; ");
            ErrorBody {
                message,
                code: fields.first().and_then(|f| f.code.clone()),
                fields,
                ..ErrorBody::default()
            }
        }
        Value::Object(inner) => from_object(inner),
        _ => return None,
    };
    if parsed.request_id.is_none() {
        parsed.request_id = request_id(&top);
    }
    parsed.says_something().then_some(parsed)
}

fn from_object(inner: &Map<String, Value>) -> ErrorBody {
    let mut parsed = ErrorBody::new(
        text(inner.get("message"))
            .or_else(|| text(inner.get("msg")))
            .unwrap_or_default(),
    );
    parsed.code = text(inner.get("code")).or_else(|| text(inner.get("error_code")));
    parsed.error_type = text(inner.get("type"));
    parsed.request_id = request_id(inner);
    parsed.param = text(inner.get("field")).or_else(|| text(inner.get("param")));
    if let Some(path) = loc_path(inner.get("field")).or_else(|| loc_path(inner.get("param"))) {
        let field = FieldError::new(path, parsed.message.clone(), parsed.code.clone());
        push_field(&mut parsed.fields, field);
    }
    parsed
}

/// The `detail` body for `body`, as a sandbox skin answers: with field errors, the validation list
/// (`loc` split on `.`, all-digit parts written as integers, `type` from the field's code); without,
/// `{"detail": message}`, and the code, when there is one, as a top-level `error_code` (the Bachs
/// form). A request id is written at the top level.
pub fn write(body: &ErrorBody) -> Value {
    let mut top = Map::new();
    let detail = if body.fields.is_empty() {
        put(&mut top, "error_code", body.code.as_ref());
        Value::String(body.message.clone())
    } else {
        Value::Array(body.fields.iter().map(item).collect())
    };
    top.insert("detail".to_owned(), detail);
    put(&mut top, "request_id", body.request_id.as_ref());
    Value::Object(top)
}

fn item(field: &FieldError) -> Value {
    let loc: Vec<Value> = field
        .field
        .split('.')
        .filter(|p| !p.is_empty())
        .map(|part| match part.parse::<u64>() {
            Ok(index) if part.bytes().all(|b| b.is_ascii_digit()) => Value::from(index),
            _ => Value::String(part.to_owned()),
        })
        .collect();
    let mut object = Map::new();
    object.insert("loc".to_owned(), Value::Array(loc));
    object.insert("msg".to_owned(), Value::String(field.message.clone()));
    put(&mut object, "type", field.code.as_ref());
    Value::Object(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_seed_422() {
        let body =
            parse(br#"{"detail":[{"loc":["body","payment_id"],"msg":"field required","type":"value_error.missing"}]}"#)
                .unwrap();
        assert_eq!(body.message, "body.payment_id: field required");
        assert_eq!(body.code.as_deref(), Some("value_error.missing"));
        assert_eq!(body.sentence, None);
        assert_eq!(
            body.fields,
            vec![FieldError::new(
                "body.payment_id",
                "field required",
                Some("value_error.missing".into())
            )]
        );
    }

    #[test]
    fn loc_parts_may_be_integers() {
        let body = parse(
            br#"{"detail":[{"loc":["body","amount"],"msg":"value is not a valid integer","type":"type_error.integer"},{"loc":["body","items",0,"id"],"msg":"field required","type":"value_error.missing"}]}"#,
        )
        .unwrap();
        let paths: Vec<&str> = body.fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(paths, ["body.amount", "body.items.0.id"]);
        assert_eq!(
            body.message,
            "body.amount: value is not a valid integer; body.items.0.id: field required"
        );
        // Odd parts (null, floats, objects) are skipped rather than refused.
        let body = parse(br#"{"detail":[{"loc":["body",null,1.5,{"a":1},-2,"x"],"msg":"m"}]}"#).unwrap();
        assert_eq!(body.fields[0].field, "body.-2.x");
    }

    #[test]
    fn reads_detail_strings_and_objects() {
        for (text, status_word) in [
            ("Authentication credentials were not provided.", "401"),
            ("Not found.", "404"),
            ("Refund amount exceeds the refundable amount of 10.00", "400"),
            ("Request was throttled.", "429"),
        ] {
            let json = format!(r#"{{"detail":"{text}"}}"#);
            let body = parse(json.as_bytes()).unwrap_or_else(|| panic!("{status_word}"));
            assert_eq!(body.message, text);
            assert_eq!(body.sentence.as_deref(), Some(text));
            assert!(body.fields.is_empty());
        }
        let body = parse(br#"{"detail": {"code": "charge_already_refunded", "message": "Already refunded"}}"#).unwrap();
        assert_eq!(body.code.as_deref(), Some("charge_already_refunded"));
        assert_eq!(body.sentence.as_deref(), Some("Already refunded"));
        let body =
            parse(br#"{"detail": {"error_code": 7, "msg": "m", "field": "amount"}, "request_id": "r"}"#).unwrap();
        assert_eq!(body.code.as_deref(), Some("7"));
        assert_eq!(body.fields[0].field, "amount");
        assert_eq!(body.request_id.as_deref(), Some("r"));
    }

    #[test]
    fn reads_the_bachs_form() {
        let body = parse(
            br#"{"detail":"Refund amount exceeds the refundable amount","error_code":"refund_amount_exceeds_refundable","errors":[{"field":"amount","message":"too large"}]}"#,
        )
        .unwrap();
        assert_eq!(body.message, "Refund amount exceeds the refundable amount");
        assert_eq!(body.code.as_deref(), Some("refund_amount_exceeds_refundable"));
        assert_eq!(body.fields, vec![FieldError::new("amount", "too large", None)]);
        let written = ErrorBody::new("Charge not found").with_code("charge_not_found");
        let json = write(&written);
        assert_eq!(
            json,
            serde_json::json!({"error_code": "charge_not_found", "detail": "Charge not found"})
        );
        assert_eq!(parse(json.to_string().as_bytes()).unwrap(), written);
    }

    #[test]
    fn refuses_other_shapes() {
        for body in [
            r#"{"detail":""}"#,
            r#"{"detail":[]}"#,
            r#"{"detail":[1,"x",null]}"#,
            r#"{"detail":{}}"#,
            r#"{"detail":null}"#,
            r#"{"detail":3}"#,
            r#"{"error":{"message":"m"}}"#,
            r#"[{"detail":"x"}]"#,
            "",
        ] {
            assert_eq!(parse(body.as_bytes()), None, "{body}");
        }
    }

    #[test]
    fn write_then_parse_round_trips() {
        let original = ErrorBody::default()
            .with_field(FieldError::new(
                "body.items.0.id",
                "field required",
                Some("value_error.missing".into()),
            ))
            .with_field(FieldError::new("query.limit", "too big", None));
        let json = write(&original);
        assert_eq!(
            json,
            serde_json::json!({"detail": [
                {"loc": ["body", "items", 0, "id"], "msg": "field required", "type": "value_error.missing"},
                {"loc": ["query", "limit"], "msg": "too big"},
            ]})
        );
        let parsed = parse(json.to_string().as_bytes()).unwrap();
        assert_eq!(parsed.fields, original.fields);
        assert_eq!(
            write(&ErrorBody::new("Not found.")),
            serde_json::json!({"detail": "Not found."})
        );
        let parsed = parse(write(&ErrorBody::new("Not found.")).to_string().as_bytes()).unwrap();
        assert_eq!(parsed, ErrorBody::new("Not found."));
    }
}
