//! Bias-specific behaviour on its sandbox (the shared suite is in `suite.rs`): the delivery rules a
//! keyed create meets, expand, paging both ways, and the event stream end to end.

use futures_util::StreamExt;
use refunds::sandbox::{Fault, Sandbox};
use refunds::{CreateRefund, Currency, Delivery, ErrorKind, ListRefunds, Money, PaymentRef, RefundProvider};
use refunds::{IdempotencyKey, RefundProviderExt, RefundStatus};
use refunds_bias::sandbox::{builder_for, start};
use refunds_bias::{BiasClient, BiasEvent, BiasEvents, BiasExpand, EventsRequest, cursor_after, cursor_before};

fn usd(minor: i64) -> Money {
    Money::from_minor(minor, Currency::USD)
}

fn pay(id: &str) -> PaymentRef {
    PaymentRef::payment(id).unwrap()
}

fn client(sandbox: &Sandbox, retries: u32) -> BiasClient {
    builder_for(sandbox)
        .retry(refunds_testkit::fast_retry(retries))
        .build()
        .unwrap()
}

#[tokio::test]
async fn same_key_replays_other_body_conflicts() {
    let sandbox = start().await.unwrap();
    sandbox.ledger().seed_payment("pay_idem", usd(5_000));
    let client = client(&sandbox, 0);
    let key = IdempotencyKey::new("bias-key-1").unwrap();
    let request = CreateRefund::new(pay("pay_idem"))
        .amount(usd(1_000))
        .idempotency_key(key.clone());
    let first = client.create_refund(&request).await.unwrap();
    let again = client.create_refund(&request).await.unwrap();
    assert_eq!((first.id, sandbox.ledger().refund_count()), (again.id, 1));
    let other = CreateRefund::new(pay("pay_idem"))
        .amount(usd(2_000))
        .idempotency_key(key);
    let e = client.create_refund(&other).await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::IdempotencyConflict, "{e}");
    assert_eq!(e.provider_code(), Some("idempotency_error"));
    assert_eq!(sandbox.ledger().refund_count(), 1);
}

#[tokio::test]
async fn applied_then_429_is_resolved_by_resending_or_left_pending_with_its_key() {
    let sandbox = start().await.unwrap();
    sandbox.ledger().seed_payment("pay_429", usd(5_000));
    sandbox.faults().push(Fault::AppliedThen(429), 1);
    let refund = client(&sandbox, 2)
        .create_refund(&CreateRefund::new(pay("pay_429")).amount(usd(100)))
        .await
        .unwrap();
    assert_eq!(
        sandbox.ledger().refund_count(),
        1,
        "the re-sent create replayed {}",
        refund.id
    );

    sandbox.faults().push(Fault::ServiceUnavailable, 1);
    sandbox.faults().push(Fault::AppliedThen(429), 1);
    let e = client(&sandbox, 1)
        .create_refund(&CreateRefund::new(pay("pay_429")).amount(usd(100)))
        .await
        .unwrap_err();
    assert_eq!(e.delivery(), Delivery::Ambiguous, "{e}");
    let key = e
        .pending_create()
        .unwrap()
        .idempotency_key_given()
        .expect("the generated key")
        .clone();
    assert_eq!(
        sandbox.ledger().refunds()[1].idempotency_key.as_deref(),
        Some(key.as_str())
    );
    let resent = client(&sandbox, 0)
        .create_refund(e.pending_create().unwrap())
        .await
        .unwrap();
    assert_eq!(
        (resent.id.as_str(), sandbox.ledger().refund_count()),
        (sandbox.ledger().refunds()[1].id.as_str(), 2)
    );
}

#[tokio::test]
async fn expand_paging_and_the_event_stream() {
    let sandbox = start().await.unwrap();
    let client = client(&sandbox, 0);
    let mut ids = Vec::new();
    for i in 0..5 {
        let id = format!("pay_{i}");
        sandbox.ledger().seed_payment(&id, usd(1_000));
        ids.push(
            client
                .create_refund(&CreateRefund::new(pay(&id)).amount(usd(400)))
                .await
                .unwrap()
                .id,
        );
    }
    let got = client.get_refund_expanded(&ids[0]).await.unwrap();
    let payment = got.payment.expect("expanded");
    assert_eq!(
        (payment.amount_refunded.map(|a| a.0), got.refund.payment),
        (Some(400), pay("pay_0"))
    );

    let walked: Vec<_> = client.all_refunds(ListRefunds::new().limit(2)).await.unwrap();
    assert_eq!(walked.iter().map(|r| r.id.clone()).collect::<Vec<_>>(), ids);
    let page = client
        .list_refunds(&ListRefunds::new().limit(2).cursor(cursor_after(&ids[0])))
        .await
        .unwrap();
    assert_eq!(page.items[0].id, ids[1]);
    let back = client
        .list_refunds_expanded(&ListRefunds::new().limit(2).cursor(cursor_before(&ids[4])))
        .await
        .unwrap();
    assert_eq!(
        (back.items[0].refund.id.clone(), back.next),
        (ids[2].clone(), Some(cursor_before(&ids[2])))
    );

    sandbox.ledger().settle(ids[0].as_str());
    let events: Vec<_> = client.refund_events(EventsRequest::new()).collect().await;
    assert_eq!(events.len(), 6, "five creations and one update, then the stream closed");
    let Ok(BiasEvent::Refund(update)) = &events[1] else {
        panic!("{:?}", events[1])
    };
    assert_eq!(update.event_type, "refund.updated");
    assert_eq!(update.state.status, RefundStatus::Succeeded);
    assert_eq!(update.previous_state.as_ref().unwrap().status, RefundStatus::Pending);
    let limited: Vec<_> = client.refund_events(EventsRequest::new().limit(2)).collect().await;
    assert_eq!(limited.len(), 2);

    let wrong = builder_for(&sandbox).api_key("sk_test_wrong_key_0000").build().unwrap();
    let errors: Vec<_> = wrong.refund_events(EventsRequest::new()).collect().await;
    let e = errors[0].as_ref().unwrap_err();
    assert_eq!((e.kind(), errors.len()), (&ErrorKind::Authentication, 1));
    assert!(!format!("{e:?}").contains("sk_test_wrong_key_0000"));
}
