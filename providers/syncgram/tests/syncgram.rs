//! SyncgramPay's documented bodies (`fixtures/documented.json`: create bodies and refusals, responses
//! with their expected normalized fields, error bodies with their expected kinds; run against the
//! real client by `refunds_testkit::fixtures`), its create options and its own bad input.

use refunds::{CreateRefund, Currency, IdempotencyKey, PaymentRef, RefundProvider};
use refunds_syncgram::{FeeBearer, SimulatedOutcome, SyncgramClient, SyncgramExt, SyncgramOptions};
use refunds_testkit::{bad_input, fast_retry};
use serde_json::{Value, json};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CREATE: &str = include_str!("fixtures/create_response.json");

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

refunds_testkit::fixture_tests!(include_str!("fixtures/documented.json"), |base| {
    SyncgramClient::builder()
        .api_key("sk_test_a1b2")
        .base_url(base)
        .currency(Currency::USD)
});

/// The options (fee bearer, refund address, simulated outcome) and a generated key; the documented
/// body itself is a fixture.
#[tokio::test]
async fn options_go_on_the_create_body_and_a_generated_key_is_sent() {
    let (server, client) = serve(200, CREATE, 0, "sk_test_a1b2").await;
    let org = SyncgramOptions::new().fee_bearer(FeeBearer::Org);
    client
        .create_refund_with_options(&CreateRefund::new(charge()), &org)
        .await
        .unwrap();
    let keyed = CreateRefund::new(charge()).idempotency_key(IdempotencyKey::new("k".repeat(200)).unwrap());
    let options = SyncgramOptions::new()
        .refund_address("0xAbC")
        .simulated_outcome(SimulatedOutcome::Success);
    client.create_refund_with_options(&keyed, &options).await.unwrap();
    client.create_refund(&CreateRefund::new(charge())).await.unwrap();
    let sent = bodies(&server).await;
    let key = sent[0]["idempotency_key"].as_str().unwrap();
    assert!(key.starts_with("rfd_"), "generated: {key}");
    assert_eq!(
        (&sent[0]["fee_bearer"], &sent[0]["reference"]),
        (&json!("ORG"), &json!(key))
    );
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
    assert!(sent[2].get("fee_bearer").is_none(), "per-call options do not stick");
}

#[tokio::test]
async fn syncgram_only_bad_input_is_refused_before_sending() {
    let (server, client) = serve(200, CREATE, 0, "sk_test_a1b2").await;
    let (live_server, live) = serve(200, CREATE, 0, "sk_live_a1b2").await;
    let base = || CreateRefund::new(charge());
    let none = SyncgramOptions::new();
    let cases = [(
        "empty refund address",
        "refund_address",
        base(),
        none.clone().refund_address(""),
    )];
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
