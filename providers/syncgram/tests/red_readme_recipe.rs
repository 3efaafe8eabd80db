//! Red-team attack B8: the SyncgramPay README's own recovery recipe contradicts the core's verdict
//! rules and refunds twice.
//!
//! providers/syncgram/README.md, "Idempotency, re-sends and ambiguous creates", tells the application:
//! `let refund = client.create_refund(pending).await?; // same key: the same refund, never a second`
//! and "Assumed: SyncgramPay keeps a key for as long as a re-send can come". The core rules
//! (RELIABILITY.md, per provider: SyncgramPay key retention "24 h (undocumented)"; issue 24: "A pending
//! create older than the provider's key retention is never re-sent") say the opposite. An application
//! that follows the provider's README a day later, when the key is forgotten, makes a second refund;
//! `recover` on the same pending create answers `Applied` (marker) instead.

use std::time::Duration;

use refunds::sandbox::Fault;
use refunds::{CreateRefund, Currency, Money, PaymentRef, RecoverExt, RecoveryOptions, RefundProvider};
use refunds_syncgram::sandbox;

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
