//! SyncgramPay's documented bodies (`fixtures/documented.json`: create bodies and refusals, responses
//! with their expected normalized fields, error bodies with their expected kinds; run against the
//! real client by `refunds_testkit::fixtures`), its create options and its own bad input.

use refunds::{CreateRefund, Currency, IdempotencyKey, PaymentRef, RefundProvider};
use refunds_syncgram::SyncgramOptions as Options;
use refunds_syncgram::{FeeBearer, SimulatedOutcome, SyncgramClient, SyncgramClientBuilder, SyncgramExt};
use refunds_testkit::bad_input;
use serde_json::{Value, json};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn builder(base_url: &str) -> SyncgramClientBuilder {
    SyncgramClient::builder()
        .api_key("sk_test_a1b2")
        .base_url(base_url)
        .currency(Currency::USD)
}

/// A server answering the seed's create response to everything, and a client of it with `key`. (That
/// answer names the seed's own reference, so the answer check refuses it as another create's refund:
/// the tests here look only at what was sent.)
async fn serve(key: &str) -> (MockServer, SyncgramClient) {
    let server = MockServer::start().await;
    let answer =
        ResponseTemplate::new(200).set_body_raw(include_str!("fixtures/create_response.json"), "application/json");
    Mock::given(wiremock::matchers::any())
        .respond_with(answer)
        .mount(&server)
        .await;
    let client = builder(&server.uri()).api_key(key).max_retries(0).build().unwrap();
    (server, client)
}

fn charge() -> CreateRefund {
    CreateRefund::new(PaymentRef::charge("ch_a1b2c3d4e5f6").unwrap())
}

/// The options (fee bearer, refund address, simulated outcome) and a generated key; the documented
/// body itself is a fixture.
#[tokio::test]
async fn options_go_on_the_create_body_and_a_generated_key_is_sent() {
    let (server, client) = serve("sk_test_a1b2").await;
    let org = Options::new().fee_bearer(FeeBearer::Org);
    let _ = client.create_refund_with_options(&charge(), &org).await;
    let keyed = charge().idempotency_key(IdempotencyKey::new("k".repeat(200)).unwrap());
    let options = Options::new()
        .refund_address("0xAbC")
        .simulated_outcome(SimulatedOutcome::Success);
    let _ = client.create_refund_with_options(&keyed, &options).await;
    let _ = client.create_refund(&charge()).await;
    let received = server.received_requests().await.unwrap();
    let sent: Vec<Value> = received
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    let key = sent[0]["idempotency_key"].as_str().unwrap();
    assert!(key.starts_with("rfd_"), "generated: {key}");
    assert_eq!(
        (&sent[0]["fee_bearer"], &sent[0]["reference"]),
        (&json!("ORG"), &json!(key))
    );
    assert_eq!(sent[1]["idempotency_key"], "k".repeat(200));
    let long = sent[1]["reference"].as_str().unwrap();
    assert!(
        long.starts_with("rfm_") && long.len() == 36,
        "a long key's marker is its hash: {long}"
    );
    let options_sent = (&sent[1]["refund_address"], &sent[1]["simulated_outcome"]);
    assert_eq!(options_sent, (&json!("0xAbC"), &json!("success")));
    assert!(sent[2].get("fee_bearer").is_none(), "per-call options do not stick");
}

/// The option and lookup rows the fixtures cannot express (the create rows are fixtures).
#[tokio::test]
async fn syncgram_only_bad_input_is_refused_before_sending() {
    let (server, client) = serve("sk_test_a1b2").await;
    let (live_server, live) = serve("sk_live_a1b2").await;
    let empty_address = Options::new().refund_address("");
    let simulated = Options::new().simulated_outcome(SimulatedOutcome::Failed);
    let rows = [
        (
            "empty refund address",
            "refund_address",
            client.create_refund_with_options(&charge(), &empty_address).await,
        ),
        (
            "simulated outcome, live key",
            "simulated_outcome",
            live.create_refund_with_options(&charge(), &simulated).await,
        ),
        ("empty charge id", "payment", client.get_refund_by_charge("").await),
    ];
    let rows: Vec<_> = rows
        .into_iter()
        .map(|(case, field, outcome)| bad_input::row(case, field, outcome.map(drop)))
        .collect();
    bad_input::assert_refused(&rows);
    assert!(server.received_requests().await.unwrap().is_empty(), "nothing was sent");
    assert!(live_server.received_requests().await.unwrap().is_empty());
}
