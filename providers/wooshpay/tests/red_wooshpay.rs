//! Red-team attack B9 (fixed: the test now holds the defence): a re-send of the pending create with `create_refund` (the WooshPay README's
//! recipe, "Send it again") that itself ends ambiguous yields a *new* pending create whose
//! `started_at` is the re-send's. Recovery computes the key-retention cutoff from it, so it re-sends
//! the key after the provider has forgotten it (retention counts from the key's first use, the
//! original call): the re-send is a fresh create, and the payment is refunded twice. The original
//! pending create, recovered at the same moment, correctly answers `Unknown(key_expired)`.
//!
//! Scaled down with the documented `RecoveryOptions::key_retention` (4 s, skew 1 s): the original call
//! at t0, the README's re-send at t0 + 2.5 s (503s: nothing applied, ambiguous), the provider forgets
//! the key at t0 + 4 s, recovery at t0 + 4.5 s. With WooshPay's 24 h: create at 09:00, the README's
//! re-send at 10:00, recovery the next day at 09:30.

use std::time::Duration;

use refunds::sandbox::Fault;
use refunds::{CreateRefund, Currency, Money, OffsetDateTime, PaymentRef, RecoverExt, RecoveryOptions, RefundProvider};
use refunds_testkit::fast_retry;
use refunds_wooshpay::sandbox;

async fn sleep_until(at: OffsetDateTime) {
    let now = OffsetDateTime::now_utc();
    if at > now {
        tokio::time::sleep(Duration::try_from(at - now).unwrap()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn red_readme_resend_restarts_the_key_clock_and_recovery_refunds_twice() {
    let sandbox = sandbox::start().await.unwrap();
    sandbox
        .ledger()
        .seed_payment("pi_red_clock", Money::from_minor(10_000, Currency::EUR));
    let client = sandbox::builder_for(&sandbox)
        .retry(fast_retry(2))
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    let request = CreateRefund::new(PaymentRef::payment_intent("pi_red_clock").unwrap())
        .amount(Money::from_minor(1000, Currency::EUR));
    // The original call: applied, every answer lost (its retries replay the key and are lost too).
    sandbox.faults().push(Fault::ResponseLost, 3);
    let e = client.create_refund(&request).await.unwrap_err();
    let original = e.pending().unwrap().clone();
    let key = original.request.idempotency_key_given().unwrap().as_str().to_owned();
    let t0 = original.started_at;
    assert_eq!(sandbox.ledger().refunds().len(), 1);

    // The WooshPay README said "Send it again" with `create_refund(pending)`: the fix refuses that
    // before sending (the request carries the SDK's marker), so no second pending create restarts the
    // key's clock; the README now points to `recover`.
    sleep_until(t0 + Duration::from_millis(2_500)).await;
    let again = client.create_refund(e.pending_create().unwrap()).await.unwrap_err();
    assert_eq!(again.delivery(), refunds::Delivery::NotSent, "{again}");
    assert_eq!(again.field(), Some("metadata"), "{again}");
    assert!(again.pending().is_none());

    // The provider keeps keys 4 s from their first use (t0); recovery after it never re-sends.
    sleep_until(t0 + Duration::from_secs(4)).await;
    assert!(sandbox.ledger().forget_idempotency_key(&key));
    sleep_until(t0 + Duration::from_millis(4_500)).await;
    let options = RecoveryOptions::new()
        .key_retention(Duration::from_secs(4))
        .clock_skew(Duration::from_secs(1));
    let verdict = client.recover_with(&original, options).await;
    assert!(
        matches!(
            verdict,
            refunds::Recovery::Applied { .. } | refunds::Recovery::Unknown { .. }
        ),
        "{verdict}"
    );
    let refunds = sandbox.ledger().refunds_for_payment("pi_red_clock");
    assert_eq!(refunds.len(), 1, "one intended refund, {} made", refunds.len());
}
