//! The sandbox suite against this provider's skin, and the capabilities the suite does not cover:
//! recovery of a lost create, expand, cursor paging both ways, the payment-state rule, the account
//! currency and the auth check.

use std::sync::Arc;
use std::time::Duration;

use refunds::sandbox::{Fault, PaymentState, Sandbox};
use refunds::testkit::sandbox_suite::{SandboxHarness, SandboxRun};
use refunds::testkit::{HarnessOptions, fast_retry};
use refunds::{
    CreateRefund, Currency, Delivery, ErrorKind, ListRefunds, Money, PaymentRef, RefundProvider, RefundProviderExt,
    RefundStatus,
};
use refunds_cursor::sandbox::{API_KEY, builder_for, start, start_with_currency};
use refunds_cursor::{AuthScheme, CursorClient, ExpandStyle, expanded_payment};

struct Harness;

#[refunds::async_trait]
impl SandboxHarness for Harness {
    async fn start(&self, options: HarnessOptions) -> SandboxRun {
        let sandbox = start_with_currency(options.currency).await.expect("bind 127.0.0.1");
        let builder = || {
            builder_for(&sandbox)
                .currency(options.currency)
                .retry(fast_retry(options.max_retries))
                .timeout(options.timeout)
        };
        let client = builder().build().unwrap();
        let wrong = builder().api_key("sk_test_wrong_key_000").build().unwrap();
        SandboxRun::new(sandbox, Arc::new(client), Arc::new(wrong))
    }
}

refunds::sandbox_tests!(Harness);

fn usd(minor: i64) -> Money {
    Money::from_minor(minor, Currency::USD)
}

fn pay(id: &str) -> PaymentRef {
    PaymentRef::payment(id).unwrap()
}

async fn client_for(sandbox: &Sandbox) -> CursorClient {
    builder_for(sandbox).max_retries(0).build().unwrap()
}

#[tokio::test]
async fn three_lines_for_a_user_test() {
    let sandbox = start().await.unwrap();
    sandbox.ledger().seed_payment("pay_1", usd(5_000));
    let client = builder_for(&sandbox).build().unwrap();

    let refund = client.create_refund(&CreateRefund::new(pay("pay_1"))).await.unwrap();
    assert!(refund.id.as_str().starts_with("re_"), "{}", refund.id);
    assert_eq!(refund.amount, usd(5_000));
    assert_eq!(refund.status, RefundStatus::Pending);
    assert_eq!(refund.livemode, Some(false));
    assert_eq!(refund.created_at, Some(sandbox.ledger().now()));
    assert_eq!(refund.raw.field("created_at"), Some(1_704_067_200_000_i64.into()));
    assert_eq!(refund.raw.field("object"), Some("refund".into()));
}

#[tokio::test]
async fn a_lost_create_is_found_again() {
    let sandbox = start().await.unwrap();
    sandbox.ledger().seed_payment("pay_lost", usd(10_000));
    sandbox.ledger().seed_payment("pay_other", usd(10_000));
    let client = builder_for(&sandbox).max_retries(3).build().unwrap();
    client
        .create_refund(&CreateRefund::new(pay("pay_other")).amount(usd(700)))
        .await
        .unwrap();

    sandbox.faults().push(Fault::ResponseLost, 1);
    let request = CreateRefund::new(pay("pay_lost")).amount(usd(700));
    let e = client.create_refund(&request).await.expect_err("lost");
    assert_eq!(e.delivery(), Delivery::Ambiguous, "{e}");
    assert!(!e.is_retryable());
    assert_eq!(sandbox.request_count(), 2, "the create was sent once, not retried");
    let pending = e.pending_create().expect("the request travels with the error");

    let found = client.find_created(pending).await.unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].payment.id(), "pay_lost");
    assert_eq!(found[0].amount, usd(700));
    assert_eq!(sandbox.ledger().refund_count(), 2);

    // A reset connection applies nothing: the lookup comes back empty.
    sandbox.faults().push(Fault::ConnectionReset, 1);
    let request = CreateRefund::new(pay("pay_lost")).amount(usd(300));
    let e = client.create_refund(&request).await.expect_err("reset");
    assert_eq!(e.delivery(), Delivery::Ambiguous);
    let found = client.find_created(e.pending_create().unwrap()).await.unwrap();
    assert!(found.is_empty(), "{found:?}");
}

#[tokio::test]
async fn a_5xx_on_create_is_not_resent() {
    let sandbox = start().await.unwrap();
    sandbox.ledger().seed_payment("pay_503", usd(1_000));
    let client = builder_for(&sandbox).retry(fast_retry(3)).build().unwrap();
    sandbox.faults().push(Fault::ServiceUnavailable, 1);
    let e = client
        .create_refund(&CreateRefund::new(pay("pay_503")))
        .await
        .expect_err("503");
    assert_eq!(e.kind(), &ErrorKind::ProviderUnavailable);
    assert_eq!(sandbox.request_count(), 1);
    assert!(e.pending_create().is_some());

    // A read is replay-safe and is retried through the same fault.
    let requests_before = sandbox.request_count();
    sandbox.faults().push(Fault::ServiceUnavailable, 1);
    let page = client.list_refunds(&ListRefunds::new()).await.unwrap();
    assert!(page.items.is_empty());
    assert_eq!(sandbox.request_count(), requests_before + 2);
}

#[tokio::test]
async fn expand_gives_the_payment_object_and_the_same_payment_ref() {
    let sandbox = start().await.unwrap();
    sandbox.ledger().seed_payment("pay_exp", usd(10_000));
    let plain = client_for(&sandbox).await;
    let created = plain
        .create_refund(&CreateRefund::new(pay("pay_exp")).amount(usd(2_500)))
        .await
        .unwrap();
    assert_eq!(expanded_payment(&created).unwrap(), None);
    let got = plain.get_refund(&created.id).await.unwrap();
    assert_eq!(got.raw.field("payment"), Some("pay_exp".into()));

    for style in [ExpandStyle::Object, ExpandStyle::List] {
        let expanding = builder_for(&sandbox)
            .expand_payment(true)
            .expand_style(style)
            .build()
            .unwrap();
        let got = expanding.get_refund(&created.id).await.unwrap();
        assert_eq!(got.payment, pay("pay_exp"), "the ref is the id either way");
        let payment = expanded_payment(&got).unwrap().expect("expanded");
        assert_eq!(payment.id, "pay_exp");
        assert_eq!(payment.amount_received.map(|a| a.0), Some(10_000));
        assert_eq!(payment.amount_refunded.map(|a| a.0), Some(2_500));
        assert_eq!(payment.status.as_deref(), Some("succeeded"));

        let listed = expanding.list_refunds(&ListRefunds::new()).await.unwrap();
        assert_eq!(listed.items.len(), 1);
        assert_eq!(listed.items[0].payment, pay("pay_exp"));
        assert!(expanded_payment(&listed.items[0]).unwrap().is_some());
    }
}

#[tokio::test]
async fn cursor_paging_walks_forward_and_backward() {
    let sandbox = start().await.unwrap();
    let client = client_for(&sandbox).await;
    let mut ids = Vec::new();
    for i in 0..7 {
        let id = format!("pay_page_{i}");
        sandbox.ledger().seed_payment(&id, usd(100));
        ids.push(client.create_refund(&CreateRefund::new(pay(&id))).await.unwrap().id);
    }
    let first = client.list_refunds(&ListRefunds::new().limit(3)).await.unwrap();
    assert_eq!(first.items.len(), 3);
    let next = first.next.clone().expect("has_more");
    assert_eq!(next, CursorClient::cursor_after(&ids[2]));

    let walked: Vec<_> = client
        .all_refunds(ListRefunds::new().limit(3))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(walked, ids, "each once, in order");

    let last = client
        .list_refunds(&ListRefunds::new().limit(3).cursor(CursorClient::cursor_after(&ids[3])))
        .await
        .unwrap();
    assert_eq!(last.items.len(), 3);
    assert_eq!(last.next, None, "has_more false ends the walk");

    // Backward from the last refund: two pages of three, then the first refund alone.
    let back = ListRefunds::new().limit(3).cursor(CursorClient::cursor_before(&ids[6]));
    let page = client.list_refunds(&back).await.unwrap();
    let got: Vec<_> = page.items.iter().map(|r| r.id.clone()).collect();
    assert_eq!(got, ids[3..6]);
    assert_eq!(page.next, Some(CursorClient::cursor_before(&ids[3])));
    let backward: Vec<_> = client
        .all_refunds(back)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    let expected: Vec<_> = ids[3..6].iter().chain(&ids[0..3]).cloned().collect();
    assert_eq!(backward, expected, "walks backward until nothing is left");
}

#[tokio::test]
async fn only_succeeded_payments_are_refundable() {
    let sandbox = start().await.unwrap();
    sandbox
        .ledger()
        .seed_payment_in_state("pay_pending", usd(1_000), PaymentState::Pending);
    let client = client_for(&sandbox).await;
    let e = client
        .create_refund(&CreateRefund::new(pay("pay_pending")))
        .await
        .expect_err("not succeeded");
    assert_eq!(e.kind(), &ErrorKind::Validation, "{e}");
    assert_eq!(e.provider_code(), Some("payment_not_succeeded"));
    assert_eq!(e.field(), Some("payment"));
    assert_eq!(e.delivery(), Delivery::Rejected);

    let e = client
        .create_refund(&CreateRefund::new(pay("pay_nowhere")))
        .await
        .expect_err("unknown payment");
    assert!(e.is_not_found(), "{e}");
    assert_eq!(e.field(), Some("payment"));
}

#[tokio::test]
async fn settled_and_failed_refunds_read_back() {
    let sandbox = start().await.unwrap();
    sandbox.ledger().seed_payment("pay_settle", usd(1_000));
    let client = client_for(&sandbox).await;
    let refund = client
        .create_refund(&CreateRefund::new(pay("pay_settle")).amount(usd(400)))
        .await
        .unwrap();
    sandbox.ledger().settle_all();
    let got = client.get_refund(&refund.id).await.unwrap();
    assert_eq!(got.status, RefundStatus::Succeeded);
    assert_eq!(got.failure_reason, None);

    sandbox
        .ledger()
        .set_status(refund.id.as_str(), RefundStatus::Unknown("reversed".into()));
    let got = client.get_refund(&refund.id).await.unwrap();
    assert_eq!(got.status, RefundStatus::Unknown("reversed".into()));
}

#[tokio::test]
async fn the_account_currency_labels_amounts_and_guards_creates() {
    let sandbox = start_with_currency(Currency::JPY).await.unwrap();
    sandbox
        .ledger()
        .seed_payment("pay_yen", Money::from_minor(5_000, Currency::JPY));
    sandbox
        .ledger()
        .seed_payment("pay_eur", Money::from_minor(5_000, Currency::EUR));
    let client = builder_for(&sandbox).currency(Currency::JPY).build().unwrap();
    let refund = client
        .create_refund(&CreateRefund::new(pay("pay_yen")).amount(Money::from_minor(1_000, Currency::JPY)))
        .await
        .unwrap();
    assert_eq!(refund.amount.to_string(), "1000 JPY");
    let e = client
        .create_refund(&CreateRefund::new(pay("pay_eur")))
        .await
        .expect_err("another account's currency");
    assert_eq!(e.provider_code(), Some("currency_mismatch"));
    assert_eq!(e.delivery(), Delivery::Rejected);
}

#[tokio::test]
async fn the_sandbox_checks_bearer_auth() {
    let sandbox = start().await.unwrap();
    sandbox.ledger().seed_payment("pay_auth", usd(1_000));
    for scheme in [AuthScheme::Basic, AuthScheme::Header("X-Api-Key".into())] {
        let client = builder_for(&sandbox).auth(scheme).build().unwrap();
        let e = client
            .create_refund(&CreateRefund::new(pay("pay_auth")))
            .await
            .expect_err("not bearer");
        assert_eq!(e.kind(), &ErrorKind::Authentication, "{e}");
        assert!(!format!("{e:?}").contains(API_KEY));
    }
    assert_eq!(sandbox.ledger().refund_count(), 0);
}

#[tokio::test]
async fn a_slow_answer_times_out_as_ambiguous() {
    let sandbox = start().await.unwrap();
    sandbox.ledger().seed_payment("pay_slow", usd(1_000));
    let client = builder_for(&sandbox)
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    sandbox.faults().push(Fault::Delay(Duration::from_millis(800)), 1);
    let request = CreateRefund::new(pay("pay_slow"));
    let e = client.create_refund(&request).await.expect_err("timeout");
    assert_eq!(e.kind(), &ErrorKind::Timeout);
    assert_eq!(e.pending_create(), Some(&request));
    let found = client.find_created(&request).await.unwrap();
    assert_eq!(found.len(), 1, "applied although the answer came too late");
}
