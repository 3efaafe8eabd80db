//! The third safety review's findings on each provider's own sandbox (its error shapes, its "in
//! progress" answer, its options): what a refusal proves, that a re-send is the identical request, and
//! that an answer in another currency is never `Ok`.

use super::*;
use refunds::{Doubt, ErrorKind, Evidence};

/// Finding 1: a re-send refused for a reason that proves nothing (the provider's own "in progress"
/// answer, a two-minute 429, 401, 403, 404) is `Unknown`, never `NotApplied`; the re-send that gets
/// through applies the create once.
pub async fn refused_resends_prove_nothing<T: ProviderUnderTest>() {
    if !keyed::<T>() {
        skip("review 3 finding 1", "no idempotency: recovery never re-sends");
        return;
    }
    let run = start::<T>(fast_retry(2)).await;
    run.ledger().seed_payment("pay_r1", Money::from_minor(10_000, CURRENCY));
    run.sandbox.faults().push(Fault::ServiceUnavailable, 3);
    let e = run
        .client
        .create_refund(&create::<T>("pay_r1", 1_000))
        .await
        .expect_err("503s");
    let pending = e.pending().expect("pending").clone();
    let refusals = [
        (Fault::InProgress, Doubt::InProgress),
        (
            Fault::RateLimited {
                retry_after: Duration::from_secs(120),
            },
            Doubt::RateLimited,
        ),
        (Fault::Refuse(401), Doubt::NotAuthorized),
        (Fault::Refuse(403), Doubt::NotAuthorized),
        (Fault::Refuse(404), Doubt::NotFound),
    ];
    for (fault, doubt) in refusals {
        run.sandbox.faults().push(fault.clone(), 3);
        let verdict = run.recover(&pending, SETTLED).await;
        run.sandbox.faults().clear();
        match &verdict {
            Recovery::Unknown { doubt: seen, .. } => assert_eq!(*seen, doubt, "{fault:?}: {verdict}"),
            other => panic!("{fault:?}: {other}"),
        }
    }
    assert_eq!(run.ledger().refund_count(), 0, "nothing applied meanwhile");
    let verdict = run.recover(&pending, SETTLED).await;
    assert!(
        matches!(
            &verdict,
            Recovery::Applied {
                evidence: Evidence::SameKey { .. },
                ..
            }
        ),
        "{verdict}"
    );
    assert_eq!(run.ledger().refund_count(), 1);
}

/// Finding 2: a create with the provider's own options leaves a pending create that keeps them, and
/// the re-send is the identical request.
pub async fn options_travel_with_the_pending_create<T: ProviderUnderTest>() {
    let Some(options) = T::sample_options() else {
        skip("review 3 finding 2", "the provider has no create options of its own");
        return;
    };
    let sandbox = Sandbox::start(T::skin(CURRENCY), T::ledger()).await.expect("bind");
    sandbox
        .ledger()
        .seed_payment("pay_r2", Money::from_minor(10_000, CURRENCY));
    let client = T::builder(&sandbox.base_url())
        .currency(CURRENCY)
        .retry(fast_retry(2))
        .build()
        .expect("client");
    sandbox.faults().push(Fault::ServiceUnavailable, 3);
    let e = client
        .create_refund_with_provider_options(&create::<T>("pay_r2", 1_000), &refunds::CallOptions::new(), &options)
        .await
        .expect_err("503s");
    let pending = e.pending().expect("pending").clone();
    assert!(pending.provider_options.is_some(), "the options are kept");
    let pending: PendingCreate = serde_json::from_str(&serde_json::to_string(&pending).unwrap()).unwrap();
    let verdict = client
        .recover_with(&pending, RecoveryOptions::new().settle(Duration::ZERO))
        .await;
    assert!(verdict.is_applied(), "{verdict}");
    assert_eq!(sandbox.changed_resends(), 0, "the re-send was the identical request");
}

/// The ecosystem review's problem 1: a definite refusal (over-refund, unknown payment) is
/// `Rejected` with no pending create, on every provider.
pub async fn definite_refusals_carry_no_pending_create<T: ProviderUnderTest>() {
    let run = start::<T>(fast_retry(2)).await;
    run.ledger().seed_payment("pay_r3", Money::from_minor(1_000, CURRENCY));
    for (payment, minor) in [("pay_r3", 5_000), ("pay_r3_unknown", 100)] {
        let e = run
            .client
            .create_refund(&create::<T>(payment, minor))
            .await
            .expect_err("refused");
        assert_eq!(e.delivery(), Delivery::Rejected, "{payment}: {e}");
        assert!(e.pending().is_none(), "{payment}: {e}");
    }
    assert_eq!(run.ledger().refund_count(), 0);
}

/// Finding 7: a create in another currency than the payment's is refused before sending, or answered
/// with an error carrying the refund: never `Ok` in another currency.
pub async fn another_currency_is_never_ok<T: ProviderUnderTest>() {
    let sandbox = Sandbox::start(T::skin(CURRENCY), T::ledger()).await.expect("bind");
    sandbox
        .ledger()
        .seed_payment("pay_r7", Money::from_minor(10_000, CURRENCY));
    let mut builder = T::builder(&sandbox.base_url()).retry(fast_retry(0));
    if T::Provider::SPEC.currency != refunds::adapter::AccountCurrency::OnTheWire {
        builder = builder.currency(CURRENCY);
    }
    let client = builder.build().expect("client");
    let other = Money::from_minor(1_000, Currency::EUR);
    let request = CreateRefund::new(payment::<T>("pay_r7")).amount(other);
    match client.create_refund(&request).await {
        Ok(refund) => assert_eq!(refund.amount, other, "Ok only as asked: {refund:?}"),
        Err(e) if e.delivery() == Delivery::Applied => {
            assert!(matches!(e.kind(), ErrorKind::AnswerMismatch { .. }), "{e}");
            assert!(e.refund().is_some());
        }
        Err(e) => assert_ne!(e.delivery(), Delivery::Ambiguous, "{e}"),
    }
}
