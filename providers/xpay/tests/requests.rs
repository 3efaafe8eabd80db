//! What goes on the wire, asserted with wiremock matchers, and bad input refused before anything is sent.

use refunds::adapter::paging::offset;
use refunds::testkit::bad_input::Row;
use refunds::{
    CreateRefund, Currency, Delivery, ErrorKind, IdempotencyKey, ListRefunds, Money, PageCursor, PaymentRef, RefundId,
    RefundProvider, RefundReason, RefundStatus,
};
use refunds_xpay::{API_KEY_ENV, XPayClient};
use serde_json::json;
use wiremock::matchers::{any, body_json, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const KEY: &str = "sk_test_xpay_requests_0001";

fn refund_body(id: &str, target: (&str, &str), amount: &str, currency: &str) -> serde_json::Value {
    let mut body = json!({
        "id": id, "amount": amount, "currency": currency, "status": "succeeded",
        "reason": "requested_by_customer", "balanceTransactionId": "bt_1", "createdAt": "2024-01-01T00:00:00.000Z",
    });
    body[target.0] = json!(target.1);
    body
}

fn client(server: &MockServer) -> XPayClient {
    XPayClient::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .max_retries(2)
        .build()
        .unwrap()
}

fn egp(minor: i64) -> Money {
    Money::from_minor(minor, Currency::EGP)
}

fn no_idempotency_header(request: &Request) -> bool {
    !request.headers.contains_key("idempotency-key") && !request.headers.contains_key("x-idempotency-key")
}

fn no_query(request: &Request) -> bool {
    request.url.query().is_none()
}

#[tokio::test]
async fn partial_refund_by_charge_on_the_wire() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/refunds"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .and(header("content-type", "application/json"))
        .and(header("accept", "application/json"))
        .and(body_json(json!({
            "chargeId": "ch_xyz789",
            "amount": 20000,
            "reason": "requested_by_customer",
            "description": "damaged on arrival",
            "metadata": {"order_id": "6735", "merchant_reference": "order-6735"},
        })))
        .and(no_idempotency_header)
        .and(no_query)
        .respond_with(ResponseTemplate::new(200).set_body_json(refund_body(
            "re_1",
            ("chargeId", "ch_xyz789"),
            "20000",
            "EGP",
        )))
        .expect(1)
        .mount(&server)
        .await;
    let request = CreateRefund::new(PaymentRef::charge("ch_xyz789").unwrap())
        .amount(Money::from_major_str("200.00", Currency::EGP).unwrap())
        .reason(RefundReason::RequestedByCustomer)
        .description("damaged on arrival")
        .metadata("order_id", "6735")
        .merchant_reference("order-6735")
        .idempotency_key(IdempotencyKey::new("never-sent-1").unwrap());
    let refund = client(&server).create_refund(&request).await.unwrap();
    assert_eq!(refund.amount, egp(20_000));
    assert_eq!(refund.payment, PaymentRef::charge("ch_xyz789").unwrap());
    let received = &server.received_requests().await.unwrap()[0];
    let text = String::from_utf8_lossy(&received.body);
    assert!(text.contains(r#""amount":20000"#), "an integer, not a string: {text}");
    assert!(!text.contains("never-sent-1"), "the idempotency key goes nowhere");
}

#[tokio::test]
async fn full_refund_by_payment_intent_sends_only_the_intent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/refunds"))
        .and(body_json(json!({"paymentIntentId": "pi_test_xyz789"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(refund_body(
            "re_2",
            ("chargeId", "ch_resolved"),
            "50000",
            "EGP",
        )))
        .expect(1)
        .mount(&server)
        .await;
    let request = CreateRefund::new(PaymentRef::payment_intent("pi_test_xyz789").unwrap());
    let refund = client(&server).create_refund(&request).await.unwrap();
    assert_eq!(
        refund.payment,
        PaymentRef::charge("ch_resolved").unwrap(),
        "the charge the intent resolved to"
    );
    assert_eq!(refund.amount, egp(50_000));
}

#[tokio::test]
async fn the_amount_is_minor_units_and_the_currency_comes_back_from_xpay() {
    // XPay takes no currency on a refund: the minor units go out as they are and the answer says which
    // currency the charge is in.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/refunds"))
        .and(body_json(json!({"chargeId": "ch_kwd", "amount": 1234})))
        .respond_with(ResponseTemplate::new(200).set_body_json(refund_body(
            "re_3",
            ("chargeId", "ch_kwd"),
            "1234",
            "KWD",
        )))
        .expect(1)
        .mount(&server)
        .await;
    let request = CreateRefund::new(PaymentRef::charge("ch_kwd").unwrap())
        .amount(Money::from_major_str("1.234", Currency::KWD).unwrap());
    let refund = client(&server).create_refund(&request).await.unwrap();
    assert_eq!(refund.amount.to_major_string(), "1.234");
    assert_eq!(refund.amount.currency(), Currency::KWD);
}

#[tokio::test]
async fn retrieve_and_list_on_the_wire() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/refunds/re_abc123"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .and(no_query)
        .respond_with(ResponseTemplate::new(200).set_body_json(refund_body(
            "re_abc123",
            ("chargeId", "ch_1"),
            "100",
            "EGP",
        )))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/refunds"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .and(no_query)
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [refund_body("re_a", ("chargeId", "ch_1"), "100", "EGP"),
                     refund_body("re_b", ("paymentIntentId", "pi_2"), "200", "EGP")],
        })))
        .expect(2)
        .mount(&server)
        .await;
    let client = client(&server);
    let refund = client.get_refund(&RefundId::new("re_abc123").unwrap()).await.unwrap();
    assert_eq!(refund.id.as_str(), "re_abc123");
    for request in [ListRefunds::new(), ListRefunds::new().limit(50)] {
        let page = client.list_refunds(&request).await.unwrap();
        assert_eq!(page.items.len(), 2);
        assert_eq!(page.next, None, "a single page, always");
        assert_eq!(page.total, None);
    }
}

#[tokio::test]
async fn a_create_is_never_re_sent_after_a_500() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/refunds"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({
            "error": {"type": "api_error", "code": null, "message": "internal error", "param": null, "doc_url": null},
            "request_id": "req_500",
        })))
        .expect(1)
        .mount(&server)
        .await;
    let request = CreateRefund::new(PaymentRef::charge("ch_1").unwrap())
        .amount(egp(100))
        .idempotency_key(IdempotencyKey::new("k-500").unwrap());
    let e = client(&server).create_refund(&request).await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::ProviderUnavailable);
    assert_eq!(e.delivery(), Delivery::Ambiguous);
    assert_eq!(e.request_id(), Some("req_500"));
    assert!(!e.is_retryable(), "not replay-safe");
    assert_eq!(e.pending_create(), Some(&request));
}

#[tokio::test]
async fn reads_are_retried_after_a_503() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/refunds/re_1"))
        .respond_with(ResponseTemplate::new(503).set_body_json(json!({
            "error": {"type": "api_error", "message": "unavailable"}, "request_id": "req_503",
        })))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/refunds/re_1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(refund_body("re_1", ("chargeId", "ch_1"), "1", "EGP")))
        .mount(&server)
        .await;
    let client = XPayClient::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .retry(refunds::testkit::fast_retry(1))
        .build()
        .unwrap();
    assert!(client.get_refund(&RefundId::new("re_1").unwrap()).await.is_ok());
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

/// The SDK's own rules (amounts, text lengths, payment kind) through this client. The shared table
/// (`bad_input_tests!` in `tests/conformance.rs`) tries most of these too; XPay's own rows are in
/// [`provider_specific_rows`].
#[tokio::test]
async fn bad_creates_are_refused_before_sending() {
    let server = refuse_everything().await;
    let client = client(&server);
    let charge = PaymentRef::charge("ch_1").unwrap();
    let cases: Vec<(CreateRefund, &str)> = vec![
        (CreateRefund::new(charge.clone()).amount(egp(0)), "amount"),
        (CreateRefund::new(charge.clone()).amount(egp(-100)), "amount"),
        (
            CreateRefund::new(charge.clone()).description("x".repeat(501)),
            "description",
        ),
        (CreateRefund::new(charge.clone()).description(""), "description"),
        (
            CreateRefund::new(charge.clone()).merchant_reference("a\u{7}b"),
            "merchant_reference",
        ),
        (
            CreateRefund::new(charge.clone()).merchant_reference("r".repeat(501)),
            "merchant_reference",
        ),
        (
            CreateRefund::new(charge.clone()).reason(RefundReason::Other("y".repeat(501))),
            "reason",
        ),
        (
            CreateRefund::new(charge.clone()).metadata("k".repeat(41), "v"),
            "metadata",
        ),
        (CreateRefund::new(PaymentRef::payment("pay_1").unwrap()), "payment"),
    ];
    for (request, field) in cases {
        let e = client.create_refund(&request).await.expect_err(field);
        assert!(matches!(e.kind(), ErrorKind::InvalidRequest { .. }), "{e}");
        assert_eq!(e.field(), Some(field), "{e}");
        assert_eq!(e.delivery(), Delivery::NotSent);
        assert!(e.pending_create().is_none());
    }
    // More decimals than the currency has cannot even become a `Money`.
    let e = Money::from_major_str("10.005", Currency::EGP)
        .map_err(refunds::Error::from)
        .unwrap_err();
    assert_eq!(e.field(), Some("amount"));
    let e = Money::from_major_str("1.5", Currency::JPY)
        .map_err(refunds::Error::from)
        .unwrap_err();
    assert_eq!(e.field(), Some("amount"));
    assert_eq!(server.received_requests().await.unwrap().len(), 0);
}

#[tokio::test]
async fn what_xpay_cannot_do_is_unsupported_before_sending() {
    let server = refuse_everything().await;
    let client = client(&server);
    let e = client
        .list_refunds(&ListRefunds::new().status(RefundStatus::Pending))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Unsupported);
    assert_eq!(e.provider(), Some("xpay"));
    assert_eq!(e.delivery(), Delivery::NotSent);
    let id = RefundId::new("re_1").unwrap();
    assert_eq!(
        client.cancel_refund(&id).await.unwrap_err().kind(),
        &ErrorKind::Unsupported
    );
    assert_eq!(
        client
            .get_refund_by_payment(&PaymentRef::charge("ch_1").unwrap())
            .await
            .unwrap_err()
            .kind(),
        &ErrorKind::Unsupported
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[test]
fn configuration_is_checked_and_never_printed() {
    let e = XPayClient::builder().build().unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Configuration);
    assert!(e.to_string().contains(API_KEY_ENV), "{e}");
    let e = XPayClient::builder()
        .api_key(KEY)
        .base_url("http://api.xpay.app")
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Configuration, "plain http only to loopback");
    assert_eq!(
        XPayClient::builder().api_key("has space").build().unwrap_err().kind(),
        &ErrorKind::Configuration
    );
    let builder = XPayClient::builder().api_key(KEY);
    let client = builder.clone().build().unwrap();
    for text in [format!("{builder:?}"), format!("{client:?}")] {
        assert!(!text.contains(KEY), "{text}");
    }
    assert!(
        format!("{client:?}").contains("https://api.xpay.app/"),
        "the default base url"
    );
    if std::env::var_os(API_KEY_ENV).is_none() {
        assert_eq!(XPayClient::from_env().unwrap_err().kind(), &ErrorKind::Configuration);
    }
}

#[tokio::test]
async fn an_unreadable_create_answer_is_ambiguous_and_carries_the_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/refunds"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("<html>ok</html>", "text/html"))
        .expect(1)
        .mount(&server)
        .await;
    let request = CreateRefund::new(PaymentRef::charge("ch_1").unwrap()).amount(egp(100));
    let e = client(&server).create_refund(&request).await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Decode);
    assert_eq!(e.delivery(), Delivery::Ambiguous, "xpay answered: the refund may exist");
    assert_eq!(e.http_status(), Some(200));
    assert_eq!(e.provider(), Some("xpay"));
    assert_eq!(e.pending_create(), Some(&request));
}

#[tokio::test]
async fn find_created_matches_an_intent_through_the_charge_it_resolved_to() {
    let server = MockServer::start().await;
    let mut resolved = refund_body("re_mine", ("chargeId", "ch_resolved"), "2500", "EGP");
    resolved["paymentIntentId"] = json!("pi_mine");
    resolved["metadata"] = json!({"merchant_reference": "order-1"});
    let mut other_amount = refund_body("re_other_amount", ("chargeId", "ch_resolved"), "999", "EGP");
    other_amount["paymentIntentId"] = json!("pi_mine");
    let mut other_intent = refund_body("re_other_intent", ("chargeId", "ch_x"), "2500", "EGP");
    other_intent["paymentIntentId"] = json!("pi_other");
    let no_intent = refund_body("re_no_intent", ("chargeId", "ch_resolved"), "2500", "EGP");
    Mock::given(method("GET"))
        .and(path("/refunds"))
        .and(no_query)
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            resolved,
            other_amount,
            other_intent,
            no_intent
        ])))
        .expect(2)
        .mount(&server)
        .await;
    let client = client(&server);
    let by_intent = CreateRefund::new(PaymentRef::payment_intent("pi_mine").unwrap())
        .amount(egp(2500))
        .merchant_reference("order-1");
    let found = client.find_created(&by_intent).await.unwrap();
    let ids: Vec<&str> = found.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["re_mine"]);
    let by_charge = CreateRefund::new(PaymentRef::charge("ch_resolved").unwrap()).amount(egp(2500));
    let found = client.find_created(&by_charge).await.unwrap();
    let ids: Vec<&str> = found.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["re_mine", "re_no_intent"], "several candidates are all returned");
}

/// A server that answers nothing successfully and must receive nothing (`.expect(0)`, checked on drop).
async fn refuse_everything() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    server
}

/// XPay's own bad-input rows, the ones the shared table (`bad_input_tests!` in `tests/conformance.rs`)
/// does not try: the merchant reference travels in `metadata` (so it may not collide with a metadata
/// key nor push the map past its limit), and the list, being one page with no documented parameters,
/// still checks the limit (1..=100) and accepts no cursor at all (the shared table tries list rows only
/// on offset- and cursor-paged providers).
async fn provider_specific_rows(client: &XPayClient) -> Vec<Row> {
    let create = |request: CreateRefund| async move { client.create_refund(&request).await.map(drop) };
    let list = |request: ListRefunds| async move { client.list_refunds(&request).await.map(drop) };
    let cursor = |token: &str| ListRefunds::new().cursor(PageCursor::from_token(token));
    let row = |case: &str, field: &'static str, outcome| Row {
        case: case.to_owned(),
        field,
        outcome,
    };
    let charge = PaymentRef::charge("ch_bad").unwrap();
    let mut crowded = CreateRefund::new(charge.clone()).merchant_reference("order-1");
    for i in 0..50 {
        crowded = crowded.metadata(format!("k{i}"), "v");
    }
    vec![
        row(
            "a merchant reference and a metadata key `merchant_reference`",
            "merchant_reference",
            create(
                CreateRefund::new(charge.clone())
                    .metadata("merchant_reference", "a")
                    .merchant_reference("b"),
            )
            .await,
        ),
        row(
            "50 metadata entries plus a merchant reference (51 in xpay's metadata)",
            "metadata",
            create(crowded).await,
        ),
        row("list limit 0", "limit", list(ListRefunds::new().limit(0)).await),
        row(
            "list limit 101 (above the assumed maximum of 100)",
            "limit",
            list(ListRefunds::new().limit(101)).await,
        ),
        row(
            "list limit u32::MAX",
            "limit",
            list(ListRefunds::new().limit(u32::MAX)).await,
        ),
        row(
            "an offset cursor of another provider",
            "cursor",
            list(ListRefunds::new().cursor(offset::cursor("fourgeeks", 10))).await,
        ),
        row(
            "an xpay offset cursor (xpay issues no cursors)",
            "cursor",
            list(cursor("xpay:o:10")).await,
        ),
        row("a forged cursor", "cursor", list(cursor("zzz")).await),
        row("an empty cursor", "cursor", list(cursor("")).await),
    ]
}

#[tokio::test]
async fn provider_specific_bad_input_is_refused_before_sending() {
    let server = refuse_everything().await;
    let client = client(&server);
    let rows = provider_specific_rows(&client).await;
    refunds::testkit::bad_input::assert_refused(&rows);
    server.verify().await;
    let sent = server.received_requests().await.unwrap().len();
    assert_eq!(sent, 0, "no bad request was sent");
    println!(
        "xpay: {} provider-specific bad-input rows, {sent} requests sent",
        rows.len()
    );
}
