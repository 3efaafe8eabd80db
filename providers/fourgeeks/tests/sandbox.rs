//! 4Geeks-specific behaviour on its sandbox (the shared suite is in `suite.rs`): recovery of a lost
//! create, the account currency, refusals and statuses in its shapes, the skin's own answers.

use refunds::sandbox::Fault;
use refunds::{
    CreateRefund, Currency, Delivery, ErrorKind, Money, PaymentRef, RecoverExt, Recovery, RecoveryOptions, RefundId,
    RefundProvider, RefundReason, RefundStatus,
};
use refunds_fourgeeks::sandbox::{self, API_KEY};
use refunds_testkit::fast_retry;
use serde_json::json;

fn usd(minor: i64) -> Money {
    Money::from_minor(minor, Currency::USD)
}

fn pay(id: &str) -> PaymentRef {
    PaymentRef::payment(id).unwrap()
}

#[tokio::test]
async fn the_three_line_setup_works() {
    let sandbox = sandbox::start().await.unwrap();
    sandbox.ledger().seed_payment("pay_three", usd(10_000));
    let client = sandbox::builder_for(&sandbox).build().unwrap();
    let refund = client
        .create_refund(&CreateRefund::new(pay("pay_three")).amount(usd(2_500)))
        .await
        .unwrap();
    assert!(refund.id.as_str().starts_with("ref_"), "{}", refund.id);
    assert_eq!(refund.amount, usd(2_500));
    assert_eq!(refund.status, RefundStatus::Pending);
    assert_eq!(refund.provider, "fourgeeks");
    assert_eq!(refund.livemode, Some(false), "sk_test_ key");
    assert_eq!(refund.raw.field("object"), Some(json!("refund")));
    assert_eq!(refund.raw.field("amount"), Some(json!(2500)));
    assert!(refund.created_at.is_none(), "4Geeks sends no timestamps");
}

/// A create whose answer is lost is not re-sent (even with retries allowed), fails `Ambiguous` with the
/// pending create attached, and recovery finds the one refund it made, as a candidate: 4Geeks reports
/// no creation time and no reference, so it cannot be told apart from an earlier one for sure.
#[tokio::test]
async fn lost_create_is_ambiguous_and_found_again() {
    let sandbox = sandbox::start().await.unwrap();
    let ledger = sandbox.ledger();
    ledger.seed_payment("pay_lost", usd(10_000));
    ledger.seed_payment("pay_other", usd(10_000));
    let client = sandbox::builder_for(&sandbox).retry(fast_retry(3)).build().unwrap();
    // Refunds that must not be mistaken for the lost one: another payment, another amount.
    client
        .create_refund(&CreateRefund::new(pay("pay_other")).amount(usd(1_200)))
        .await
        .unwrap();
    client
        .create_refund(&CreateRefund::new(pay("pay_lost")).amount(usd(300)))
        .await
        .unwrap();
    let before = sandbox.request_count();

    let request = CreateRefund::new(pay("pay_lost"))
        .amount(usd(1_200))
        .reason(RefundReason::RequestedByCustomer);
    sandbox.faults().push(Fault::ResponseLost, 1);
    let e = client.create_refund(&request).await.expect_err("lost");
    assert_eq!(e.delivery(), Delivery::Ambiguous, "{e}");
    assert!(!e.is_retryable());
    assert_eq!(e.provider(), Some("fourgeeks"));
    assert_eq!(e.pending_create(), Some(&request));
    assert_eq!(sandbox.request_count(), before + 1, "a create is never re-sent");
    assert_eq!(ledger.refund_count(), 3, "applied although the answer was lost");

    let options = RecoveryOptions::new().settle(std::time::Duration::ZERO);
    let Recovery::Candidates { refunds: found, .. } = client.recover_with(e.pending().unwrap(), options).await else {
        panic!("without creation times one match is a candidate, not a verdict");
    };
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].payment.id(), "pay_lost");
    assert_eq!(found[0].amount, usd(1_200));
    let ledger_refund = &ledger.refunds_for_payment("pay_lost")[1];
    assert_eq!(found[0].id.as_str(), ledger_refund.id);
}

#[tokio::test]
async fn each_refund_is_in_its_payment_s_currency() {
    let sandbox = sandbox::start().await.unwrap();
    let crc = |minor| Money::from_minor(minor, Currency::CRC);
    sandbox.ledger().seed_payment("pay_crc", crc(500_000));
    sandbox.ledger().seed_payment("pay_usd", usd(10_000));
    // One client, no account currency: each payment says its own.
    let client = sandbox::builder_for(&sandbox).build().unwrap();
    let refund = client
        .create_refund(&CreateRefund::new(pay("pay_crc")).amount(crc(123_456)))
        .await
        .unwrap();
    assert_eq!(refund.amount, crc(123_456));
    assert_eq!(refund.amount.to_major_string(), "1234.56");
    let full = client.create_refund(&CreateRefund::new(pay("pay_usd"))).await.unwrap();
    assert_eq!(full.amount, usd(10_000));

    // Another currency than the payment's is refused before sending, naming the field.
    let e = client
        .create_refund(&CreateRefund::new(pay("pay_crc")).amount(usd(100)))
        .await
        .expect_err("usd on a crc payment");
    assert_eq!(e.field(), Some("amount"));
    assert_eq!(e.delivery(), Delivery::NotSent);
    assert!(e.message().contains("CRC"), "{e}");
    assert_eq!(sandbox.ledger().refund_count(), 2);

    // Reads label every refund with its own payment's currency.
    let page = client.list_refunds(&refunds::ListRefunds::new()).await.unwrap();
    let mut got: Vec<Money> = page.items.iter().map(|r| r.amount).collect();
    got.sort_by_key(|m| m.currency().code().to_owned());
    assert_eq!(got, [crc(123_456), usd(10_000)]);
    assert_eq!(client.get_refund(&refund.id).await.unwrap().amount, crc(123_456));

    // An unknown payment: 4Geeks says so when its currency is read, a definite refusal; the create
    // is never sent.
    let e = client
        .create_refund(&CreateRefund::new(pay("pay_nope")).amount(usd(100)))
        .await
        .expect_err("unknown payment");
    assert_eq!(e.delivery(), Delivery::Rejected);
    assert_eq!(e.kind(), &ErrorKind::NotFound);
    assert!(e.pending().is_none());
    assert_eq!(sandbox.ledger().refund_count(), 2);
}

/// The skin's answers in 4Geeks' own shapes (the kinds are the shared suite's): the message object's
/// code on a refusal, the wire status of a settled refund, DRF's 404 text.
#[tokio::test]
async fn refusals_and_statuses_in_4geeks_shapes() {
    let sandbox = sandbox::start().await.unwrap();
    sandbox.ledger().seed_payment("pay_ref", usd(1_000));
    let client = sandbox::builder_for(&sandbox).build().unwrap();
    let create = |minor| CreateRefund::new(pay("pay_ref")).amount(usd(minor));
    let over = client.create_refund(&create(1_001)).await.expect_err("over");
    let seen = (over.kind(), over.http_status(), over.provider_code());
    assert_eq!(
        seen,
        (&ErrorKind::AmountExceedsRefundable, Some(400), Some("400")),
        "{over}"
    );
    let all = client.create_refund(&create(1_000)).await.unwrap();
    let done = client.create_refund(&create(1)).await.expect_err("nothing left");
    assert_eq!(done.kind(), &ErrorKind::AlreadyRefunded, "{done}");
    sandbox.ledger().settle(all.id.as_str());
    let settled = client.get_refund(&all.id).await.unwrap();
    assert_eq!(
        (settled.status, settled.raw.field("status")),
        (RefundStatus::Succeeded, Some(json!("succeeded")))
    );
    let e = client
        .get_refund(&RefundId::new("ref_missing").unwrap())
        .await
        .expect_err("404");
    assert_eq!((e.is_not_found(), e.message()), (true, "Not found."), "{e}");
}

/// The skin's answers to what the client never sends: FastAPI 422 lists, DRF-style 401s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skin_speaks_fastapi_validation_and_checks_the_key() {
    let sandbox = sandbox::start().await.unwrap();
    let missing =
        json!({"detail": [{"loc": ["body", "payment_id"], "msg": "field required", "type": "value_error.missing"}]});
    let key = json!({"x-api-key": "{key}"});
    let table = json!([
        {"case": "no payment_id", "request": "POST /v1/refunds", "headers": key, "body": {"amount": 5},
         "status": 422, "expect": {"": missing}},
        {"case": "a string amount", "request": "POST /v1/refunds", "headers": key,
         "body": {"payment_id": "pay_1", "amount": "12.50"}, "status": 422, "expect": {"/detail/0/loc": ["body", "amount"]}},
        {"case": "a zero amount", "request": "POST /v1/refunds", "headers": key, "body": {"payment_id": "pay_1", "amount": 0},
         "status": 422, "expect": {"/detail/0/type": "value_error.number.not_gt"}},
        {"case": "limit 1000", "request": "GET /v1/refunds?limit=1000", "headers": key,
         "status": 422, "expect": {"/detail/0/loc": ["query", "limit"]}},
        {"case": "no key", "request": "GET /v1/refunds", "status": 401,
         "expect": {"": {"detail": "Authentication credentials were not provided."}}},
        {"case": "only X-Api-Key is accepted", "request": "GET /v1/refunds",
         "headers": {"authorization": "Bearer {key}"}, "status": 401},
        {"case": "an empty list", "request": "GET /v1/refunds", "headers": key, "status": 200,
         "expect": {"": {"items": [], "total_items": 0, "limit": 10, "offset": 0}}},
    ]);
    refunds_testkit::raw::assert_answers(&sandbox, API_KEY, &table).await;
    assert_eq!(sandbox.ledger().refund_count(), 0);
}
