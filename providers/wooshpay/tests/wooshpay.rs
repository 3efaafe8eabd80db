//! What only WooshPay does (the shared suite and its documented bodies, `fixtures/documented.json`,
//! are in `suite.rs`, webhooks in `webhooks.rs`): its hosts
//! chosen by the key, the delivery rules on its sandbox (one key across a create's retries, a create
//! still in progress waited out), its skin's units and form bodies, and the red-team regression B9.

use std::time::Duration;

use refunds::adapter::RetryPolicy;
use refunds::sandbox::RefundRecord;
use refunds::sandbox::{Fault, Sandbox};
use refunds::{CreateRefund, Currency, Delivery, ErrorKind, Money, OffsetDateTime, PaymentRef, RecoverExt, Recovery};
use refunds::{RecoveryOptions, RefundId, RefundProvider, RefundStatus};
use refunds_testkit::fast_retry;
use refunds_testkit::sandbox_suite::lost_then_429s_recovered;
use refunds_wooshpay::WooshPayClient;
use refunds_wooshpay::sandbox::{self, builder_for};
use serde_json::json;

refunds_testkit::readme_status_table_test!(include_str!("../README.md"), &refunds_wooshpay::STATUSES);

#[test]
fn the_host_follows_the_key_and_other_keys_need_a_base_url() {
    let build = |key: &str| WooshPayClient::builder().api_key(key).build();
    let url = |key: &str| build(key).unwrap().base_url().to_owned();
    assert_eq!(url("sk_test_abc12345"), "https://apitest.wooshpay.com/");
    assert_eq!(url("sk_live_abc12345"), "https://api.wooshpay.com/");
    for key in ["pk_test_abc12345", "rk_live_abc12345", "abc12345"] {
        let e = build(key).unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Configuration, "{key}");
        assert!(!format!("{e} {e:?}").contains(key), "the key is not echoed");
        let explicit = WooshPayClient::builder()
            .api_key(key)
            .base_url("https://x.wooshpay.com");
        assert!(explicit.build().is_ok());
    }
}

fn usd(minor: i64) -> Money {
    Money::from_minor(minor, Currency::USD)
}

/// A sandbox where `pi_1` captured `captured`, and a create of `amount` of it.
async fn seeded(captured: Money, amount: Money) -> (Sandbox, CreateRefund) {
    let sandbox = sandbox::start().await.unwrap();
    sandbox.ledger().seed_payment("pi_1", captured);
    let payment = PaymentRef::payment_intent("pi_1").unwrap();
    (sandbox, CreateRefund::new(payment).amount(amount))
}

#[tokio::test]
async fn the_skin_speaks_the_assumed_stripe_units() {
    let isk = |major| Money::from_major_str(major, Currency::from_code("ISK").unwrap()).unwrap();
    let (sandbox, request) = seeded(isk("5000"), isk("5")).await;
    let client = builder_for(&sandbox).build().unwrap();
    let refund = client.create_refund(&request).await.unwrap();
    assert_eq!(refund.amount, isk("5"));
    assert_eq!(refund.raw.to_value()["amount"], 500, "ISK travels in hundredths");
    assert_eq!(refund.raw.to_value()["currency"], "isk");
    assert_eq!(sandbox.ledger().refunds()[0].amount, isk("5"), "one 5 ISK refund");
}

#[tokio::test]
async fn an_ambiguous_create_is_recovered_by_resending_its_pending_create() {
    let (sandbox, request) = seeded(usd(5_000), usd(900)).await;
    let client = builder_for(&sandbox).retry(fast_retry(2)).build().unwrap();
    // WooshPay has no list to search: recovery sends the same create, same key, again.
    let (pending, _) = lost_then_429s_recovered(&sandbox, &client, &request, 2).await;
    // Sending the pending create's request as a new create is refused before sending: it carries the
    // SDK's marker (it would restart the key's clock and skip recovery's rules).
    let e = client.create_refund(&pending.request).await.expect_err("refused");
    assert_eq!(e.field(), Some("metadata"), "{e}");
    assert_eq!(sandbox.ledger().refund_count(), 1);
}

#[tokio::test]
async fn a_create_still_in_progress_is_waited_out_under_its_key() {
    let (sandbox, request) = seeded(usd(5_000), usd(300)).await;
    let retry = RetryPolicy::new().max_retries(8).base_delay(Duration::from_millis(100));
    let builder = builder_for(&sandbox).attempt_timeout(Duration::from_millis(150));
    let client = builder.retry(retry).build().unwrap();
    // The first attempt times out while WooshPay commits; a retry meets 409 idempotency_key_in_use.
    sandbox.faults().push(Fault::SlowCommit(Duration::from_millis(400)), 1);
    let refund = client.create_refund(&request).await.expect("waited out");
    assert_eq!(sandbox.ledger().refund_count(), 1);
    assert_eq!(refund.id.as_str(), sandbox.ledger().refunds()[0].id);
    assert_eq!(sandbox.faults().counts().slow_commit, 1);
    assert!(
        sandbox.request_count() >= 3,
        "timeout, 409 in progress, then the replay"
    );
}

/// WooshPay's documentation introduction says requests are form-encoded, as Stripe's clients send
/// them: the sandbox takes both, and refuses other bodies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creates_may_be_form_encoded_like_stripes_clients_send_them() {
    let (sandbox, _) = seeded(usd(5_000), usd(1)).await;
    let [form, json_body, text] = ["application/x-www-form-urlencoded", "application/json", "text/plain"]
        .map(|content_type| json!({"authorization": "Basic {basic}", "content-type": content_type}));
    let table = json!([
        {"case": "a form", "request": "POST /v1/refunds", "headers": form, "status": 200,
         "body": "payment_intent=pi_1&amount=1250&reason=requested_by_customer&metadata[order_id]=6735&metadata[note]=a%20b",
         "expect": {"/amount": 1250, "/payment_intent": "pi_1", "/reason": "requested_by_customer",
                    "/metadata": {"order_id": "6735", "note": "a b"}}},
        {"case": "JSON", "request": "POST /v1/refunds", "headers": json_body, "status": 200,
         "body": {"payment_intent": "pi_1", "amount": "250"}, "expect": {"/amount": 250}},
        {"case": "a form without the intent", "request": "POST /v1/refunds", "headers": form, "body": "amount=1",
         "status": 400, "expect": {"/error/code": "parameter_missing"}},
        {"case": "plain text", "request": "POST /v1/refunds", "headers": text, "body": "payment_intent=pi_1",
         "status": 400, "expect": {"/error/code": "parameter_invalid"}},
    ]);
    refunds_testkit::raw::assert_answers(&sandbox, sandbox::API_KEY, &table).await;
    assert_eq!(sandbox.ledger().refund_count(), 2);
}

/// A refund made from the dashboard names a charge and no payment intent: `get` reads it with a
/// charge reference instead of refusing it.
#[tokio::test]
async fn a_refund_naming_only_a_charge_is_read_with_a_charge_reference() {
    let sandbox = sandbox::start().await.unwrap();
    let record = RefundRecord::new("re_dash_1", "ch_dash_1", usd(700), RefundStatus::Succeeded);
    sandbox.ledger().insert_refund(record);
    let id = RefundId::new("re_dash_1").unwrap();
    let refund = builder_for(&sandbox).build().unwrap().get_refund(&id).await.unwrap();
    assert_eq!(refund.payment, PaymentRef::charge("ch_dash_1").unwrap());
    assert_eq!(refund.amount, usd(700));
    let raw = refund.raw.to_value();
    assert_eq!(
        (&raw["charge"], &raw["payment_intent"]),
        (&json!("ch_dash_1"), &json!(null))
    );
}

async fn sleep_until(at: OffsetDateTime) {
    let now = OffsetDateTime::now_utc();
    if at > now {
        tokio::time::sleep(Duration::try_from(at - now).unwrap()).await;
    }
}

/// Red-team attack B9 (fixed: the test now holds the defence): a re-send of the pending create with
/// `create_refund` (the WooshPay README's recipe, "Send it again") that itself ends ambiguous
/// yields a *new* pending create whose
/// `started_at` is the re-send's. Recovery computes the key-retention cutoff from it, so it re-sends
/// the key after the provider has forgotten it (retention counts from the key's first use, the
/// original call): the re-send is a fresh create, and the payment is refunded twice. The original
/// pending create, recovered at the same moment, correctly answers `Unknown(key_expired)`.
///
/// Scaled down with the documented `RecoveryOptions::key_retention` (4 s, skew 1 s): the original call
/// at t0, the README's re-send at t0 + 2.5 s (503s: nothing applied, ambiguous), the provider forgets
/// the key at t0 + 4 s, recovery at t0 + 4.5 s. With WooshPay's 24 h: create at 09:00, the README's
/// re-send at 10:00, recovery the next day at 09:30.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn red_readme_resend_restarts_the_key_clock_and_recovery_refunds_twice() {
    let sandbox = sandbox::start().await.unwrap();
    let eur = |minor| Money::from_minor(minor, Currency::EUR);
    sandbox.ledger().seed_payment("pi_red_clock", eur(10_000));
    let client = sandbox::builder_for(&sandbox)
        .retry(fast_retry(2))
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    let request = CreateRefund::new(PaymentRef::payment_intent("pi_red_clock").unwrap()).amount(eur(1000));
    // The original call: applied, every answer lost (its retries replay the key and are lost too).
    sandbox.faults().push(Fault::ResponseLost, 3);
    let e = client.create_refund(&request).await.unwrap_err();
    let original = e.pending().unwrap().clone();
    let key = original.request.idempotency_key_given().unwrap().as_str().to_owned();
    let t0 = original.started_at;
    assert_eq!(sandbox.ledger().refunds().len(), 1);

    // The WooshPay README said "Send it again" with `create_refund(pending)`: the fix refuses that
    // before sending (the request carries the SDK's marker), so no second pending create restarts the
    // key's clock; the README now points to `recover`.
    sleep_until(t0 + Duration::from_millis(2_500)).await;
    let again = client.create_refund(e.pending_create().unwrap()).await.unwrap_err();
    assert_eq!(again.delivery(), Delivery::NotSent, "{again}");
    assert_eq!(again.field(), Some("metadata"), "{again}");
    assert!(again.pending().is_none());

    // The provider keeps keys 4 s from their first use (t0); recovery after it never re-sends.
    sleep_until(t0 + Duration::from_secs(4)).await;
    assert!(sandbox.ledger().forget_idempotency_key(&key));
    sleep_until(t0 + Duration::from_millis(4_500)).await;
    let options = RecoveryOptions::new()
        .key_retention(Duration::from_secs(4))
        .clock_skew(Duration::from_secs(1));
    let verdict = client.recover_with(&original, options).await;
    let never_resent = matches!(verdict, Recovery::Applied { .. } | Recovery::Unknown { .. });
    assert!(never_resent, "{verdict}");
    let refunds = sandbox.ledger().refunds_for_payment("pi_red_clock");
    assert_eq!(refunds.len(), 1, "one intended refund, {} made", refunds.len());
}
