//! SyncgramPay's documented bodies, exactly as the documentation shows them, read through the client;
//! and the error bodies the decoder reads (shapes assumed: the refund pages document none).

use refunds::{
    Currency, Delivery, ErrorKind, ListRefunds, Money, OffsetDateTime, PaymentRefKind, RefundId, RefundProvider,
    RefundReason, RefundStatus,
};
use refunds_syncgram::SyncgramClient;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The create response of the seed ("Create a refund"), pasted as documented.
const CREATE_RESPONSE: &str = r#"{
  "refund_id": "ref_a1b2c3d4e5f6",
  "charge_id": "ch_a1b2c3d4e5f6",
  "reference": "refund_ord_12345",
  "status": "pending",
  "requested_amount": "50.00",
  "refunded_amount": null,
  "refund_fee_amount": "0.50",
  "fee_bearer": "ORG",
  "reason": "Customer request",
  "created_at": "2024-01-16T09:00:00Z",
  "updated_at": "2024-01-16T09:00:00Z",
  "completed_at": null
}"#;

/// The list response of the seed ("List refunds"), pasted as documented.
const LIST_RESPONSE: &str = r#"{
  "total": 3,
  "items": [
    {
      "refund_id": "ref_a1b2c3d4e5f6",
      "charge_id": "ch_a1b2c3d4e5f6",
      "reference": "refund_ord_12345",
      "status": "succeeded",
      "requested_amount": "50.00",
      "refunded_amount": "50.00",
      "refund_fee_amount": "0.50",
      "fee_bearer": "ORG",
      "reason": "Customer request",
      "created_at": "2024-01-16T09:00:00Z",
      "updated_at": "2024-01-16T09:05:00Z",
      "completed_at": "2024-01-16T09:05:00Z"
    }
  ]
}"#;

const REFUNDS: &str = "/api/v1/payments/refunds";

fn usd(minor: i64) -> Money {
    Money::from_minor(minor, Currency::USD)
}

fn at(text: &str) -> OffsetDateTime {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).unwrap()
}

async fn client_with(currency: Currency) -> (MockServer, SyncgramClient) {
    let server = MockServer::start().await;
    let client = SyncgramClient::builder()
        .api_key("sk_test_wire_a1b2c3d4")
        .base_url(server.uri())
        .currency(currency)
        .max_retries(0)
        .build()
        .unwrap();
    (server, client)
}

async fn serve_get(server: &MockServer, id: &str, status: u16, body: &str) {
    Mock::given(method("GET"))
        .and(path(format!("{REFUNDS}/{id}")))
        .respond_with(ResponseTemplate::new(status).set_body_raw(body, "application/json"))
        .mount(server)
        .await;
}

#[tokio::test]
async fn documented_create_response_normalizes_field_by_field() {
    let (server, client) = client_with(Currency::USD).await;
    serve_get(&server, "ref_a1b2c3d4e5f6", 200, CREATE_RESPONSE).await;
    let refund = client
        .get_refund(&RefundId::new("ref_a1b2c3d4e5f6").unwrap())
        .await
        .unwrap();
    assert_eq!(refund.id.as_str(), "ref_a1b2c3d4e5f6");
    assert_eq!(refund.provider, "syncgram");
    assert_eq!(refund.payment.kind(), PaymentRefKind::Charge);
    assert_eq!(refund.payment.id(), "ch_a1b2c3d4e5f6");
    // refunded_amount is null: the amount is the requested one.
    assert_eq!(refund.amount, usd(5_000));
    assert_eq!(refund.status, RefundStatus::Pending);
    assert_eq!(refund.reason, Some(RefundReason::Other("Customer request".into())));
    assert_eq!(refund.failure_reason, None);
    assert_eq!(refund.merchant_reference.as_deref(), Some("refund_ord_12345"));
    assert_eq!(refund.description, None);
    assert_eq!(refund.fee, Some(usd(50)));
    assert_eq!(refund.created_at, Some(at("2024-01-16T09:00:00Z")));
    assert_eq!(refund.updated_at, Some(at("2024-01-16T09:00:00Z")));
    assert_eq!(refund.completed_at, None);
    assert_eq!(refund.livemode, None);
    assert!(refund.metadata.is_empty());
    assert_eq!(refund.raw.get(), CREATE_RESPONSE, "raw is byte for byte");
}

#[tokio::test]
async fn documented_list_response_normalizes_and_pages() {
    let (server, client) = client_with(Currency::USD).await;
    Mock::given(method("GET"))
        .and(path(REFUNDS))
        .respond_with(ResponseTemplate::new(200).set_body_raw(LIST_RESPONSE, "application/json"))
        .mount(&server)
        .await;
    let page = client.list_refunds(&ListRefunds::new()).await.unwrap();
    assert_eq!(page.total, Some(3));
    assert!(page.next.is_some(), "1 of 3 read: there is more");
    assert_eq!(page.items.len(), 1);
    let refund = &page.items[0];
    assert_eq!(refund.id.as_str(), "ref_a1b2c3d4e5f6");
    assert_eq!(refund.payment.id(), "ch_a1b2c3d4e5f6");
    assert_eq!(refund.amount, usd(5_000));
    assert_eq!(refund.status, RefundStatus::Succeeded);
    assert_eq!(refund.fee, Some(usd(50)));
    assert_eq!(refund.merchant_reference.as_deref(), Some("refund_ord_12345"));
    assert_eq!(refund.created_at, Some(at("2024-01-16T09:00:00Z")));
    assert_eq!(refund.updated_at, Some(at("2024-01-16T09:05:00Z")));
    assert_eq!(refund.completed_at, Some(at("2024-01-16T09:05:00Z")));
    let start = LIST_RESPONSE.find("    {").unwrap() + 4;
    let end = LIST_RESPONSE.rfind("    }").unwrap() + 5;
    assert_eq!(
        refund.raw.get(),
        &LIST_RESPONSE[start..end],
        "item raw is byte for byte"
    );
}

#[tokio::test]
async fn refund_from_json_reads_the_documented_objects_like_responses() {
    let (server, client) = client_with(Currency::USD).await;
    serve_get(&server, "ref_a1b2c3d4e5f6", 200, CREATE_RESPONSE).await;
    let answered = client
        .get_refund(&RefundId::new("ref_a1b2c3d4e5f6").unwrap())
        .await
        .unwrap();
    let parsed = client.refund_from_json(CREATE_RESPONSE.as_bytes()).unwrap();
    assert_eq!(parsed, answered, "the same refund as the response path gives");
    assert_eq!(parsed.raw.get(), CREATE_RESPONSE, "raw is byte for byte");
    assert_eq!(parsed.amount, usd(5_000));
    assert_eq!(parsed.fee, Some(usd(50)));
    assert_eq!(parsed.status, RefundStatus::Pending);
    assert_eq!(parsed.merchant_reference.as_deref(), Some("refund_ord_12345"));

    // The list item of the seed, as a webhook would carry it.
    let start = LIST_RESPONSE.find("    {").unwrap() + 4;
    let end = LIST_RESPONSE.rfind("    }").unwrap() + 5;
    let item = &LIST_RESPONSE[start..end];
    let settled = client.refund_from_json(item.as_bytes()).unwrap();
    assert_eq!(settled.status, RefundStatus::Succeeded);
    assert_eq!(settled.completed_at, Some(at("2024-01-16T09:05:00Z")));
    assert_eq!(settled.raw.get(), item);

    // The object names no currency: the client's settlement currency applies.
    let (_kwd_server, kwd) = client_with(Currency::KWD).await;
    let in_kwd = kwd.refund_from_json(CREATE_RESPONSE.as_bytes()).unwrap();
    assert_eq!(in_kwd.amount, Money::from_minor(50_000, Currency::KWD));
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "parsing sends nothing"
    );
}

#[test]
fn refund_from_json_refuses_anything_but_a_refund_object() {
    let client = SyncgramClient::builder()
        .api_key("sk_test_wire_a1b2c3d4")
        .currency(Currency::USD)
        .build()
        .unwrap();
    let three_decimals = CREATE_RESPONSE.replace(r#""50.00""#, r#""50.005""#);
    let no_id = CREATE_RESPONSE.replace(r#""refund_id": "ref_a1b2c3d4e5f6","#, "");
    let empty_id = CREATE_RESPONSE.replace("ref_a1b2c3d4e5f6", "");
    let cases = [
        ("the list envelope", LIST_RESPONSE),
        ("an error body", r#"{"detail": "Refund not found"}"#),
        ("an array", "[]"),
        ("null", "null"),
        ("not json", "refund ref_1"),
        ("empty", ""),
        ("trailing text", "{} {}"),
        ("more decimals than USD has", three_decimals.as_str()),
        ("no refund_id", no_id.as_str()),
        ("an empty refund_id", empty_id.as_str()),
    ];
    for (case, body) in cases {
        let e = client.refund_from_json(body.as_bytes()).unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Decode, "{case}: {e}");
        assert_eq!(e.delivery(), Delivery::NotSent, "{case}: nothing was sent");
        assert_eq!(e.provider(), Some("syncgram"), "{case}");
        assert!(!e.message().is_empty(), "{case}");
    }
}

#[tokio::test]
async fn refunded_amount_wins_over_requested_amount_once_reported() {
    let (server, client) = client_with(Currency::USD).await;
    let body = CREATE_RESPONSE
        .replace(r#""refunded_amount": null"#, r#""refunded_amount": "49.50""#)
        .replace(r#""status": "pending""#, r#""status": "succeeded""#);
    serve_get(&server, "ref_a1b2c3d4e5f6", 200, &body).await;
    let refund = client
        .get_refund(&RefundId::new("ref_a1b2c3d4e5f6").unwrap())
        .await
        .unwrap();
    assert_eq!(refund.amount, usd(4_950));
    assert_eq!(refund.status, RefundStatus::Succeeded);
}

#[tokio::test]
async fn decimals_follow_the_settlement_currency_exactly() {
    let (server, client) = client_with(Currency::KWD).await;
    let body = CREATE_RESPONSE
        .replace("\"50.00\"", "\"1.234\"")
        .replace("\"0.50\"", "\"0.012\"");
    serve_get(&server, "ref_a1b2c3d4e5f6", 200, &body).await;
    let refund = client
        .get_refund(&RefundId::new("ref_a1b2c3d4e5f6").unwrap())
        .await
        .unwrap();
    assert_eq!(refund.amount, Money::from_minor(1_234, Currency::KWD));
    assert_eq!(refund.fee, Some(Money::from_minor(12, Currency::KWD)));

    let (server, client) = client_with(Currency::JPY).await;
    let body = CREATE_RESPONSE
        .replace("\"50.00\"", "\"5000\"")
        .replace("\"0.50\"", "\"50\"");
    serve_get(&server, "ref_jpy", 200, &body).await;
    let refund = client.get_refund(&RefundId::new("ref_jpy").unwrap()).await.unwrap();
    assert_eq!(refund.amount, Money::from_minor(5_000, Currency::JPY));
}

#[tokio::test]
async fn more_decimals_than_the_currency_is_a_decode_error_not_a_rounding() {
    let (server, client) = client_with(Currency::USD).await;
    let body = CREATE_RESPONSE.replace("\"50.00\"", "\"50.005\"");
    serve_get(&server, "ref_a1b2c3d4e5f6", 200, &body).await;
    let e = client
        .get_refund(&RefundId::new("ref_a1b2c3d4e5f6").unwrap())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Decode);
    assert_eq!(e.http_status(), Some(200));
    assert_eq!(e.provider(), Some("syncgram"));
    assert!(e.message().contains("requested_amount"), "{e}");
    assert!(e.body().unwrap().contains("50.005"));
}

#[tokio::test]
async fn undocumented_status_is_kept_raw() {
    let (server, client) = client_with(Currency::USD).await;
    let body = CREATE_RESPONSE.replace("\"pending\"", "\"reversed\"");
    serve_get(&server, "ref_a1b2c3d4e5f6", 200, &body).await;
    let refund = client
        .get_refund(&RefundId::new("ref_a1b2c3d4e5f6").unwrap())
        .await
        .unwrap();
    assert_eq!(refund.status, RefundStatus::Unknown("reversed".into()));
    let body = CREATE_RESPONSE.replace("\"pending\"", "\"processing\"");
    serve_get(&server, "ref_processing", 200, &body).await;
    let refund = client
        .get_refund(&RefundId::new("ref_processing").unwrap())
        .await
        .unwrap();
    assert_eq!(refund.status, RefundStatus::Processing);
}

/// Serves `body` with `status` on a retrieve and returns the error the client makes of it.
async fn error_for(status: u16, body: &str) -> refunds::Error {
    let (server, client) = client_with(Currency::USD).await;
    Mock::given(method("GET"))
        .and(path(format!("{REFUNDS}/ref_err")))
        .respond_with(
            ResponseTemplate::new(status)
                .set_body_raw(body, "application/json")
                .insert_header("x-request-id", "req_header_1"),
        )
        .mount(&server)
        .await;
    client.get_refund(&RefundId::new("ref_err").unwrap()).await.unwrap_err()
}

#[tokio::test]
async fn fastapi_detail_string() {
    let e = error_for(404, r#"{"detail": "Refund not found"}"#).await;
    assert_eq!(e.kind(), &ErrorKind::NotFound);
    assert_eq!(e.message(), "Refund not found");
    assert_eq!(e.http_status(), Some(404));
    assert_eq!(e.request_id(), Some("req_header_1"));
    assert_eq!(e.delivery(), Delivery::Rejected);

    let e = error_for(401, r#"{"detail": "Invalid or missing API key"}"#).await;
    assert_eq!(e.kind(), &ErrorKind::Authentication);

    let e = error_for(403, r#"{"detail": "Charge belongs to a different organization"}"#).await;
    assert_eq!(e.kind(), &ErrorKind::PermissionDenied);
    assert_eq!(e.message(), "Charge belongs to a different organization");
}

#[tokio::test]
async fn refusals_of_a_charge_get_their_own_kind_from_the_message() {
    let e = error_for(400, r#"{"detail": "Charge is not refundable"}"#).await;
    assert_eq!(e.kind(), &ErrorKind::Validation);
    let e = error_for(
        400,
        r#"{"detail": "Refund amount exceeds the refundable amount of 10.00"}"#,
    )
    .await;
    assert_eq!(e.kind(), &ErrorKind::AmountExceedsRefundable);
    let e = error_for(400, r#"{"detail": "Charge has already been fully refunded"}"#).await;
    assert_eq!(e.kind(), &ErrorKind::AlreadyRefunded);
    let e = error_for(400, r#"{"detail": "simulated_outcome is only available in test mode"}"#).await;
    assert_eq!(e.kind(), &ErrorKind::Validation);
    let e = error_for(409, r#"{"detail": "Idempotency conflict"}"#).await;
    assert_eq!(e.kind(), &ErrorKind::IdempotencyConflict);
}

#[tokio::test]
async fn fastapi_validation_list_gives_field_errors() {
    let e = error_for(
        422,
        r#"{"detail":[{"loc":["body","amount"],"msg":"Input should be greater than 0","type":"greater_than"},{"loc":["body","reference"],"msg":"Field required","type":"missing"}]}"#,
    )
    .await;
    assert_eq!(e.kind(), &ErrorKind::Validation);
    assert_eq!(e.field(), Some("body.amount"));
    assert_eq!(e.message(), "Input should be greater than 0");
    let fields = e.field_errors();
    assert_eq!(fields.len(), 2);
    assert_eq!(fields[1].field, "body.reference");
    assert_eq!(fields[1].message, "Field required");
    assert_eq!(fields[1].code.as_deref(), Some("missing"));
}

#[tokio::test]
async fn error_objects_with_codes() {
    let e = error_for(
        400,
        r#"{"error": {"code": "amount_exceeds_refundable", "message": "Amount too large", "field": "amount"}}"#,
    )
    .await;
    assert_eq!(e.kind(), &ErrorKind::AmountExceedsRefundable);
    assert_eq!(e.provider_code(), Some("amount_exceeds_refundable"));
    assert_eq!(e.message(), "Amount too large");
    assert_eq!(e.field(), Some("amount"));

    let e = error_for(
        400,
        r#"{"detail": {"code": "charge_already_refunded", "message": "Already refunded"}}"#,
    )
    .await;
    assert_eq!(e.kind(), &ErrorKind::AlreadyRefunded);
    assert_eq!(e.provider_code(), Some("charge_already_refunded"));

    let e = error_for(
        400,
        r#"{"success": false, "message": "Charge is not refundable", "code": "charge_not_refundable", "request_id": "req_body_9"}"#,
    )
    .await;
    assert_eq!(e.kind(), &ErrorKind::Validation);
    assert_eq!(e.provider_code(), Some("charge_not_refundable"));
    assert_eq!(e.request_id(), Some("req_body_9"), "the body's request id wins");

    let e = error_for(404, r#"{"error": "not_found", "message": "Refund ref_err not found"}"#).await;
    assert_eq!(e.kind(), &ErrorKind::NotFound);
    assert_eq!(e.provider_code(), Some("not_found"));
    assert_eq!(e.message(), "Refund ref_err not found");

    let e = error_for(400, r#"{"error": "Charge has already been fully refunded"}"#).await;
    assert_eq!(e.kind(), &ErrorKind::AlreadyRefunded);
    assert_eq!(e.message(), "Charge has already been fully refunded");
}

#[tokio::test]
async fn unreadable_error_bodies_keep_status_and_body() {
    let e = error_for(502, "<html>Bad Gateway</html>").await;
    assert_eq!(e.kind(), &ErrorKind::ProviderUnavailable);
    assert_eq!(e.http_status(), Some(502));
    assert_eq!(e.delivery(), Delivery::Ambiguous);
    assert!(e.message().contains("502"));
    assert_eq!(e.body(), Some("<html>Bad Gateway</html>"));

    let e = error_for(400, r#"{"unexpected": true}"#).await;
    assert_eq!(e.kind(), &ErrorKind::Validation);
    assert_eq!(e.provider(), Some("syncgram"));
}
