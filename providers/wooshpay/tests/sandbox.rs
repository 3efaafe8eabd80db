//! WooshPay's delivery rules on its sandbox (the shared suite is in `suite.rs`): one key across a create's retries, an ambiguous create recovered by re-sending its
//! pending create, a create still in progress (409 `idempotency_key_in_use`) waited out, and the skin
//! speaking the same units.

use std::time::Duration;

use refunds::adapter::RetryPolicy;
use refunds::sandbox::{Fault, Sandbox};
use refunds::{CreateRefund, Currency, Delivery, Money, PaymentRef, RecoverExt, Recovery, RefundProvider};
use refunds_testkit::fast_retry;
use refunds_wooshpay::sandbox::{self, builder_for};

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
    // Applied and the answer lost, then 429s to the same key: the whole call stays Ambiguous.
    sandbox.faults().push(Fault::ResponseLost, 1);
    sandbox.faults().push(Fault::AppliedThen(429), 2);
    let e = client.create_refund(&request).await.expect_err("lost, then 429s");
    assert_eq!(e.delivery(), Delivery::Ambiguous, "{e}");
    assert_eq!(sandbox.ledger().refund_count(), 1, "one key, one refund");
    let pending = e.pending().expect("the pending create travels with the error");
    let key = pending.request.idempotency_key_given().expect("the generated key");
    assert!(key.as_str().starts_with("rfd_"), "{key:?}");
    let applied = sandbox.ledger().refunds()[0].clone();
    assert_eq!(applied.idempotency_key.as_deref(), Some(key.as_str()));
    // WooshPay has no list to search: recovery sends the same create, same key, again.
    let Recovery::Applied { refund: recovered, .. } = client.recover(pending).await else {
        panic!("the re-send answers with the refund");
    };
    assert_eq!(
        (recovered.id.as_str(), recovered.amount),
        (applied.id.as_str(), usd(900))
    );
    assert_eq!(sandbox.ledger().refund_count(), 1);
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

/// One raw HTTP/1.1 request to `sandbox` (the SDK's client only sends JSON): its status and body.
fn raw_request(sandbox: &Sandbox, content_type: &str, body: &str) -> (u16, serde_json::Value) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(sandbox.addr()).unwrap();
    let basic = refunds::adapter::base64_encode(format!("{}:", sandbox::API_KEY).as_bytes());
    let request = format!(
        "POST /v1/refunds HTTP/1.1\r\nhost: {}\r\nauthorization: Basic {basic}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        sandbox.addr(),
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer[9..12].parse().unwrap();
    let json = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, serde_json::from_str(json).unwrap_or_default())
}

/// WooshPay's documentation introduction says requests are form-encoded, as Stripe's clients send
/// them: the sandbox takes both, and refuses other bodies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creates_may_be_form_encoded_like_stripes_clients_send_them() {
    let (sandbox, _) = seeded(usd(5_000), usd(1)).await;
    let sandbox = std::sync::Arc::new(sandbox);
    let run = |content_type: &'static str, body: &'static str| {
        let sandbox = sandbox.clone();
        tokio::task::spawn_blocking(move || raw_request(&sandbox, content_type, body))
    };
    let form =
        "payment_intent=pi_1&amount=1250&reason=requested_by_customer&metadata[order_id]=6735&metadata[note]=a%20b";
    let (status, refund) = run("application/x-www-form-urlencoded", form).await.unwrap();
    assert_eq!(status, 200, "{refund}");
    assert_eq!(
        (&refund["amount"], &refund["payment_intent"], &refund["reason"]),
        (
            &serde_json::json!(1250),
            &serde_json::json!("pi_1"),
            &serde_json::json!("requested_by_customer")
        )
    );
    assert_eq!(
        refund["metadata"],
        serde_json::json!({"order_id": "6735", "note": "a b"})
    );
    let (status, refund) = run("application/json", r#"{"payment_intent":"pi_1","amount":"250"}"#)
        .await
        .unwrap();
    assert_eq!((status, &refund["amount"]), (200, &serde_json::json!(250)));
    let (status, error) = run("application/x-www-form-urlencoded", "amount=1").await.unwrap();
    assert_eq!(
        (status, &error["error"]["code"]),
        (400, &serde_json::json!("parameter_missing"))
    );
    let (status, error) = run("text/plain", "payment_intent=pi_1").await.unwrap();
    assert_eq!(
        (status, &error["error"]["code"]),
        (400, &serde_json::json!("parameter_invalid"))
    );
    assert_eq!(sandbox.ledger().refund_count(), 2);
}

/// A refund made from the dashboard names a charge and no payment intent: `get` reads it with a
/// charge reference instead of refusing it.
#[tokio::test]
async fn a_refund_naming_only_a_charge_is_read_with_a_charge_reference() {
    let sandbox = sandbox::start().await.unwrap();
    let record =
        refunds::sandbox::RefundRecord::new("re_dash_1", "ch_dash_1", usd(700), refunds::RefundStatus::Succeeded);
    sandbox.ledger().insert_refund(record);
    let client = builder_for(&sandbox).build().unwrap();
    let refund = client
        .get_refund(&refunds::RefundId::new("re_dash_1").unwrap())
        .await
        .unwrap();
    assert_eq!(refund.payment, PaymentRef::charge("ch_dash_1").unwrap());
    assert_eq!(refund.amount, usd(700));
    let raw = refund.raw.to_value();
    assert_eq!(
        (&raw["charge"], &raw["payment_intent"]),
        (&serde_json::json!("ch_dash_1"), &serde_json::Value::Null)
    );
}
