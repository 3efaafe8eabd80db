//! Settlement (waiting for a final status) and list filters applied where the provider does not.

mod common;

use std::time::Duration;

use common::reference::{Reference, ReferenceClient};
use common::reference_skin::{KEY, ReferenceSkin};
use refunds::sandbox::{Ledger, Sandbox};
use refunds::{
    CreateRefund, Currency, ErrorKind, ListRefunds, Money, PaymentRef, RefundId, RefundProvider, RefundProviderExt,
    RefundStatus, SettleExt, WaitOptions,
};
use refunds_testkit::HarnessOptions;

fn usd(minor: i64) -> Money {
    Money::from_minor(minor, Currency::USD)
}

async fn start() -> (Sandbox, ReferenceClient) {
    let sandbox = Sandbox::start(ReferenceSkin, Ledger::new("re_")).await.unwrap();
    sandbox.ledger().seed_payment("pay_a", usd(10_000));
    sandbox.ledger().seed_payment("pay_b", usd(10_000));
    let client = Reference::client(&sandbox.base_url(), KEY, &HarnessOptions::new(Currency::USD, 2)).unwrap();
    (sandbox, client)
}

fn fast() -> WaitOptions {
    WaitOptions::new()
        .first_interval(Duration::from_millis(20))
        .max_interval(Duration::from_millis(100))
}

#[tokio::test]
async fn a_refund_that_settles_later_is_waited_for() {
    let (sandbox, client) = start().await;
    let refund = client
        .create_refund(&CreateRefund::new(PaymentRef::payment("pay_a").unwrap()).amount(usd(100)))
        .await
        .unwrap();
    assert_eq!(refund.status, RefundStatus::Pending);
    let ledger = sandbox.ledger().clone();
    let id = refund.id.as_str().to_owned();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        ledger.settle(&id);
    });
    let settled = client
        .wait_until_final(&refund.id, fast().deadline(Duration::from_secs(20)))
        .await
        .unwrap();
    assert_eq!(settled.status, RefundStatus::Succeeded);
    assert!(sandbox.request_count() >= 3, "polled more than once");
}

#[tokio::test]
async fn a_refund_that_never_settles_comes_back_pending_at_the_deadline() {
    let (sandbox, client) = start().await;
    let refund = client
        .create_refund(&CreateRefund::new(PaymentRef::payment("pay_a").unwrap()).amount(usd(100)))
        .await
        .unwrap();
    let before = sandbox.request_count();
    let started = std::time::Instant::now();
    let last = client
        .wait_until_final(&refund.id, fast().deadline(Duration::from_millis(400)))
        .await
        .unwrap();
    assert_eq!(last.status, RefundStatus::Pending);
    assert!(started.elapsed() >= Duration::from_millis(400));
    assert!(sandbox.request_count() - before >= 2);

    let missing = client
        .wait_until_final(&RefundId::new("re_missing").unwrap(), fast())
        .await
        .unwrap_err();
    assert!(
        missing.is_not_found(),
        "a permanent failure is returned at once: {missing}"
    );
}

#[tokio::test]
async fn filters_the_provider_lacks_are_applied_by_the_sdk() {
    let (sandbox, client) = start().await;
    for (payment, minor) in [("pay_a", 100), ("pay_b", 200), ("pay_a", 300), ("pay_b", 400)] {
        client
            .create_refund(&CreateRefund::new(PaymentRef::payment(payment).unwrap()).amount(usd(minor)))
            .await
            .unwrap();
    }
    let first = sandbox.ledger().refunds()[0].id.clone();
    sandbox.ledger().settle(&first);
    assert!(!client.info().capabilities.list_payment_filter);
    // Pages of one item: most pages hold nothing of `pay_b` after filtering, and the walk goes on.
    let by_payment = client
        .all_refunds(
            ListRefunds::new()
                .limit(1)
                .payment(PaymentRef::payment("pay_b").unwrap()),
        )
        .await
        .unwrap();
    let amounts: Vec<i64> = by_payment.iter().map(|r| r.amount.minor()).collect();
    assert_eq!(amounts, vec![200, 400]);
    let settled = client
        .all_refunds(ListRefunds::new().status(RefundStatus::Succeeded))
        .await
        .unwrap();
    assert_eq!(settled.len(), 1);
    assert_eq!(settled[0].id.as_str(), first);
    // One page, filtered: the next cursor still points past the whole page.
    let page = client
        .list_refunds(
            &ListRefunds::new()
                .limit(2)
                .payment(PaymentRef::payment("pay_b").unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert!(page.next.is_some());
    // The reference wire reports no creation time: a range is refused, not guessed.
    let e = client
        .all_refunds(ListRefunds::new().created_after(refunds::OffsetDateTime::UNIX_EPOCH))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Unsupported, "{e}");
}
