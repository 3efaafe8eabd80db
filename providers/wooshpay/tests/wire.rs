//! WooshPay's documented bodies, pasted as written, through the real client: the refund object of the
//! retrieve page, the create page's placeholder example, the create request example, and the error
//! object, checked field by field after normalization.

use refunds::{
    Currency, Delivery, ErrorKind, Money, OffsetDateTime, PaymentRefKind, Refund, RefundId, RefundProvider,
    RefundReason, RefundStatus,
};
use refunds_wooshpay::WooshPayClient;
use wiremock::matchers::{body_json_string, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk_test_wire_tests_000000";

/// The "Retrieve a refund" example, https://docs.wooshpay.com/api-52306151 (the dossier's §5.5 source),
/// exactly as the page shows it.
const RETRIEVE_EXAMPLE: &str = r#"{
"id": "re_3KQu4U2eZvKYlo2C02Ndp8xy",
"object": "refund",
"amount": 100,
"created": 1644328172,
"currency": "usd",
"metadata": {},
"payment_intent": "pi_3KQu4U2eZvKYlo2C0avUn9aJ",
"reason": null,
"receipt_number": null,
"status": "succeeded"
}"#;

/// The seed's "Create a refund" 200 example, exactly as written: placeholder values throughout.
const SEED_CREATE_RESPONSE_EXAMPLE: &str = r#"{
"id": "string",
"object": "string",
"amount": 0,
"created": 0,
"currency": "string",
"metadata": {},
"payment_intent": "string",
"reason": "duplicate",
"status": "string",
"description": "string",
"failure_reason": "lost_or_stolen_card"
}"#;

/// The seed's create request example, exactly as written.
const SEED_CREATE_REQUEST_EXAMPLE: &str = r#"{
"reason": "requested_by_customer",
"payment_intent": "pi_1787730829493927936"
}"#;

async fn server_answering(status: u16, body: &str) -> (MockServer, WooshPayClient) {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(status).set_body_raw(body, "application/json"))
        .mount(&server)
        .await;
    let client = WooshPayClient::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .max_retries(0)
        .build()
        .unwrap();
    (server, client)
}

async fn retrieve(body: &str) -> refunds::Result<Refund> {
    let (_server, client) = server_answering(200, body).await;
    client.get_refund(&RefundId::new("re_any").unwrap()).await
}

#[tokio::test]
async fn the_documented_refund_object_normalizes_field_by_field() {
    let refund = retrieve(RETRIEVE_EXAMPLE).await.expect("documented example");
    assert_eq!(refund.id.as_str(), "re_3KQu4U2eZvKYlo2C02Ndp8xy");
    assert_eq!(refund.provider, "wooshpay");
    assert_eq!(refund.payment.kind(), PaymentRefKind::PaymentIntent);
    assert_eq!(refund.payment.id(), "pi_3KQu4U2eZvKYlo2C0avUn9aJ");
    assert_eq!(refund.amount, Money::from_minor(100, Currency::USD));
    assert_eq!(refund.amount.to_major_string(), "1.00", "integer minor units");
    assert_eq!(refund.status, RefundStatus::Succeeded);
    assert_eq!(refund.reason, None, "reason null");
    assert_eq!(refund.failure_reason, None);
    assert_eq!(refund.description, None);
    assert_eq!(refund.merchant_reference, None);
    assert_eq!(
        refund.created_at,
        Some(OffsetDateTime::from_unix_timestamp(1_644_328_172).unwrap()),
        "unix seconds"
    );
    assert_eq!(refund.updated_at, None);
    assert_eq!(refund.completed_at, None);
    assert_eq!(refund.livemode, None);
    assert_eq!(refund.fee, None);
    assert!(refund.metadata.is_empty());
    assert_eq!(refund.raw.get(), RETRIEVE_EXAMPLE, "raw is byte-exact");
}

#[tokio::test]
async fn the_seed_create_example_has_a_placeholder_currency() {
    // As written, the example's currency is the word "string": not a currency, so not a refund.
    let e = retrieve(SEED_CREATE_RESPONSE_EXAMPLE)
        .await
        .expect_err("placeholder currency");
    assert_eq!(e.kind(), &ErrorKind::Decode, "{e}");
    assert!(e.message().contains("`currency`"), "{e}");
    assert_eq!(e.http_status(), Some(200));
    assert_eq!(e.provider(), Some("wooshpay"));
    assert_eq!(e.body(), Some(SEED_CREATE_RESPONSE_EXAMPLE));

    // With a real currency in its place, every other documented field reads as typed.
    let body = SEED_CREATE_RESPONSE_EXAMPLE.replace("\"currency\": \"string\"", "\"currency\": \"usd\"");
    let refund = retrieve(&body).await.expect("otherwise well formed");
    assert_eq!(refund.id.as_str(), "string");
    assert_eq!(refund.payment.id(), "string");
    assert_eq!(refund.amount, Money::from_minor(0, Currency::USD));
    assert_eq!(refund.created_at, Some(OffsetDateTime::UNIX_EPOCH));
    assert_eq!(refund.reason, Some(RefundReason::Duplicate));
    assert_eq!(
        refund.status,
        RefundStatus::Unknown("string".into()),
        "an undocumented status is kept, never guessed"
    );
    assert_eq!(refund.description.as_deref(), Some("string"));
    assert_eq!(refund.failure_reason.as_deref(), Some("lost_or_stolen_card"));
    assert_eq!(refund.raw.get(), body);
}

#[tokio::test]
async fn the_client_sends_the_seed_request_example() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/refunds"))
        .and(body_json_string(SEED_CREATE_REQUEST_EXAMPLE))
        .respond_with(ResponseTemplate::new(200).set_body_raw(RETRIEVE_EXAMPLE, "application/json"))
        .expect(1)
        .mount(&server)
        .await;
    let client = WooshPayClient::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .build()
        .unwrap();
    let request = refunds::CreateRefund::new(refunds::PaymentRef::payment_intent("pi_1787730829493927936").unwrap())
        .reason(RefundReason::RequestedByCustomer);
    client.create_refund(&request).await.expect("create");
}

#[tokio::test]
async fn every_documented_status_reason_and_failure_reason() {
    let with = |field: &str, value: &str| {
        RETRIEVE_EXAMPLE.replace(
            &format!("\"{field}\": "),
            &format!("\"{field}\": {value}, \"was_{field}\": "),
        )
    };
    for (wire, status) in [
        ("pending", RefundStatus::Pending),
        ("requires_action", RefundStatus::RequiresAction),
        ("succeeded", RefundStatus::Succeeded),
        ("failed", RefundStatus::Failed),
        ("canceled", RefundStatus::Canceled),
        ("cancelled", RefundStatus::Unknown("cancelled".into())),
        ("processing", RefundStatus::Unknown("processing".into())),
    ] {
        let refund = retrieve(&with("status", &format!("\"{wire}\""))).await.unwrap();
        assert_eq!(refund.status, status, "{wire}");
    }
    for (wire, reason) in [
        ("duplicate", RefundReason::Duplicate),
        ("fraudulent", RefundReason::Fraudulent),
        ("requested_by_customer", RefundReason::RequestedByCustomer),
        ("expired_uncaptured_charge", RefundReason::ExpiredUncapturedCharge),
        ("resolved_dispute", RefundReason::ResolvedDispute),
        ("goodwill", RefundReason::Other("goodwill".into())),
    ] {
        let refund = retrieve(&with("reason", &format!("\"{wire}\""))).await.unwrap();
        assert_eq!(refund.reason, Some(reason), "{wire}");
    }
    for wire in ["lost_or_stolen_card", "expired_or_canceled_card", "unknown"] {
        let body = RETRIEVE_EXAMPLE.replace(
            "\"status\": \"succeeded\"",
            &format!("\"status\": \"failed\", \"failure_reason\": \"{wire}\""),
        );
        let refund = retrieve(&body).await.unwrap();
        assert_eq!(refund.status, RefundStatus::Failed);
        assert_eq!(refund.failure_reason.as_deref(), Some(wire));
    }
}

#[tokio::test]
async fn currencies_are_lower_case_with_their_own_exponent() {
    for (code, currency, major) in [
        ("jpy", Currency::JPY, "100"),
        ("kwd", Currency::KWD, "0.100"),
        ("USD", Currency::USD, "1.00"),
    ] {
        let body = RETRIEVE_EXAMPLE.replace("\"usd\"", &format!("\"{code}\""));
        let refund = retrieve(&body).await.unwrap();
        assert_eq!(refund.amount.currency(), currency);
        assert_eq!(refund.amount.to_major_string(), major);
    }
}

#[tokio::test]
async fn metadata_comes_back_with_the_merchant_reference() {
    let body = RETRIEVE_EXAMPLE.replace(
        "\"metadata\": {}",
        r#""metadata": {"merchant_reference": "order-42", "ticket": "T-9", "attempt": 2}"#,
    );
    let refund = retrieve(&body).await.unwrap();
    assert_eq!(refund.merchant_reference.as_deref(), Some("order-42"));
    assert_eq!(refund.metadata["ticket"], "T-9");
    assert_eq!(refund.metadata["attempt"], "2", "a non-string value keeps its text");
    assert_eq!(refund.metadata["merchant_reference"], "order-42");
}

#[tokio::test]
async fn missing_essentials_are_decode_errors_naming_the_field() {
    for (field, line) in [
        ("id", "\"id\": \"re_3KQu4U2eZvKYlo2C02Ndp8xy\",\n"),
        ("amount", "\"amount\": 100,\n"),
        ("currency", "\"currency\": \"usd\",\n"),
        (
            "payment_intent",
            "\"payment_intent\": \"pi_3KQu4U2eZvKYlo2C0avUn9aJ\",\n",
        ),
    ] {
        assert!(RETRIEVE_EXAMPLE.contains(line), "{line}");
        let absent = RETRIEVE_EXAMPLE.replace(line, "");
        let null = RETRIEVE_EXAMPLE.replace(line, &format!("\"{field}\": null,\n"));
        for body in [absent, null] {
            let e = retrieve(&body).await.expect_err(field);
            assert_eq!(e.kind(), &ErrorKind::Decode, "{e}");
            assert!(e.message().contains(&format!("`{field}`")), "{field}: {e}");
            assert_eq!(e.http_status(), Some(200));
            assert_eq!(e.body(), Some(body.as_str()));
        }
    }
    // `status` is the last field, so it is cut with the comma before it.
    let no_status = RETRIEVE_EXAMPLE.replace(",\n\"status\": \"succeeded\"", "");
    let e = retrieve(&no_status).await.expect_err("status");
    assert_eq!(e.kind(), &ErrorKind::Decode);
    assert!(e.message().contains("`status`"), "{e}");
    let empty_id = RETRIEVE_EXAMPLE.replace("\"re_3KQu4U2eZvKYlo2C02Ndp8xy\"", "\"\"");
    let e = retrieve(&empty_id).await.expect_err("empty id");
    assert!(e.message().contains("`id`"), "{e}");
    let unknown_currency = RETRIEVE_EXAMPLE.replace("\"usd\"", "\"xyz\"");
    let e = retrieve(&unknown_currency).await.expect_err("xyz");
    assert_eq!(e.kind(), &ErrorKind::Decode);
    assert!(e.message().contains("`currency`"), "{e}");
    // Responses carry the amount as an integer; anything else is not read as money.
    for amount in ["\"100\"", "1.5", "1e2"] {
        let body = RETRIEVE_EXAMPLE.replace("\"amount\": 100", &format!("\"amount\": {amount}"));
        let e = retrieve(&body).await.expect_err(amount);
        assert_eq!(e.kind(), &ErrorKind::Decode, "{amount}: {e}");
    }
}

/// One documented error status with a body in WooshPay's `{"error": {type, code, message, param}}` shape.
struct ErrorCase {
    status: u16,
    body: &'static str,
    kind: ErrorKind,
    code: Option<&'static str>,
    field: Option<&'static str>,
    message: &'static str,
}

#[tokio::test]
async fn error_bodies_become_precise_errors() {
    let cases = [
        ErrorCase {
            status: 400,
            body: r#"{"error": {"type": "invalid_request_error", "code": "parameter_missing", "message": "Missing required param: payment_intent.", "param": "payment_intent"}}"#,
            kind: ErrorKind::Validation,
            code: Some("parameter_missing"),
            field: Some("payment_intent"),
            message: "Missing required param: payment_intent.",
        },
        ErrorCase {
            status: 400,
            body: r#"{"error": {"type": "invalid_request_error", "code": "amount_too_large", "message": "Refund amount is greater than unrefunded amount.", "param": "amount"}}"#,
            kind: ErrorKind::AmountExceedsRefundable,
            code: Some("amount_too_large"),
            field: Some("amount"),
            message: "Refund amount is greater than unrefunded amount.",
        },
        ErrorCase {
            status: 400,
            body: r#"{"error": {"type": "invalid_request_error", "code": "charge_already_refunded", "message": "Charge has already been refunded."}}"#,
            kind: ErrorKind::AlreadyRefunded,
            code: Some("charge_already_refunded"),
            field: None,
            message: "Charge has already been refunded.",
        },
        ErrorCase {
            status: 401,
            body: r#"{"error": {"type": "invalid_request_error", "message": "Invalid API Key provided."}}"#,
            kind: ErrorKind::Authentication,
            code: Some("invalid_request_error"),
            field: None,
            message: "Invalid API Key provided.",
        },
        ErrorCase {
            status: 402,
            body: r#"{"error": {"type": "card_error", "code": "expired_card", "message": "The card has expired."}}"#,
            kind: ErrorKind::Other,
            code: Some("expired_card"),
            field: None,
            message: "The card has expired.",
        },
        ErrorCase {
            status: 403,
            body: r#"{"error": {"type": "invalid_request_error", "message": "The provided key does not have access to refunds."}}"#,
            kind: ErrorKind::PermissionDenied,
            code: Some("invalid_request_error"),
            field: None,
            message: "The provided key does not have access to refunds.",
        },
        ErrorCase {
            status: 404,
            body: r#"{"error": {"type": "invalid_request_error", "code": "resource_missing", "message": "No such refund: 're_x'", "param": "id"}}"#,
            kind: ErrorKind::NotFound,
            code: Some("resource_missing"),
            field: Some("id"),
            message: "No such refund: 're_x'",
        },
        ErrorCase {
            status: 409,
            body: r#"{"error": {"type": "idempotency_error", "message": "Keys for idempotent requests can only be used with the same parameters they were first used with."}}"#,
            kind: ErrorKind::IdempotencyConflict,
            code: Some("idempotency_error"),
            field: None,
            message: "Keys for idempotent requests can only be used with the same parameters they were first used with.",
        },
        ErrorCase {
            status: 429,
            body: r#"{"error": {"type": "invalid_request_error", "code": "rate_limit", "message": "Too many requests hit the API too quickly."}}"#,
            kind: ErrorKind::RateLimited,
            code: Some("rate_limit"),
            field: None,
            message: "Too many requests hit the API too quickly.",
        },
    ];
    for case in cases {
        let (_server, client) = server_answering(case.status, case.body).await;
        let e = client
            .get_refund(&RefundId::new("re_x").unwrap())
            .await
            .expect_err("error answer");
        assert_eq!(e.kind(), &case.kind, "{}: {e}", case.status);
        assert_eq!(e.http_status(), Some(case.status));
        assert_eq!(e.provider_code(), case.code, "{}", case.status);
        assert_eq!(e.field(), case.field, "{}", case.status);
        assert_eq!(e.message(), case.message);
        assert_eq!(e.provider(), Some("wooshpay"));
        assert_eq!(e.delivery(), Delivery::Rejected);
    }
    for status in [500, 502, 503, 504] {
        let (_server, client) = server_answering(
            status,
            r#"{"error": {"type": "api_error", "message": "Something went wrong on our end."}}"#,
        )
        .await;
        let e = client
            .get_refund(&RefundId::new("re_x").unwrap())
            .await
            .expect_err("5xx");
        assert_eq!(e.kind(), &ErrorKind::ProviderUnavailable, "{status}");
        assert_eq!(e.delivery(), Delivery::Ambiguous);
        assert_eq!(e.provider_code(), Some("api_error"));
        assert!(e.is_retryable(), "a GET is replay-safe");
    }
}

#[tokio::test]
async fn an_error_without_wooshpay_body_keeps_status_and_body() {
    let (_server, client) = server_answering(502, "<html>502 Bad Gateway</html>").await;
    let e = client
        .get_refund(&RefundId::new("re_x").unwrap())
        .await
        .expect_err("502");
    assert_eq!(e.kind(), &ErrorKind::ProviderUnavailable);
    assert_eq!(e.body(), Some("<html>502 Bad Gateway</html>"));
    assert_eq!(e.provider_code(), None);
}

fn parser() -> WooshPayClient {
    WooshPayClient::builder()
        .api_key(KEY)
        .base_url("http://127.0.0.1:9")
        .build()
        .unwrap()
}

#[tokio::test]
async fn refund_from_json_reads_the_documented_object_as_a_response_would() {
    let parsed = parser()
        .refund_from_json(RETRIEVE_EXAMPLE.as_bytes())
        .expect("documented example");
    assert_eq!(parsed.id.as_str(), "re_3KQu4U2eZvKYlo2C02Ndp8xy");
    assert_eq!(parsed.provider, "wooshpay");
    assert_eq!(parsed.payment.kind(), PaymentRefKind::PaymentIntent);
    assert_eq!(parsed.payment.id(), "pi_3KQu4U2eZvKYlo2C0avUn9aJ");
    assert_eq!(parsed.amount, Money::from_minor(100, Currency::USD));
    assert_eq!(parsed.status, RefundStatus::Succeeded);
    assert_eq!(parsed.reason, None);
    assert_eq!(
        parsed.created_at,
        Some(OffsetDateTime::from_unix_timestamp(1_644_328_172).unwrap())
    );
    assert!(parsed.metadata.is_empty());
    assert_eq!(parsed.raw.get(), RETRIEVE_EXAMPLE, "raw is byte-exact");
    // The same refund as the retrieve answer carrying the same text.
    let retrieved = retrieve(RETRIEVE_EXAMPLE).await.unwrap();
    assert_eq!(parsed, retrieved);

    let seed = SEED_CREATE_RESPONSE_EXAMPLE.replace("\"currency\": \"string\"", "\"currency\": \"jpy\"");
    let parsed = parser().refund_from_json(seed.as_bytes()).expect("seed create example");
    assert_eq!(parsed.amount, Money::from_minor(0, Currency::JPY));
    assert_eq!(parsed.reason, Some(RefundReason::Duplicate));
    assert_eq!(parsed.failure_reason.as_deref(), Some("lost_or_stolen_card"));
    assert_eq!(parsed.raw.get(), seed);
}

#[test]
fn refund_from_json_refuses_anything_else_as_a_decode_error() {
    let client = parser();
    let envelope = format!(r#"{{"id": "evt_1", "object": "event", "data": {{"object": {RETRIEVE_EXAMPLE}}}}}"#);
    let cases: Vec<(String, &str)> = vec![
        (SEED_CREATE_RESPONSE_EXAMPLE.to_owned(), "`currency`"),
        (
            RETRIEVE_EXAMPLE.replace("\"amount\": 100", "\"amount\": \"100\""),
            "wooshpay",
        ),
        (
            RETRIEVE_EXAMPLE.replace("\"amount\": 100", "\"amount\": 1.5"),
            "wooshpay",
        ),
        (RETRIEVE_EXAMPLE[..RETRIEVE_EXAMPLE.len() / 2].to_owned(), "wooshpay"),
        (envelope, "`amount`"),
        ("{}".to_owned(), "`id`"),
        ("[]".to_owned(), "json object"),
        (
            r#"["re_1","refund",100,1644328172,"usd",{},"pi_1",null,"succeeded"]"#.to_owned(),
            "json object",
        ),
        ("null".to_owned(), "wooshpay"),
        (String::new(), "wooshpay"),
        ("<html>502 Bad Gateway</html>".to_owned(), "wooshpay"),
    ];
    for (body, says) in cases {
        let e = client.refund_from_json(body.as_bytes()).expect_err(&body);
        assert_eq!(e.kind(), &ErrorKind::Decode, "{body}: {e}");
        assert!(e.message().contains(says), "{body}: {e}");
        assert_eq!(e.provider(), Some("wooshpay"));
        assert_eq!(e.http_status(), None, "no HTTP answer was involved");
        assert!(
            body.is_empty() || e.body().is_some_and(|b| body.starts_with(b)),
            "{e:?}"
        );
    }
}
