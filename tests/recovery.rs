//! Recovery never guesses: safety-review findings 3 and 4 as tests.
//!
//! End to end on the reference sandbox (a provider that de-duplicates: re-send), and the look-up
//! rules on a scripted provider whose list says exactly what each case needs.

mod common;

use std::time::Duration;

use common::listed::Listed;
use common::reference::Reference;
use common::reference_skin::{KEY, ReferenceSkin};
use refunds::sandbox::{Fault, Ledger, Sandbox};
use refunds::{
    CreateRefund, Currency, Delivery, Money, PagingStyle, PaymentRef, PaymentRefKind, PendingCreate, RawJson,
    RecoverExt, Recovery, RecoveryOptions, Refund, RefundId, RefundProvider, RefundStatus,
};
use refunds_testkit::HarnessOptions;
use time::OffsetDateTime;
use time::macros::datetime;

fn usd(minor: i64) -> Money {
    Money::from_minor(minor, Currency::USD)
}

#[tokio::test]
async fn a_lost_keyed_create_is_resolved_by_re_sending_it() {
    for fault in [Fault::ResponseLost, Fault::ServiceUnavailable] {
        let sandbox = Sandbox::start(ReferenceSkin, Ledger::new("re_")).await.unwrap();
        sandbox.ledger().seed_payment("pay_1", usd(10_000));
        let client = Reference::client(&sandbox.base_url(), KEY, &HarnessOptions::new(Currency::USD, 0)).unwrap();
        sandbox.faults().push(fault.clone(), 1);
        let e = client
            .create_refund(&CreateRefund::new(PaymentRef::payment("pay_1").unwrap()).amount(usd(1_000)))
            .await
            .expect_err("lost");
        assert_eq!(e.delivery(), Delivery::Ambiguous);
        let pending = e.pending().expect("pending").clone();
        // Stored and read back, as an application (or the command line) does.
        let pending: PendingCreate = serde_json::from_str(&serde_json::to_string(&pending).unwrap()).unwrap();
        match client.recover(&pending).await {
            Recovery::Applied { refund, .. } => {
                assert_eq!(sandbox.ledger().refund_count(), 1, "{fault:?}: exactly one refund");
                assert_eq!(refund.id.as_str(), sandbox.ledger().refunds()[0].id);
            }
            other => panic!("{fault:?}: {other:?}"),
        }
    }
}

const STARTED: OffsetDateTime = datetime!(2026-11-30 12:00 UTC);

fn refund(id: &str, payment: PaymentRef, minor: i64, created: Option<OffsetDateTime>) -> Refund {
    Refund::new(
        RefundId::new(id).unwrap(),
        "listed",
        payment,
        usd(minor),
        RefundStatus::Succeeded,
        RawJson::parse(&format!("{{\"id\":\"{id}\"}}")).unwrap(),
    )
    .with_created_at(created)
}

fn pay() -> PaymentRef {
    PaymentRef::payment("pay_1").unwrap()
}

fn pending(request: CreateRefund) -> PendingCreate {
    PendingCreate::new(request, "listed", STARTED)
}

fn settled() -> RecoveryOptions {
    RecoveryOptions::new().now(STARTED + Duration::from_secs(120))
}

#[tokio::test]
async fn yesterdays_refund_is_never_taken_for_todays() {
    let today = pending(CreateRefund::new(pay()).amount(usd(1_000)));
    // Finding 4: the provider reports creation times, so yesterday's refund is excluded.
    let yesterday = refund("re_old", pay(), 1_000, Some(STARTED - Duration::from_secs(86_400)));
    let listed = Listed::new(PagingStyle::Offset, vec![yesterday]);
    assert!(matches!(
        listed.recover_with(&today, settled()).await,
        Recovery::NotApplied { .. }
    ));
    // Without creation times (4Geeks) it cannot be excluded: a candidate, never "applied".
    let undated = refund("re_old", pay(), 1_000, None);
    let listed = Listed::new(PagingStyle::Offset, vec![undated]);
    match listed.recover_with(&today, settled()).await {
        Recovery::Candidates { refunds: found, .. } => assert_eq!(found.len(), 1),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_dated_refund_after_the_call_started_is_the_one_only_when_declared_exclusive() {
    let today = pending(CreateRefund::new(pay()).amount(usd(1_000)));
    let skewed = refund("re_new", pay(), 1_000, Some(STARTED - Duration::from_secs(30)));
    let other_amount = refund("re_other", pay(), 999, Some(STARTED + Duration::from_secs(1)));
    let listed = Listed::new(PagingStyle::Cursor, vec![other_amount, skewed]);
    // Safety review 3, finding 3: another actor may have made it; without a marker or the caller's
    // word that nobody else refunds this payment, it is a candidate, never "applied".
    match listed.recover_with(&today, settled()).await {
        Recovery::Candidates { refunds: found, .. } => assert_eq!(found[0].id.as_str(), "re_new"),
        other => panic!("{other:?}"),
    }
    match listed.recover_with(&today, settled().exclusive(true)).await {
        Recovery::Applied {
            refund: found,
            evidence,
        } => {
            assert_eq!(found.id.as_str(), "re_new", "within the clock-skew margin");
            assert_eq!(evidence, refunds::Evidence::Exclusive);
        }
        other => panic!("{other:?}"),
    }
    // A concurrent create of the same payment and amount made a refund the application booked.
    let booked = RecoveryOptions::new()
        .now(STARTED + Duration::from_secs(120))
        .booked([RefundId::new("re_new").unwrap()]);
    let listed = Listed::new(PagingStyle::Cursor, vec![refund("re_new", pay(), 1_000, Some(STARTED))]);
    assert!(matches!(
        listed.recover_with(&today, booked).await,
        Recovery::NotApplied { .. }
    ));
    // Two that fit are candidates.
    let two = vec![
        refund("re_a", pay(), 1_000, Some(STARTED)),
        refund("re_b", pay(), 1_000, Some(STARTED)),
    ];
    let listed = Listed::new(PagingStyle::Cursor, two);
    assert!(
        matches!(listed.recover_with(&today, settled()).await, Recovery::Candidates { refunds: c, .. } if c.len() == 2)
    );
}

#[tokio::test]
async fn not_applied_only_when_the_provider_could_tell() {
    let today = pending(CreateRefund::new(pay()).amount(usd(1_000)));
    let listed = Listed::new(PagingStyle::Offset, vec![]);
    // Too early: the create may still be in flight at the provider.
    let early = RecoveryOptions::new().now(STARTED + Duration::from_secs(1));
    assert!(listed.recover_with(&today, early).await.is_unknown());
    assert!(matches!(
        listed.recover_with(&today, settled()).await,
        Recovery::NotApplied { .. }
    ));
    // Finding 3: a one-page list (xpay) cannot rule anything out.
    let one_page = Listed::new(PagingStyle::SinglePage, vec![]);
    assert!(one_page.recover_with(&today, settled()).await.is_unknown());
    // Finding 3: a create by payment intent, and refunds that report a charge.
    let intent = pending(CreateRefund::new(PaymentRef::payment_intent("pi_1").unwrap()).amount(usd(1_000)));
    let by_charge = refund(
        "re_1",
        PaymentRef::new(PaymentRefKind::Charge, "ch_1").unwrap(),
        1_000,
        Some(STARTED),
    );
    let mut listed = Listed::new(PagingStyle::Offset, vec![by_charge]);
    listed.info.capabilities = listed
        .info
        .capabilities
        .clone()
        .payment_kinds(&[PaymentRefKind::Charge, PaymentRefKind::PaymentIntent]);
    assert!(listed.recover_with(&intent, settled()).await.is_unknown());
    // A pending create of another provider is not judged here.
    let foreign = PendingCreate::new(CreateRefund::new(pay()), "xpay", STARTED);
    assert!(listed.recover_with(&foreign, settled()).await.is_unknown());
}
