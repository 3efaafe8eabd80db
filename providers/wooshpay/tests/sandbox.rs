//! The shared sandbox suite against WooshPay's skin, plus WooshPay's delivery rules: every create
//! carries one key across its retries, an ambiguous create is recovered by re-sending its pending
//! create, a 409 `idempotency_key_in_use` is waited out, and the skin speaks the same units.

use std::sync::Arc;
use std::time::Duration;

use refunds::sandbox::Fault;
use refunds::testkit::sandbox_suite::{SandboxHarness, SandboxRun};
use refunds::testkit::{HarnessOptions, fast_retry};
use refunds::{CreateRefund, Currency, Delivery, Money, PaymentRef, RefundProvider, RefundReason, RefundStatus};
use refunds_wooshpay::sandbox::{self, builder_for};
use serde_json::json;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

struct Harness;

#[refunds::async_trait]
impl SandboxHarness for Harness {
    async fn start(&self, options: HarnessOptions) -> SandboxRun {
        let sandbox = sandbox::start().await.expect("bind 127.0.0.1");
        let configure = |builder: refunds_wooshpay::WooshPayClientBuilder| {
            let builder = builder.retry(fast_retry(options.max_retries)).timeout(options.timeout);
            builder.currency(options.currency).build().expect("client")
        };
        let client = configure(builder_for(&sandbox));
        let wrong = configure(builder_for(&sandbox).api_key("sk_test_wrong_key_000000"));
        SandboxRun::new(sandbox, Arc::new(client), Arc::new(wrong))
    }
}

refunds::sandbox_tests!(Harness);

fn usd(minor: i64) -> Money {
    Money::from_minor(minor, Currency::USD)
}

fn pi(id: &str) -> PaymentRef {
    PaymentRef::payment_intent(id).unwrap()
}

#[tokio::test]
async fn three_lines_give_a_working_client() {
    let sandbox = sandbox::start().await.unwrap();
    sandbox.ledger().seed_payment("pi_three", usd(5_000));
    let client = builder_for(&sandbox).build().unwrap();
    let request = CreateRefund::new(pi("pi_three"))
        .amount(usd(1_250))
        .reason(RefundReason::RequestedByCustomer);
    let refund = client
        .create_refund(&request.merchant_reference("order-7"))
        .await
        .unwrap();
    assert_eq!(
        (refund.amount, refund.status.clone()),
        (usd(1_250), RefundStatus::Pending)
    );
    assert_eq!(refund.merchant_reference.as_deref(), Some("order-7"));
    let raw = refund.raw.to_value();
    assert_eq!(
        (&raw["amount"], &raw["currency"], &raw["created"]),
        (&json!(1250), &json!("usd"), &json!(1_704_067_200))
    );
    sandbox.ledger().settle_all();
    assert_eq!(
        client.get_refund(&refund.id).await.unwrap().status,
        RefundStatus::Succeeded
    );
}

#[tokio::test]
async fn the_skin_speaks_the_assumed_stripe_units() {
    let sandbox = sandbox::start().await.unwrap();
    let isk = Money::from_major_str("5000", Currency::from_code("ISK").unwrap()).unwrap();
    sandbox.ledger().seed_payment("pi_isk", isk);
    let client = builder_for(&sandbox).build().unwrap();
    let five = Money::from_major_str("5", isk.currency()).unwrap();
    let refund = client
        .create_refund(&CreateRefund::new(pi("pi_isk")).amount(five))
        .await
        .unwrap();
    assert_eq!(refund.amount, five);
    assert_eq!(refund.raw.to_value()["amount"], json!(500), "ISK travels in hundredths");
    assert_eq!(sandbox.ledger().refunds()[0].amount, five, "and is one 5 ISK refund");
}

#[tokio::test]
async fn an_ambiguous_create_is_recovered_by_resending_its_pending_create() {
    let sandbox = sandbox::start().await.unwrap();
    sandbox.ledger().seed_payment("pi_lost", usd(5_000));
    let client = builder_for(&sandbox).retry(fast_retry(2)).build().unwrap();
    // Applied and answer lost, then 429s to the same key: the whole call stays Ambiguous.
    sandbox.faults().push(Fault::ResponseLost, 1);
    sandbox.faults().push(Fault::AppliedThen(429), 2);
    let request = CreateRefund::new(pi("pi_lost")).amount(usd(900));
    let e = client
        .create_refund(&request)
        .await
        .expect_err("every answer lost or refused");
    assert_eq!(e.delivery(), Delivery::Ambiguous, "{e}");
    assert_eq!(sandbox.ledger().refund_count(), 1, "one key, one refund");
    let pending = e.pending().expect("the pending create travels with the error");
    let key = pending.request.idempotency_key_given().expect("the generated key");
    assert!(key.as_str().starts_with("rfd_"), "{key:?}");
    let applied = sandbox.ledger().refunds()[0].clone();
    assert_eq!(applied.idempotency_key.as_deref(), Some(key.as_str()));
    // WooshPay has no list to search: the recovery is the same create, same key, sent again.
    let recovered = client.create_refund(&pending.request).await.expect("replayed");
    assert_eq!(
        (recovered.id.as_str(), recovered.amount),
        (applied.id.as_str(), usd(900))
    );
    assert_eq!(sandbox.ledger().refund_count(), 1);
}

#[tokio::test]
async fn a_create_still_in_progress_is_waited_out_under_its_key() {
    let sandbox = sandbox::start().await.unwrap();
    sandbox.ledger().seed_payment("pi_slow", usd(5_000));
    let retry = refunds::adapter::RetryPolicy::new()
        .max_retries(8)
        .base_delay(Duration::from_millis(100));
    let client = builder_for(&sandbox)
        .attempt_timeout(Duration::from_millis(150))
        .retry(retry)
        .build()
        .unwrap();
    // The first attempt times out while WooshPay commits; a retry meets 409 idempotency_key_in_use.
    sandbox.faults().push(Fault::SlowCommit(Duration::from_millis(400)), 1);
    let refund = client
        .create_refund(&CreateRefund::new(pi("pi_slow")).amount(usd(300)))
        .await
        .expect("waited out");
    assert_eq!(sandbox.ledger().refund_count(), 1);
    assert_eq!(refund.id.as_str(), sandbox.ledger().refunds()[0].id);
    assert!(
        sandbox.request_count() >= 3,
        "timeout, 409 in progress, then the replay"
    );
}

#[tokio::test]
async fn a_redirect_answer_to_a_create_is_ambiguous() {
    let server = MockServer::start().await;
    let redirect = ResponseTemplate::new(302).insert_header("location", "https://elsewhere.example/v1/refunds");
    Mock::given(any()).respond_with(redirect).expect(1).mount(&server).await;
    let client = refunds_wooshpay::WooshPayClient::builder()
        .api_key("sk_test_redirect_01")
        .base_url(server.uri());
    let e = client
        .build()
        .unwrap()
        .create_refund(&CreateRefund::new(pi("pi_3xx")))
        .await
        .expect_err("302");
    assert_eq!(e.delivery(), Delivery::Ambiguous, "{e}");
    assert!(e.pending().is_some_and(|p| p.request.idempotency_key_given().is_some()));
}
