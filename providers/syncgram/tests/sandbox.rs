//! What only SyncgramPay does, on its sandbox (the shared suite is in `suite.rs`): the marker a
//! recovered create's reference carries, create options per call and from the builder, and the
//! red-team regressions B8 (the README's old recipe) and a re-send after a JSON round trip.

use std::time::Duration;

use refunds::sandbox::{Fault, Sandbox};
use refunds::{CreateRefund, Currency, Delivery, ErrorKind, Money, PaymentRef, PendingCreate, RecoverExt};
use refunds::{RecoveryOptions, RefundProvider, RefundReason, RefundStatus};
use refunds_syncgram::sandbox::{self, LIVE_API_KEY};
use refunds_syncgram::{FeeBearer, SimulatedOutcome, SyncgramClient, SyncgramExt, SyncgramOptions};
use refunds_testkit::fast_retry;
use refunds_testkit::sandbox_suite::lost_then_429s_recovered;

fn usd(minor: i64) -> Money {
    Money::from_minor(minor, Currency::USD)
}

async fn seeded(retries: u32) -> (Sandbox, SyncgramClient, PaymentRef) {
    let sandbox = sandbox::start().await.unwrap();
    sandbox.ledger().seed_payment("ch_1", usd(5_000));
    let client = sandbox::builder_for(&sandbox)
        .retry(fast_retry(retries))
        .build()
        .unwrap();
    (sandbox, client, PaymentRef::charge("ch_1").unwrap())
}

#[tokio::test]
async fn applied_then_429_is_ambiguous_and_the_pending_create_replays_the_same_refund() {
    let (sandbox, client, charge) = seeded(1).await;
    let request = CreateRefund::new(charge).amount(usd(700));
    let (pending, refund) = lost_then_429s_recovered(&sandbox, &client, &request, 1).await;
    let marker = pending.marker.expect("the marker written as the reference");
    assert_eq!(
        refund.merchant_reference,
        Some(marker),
        "reference = the create's marker"
    );
}

#[tokio::test]
async fn options_per_call_and_from_the_builder() {
    let (sandbox, client, charge) = seeded(0).await;
    let customer = SyncgramOptions::new().fee_bearer(FeeBearer::Customer);
    let request = CreateRefund::new(charge.clone()).amount(usd(1_000));
    let with = SyncgramExt::create_refund_with_options(&client, &request, &customer)
        .await
        .unwrap();
    assert_eq!(with.raw.field("fee_bearer").unwrap(), "CUSTOMER");
    assert_eq!(with.fee, Some(usd(10)), "1% fee");
    let plain = client.create_refund(&request).await.unwrap();
    assert_eq!(
        plain.raw.field("fee_bearer").unwrap(),
        "ORG",
        "per-call options do not stick"
    );

    let failing = SyncgramOptions::new().simulated_outcome(SimulatedOutcome::Failed);
    let builder = sandbox::builder_for(&sandbox).options(failing.clone());
    let failed = builder.build().unwrap().create_refund(&request).await.unwrap();
    sandbox.ledger().settle_all();
    assert_eq!(
        client.get_refund(&failed.id).await.unwrap().status,
        RefundStatus::Failed
    );
    assert_eq!(
        client.get_refund_by_charge("ch_1").await.unwrap().id,
        failed.id,
        "the latest"
    );

    let live = sandbox::builder_for(&sandbox).api_key(LIVE_API_KEY).build().unwrap();
    let e = SyncgramExt::create_refund_with_options(&live, &request, &failing)
        .await
        .unwrap_err();
    assert_eq!(
        (e.field(), e.delivery()),
        (Some("simulated_outcome"), Delivery::NotSent)
    );
    let e = client.get_refund_by_charge("ch_none").await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::NotFound);
}

/// Red-team attack B8: the SyncgramPay README's own recovery recipe contradicts the core's verdict
/// rules and refunds twice.
///
/// providers/syncgram/README.md, "Idempotency, re-sends and ambiguous creates", tells the application:
/// `let refund = client.create_refund(pending).await?; // same key: the same refund, never a second`
/// and "Assumed: SyncgramPay keeps a key for as long as a re-send can come". The core rules
/// (RELIABILITY.md, per provider: SyncgramPay key retention "24 h (undocumented)"; issue 24: "A pending
/// create older than the provider's key retention is never re-sent") say the opposite. An application
/// that follows the provider's README a day later, when the key is forgotten, makes a second refund;
/// `recover` on the same pending create answers `Applied` (marker) instead.
#[tokio::test]
async fn red_syncgram_readme_recipe_refunds_twice_after_the_key_is_forgotten() {
    let sandbox = sandbox::start().await.unwrap();
    sandbox
        .ledger()
        .seed_payment("ch_red_readme", Money::from_minor(10_000, Currency::USD));
    let client = sandbox::builder_for(&sandbox).max_retries(0).build().unwrap();
    let request = CreateRefund::new(PaymentRef::charge("ch_red_readme").unwrap())
        .amount(Money::from_major_str("25.00", Currency::USD).unwrap());
    sandbox.faults().push(Fault::ResponseLost, 1);
    let e = client.create_refund(&request).await.unwrap_err();
    assert!(e.is_ambiguous());
    let pending = e.pending().unwrap().clone();
    let key = pending.request.idempotency_key_given().unwrap().as_str().to_owned();
    // A day later the provider no longer keeps the key (the core's own 24 h assumption).
    assert!(sandbox.ledger().forget_idempotency_key(&key));
    let core = client
        .recover_with(
            &pending,
            RecoveryOptions::new().now(pending.started_at + Duration::from_secs(25 * 3600)),
        )
        .await;
    eprintln!("core recipe (recover a day later): {core}");
    // The provider README's recipe.
    let readme = client.create_refund(e.pending_create().unwrap()).await;
    let refunds = sandbox.ledger().refunds_for_payment("ch_red_readme");
    eprintln!(
        "README recipe: {:?}; refunds of the charge: {:?}",
        readme.as_ref().map(|r| r.id.clone()),
        refunds.iter().map(|r| (&r.id, r.amount)).collect::<Vec<_>>()
    );
    assert_eq!(refunds.len(), 1, "the provider README's recipe refunded twice");
    let _ = client.info();
}

/// Red-team attempt: a pending create re-sent after a round trip through JSON (as the CLI and an
/// application store it), by another client whose builder options differ, must send the identical body.
#[tokio::test]
async fn red_resend_after_json_round_trip_is_identical() {
    let sandbox = sandbox::start().await.unwrap();
    sandbox
        .ledger()
        .seed_payment("ch_red_body", Money::from_minor(10_000, Currency::USD));
    let original = sandbox::builder_for(&sandbox)
        .options(SyncgramOptions::new().fee_bearer(FeeBearer::Org))
        .max_retries(0)
        .build()
        .unwrap();
    let request = CreateRefund::new(PaymentRef::charge("ch_red_body").unwrap())
        .amount(Money::from_major_str("12.30", Currency::USD).unwrap())
        .reason(RefundReason::Other("Kunde möchte \"zurück\" — 退款 \\ / ".to_owned()));
    let per_call = SyncgramOptions::new()
        .fee_bearer(FeeBearer::Customer)
        .refund_address("0xAbC/\u{00e9}\u{301}");
    sandbox.faults().push(Fault::ResponseLost, 1);
    let error = original
        .create_refund_with_options(&request, &per_call)
        .await
        .unwrap_err();
    let stored = serde_json::to_string_pretty(error.pending().unwrap()).unwrap();
    let pending: PendingCreate = serde_json::from_str(&stored).unwrap();
    let other = sandbox::builder_for(&sandbox).build().unwrap();
    let verdict = other.recover(&pending).await;
    eprintln!(
        "{stored}\nverdict: {verdict}; changed re-sends {}",
        sandbox.changed_resends()
    );
    assert_eq!(
        sandbox.changed_resends(),
        0,
        "the re-send differs from the original body"
    );
    assert!(verdict.is_applied(), "{verdict}");
    assert_eq!(sandbox.ledger().refunds().len(), 1);
}
