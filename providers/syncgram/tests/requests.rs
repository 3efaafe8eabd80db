//! What goes on the wire, asserted with wiremock matchers, and bad input refused before sending.

use std::time::Duration;

use refunds::testkit::bad_input::Row;
use refunds::{
    CreateRefund, Currency, ErrorKind, IdempotencyKey, ListRefunds, Money, PageCursor, PaymentRef, RefundId,
    RefundProvider, RefundReason, RefundStatus,
};
use refunds_syncgram::{FeeBearer, SimulatedOutcome, SyncgramClient, SyncgramOptions};
use serde_json::{Value, json};
use wiremock::matchers::{body_string, header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const KEY: &str = "sk_test_requests_a1b2c3d4";
const REFUNDS: &str = "/api/v1/payments/refunds";

fn usd(minor: i64) -> Money {
    Money::from_minor(minor, Currency::USD)
}

fn charge(id: &str) -> PaymentRef {
    PaymentRef::charge(id).unwrap()
}

fn refund_json(id: &str, charge_id: &str, amount: &str) -> Value {
    json!({
        "refund_id": id, "charge_id": charge_id, "reference": "r", "status": "pending",
        "requested_amount": amount, "refunded_amount": null, "refund_fee_amount": "0.00",
        "fee_bearer": "ORG", "reason": null, "created_at": "2024-01-16T09:00:00Z",
        "updated_at": "2024-01-16T09:00:00Z", "completed_at": null
    })
}

fn ok(amount: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(refund_json("ref_1", "ch_a1b2c3d4e5f6", amount))
}

async fn setup(currency: Currency) -> (MockServer, SyncgramClient) {
    let server = MockServer::start().await;
    let client = SyncgramClient::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .currency(currency)
        .max_retries(0)
        .build()
        .unwrap();
    (server, client)
}

fn create_mock() -> wiremock::MockBuilder {
    Mock::given(method("POST"))
        .and(path(REFUNDS))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .and(header("content-type", "application/json"))
}

async fn last_body(server: &MockServer) -> String {
    let received = server.received_requests().await.unwrap();
    String::from_utf8(received.last().unwrap().body.clone()).unwrap()
}

#[tokio::test]
async fn partial_refund_body_is_the_documented_example() {
    let (server, client) = setup(Currency::USD).await;
    // The seed's "Create a partial refund" body, compacted.
    create_mock()
        .and(body_string(
            r#"{"charge_id":"ch_a1b2c3d4e5f6","reference":"partial_refund_ord_12345","amount":25.00,"fee_bearer":"ORG","reason":"Partial service refund"}"#,
        ))
        .respond_with(ok("25.00"))
        .expect(1)
        .mount(&server)
        .await;
    let request = CreateRefund::new(charge("ch_a1b2c3d4e5f6"))
        .amount(Money::from_major_str("25.00", Currency::USD).unwrap())
        .merchant_reference("partial_refund_ord_12345")
        .description("Partial service refund");
    let refund = client
        .create_refund_with(&request, &SyncgramOptions::new().fee_bearer(FeeBearer::Org))
        .await
        .unwrap();
    assert_eq!(refund.amount, usd(2_500));
}

#[tokio::test]
async fn full_refund_body_is_the_documented_example() {
    let (server, client) = setup(Currency::USD).await;
    // The seed's "Create a full refund" body, compacted: no amount.
    create_mock()
        .and(body_string(
            r#"{"charge_id":"ch_a1b2c3d4e5f6","reference":"refund_ord_12345","reason":"Customer request"}"#,
        ))
        .respond_with(ok("50.00"))
        .expect(1)
        .mount(&server)
        .await;
    let request = CreateRefund::new(charge("ch_a1b2c3d4e5f6"))
        .merchant_reference("refund_ord_12345")
        .reason(RefundReason::Other("Customer request".into()));
    client.create_refund(&request).await.unwrap();
}

#[tokio::test]
async fn options_and_idempotency_key_travel_in_the_body() {
    let (server, client) = setup(Currency::USD).await;
    create_mock()
        .and(body_string(
            r#"{"charge_id":"ch_crypto","reference":"order-9","amount":10.00,"fee_bearer":"CUSTOMER","reason":"requested_by_customer","refund_address":"0xAbC123","idempotency_key":"idem-9","simulated_outcome":"failed"}"#,
        ))
        .respond_with(ok("10.00"))
        .expect(1)
        .mount(&server)
        .await;
    let request = CreateRefund::new(charge("ch_crypto"))
        .amount(usd(1_000))
        .reason(RefundReason::RequestedByCustomer)
        .merchant_reference("order-9")
        .idempotency_key(IdempotencyKey::new("idem-9").unwrap());
    let options = SyncgramOptions::new()
        .fee_bearer(FeeBearer::Customer)
        .refund_address("0xAbC123")
        .simulated_outcome(SimulatedOutcome::Failed);
    client.create_refund_with(&request, &options).await.unwrap();
    let received = server.received_requests().await.unwrap();
    assert!(received[0].headers.get("idempotency-key").is_none());
}

#[tokio::test]
async fn builder_default_options_apply_to_trait_creates() {
    let server = MockServer::start().await;
    let client = SyncgramClient::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .currency(Currency::USD)
        .default_options(SyncgramOptions::new().fee_bearer(FeeBearer::Customer))
        .build()
        .unwrap();
    create_mock().respond_with(ok("1.00")).expect(1).mount(&server).await;
    let provider: &dyn RefundProvider = &client;
    provider
        .create_refund(&CreateRefund::new(charge("ch_1")).amount(usd(100)))
        .await
        .unwrap();
    let body: Value = serde_json::from_str(&last_body(&server).await).unwrap();
    assert_eq!(body["fee_bearer"], "CUSTOMER");
}

#[tokio::test]
async fn amounts_are_json_numbers_with_the_currency_exponent() {
    for (currency, minor, text) in [
        (Currency::USD, 1_250, "12.50"),
        (Currency::USD, 5, "0.05"),
        (Currency::JPY, 1_000, "1000"),
        (Currency::KWD, 1_234, "1.234"),
    ] {
        let (server, client) = setup(currency).await;
        create_mock().respond_with(ok(text)).expect(1).mount(&server).await;
        let refund = client
            .create_refund(&CreateRefund::new(charge("ch_a1b2c3d4e5f6")).amount(Money::from_minor(minor, currency)))
            .await
            .unwrap();
        assert_eq!(refund.amount, Money::from_minor(minor, currency));
        let body = last_body(&server).await;
        assert!(body.contains(&format!(",\"amount\":{text}}}")), "{currency}: {body}");
    }
}

#[tokio::test]
async fn reference_comes_from_the_key_when_no_merchant_reference() {
    let (server, client) = setup(Currency::USD).await;
    create_mock().respond_with(ok("1.00")).mount(&server).await;
    let short = CreateRefund::new(charge("ch_1"))
        .amount(usd(100))
        .idempotency_key(IdempotencyKey::new("key-123").unwrap());
    client.create_refund(&short).await.unwrap();
    let body: Value = serde_json::from_str(&last_body(&server).await).unwrap();
    assert_eq!(body["reference"], "key-123");
    assert_eq!(body["idempotency_key"], "key-123");

    // Longer than a reference may be: cut, with a hash of the whole key, the same every time.
    let long_a = "a".repeat(200);
    let long_b = format!("{}b", "a".repeat(199));
    let mut references = Vec::new();
    for key in [&long_a, &long_a, &long_b] {
        let request = CreateRefund::new(charge("ch_1"))
            .amount(usd(100))
            .idempotency_key(IdempotencyKey::new(key.as_str()).unwrap());
        client.create_refund(&request).await.unwrap();
        let body: Value = serde_json::from_str(&last_body(&server).await).unwrap();
        assert_eq!(body["idempotency_key"], key.as_str());
        references.push(body["reference"].as_str().unwrap().to_owned());
    }
    assert_eq!(references[0].len(), 128);
    assert_eq!(references[0], references[1], "deterministic");
    assert_ne!(references[0], references[2], "distinct keys, distinct references");
}

#[tokio::test]
async fn generated_reference_is_fixed_across_retries_and_fresh_per_create() {
    let server = MockServer::start().await;
    let client = SyncgramClient::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .currency(Currency::USD)
        .retry(refunds::testkit::fast_retry(2))
        .build()
        .unwrap();
    Mock::given(method("POST"))
        .and(path(REFUNDS))
        .respond_with(ResponseTemplate::new(503).set_body_json(json!({"detail": "busy"})))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    create_mock().respond_with(ok("1.00")).mount(&server).await;
    let request = CreateRefund::new(charge("ch_1")).amount(usd(100));
    client.create_refund(&request).await.expect("retried");
    client.create_refund(&request).await.unwrap();
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 3);
    assert_eq!(received[0].body, received[1].body, "the retry re-sends the same body");
    let reference = |r: &Request| {
        serde_json::from_slice::<Value>(&r.body).unwrap()["reference"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(!reference(&received[0]).is_empty() && reference(&received[0]).len() <= 128);
    assert_ne!(
        reference(&received[1]),
        reference(&received[2]),
        "a new create, a new reference"
    );
}

#[tokio::test]
async fn a_timed_out_create_is_retried_with_the_same_body() {
    let server = MockServer::start().await;
    let client = SyncgramClient::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .currency(Currency::USD)
        .retry(refunds::testkit::fast_retry(1))
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    Mock::given(method("POST"))
        .and(path(REFUNDS))
        .respond_with(ok("1.00").set_delay(Duration::from_secs(2)))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    create_mock().respond_with(ok("1.00")).mount(&server).await;
    client
        .create_refund(&CreateRefund::new(charge("ch_1")).amount(usd(100)))
        .await
        .expect("retried after the timeout");
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].body, received[1].body);
}

#[tokio::test]
async fn retrieve_by_id_and_by_charge_paths() {
    let (server, client) = setup(Currency::USD).await;
    Mock::given(method("GET"))
        .and(path(format!("{REFUNDS}/ref_a1b2c3d4e5f6")))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .respond_with(ok("50.00"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/payments/payins/ch_a1b2c3d4e5f6/refund"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .respond_with(ok("50.00"))
        .expect(2)
        .mount(&server)
        .await;
    client
        .get_refund(&RefundId::new("ref_a1b2c3d4e5f6").unwrap())
        .await
        .unwrap();
    let inherent = client.get_refund_by_charge("ch_a1b2c3d4e5f6").await.unwrap();
    let provider: &dyn RefundProvider = &client;
    let through_trait = provider
        .get_refund_by_payment(&charge("ch_a1b2c3d4e5f6"))
        .await
        .unwrap();
    assert_eq!(inherent, through_trait);
    assert_eq!(inherent.payment, charge("ch_a1b2c3d4e5f6"));
}

#[tokio::test]
async fn list_sends_limit_offset_and_status() {
    let (server, client) = setup(Currency::USD).await;
    let list = json!({"total": 0, "items": []});
    Mock::given(method("GET"))
        .and(path(REFUNDS))
        .and(query_param("limit", "50"))
        .and(query_param("offset", "0"))
        .and(query_param_is_missing("status"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&list))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(REFUNDS))
        .and(query_param("limit", "100"))
        .and(query_param("offset", "0"))
        .and(query_param("status", "succeeded"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&list))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(REFUNDS))
        .and(query_param("limit", "10"))
        .and(query_param("offset", "30"))
        .and(query_param("status", "processing"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&list))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(REFUNDS))
        .and(query_param("status", "reversed"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&list))
        .expect(1)
        .mount(&server)
        .await;
    let page = client.list_refunds(&ListRefunds::new()).await.unwrap();
    assert_eq!((page.items.len(), page.total, page.next), (0, Some(0), None));
    client
        .list_refunds(&ListRefunds::new().limit(100).status(RefundStatus::Succeeded))
        .await
        .unwrap();
    client
        .list_refunds(
            &ListRefunds::new()
                .limit(10)
                .status(RefundStatus::Processing)
                .cursor(PageCursor::from_token("syncgram:o:30")),
        )
        .await
        .unwrap();
    client
        .list_refunds(&ListRefunds::new().status(RefundStatus::Unknown("reversed".into())))
        .await
        .unwrap();
}

#[tokio::test]
async fn the_limits_themselves_are_accepted() {
    let (server, client) = setup(Currency::USD).await;
    create_mock().respond_with(ok("1.00")).expect(1).mount(&server).await;
    let request = CreateRefund::new(charge("ch_1"))
        .merchant_reference("r".repeat(128))
        .reason(RefundReason::Other("x".repeat(500)))
        .idempotency_key(IdempotencyKey::new("k".repeat(255)).unwrap());
    let options = SyncgramOptions::new().refund_address("w".repeat(255));
    client.create_refund_with(&request, &options).await.unwrap();
    let body: Value = serde_json::from_str(&last_body(&server).await).unwrap();
    assert_eq!(body["reference"].as_str().unwrap().len(), 128);
    assert_eq!(body["reason"].as_str().unwrap().len(), 500);
    assert_eq!(body["idempotency_key"].as_str().unwrap().len(), 255);
    assert_eq!(body["refund_address"].as_str().unwrap().len(), 255);
}

#[tokio::test]
async fn cancel_is_unsupported_and_sends_nothing() {
    let (server, client) = setup(Currency::USD).await;
    let e = client
        .cancel_refund(&RefundId::new("ref_1").unwrap())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Unsupported);
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[test]
fn builder_requires_key_and_currency_and_hides_the_key() {
    let e = SyncgramClient::builder().currency(Currency::USD).build().unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Configuration);
    assert!(e.to_string().contains("SYNCGRAM_API_KEY"), "{e}");

    let e = SyncgramClient::builder().api_key(KEY).build().unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Configuration);
    assert!(e.to_string().contains("SYNCGRAM_CURRENCY"), "{e}");

    let e = SyncgramClient::builder()
        .api_key(KEY)
        .currency(Currency::USD)
        .base_url("http://api.syncgrampay.com")
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Configuration, "plain http off loopback");

    let builder = SyncgramClient::builder().api_key(KEY).currency(Currency::NGN);
    let builder_debug = format!("{builder:?}");
    let client = builder.build().unwrap();
    assert!(!builder_debug.contains(KEY) && !format!("{client:?}").contains(KEY));
    assert_eq!(client.currency(), Currency::NGN);
    assert!(
        format!("{client:?}").contains("https://api.syncgrampay.com/"),
        "the production base url by default: {client:?}"
    );
    assert_eq!(client.info().id, "syncgram");
    let caps = &client.info().capabilities;
    assert!(caps.retrieve_by_payment && caps.list_status_filter && !caps.cancel);
    assert_eq!(caps.list, Some(refunds::PagingStyle::Offset));
    assert_eq!(caps.idempotency, refunds::IdempotencySupport::BodyField);
    assert_eq!(caps.payment_kinds, vec![refunds::PaymentRefKind::Charge]);
}

/// `from_env` reads `SYNCGRAM_API_KEY`, `SYNCGRAM_BASE_URL` and `SYNCGRAM_CURRENCY`. Environment
/// variables are process-wide, so the checks run in a child process of this test binary.
#[test]
fn from_env_reads_key_base_url_and_currency() {
    match std::env::var("SYNCGRAM_TEST_CHILD").as_deref() {
        Ok("good") => {
            let client = SyncgramClient::from_env().expect("built from the environment");
            assert_eq!(client.currency(), Currency::KWD);
            let debug = format!("{client:?}");
            assert!(debug.contains("127.0.0.1:9"), "{debug}");
            assert!(!debug.contains("sk_test_from_env_1234"));
            return;
        }
        Ok("bad_currency") => {
            let e = SyncgramClient::from_env().unwrap_err();
            assert_eq!(e.kind(), &ErrorKind::Configuration);
            assert!(e.to_string().contains("SYNCGRAM_CURRENCY"), "{e}");
            return;
        }
        Ok("no_currency") => {
            let e = SyncgramClient::from_env().unwrap_err();
            assert!(e.to_string().contains("SYNCGRAM_CURRENCY"), "{e}");
            return;
        }
        _ => {}
    }
    for (mode, currency) in [("good", "kwd"), ("bad_currency", "XX1"), ("no_currency", "")] {
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["from_env_reads_key_base_url_and_currency", "--exact", "--nocapture"])
            .env("SYNCGRAM_TEST_CHILD", mode)
            .env("SYNCGRAM_API_KEY", "sk_test_from_env_1234")
            .env("SYNCGRAM_BASE_URL", "http://127.0.0.1:9")
            .env("SYNCGRAM_CURRENCY", currency)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{mode}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            String::from_utf8_lossy(&output.stdout).contains("1 passed"),
            "{mode}: the child ran"
        );
    }
}

fn row<T>(case: &'static str, field: &'static str, outcome: refunds::Result<T>) -> Row {
    refunds::testkit::bad_input::row(case, field, outcome.map(drop))
}

/// SyncgramPay's own limits, refused before sending: the rows the core's generic bad-input table
/// (run in `tests/conformance.rs`) does not have. Prints the count for the project's total.
#[tokio::test]
async fn provider_specific_bad_input_is_refused_before_sending() {
    let (server, client) = setup(Currency::USD).await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ok("1.00"))
        .expect(0)
        .mount(&server)
        .await;
    let live = |options: SyncgramOptions| {
        SyncgramClient::builder()
            .api_key("sk_live_a1b2c3d4e5f6g7h8i9j0")
            .base_url(server.uri())
            .currency(Currency::USD)
            .default_options(options)
            .build()
            .unwrap()
    };
    let base = || CreateRefund::new(charge("ch_1"));
    let none = SyncgramOptions::new();
    let create = |request: CreateRefund, options: SyncgramOptions| {
        let client = client.clone();
        async move { client.create_refund_with(&request, &options).await }
    };
    let list = |request: ListRefunds| {
        let client = client.clone();
        async move { client.list_refunds(&request).await }
    };
    let simulated = SyncgramOptions::new().simulated_outcome(SimulatedOutcome::Success);
    let rows = vec![
        row(
            "amount in USD with three decimals (the settlement currency has two)",
            "amount",
            create(
                base().amount(Money::from_minor(1_005, Currency::with_exponent("USD", 3).unwrap())),
                none.clone(),
            )
            .await,
        ),
        row(
            "merchant reference of 129 chars (syncgram's reference is at most 128)",
            "merchant_reference",
            create(base().merchant_reference("r".repeat(129)), none.clone()).await,
        ),
        row(
            "reason of 501 chars (syncgram's reason is at most 500)",
            "reason",
            create(base().reason(RefundReason::Other("x".repeat(501))), none.clone()).await,
        ),
        row(
            "reason with a control character",
            "reason",
            create(base().reason(RefundReason::Other("a\u{1b}[31m".into())), none.clone()).await,
        ),
        row(
            "reason and description (syncgram has one free-text field)",
            "description",
            create(
                base().reason(RefundReason::Duplicate).description("and a description"),
                none.clone(),
            )
            .await,
        ),
        row(
            "one metadata entry (syncgram refunds take none)",
            "metadata",
            create(base().metadata("order", "42"), none.clone()).await,
        ),
        row(
            "refund address empty",
            "refund_address",
            create(base(), SyncgramOptions::new().refund_address("")).await,
        ),
        row(
            "refund address of 256 chars",
            "refund_address",
            create(base(), SyncgramOptions::new().refund_address("w".repeat(256))).await,
        ),
        row(
            "refund address with a newline",
            "refund_address",
            create(base(), SyncgramOptions::new().refund_address("0xab\ncd")).await,
        ),
        row(
            "payment intent reference (syncgram refunds charges)",
            "payment",
            create(
                CreateRefund::new(PaymentRef::payment_intent("pi_1").unwrap()),
                none.clone(),
            )
            .await,
        ),
        row(
            "simulated outcome with a live key",
            "simulated_outcome",
            live(none.clone()).create_refund_with(&base(), &simulated).await,
        ),
        row(
            "simulated outcome in a live client's default options, through the trait",
            "simulated_outcome",
            live(simulated.clone()).create_refund(&base()).await,
        ),
        row(
            "list limit 101 (syncgram pages hold at most 100)",
            "limit",
            list(ListRefunds::new().limit(101)).await,
        ),
        row(
            "a syncgram cursor of another paging style",
            "cursor",
            list(ListRefunds::new().cursor(PageCursor::from_token("syncgram:a:ref_1"))).await,
        ),
        row(
            "status filter requires_action (no syncgram status)",
            "status",
            list(ListRefunds::new().status(RefundStatus::RequiresAction)).await,
        ),
        row(
            "status filter canceled (no syncgram status)",
            "status",
            list(ListRefunds::new().status(RefundStatus::Canceled)).await,
        ),
        row(
            "refund by payment with a payment reference",
            "payment",
            client
                .get_refund_by_payment(&PaymentRef::payment("pay_1").unwrap())
                .await,
        ),
        row(
            "refund by charge with an empty charge id",
            "payment",
            client.get_refund_by_charge("").await,
        ),
    ];
    refunds::testkit::bad_input::assert_refused(&rows);
    assert!(server.received_requests().await.unwrap().is_empty(), "nothing was sent");
    for row in &rows {
        println!("refused before sending: {} -> field `{}`", row.case, row.field);
    }
    println!(
        "syncgram: {} provider-specific bad-input rows, 0 requests sent",
        rows.len()
    );
}
