//! Bias's documented bodies read byte-exact, each error type mapped, and the requests as they go on
//! the wire: Bearer, one `idempotency-key` across retries, `payment`/`amount` only, list parameters.

use refunds::{
    CreateRefund, Currency, Delivery, ErrorKind, ListRefunds, Money, PaymentRef, RefundProvider, RefundStatus,
};
use refunds_bias::{BiasClient, BiasExpand, cursor_before};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk_test_bias_wire_0123456789";
const REFUND: &str = include_str!("fixtures/refund.json");
const LIST: &str = include_str!("fixtures/list.json");

fn client(base: &str, retries: u32) -> BiasClient {
    let retry = refunds_testkit::fast_retry(retries);
    BiasClient::builder()
        .api_key(KEY)
        .base_url(base)
        .retry(retry)
        .build()
        .unwrap()
}

fn pay() -> PaymentRef {
    PaymentRef::payment("pay_lUY2g0TuPzN9qi4couahd3").unwrap()
}

#[test]
fn the_documented_refund_and_list_are_read_byte_exact() {
    let client = client("https://api.biaspay.com/v1", 0);
    assert_eq!(client.base_url(), "https://api.biaspay.com/v1");
    assert_eq!(client.livemode(), Some(false));
    let refund = client.refund_from_json(REFUND.as_bytes()).unwrap();
    assert_eq!(refund.raw.get(), REFUND);
    assert_eq!(refund.id.as_str(), "re_3UgC74NSEMIWiFK5s3tZ82");
    assert_eq!(refund.amount, Money::from_minor(1000, Currency::USD), "USD assumed");
    assert_eq!(refund.status, RefundStatus::Succeeded);
    assert_eq!(refund.created_at.unwrap().unix_timestamp(), 1_750_000_000);
    assert_eq!(refund.livemode, Some(false));

    // A live object read with a test key belongs to another environment.
    let live = REFUND.replace("\"live\":false", "\"live\":true");
    let e = client.refund_from_json(live.as_bytes()).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Decode);
    assert!(e.message().contains("live"), "{e}");
}

#[tokio::test]
async fn list_pages_keep_raw_and_expand_is_typed() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/refunds"))
        .respond_with(ResponseTemplate::new(200).set_body_string(LIST))
        .mount(&server)
        .await;
    let client = client(&server.uri(), 0);
    let page = client.list_refunds(&ListRefunds::new().limit(1000)).await.unwrap();
    let second = &LIST[LIST.find("{\"object\":\"refund\", ").unwrap()..LIST.len() - 2];
    assert_eq!(page.items[1].raw.get(), second);
    assert_eq!(page.items[1].failure_reason.as_deref(), Some("card closed"));
    assert!(page.next.is_some(), "has_more");
    let back = ListRefunds::new().cursor(cursor_before(&page.items[0].id));
    let expanded = client.list_refunds_expanded(&back).await.unwrap();
    let payment = expanded.items[1].payment.clone().expect("expanded");
    assert_eq!(
        (payment.id.as_str(), payment.amount_refunded.map(|a| a.0)),
        ("pay_2", Some(250))
    );
    assert!(expanded.items[0].payment.is_none());

    let sent = server.received_requests().await.unwrap();
    assert_eq!(sent[0].url.query(), Some("limit=1000"));
    assert_eq!(
        sent[1].url.query(),
        Some("limit=50&ending_before=re_3UgC74NSEMIWiFK5s3tZ82&expand%5Bpayment%5D=true")
    );
    let e = client.list_refunds(&ListRefunds::new().limit(1001)).await.unwrap_err();
    assert_eq!(e.delivery(), Delivery::NotSent);
}

#[tokio::test]
async fn each_error_type_is_mapped() {
    let cases = [
        (
            "invalid_request_error",
            400,
            ErrorKind::Validation,
            Some("parameter_invalid"),
        ),
        ("payment_error", 402, ErrorKind::Validation, Some("insufficient_funds")),
        (
            "idempotency_error",
            400,
            ErrorKind::IdempotencyConflict,
            Some("idempotency_error"),
        ),
        (
            "rate_limit_error",
            429,
            ErrorKind::RateLimited,
            Some("rate_limit_error"),
        ),
        (
            "server_error",
            500,
            ErrorKind::ProviderUnavailable,
            Some("server_error"),
        ),
    ];
    for (name, status, kind, code) in cases {
        let server = MockServer::start().await;
        let body =
            std::fs::read_to_string(format!("{}/tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"))).unwrap();
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(status).set_body_string(body.clone()))
            .mount(&server)
            .await;
        let e = client(&server.uri(), 0)
            .get_refund(&refunds::RefundId::new("re_1").unwrap())
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &kind, "{name}: {e}");
        assert_eq!(e.provider_code(), code, "{name}");
        assert_eq!(e.provider(), Some("bias"));
        if name == "invalid_request_error" {
            assert_eq!(e.field(), Some("amount"), "issues become field errors");
        }
    }
}

#[tokio::test]
async fn creates_reuse_one_key_across_retries_and_send_only_payment_and_amount() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/refunds"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/refunds"))
        .respond_with(ResponseTemplate::new(200).set_body_string(REFUND))
        .mount(&server)
        .await;
    let client = client(&server.uri(), 2);
    let request = CreateRefund::new(pay()).amount(Money::from_minor(1000, Currency::USD));
    let refund = client.create_refund(&request).await.unwrap();
    assert_eq!(refund.raw.get(), REFUND);
    let sent = server.received_requests().await.unwrap();
    assert_eq!(sent.len(), 2, "a 503 on a keyed create is re-sent");
    let key = |i: usize| sent[i].headers.get("idempotency-key").unwrap().clone();
    assert_eq!(key(0), key(1), "the same generated key on every attempt");
    assert_eq!(sent[0].headers.get("authorization").unwrap(), &format!("Bearer {KEY}"));
    let body: serde_json::Value = serde_json::from_slice(&sent[0].body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"amount": 1000, "payment": "pay_lUY2g0TuPzN9qi4couahd3"})
    );

    for refused in [
        CreateRefund::new(pay()).reason(refunds::RefundReason::Duplicate),
        CreateRefund::new(pay()).description("d"),
        CreateRefund::new(pay()).merchant_reference("order-1"),
        CreateRefund::new(pay()).metadata("k", "v"),
    ] {
        let e = client.create_refund(&refused).await.unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::InvalidRequest { .. }), "{e}");
        assert_eq!(e.delivery(), Delivery::NotSent);
    }
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        2,
        "nothing refused was sent"
    );
}

#[tokio::test]
async fn a_redirect_on_a_create_is_ambiguous() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(303).insert_header("location", "/refunds/re_1"))
        .mount(&server)
        .await;
    let e = client(&server.uri(), 0)
        .create_refund(&CreateRefund::new(pay()))
        .await
        .unwrap_err();
    assert_eq!(e.delivery(), Delivery::Ambiguous, "{e}");
    assert!(
        e.pending_create().unwrap().idempotency_key_given().is_some(),
        "the key travels with it"
    );
}
