//! Red-team attempt: a pending create re-sent after a round trip through JSON (as the CLI and an
//! application store it), by another client whose builder options differ, must send the identical body.

use refunds::sandbox::Fault;
use refunds::{CreateRefund, Currency, Money, PaymentRef, PendingCreate, RecoverExt, RefundReason};
use refunds_syncgram::sandbox;
use refunds_syncgram::{FeeBearer, SyncgramExt, SyncgramOptions};

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
