//! Red-team attacks on the verdict rules (RELIABILITY.md, "Verdict rules"), core only: the reference
//! provider and its sandbox skin. Each test asserts the guarantee; a failing test is a confirmed break.

mod common;

use std::time::Duration;

use common::reference::{ReferenceClient, ReferenceOnce};
use common::reference_skin::{KEY, ReferenceSkin};
use refunds::adapter::Client;
use refunds::sandbox::{Fault, Ledger, Sandbox};
use refunds::{
    CreateRefund, Currency, Delivery, Money, OffsetDateTime, PaymentRef, RecoverExt, RecoveryOptions, RefundProvider,
};
use refunds_testkit::fast_retry;

async fn sandbox() -> Sandbox {
    let sandbox = Sandbox::start(ReferenceSkin, Ledger::new("re_")).await.expect("bind");
    sandbox
        .ledger()
        .seed_payment("pay_1", Money::from_minor(100_000, Currency::USD));
    sandbox
}

fn ten_dollars() -> CreateRefund {
    CreateRefund::new(PaymentRef::payment("pay_1").unwrap()).amount(Money::from_minor(1_000, Currency::USD))
}

fn std_since(from: OffsetDateTime, to: OffsetDateTime) -> Duration {
    Duration::try_from(to - from).unwrap_or_default()
}

async fn sleep_until(at: OffsetDateTime) {
    let now = OffsetDateTime::now_utc();
    if at > now {
        tokio::time::sleep(std_since(now, at)).await;
    }
}

/// B1. A re-send made just before the key-retention cutoff is itself an attempt of the create: it can
/// be applied up to the settle window after *it* ended. Recovery counts the look-up's settle window
/// from the cutoff instead (`rules::resend_cutoff`, `recover_with`: `ended = ended.max(cutoff)`), so
/// the next recovery answers `NotApplied` while the re-send may still commit; the application
/// creates again and the payment is refunded twice.
///
/// Scaled down with the documented options (settle 3 s, skew 1 s, key retention 3 s: the cutoff is
/// 2 s after the call started); with the defaults the same happens to a re-send started in the last
/// minute before `started_at + 24 h - 5 min`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn red_resend_before_key_cutoff_then_lookup_says_not_applied_while_resend_commits() {
    let sandbox = sandbox().await;
    let client = ReferenceClient::builder()
        .api_key(KEY)
        .base_url(sandbox.base_url())
        .retry(fast_retry(2))
        .timeout(Duration::from_secs(4))
        .build()
        .unwrap();
    // The create meets 503 on every attempt: nothing applied, the call is ambiguous.
    sandbox.faults().push(Fault::ServiceUnavailable, 3);
    let error = client.create_refund(&ten_dollars()).await.unwrap_err();
    let pending = error
        .pending()
        .expect("an ambiguous create carries a pending create")
        .clone();
    assert!(sandbox.ledger().refunds().is_empty());
    let t0 = pending.started_at;
    let settle = Duration::from_secs(3);
    let options = RecoveryOptions::new()
        .settle(settle)
        .clock_skew(Duration::from_secs(1))
        .key_retention(Duration::from_secs(3));

    // Recovery #1 at t0 + 1.5 s, before the cutoff (t0 + 2 s): the identical request is re-sent. The
    // provider takes it and commits it 6 s later (the client gives up at its 4 s deadline).
    sleep_until(t0 + Duration::from_millis(1_500)).await;
    sandbox.faults().push(Fault::SlowCommit(Duration::from_secs(6)), 1);
    let first = client.recover_with(&pending, options.clone()).await;
    let resend_ended = OffsetDateTime::now_utc();
    eprintln!("recovery #1: {first}");
    assert!(first.is_unknown(), "{first}");

    // Recovery #2, at once (the recipe: recover again). The re-send ended less than the settle window
    // ago, so the provider may still apply it: the rule allows only `Unknown(not_settled)`.
    let second = client.recover_with(&pending, options.clone()).await;
    let asked = OffsetDateTime::now_utc();
    eprintln!(
        "recovery #2 ({:?} after the re-send ended): {second}",
        std_since(resend_ended, asked)
    );
    assert!(std_since(resend_ended, asked) < settle);

    // The application follows the verdict.
    let mut created_again = false;
    if second.is_not_applied() {
        created_again = client.create_refund(&ten_dollars()).await.is_ok();
    }
    sleep_until(resend_ended + settle).await;
    let refunds: Vec<_> = sandbox
        .ledger()
        .refunds()
        .into_iter()
        .filter(|r| r.payment_id == "pay_1")
        .collect();
    eprintln!(
        "created again: {created_again}; refunds of pay_1 now: {:?}",
        refunds.iter().map(|r| (&r.id, r.amount)).collect::<Vec<_>>()
    );
    assert!(
        !second.is_not_applied(),
        "NotApplied {:?} after a re-send that ended inside the settle window (it committed later): {second}",
        std_since(resend_ended, asked)
    );
    assert_eq!(refunds.len(), 1, "one intended refund, applied {} times", refunds.len());
}

/// B1 with the defaults (settle 60 s, skew 5 min, 24 h retention): the clock is moved with the
/// documented `RecoveryOptions::now`. The re-send starts 1 s before the cutoff and lasts the client's
/// deadline (3 s here; 60 s by default), so it ends after the cutoff; the provider commits it after the
/// client gave up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn red_resend_before_key_cutoff_defaults() {
    let sandbox = sandbox().await;
    let client = ReferenceClient::builder()
        .api_key(KEY)
        .base_url(sandbox.base_url())
        .retry(fast_retry(2))
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    sandbox.faults().push(Fault::ServiceUnavailable, 3);
    let error = client.create_refund(&ten_dollars()).await.unwrap_err();
    let pending = error.pending().expect("pending").clone();
    let cutoff = pending.started_at + Duration::from_secs(24 * 3600 - 300);
    sandbox.faults().push(Fault::SlowCommit(Duration::from_secs(5)), 1);
    let at_first = cutoff - Duration::from_secs(1);
    let real_start = std::time::Instant::now();
    let first = client
        .recover_with(&pending, RecoveryOptions::new().now(at_first))
        .await;
    let took = real_start.elapsed();
    eprintln!("recovery #1 at cutoff - 1 s, re-send took {took:?}: {first}");
    assert!(first.is_unknown(), "{first}");
    // On the caller's clock the re-send ended at `at_first + took`; the provider may apply it for 60 s
    // more. Recover again 59 s after it ended.
    let resend_ended = at_first + took;
    let at_second = resend_ended + Duration::from_secs(59);
    assert!(at_second > cutoff + Duration::from_secs(60));
    let second = client
        .recover_with(&pending, RecoveryOptions::new().now(at_second))
        .await;
    eprintln!("recovery #2, 59 s after the re-send ended: {second}");
    assert!(
        !second.is_not_applied(),
        "NotApplied 59 s after a re-send ended (settle window 60 s): {second}"
    );
}

/// B3. An unkeyed create answered 409 is `Rejected` with no pending create. The stated assumption
/// is "a 4xx other than 408/409/429 means not applied": 409 is excluded from it, and only an unkeyed
/// 429 is declared truthful. Nothing in the rules says an unkeyed 409 proves nothing was applied, yet
/// the recipe's `(None, None)` arm ("refused or not sent: nothing was applied") is what the
/// application gets, and it creates again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn red_unkeyed_create_applied_then_409_is_rejected_without_pending() {
    let sandbox = sandbox().await;
    let client = Client::<ReferenceOnce>::builder()
        .api_key(KEY)
        .base_url(sandbox.base_url())
        .retry(fast_retry(2))
        .timeout(Duration::from_secs(4))
        .build()
        .unwrap();
    sandbox.faults().push(Fault::AppliedThen(409), 1);
    let error = client.create_refund(&ten_dollars()).await.unwrap_err();
    eprintln!(
        "delivery {:?}, pending {}, retryable {}: {error}",
        error.delivery(),
        error.pending().is_some(),
        error.is_retryable()
    );
    let recipe_says_nothing_applied = error.refund().is_none() && error.pending().is_none();
    if recipe_says_nothing_applied {
        let _ = client.create_refund(&ten_dollars()).await;
    }
    let applied = sandbox.ledger().refunds().len();
    assert!(
        !recipe_says_nothing_applied,
        "an unkeyed 409 (not covered by any stated assumption) was reported as a definite refusal \
         (delivery {:?}); the recipe created again: {applied} refunds for one",
        error.delivery()
    );
    assert_eq!(error.delivery(), Delivery::Ambiguous);
}

/// Control for B3: the same provider answering 429 after applying is inside a stated assumption
/// ("an unkeyed provider's 429 is truthful"), so it is listed only to separate the two.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn red_control_unkeyed_429_is_taken_at_its_word() {
    let sandbox = sandbox().await;
    let client = Client::<ReferenceOnce>::builder()
        .api_key(KEY)
        .base_url(sandbox.base_url())
        .retry(fast_retry(0))
        .build()
        .unwrap();
    sandbox.faults().push(Fault::AppliedThen(429), 1);
    let error = client.create_refund(&ten_dollars()).await.unwrap_err();
    assert_eq!(error.delivery(), Delivery::Rejected);
    assert!(error.pending().is_none());
}
