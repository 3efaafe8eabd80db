//! Stateful scenarios every provider runs against its own sandbox: the real client, the provider's
//! skin, the shared ledger. No scripted stubs: what the client sees follows from the ledger's state.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::harness::HarnessOptions;
use refunds::Currency;
use refunds::Money;
use refunds::RefundProvider;
use refunds::RefundProviderExt;
use refunds::sandbox::{Fault, Sandbox};
use refunds::{CreateRefund, ListRefunds, RefundStatus};
use refunds::{Delivery, Error, ErrorKind, PendingCreate, RecoverExt, Recovery, Refund, RefundId};
use refunds::{IdempotencyKey, PaymentRef, PaymentRefKind};

/// A provider sandbox with clients pointed at it.
#[non_exhaustive]
pub struct SandboxRun {
    /// The running sandbox.
    pub sandbox: Sandbox,
    /// A client with the right key.
    pub client: Arc<dyn RefundProvider>,
    /// A client with a wrong key.
    pub wrong_key_client: Arc<dyn RefundProvider>,
}

impl SandboxRun {
    /// A run.
    pub fn new(sandbox: Sandbox, client: Arc<dyn RefundProvider>, wrong_key_client: Arc<dyn RefundProvider>) -> Self {
        SandboxRun {
            sandbox,
            client,
            wrong_key_client,
        }
    }

    fn payment(&self, id: &str) -> PaymentRef {
        let kind = self
            .client
            .info()
            .capabilities
            .payment_kinds
            .first()
            .copied()
            .unwrap_or(PaymentRefKind::Payment);
        PaymentRef::new(kind, id).expect("valid id")
    }
}

/// Starts a provider's sandbox and clients for each scenario.
#[async_trait]
pub trait SandboxHarness: Send + Sync {
    /// A fresh sandbox (empty ledger) and clients built with `options` (currency, retries, timeout).
    async fn start(&self, options: HarnessOptions) -> SandboxRun;
}

fn money(minor: i64, currency: Currency) -> Money {
    Money::from_minor(minor, currency)
}

/// Create a partial and a full refund, retrieve them, list them, settle, see them succeeded.
pub async fn create_get_list_settle(h: &dyn SandboxHarness, currency: Currency) {
    let run = h.start(HarnessOptions::new(currency, 0)).await;
    let client = &run.client;
    run.sandbox.ledger().seed_payment("pay_sbx_1", money(10_000, currency));
    let partial = client
        .create_refund(&CreateRefund::new(run.payment("pay_sbx_1")).amount(money(2_500, currency)))
        .await
        .expect("partial");
    assert_eq!(partial.amount, money(2_500, currency));
    let full = client
        .create_refund(&CreateRefund::new(run.payment("pay_sbx_1")))
        .await
        .expect("full");
    assert_eq!(full.amount, money(7_500, currency), "full refund takes what is left");
    assert_ne!(partial.id, full.id);
    assert_eq!(run.sandbox.ledger().refund_count(), 2);
    run.sandbox.ledger().settle_all();
    if client.info().capabilities.retrieve {
        let got = client.get_refund(&partial.id).await.expect("get");
        assert_eq!(got.amount, partial.amount);
        assert_eq!(got.status, RefundStatus::Succeeded, "settled");
    }
    if client.info().capabilities.list.is_some() {
        let all = client.all_refunds(ListRefunds::new()).await.expect("list");
        let ids: Vec<_> = all.iter().map(|r| r.id.clone()).collect();
        assert!(ids.contains(&partial.id) && ids.contains(&full.id), "{ids:?}");
        assert_eq!(all.len(), 2, "each once");
    }
}

/// Refunds until the balance is exhausted, then the rejections.
pub async fn balance_exhausted(h: &dyn SandboxHarness) {
    let currency = Currency::USD;
    let run = h.start(HarnessOptions::new(currency, 0)).await;
    run.sandbox.ledger().seed_payment("pay_sbx_bal", money(1_000, currency));
    let client = &run.client;
    let pay = run.payment("pay_sbx_bal");
    client
        .create_refund(&CreateRefund::new(pay.clone()).amount(money(600, currency)))
        .await
        .expect("first");
    let over = client
        .create_refund(&CreateRefund::new(pay.clone()).amount(money(600, currency)))
        .await
        .expect_err("over");
    assert!(
        matches!(over.kind(), ErrorKind::AmountExceedsRefundable | ErrorKind::Validation),
        "{over}"
    );
    assert_eq!(over.delivery(), Delivery::Rejected);
    client
        .create_refund(&CreateRefund::new(pay.clone()).amount(money(400, currency)))
        .await
        .expect("rest");
    let done = client
        .create_refund(&CreateRefund::new(pay))
        .await
        .expect_err("nothing left");
    assert!(
        matches!(
            done.kind(),
            ErrorKind::AlreadyRefunded | ErrorKind::AmountExceedsRefundable | ErrorKind::Validation
        ),
        "{done}"
    );
    assert_eq!(run.sandbox.ledger().refund_count(), 2);
}

/// A repeated key returns the original refund; a reused key with another amount is a conflict.
/// Providers without idempotency claim nothing: the same request twice is two refunds.
pub async fn idempotent_replay(h: &dyn SandboxHarness) {
    let currency = Currency::USD;
    let run = h.start(HarnessOptions::new(currency, 0)).await;
    run.sandbox
        .ledger()
        .seed_payment("pay_sbx_idem", money(5_000, currency));
    if !run.client.info().capabilities.idempotency.is_native() {
        // Nothing de-duplicates: the SDK claims nothing (a caller's key is refused before sending),
        // and two creates are two refunds.
        let key = IdempotencyKey::new("sandbox-replay-none").unwrap();
        let keyed = CreateRefund::new(run.payment("pay_sbx_idem"))
            .amount(money(1_000, currency))
            .idempotency_key(key);
        let e = run
            .client
            .create_refund(&keyed)
            .await
            .expect_err("a key it cannot honour");
        assert_eq!(e.field(), Some("idempotency_key"), "{e}");
        assert_eq!(e.delivery(), refunds::Delivery::NotSent);
        assert_eq!(run.sandbox.ledger().refund_count(), 0);
        let request = CreateRefund::new(run.payment("pay_sbx_idem")).amount(money(1_000, currency));
        let first = run.client.create_refund(&request).await.expect("first");
        let second = run.client.create_refund(&request).await.expect("second");
        assert_ne!(first.id, second.id);
        assert_eq!(run.sandbox.ledger().refund_count(), 2);
        return;
    }
    replay_then_conflict(&run.sandbox, run.client.as_ref(), run.payment("pay_sbx_idem")).await;
}

/// Under one key, a create of 10.00 (of `payment`, seeded with 50.00 or more) sent twice is one
/// refund; the key reused for 20.00 is an `IdempotencyConflict` and creates nothing. Returns the
/// conflict for the provider's own checks of its shape.
pub async fn replay_then_conflict(sandbox: &Sandbox, client: &dyn RefundProvider, payment: PaymentRef) -> Error {
    let currency = Currency::USD;
    let key = IdempotencyKey::new("sandbox-replay-1").unwrap();
    let request = CreateRefund::new(payment.clone())
        .amount(money(1_000, currency))
        .idempotency_key(key.clone());
    let first = client.create_refund(&request).await.expect("first");
    let again = client.create_refund(&request).await.expect("replay");
    assert_eq!(first.id, again.id);
    assert_eq!(sandbox.ledger().refund_count(), 1, "one refund");
    let other = CreateRefund::new(payment)
        .amount(money(2_000, currency))
        .idempotency_key(key);
    let e = client.create_refund(&other).await.expect_err("conflict");
    assert_eq!(e.kind(), &ErrorKind::IdempotencyConflict, "{e}");
    assert_eq!(sandbox.ledger().refund_count(), 1);
    e
}

/// A keyed create of `request` applied with its answer lost, then answered 429 by each of the
/// client's `retries` re-sends (which the provider replays): the call is `Ambiguous`, one refund
/// exists under the generated key the pending create carries, and recovery re-sends it and answers
/// `Applied` with that refund, still one. Returns the pending create and the recovered refund.
pub async fn lost_then_429s_recovered(
    sandbox: &Sandbox,
    client: &dyn RefundProvider,
    request: &CreateRefund,
    retries: usize,
) -> (PendingCreate, Refund) {
    sandbox.faults().push(Fault::ResponseLost, 1);
    sandbox.faults().push(Fault::AppliedThen(429), retries);
    let e = client.create_refund(request).await.expect_err("lost, then 429s");
    assert_eq!(e.delivery(), Delivery::Ambiguous, "{e}");
    assert_eq!(sandbox.ledger().refund_count(), 1, "one key, one refund");
    let pending = e.pending().expect("the pending create travels with the error").clone();
    let key = pending.request.idempotency_key_given().expect("the generated key");
    assert!(key.as_str().starts_with("rfd_"), "{key:?}");
    let applied = sandbox.ledger().refunds()[0].clone();
    assert_eq!(applied.idempotency_key.as_deref(), Some(key.as_str()));
    let Recovery::Applied { refund, .. } = client.recover(&pending).await else {
        panic!("the re-send answers with the refund");
    };
    assert_eq!(
        (refund.id.as_str(), refund.amount),
        (applied.id.as_str(), applied.amount)
    );
    assert_eq!(Some(&refund.amount), request.amount_requested());
    assert_eq!(
        sandbox.ledger().refund_count(),
        1,
        "the original refund, not a second one"
    );
    (pending, *refund)
}

/// `n` refunds of 4.00 USD, each of its own payment (`pay_0`, `pay_1`, ..., seeded with 10.00), the
/// ledger clock a minute further after each, so that creation times order them; their ids in
/// creation order.
pub async fn refunds_a_minute_apart(sandbox: &Sandbox, client: &dyn RefundProvider, n: usize) -> Vec<RefundId> {
    let kind = client.info().capabilities.payment_kinds.first().copied();
    let mut ids = Vec::new();
    for i in 0..n {
        let id = format!("pay_{i}");
        sandbox.ledger().seed_payment(&id, money(1_000, Currency::USD));
        let payment = PaymentRef::new(kind.unwrap_or(PaymentRefKind::Payment), &id).expect("payment id");
        let request = CreateRefund::new(payment).amount(money(400, Currency::USD));
        ids.push(client.create_refund(&request).await.expect("create").id);
        sandbox.ledger().advance(Duration::from_secs(60));
    }
    ids
}

/// A wrong key gets the provider's 401.
pub async fn wrong_key_is_refused(h: &dyn SandboxHarness) {
    let run = h.start(HarnessOptions::new(Currency::USD, 0)).await;
    run.sandbox
        .ledger()
        .seed_payment("pay_sbx_key", money(1_000, Currency::USD));
    let e = run
        .wrong_key_client
        .create_refund(&CreateRefund::new(run.payment("pay_sbx_key")))
        .await
        .expect_err("401");
    assert_eq!(e.kind(), &ErrorKind::Authentication, "{e}");
    assert_eq!(e.http_status(), Some(401));
    assert_eq!(run.sandbox.ledger().refund_count(), 0);
}

/// Each fault kind reaches the client as the right error.
pub async fn faults_reach_the_client(h: &dyn SandboxHarness) {
    let currency = Currency::USD;
    let run = h
        .start(HarnessOptions::new(currency, 0).timeout(Duration::from_millis(400)))
        .await;
    let ledger = run.sandbox.ledger();
    ledger.seed_payment("pay_sbx_fault", money(100_000, currency));
    let faults = run.sandbox.faults();
    let create = || CreateRefund::new(run.payment("pay_sbx_fault")).amount(money(100, currency));

    faults.push(Fault::ServiceUnavailable, 1);
    let e = run.client.create_refund(&create()).await.expect_err("503");
    assert_eq!(e.kind(), &ErrorKind::ProviderUnavailable, "{e}");
    assert_eq!(e.http_status(), Some(503));
    assert_eq!(e.delivery(), Delivery::Ambiguous);

    faults.push(
        Fault::RateLimited {
            retry_after: Duration::from_secs(3),
        },
        1,
    );
    let e = run.client.create_refund(&create()).await.expect_err("429");
    assert_eq!(e.kind(), &ErrorKind::RateLimited, "{e}");
    assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
    // A keyed create's 429 may hide an apply (the verdict rules); without a key it is taken at its word.
    let keyed = run.client.info().capabilities.idempotency.is_native();
    let expected = if keyed { Delivery::Ambiguous } else { Delivery::Rejected };
    assert_eq!(e.delivery(), expected);
    assert_eq!(e.pending().is_some(), keyed);

    faults.push(Fault::ConnectionReset, 1);
    let e = run.client.create_refund(&create()).await.expect_err("reset");
    assert_eq!(e.kind(), &ErrorKind::Transport, "{e}");
    assert_eq!(e.delivery(), Delivery::Ambiguous);

    faults.push(Fault::Delay(Duration::from_secs(2)), 1);
    let e = run.client.create_refund(&create()).await.expect_err("timeout");
    assert_eq!(e.kind(), &ErrorKind::Timeout, "{e}");
    assert_eq!(e.delivery(), Delivery::Ambiguous);

    let before = ledger.refund_count();
    faults.push(Fault::ResponseLost, 1);
    let e = run.client.create_refund(&create()).await.expect_err("lost");
    assert_eq!(e.delivery(), Delivery::Ambiguous, "{e}");
    assert_eq!(
        ledger.refund_count(),
        before + 1,
        "applied although the answer was lost"
    );
    let pending = e.pending_create().expect("the request travels with the error");
    // The same refund; a provider may add the idempotency key or reference it generated, so that
    // re-sending the pending request is safe.
    assert_eq!(pending.payment(), create().payment());
    assert_eq!(pending.amount_requested(), create().amount_requested());
    assert_eq!(faults.counts().total(), 5);
}

/// One `#[tokio::test]` per sandbox scenario, against the [`SandboxHarness`] expression given.
#[macro_export]
macro_rules! sandbox_tests {
    ($harness:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn sandbox_create_get_list_settle() {
            $crate::sandbox_suite::create_get_list_settle(&$harness, $crate::refunds::Currency::USD).await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn sandbox_balance_exhausted() {
            $crate::sandbox_suite::balance_exhausted(&$harness).await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn sandbox_idempotent_replay() {
            $crate::sandbox_suite::idempotent_replay(&$harness).await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn sandbox_wrong_key_is_refused() {
            $crate::sandbox_suite::wrong_key_is_refused(&$harness).await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn sandbox_faults_reach_the_client() {
            $crate::sandbox_suite::faults_reach_the_client(&$harness).await;
        }
    };
}
