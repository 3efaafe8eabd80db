//! XPay's own behaviour (the shared suite is in `suite.rs`, webhooks in `webhooks.rs`): its documented
//! bodies and assumed list envelopes (`fixtures/documented.json`, run by `refunds_testkit::fixtures`),
//! the delivery rules of a provider without idempotency, its red-team attacks (unkeyed, marker).

use std::time::Duration;

use refunds::sandbox::Fault;
use refunds::{CreateRefund, Currency, Delivery, ErrorKind, Money, PaymentRef, RefundId, RefundProvider};
use refunds_testkit::fast_retry;
use refunds_xpay::{XPayClient, XPayClientBuilder, sandbox};
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::any};

const KEY: &str = "sk_test_xpay_own_0001";
const USD_REFUND: &str = r#"{"id":"re_1","chargeId":"ch_1","amount":"50000","currency":"USD","status":"succeeded"}"#;

/// A client of an EGP account (the currency guard on).
fn client(base_url: &str) -> XPayClient {
    builder(base_url).currency(Currency::EGP).build().unwrap()
}

fn usd(minor: i64) -> Money {
    Money::from_minor(minor, Currency::USD)
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

refunds_testkit::readme_status_table_test!(include_str!("../README.md"), &refunds_xpay::STATUSES);

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
        // xpay echoes metadata, so a marker was written; no key is made up.
        let Some(marker) = pending.marker.clone() else {
            panic!("no marker")
        };
        let as_sent = create().metadata(refunds::adapter::MARKER_KEY, marker);
        assert_eq!(pending.request, as_sent, "{status}: as sent");
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
    assert_eq!(refund.amount, usd(50_000), "not 500.00 EGP");
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
async fn the_sandbox_refunds_by_payment_intent() {
    let sandbox = sandbox::start().await.unwrap();
    let egp = |minor| Money::from_minor(minor, Currency::EGP);
    sandbox.ledger().seed_payment("pi_test_xyz789", egp(30_000));
    let client = sandbox::builder_for(&sandbox).build().unwrap();
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

/// B3 on a real unkeyed provider: xpay answers a create 409 after applying it (the sandbox's
/// `AppliedThen(409)`, "the provider refusing what it has just done"). xpay's own error table says
/// `invalid_request_error` covers 400, 404 and 409; the engine calls the create `Rejected` with no
/// pending create, so the recipe's `(None, None)` arm says nothing was applied and the application
/// creates again. No stated assumption covers an unkeyed 409 (only an unkeyed 429 is "truthful").
#[tokio::test]
async fn red_xpay_applied_then_409_is_a_definite_refusal() {
    let sandbox = sandbox::start().await.unwrap();
    sandbox.ledger().seed_payment("ch_red_409", usd(10_000));
    let client = sandbox::builder_for(&sandbox).retry(fast_retry(2)).build().unwrap();
    let request = CreateRefund::new(PaymentRef::charge("ch_red_409").unwrap()).amount(usd(1000));
    sandbox.faults().push(Fault::AppliedThen(409), 1);
    let error = client.create_refund(&request).await.unwrap_err();
    let nothing_applied_says_the_recipe = error.refund().is_none() && error.pending().is_none();
    eprintln!("delivery {:?}, kind {:?}: {error}", error.delivery(), error.kind());
    if nothing_applied_says_the_recipe {
        client.create_refund(&request).await.unwrap();
    }
    let refunds = sandbox.ledger().refunds();
    assert!(
        !nothing_applied_says_the_recipe,
        "a 409 that may hide an apply came back as a definite refusal; after the recipe: {} refunds of 10.00 \
         for one",
        refunds.len()
    );
}

/// B5 (fixed: the test now holds the defence). A create marker the SDK did not write. `Client::mark`
/// adopts a `refunds_marker` metadata entry already in the caller's request as "this create's marker" ("a pending create sent again keeps
/// it": but re-sends never go through `mark`). `Refund::metadata` hands that entry to the
/// application, so an application that refunds again "with the same metadata as the last refund"
/// sends another create's marker; recovery then takes the earlier refund as proof (`Evidence::Marker`)
/// that this create was applied, and the create that was never applied is booked as done.
#[tokio::test]
async fn red_copied_metadata_marker_makes_another_creates_refund_proof() {
    let sandbox = sandbox::start().await.unwrap();
    sandbox.ledger().seed_payment("ch_red_marker", usd(10_000));
    let builder = sandbox::builder_for(&sandbox).retry(fast_retry(0));
    let client = builder.timeout(Duration::from_secs(5)).build().unwrap();
    let first = CreateRefund::new(PaymentRef::charge("ch_red_marker").unwrap())
        .amount(usd(1000))
        .metadata("order", "42");
    let r1 = client.create_refund(&first).await.unwrap();
    eprintln!("first refund {} metadata {:?}", r1.id, r1.metadata);
    // A second partial refund of the same order, "with the same metadata": never applied (the
    // connection is reset before anything happens), ambiguous.
    let mut second = CreateRefund::new(PaymentRef::charge("ch_red_marker").unwrap()).amount(usd(1000));
    for (k, v) in &r1.metadata {
        second = second.metadata(k.clone(), v.clone());
    }
    // The fix: a create carrying the SDK's marker it did not write is refused before sending, naming
    // the field, so no later recovery can take the first refund as this create's proof.
    let error = client.create_refund(&second).await.unwrap_err();
    assert_eq!(error.delivery(), Delivery::NotSent, "{error}");
    assert_eq!(error.field(), Some("metadata"), "{error}");
    assert!(error.pending().is_none());
    assert_eq!(sandbox.ledger().refunds().len(), 1, "nothing sent");
}

/// B6 (functional, no money at risk). The SDK's own marker takes a metadata slot: a request with 49
/// metadata entries and a merchant reference (which xpay carries in metadata: 50 entries, within the
/// limit) is refused before sending, "at most 50 entries including the merchant reference", because
/// the engine added `refunds_marker` first.
#[tokio::test]
async fn red_marker_makes_a_valid_request_too_big() {
    let sandbox = sandbox::start().await.unwrap();
    sandbox.ledger().seed_payment("ch_red_meta", usd(10_000));
    let client = sandbox::builder_for(&sandbox).build().unwrap();
    let mut request = CreateRefund::new(PaymentRef::charge("ch_red_meta").unwrap())
        .amount(usd(100))
        .merchant_reference("order-7");
    for i in 0..49 {
        request = request.metadata(format!("k{i}"), "v");
    }
    request.validate().unwrap();
    let outcome = client.create_refund(&request).await;
    eprintln!("{:?}", outcome.as_ref().map(|r| &r.id));
    assert!(outcome.is_ok(), "{}", outcome.unwrap_err());
}
