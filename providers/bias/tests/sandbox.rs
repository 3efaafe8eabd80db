//! Bias-specific behaviour on its sandbox (the shared suite is in `suite.rs`; the event API is in
//! `events.rs`): the delivery rules a keyed create meets, the `/v1` API with its fees, expand, native
//! filters, paging both ways newest first.

use refunds::sandbox::{Fault, Sandbox};
use refunds::{CreateRefund, Currency, Delivery, ErrorKind, ListRefunds, Money, PaymentRef, RefundProvider};
use refunds::{RefundId, RefundProviderExt, RefundStatus};
use refunds_bias::sandbox::{builder_for, start};
use refunds_bias::{BiasClient, BiasExt, cursor_after, cursor_before};
use refunds_testkit::sandbox_suite::{refunds_a_minute_apart, replay_then_conflict};

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

fn ids_of(refunds: &[refunds::Refund]) -> Vec<RefundId> {
    refunds.iter().map(|r| r.id.clone()).collect()
}

/// The shared replay scenario, with Bias' own conflict: a 409 with its code.
#[tokio::test]
async fn same_key_replays_other_body_conflicts() {
    let sandbox = start().await.unwrap();
    sandbox.ledger().seed_payment("pay_idem", usd(5_000));
    let e = replay_then_conflict(&sandbox, &client(&sandbox, 0), pay("pay_idem")).await;
    let shape = (e.http_status(), e.provider_code());
    assert_eq!(shape, (Some(409), Some("idempotency_params_mismatch")), "{e}");
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
    let ids = refunds_a_minute_apart(&sandbox, &client, 5).await;
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
    let ids = refunds_a_minute_apart(&sandbox, &client, 5).await;
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
