//! SyncgramPay's documented bodies (`fixtures/`: responses with their expected normalized fields, error
//! bodies with their expected kinds), its create body, its delivery rules and its own bad input.

use refunds::{CreateRefund, Currency, Delivery, IdempotencyKey, ListRefunds, Money, PaymentRef, RefundId};
use refunds::{Refund, RefundProvider, RefundReason};
use refunds_syncgram::{FeeBearer, SimulatedOutcome, SyncgramClient, SyncgramExt, SyncgramOptions};
use refunds_testkit::{bad_input, fast_retry};
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
    let builder = SyncgramClient::builder().api_key(key).base_url(server.uri());
    let client = builder
        .currency(Currency::USD)
        .retry(fast_retry(retries))
        .build()
        .unwrap();
    (server, client)
}

async fn bodies(server: &MockServer) -> Vec<Value> {
    let received = server.received_requests().await.unwrap();
    received
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

fn charge() -> PaymentRef {
    PaymentRef::charge("ch_a1b2c3d4e5f6").unwrap()
}

/// The refund's normalized fields, as in the `*.expected.json` fixtures.
fn normalized(refund: &Refund) -> Value {
    let mut value = serde_json::to_value(refund).unwrap();
    value.as_object_mut().unwrap().remove("raw");
    value
}

fn fixture(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

#[tokio::test]
async fn documented_responses_normalize_with_raw_kept() {
    let (_server, client) = serve(200, CREATE, 0, "sk_test_a1b2").await;
    let refund = client
        .get_refund(&RefundId::new("ref_a1b2c3d4e5f6").unwrap())
        .await
        .unwrap();
    assert_eq!(
        normalized(&refund),
        fixture(include_str!("fixtures/create_response.expected.json"))
    );
    assert_eq!(refund.raw.get(), CREATE, "byte for byte");
    assert_eq!(client.refund_from_json(CREATE.as_bytes()).unwrap(), refund);

    let (_server, client) = serve(200, LIST, 0, "sk_test_a1b2").await;
    let page = client.list_refunds(&ListRefunds::new()).await.unwrap();
    assert_eq!((page.total, page.items.len(), page.next.is_some()), (Some(3), 1, true));
    assert_eq!(
        normalized(&page.items[0]),
        fixture(include_str!("fixtures/list_item.expected.json"))
    );
    assert!(LIST.contains(page.items[0].raw.get()), "the item's own text");
}

#[tokio::test]
async fn documented_error_bodies_status_first() {
    for case in fixture(include_str!("fixtures/errors.json")).as_array().unwrap() {
        let status = case["status"].as_u64().unwrap() as u16;
        let (_server, client) = serve(status, case["body"].as_str().unwrap(), 0, "sk_test_a1b2").await;
        let e = client.get_refund(&RefundId::new("ref_err").unwrap()).await.unwrap_err();
        assert_eq!(format!("{:?}", e.kind()), case["kind"].as_str().unwrap(), "{case}");
        assert_eq!((e.http_status(), e.provider()), (Some(status), Some("syncgram")));
        assert_eq!(e.field(), case["field"].as_str(), "{case}");
        assert!(
            case.get("code").is_none_or(|code| e.provider_code() == code.as_str()),
            "{case}"
        );
    }
}

#[tokio::test]
async fn the_create_body_always_carries_a_key_and_the_reference_defaults_to_it() {
    let (server, client) = serve(200, CREATE, 0, "sk_test_a1b2").await;
    // The seed's "Create a partial refund" body, plus the key the engine always adds.
    let request = CreateRefund::new(charge())
        .amount(Money::from_major_str("25.00", Currency::USD).unwrap())
        .merchant_reference("partial_refund_ord_12345")
        .description("Partial service refund");
    let org = SyncgramOptions::new().fee_bearer(FeeBearer::Org);
    client.create_refund_with_options(&request, &org).await.unwrap();
    let keyed = CreateRefund::new(charge()).idempotency_key(IdempotencyKey::new("k".repeat(200)).unwrap());
    let options = SyncgramOptions::new()
        .refund_address("0xAbC")
        .simulated_outcome(SimulatedOutcome::Success);
    client.create_refund_with_options(&keyed, &options).await.unwrap();
    client.create_refund(&CreateRefund::new(charge())).await.unwrap();

    let mut sent = bodies(&server).await;
    let key = sent[0].as_object_mut().unwrap().remove("idempotency_key").unwrap();
    assert!(key.as_str().unwrap().starts_with("rfd_"), "generated: {key}");
    let documented = json!({"charge_id": "ch_a1b2c3d4e5f6", "reference": "partial_refund_ord_12345",
        "amount": 25.00, "fee_bearer": "ORG", "reason": "Partial service refund"});
    assert_eq!(sent[0], documented);
    assert_eq!(sent[1]["idempotency_key"], "k".repeat(200));
    assert_eq!(
        sent[1]["reference"].as_str().unwrap().len(),
        128,
        "a long key is cut and hashed"
    );
    assert_eq!(sent[1]["refund_address"], "0xAbC");
    assert_eq!(sent[1]["simulated_outcome"], "success");
    assert_eq!(
        sent[2]["reference"], sent[2]["idempotency_key"],
        "no merchant reference: the key"
    );
    assert!(sent[2].get("fee_bearer").is_none(), "per-call options do not stick");
}

#[tokio::test]
async fn a_503_create_is_resent_with_the_same_key_and_a_3xx_is_ambiguous() {
    let (server, client) = serve(503, r#"{"detail":"busy"}"#, 2, "sk_test_a1b2").await;
    let e = client.create_refund(&CreateRefund::new(charge())).await.unwrap_err();
    assert_eq!(e.delivery(), Delivery::Ambiguous);
    let sent = bodies(&server).await;
    assert_eq!(sent.len(), 3, "keyed: re-sent");
    assert!(sent.iter().all(|b| b == &sent[0]), "the same body and key each time");
    let key = e.pending_create().unwrap().idempotency_key_given().unwrap();
    assert_eq!(sent[0]["idempotency_key"], key.as_str());

    let (_server, client) = serve(303, "", 0, "sk_test_a1b2").await;
    let e = client.create_refund(&CreateRefund::new(charge())).await.unwrap_err();
    assert_eq!(e.delivery(), Delivery::Ambiguous, "{e}");
    assert!(e.pending_create().is_some());
}

#[tokio::test]
async fn syncgram_only_bad_input_is_refused_before_sending() {
    let (server, client) = serve(200, CREATE, 0, "sk_test_a1b2").await;
    let (live_server, live) = serve(200, CREATE, 0, "sk_live_a1b2").await;
    let base = || CreateRefund::new(charge());
    let none = SyncgramOptions::new();
    let cases = [
        (
            "reason and description",
            "description",
            base().reason(RefundReason::Duplicate).description("d"),
            none.clone(),
        ),
        (
            "reference of 129",
            "merchant_reference",
            base().merchant_reference("r".repeat(129)),
            none.clone(),
        ),
        (
            "reason of 501",
            "reason",
            base().reason(RefundReason::Other("x".repeat(501))),
            none.clone(),
        ),
        (
            "empty refund address",
            "refund_address",
            base(),
            none.clone().refund_address(""),
        ),
    ];
    let mut rows = Vec::new();
    for (case, field, request, options) in cases {
        let outcome = client.create_refund_with_options(&request, &options).await;
        rows.push(bad_input::row(case, field, outcome.map(drop)));
    }
    let simulated = none.simulated_outcome(SimulatedOutcome::Failed);
    let outcome = live.create_refund_with_options(&base(), &simulated).await.map(drop);
    rows.push(bad_input::row(
        "simulated outcome, live key",
        "simulated_outcome",
        outcome,
    ));
    let outcome = client.get_refund_by_charge("").await.map(drop);
    rows.push(bad_input::row("empty charge id", "payment", outcome));
    bad_input::assert_refused(&rows);
    assert!(server.received_requests().await.unwrap().is_empty(), "nothing was sent");
    assert!(live_server.received_requests().await.unwrap().is_empty());
}
