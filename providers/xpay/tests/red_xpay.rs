//! Red-team attacks on xpay (unkeyed, metadata marker, one-page list) through its own sandbox.

use std::time::Duration;

use refunds::sandbox::Fault;
use refunds::{CreateRefund, Currency, Delivery, Money, PaymentRef, RefundProvider};
use refunds_testkit::fast_retry;
use refunds_xpay::sandbox;

fn usd(minor: i64) -> Money {
    Money::from_minor(minor, Currency::USD)
}

/// B3 on a real unkeyed provider: xpay answers a create 409 after applying it (the sandbox's
/// `AppliedThen(409)`, "the provider refusing what it has just done"). xpay's own error table says
/// `invalid_request_error` covers 400, 404 and 409; the engine calls the create `Rejected` with no
/// pending create, so the recipe's `(None, None)` arm says nothing was applied and the application
/// creates again. No stated assumption covers an unkeyed 409 (only an unkeyed 429 is "truthful").
#[tokio::test]
async fn red_xpay_applied_then_409_is_a_definite_refusal() {
    let sandbox = sandbox::start().await.unwrap();
    sandbox.ledger().seed_payment("ch_red_409", usd(10_000));
    let client = sandbox::builder_for(&sandbox).retry(fast_retry(2)).build().unwrap();
    let request = CreateRefund::new(PaymentRef::charge("ch_red_409").unwrap()).amount(usd(1000));
    sandbox.faults().push(Fault::AppliedThen(409), 1);
    let error = client.create_refund(&request).await.unwrap_err();
    eprintln!(
        "delivery {:?}, kind {:?}, pending {}: {error}",
        error.delivery(),
        error.kind(),
        error.pending().is_some()
    );
    let nothing_applied_says_the_recipe = error.refund().is_none() && error.pending().is_none();
    if nothing_applied_says_the_recipe {
        client.create_refund(&request).await.unwrap();
    }
    let refunds = sandbox.ledger().refunds();
    assert!(
        !nothing_applied_says_the_recipe,
        "a 409 that may hide an apply came back as a definite refusal; after the recipe: {} refunds of 10.00 \
         for one",
        refunds.len()
    );
}

/// B5 (fixed: the test now holds the defence). A create marker the SDK did not write. `Client::mark` adopts a `refunds_marker` metadata entry
/// already in the caller's request as "this create's marker" ("a pending create sent again keeps
/// it": but re-sends never go through `mark`). `Refund::metadata` hands that entry to the
/// application, so an application that refunds again "with the same metadata as the last refund"
/// sends another create's marker; recovery then takes the earlier refund as proof (`Evidence::Marker`)
/// that this create was applied, and the create that was never applied is booked as done.
#[tokio::test]
async fn red_copied_metadata_marker_makes_another_creates_refund_proof() {
    let sandbox = sandbox::start().await.unwrap();
    sandbox.ledger().seed_payment("ch_red_marker", usd(10_000));
    let client = sandbox::builder_for(&sandbox)
        .retry(fast_retry(0))
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let first = CreateRefund::new(PaymentRef::charge("ch_red_marker").unwrap())
        .amount(usd(1000))
        .metadata("order", "42");
    let r1 = client.create_refund(&first).await.unwrap();
    eprintln!("first refund {} metadata {:?}", r1.id, r1.metadata);
    // A second partial refund of the same order, "with the same metadata": never applied (the
    // connection is reset before anything happens), ambiguous.
    let mut second = CreateRefund::new(PaymentRef::charge("ch_red_marker").unwrap()).amount(usd(1000));
    for (k, v) in &r1.metadata {
        second = second.metadata(k.clone(), v.clone());
    }
    // The fix: a create carrying the SDK's marker it did not write is refused before sending, naming
    // the field, so no later recovery can take the first refund as this create's proof.
    let error = client.create_refund(&second).await.unwrap_err();
    assert_eq!(error.delivery(), Delivery::NotSent, "{error}");
    assert_eq!(error.field(), Some("metadata"), "{error}");
    assert!(error.pending().is_none());
    assert_eq!(sandbox.ledger().refunds().len(), 1, "nothing sent");
}

/// B6 (functional, no money at risk). The SDK's own marker takes a metadata slot: a request with 49
/// metadata entries and a merchant reference (which xpay carries in metadata: 50 entries, within the
/// limit) is refused before sending, "at most 50 entries including the merchant reference", because
/// the engine added `refunds_marker` first.
#[tokio::test]
async fn red_marker_makes_a_valid_request_too_big() {
    let sandbox = sandbox::start().await.unwrap();
    sandbox.ledger().seed_payment("ch_red_meta", usd(10_000));
    let client = sandbox::builder_for(&sandbox).build().unwrap();
    let mut request = CreateRefund::new(PaymentRef::charge("ch_red_meta").unwrap())
        .amount(usd(100))
        .merchant_reference("order-7");
    for i in 0..49 {
        request = request.metadata(format!("k{i}"), "v");
    }
    request.validate().unwrap();
    let outcome = client.create_refund(&request).await;
    eprintln!("{:?}", outcome.as_ref().map(|r| &r.id));
    assert!(outcome.is_ok(), "{}", outcome.unwrap_err());
}
