//! WooshPay's delivery rules on its sandbox (the shared suite is in `suite.rs`): one key across a create's retries, an ambiguous create recovered by re-sending its
//! pending create, a create still in progress (409 `idempotency_key_in_use`) waited out, and the skin
//! speaking the same units.

use std::time::Duration;

use refunds::adapter::RetryPolicy;
use refunds::sandbox::{Fault, Sandbox};
use refunds::{CreateRefund, Currency, Delivery, Money, PaymentRef, RefundProvider};
use refunds_testkit::fast_retry;
use refunds_wooshpay::sandbox::{self, builder_for};

fn usd(minor: i64) -> Money {
    Money::from_minor(minor, Currency::USD)
}

/// A sandbox where `pi_1` captured `captured`, and a create of `amount` of it.
async fn seeded(captured: Money, amount: Money) -> (Sandbox, CreateRefund) {
    let sandbox = sandbox::start().await.unwrap();
    sandbox.ledger().seed_payment("pi_1", captured);
    let payment = PaymentRef::payment_intent("pi_1").unwrap();
    (sandbox, CreateRefund::new(payment).amount(amount))
}

#[tokio::test]
async fn the_skin_speaks_the_assumed_stripe_units() {
    let isk = |major| Money::from_major_str(major, Currency::from_code("ISK").unwrap()).unwrap();
    let (sandbox, request) = seeded(isk("5000"), isk("5")).await;
    let client = builder_for(&sandbox).build().unwrap();
    let refund = client.create_refund(&request).await.unwrap();
    assert_eq!(refund.amount, isk("5"));
    assert_eq!(refund.raw.to_value()["amount"], 500, "ISK travels in hundredths");
    assert_eq!(refund.raw.to_value()["currency"], "isk");
    assert_eq!(sandbox.ledger().refunds()[0].amount, isk("5"), "one 5 ISK refund");
}

#[tokio::test]
async fn an_ambiguous_create_is_recovered_by_resending_its_pending_create() {
    let (sandbox, request) = seeded(usd(5_000), usd(900)).await;
    let client = builder_for(&sandbox).retry(fast_retry(2)).build().unwrap();
    // Applied and the answer lost, then 429s to the same key: the whole call stays Ambiguous.
    sandbox.faults().push(Fault::ResponseLost, 1);
    sandbox.faults().push(Fault::AppliedThen(429), 2);
    let e = client.create_refund(&request).await.expect_err("lost, then 429s");
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
    let (sandbox, request) = seeded(usd(5_000), usd(300)).await;
    let retry = RetryPolicy::new().max_retries(8).base_delay(Duration::from_millis(100));
    let builder = builder_for(&sandbox).attempt_timeout(Duration::from_millis(150));
    let client = builder.retry(retry).build().unwrap();
    // The first attempt times out while WooshPay commits; a retry meets 409 idempotency_key_in_use.
    sandbox.faults().push(Fault::SlowCommit(Duration::from_millis(400)), 1);
    let refund = client.create_refund(&request).await.expect("waited out");
    assert_eq!(sandbox.ledger().refund_count(), 1);
    assert_eq!(refund.id.as_str(), sandbox.ledger().refunds()[0].id);
    assert_eq!(sandbox.faults().counts().slow_commit, 1);
    assert!(
        sandbox.request_count() >= 3,
        "timeout, 409 in progress, then the replay"
    );
}
