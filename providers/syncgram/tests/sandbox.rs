//! What only SyncgramPay does, on its sandbox (the shared suite is in `suite.rs`).

use refunds::sandbox::{Fault, Sandbox};
use refunds::{
    CreateRefund, Currency, Delivery, ErrorKind, Money, PaymentRef, RecoverExt, Recovery, RefundProvider, RefundStatus,
};
use refunds_syncgram::sandbox::{self, LIVE_API_KEY};
use refunds_syncgram::{FeeBearer, SimulatedOutcome, SyncgramClient, SyncgramExt, SyncgramOptions};
use refunds_testkit::fast_retry;

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
    // Applied with its answer lost; the retry (same key, replayed) is answered 429.
    sandbox.faults().push(Fault::ResponseLost, 1);
    sandbox.faults().push(Fault::AppliedThen(429), 1);
    let request = CreateRefund::new(charge).amount(usd(700));
    let e = client.create_refund(&request).await.unwrap_err();
    assert_eq!(e.delivery(), Delivery::Ambiguous, "{e}");
    let marker = e
        .pending()
        .and_then(|p| p.marker.clone())
        .expect("the marker written as the reference");
    let pending = e.pending_create().expect("the create travels with the error").clone();
    assert!(pending.idempotency_key_given().is_some(), "with the generated key");
    assert_eq!(sandbox.ledger().refund_count(), 1);

    let Recovery::Applied { refund, .. } = client.recover(e.pending().expect("pending")).await else {
        panic!("the re-send answers with the refund");
    };
    assert_eq!(
        sandbox.ledger().refund_count(),
        1,
        "the original refund, not a second one"
    );
    assert_eq!(
        refund.merchant_reference.as_deref(),
        Some(marker.as_str()),
        "reference = the create's marker"
    );
    assert_eq!(refund.amount, usd(700));
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
