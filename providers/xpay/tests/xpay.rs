//! XPay's own behaviour: the documented bodies in `fixtures/documented.json` (refund objects, error
//! envelopes, create bodies; `refunds_testkit::fixtures`) and the delivery rules of a provider without
//! idempotency.

use refunds::{CreateRefund, Currency, Delivery, ErrorKind, ListRefunds, Money, PaymentRef, RefundId, RefundProvider};
use refunds_xpay::{XPayClient, XPayClientBuilder};
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::any};

const KEY: &str = "sk_test_xpay_own_0001";
const USD_REFUND: &str = r#"{"id":"re_1","chargeId":"ch_1","amount":"50000","currency":"USD","status":"succeeded"}"#;

/// A client of an EGP account (the currency guard on).
fn client(base_url: &str) -> XPayClient {
    builder(base_url).currency(Currency::EGP).build().unwrap()
}

fn builder(base_url: &str) -> XPayClientBuilder {
    XPayClient::builder().api_key(KEY).base_url(base_url).max_retries(2)
}

/// A server answering `status` and `body` (the first `times` requests when given; then an EGP refund).
async fn answering(status: u16, body: &str, times: Option<u64>) -> MockServer {
    let server = MockServer::start().await;
    let answer = |status, body| ResponseTemplate::new(status).set_body_raw(body, "application/json");
    let first = Mock::given(any()).respond_with(answer(status, body.to_owned()));
    first
        .up_to_n_times(times.unwrap_or(u64::MAX))
        .with_priority(1)
        .mount(&server)
        .await;
    let then = Mock::given(any()).respond_with(answer(200, USD_REFUND.replace("USD", "EGP")));
    then.mount(&server).await;
    server
}

async fn sent(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

// The documented bodies (create bodies and refusals, refund objects, error envelopes), run against
// the client over wiremock.
refunds_testkit::fixture_tests!(include_str!("fixtures/documented.json"), builder);

fn create() -> CreateRefund {
    CreateRefund::new(PaymentRef::charge("ch_1").unwrap()).amount(Money::from_minor(100, Currency::EGP))
}

#[tokio::test]
async fn a_create_is_re_sent_after_a_429_only() {
    let unavailable = r#"{"error":{"type":"api_error","message":"internal error"},"request_id":"req_500"}"#;
    for (status, kind) in [
        (500, ErrorKind::ProviderUnavailable),
        (408, ErrorKind::Timeout),
        (303, ErrorKind::Other),
        (200, ErrorKind::Decode),
    ] {
        let body = if status == 200 { "<html>ok</html>" } else { unavailable };
        let server = answering(status, body, Some(1)).await;
        let e = client(&server.uri()).create_refund(&create()).await.unwrap_err();
        assert_eq!((e.kind(), e.delivery()), (&kind, Delivery::Ambiguous), "{status}: {e}");
        assert_eq!(sent(&server).await, 1, "{status}: a create is never re-sent");
        assert!(!e.is_retryable(), "{status}");
        let pending = e.pending().expect("the request travels with the error");
        let marker = pending
            .marker
            .clone()
            .expect("xpay echoes metadata: a marker was written");
        let as_sent = create().metadata(refunds::adapter::MARKER_KEY, marker);
        assert_eq!(
            pending.request, as_sent,
            "{status}: as sent (with its marker), no key made up"
        );
    }
    let limited = r#"{"error":{"type":"invalid_request_error","code":"rate_limit","message":"slow down"}}"#;
    let server = answering(429, limited, Some(1)).await;
    let e = client(&server.uri()).create_refund(&create()).await.unwrap_err();
    assert_eq!(sent(&server).await, 2, "refused for the rate, then made once");
    // The documented answer is for 500.00 EGP, not the 1.00 asked: applied, never `Ok`.
    assert_eq!(e.delivery(), Delivery::Applied, "{e}");
    assert_eq!(e.refund().unwrap().amount, Money::from_minor(50_000, Currency::EGP));
}

/// Safety finding 8: the configured currency guards creates; what XPay reports is never relabelled.
#[tokio::test]
async fn a_refund_in_another_currency_than_the_configured_one_keeps_its_own() {
    let server = answering(200, USD_REFUND, None).await;
    let client = client(&server.uri());
    let refund = client.get_refund(&RefundId::new("re_1").unwrap()).await.unwrap();
    assert_eq!(
        refund.amount,
        Money::from_minor(50_000, Currency::USD),
        "not 500.00 EGP"
    );
    assert_eq!(client.refund_from_json(USD_REFUND.as_bytes()).unwrap(), refund);
    let e = client.create_refund(&create().amount(refund.amount)).await.unwrap_err();
    assert_eq!((e.field(), e.delivery()), (Some("amount"), Delivery::NotSent));
    assert_eq!(sent(&server).await, 1, "the create was not sent");
    let lookup = |name: &str| (name == "XPAY_CURRENCY").then(|| "EGX".to_owned());
    let e = XPayClientBuilder::from_lookup(lookup).api_key(KEY).build().unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Configuration, "a malformed XPAY_CURRENCY");
    assert_eq!(builder(&server.uri()).build().unwrap().currency(), None, "optional");
}

#[tokio::test]
async fn list_envelopes_are_read_tolerantly() {
    let list = |body: String| async move {
        let server = answering(200, &body, None).await;
        client(&server.uri()).list_refunds(&ListRefunds::new()).await
    };
    for page in ["[{}]", r#"{"data":[{}]}"#, r#"{"items":[{}],"hasMore":true}"#] {
        let page = list(page.replace("{}", USD_REFUND)).await.unwrap();
        assert_eq!(
            (page.items[0].raw.get(), page.next, page.total),
            (USD_REFUND, None, None)
        );
    }
    let e = list(r#"{"refunds":[]}"#.to_owned()).await.unwrap_err();
    assert_eq!((e.kind(), e.body()), (&ErrorKind::Decode, Some(r#"{"refunds":[]}"#)));
}

#[tokio::test]
async fn the_sandbox_refunds_by_payment_intent() {
    let sandbox = refunds_xpay::sandbox::start().await.unwrap();
    let egp = |minor| Money::from_minor(minor, Currency::EGP);
    sandbox.ledger().seed_payment("pi_test_xyz789", egp(30_000));
    let client = refunds_xpay::sandbox::builder_for(&sandbox).build().unwrap();
    let intent = PaymentRef::payment_intent("pi_test_xyz789").unwrap();
    let by_intent = CreateRefund::new(intent.clone()).amount(egp(10_000));
    let partial = client.create_refund(&by_intent).await.unwrap();
    assert_eq!((&partial.payment, partial.raw.field("chargeId")), (&intent, None));
    let rest = client.create_refund(&CreateRefund::new(intent)).await.unwrap();
    assert_eq!(rest.amount, egp(20_000), "a full refund takes what is left");
    let unknown = CreateRefund::new(PaymentRef::charge("ch_none").unwrap());
    let e = client.create_refund(&unknown).await.unwrap_err();
    assert_eq!((e.kind(), e.field()), (&ErrorKind::NotFound, Some("chargeId")));
    assert!(e.request_id().is_some_and(|id| id.starts_with("req_sbx")), "{e:?}");
}

/// The README's status table says what `STATUSES` does.
#[test]
fn the_readme_status_table_is_the_code_s() {
    refunds_testkit::readme::assert_readme_status_table(include_str!("../README.md"), &refunds_xpay::STATUSES);
}
