//! SyncgramPay's documented bodies (fixtures), its create body, its delivery and error rules, and its
//! own bad input, over wiremock.

use refunds::testkit::{bad_input, fast_retry};
use refunds::{
    CreateRefund, Currency, Delivery, ErrorKind, IdempotencyKey, ListRefunds, Money, PaymentRef, RefundId,
    RefundProvider, RefundReason, RefundStatus,
};
use refunds_syncgram::{FeeBearer, SimulatedOutcome, SyncgramClient, SyncgramExt, SyncgramOptions};
use serde_json::{Value, json};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CREATE: &str = include_str!("fixtures/create_response.json");
const LIST: &str = include_str!("fixtures/list_response.json");

async fn serve(status: u16, body: &str, retries: u32, key: &str) -> (MockServer, SyncgramClient) {
    let server = MockServer::start().await;
    let template = ResponseTemplate::new(status).set_body_raw(body.to_owned(), "application/json");
    Mock::given(wiremock::matchers::any())
        .respond_with(template)
        .mount(&server)
        .await;
    let builder = SyncgramClient::builder()
        .api_key(key)
        .base_url(server.uri())
        .currency(Currency::USD);
    let client = builder.retry(fast_retry(retries)).build().unwrap();
    (server, client)
}

async fn bodies(server: &MockServer) -> Vec<Value> {
    let received = server.received_requests().await.unwrap();
    received
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap_or(Value::Null))
        .collect()
}

fn charge() -> PaymentRef {
    PaymentRef::charge("ch_a1b2c3d4e5f6").unwrap()
}

#[tokio::test]
async fn documented_responses_normalize_with_raw_kept() {
    let (_server, client) = serve(200, CREATE, 0, "sk_test_a1b2").await;
    let refund = client
        .get_refund(&RefundId::new("ref_a1b2c3d4e5f6").unwrap())
        .await
        .unwrap();
    assert_eq!(
        (refund.id.as_str(), refund.payment.id()),
        ("ref_a1b2c3d4e5f6", "ch_a1b2c3d4e5f6")
    );
    assert_eq!(
        refund.amount,
        Money::from_minor(5_000, Currency::USD),
        "requested: refunded is null"
    );
    assert_eq!(refund.fee, Some(Money::from_minor(50, Currency::USD)));
    assert_eq!(refund.status, RefundStatus::Pending);
    assert_eq!(refund.reason, Some(RefundReason::Other("Customer request".into())));
    assert_eq!(refund.merchant_reference.as_deref(), Some("refund_ord_12345"));
    assert_eq!((refund.livemode, refund.completed_at), (Some(false), None));
    assert_eq!(refund.raw.get(), CREATE, "byte for byte");
    assert_eq!(client.refund_from_json(CREATE.as_bytes()).unwrap(), refund);

    let (_server, client) = serve(200, LIST, 0, "sk_test_a1b2").await;
    let page = client.list_refunds(&ListRefunds::new()).await.unwrap();
    assert_eq!((page.total, page.items.len(), page.next.is_some()), (Some(3), 1, true));
    assert_eq!(page.items[0].status, RefundStatus::Succeeded);
    assert!(page.items[0].completed_at.is_some());
}

#[tokio::test]
async fn the_create_body_carries_a_key_always_and_the_reference_is_the_key_without_one_given() {
    let (server, client) = serve(200, CREATE, 0, "sk_test_a1b2").await;
    // The seed's "Create a partial refund" body, plus the key the engine always adds.
    let request = CreateRefund::new(charge())
        .amount(Money::from_major_str("25.00", Currency::USD).unwrap())
        .merchant_reference("partial_refund_ord_12345")
        .description("Partial service refund");
    let org = SyncgramOptions::new().fee_bearer(FeeBearer::Org);
    client.create_refund_with_options(&request, &org).await.unwrap();
    let mut body = bodies(&server).await.remove(0);
    let key = body.as_object_mut().unwrap().remove("idempotency_key").unwrap();
    assert!(key.as_str().unwrap().starts_with("rfd_"), "generated: {key}");
    let documented = json!({"charge_id": "ch_a1b2c3d4e5f6", "reference": "partial_refund_ord_12345",
        "amount": 25.00, "fee_bearer": "ORG", "reason": "Partial service refund"});
    assert_eq!(body, documented);

    let keyed = CreateRefund::new(charge()).idempotency_key(IdempotencyKey::new("k".repeat(200)).unwrap());
    let options = SyncgramOptions::new()
        .refund_address("0xAbC")
        .simulated_outcome(SimulatedOutcome::Success);
    client.create_refund_with_options(&keyed, &options).await.unwrap();
    client.create_refund(&CreateRefund::new(charge())).await.unwrap();
    let sent = bodies(&server).await;
    assert_eq!(sent[1]["idempotency_key"], "k".repeat(200));
    assert_eq!(
        sent[1]["reference"].as_str().unwrap().len(),
        128,
        "a long key is cut and hashed"
    );
    assert_eq!(
        (&sent[1]["refund_address"], &sent[1]["simulated_outcome"]),
        (&json!("0xAbC"), &json!("success"))
    );
    assert_eq!(
        sent[2]["reference"], sent[2]["idempotency_key"],
        "no merchant reference: the key"
    );
}

#[tokio::test]
async fn a_503_create_is_resent_with_the_same_key_and_a_3xx_is_ambiguous() {
    let (server, client) = serve(503, r#"{"detail":"busy"}"#, 2, "sk_test_a1b2").await;
    let e = client.create_refund(&CreateRefund::new(charge())).await.unwrap_err();
    assert_eq!(
        (e.kind(), e.delivery()),
        (&ErrorKind::ProviderUnavailable, Delivery::Ambiguous)
    );
    let sent = bodies(&server).await;
    assert_eq!(sent.len(), 3, "replay-safe: re-sent");
    assert!(sent.iter().all(|b| b == &sent[0]), "the same body and key each time");
    let key = e.pending_create().unwrap().idempotency_key_given().unwrap();
    assert_eq!(sent[0]["idempotency_key"], key.as_str());

    let (_server, client) = serve(303, "", 0, "sk_test_a1b2").await;
    let e = client.create_refund(&CreateRefund::new(charge())).await.unwrap_err();
    assert_eq!(e.delivery(), Delivery::Ambiguous, "{e}");
    assert!(e.pending_create().is_some());
}

#[tokio::test]
async fn the_http_status_decides_before_a_body_code() {
    for (status, body, kind) in [
        (
            503,
            r#"{"detail": {"code": "not_found", "message": "x"}}"#,
            ErrorKind::ProviderUnavailable,
        ),
        (
            429,
            r#"{"code": "invalid_request", "message": "slow down"}"#,
            ErrorKind::RateLimited,
        ),
        (
            400,
            r#"{"detail": "Refund amount exceeds the refundable amount of 10.00"}"#,
            ErrorKind::AmountExceedsRefundable,
        ),
        (
            400,
            r#"{"detail": {"code": "charge_already_refunded", "message": "m"}}"#,
            ErrorKind::AlreadyRefunded,
        ),
        (
            404,
            r#"{"error": "not_found", "message": "Refund ref_err not found"}"#,
            ErrorKind::NotFound,
        ),
        (
            409,
            r#"{"detail": "Idempotency conflict"}"#,
            ErrorKind::IdempotencyConflict,
        ),
        (502, "<html>Bad Gateway</html>", ErrorKind::ProviderUnavailable),
    ] {
        let (_server, client) = serve(status, body, 0, "sk_test_a1b2").await;
        let e = client.get_refund(&RefundId::new("ref_err").unwrap()).await.unwrap_err();
        assert_eq!(e.kind(), &kind, "{status} {body}");
        assert_eq!((e.http_status(), e.provider()), (Some(status), Some("syncgram")));
    }
    let list = r#"{"detail":[{"loc":["body","amount"],"msg":"Input should be greater than 0","type":"greater_than"}]}"#;
    let (_server, client) = serve(422, list, 0, "sk_test_a1b2").await;
    let e = client.get_refund(&RefundId::new("ref_err").unwrap()).await.unwrap_err();
    assert_eq!((e.kind(), e.field()), (&ErrorKind::Validation, Some("body.amount")));
}

#[tokio::test]
async fn syncgram_only_bad_input_is_refused_before_sending() {
    let (server, client) = serve(200, CREATE, 0, "sk_test_a1b2").await;
    let (_live_server, live) = serve(200, CREATE, 0, "sk_live_a1b2").await;
    let none = SyncgramOptions::new();
    let base = || CreateRefund::new(charge());
    let create = |request: CreateRefund, options: SyncgramOptions| {
        let client = client.clone();
        async move { client.create_refund_with_options(&request, &options).await.map(drop) }
    };
    let rows = vec![
        bad_input::row(
            "reason and description",
            "description",
            create(base().reason(RefundReason::Duplicate).description("d"), none.clone()).await,
        ),
        bad_input::row(
            "reference of 129",
            "merchant_reference",
            create(base().merchant_reference("r".repeat(129)), none.clone()).await,
        ),
        bad_input::row(
            "reason of 501",
            "reason",
            create(base().reason(RefundReason::Other("x".repeat(501))), none.clone()).await,
        ),
        bad_input::row(
            "metadata",
            "metadata",
            create(base().metadata("order", "42"), none.clone()).await,
        ),
        bad_input::row(
            "empty refund address",
            "refund_address",
            create(base(), none.clone().refund_address("")).await,
        ),
        bad_input::row(
            "simulated outcome, live key",
            "simulated_outcome",
            live.create_refund_with_options(&base(), &none.clone().simulated_outcome(SimulatedOutcome::Failed))
                .await
                .map(drop),
        ),
        bad_input::row(
            "a payment reference",
            "payment",
            client
                .get_refund_by_payment(&PaymentRef::payment("pay_1").unwrap())
                .await
                .map(drop),
        ),
        bad_input::row(
            "empty charge id",
            "payment",
            client.get_refund_by_charge("").await.map(drop),
        ),
        bad_input::row(
            "status canceled",
            "status",
            client
                .list_refunds(&ListRefunds::new().status(RefundStatus::Canceled))
                .await
                .map(drop),
        ),
        bad_input::row(
            "page of 101",
            "limit",
            client.list_refunds(&ListRefunds::new().limit(101)).await.map(drop),
        ),
    ];
    bad_input::assert_refused(&rows);
    assert!(server.received_requests().await.unwrap().is_empty(), "nothing was sent");
}
