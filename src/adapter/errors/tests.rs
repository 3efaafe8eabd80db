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

/// Error bodies as the providers document them: (body, message, code, first field). A table, not a
/// test body, so that a new dialect is one row.
const DOCUMENTED_BODIES: &[(&str, &str, Option<&str>, Option<&str>)] = &[
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

#[test]
fn parse_any_reads_every_providers_documented_bodies() {
    for (body, message, code, field) in DOCUMENTED_BODIES {
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
