//! The documented refund object and error answers, parsed through the real client and checked field
//! by field.
//!
//! The seed excerpt (`shared/seeds/002_...`) has "Response example" headings but no example bodies,
//! and the dossier quotes none, so the bodies below are written from the excerpt's field table
//! exactly as it documents each field: `object` "refund", `id` string, `live` boolean, `created_at`
//! integer milliseconds, `amount` integer, `failed_reason` string or null, `payment` string or
//! Payment, `status` enum. Error bodies are not documented at all: the shapes below are the ones the
//! decoder is written to read (assumed, see the README).

use refunds::{
    Currency, Delivery, ErrorKind, ListRefunds, Money, PaymentRefKind, RefundId, RefundProvider, RefundReason,
    RefundStatus,
};
use refunds_cursor::{CursorClient, STATUSES, expanded_payment};
use time::macros::datetime;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk_test_cursor_wire_5c0d";

/// Every documented field, `payment` as an id, a sandbox object.
const REFUND: &str = r#"{
  "object": "refund",
  "id": "re_1NxB2c4e",
  "live": false,
  "created_at": 1700000000123,
  "amount": 2500,
  "failed_reason": null,
  "payment": "pay_9aK2mQ",
  "status": "succeeded"
}"#;

/// A failed production refund with `payment` expanded into the Payment object.
const FAILED_EXPANDED: &str = r#"{"object":"refund","id":"re_77","live":true,"created_at":1717171717000,"amount":999,"failed_reason":"The card was closed.","payment":{"object":"payment","id":"pay_77","amount":5000,"amount_received":5000,"amount_refunded":999,"status":"succeeded","customer":"cus_1"},"status":"failed"}"#;

async fn serve(status: u16, body: &str) -> (MockServer, CursorClient) {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(status)
                .insert_header("content-type", "application/json")
                .insert_header("request-id", "req_header_1")
                .set_body_string(body),
        )
        .mount(&server)
        .await;
    let client = CursorClient::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .currency(Currency::EUR)
        .max_retries(0)
        .build()
        .unwrap();
    (server, client)
}

async fn get(body: &str) -> refunds::Result<refunds::Refund> {
    let (_server, client) = serve(200, body).await;
    client.get_refund(&RefundId::new("re_any").unwrap()).await
}

#[tokio::test]
async fn the_documented_refund_object_field_by_field() {
    let refund = get(REFUND).await.unwrap();
    assert_eq!(refund.id.as_str(), "re_1NxB2c4e");
    assert_eq!(refund.provider, "cursor");
    assert_eq!(refund.payment.kind(), PaymentRefKind::Payment);
    assert_eq!(refund.payment.id(), "pay_9aK2mQ");
    assert_eq!(refund.amount, Money::from_minor(2500, Currency::EUR));
    assert_eq!(refund.amount.to_string(), "25.00 EUR", "the configured currency");
    assert_eq!(refund.status, RefundStatus::Succeeded);
    assert_eq!(refund.failure_reason, None, "null failed_reason");
    assert_eq!(refund.livemode, Some(false), "live false is a sandbox object");
    assert_eq!(
        refund.created_at,
        Some(datetime!(2023-11-14 22:13:20.123 UTC)),
        "milliseconds, not seconds"
    );
    assert_eq!(refund.updated_at, None);
    assert_eq!(refund.completed_at, None);
    assert_eq!(refund.reason, None::<RefundReason>);
    assert_eq!(refund.merchant_reference, None);
    assert_eq!(refund.description, None);
    assert_eq!(refund.fee, None);
    assert!(refund.metadata.is_empty());
    assert_eq!(refund.raw.get(), REFUND, "raw is byte for byte what was received");
    assert_eq!(expanded_payment(&refund).unwrap(), None);
}

#[tokio::test]
async fn an_expanded_payment_and_a_failed_reason() {
    let refund = get(FAILED_EXPANDED).await.unwrap();
    assert_eq!(refund.id.as_str(), "re_77");
    assert_eq!(refund.payment.id(), "pay_77", "the payment ref is the id when expanded");
    assert_eq!(refund.payment.kind(), PaymentRefKind::Payment);
    assert_eq!(refund.amount, Money::from_minor(999, Currency::EUR));
    assert_eq!(refund.status, RefundStatus::Failed);
    assert_eq!(refund.failure_reason.as_deref(), Some("The card was closed."));
    assert_eq!(refund.livemode, Some(true));
    assert_eq!(refund.created_at, Some(datetime!(2024-05-31 16:08:37 UTC)));
    assert_eq!(refund.raw.get(), FAILED_EXPANDED);
    let payment = expanded_payment(&refund).unwrap().expect("expanded");
    assert_eq!(payment.id, "pay_77");
    assert_eq!(payment.object.as_deref(), Some("payment"));
    assert_eq!(payment.amount.map(|a| a.0), Some(5000));
    assert_eq!(payment.amount_received.map(|a| a.0), Some(5000));
    assert_eq!(payment.amount_refunded.map(|a| a.0), Some(999));
    assert_eq!(payment.status.as_deref(), Some("succeeded"));
}

#[tokio::test]
async fn the_status_table_and_unknown_statuses() {
    let cases = [
        ("pending", RefundStatus::Pending),
        ("succeeded", RefundStatus::Succeeded),
        ("failed", RefundStatus::Failed),
        ("canceled", RefundStatus::Canceled),
        ("requires_action", RefundStatus::Unknown("requires_action".into())),
        ("cancelled", RefundStatus::Unknown("cancelled".into())),
        ("reversed", RefundStatus::Unknown("reversed".into())),
    ];
    for (wire, status) in cases {
        let body = REFUND.replace("\"succeeded\"", &format!("\"{wire}\""));
        let refund = get(&body).await.unwrap();
        assert_eq!(refund.status, status, "{wire}");
        assert_eq!(refund.raw.get(), body);
    }
    assert_eq!(STATUSES.entries().len(), 4);
}

#[tokio::test]
async fn optional_fields_may_be_missing_and_unknown_fields_are_kept() {
    let body =
        r#"{"id":"re_min","amount":1,"payment":"pay_min","status":"pending","metadata":{"a":"b"},"new_field":[1,2]}"#;
    let refund = get(body).await.unwrap();
    assert_eq!(refund.livemode, None);
    assert_eq!(refund.created_at, None);
    assert_eq!(refund.failure_reason, None);
    assert_eq!(refund.raw.get(), body);
    assert_eq!(refund.raw.field("new_field"), Some(serde_json::json!([1, 2])));
}

#[tokio::test]
async fn amounts_and_times_must_have_their_documented_types() {
    for (from, to) in [
        ("\"amount\": 2500", "\"amount\": \"2500\""),
        ("\"amount\": 2500", "\"amount\": 25.00"),
        ("\"amount\": 2500", "\"amount\": 99999999999999999999"),
        (
            "\"created_at\": 1700000000123",
            "\"created_at\": \"2023-11-14T22:13:20Z\"",
        ),
        ("\"payment\": \"pay_9aK2mQ\"", "\"payment\": 42"),
        ("\"payment\": \"pay_9aK2mQ\"", "\"payment\": {\"amount\": 1}"),
        ("\"id\": \"re_1NxB2c4e\"", "\"id\": \"\""),
    ] {
        let body = REFUND.replace(from, to);
        assert_ne!(body, REFUND);
        let e = get(&body).await.expect_err(&body);
        assert_eq!(e.kind(), &ErrorKind::Decode, "{body}: {e}");
        assert_eq!(e.http_status(), Some(200));
        assert_eq!(e.provider(), Some("cursor"));
        assert!(e.body().is_some(), "{e:?}");
    }
}

#[tokio::test]
async fn a_list_envelope_of_documented_objects() {
    let body = format!(r#"{{"object":"list","data":[{REFUND},{FAILED_EXPANDED}],"has_more":true}}"#);
    let (_server, client) = serve(200, &body).await;
    let page = client.list_refunds(&ListRefunds::new()).await.unwrap();
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.items[0].raw.get(), REFUND);
    assert_eq!(page.items[1].raw.get(), FAILED_EXPANDED);
    assert_eq!(page.items[1].payment.id(), "pay_77");
    assert_eq!(
        page.next,
        Some(CursorClient::cursor_after(&RefundId::new("re_77").unwrap()))
    );
}

fn offline_client(currency: Currency) -> CursorClient {
    CursorClient::builder()
        .api_key(KEY)
        .base_url("http://127.0.0.1:9")
        .currency(currency)
        .build()
        .unwrap()
}

#[tokio::test]
async fn refund_from_json_reads_the_documented_object_as_a_response_would() {
    let client = offline_client(Currency::EUR);
    for body in [REFUND, FAILED_EXPANDED] {
        let parsed = client.refund_from_json(body.as_bytes()).unwrap();
        assert_eq!(parsed, get(body).await.unwrap(), "same path as a response");
        assert_eq!(parsed.raw.get(), body, "raw is byte for byte the payload");
    }
    let refund = client.refund_from_json(REFUND.as_bytes()).unwrap();
    assert_eq!(refund.id.as_str(), "re_1NxB2c4e");
    assert_eq!(refund.provider, "cursor");
    assert_eq!(refund.payment, refunds::PaymentRef::payment("pay_9aK2mQ").unwrap());
    assert_eq!(refund.amount.to_string(), "25.00 EUR", "the configured currency");
    assert_eq!(refund.status, RefundStatus::Succeeded);
    assert_eq!(refund.failure_reason, None);
    assert_eq!(refund.livemode, Some(false));
    assert_eq!(refund.created_at, Some(datetime!(2023-11-14 22:13:20.123 UTC)));
    let usd = offline_client(Currency::USD)
        .refund_from_json(REFUND.as_bytes())
        .unwrap();
    assert_eq!(usd.amount, Money::from_minor(2500, Currency::USD));
}

#[test]
fn refund_from_json_refuses_anything_but_one_refund_object() {
    let client = offline_client(Currency::USD);
    let list = format!(r#"{{"object":"list","data":[{REFUND}],"has_more":false}}"#);
    let array = format!("[{REFUND}]");
    let trailing = format!("{REFUND} {{}}");
    let other_object = REFUND.replace(r#""object": "refund""#, r#""object": "payment""#);
    assert_ne!(other_object, REFUND);
    for body in [
        list.as_str(),
        array.as_str(),
        trailing.as_str(),
        other_object.as_str(),
        r#"{"error":{"type":"invalid_request_error","code":"resource_missing","message":"no such refund"}}"#,
        "",
        "null",
        "not json",
        &REFUND[..REFUND.len() - 2],
    ] {
        let e = client.refund_from_json(body.as_bytes()).expect_err(body);
        assert_eq!(e.kind(), &ErrorKind::Decode, "{body}: {e}");
        assert_eq!(e.provider(), Some("cursor"), "{e:?}");
        assert_eq!(e.http_status(), None, "nothing was received over http");
        assert_eq!(e.body(), Some(body), "the payload is kept for diagnosis");
    }
}

#[tokio::test]
async fn a_response_that_is_not_a_refund_object_is_a_decode_error() {
    let other_object = REFUND.replace(r#""object": "refund""#, r#""object": "payment""#);
    let e = get(&other_object).await.expect_err("not a refund");
    assert_eq!(e.kind(), &ErrorKind::Decode, "{e}");
    assert_eq!(e.http_status(), Some(200));
    assert_eq!(e.request_id(), Some("req_header_1"));
    let list = format!(r#"{{"object":"list","data":[{other_object}]}}"#);
    let (_server, client) = serve(200, &list).await;
    let e = client.list_refunds(&ListRefunds::new()).await.expect_err("not refunds");
    assert_eq!(e.kind(), &ErrorKind::Decode, "{e}");
    assert_eq!(e.request_id(), Some("req_header_1"));
    assert_eq!(e.provider(), Some("cursor"));
}

struct Expected {
    status: u16,
    kind: ErrorKind,
    code: Option<&'static str>,
    message: &'static str,
    field: Option<&'static str>,
    request_id: &'static str,
}

async fn check_error(body: &str, expected: Expected) {
    let (_server, client) = serve(expected.status, body).await;
    let e = client
        .get_refund(&RefundId::new("re_err").unwrap())
        .await
        .expect_err(body);
    assert_eq!(e.kind(), &expected.kind, "{body}: {e}");
    assert_eq!(e.http_status(), Some(expected.status));
    assert_eq!(e.provider_code(), expected.code, "{body}");
    assert_eq!(e.message(), expected.message, "{body}");
    assert_eq!(e.field(), expected.field, "{body}");
    assert_eq!(e.request_id(), Some(expected.request_id), "{body}");
    assert_eq!(e.provider(), Some("cursor"));
    let delivery = if expected.status >= 500 {
        Delivery::Ambiguous
    } else {
        Delivery::Rejected
    };
    assert_eq!(e.delivery(), delivery);
}

#[tokio::test]
async fn error_bodies_in_every_shape_read() {
    // Stripe style, with a request id in the body that wins over the header.
    check_error(
        r#"{"error":{"type":"invalid_request_error","code":"amount_too_large","message":"Refund amount ($30.00) is greater than unrefunded amount on payment ($25.00)","param":"amount","request_id":"req_body_1"}}"#,
        Expected {
            status: 400,
            kind: ErrorKind::AmountExceedsRefundable,
            code: Some("amount_too_large"),
            message: "Refund amount ($30.00) is greater than unrefunded amount on payment ($25.00)",
            field: Some("amount"),
            request_id: "req_body_1",
        },
    )
    .await;
    check_error(
        r#"{"error":{"type":"invalid_request_error","code":"payment_already_refunded","message":"Payment pay_1 has already been refunded."}}"#,
        Expected {
            status: 400,
            kind: ErrorKind::AlreadyRefunded,
            code: Some("payment_already_refunded"),
            message: "Payment pay_1 has already been refunded.",
            field: None,
            request_id: "req_header_1",
        },
    )
    .await;
    check_error(
        r#"{"error":{"type":"invalid_request_error","code":"payment_not_succeeded","message":"The payment must have a status of succeeded.","param":"payment"}}"#,
        Expected {
            status: 400,
            kind: ErrorKind::Validation,
            code: Some("payment_not_succeeded"),
            message: "The payment must have a status of succeeded.",
            field: Some("payment"),
            request_id: "req_header_1",
        },
    )
    .await;
    check_error(
        r#"{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such refund: 're_err'","param":"id"}}"#,
        Expected {
            status: 404,
            kind: ErrorKind::NotFound,
            code: Some("resource_missing"),
            message: "No such refund: 're_err'",
            field: Some("id"),
            request_id: "req_header_1",
        },
    )
    .await;
    // Only a type: it is kept as the code.
    check_error(
        r#"{"error":{"type":"authentication_error","message":"Invalid API Key provided"}}"#,
        Expected {
            status: 401,
            kind: ErrorKind::Authentication,
            code: Some("authentication_error"),
            message: "Invalid API Key provided",
            field: None,
            request_id: "req_header_1",
        },
    )
    .await;
    check_error(
        r#"{"error":"forbidden for this key"}"#,
        Expected {
            status: 403,
            kind: ErrorKind::PermissionDenied,
            code: None,
            message: "forbidden for this key",
            field: None,
            request_id: "req_header_1",
        },
    )
    .await;
    // Flat, with a list of field errors.
    check_error(
        r#"{"message":"Validation failed","code":"validation_error","errors":[{"field":"amount","message":"must be an integer","code":"invalid_type"},{"param":"payment","message":"is required"}]}"#,
        Expected {
            status: 422,
            kind: ErrorKind::Validation,
            code: Some("validation_error"),
            message: "Validation failed",
            field: Some("amount"),
            request_id: "req_header_1",
        },
    )
    .await;
    check_error(
        r#"{"detail":"Too many requests"}"#,
        Expected {
            status: 429,
            kind: ErrorKind::RateLimited,
            code: None,
            message: "Too many requests",
            field: None,
            request_id: "req_header_1",
        },
    )
    .await;
    check_error(
        r#"{"detail":[{"loc":["body","amount"],"msg":"ensure this value is greater than 0","type":"value_error.number.not_gt"}]}"#,
        Expected {
            status: 422,
            kind: ErrorKind::Validation,
            code: None,
            message: "ensure this value is greater than 0",
            field: Some("body.amount"),
            request_id: "req_header_1",
        },
    )
    .await;
    // A 5xx stays an outage whatever the code says.
    check_error(
        r#"{"error":{"type":"api_error","code":"amount_too_large","message":"internal"}}"#,
        Expected {
            status: 500,
            kind: ErrorKind::ProviderUnavailable,
            code: Some("amount_too_large"),
            message: "internal",
            field: None,
            request_id: "req_header_1",
        },
    )
    .await;
}

#[tokio::test]
async fn field_errors_keep_every_entry() {
    let body = r#"{"message":"Validation failed","errors":[{"field":"amount","message":"must be an integer","code":"invalid_type"},{"param":"payment","message":"is required"}]}"#;
    let (_server, client) = serve(400, body).await;
    let e = client.get_refund(&RefundId::new("re_1").unwrap()).await.unwrap_err();
    let fields: Vec<_> = e
        .field_errors()
        .iter()
        .map(|f| (f.field.as_str(), f.message.as_str(), f.code.as_deref()))
        .collect();
    assert_eq!(
        fields,
        [
            ("amount", "must be an integer", Some("invalid_type")),
            ("payment", "is required", None)
        ]
    );
}

#[tokio::test]
async fn an_unreadable_error_body_keeps_status_and_text() {
    let (_server, client) = serve(502, "<html>bad gateway</html>").await;
    let e = client.get_refund(&RefundId::new("re_1").unwrap()).await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::ProviderUnavailable);
    assert_eq!(e.http_status(), Some(502));
    assert_eq!(e.provider_code(), None);
    assert_eq!(e.body(), Some("<html>bad gateway</html>"));
    assert_eq!(e.request_id(), Some("req_header_1"));
    let (_server, client) = serve(418, "{}").await;
    let e = client.get_refund(&RefundId::new("re_1").unwrap()).await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Other);
    assert_eq!(e.message(), "http 418");
}
