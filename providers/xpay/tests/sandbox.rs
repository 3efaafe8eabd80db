//! The sandbox suite with the real client against XPay's skin, and the XPay-specific behaviour the suite
//! does not cover: recovery through `find_created`, refunds by payment intent, the single list page,
//! the skin's JSON and error bodies.

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, HeaderValue, Method};
use refunds::sandbox::{Fault, Ledger, RefundRecord, SandboxRequest, Skin};
use refunds::testkit::sandbox_suite::{SandboxHarness, SandboxRun, create_get_list_settle};
use refunds::testkit::{HarnessOptions, fast_retry};
use refunds::{
    CreateRefund, Currency, Delivery, ErrorKind, ListRefunds, Money, PagingStyle, PaymentRef, PaymentRefKind, RefundId,
    RefundProvider, RefundProviderExt, RefundReason, RefundStatus,
};
use refunds_xpay::XPayClient;
use refunds_xpay::sandbox::{API_KEY, XPaySkin, builder_for, start};

const WRONG_KEY: &str = "sk_test_xpay_wrong_0000";

struct Harness;

fn client_for(sandbox: &refunds::sandbox::Sandbox, key: &str, options: &HarnessOptions) -> XPayClient {
    builder_for(sandbox)
        .api_key(key)
        .retry(fast_retry(options.max_retries))
        .timeout(options.timeout)
        .build()
        .expect("client")
}

#[refunds::async_trait]
impl SandboxHarness for Harness {
    async fn start(&self, options: HarnessOptions) -> SandboxRun {
        let sandbox = start().await.expect("bind 127.0.0.1");
        let client = client_for(&sandbox, API_KEY, &options);
        let wrong = client_for(&sandbox, WRONG_KEY, &options);
        SandboxRun::new(sandbox, Arc::new(client), Arc::new(wrong))
    }
}

refunds::sandbox_tests!(Harness);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_zero_decimal_currency() {
    create_get_list_settle(&Harness, Currency::JPY).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_three_decimal_currency() {
    create_get_list_settle(&Harness, Currency::KWD).await;
}

fn egp(minor: i64) -> Money {
    Money::from_minor(minor, Currency::EGP)
}

#[tokio::test]
async fn three_lines_from_start_to_a_refund() {
    let sandbox = start().await.unwrap();
    sandbox.ledger().seed_payment("ch_xyz789", egp(50_000));
    let client = builder_for(&sandbox).build().unwrap();
    let refund = client
        .create_refund(&CreateRefund::new(PaymentRef::charge("ch_xyz789").unwrap()))
        .await
        .unwrap();
    assert_eq!(refund.amount.to_major_string(), "500.00");
    assert_eq!(refund.amount.currency(), Currency::EGP);
    assert!(refund.id.as_str().starts_with("re_"));
    assert_eq!(refund.status, RefundStatus::Pending);
    assert_eq!(client.info().capabilities.list, Some(PagingStyle::SinglePage));
}

#[tokio::test]
async fn a_lost_answer_is_found_again_with_find_created() {
    let sandbox = start().await.unwrap();
    sandbox.ledger().seed_payment("ch_lost", egp(10_000));
    sandbox.ledger().seed_payment("ch_other", egp(10_000));
    let client = builder_for(&sandbox).max_retries(3).build().unwrap();
    // Noise: an earlier refund of the same charge with another amount, and one of another charge.
    let earlier = CreateRefund::new(PaymentRef::charge("ch_lost").unwrap()).amount(egp(1_000));
    client.create_refund(&earlier).await.unwrap();
    let other = CreateRefund::new(PaymentRef::charge("ch_other").unwrap()).amount(egp(2_500));
    client.create_refund(&other).await.unwrap();

    let request = CreateRefund::new(PaymentRef::charge("ch_lost").unwrap())
        .amount(egp(2_500))
        .merchant_reference("order-lost-1");
    sandbox.faults().push(Fault::ResponseLost, 1);
    let e = client.create_refund(&request).await.expect_err("the answer was lost");
    assert_eq!(e.delivery(), Delivery::Ambiguous, "{e}");
    assert_eq!(sandbox.request_count(), 3, "a create is never re-sent");
    let pending = e.pending_create().expect("the request travels with the error");
    assert_eq!(pending, &request);

    let found = client.find_created(pending).await.unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    let ledger_refund = sandbox.ledger().refunds_for_payment("ch_lost").pop().unwrap();
    assert_eq!(found[0].id.as_str(), ledger_refund.id);
    assert_eq!(found[0].amount, egp(2_500));
    assert_eq!(found[0].merchant_reference.as_deref(), Some("order-lost-1"));
    assert_eq!(sandbox.ledger().refund_count(), 3, "applied once");
}

#[tokio::test]
async fn a_create_that_never_arrived_is_not_found() {
    let sandbox = start().await.unwrap();
    sandbox.ledger().seed_payment("ch_reset", egp(10_000));
    let client = builder_for(&sandbox).max_retries(3).build().unwrap();
    let request = CreateRefund::new(PaymentRef::charge("ch_reset").unwrap()).amount(egp(700));
    sandbox.faults().push(Fault::ConnectionReset, 1);
    let e = client.create_refund(&request).await.expect_err("reset");
    assert_eq!(e.delivery(), Delivery::Ambiguous, "{e}");
    assert_eq!(sandbox.request_count(), 1, "not re-sent");
    let found = client.find_created(e.pending_create().unwrap()).await.unwrap();
    assert!(found.is_empty(), "{found:?}");
    assert_eq!(sandbox.ledger().refund_count(), 0);
}

#[tokio::test]
async fn a_timed_out_create_is_found_and_not_repeated() {
    let sandbox = start().await.unwrap();
    sandbox.ledger().seed_payment("ch_slow", egp(10_000));
    let client = builder_for(&sandbox)
        .max_retries(3)
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let request = CreateRefund::new(PaymentRef::charge("ch_slow").unwrap()).amount(egp(900));
    sandbox.faults().push(Fault::Delay(Duration::from_secs(1)), 1);
    let e = client.create_refund(&request).await.expect_err("timeout");
    assert_eq!(e.kind(), &ErrorKind::Timeout);
    assert_eq!(e.delivery(), Delivery::Ambiguous);
    let found = client.find_created(e.pending_create().unwrap()).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(sandbox.request_count(), 2, "one create, one list");
}

#[tokio::test]
async fn refunds_by_payment_intent_and_their_recovery() {
    let sandbox = start().await.unwrap();
    sandbox.ledger().seed_payment("pi_test_xyz789", egp(30_000));
    let client = builder_for(&sandbox).build().unwrap();
    let intent = PaymentRef::payment_intent("pi_test_xyz789").unwrap();
    let partial = client
        .create_refund(&CreateRefund::new(intent.clone()).amount(egp(10_000)))
        .await
        .unwrap();
    assert_eq!(partial.payment, intent);
    assert_eq!(partial.raw.field("paymentIntentId").unwrap(), "pi_test_xyz789");
    assert!(partial.raw.field("chargeId").is_none());
    let request = CreateRefund::new(intent.clone()).amount(egp(5_000));
    sandbox.faults().push(Fault::ResponseLost, 1);
    let e = client.create_refund(&request).await.unwrap_err();
    let found = client.find_created(e.pending_create().unwrap()).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].amount, egp(5_000));
    let rest = client.create_refund(&CreateRefund::new(intent)).await.unwrap();
    assert_eq!(rest.amount, egp(15_000), "a full refund takes what is left");
}

#[tokio::test]
async fn over_refunds_have_precise_kinds_codes_and_request_ids() {
    let sandbox = start().await.unwrap();
    sandbox.ledger().seed_payment("ch_bal", egp(1_000));
    let client = builder_for(&sandbox).build().unwrap();
    let charge = PaymentRef::charge("ch_bal").unwrap();
    let e = client
        .create_refund(&CreateRefund::new(charge.clone()).amount(egp(1_001)))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::AmountExceedsRefundable, "{e}");
    assert_eq!(e.provider_code(), Some("amount_exceeds_refundable"));
    assert_eq!(e.field(), Some("amount"));
    assert!(e.request_id().is_some_and(|id| id.starts_with("req_")), "{e:?}");
    client.create_refund(&CreateRefund::new(charge.clone())).await.unwrap();
    let e = client.create_refund(&CreateRefund::new(charge)).await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::AlreadyRefunded, "{e}");
    assert_eq!(e.provider_code(), Some("charge_already_refunded"));
    let e = client
        .create_refund(&CreateRefund::new(PaymentRef::charge("ch_missing").unwrap()))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::NotFound);
    assert_eq!(e.field(), Some("chargeId"));
    let e = client.get_refund(&RefundId::new("re_nope").unwrap()).await.unwrap_err();
    assert!(e.is_not_found());
    let wrong = builder_for(&sandbox).api_key(WRONG_KEY).build().unwrap();
    let e = wrong.get_refund(&RefundId::new("re_nope").unwrap()).await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Authentication);
    assert_eq!(e.provider_code(), Some("invalid_api_key"));
    assert!(!format!("{e} {e:?}").contains(WRONG_KEY));
}

#[tokio::test]
async fn details_round_trip_and_the_list_is_one_page() {
    let sandbox = start().await.unwrap();
    sandbox.ledger().seed_payment("ch_details", egp(9_000));
    let client = builder_for(&sandbox).build().unwrap();
    let request = CreateRefund::new(PaymentRef::charge("ch_details").unwrap())
        .amount(egp(1_500))
        .reason(RefundReason::Duplicate)
        .description("double charge")
        .metadata("order_id", "6735")
        .merchant_reference("order-6735");
    let created = client.create_refund(&request).await.unwrap();
    assert_eq!(created.reason, Some(RefundReason::Duplicate));
    assert_eq!(created.description.as_deref(), Some("double charge"));
    assert_eq!(created.merchant_reference.as_deref(), Some("order-6735"));
    assert_eq!(created.metadata.get("order_id").map(String::as_str), Some("6735"));
    assert_eq!(created.created_at, Some(sandbox.ledger().now()));
    let record = sandbox.ledger().refund(created.id.as_str()).unwrap();
    assert_eq!(record.reference.as_deref(), Some("order-6735"));
    assert_eq!(record.reason.as_deref(), Some("duplicate"));
    for i in 0..30 {
        sandbox.ledger().insert_refund(RefundRecord::new(
            format!("re_seeded_{i:02}"),
            "ch_details",
            egp(1),
            RefundStatus::Succeeded,
        ));
    }
    sandbox
        .ledger()
        .set_status("re_seeded_00", RefundStatus::Unknown("reversed".into()));
    let page = client.list_refunds(&ListRefunds::new().limit(10)).await.unwrap();
    assert_eq!(
        page.items.len(),
        31,
        "the limit is not sent; the page holds what xpay returns"
    );
    assert_eq!(page.next, None);
    assert_eq!(page.items[1].status, RefundStatus::Unknown("reversed".into()));
    let all = client.all_refunds(ListRefunds::new()).await.unwrap();
    assert_eq!(all.len(), 31);
    assert_eq!(all[0], created, "the list reports what the create did");
    sandbox.ledger().settle_all();
    let got = client.get_refund(&created.id).await.unwrap();
    assert_eq!(got.status, RefundStatus::Succeeded);
}

fn skin_request(method: Method, path: &str, body: &str) -> SandboxRequest {
    let mut headers = HeaderMap::new();
    headers.insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {API_KEY}")).unwrap(),
    );
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    SandboxRequest::new(method, path, headers, body.as_bytes().to_vec())
}

#[test]
fn the_skin_speaks_xpay_json() {
    let skin = XPaySkin::new();
    let ledger = Ledger::new("re_");
    ledger.seed_payment("ch_xyz789", egp(60_000));
    let answer = skin.handle(
        &skin_request(
            Method::POST,
            "/refunds",
            r#"{"chargeId":"ch_xyz789","amount":50000,"reason":"requested_by_customer"}"#,
        ),
        &ledger,
    );
    assert_eq!(answer.status, 200);
    let text = String::from_utf8(answer.body.clone()).unwrap();
    for fragment in [
        r#""id":"re_000001""#,
        r#""chargeId":"ch_xyz789""#,
        r#""amount":"50000""#,
        r#""currency":"EGP""#,
        r#""status":"pending""#,
        r#""reason":"requested_by_customer""#,
        r#""balanceTransactionId":"bt_000001""#,
        r#""createdAt":"2024-01-01T00:00:00.000Z""#,
    ] {
        assert!(text.contains(fragment), "{fragment} in {text}");
    }
    assert!(!text.contains("paymentIntentId"));

    let both = skin.handle(
        &skin_request(
            Method::POST,
            "/refunds",
            r#"{"chargeId":"ch_xyz789","paymentIntentId":"pi_1"}"#,
        ),
        &ledger,
    );
    assert_eq!(both.status, 400);
    let body = both.json_body();
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert_eq!(body["error"]["code"], "parameter_invalid");
    assert_eq!(body["error"]["param"], "chargeId");
    assert!(body["request_id"].as_str().unwrap().starts_with("req_"));
    let neither = skin.handle(&skin_request(Method::POST, "/refunds", r#"{"amount":100}"#), &ledger);
    assert_eq!(neither.status, 400);
    assert_eq!(neither.json_body()["error"]["code"], "parameter_missing");
    let string_amount = skin.handle(
        &skin_request(Method::POST, "/refunds", r#"{"chargeId":"ch_xyz789","amount":"100"}"#),
        &ledger,
    );
    assert_eq!(string_amount.status, 400, "amounts go in as integers");
    let list = skin.handle(&skin_request(Method::GET, "/refunds", ""), &ledger);
    assert_eq!(list.json_body()["data"][0]["amount"], "50000");

    let mut no_auth = skin_request(Method::GET, "/refunds", "");
    no_auth.headers.remove("authorization");
    let denied = skin.handle(&no_auth, &ledger);
    assert_eq!(denied.status, 401);
    assert_eq!(denied.json_body()["error"]["type"], "authentication_error");
    let mut basic = skin_request(Method::GET, "/refunds", "");
    basic
        .headers
        .insert("authorization", HeaderValue::from_str(API_KEY).unwrap());
    assert_eq!(
        skin.handle(&basic, &ledger).status,
        401,
        "the key alone is not a bearer token"
    );
    let unavailable = skin.error_response(503, "down");
    assert_eq!(unavailable.json_body()["error"]["type"], "api_error");
    assert_eq!(ledger.refund_count(), 1);
}

#[tokio::test]
async fn capabilities_say_what_the_client_does() {
    let sandbox = start().await.unwrap();
    let client = builder_for(&sandbox).build().unwrap();
    let caps = &client.info().capabilities;
    assert_eq!(
        caps.payment_kinds,
        [PaymentRefKind::Charge, PaymentRefKind::PaymentIntent]
    );
    assert!(!caps.idempotency.is_native());
    assert!(caps.retrieve && caps.partial_refunds);
    assert!(!caps.cancel && !caps.retrieve_by_payment && !caps.list_status_filter);
    assert_eq!(client.info().id, "xpay");
}
