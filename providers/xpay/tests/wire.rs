//! XPay's documented bodies, parsed exactly as written, and its error envelope through the client.
//!
//! The refund object is the response example of "Create a refund" in the seed excerpt
//! (`shared/seeds/001_fd0975700e708ddd.txt`), pasted verbatim. The error bodies follow the field table of
//! the dossier's "2.6 Errors" (docs.xpay.app/integrate/errors/api-errors), which gives the fields but no
//! literal example.

use refunds::{
    Currency, Delivery, ErrorKind, Money, PaymentRefKind, RefundId, RefundProvider, RefundReason, RefundStatus,
};
use refunds_xpay::{STATUSES, XPayClient, parse_refund, parse_refund_list};
use time::macros::datetime;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The seed's response example, byte for byte.
const SEED_REFUND: &str = r#"{
  "id": "re_abc123",
  "chargeId": "ch_xyz789",
  "amount": "50000",
  "currency": "EGP",
  "status": "succeeded",
  "reason": "requested_by_customer",
  "balanceTransactionId": "bt_def456",
  "createdAt": "2024-01-01T00:00:00.000Z"
}"#;

const KEY: &str = "sk_test_xpay_wire_0001";

#[test]
fn seed_example_normalizes_field_by_field() {
    let refund = parse_refund(SEED_REFUND.as_bytes()).expect("documented example parses");
    assert_eq!(refund.id, RefundId::new("re_abc123").unwrap());
    assert_eq!(refund.provider, "xpay");
    assert_eq!(refund.payment.kind(), PaymentRefKind::Charge);
    assert_eq!(refund.payment.id(), "ch_xyz789");
    assert_eq!(refund.amount, Money::from_minor(50_000, Currency::EGP));
    assert_eq!(
        refund.amount.to_major_string(),
        "500.00",
        "minor units: 50000 EGP is 500.00"
    );
    assert_eq!(refund.status, RefundStatus::Succeeded);
    assert_eq!(refund.reason, Some(RefundReason::RequestedByCustomer));
    assert_eq!(refund.created_at, Some(datetime!(2024-01-01 00:00:00 UTC)));
    assert_eq!(refund.updated_at, None);
    assert_eq!(refund.completed_at, None);
    assert_eq!(refund.failure_reason, None);
    assert_eq!(refund.merchant_reference, None);
    assert_eq!(refund.description, None);
    assert_eq!(refund.fee, None);
    assert_eq!(refund.livemode, None);
    assert!(refund.metadata.is_empty());
    assert_eq!(refund.raw.get(), SEED_REFUND, "raw is the object byte for byte");
    assert_eq!(
        refund.raw.field("balanceTransactionId").unwrap(),
        "bt_def456",
        "kept in raw"
    );
}

#[tokio::test]
async fn seed_example_through_retrieve_keeps_raw_exactly() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/refunds/re_abc123"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(SEED_REFUND, "application/json"))
        .mount(&server)
        .await;
    let client = XPayClient::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .build()
        .unwrap();
    let refund = client.get_refund(&RefundId::new("re_abc123").unwrap()).await.unwrap();
    assert_eq!(refund.raw.get(), SEED_REFUND);
    assert_eq!(refund.amount.to_major_string(), "500.00");
    assert_eq!(refund, parse_refund(SEED_REFUND.as_bytes()).unwrap());
}

fn offline_client() -> XPayClient {
    // No request is made: a parse needs no server, and the default base URL is never dialled.
    XPayClient::builder().api_key(KEY).build().unwrap()
}

#[test]
fn refund_from_json_reads_the_seed_example_like_a_response() {
    let client = offline_client();
    let refund = client
        .refund_from_json(SEED_REFUND.as_bytes())
        .expect("documented example parses");
    assert_eq!(refund.id.as_str(), "re_abc123");
    assert_eq!(refund.provider, "xpay");
    assert_eq!(refund.payment.kind(), PaymentRefKind::Charge);
    assert_eq!(refund.payment.id(), "ch_xyz789");
    assert_eq!(refund.amount, Money::from_minor(50_000, Currency::EGP));
    assert_eq!(refund.status, RefundStatus::Succeeded);
    assert_eq!(refund.reason, Some(RefundReason::RequestedByCustomer));
    assert_eq!(refund.created_at, Some(datetime!(2024-01-01 00:00:00 UTC)));
    assert_eq!(refund.raw.get(), SEED_REFUND, "raw is the object byte for byte");
    assert_eq!(
        refund,
        parse_refund(SEED_REFUND.as_bytes()).unwrap(),
        "the free function agrees"
    );
    let usd = SEED_REFUND.replace("EGP", "USD");
    assert_eq!(
        client.refund_from_json(usd.as_bytes()).unwrap().amount,
        Money::from_minor(50_000, Currency::USD),
        "the object's own currency"
    );
}

#[tokio::test]
async fn refund_from_json_and_retrieve_give_the_same_refund() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/refunds/re_abc123"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(SEED_REFUND, "application/json"))
        .mount(&server)
        .await;
    let client = XPayClient::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .build()
        .unwrap();
    let fetched = client.get_refund(&RefundId::new("re_abc123").unwrap()).await.unwrap();
    assert_eq!(client.refund_from_json(SEED_REFUND.as_bytes()).unwrap(), fetched);
}

#[test]
fn refund_from_json_refuses_anything_but_one_refund_object() {
    let client = offline_client();
    let no_currency = SEED_REFUND.replace(r#""currency": "EGP","#, "");
    let no_status = SEED_REFUND.replace(r#""status": "succeeded","#, "");
    let cases = [
        (String::new(), "empty"),
        ("<html>ok</html>".to_owned(), "not json"),
        ("null".to_owned(), "null"),
        (format!("[{SEED_REFUND}]"), "a bare list"),
        (format!(r#"{{"data":[{SEED_REFUND}]}}"#), "a list envelope"),
        (format!("{SEED_REFUND} {{}}"), "trailing text"),
        (SEED_REFUND[..SEED_REFUND.len() / 2].to_owned(), "truncated"),
        (no_currency, "no currency"),
        (no_status, "no status"),
        (SEED_REFUND.replace("re_abc123", ""), "an empty id"),
        (SEED_REFUND.replace(r#""50000""#, r#""500.00""#), "a decimal amount"),
    ];
    for (body, case) in cases {
        let e = client.refund_from_json(body.as_bytes()).expect_err(case);
        assert_eq!(e.kind(), &ErrorKind::Decode, "{case}: {e}");
        assert_eq!(e.delivery(), Delivery::NotSent, "{case}: nothing was sent");
        assert_eq!(e.provider(), Some("xpay"), "{case}");
        assert_eq!(e.http_status(), None, "{case}");
        assert_eq!(e.body().unwrap_or_default(), body, "{case}: the text is kept");
        assert_eq!(parse_refund(body.as_bytes()).unwrap_err().kind(), &ErrorKind::Decode);
    }
}

#[test]
fn amount_as_an_integer_is_read_too() {
    let body = SEED_REFUND.replace(r#""amount": "50000""#, r#""amount": 50000"#);
    let refund = parse_refund(body.as_bytes()).unwrap();
    assert_eq!(refund.amount, Money::from_minor(50_000, Currency::EGP));
    assert_eq!(refund.raw.get(), body);
}

#[test]
fn amounts_that_are_not_minor_units_are_decode_errors() {
    for bad in [
        r#""500.00""#,
        "500.5",
        r#""5e4""#,
        r#""""#,
        "null",
        r#""99999999999999999999""#,
    ] {
        let body = SEED_REFUND.replace(r#""50000""#, bad);
        let e = parse_refund(body.as_bytes()).expect_err(bad);
        assert_eq!(e.kind(), &ErrorKind::Decode, "{bad}: {e}");
    }
}

#[test]
fn currency_exponent_comes_from_the_response() {
    let jpy = SEED_REFUND.replace("EGP", "JPY");
    let refund = parse_refund(jpy.as_bytes()).unwrap();
    assert_eq!(refund.amount.to_major_string(), "50000", "zero-decimal: no 100x");
    let kwd = SEED_REFUND.replace("EGP", "KWD");
    assert_eq!(parse_refund(kwd.as_bytes()).unwrap().amount.to_major_string(), "50.000");
    let lower = SEED_REFUND.replace("EGP", "egp");
    assert_eq!(parse_refund(lower.as_bytes()).unwrap().amount.currency(), Currency::EGP);
    let unknown = SEED_REFUND.replace("EGP", "XYZ");
    let e = parse_refund(unknown.as_bytes()).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Decode);
    assert!(e.message().contains("currency"), "{e}");
}

#[test]
fn payment_intent_names_the_payment_only_without_a_charge() {
    let both = SEED_REFUND.replace(
        r#""chargeId": "ch_xyz789","#,
        r#""chargeId": "ch_xyz789", "paymentIntentId": "pi_test_xyz789","#,
    );
    let refund = parse_refund(both.as_bytes()).unwrap();
    assert_eq!(
        refund.payment.kind(),
        PaymentRefKind::Charge,
        "the charge the intent resolved to"
    );
    assert_eq!(refund.payment.id(), "ch_xyz789");
    let intent_only = SEED_REFUND.replace(r#""chargeId": "ch_xyz789""#, r#""paymentIntentId": "pi_test_xyz789""#);
    let refund = parse_refund(intent_only.as_bytes()).unwrap();
    assert_eq!(refund.payment.kind(), PaymentRefKind::PaymentIntent);
    assert_eq!(refund.payment.id(), "pi_test_xyz789");
    let neither = SEED_REFUND.replace(r#""chargeId": "ch_xyz789","#, "");
    assert_eq!(parse_refund(neither.as_bytes()).unwrap_err().kind(), &ErrorKind::Decode);
}

#[test]
fn statuses_map_and_unknown_ones_are_kept() {
    for (wire, status) in [
        ("succeeded", RefundStatus::Succeeded),
        ("pending", RefundStatus::Pending),
        ("processing", RefundStatus::Processing),
        ("requires_action", RefundStatus::RequiresAction),
        ("failed", RefundStatus::Failed),
        ("canceled", RefundStatus::Canceled),
        ("cancelled", RefundStatus::Canceled),
        ("SUCCEEDED", RefundStatus::Succeeded),
        ("reversed_by_bank", RefundStatus::Unknown("reversed_by_bank".into())),
    ] {
        let body = SEED_REFUND.replace(r#""succeeded""#, &format!("{wire:?}"));
        assert_eq!(parse_refund(body.as_bytes()).unwrap().status, status, "{wire}");
    }
    assert_eq!(STATUSES.to_wire(&RefundStatus::Canceled), Some("canceled"));
}

#[test]
fn optional_fields_metadata_and_extras() {
    let body = r#"{"id":"re_1","object":"refund","chargeId":"ch_1","paymentIntentId":"pi_1","amount":"2500",
        "currency":"EGP","status":"failed","reason":"fraudulent","description":"damaged item",
        "metadata":{"order_id":"6735","merchant_reference":"order-6735","attempt":2,"vip":true},
        "failureReason":"card expired","balanceTransactionId":null,"createdAt":"2024-03-05T10:11:12.345Z",
        "ledgerEntries":[{"account":"available","amount":-2500}]}"#;
    let refund = parse_refund(body.as_bytes()).unwrap();
    assert_eq!(refund.status, RefundStatus::Failed);
    assert_eq!(refund.reason, Some(RefundReason::Fraudulent));
    assert_eq!(refund.description.as_deref(), Some("damaged item"));
    assert_eq!(refund.failure_reason.as_deref(), Some("card expired"));
    assert_eq!(refund.merchant_reference.as_deref(), Some("order-6735"));
    assert_eq!(refund.metadata.get("order_id").map(String::as_str), Some("6735"));
    assert_eq!(
        refund.metadata.get("attempt").map(String::as_str),
        Some("2"),
        "non-string values as JSON text"
    );
    assert_eq!(refund.metadata.get("vip").map(String::as_str), Some("true"));
    assert!(
        !refund.metadata.contains_key("merchant_reference"),
        "moved to merchant_reference"
    );
    assert_eq!(refund.created_at.unwrap().millisecond(), 345);
    assert_eq!(refund.raw.get(), body, "extra fields stay in raw");
    assert!(refund.raw.field("ledgerEntries").is_some());
    let other_reason = body.replace("fraudulent", "goodwill_gesture");
    assert_eq!(
        parse_refund(other_reason.as_bytes()).unwrap().reason,
        Some(RefundReason::Other("goodwill_gesture".into()))
    );
    let nulls = r#"{"id":"re_2","chargeId":"ch_1","amount":"1","currency":"EGP","status":"pending","reason":null,"metadata":null,"createdAt":null}"#;
    let refund = parse_refund(nulls.as_bytes()).unwrap();
    assert_eq!(refund.reason, None);
    assert_eq!(refund.created_at, None);
    let bad_time = SEED_REFUND.replace("2024-01-01T00:00:00.000Z", "01/01/2024");
    assert_eq!(
        parse_refund(bad_time.as_bytes()).unwrap_err().kind(),
        &ErrorKind::Decode
    );
}

#[test]
fn list_envelopes_are_read_tolerantly() {
    let one = SEED_REFUND;
    let two = SEED_REFUND.replace("re_abc123", "re_abc124");
    for body in [
        format!("[{one},{two}]"),
        format!(r#"{{"data":[{one},{two}]}}"#),
        format!(r#"{{"object":"list","items":[{one},{two}],"hasMore":false}}"#),
    ] {
        let refunds = parse_refund_list(body.as_bytes()).unwrap_or_else(|e| panic!("{body}: {e}"));
        let ids: Vec<&str> = refunds.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["re_abc123", "re_abc124"]);
        assert_eq!(refunds[0].raw.get(), one, "each item keeps its own text");
    }
    assert!(parse_refund_list(b"[]").unwrap().is_empty());
    for bad in [r#"{"refunds":[]}"#, "null", r#""x""#, r#"{"data":{}}"#] {
        let e = parse_refund_list(bad.as_bytes()).expect_err(bad);
        assert_eq!(e.kind(), &ErrorKind::Decode, "{bad}");
    }
}

async fn error_for(status: u16, body: &str) -> refunds::Error {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(status).set_body_raw(body.to_owned(), "application/json"))
        .mount(&server)
        .await;
    let client = XPayClient::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .max_retries(0)
        .build()
        .unwrap();
    client
        .get_refund(&RefundId::new("re_abc123").unwrap())
        .await
        .expect_err("an error answer")
}

fn envelope(error_type: &str, code: &str, message: &str, param: Option<&str>) -> String {
    serde_json::json!({
        "error": {
            "type": error_type,
            "code": code,
            "message": message,
            "param": param,
            "doc_url": format!("https://docs.xpay.app/errors/{code}"),
        },
        "request_id": "req_8f2a91",
    })
    .to_string()
}

#[tokio::test]
async fn documented_error_envelope_keeps_code_field_and_request_id() {
    let body = envelope(
        "invalid_request_error",
        "parameter_missing",
        "Missing required param: chargeId.",
        Some("chargeId"),
    );
    let e = error_for(400, &body).await;
    assert_eq!(e.kind(), &ErrorKind::Validation);
    assert_eq!(e.delivery(), Delivery::Rejected);
    assert_eq!(e.http_status(), Some(400));
    assert_eq!(e.provider(), Some("xpay"));
    assert_eq!(e.provider_code(), Some("parameter_missing"));
    assert_eq!(e.message(), "Missing required param: chargeId.");
    assert_eq!(e.request_id(), Some("req_8f2a91"), "request id from the body");
    assert_eq!(e.field(), Some("chargeId"));
    let field = &e.field_errors()[0];
    assert_eq!(field.code.as_deref(), Some("parameter_missing"));
    assert_eq!(field.message, "Missing required param: chargeId.");
    assert!(e.body().unwrap().contains("doc_url"), "doc_url kept with the body");
}

#[tokio::test]
async fn error_kinds_follow_status_type_and_code() {
    let cases: &[(u16, &str, &str, ErrorKind)] = &[
        (
            401,
            "authentication_error",
            "invalid_api_key",
            ErrorKind::Authentication,
        ),
        (
            403,
            "authentication_error",
            "insufficient_permissions",
            ErrorKind::PermissionDenied,
        ),
        (404, "invalid_request_error", "resource_missing", ErrorKind::NotFound),
        (400, "invalid_request_error", "parameter_invalid", ErrorKind::Validation),
        (
            400,
            "invalid_request_error",
            "amount_exceeds_refundable",
            ErrorKind::AmountExceedsRefundable,
        ),
        (
            400,
            "invalid_request_error",
            "refund_amount_exceeds_charge",
            ErrorKind::AmountExceedsRefundable,
        ),
        (
            400,
            "invalid_request_error",
            "amount_too_large",
            ErrorKind::AmountExceedsRefundable,
        ),
        (
            400,
            "invalid_request_error",
            "charge_already_refunded",
            ErrorKind::AlreadyRefunded,
        ),
        (
            409,
            "invalid_request_error",
            "charge_already_refunded",
            ErrorKind::AlreadyRefunded,
        ),
        (
            409,
            "invalid_request_error",
            "multiple_succeeded_charges",
            ErrorKind::Validation,
        ),
        (400, "invalid_request_error", "charge_not_found", ErrorKind::NotFound),
        (429, "invalid_request_error", "rate_limit", ErrorKind::RateLimited),
        (500, "api_error", "internal", ErrorKind::ProviderUnavailable),
        (503, "api_error", "amount_too_large", ErrorKind::ProviderUnavailable),
    ];
    for (status, error_type, code, kind) in cases {
        let e = error_for(*status, &envelope(error_type, code, "m", None)).await;
        assert_eq!(e.kind(), kind, "{status} {error_type} {code}: {e}");
        assert_eq!(e.provider_code(), Some(*code));
        assert_eq!(e.request_id(), Some("req_8f2a91"));
        let delivery = if *status >= 500 {
            Delivery::Ambiguous
        } else {
            Delivery::Rejected
        };
        assert_eq!(e.delivery(), delivery);
    }
}

#[tokio::test]
async fn nested_params_become_dotted_field_paths() {
    let e = error_for(
        400,
        &envelope(
            "invalid_request_error",
            "parameter_invalid",
            "too long",
            Some("metadata[order_id]"),
        ),
    )
    .await;
    assert_eq!(e.field(), Some("metadata.order_id"));
}

#[tokio::test]
async fn undocumented_error_bodies_keep_status_and_text() {
    let e = error_for(502, "<html><body>502 Bad Gateway</body></html>").await;
    assert_eq!(e.kind(), &ErrorKind::ProviderUnavailable);
    assert_eq!(e.http_status(), Some(502));
    assert!(e.body().unwrap().contains("Bad Gateway"));
    let e = error_for(
        400,
        r#"{"statusCode":400,"message":["amount must be a positive number"],"error":"Bad Request"}"#,
    )
    .await;
    assert_eq!(e.kind(), &ErrorKind::Validation);
    assert_eq!(e.message(), "amount must be a positive number");
    let e = error_for(404, r#"{"error":null,"request_id":"req_1"}"#).await;
    assert_eq!(e.kind(), &ErrorKind::NotFound);
    let e = error_for(401, "").await;
    assert_eq!(e.kind(), &ErrorKind::Authentication);
    assert_eq!(e.message(), "http 401");
}
