// Neutral tables in the shapes providers use (exact codes with types and statuses, wildcard codes,
// sentence rules), not copies of any provider's: a provider's own table is tested in its crate.

use super::*;
use crate::adapter::errors::{fastapi, flat, stripe};

const TYPED_CODES: CodeTable = CodeTable::new(&[
    ("amount_too_large", ErrorKind::AmountExceedsRefundable),
    ("charge_already_refunded", ErrorKind::AlreadyRefunded),
    ("resource_missing", ErrorKind::NotFound),
    ("idempotency_key_in_use", ErrorKind::IdempotencyConflict),
])
.with_types(&[("idempotency_error", ErrorKind::IdempotencyConflict)])
.with_statuses(&[(409, ErrorKind::IdempotencyConflict), (503, ErrorKind::NotFound)]);

const WILDCARD_CODES: CodeTable = CodeTable::new(&[
    ("amount_too_large", ErrorKind::AmountExceedsRefundable),
    ("*already_refunded*", ErrorKind::AlreadyRefunded),
    ("*exceed*", ErrorKind::AmountExceedsRefundable),
    ("resource_missing", ErrorKind::NotFound),
    ("*_not_found", ErrorKind::NotFound),
])
.with_types(&[
    ("authentication_error", ErrorKind::Authentication),
    ("invalid_request_error", ErrorKind::Validation),
]);

const SENTENCES: CodeTable = CodeTable::new(&[]).with_sentence_rules();

fn stripe_kind(table: &CodeTable, status: u16, body: &str) -> ErrorKind {
    stripe::parse(body.as_bytes())
        .unwrap_or_default()
        .into_error(status, table)
        .kind()
        .clone()
}

#[test]
fn exact_codes_status_then_type_and_code() {
    let cases = [
        (
            400,
            r#"{"error":{"type":"invalid_request_error","param":"amount"}}"#,
            ErrorKind::Validation,
        ),
        (
            400,
            r#"{"error":{"type":"invalid_request_error","code":"amount_too_large"}}"#,
            ErrorKind::AmountExceedsRefundable,
        ),
        (
            400,
            r#"{"error":{"type":"invalid_request_error","code":"charge_already_refunded"}}"#,
            ErrorKind::AlreadyRefunded,
        ),
        (
            400,
            r#"{"error":{"type":"invalid_request_error","code":"resource_missing"}}"#,
            ErrorKind::NotFound,
        ),
        (
            400,
            r#"{"error":{"type":"idempotency_error"}}"#,
            ErrorKind::IdempotencyConflict,
        ),
        (
            401,
            r#"{"error":{"type":"invalid_request_error","code":"resource_missing"}}"#,
            ErrorKind::Authentication,
        ),
        (
            402,
            r#"{"error":{"type":"card_error","code":"card_declined"}}"#,
            ErrorKind::Other,
        ),
        (
            403,
            r#"{"error":{"type":"invalid_request_error"}}"#,
            ErrorKind::PermissionDenied,
        ),
        (
            404,
            r#"{"error":{"type":"invalid_request_error"}}"#,
            ErrorKind::NotFound,
        ),
        (
            409,
            r#"{"error":{"type":"invalid_request_error"}}"#,
            ErrorKind::IdempotencyConflict,
        ),
        (
            429,
            r#"{"error":{"type":"invalid_request_error","code":"rate_limit"}}"#,
            ErrorKind::RateLimited,
        ),
        (500, r#"{"error":{"type":"api_error"}}"#, ErrorKind::ProviderUnavailable),
        (
            503,
            r#"{"error":{"type":"idempotency_error"}}"#,
            ErrorKind::ProviderUnavailable,
        ),
        (503, r#"<html>down</html>"#, ErrorKind::ProviderUnavailable),
        (409, r#"<html>conflict</html>"#, ErrorKind::IdempotencyConflict),
    ];
    for (status, body, kind) in cases {
        assert_eq!(stripe_kind(&TYPED_CODES, status, body), kind, "{status} {body}");
    }
}

#[test]
fn wildcard_codes_and_types() {
    let kind = |status, t: Option<&str>, c: Option<&str>| {
        let mut body = ErrorBody::new("m");
        body.error_type = t.map(str::to_owned);
        body.code = c.map(str::to_owned);
        WILDCARD_CODES.kind(status, &body)
    };
    assert_eq!(
        kind(401, Some("invalid_request_error"), Some("amount_too_large")),
        ErrorKind::Authentication
    );
    assert_eq!(kind(429, Some("invalid_request_error"), None), ErrorKind::RateLimited);
    assert_eq!(
        kind(500, Some("api_error"), Some("amount_too_large")),
        ErrorKind::ProviderUnavailable
    );
    assert_eq!(
        kind(403, Some("authentication_error"), None),
        ErrorKind::PermissionDenied
    );
    assert_eq!(
        kind(400, Some("invalid_request_error"), Some("amount_exceeds_refundable")),
        ErrorKind::AmountExceedsRefundable
    );
    assert_eq!(
        kind(409, Some("invalid_request_error"), Some("charge_already_refunded")),
        ErrorKind::AlreadyRefunded
    );
    assert_eq!(kind(400, None, Some("charge_not_found")), ErrorKind::NotFound);
    assert_eq!(
        kind(400, Some("invalid_request_error"), Some("parameter_missing")),
        ErrorKind::Validation
    );
    assert_eq!(kind(409, Some("invalid_request_error"), None), ErrorKind::Validation);
    assert_eq!(kind(409, None, None), ErrorKind::Other);
    assert_eq!(kind(400, Some("authentication_error"), None), ErrorKind::Authentication);
}

#[test]
fn safety_finding_16_a_body_never_overrides_5xx_or_429() {
    let everything = CodeTable::new(&[("*", ErrorKind::NotFound)])
        .with_types(&[("*", ErrorKind::Validation)])
        .with_statuses(&[
            (429, ErrorKind::Validation),
            (500, ErrorKind::NotFound),
            (503, ErrorKind::NotFound),
            (408, ErrorKind::Validation),
        ])
        .with_sentence_rules();
    let body = flat::parse(br#"{"code":"not_found","type":"invalid_request","message":"Charge not found"}"#).unwrap();
    for status in [429, 500, 502, 503, 504, 599, 408, 401, 403] {
        let e = body.clone().into_error(status, &everything);
        assert_eq!(e.kind(), &kind_for_status(status), "{status}");
    }
    assert!(!body.clone().into_error(503, &everything).is_not_found());
    assert!(body.clone().into_error(429, &everything).is_retryable());
    assert_eq!(body.into_error(400, &everything).kind(), &ErrorKind::NotFound);
}

#[test]
fn sentences_refine_refusals_only() {
    let kind = |status, body: &str| {
        super::super::parse_any(body.as_bytes())
            .unwrap_or_default()
            .into_error(status, &SENTENCES)
            .kind()
            .clone()
    };
    let cases = [
        (
            400,
            r#"{"detail":"Refund amount exceeds the payment amount"}"#,
            ErrorKind::AmountExceedsRefundable,
        ),
        (
            422,
            r#"{"detail":"amount is greater than the refundable amount"}"#,
            ErrorKind::AmountExceedsRefundable,
        ),
        (
            400,
            r#"{"message":{"code":400,"title":"Refund error","content":"Payment already refunded","type":"danger"}}"#,
            ErrorKind::AlreadyRefunded,
        ),
        (404, r#"{"detail":"Payment not found."}"#, ErrorKind::NotFound),
        (400, r#"{"detail":"Payment does not exist"}"#, ErrorKind::NotFound),
        (
            403,
            r#"{"detail":"You do not have permission to perform this action."}"#,
            ErrorKind::PermissionDenied,
        ),
        (
            401,
            r#"{"detail":"Authentication credentials were not provided."}"#,
            ErrorKind::Authentication,
        ),
        (
            503,
            r#"{"detail":"refund amount exceeds"}"#,
            ErrorKind::ProviderUnavailable,
        ),
        (429, r#"{"detail":"Request was throttled."}"#, ErrorKind::RateLimited),
        (
            422,
            r#"{"detail":[{"loc":["body","amount"],"msg":"ensure this value is greater than 0","type":"value_error.number.not_gt"}]}"#,
            ErrorKind::Validation,
        ),
    ];
    for (status, body, expected) in cases {
        assert_eq!(kind(status, body), expected, "{status} {body}");
    }
}

#[test]
fn syncgram_sentences_and_codes() {
    const SYNCGRAM: CodeTable = CodeTable::new(&[
        ("amount_exceeds_refundable", ErrorKind::AmountExceedsRefundable),
        ("charge_already_refunded", ErrorKind::AlreadyRefunded),
        ("charge_not_refundable", ErrorKind::Validation),
        ("not_found", ErrorKind::NotFound),
    ])
    .with_statuses(&[(409, ErrorKind::IdempotencyConflict)])
    .with_sentence_rules();
    let kind = |status, body: &str| {
        super::super::parse_any(body.as_bytes())
            .unwrap_or_default()
            .into_error(status, &SYNCGRAM)
            .kind()
            .clone()
    };
    let cases = [
        (404, r#"{"detail": "Refund not found"}"#, ErrorKind::NotFound),
        (400, r#"{"detail": "Charge is not refundable"}"#, ErrorKind::Validation),
        (
            400,
            r#"{"detail": "Refund amount exceeds the refundable amount of 10.00"}"#,
            ErrorKind::AmountExceedsRefundable,
        ),
        (
            400,
            r#"{"detail": "Charge has already been fully refunded"}"#,
            ErrorKind::AlreadyRefunded,
        ),
        (
            400,
            r#"{"detail": "simulated_outcome is only available in test mode"}"#,
            ErrorKind::Validation,
        ),
        (
            409,
            r#"{"detail": "Idempotency conflict"}"#,
            ErrorKind::IdempotencyConflict,
        ),
        (
            400,
            r#"{"error": {"code": "amount_exceeds_refundable", "message": "Amount too large", "field": "amount"}}"#,
            ErrorKind::AmountExceedsRefundable,
        ),
        (
            400,
            r#"{"detail": {"code": "charge_already_refunded", "message": "Already refunded"}}"#,
            ErrorKind::AlreadyRefunded,
        ),
        (
            404,
            r#"{"error": "not_found", "message": "Refund ref_err not found"}"#,
            ErrorKind::NotFound,
        ),
        (
            400,
            r#"{"error": "Charge has already been fully refunded"}"#,
            ErrorKind::AlreadyRefunded,
        ),
        (503, r#"{"code":"not_found"}"#, ErrorKind::ProviderUnavailable),
        (429, r#"{"code":"charge_not_refundable"}"#, ErrorKind::RateLimited),
        (400, r#"{"unexpected": true}"#, ErrorKind::Validation),
    ];
    for (status, body, expected) in cases {
        assert_eq!(kind(status, body), expected, "{status} {body}");
    }
}

#[test]
fn schema_complaints_are_not_sentences() {
    let body = fastapi::parse(
        br#"{"detail":[{"loc":["body","amount"],"msg":"amount is greater than the refundable amount","type":"x"}]}"#,
    )
    .unwrap();
    assert_eq!(body.sentence, None);
    assert_eq!(SENTENCES.kind(422, &body), ErrorKind::Validation);
}

#[test]
fn sentence_rules() {
    let r = |status, s| refine_by_sentence(ErrorKind::Validation, status, s);
    assert_eq!(
        r(400, "Refund amount exceeds the payment"),
        ErrorKind::AmountExceedsRefundable
    );
    assert_eq!(r(400, "Payment was already refunded"), ErrorKind::AlreadyRefunded);
    assert_eq!(
        r(400, "Payment pay_1 has already been refunded."),
        ErrorKind::AlreadyRefunded
    );
    assert_eq!(r(400, "Payment not found"), ErrorKind::NotFound);
    assert_eq!(
        r(400, "Insufficient refundable balance"),
        ErrorKind::AmountExceedsRefundable
    );
    assert_eq!(
        r(409, "Idempotency key used with a different request"),
        ErrorKind::IdempotencyConflict
    );
    assert_eq!(
        refine_by_sentence(ErrorKind::ProviderUnavailable, 503, "refund amount exceeds"),
        ErrorKind::ProviderUnavailable
    );
    assert_eq!(r(402, "Payment already refunded"), ErrorKind::Validation);
    for sentence in [
        "reason is too long",
        "Payment is not refundable",
        "The payment cannot be refunded in its current state.",
        "Refund not allowed: the payment is more than 180 days old",
        "",
    ] {
        assert_eq!(r(400, sentence), ErrorKind::Validation, "{sentence}");
    }
}

#[test]
fn a_code_on_a_parameter_and_a_vague_code() {
    const TABLE: CodeTable = CodeTable::new(&[
        ("parameter_*", ErrorKind::Validation),
        ("resource_invalid_state", ErrorKind::Validation),
    ])
    .with_params(&[("parameter_out_of_range", "amount", ErrorKind::AmountExceedsRefundable)])
    .with_vague_codes(&["resource_invalid_state"]);
    let kind = |status, code: &str, param: Option<&str>, message: &str| {
        let mut body = ErrorBody::new(message).with_code(code);
        body.param = param.map(str::to_owned);
        TABLE.kind(status, &body)
    };
    let over = kind(
        400,
        "parameter_out_of_range",
        Some("amount"),
        "Amount exceeds the maximum",
    );
    assert_eq!(over, ErrorKind::AmountExceedsRefundable);
    let nested = kind(400, "parameter_out_of_range", Some("metadata[amount]"), "too long");
    assert_eq!(nested, ErrorKind::Validation);
    assert_eq!(kind(400, "parameter_out_of_range", None, "x"), ErrorKind::Validation);
    let state = |message| kind(400, "resource_invalid_state", None, message);
    assert_eq!(
        state("Charge ch_1 has already been fully refunded"),
        ErrorKind::AlreadyRefunded
    );
    assert_eq!(
        state("Refund amount exceeds the refundable amount"),
        ErrorKind::AmountExceedsRefundable
    );
    assert_eq!(state("Charge ch_1 has not succeeded"), ErrorKind::Validation);
    // The status still decides first.
    assert_eq!(
        kind(429, "parameter_out_of_range", Some("amount"), "x"),
        ErrorKind::RateLimited
    );
    assert_eq!(
        kind(404, "resource_invalid_state", None, "already refunded"),
        ErrorKind::NotFound
    );
}

#[test]
fn a_404_is_not_found_whatever_the_body_names() {
    let everything = CodeTable::new(&[("*", ErrorKind::Validation)])
        .with_types(&[("*", ErrorKind::Validation)])
        .with_statuses(&[(404, ErrorKind::Validation)])
        .with_sentence_rules();
    for body in [
        r#"{"error":{"type":"invalid_request_error","message":"No such refund: 're_1'"}}"#,
        r#"{"error":{"type":"invalid_request_error","code":"resource_missing","param":"id"}}"#,
        r#"{"error":{"type":"invalid_request_error","code":"charge_already_refunded"}}"#,
        r#"{"detail":"Refund amount exceeds the refundable amount"}"#,
        "<html>not found</html>",
    ] {
        let e = super::super::parse_any(body.as_bytes())
            .unwrap_or_default()
            .into_error(404, &everything);
        assert_eq!(e.kind(), &ErrorKind::NotFound, "{body}");
        assert!(e.is_not_found());
    }
}

#[test]
fn wildcard_patterns() {
    assert!(matches("abc", "abc"));
    assert!(!matches("abc", "ABC"));
    assert!(matches("*_not_found", "charge_not_found"));
    assert!(!matches("*_not_found", "not_found_x"));
    assert!(matches("amount_*", "amount_too_large"));
    assert!(matches("*exceed*", "amount_exceeds_refundable"));
    assert!(matches("*", "anything"));
    assert!(matches("**", "anything"));
    assert!(!matches("", "x"));
}

#[test]
fn refinable_statuses() {
    for status in [400, 402, 409, 410, 422, 499] {
        assert!(refinable(status), "{status}");
    }
    for status in [0, 200, 301, 401, 403, 404, 408, 429, 500, 503, 599, 600, u16::MAX] {
        assert!(!refinable(status), "{status}");
    }
}
