//! The documented 4Geeks bodies, pasted exactly as the seed (`../shared/seeds/000_*`) and the dossier
//! (`../shared/providers.md`, section 1) show them, served by wiremock and read by the real client.

use refunds::{
    Currency, Delivery, ErrorKind, ListRefunds, Money, PaymentRefKind, Refund, RefundId, RefundProvider, RefundStatus,
};
use refunds_fourgeeks::FourGeeksClient;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk_test_your_api_key_here";

/// Seed, "Create Refund", "Response Example".
const SEED_REFUND: &str = r#"{
"id": "ref_m3n4o5p6q7r8",
"object": "refund",
"payment_id": "pay_7g8h9i0j1k2l",
"amount": 2500,
"status": "pending"
}"#;

/// Seed, "List Refunds", "Response Example".
const SEED_LIST: &str = r#"{
"items": [
{
"id": "ref_m3n4o5p6q7r8",
"object": "refund",
"payment_id": "pay_7g8h9i0j1k2l",
"amount": 2500,
"status": "pending"
},
{
"id": "ref_s9t0u1v2w3x4",
"object": "refund",
"payment_id": "pay_y5z6a7b8c9d0",
"amount": 4999,
"status": "succeeded"
}
],
"total_items": 2,
"limit": 5,
"offset": 0
}"#;

/// The two items of [`SEED_LIST`], byte for byte as they appear inside it.
const SEED_LIST_ITEM_1: &str = r#"{
"id": "ref_m3n4o5p6q7r8",
"object": "refund",
"payment_id": "pay_7g8h9i0j1k2l",
"amount": 2500,
"status": "pending"
}"#;
const SEED_LIST_ITEM_2: &str = r#"{
"id": "ref_s9t0u1v2w3x4",
"object": "refund",
"payment_id": "pay_y5z6a7b8c9d0",
"amount": 4999,
"status": "succeeded"
}"#;

/// Seed, "Error Response (422 Validation Error)".
const SEED_422: &str = r#"{
"detail": [
{
"loc": ["body", "payment_id"],
"msg": "field required",
"type": "value_error.missing"
}
]
}"#;

/// Dossier 1.7, "Auth failure" (DRF shape).
const DOSSIER_401: &str = r#"{"detail":"Authentication credentials were not provided."}"#;

/// Dossier 1.7, "Other 400" (the `message` object form); the dossier elides title and content
/// (`...`), so they are filled with plausible text here.
const DOSSIER_400_MESSAGE: &str =
    r#"{"message":{"code":400,"title":"Bad request","content":"The payment could not be processed","type":"danger"}}"#;

async fn client_for(server: &MockServer, currency: Currency) -> FourGeeksClient {
    FourGeeksClient::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .currency(currency)
        .max_retries(0)
        .build()
        .unwrap()
}

async fn serve(server: &MockServer, verb: &str, route: &str, status: u16, body: &str) {
    Mock::given(method(verb))
        .and(path(route))
        .respond_with(
            ResponseTemplate::new(status)
                .insert_header("content-type", "application/json")
                .set_body_string(body),
        )
        .mount(server)
        .await;
}

fn check_seed_refund(refund: &Refund, currency: Currency) {
    assert_eq!(refund.id, RefundId::new("ref_m3n4o5p6q7r8").unwrap());
    assert_eq!(refund.provider, "fourgeeks");
    assert_eq!(refund.payment.kind(), PaymentRefKind::Payment);
    assert_eq!(refund.payment.id(), "pay_7g8h9i0j1k2l");
    assert_eq!(refund.amount, Money::from_minor(2500, currency));
    assert_eq!(refund.status, RefundStatus::Pending);
    assert_eq!(refund.reason, None, "the refund object has no reason");
    assert_eq!(refund.failure_reason, None);
    assert_eq!(refund.merchant_reference, None);
    assert_eq!(refund.description, None);
    assert_eq!(refund.fee, None);
    assert_eq!(refund.created_at, None, "the refund object has no timestamps");
    assert_eq!(refund.updated_at, None);
    assert_eq!(refund.completed_at, None);
    assert_eq!(refund.livemode, Some(false), "from the sk_test_ key");
    assert!(refund.metadata.is_empty());
}

#[tokio::test]
async fn seed_create_response_is_read_field_by_field() {
    let server = MockServer::start().await;
    serve(&server, "POST", "/v1/refunds", 200, SEED_REFUND).await;
    let client = client_for(&server, Currency::USD).await;
    let request = refunds::CreateRefund::new(refunds::PaymentRef::payment("pay_7g8h9i0j1k2l").unwrap())
        .amount(Money::from_minor(2500, Currency::USD));
    let refund = client.create_refund(&request).await.unwrap();
    check_seed_refund(&refund, Currency::USD);
    assert_eq!(refund.amount.to_major_string(), "25.00");
    assert_eq!(refund.raw.get(), SEED_REFUND, "raw is byte-exact");
}

#[tokio::test]
async fn the_configured_currency_fills_the_money() {
    let server = MockServer::start().await;
    serve(&server, "GET", "/v1/refunds/ref_m3n4o5p6q7r8", 200, SEED_REFUND).await;
    let client = client_for(&server, Currency::CRC).await;
    let refund = client
        .get_refund(&RefundId::new("ref_m3n4o5p6q7r8").unwrap())
        .await
        .unwrap();
    check_seed_refund(&refund, Currency::CRC);
    assert_eq!(refund.amount.currency(), Currency::CRC, "the client's, not a default");
    assert_eq!(refund.raw.get(), SEED_REFUND);
}

#[tokio::test]
async fn seed_list_response_is_read_with_its_total() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/refunds"))
        .and(query_param("limit", "5"))
        .and(query_param("offset", "0"))
        .respond_with(ResponseTemplate::new(200).set_body_string(SEED_LIST))
        .mount(&server)
        .await;
    let client = client_for(&server, Currency::USD).await;
    let page = client.list_refunds(&ListRefunds::new().limit(5)).await.unwrap();
    assert_eq!(page.total, Some(2));
    assert_eq!(page.next, None, "offset 0 + 2 items reaches total_items 2");
    assert_eq!(page.items.len(), 2);
    check_seed_refund(&page.items[0], Currency::USD);
    assert_eq!(page.items[0].raw.get(), SEED_LIST_ITEM_1);
    let second = &page.items[1];
    assert_eq!(second.id.as_str(), "ref_s9t0u1v2w3x4");
    assert_eq!(second.payment.id(), "pay_y5z6a7b8c9d0");
    assert_eq!(second.amount, Money::from_minor(4999, Currency::USD));
    assert_eq!(second.amount.to_major_string(), "49.99");
    assert_eq!(second.status, RefundStatus::Succeeded);
    assert!(second.status.is_terminal());
    assert_eq!(second.raw.get(), SEED_LIST_ITEM_2);
}

#[tokio::test]
async fn a_page_short_of_the_total_points_at_the_next_offset() {
    let server = MockServer::start().await;
    let body = SEED_LIST.replace("\"total_items\": 2", "\"total_items\": 7");
    Mock::given(method("GET"))
        .and(path("/v1/refunds"))
        .respond_with(ResponseTemplate::new(200).set_body_string(body))
        .mount(&server)
        .await;
    let client = client_for(&server, Currency::USD).await;
    let page = client.list_refunds(&ListRefunds::new().limit(2)).await.unwrap();
    assert_eq!(page.total, Some(7));
    assert_eq!(page.next.unwrap().as_str(), "fourgeeks:o:2");
}

#[tokio::test]
async fn seed_422_is_a_validation_error_with_the_field_path() {
    let server = MockServer::start().await;
    serve(&server, "POST", "/v1/refunds", 422, SEED_422).await;
    let client = client_for(&server, Currency::USD).await;
    let e = client
        .create_refund(&refunds::CreateRefund::new(
            refunds::PaymentRef::payment("pay_7g8h9i0j1k2l").unwrap(),
        ))
        .await
        .expect_err("422");
    assert_eq!(e.kind(), &ErrorKind::Validation);
    assert_eq!(e.http_status(), Some(422));
    assert_eq!(e.delivery(), Delivery::Rejected);
    assert_eq!(e.provider(), Some("fourgeeks"));
    assert_eq!(e.provider_code(), Some("value_error.missing"));
    assert_eq!(e.field(), Some("body.payment_id"));
    let fields = e.field_errors();
    assert_eq!(fields.len(), 1);
    assert_eq!(fields[0].field, "body.payment_id");
    assert_eq!(fields[0].message, "field required");
    assert_eq!(fields[0].code.as_deref(), Some("value_error.missing"));
    assert_eq!(e.message(), "body.payment_id: field required");
    assert!(e.pending_create().is_none(), "refused, not ambiguous");
}

#[tokio::test]
async fn several_fastapi_complaints_each_keep_their_path() {
    let server = MockServer::start().await;
    let body = r#"{"detail":[{"loc":["body","amount"],"msg":"value is not a valid integer","type":"type_error.integer"},{"loc":["body","items",0,"id"],"msg":"field required","type":"value_error.missing"}]}"#;
    serve(&server, "POST", "/v1/refunds", 422, body).await;
    let client = client_for(&server, Currency::USD).await;
    let e = client
        .create_refund(&refunds::CreateRefund::new(
            refunds::PaymentRef::payment("pay_1").unwrap(),
        ))
        .await
        .expect_err("422");
    let paths: Vec<&str> = e.field_errors().iter().map(|f| f.field.as_str()).collect();
    assert_eq!(paths, ["body.amount", "body.items.0.id"]);
    assert_eq!(e.field(), Some("body.amount"));
}

#[tokio::test]
async fn dossier_401_detail_string_is_authentication() {
    let server = MockServer::start().await;
    serve(&server, "GET", "/v1/refunds/ref_1", 401, DOSSIER_401).await;
    let client = client_for(&server, Currency::USD).await;
    let e = client
        .get_refund(&RefundId::new("ref_1").unwrap())
        .await
        .expect_err("401");
    assert_eq!(e.kind(), &ErrorKind::Authentication);
    assert_eq!(e.http_status(), Some(401));
    assert_eq!(e.message(), "Authentication credentials were not provided.");
    assert_eq!(e.provider_code(), None);
    assert!(e.field_errors().is_empty());
    assert_eq!(e.body(), Some(DOSSIER_401), "the body is kept");
}

#[tokio::test]
async fn dossier_message_object_keeps_code_title_and_content() {
    let server = MockServer::start().await;
    serve(&server, "POST", "/v1/refunds", 400, DOSSIER_400_MESSAGE).await;
    let client = client_for(&server, Currency::USD).await;
    let e = client
        .create_refund(&refunds::CreateRefund::new(
            refunds::PaymentRef::payment("pay_1").unwrap(),
        ))
        .await
        .expect_err("400");
    assert_eq!(e.kind(), &ErrorKind::Validation);
    assert_eq!(e.provider_code(), Some("400"));
    assert_eq!(e.message(), "Bad request: The payment could not be processed");
    assert_eq!(e.delivery(), Delivery::Rejected);
}

/// Undocumented answers, mapped by assumption (README, "Errors").
#[tokio::test]
async fn assumed_refusal_wordings() {
    let cases: [(u16, &str, ErrorKind); 6] = [
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
    ];
    for (status, body, kind) in cases {
        let server = MockServer::start().await;
        serve(&server, "POST", "/v1/refunds", status, body).await;
        let client = client_for(&server, Currency::USD).await;
        let e = client
            .create_refund(&refunds::CreateRefund::new(
                refunds::PaymentRef::payment("pay_1").unwrap(),
            ))
            .await
            .expect_err("refused");
        assert_eq!(e.kind(), &kind, "{status} {body}");
        assert_eq!(e.http_status(), Some(status));
    }
}

#[tokio::test]
async fn an_unreadable_create_answer_is_ambiguous_and_carries_the_request() {
    let server = MockServer::start().await;
    serve(&server, "POST", "/v1/refunds", 201, r#"{"ok":true}"#).await;
    let client = client_for(&server, Currency::USD).await;
    let request = refunds::CreateRefund::new(refunds::PaymentRef::payment("pay_1").unwrap());
    let e = client.create_refund(&request).await.expect_err("decode");
    assert_eq!(e.kind(), &ErrorKind::Decode);
    assert_eq!(e.delivery(), Delivery::Ambiguous);
    assert_eq!(e.pending_create(), Some(&request));
}

/// A webhook payload is the refund object as the API sends it: the same conversion, the raw text
/// kept byte for byte, the amount in the client's account currency.
#[test]
fn refund_from_json_reads_the_seed_object() {
    let client = FourGeeksClient::builder()
        .api_key(KEY)
        .currency(Currency::USD)
        .build()
        .unwrap();
    let refund = client.refund_from_json(SEED_REFUND.as_bytes()).unwrap();
    check_seed_refund(&refund, Currency::USD);
    assert_eq!(refund.raw.get(), SEED_REFUND, "raw is byte-exact");
    let item = client.refund_from_json(SEED_LIST_ITEM_2.as_bytes()).unwrap();
    assert_eq!(item.status, RefundStatus::Succeeded);
    assert_eq!(item.amount, Money::from_minor(4999, Currency::USD));
    let colones = FourGeeksClient::builder()
        .api_key(KEY)
        .currency(Currency::CRC)
        .build()
        .unwrap();
    let refund = colones.refund_from_json(SEED_REFUND.as_bytes()).unwrap();
    check_seed_refund(&refund, Currency::CRC);
}
