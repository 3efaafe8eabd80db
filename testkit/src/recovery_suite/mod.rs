//! The safety review's scenarios (`../shared/safety-review.md`, findings 1–4, 10–12 and 20) on a
//! provider's own sandbox, each where the provider's capabilities make it apply. Each failed on the
//! behaviour at `140d4fb` (a last-attempt verdict, a final 409, `find_created`'s guesses, the eager
//! offset plan) and passes with the engine, [`refunds::RecoverExt`] and the hardened stream.
//!
//! Recovery compares reported creation times with the time a call started; the sandbox ledger's clock
//! is virtual, so the scenarios set the pending create's `started_at` and [`RecoveryOptions::now`] from
//! the ledger clock (see [`crate::property`]).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::Duration;

use http::Method;
use refunds::adapter::{HttpProvider, Idempotency, RetryPolicy};
use refunds::sandbox::{Fault, Ledger, RefundRecord, Sandbox, SandboxRequest, SandboxResponse, Skin};
use refunds::{
    CreateRefund, Currency, Delivery, ListRefunds, Money, PagingStyle, PaymentRef, PaymentRefKind, PendingCreate,
    RecoverExt, Recovery, RecoveryOptions, RefundProvider, RefundProviderExt, RefundStatus,
};

use crate::suite::{ProviderUnderTest, skip};
use crate::wire::fast_retry;

/// The provider's skin behind a page-size cap: a list request whose `limit` is above the cap gets the
/// provider's own 400 naming the limit (finding 20).
struct Capped<S: Skin> {
    inner: S,
    cap: Arc<AtomicU32>,
    refused: Arc<AtomicUsize>,
}

impl<S: Skin> Skin for Capped<S> {
    fn provider(&self) -> &'static str {
        self.inner.provider()
    }

    fn handle(&self, request: &SandboxRequest, ledger: &Ledger) -> SandboxResponse {
        let cap = self.cap.load(Ordering::SeqCst);
        let limit = request.query_param("limit").and_then(|v| v.parse::<u32>().ok());
        if request.method == Method::GET && cap > 0 && limit.is_some_and(|l| l > cap) {
            self.refused.fetch_add(1, Ordering::SeqCst);
            return self.inner.error_response(400, &format!("limit: must be at most {cap}"));
        }
        self.inner.handle(request, ledger)
    }

    fn error_response(&self, status: u16, message: &str) -> SandboxResponse {
        self.inner.error_response(status, message)
    }

    fn idempotency_key(&self, request: &SandboxRequest) -> Option<String> {
        self.inner.idempotency_key(request)
    }

    fn bookkeeping_read(&self, request: &SandboxRequest) -> bool {
        self.inner.bookkeeping_read(request)
    }

    fn in_progress_response(&self) -> SandboxResponse {
        self.inner.in_progress_response()
    }
}

struct Run {
    sandbox: Sandbox,
    client: Arc<dyn RefundProvider>,
    cap: Arc<AtomicU32>,
    refused: Arc<AtomicUsize>,
}

impl Run {
    fn ledger(&self) -> &Ledger {
        self.sandbox.ledger()
    }

    /// Recovery on the ledger's clock, `after` past the call's start.
    async fn recover(&self, pending: &PendingCreate, after: Duration) -> Recovery {
        let mut pending = pending.clone();
        pending.started_at = self.ledger().now();
        pending.ended_at = pending.started_at;
        let options = RecoveryOptions::new().now(self.ledger().now() + after);
        self.client.recover_with(&pending, options).await
    }
}

const SETTLED: Duration = Duration::from_secs(61);
const CURRENCY: Currency = Currency::USD;

async fn start<T: ProviderUnderTest>(retry: RetryPolicy) -> Run {
    let cap = Arc::new(AtomicU32::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    let skin = Capped {
        inner: T::skin(CURRENCY),
        cap: cap.clone(),
        refused: refused.clone(),
    };
    let sandbox = Sandbox::start(skin, T::ledger()).await.expect("bind 127.0.0.1");
    let client = T::builder(&sandbox.base_url())
        .currency(CURRENCY)
        .retry(retry)
        .attempt_timeout(Duration::from_millis(150))
        .build()
        .expect("client");
    Run {
        sandbox,
        client: Arc::new(client),
        cap,
        refused,
    }
}

fn keyed<T: ProviderUnderTest>() -> bool {
    T::Provider::SPEC.idempotency != Idempotency::None
}

fn payment<T: ProviderUnderTest>(id: &str) -> PaymentRef {
    let kind = T::Provider::SPEC
        .payment_kinds
        .first()
        .copied()
        .unwrap_or(PaymentRefKind::Payment);
    PaymentRef::new(kind, id).expect("payment id")
}

fn create<T: ProviderUnderTest>(payment_id: &str, minor: i64) -> CreateRefund {
    CreateRefund::new(payment::<T>(payment_id)).amount(Money::from_minor(minor, CURRENCY))
}

/// Finding 1: an attempt that may have been applied (its answer lost), then a 429, a 409 or a 400 as
/// the last answer. The call is `Ambiguous`, and its pending create carries the key the SDK generated
/// (the one the applied attempt sent), so recovery finds that refund and nothing is applied twice.
/// At `140d4fb` the last answer was the verdict: `Rejected`, no pending create, a fresh key on the
/// application's retry. Providers without idempotency never re-send a create after a lost answer.
pub async fn finding_1_lost_then_refusal_is_ambiguous<T: ProviderUnderTest>() {
    if !keyed::<T>() {
        skip(
            "finding 1",
            "no idempotency: a create whose answer was lost is never re-sent, so no later answer can relabel it",
        );
        return;
    }
    let refusals: [(&str, Vec<Fault>); 3] = [
        (
            "429",
            vec![
                Fault::RateLimited {
                    retry_after: Duration::ZERO,
                };
                2
            ],
        ),
        ("409", vec![Fault::AppliedThen(409); 2]),
        ("400", vec![Fault::AppliedThen(400)]),
    ];
    for (name, then) in refusals {
        let run = start::<T>(fast_retry(2)).await;
        run.ledger().seed_payment("pay_f1", Money::from_minor(10_000, CURRENCY));
        run.sandbox.faults().push(Fault::ResponseLost, 1);
        for fault in then {
            run.sandbox.faults().push(fault, 1);
        }
        let e = run
            .client
            .create_refund(&create::<T>("pay_f1", 1_000))
            .await
            .expect_err(name);
        assert_eq!(e.delivery(), Delivery::Ambiguous, "lost, then {name}: {e}");
        let pending = e.pending().expect("the pending create travels with the error");
        let key = pending
            .request
            .idempotency_key_given()
            .expect("the generated key")
            .as_str()
            .to_owned();
        let records = run.ledger().refunds();
        assert_eq!(records.len(), 1, "applied once (lost, then {name})");
        assert_eq!(
            records[0].idempotency_key.as_deref(),
            Some(key.as_str()),
            "the pending create carries the key of the applied attempt"
        );
        match run.recover(pending, SETTLED).await {
            Recovery::Applied { refund, .. } => assert_eq!(refund.id.as_str(), records[0].id),
            other => panic!("lost, then {name}: recovery {other:?}"),
        }
        assert_eq!(run.ledger().refund_count(), 1, "recovery applied nothing twice");
    }
}

/// Finding 2: the first attempt times out while the provider is still applying it (a slow commit);
/// the retries under the same key meet the provider's "in progress" 409. That 409 is retried within
/// the budget and is never a `Rejected` verdict; recovery later finds the one refund. At `140d4fb`
/// the 409 was final and `Rejected`.
pub async fn finding_2_in_progress_409_is_retried<T: ProviderUnderTest>() {
    if !keyed::<T>() {
        skip(
            "finding 2",
            "no idempotency: no same-key retry, so no in-progress answer",
        );
        return;
    }
    // The commit outlasts every retry: the call ends on the in-progress answer.
    let run = start::<T>(fast_retry(2)).await;
    run.ledger().seed_payment("pay_f2", Money::from_minor(10_000, CURRENCY));
    run.sandbox
        .faults()
        .push(Fault::SlowCommit(Duration::from_millis(900)), 1);
    let e = run
        .client
        .create_refund(&create::<T>("pay_f2", 1_000))
        .await
        .expect_err("still in progress");
    assert_eq!(e.delivery(), Delivery::Ambiguous, "never Rejected: {e}");
    assert!(
        run.sandbox.faults().counts().in_progress_answers >= 1,
        "the retry met the in-progress answer"
    );
    let pending = e.pending().expect("pending create").clone();
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(run.ledger().refund_count(), 1, "the slow commit landed");
    match run.recover(&pending, SETTLED).await {
        Recovery::Applied { refund, .. } => assert_eq!(refund.id.as_str(), run.ledger().refunds()[0].id),
        other => panic!("recovery after a slow commit: {other:?}"),
    }
    assert_eq!(run.ledger().refund_count(), 1);

    // The default policy: the in-progress answer is retried until the commit lands.
    let run = start::<T>(RetryPolicy::new()).await;
    run.ledger().seed_payment("pay_f2", Money::from_minor(10_000, CURRENCY));
    run.sandbox
        .faults()
        .push(Fault::SlowCommit(Duration::from_millis(300)), 1);
    match run.client.create_refund(&create::<T>("pay_f2", 1_000)).await {
        Ok(refund) => assert_eq!(refund.id.as_str(), run.ledger().refunds()[0].id),
        Err(e) => assert_eq!(e.delivery(), Delivery::Ambiguous, "never Rejected: {e}"),
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(run.ledger().refund_count(), 1, "one refund");
}

/// Finding 3: a look-up never answers "not applied" when it cannot know. Within the settle window an
/// empty look-up is `Unknown`; after it, `NotApplied` only where the whole list can be walked (a
/// one-page list is `Unknown`); a create by payment intent answered with a charge cannot be linked
/// (`Unknown`). At `140d4fb`, `find_created` answered `Ok([])` ("not applied") in each case.
/// Providers with idempotency resolve by re-sending, which needs no look-up.
pub async fn finding_3_lookup_never_guesses_not_applied<T: ProviderUnderTest>() {
    if keyed::<T>() {
        skip(
            "finding 3",
            "idempotency: recovery re-sends under the pending key, it never looks up",
        );
        return;
    }
    let spec = &T::Provider::SPEC;
    let single_page = spec.paging.is_none_or(|p| p.style == PagingStyle::SinglePage);

    // Not applied (a 503), asked too early, then after the settle window.
    let run = start::<T>(RetryPolicy::new()).await;
    run.ledger().seed_payment("pay_f3", Money::from_minor(10_000, CURRENCY));
    run.sandbox.faults().push(Fault::ServiceUnavailable, 1);
    let e = run
        .client
        .create_refund(&create::<T>("pay_f3", 1_000))
        .await
        .expect_err("503");
    let pending = e.pending().expect("a 503 leaves a pending create").clone();
    assert_eq!(run.ledger().refund_count(), 0);
    let early = run.recover(&pending, Duration::from_secs(1)).await;
    assert!(early.is_unknown(), "within the settle window: {early:?}");
    let late = run.recover(&pending, SETTLED).await;
    if single_page {
        assert!(late.is_unknown(), "a one-page list cannot rule it out: {late:?}");
    } else {
        assert!(matches!(late, Recovery::NotApplied { .. }), "after settling: {late:?}");
    }

    // A one-page list whose page does not reach the refund: applied, and unknown, never "not applied".
    if single_page {
        let run = start::<T>(RetryPolicy::new()).await;
        run.ledger()
            .seed_payment("pay_f3_other", Money::from_minor(10_000_000, CURRENCY));
        for _ in 0..150 {
            run.client
                .create_refund(&create::<T>("pay_f3_other", 1_000))
                .await
                .expect("filler");
        }
        run.ledger().seed_payment("pay_f3", Money::from_minor(10_000, CURRENCY));
        run.sandbox.faults().push(Fault::ResponseLost, 1);
        let e = run
            .client
            .create_refund(&create::<T>("pay_f3", 1_000))
            .await
            .expect_err("lost");
        let verdict = run.recover(e.pending().expect("pending"), SETTLED).await;
        match verdict {
            Recovery::Applied { refund: r, .. } => assert_eq!(r.payment.id(), "pay_f3"),
            Recovery::NotApplied { .. } => panic!("applied, yet 'not applied' from a one-page list"),
            _ => {}
        }
    }

    // A create by payment intent, reported by its charge: cannot be linked, so unknown.
    let kinds = spec.payment_kinds;
    if kinds.contains(&PaymentRefKind::PaymentIntent) && kinds.contains(&PaymentRefKind::Charge) {
        let run = start::<T>(RetryPolicy::new()).await;
        run.ledger()
            .seed_payment("pay_f3_intent", Money::from_minor(10_000, CURRENCY));
        run.sandbox.faults().push(Fault::ResponseLost, 1);
        let by_intent = CreateRefund::new(PaymentRef::new(PaymentRefKind::PaymentIntent, "pay_f3_intent").expect("id"))
            .amount(Money::from_minor(1_000, CURRENCY));
        let e = run.client.create_refund(&by_intent).await.expect_err("lost");
        assert_eq!(run.ledger().refund_count(), 1, "applied");
        let verdict = run.recover(e.pending().expect("pending"), SETTLED).await;
        assert!(verdict.is_unknown(), "intent vs charge: {verdict:?}");
    } else {
        skip(
            "finding 3 (intent vs charge)",
            "the provider takes one kind of payment reference",
        );
    }
}

/// Finding 4: an earlier refund of the same payment and amount is never reported as the pending
/// create's refund, whether the create was applied (its answer lost) or not (a 503). Excluded by its
/// creation time where the provider reports one; a candidate, never a verdict, where it does not. At
/// `140d4fb`, `find_created` returned the earlier refund.
pub async fn finding_4_earlier_refund_is_never_the_pending_one<T: ProviderUnderTest>() {
    for applied in [false, true] {
        let run = start::<T>(fast_retry(0)).await;
        let ledger = run.ledger();
        ledger.seed_payment("pay_f4", Money::from_minor(10_000, CURRENCY));
        ledger.insert_refund(RefundRecord::new(
            "re_yesterday",
            "pay_f4",
            Money::from_minor(1_000, CURRENCY),
            RefundStatus::Succeeded,
        ));
        ledger.advance(Duration::from_secs(86_400));
        let fault = if applied {
            Fault::ResponseLost
        } else {
            Fault::ServiceUnavailable
        };
        run.sandbox.faults().push(fault, 1);
        let e = run
            .client
            .create_refund(&create::<T>("pay_f4", 1_000))
            .await
            .expect_err("a fault");
        let pending = e.pending().expect("pending").clone();
        let verdict = run.recover(&pending, SETTLED).await;
        match &verdict {
            Recovery::Applied { refund: r, .. } => {
                assert_ne!(
                    r.id.as_str(),
                    "re_yesterday",
                    "the earlier refund taken for the pending one"
                );
                assert!(ledger.refund(r.id.as_str()).is_some(), "{r:?}");
            }
            Recovery::NotApplied { .. } => assert!(!applied, "applied, yet 'not applied'"),
            _ => {}
        }
        let held = ledger.refunds_for_payment("pay_f4").len();
        assert!(held <= 2, "at most the earlier refund and this one: {held}");
    }
}

/// Findings 10–12: the refund stream over the sandbox's lying lists (an overstated total of 10^15,
/// short pages, an item repeated across pages, a cursor that does not advance). Each walk ends or
/// errors quickly, with a bounded number of requests; a walk that ends yields every item exactly
/// once. At `140d4fb`: an allocation from the total (abort), one request per planned page, items
/// dropped after a short page, an endless loop on a repeated cursor.
pub async fn findings_10_12_stream_over_lying_lists<T: ProviderUnderTest>() {
    let Some(paging) = T::Provider::SPEC.paging else {
        skip("findings 10-12", "the provider lists no refunds");
        return;
    };
    let single_page = paging.style == PagingStyle::SinglePage;
    let lies: [(&str, Fault, usize); 4] = [
        (
            "overstated total",
            Fault::ListTotalOverstated(1_000_000_000_000_000),
            100,
        ),
        ("short page", Fault::ListShortPage, 1),
        ("repeated item", Fault::ListRepeatItem, 1),
        ("repeated cursor", Fault::ListRepeatCursor, 1_000),
    ];
    for (name, lie, times) in lies {
        if single_page && lie == Fault::ListShortPage {
            skip(
                "findings 10-12 (short page)",
                "a one-page list has no next page to find the missing item on",
            );
            continue;
        }
        let run = start::<T>(fast_retry(2)).await;
        run.ledger()
            .seed_payment("pay_lies", Money::from_minor(1_000_000, CURRENCY));
        let mut all = HashSet::new();
        for _ in 0..23 {
            let refund = run
                .client
                .create_refund(&create::<T>("pay_lies", 100))
                .await
                .expect("seed refund");
            all.insert(refund.id.as_str().to_owned());
        }
        let before = run.sandbox.request_count();
        run.sandbox.faults().push(lie.clone(), times);
        let limit = if single_page { None } else { Some(5) };
        let request = limit.map_or_else(ListRefunds::new, |l| ListRefunds::new().limit(l));
        let walked = tokio::time::timeout(Duration::from_secs(20), run.client.all_refunds(request))
            .await
            .unwrap_or_else(|_| panic!("{name}: the walk did not end"));
        let requests = run.sandbox.request_count() - before;
        assert!(requests <= 40, "{name}: {requests} requests for 23 items");
        let told = run.sandbox.faults().counts().list_lies();
        match walked {
            Ok(items) => {
                let ids: Vec<&str> = items.iter().map(|r| r.id.as_str()).collect();
                let unique: HashSet<&str> = ids.iter().copied().collect();
                assert_eq!(unique.len(), ids.len(), "{name}: an item twice: {ids:?}");
                let expected: HashSet<&str> = all.iter().map(String::as_str).collect();
                assert_eq!(unique, expected, "{name}: every item once ({told} lies told)");
            }
            Err(e) => assert!(told > 0, "{name}: an error without a lie: {e}"),
        }
    }
}

/// Finding 20: the provider refuses the page size of recovery's walk with its own 400 naming the
/// limit. Recovery does not fail because of its page size: it walks again with smaller pages and
/// answers as it would have (here: not applied after a 503, after the settle window). At `140d4fb`
/// the fallback fired only on the SDK's own `limit` field error, so the look-up failed.
pub async fn finding_20_provider_limit_error_during_recovery<T: ProviderUnderTest>() {
    let spec = &T::Provider::SPEC;
    let paged = spec.paging.filter(|p| p.style != PagingStyle::SinglePage);
    let Some(paging) = paged.filter(|_| !keyed::<T>()) else {
        skip(
            "finding 20",
            "recovery re-sends (idempotency) or the list is one page without a limit",
        );
        return;
    };
    let run = start::<T>(RetryPolicy::new()).await;
    run.ledger()
        .seed_payment("pay_f20", Money::from_minor(10_000, CURRENCY));
    run.cap.store(paging.default_limit.min(10) / 2, Ordering::SeqCst);
    run.sandbox.faults().push(Fault::ServiceUnavailable, 1);
    let e = run
        .client
        .create_refund(&create::<T>("pay_f20", 1_000))
        .await
        .expect_err("503");
    let verdict = run.recover(e.pending().expect("pending"), SETTLED).await;
    assert!(
        run.refused.load(Ordering::SeqCst) >= 1,
        "the provider refused the walk's page size"
    );
    assert!(matches!(verdict, Recovery::NotApplied { .. }), "{verdict:?}");
}

pub mod review3;

/// The safety review's scenarios as named tests for a [`ProviderUnderTest`].
#[macro_export]
macro_rules! recovery_tests {
    ($under:ty) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn safety_finding_1_lost_then_refusal_is_ambiguous() {
            $crate::recovery_suite::finding_1_lost_then_refusal_is_ambiguous::<$under>().await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn safety_finding_2_in_progress_409_is_retried() {
            $crate::recovery_suite::finding_2_in_progress_409_is_retried::<$under>().await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn safety_finding_3_lookup_never_guesses_not_applied() {
            $crate::recovery_suite::finding_3_lookup_never_guesses_not_applied::<$under>().await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn safety_finding_4_earlier_refund_is_never_the_pending_one() {
            $crate::recovery_suite::finding_4_earlier_refund_is_never_the_pending_one::<$under>().await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn safety_findings_10_12_stream_over_lying_lists() {
            $crate::recovery_suite::findings_10_12_stream_over_lying_lists::<$under>().await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn safety_finding_20_provider_limit_error_during_recovery() {
            $crate::recovery_suite::finding_20_provider_limit_error_during_recovery::<$under>().await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn review3_refused_resends_prove_nothing() {
            $crate::recovery_suite::review3::refused_resends_prove_nothing::<$under>().await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn review3_options_travel_with_the_pending_create() {
            $crate::recovery_suite::review3::options_travel_with_the_pending_create::<$under>().await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn review3_definite_refusals_carry_no_pending_create() {
            $crate::recovery_suite::review3::definite_refusals_carry_no_pending_create::<$under>().await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn review3_another_currency_is_never_ok() {
            $crate::recovery_suite::review3::another_currency_is_never_ok::<$under>().await;
        }
    };
}
