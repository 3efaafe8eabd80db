//! Bias-specific behaviour on its sandbox (the shared suite is in `suite.rs`): the delivery rules a
//! keyed create meets, expand, native filters, paging both ways newest first, the event log, and the
//! event stream end to end: live events, a cut connection caught up through the log, a stored resume
//! point.

use std::time::Duration;

use futures_util::StreamExt;
use refunds::sandbox::{Fault, Ledger, Sandbox};
use refunds::{CreateRefund, Currency, Delivery, ErrorKind, ListRefunds, Money, PaymentRef, RefundProvider};
use refunds::{IdempotencyKey, RefundId, RefundProviderExt, RefundStatus};
use refunds_bias::sandbox::{BiasSkin, REFUND_ID_PREFIX, builder_for, start};
use refunds_bias::{BiasClient, BiasEvent, BiasExt, EventsRequest, ResumePoint, cursor_after, cursor_before};

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

/// Five refunds of 400 on five payments; their ids in creation order.
async fn five(sandbox: &Sandbox, client: &BiasClient) -> Vec<RefundId> {
    let mut ids = Vec::new();
    for i in 0..5 {
        let id = format!("pay_{i}");
        sandbox.ledger().seed_payment(&id, usd(1_000));
        let request = CreateRefund::new(pay(&id)).amount(usd(400));
        ids.push(client.create_refund(&request).await.unwrap().id);
        sandbox.ledger().advance(Duration::from_secs(60));
    }
    ids
}

fn ids_of(refunds: &[refunds::Refund]) -> Vec<RefundId> {
    refunds.iter().map(|r| r.id.clone()).collect()
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
    assert_eq!(
        (e.http_status(), e.provider_code()),
        (Some(409), Some("idempotency_params_mismatch"))
    );
    assert_eq!(sandbox.ledger().refund_count(), 1);
}

/// Bias says whether an answer under a key is a replay (`idempotency-replay`, vendor code); recovery
/// states it in its evidence: applied before the re-send, or by it.
#[tokio::test]
async fn recovery_says_whether_bias_replayed_the_create() {
    use refunds::{Evidence, RecoverExt, Recovery};
    let sandbox = start().await.unwrap();
    sandbox.ledger().seed_payment("pay_rp", usd(5_000));
    let request = CreateRefund::new(pay("pay_rp")).amount(usd(100));
    for (fault, applied_before) in [(Fault::ResponseLost, true), (Fault::ServiceUnavailable, false)] {
        let before = sandbox.ledger().refund_count();
        sandbox.faults().push(fault, 1);
        let e = client(&sandbox, 0).create_refund(&request).await.unwrap_err();
        let pending = e.pending().expect("ambiguous").clone();
        assert_eq!(sandbox.ledger().refund_count(), before + usize::from(applied_before));
        match client(&sandbox, 0).recover(&pending).await {
            Recovery::Applied {
                evidence: Evidence::SameKey { replayed },
                ..
            } => assert_eq!(replayed, Some(applied_before)),
            other => panic!("{other}"),
        }
        assert_eq!(sandbox.ledger().refund_count(), before + 1, "one refund either way");
    }
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
async fn the_api_lives_under_v1_and_every_refund_carries_fees() {
    let sandbox = start().await.unwrap();
    let client = client(&sandbox, 0);
    assert_eq!(
        client.base_url().trim_end_matches('/'),
        sandbox.base_url(),
        "the host alone, as the vendor's client takes it"
    );
    let ids = five(&sandbox, &client).await;
    let got = client.get_refund(&ids[0]).await.unwrap();
    assert!(got.raw.get().contains(r#""fees":{}"#), "{}", got.raw.get());
    let sent = sandbox.recent_requests();
    let last = sent.last().unwrap();
    assert_eq!(last.segments, ["v1", "refunds", ids[0].as_str()]);
    assert_eq!(last.header("api-version"), Some(refunds_bias::API_VERSION));
    let below = builder_for(&sandbox)
        .base_url(format!("{}/v2", sandbox.base_url()))
        .build()
        .unwrap();
    let e = below.get_refund(&ids[0]).await.unwrap_err();
    assert_eq!(
        (e.kind(), e.provider_code()),
        (&ErrorKind::NotFound, Some("not_found")),
        "only /v1 serves"
    );
}

#[tokio::test]
async fn expand_paging_both_ways_newest_first_and_native_filters() {
    let sandbox = start().await.unwrap();
    let client = client(&sandbox, 0);
    let ids = five(&sandbox, &client).await;
    let got = client.get_refund_expanded(&ids[0]).await.unwrap();
    let payment = got.payment.expect("expanded");
    assert_eq!(
        (payment.amount_refunded.map(|a| a.0), got.refund.payment),
        (Some(400), pay("pay_0"))
    );

    let newest_first: Vec<RefundId> = ids.iter().rev().cloned().collect();
    let walked: Vec<_> = client.all_refunds(ListRefunds::new().limit(2)).await.unwrap();
    assert_eq!(ids_of(&walked), newest_first);
    let page = client
        .list_refunds(&ListRefunds::new().limit(2).cursor(cursor_after(ids[4].as_str())))
        .await
        .unwrap();
    assert_eq!(ids_of(&page.items), [ids[3].clone(), ids[2].clone()]);
    let back = client
        .list_refunds_expanded(&ListRefunds::new().limit(2).cursor(cursor_before(ids[0].as_str())))
        .await
        .unwrap();
    assert_eq!(
        (back.items[0].refund.id.clone(), back.next),
        (ids[2].clone(), Some(cursor_before(ids[2].as_str())))
    );
    assert!(back.items.iter().all(|r| r.payment.is_some()));

    sandbox.ledger().settle(ids[1].as_str());
    let before = sandbox.request_count();
    let of_payment = client
        .all_refunds(ListRefunds::new().payment(pay("pay_3")))
        .await
        .unwrap();
    assert_eq!(ids_of(&of_payment), [ids[3].clone()]);
    assert_eq!(
        sandbox.request_count() - before,
        1,
        "one request, not a walk of the account"
    );
    let succeeded = client
        .all_refunds(ListRefunds::new().status(RefundStatus::Succeeded))
        .await
        .unwrap();
    assert_eq!(ids_of(&succeeded), [ids[1].clone()]);
    let created = sandbox.ledger().refund(ids[2].as_str()).unwrap().created_at;
    let range = ListRefunds::new()
        .created_after(created)
        .created_before(created + time::Duration::seconds(61));
    let in_range = client.all_refunds(range).await.unwrap();
    assert_eq!(ids_of(&in_range), [ids[3].clone(), ids[2].clone()]);
    let sent = sandbox.recent_requests();
    let filters = sent.last().unwrap().query_param("filters").unwrap().to_owned();
    assert!(filters.starts_with(r#"{"created_at":{"gte":"#), "{filters}");
}

fn refund_event(event: &refunds::Result<BiasEvent>) -> (String, RefundStatus) {
    match event {
        Ok(BiasEvent::Refund(e)) => (e.event_type.clone(), e.state.status.clone()),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_event_log_lists_and_reads_events() {
    let sandbox = start().await.unwrap();
    let client = client(&sandbox, 0);
    let ids = five(&sandbox, &client).await;
    sandbox.ledger().settle(ids[0].as_str());
    let page = client.list_events(&EventsRequest::new().limit(3), None).await.unwrap();
    let types: Vec<&str> = page.items.iter().map(|e| e.event_type()).collect();
    assert_eq!(
        types,
        ["refund.succeeded", "refund.updated", "refund.created"],
        "newest first"
    );
    let rest = client
        .list_events(&EventsRequest::new().limit(100), page.next.as_ref())
        .await
        .unwrap();
    assert_eq!((rest.items.len(), rest.next), (4, None));
    let one = client.get_event(page.items[1].id()).await.unwrap();
    assert_eq!(one.id(), page.items[1].id());
    let only = EventsRequest::new()
        .for_object(ids[0].as_str())
        .event_type("refund.created");
    let filtered = client.list_events(&only, None).await.unwrap();
    assert_eq!(filtered.items.len(), 1);
    let e = client.get_event("event_nope").await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::NotFound);
}

#[tokio::test]
async fn the_stream_delivers_live_events_and_catches_up_after_a_cut() {
    let sandbox = Sandbox::start(
        BiasSkin::new(Currency::USD).keep_alive(Duration::from_millis(50)),
        Ledger::new(REFUND_ID_PREFIX),
    )
    .await
    .unwrap();
    let client = client(&sandbox, 0);
    let ids = five(&sandbox, &client).await;
    let fast = refunds::adapter::RetryPolicy::new()
        .max_retries(3)
        .base_delay(Duration::from_millis(10))
        .max_delay(Duration::from_millis(20));
    let mut stream = client.refund_events(EventsRequest::new().reconnect(fast.clone()));
    assert!(stream.resume_point().is_none());
    let first = tokio::spawn({
        let ledger = sandbox.ledger().clone();
        let id = ids[0].to_string();
        async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            ledger.advance(Duration::from_secs(1));
            ledger.settle(&id);
        }
    });
    let live = [stream.next().await.unwrap(), stream.next().await.unwrap()];
    first.await.unwrap();
    assert_eq!(
        refund_event(&live[0]),
        ("refund.updated".into(), RefundStatus::Succeeded)
    );
    assert_eq!(
        refund_event(&live[1]),
        ("refund.succeeded".into(), RefundStatus::Succeeded)
    );

    // The connection drops; two refunds settle while the stream is away. The catch-up lists them.
    assert_eq!(sandbox.cut_streams(), 1);
    sandbox.ledger().advance(Duration::from_secs(1));
    sandbox.ledger().settle(ids[1].as_str());
    sandbox.ledger().settle(ids[2].as_str());
    let mut caught = Vec::new();
    for _ in 0..4 {
        caught.push(refund_event(&stream.next().await.unwrap()));
    }
    let succeeded = ("refund.succeeded".to_owned(), RefundStatus::Succeeded);
    assert_eq!(caught.iter().filter(|e| **e == succeeded).count(), 2, "{caught:?}");
    let point = stream.resume_point().expect("after delivered events");
    drop(stream);

    // The application stops; a refund settles; it comes back with its stored resume point.
    sandbox.ledger().advance(Duration::from_secs(1));
    sandbox.ledger().settle(ids[3].as_str());
    let stored = ResumePoint::from_token(&point.to_token()).unwrap();
    let request = EventsRequest::new().resume_from(stored).limit(2).reconnect(fast);
    let resumed: Vec<_> = client.refund_events(request).collect().await;
    let states: Vec<_> = resumed.iter().map(refund_event).collect();
    assert_eq!(states, [("refund.updated".into(), RefundStatus::Succeeded), succeeded]);
    match &resumed[0] {
        Ok(BiasEvent::Refund(e)) => assert_eq!(e.state.id, ids[3]),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_stream_that_cannot_reconnect_ends_with_the_error_and_keys_stay_secret() {
    let sandbox = start().await.unwrap();
    let wrong = builder_for(&sandbox).api_key("sk_test_wrong_key_0000").build().unwrap();
    let errors: Vec<_> = wrong.refund_events(EventsRequest::new()).collect().await;
    let e = errors[0].as_ref().unwrap_err();
    assert_eq!((e.kind(), errors.len()), (&ErrorKind::Authentication, 1));
    assert!(!format!("{e:?}").contains("sk_test_wrong_key_0000"));

    let client = client(&sandbox, 0);
    sandbox.faults().push(Fault::ServiceUnavailable, 10);
    let once = refunds::adapter::RetryPolicy::new()
        .max_retries(1)
        .base_delay(Duration::from_millis(1));
    let errors: Vec<_> = client
        .refund_events(EventsRequest::new().reconnect(once))
        .collect()
        .await;
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].as_ref().unwrap_err().kind(), &ErrorKind::ProviderUnavailable);
    assert_eq!(
        sandbox.faults().counts().service_unavailable,
        2,
        "the first attempt and one reconnect"
    );
}
