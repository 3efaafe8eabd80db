//! Request facts on the wire (wiremock matchers) and bad input refused before anything is sent
//! (`.expect(0)`), plus configuration: hosts from the key, environment variables, redaction.

use std::collections::HashSet;

use refunds::adapter::base64_encode;
use refunds::{
    CreateRefund, Currency, Delivery, ErrorKind, IdempotencyKey, ListRefunds, Money, PageCursor, PaymentRef, RefundId,
    RefundProvider, RefundReason,
};
use refunds_wooshpay::{LIVE_BASE_URL, TEST_BASE_URL, WooshPayClient};
use serde_json::json;
use wiremock::matchers::{any, body_json, header, header_exists, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const KEY: &str = "sk_test_requests_9c1f00aa";

fn basic_header() -> String {
    format!("Basic {}", base64_encode(format!("{KEY}:").as_bytes()))
}

fn usd(minor: i64) -> Money {
    Money::from_minor(minor, Currency::USD)
}

fn pi(id: &str) -> PaymentRef {
    PaymentRef::payment_intent(id).unwrap()
}

fn refund_answer(payment: &str, minor: i64, currency: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "re_1", "object": "refund", "amount": minor, "created": 1_700_000_000,
        "currency": currency, "metadata": {}, "payment_intent": payment, "reason": null,
        "status": "pending", "description": null, "failure_reason": null,
    }))
}

fn client_for(server: &MockServer) -> WooshPayClient {
    WooshPayClient::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .max_retries(0)
        .build()
        .unwrap()
}

fn idempotency_key_of(request: &Request) -> String {
    request
        .headers
        .get("idempotency-key")
        .expect("an Idempotency-Key header")
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_partial_create_on_the_wire() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/refunds"))
        .and(header("authorization", basic_header().as_str()))
        .and(header("content-type", "application/json"))
        .and(header("accept", "application/json"))
        .and(header("idempotency-key", "order-42-refund"))
        .and(body_json(json!({
            "payment_intent": "pi_42",
            "amount": "2500",
            "reason": "fraudulent",
            "metadata": {"merchant_reference": "order-42", "ticket": "T-7"},
        })))
        .respond_with(refund_answer("pi_42", 2500, "usd"))
        .expect(1)
        .mount(&server)
        .await;
    let refund = client_for(&server)
        .create_refund(
            &CreateRefund::new(pi("pi_42"))
                .amount(Money::from_major_str("25.00", Currency::USD).unwrap())
                .reason(RefundReason::Fraudulent)
                .merchant_reference("order-42")
                .metadata("ticket", "T-7")
                .idempotency_key(IdempotencyKey::new("order-42-refund").unwrap()),
        )
        .await
        .expect("create");
    assert_eq!(refund.amount, usd(2500));
}

#[tokio::test]
async fn a_full_create_sends_no_amount_and_a_generated_key() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/refunds"))
        .and(header_exists("idempotency-key"))
        .and(body_json(json!({"payment_intent": "pi_full"})))
        .respond_with(refund_answer("pi_full", 5000, "usd"))
        .expect(2)
        .mount(&server)
        .await;
    let client = client_for(&server);
    for _ in 0..2 {
        client
            .create_refund(&CreateRefund::new(pi("pi_full")))
            .await
            .expect("create");
    }
    let keys: HashSet<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(idempotency_key_of)
        .collect();
    assert_eq!(keys.len(), 2, "a fresh key per create: {keys:?}");
    for key in keys {
        assert!(key.starts_with("rfd_") && key.len() == 36, "{key}");
    }
}

#[tokio::test]
async fn retries_of_one_create_reuse_its_generated_key() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(503).set_body_json(json!({"error": {"type": "api_error", "message": "down"}})),
        )
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/refunds"))
        .respond_with(refund_answer("pi_retry", 100, "usd"))
        .with_priority(5)
        .mount(&server)
        .await;
    let client = WooshPayClient::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .retry(refunds::testkit::fast_retry(2))
        .build()
        .unwrap();
    client
        .create_refund(&CreateRefund::new(pi("pi_retry")).amount(usd(100)))
        .await
        .expect("third attempt succeeds");
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 3);
    let keys: HashSet<String> = received.iter().map(idempotency_key_of).collect();
    assert_eq!(keys.len(), 1, "one key for all attempts: {keys:?}");
    assert!(received.windows(2).all(|w| w[0].body == w[1].body));
}

#[tokio::test]
async fn amounts_are_minor_unit_strings_in_each_exponent() {
    for (money, wire, code) in [
        (Money::from_major_str("1000", Currency::JPY).unwrap(), "1000", "jpy"),
        (Money::from_major_str("1.234", Currency::KWD).unwrap(), "1234", "kwd"),
        (Money::from_major_str("0.01", Currency::USD).unwrap(), "1", "usd"),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v1/refunds"))
            .and(body_json(json!({"payment_intent": "pi_cur", "amount": wire})))
            .respond_with(refund_answer("pi_cur", money.minor(), code))
            .expect(1)
            .mount(&server)
            .await;
        let refund = client_for(&server)
            .create_refund(&CreateRefund::new(pi("pi_cur")).amount(money))
            .await
            .expect("create");
        assert_eq!(refund.amount, money, "no scaling error");
    }
}

#[tokio::test]
async fn a_retrieve_on_the_wire() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/refunds/re_1"))
        .and(header("authorization", basic_header().as_str()))
        .and(header("accept", "application/json"))
        .respond_with(refund_answer("pi_1", 100, "usd"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/refunds/re%2F2%3Fx=1"))
        .respond_with(refund_answer("pi_1", 100, "usd"))
        .expect(1)
        .mount(&server)
        .await;
    let client = client_for(&server);
    client.get_refund(&RefundId::new("re_1").unwrap()).await.expect("get");
    client
        .get_refund(&RefundId::new("re/2?x=1").unwrap())
        .await
        .expect("an id with path syntax stays one segment");
    let received = server.received_requests().await.unwrap();
    assert!(received.iter().all(|r| r.body.is_empty()));
    assert!(received.iter().all(|r| !r.headers.contains_key("idempotency-key")));
}

async fn refused_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn bad_creates_are_refused_before_sending() {
    let server = refused_server().await;
    let client = WooshPayClient::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .currency(Currency::USD)
        .build()
        .unwrap();
    let p = pi("pi_bad");
    let many = |n: usize| (0..n).fold(CreateRefund::new(p.clone()), |r, i| r.metadata(format!("k{i}"), "v"));
    // Rows the generic table also has, in WooshPay's terms (the WooshPay-only rows are in
    // `provider_specific_bad_input_rows` at the end of this file).
    let cases: Vec<(CreateRefund, &str)> = vec![
        (CreateRefund::new(p.clone()).amount(usd(0)), "amount"),
        (CreateRefund::new(p.clone()).amount(usd(-5)), "amount"),
        (
            CreateRefund::new(p.clone()).amount(Money::from_minor(100, Currency::EUR)),
            "amount",
        ),
        (
            CreateRefund::new(p.clone()).amount(Money::from_minor(100, Currency::JPY)),
            "amount",
        ),
        (CreateRefund::new(PaymentRef::charge("ch_1").unwrap()), "payment"),
        (CreateRefund::new(p.clone()).description("x".repeat(501)), "description"),
        (
            CreateRefund::new(p.clone()).merchant_reference("x".repeat(501)),
            "merchant_reference",
        ),
        (
            CreateRefund::new(p.clone()).merchant_reference("a\u{7}b"),
            "merchant_reference",
        ),
        (many(51), "metadata"),
    ];
    for (request, field) in cases {
        let e = client.create_refund(&request).await.expect_err(field);
        assert!(matches!(e.kind(), ErrorKind::InvalidRequest { .. }), "{e}");
        assert_eq!(e.field(), Some(field), "{e}");
        assert_eq!(e.delivery(), Delivery::NotSent);
        assert_eq!(e.provider(), Some("wooshpay"));
        assert!(e.pending_create().is_none());
    }
    // Too many decimals never become an amount at all.
    let e = Money::from_major_str("12.345", Currency::USD).unwrap_err();
    assert_eq!(refunds::Error::from(e).field(), Some("amount"));
}

#[tokio::test]
async fn a_reference_equal_to_its_metadata_entry_is_sent_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_json(json!({
            "payment_intent": "pi_ref",
            "metadata": {"merchant_reference": "order-1"},
        })))
        .respond_with(refund_answer("pi_ref", 100, "usd"))
        .expect(1)
        .mount(&server)
        .await;
    client_for(&server)
        .create_refund(
            &CreateRefund::new(pi("pi_ref"))
                .metadata("merchant_reference", "order-1")
                .merchant_reference("order-1"),
        )
        .await
        .expect("create");
}

#[tokio::test]
async fn list_limits_and_cursors_are_moot_without_a_list() {
    let server = refused_server().await;
    let client = client_for(&server);
    for request in [
        ListRefunds::new(),
        ListRefunds::new().limit(0),
        ListRefunds::new().limit(10_000),
        ListRefunds::new().cursor(PageCursor::from_token("xpay:o:10")),
    ] {
        let e = client.list_refunds(&request).await.expect_err("no list");
        assert_eq!(e.kind(), &ErrorKind::Unsupported, "{e}");
        assert_eq!(e.delivery(), Delivery::NotSent);
        assert_eq!(e.provider(), Some("wooshpay"));
    }
    for e in [
        client
            .get_refund_by_payment(&pi("pi_1"))
            .await
            .expect_err("no lookup by payment"),
        client
            .cancel_refund(&RefundId::new("re_1").unwrap())
            .await
            .expect_err("no cancel"),
        client
            .find_created(&CreateRefund::new(pi("pi_1")))
            .await
            .expect_err("no list to search"),
    ] {
        assert_eq!(e.kind(), &ErrorKind::Unsupported, "{e}");
    }
}

#[test]
fn capabilities_say_what_wooshpay_offers() {
    let client = WooshPayClient::builder().api_key(KEY).build().unwrap();
    let caps = &client.info().capabilities;
    assert_eq!(client.info().id, "wooshpay");
    assert!(caps.partial_refunds && caps.retrieve);
    assert!(caps.list.is_none() && !caps.cancel && !caps.retrieve_by_payment);
    assert!(!caps.list_status_filter);
    assert_eq!(caps.idempotency, refunds::IdempotencySupport::Header);
    assert_eq!(caps.payment_kinds, vec![refunds::PaymentRefKind::PaymentIntent]);
}

#[test]
fn the_host_follows_the_key_unless_a_base_url_is_set() {
    let test = WooshPayClient::builder().api_key("sk_test_abc12345").build().unwrap();
    assert_eq!(test.base_url(), format!("{TEST_BASE_URL}/"));
    assert_eq!(test.base_url(), "https://apitest.wooshpay.com/");
    let live = WooshPayClient::builder().api_key("sk_live_abc12345").build().unwrap();
    assert_eq!(live.base_url(), "https://api.wooshpay.com/");
    assert_eq!(live.base_url(), format!("{LIVE_BASE_URL}/"));
    let overridden = WooshPayClient::builder()
        .api_key("sk_live_abc12345")
        .base_url("http://127.0.0.1:4010")
        .build()
        .unwrap();
    assert_eq!(overridden.base_url(), "http://127.0.0.1:4010/");
    // A key of no known mode works only with an explicit base URL.
    for key in ["pk_test_abc12345", "rk_live_abc12345", "abc12345", "SK_TEST_abc12345"] {
        let e = WooshPayClient::builder().api_key(key).build().unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Configuration, "{key}");
        assert!(!format!("{e} {e:?}").contains(key), "the key is not echoed");
        assert!(
            WooshPayClient::builder()
                .api_key(key)
                .base_url("https://apitest.wooshpay.com")
                .build()
                .is_ok()
        );
    }
}

#[test]
fn misconfiguration_is_reported_at_build() {
    let e = WooshPayClient::builder().build().unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Configuration);
    assert!(e.to_string().contains("WOOSHPAY_API_KEY"), "{e}");
    assert_eq!(e.provider(), Some("wooshpay"));
    let e = WooshPayClient::builder()
        .api_key(KEY)
        .base_url("http://api.wooshpay.com")
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Configuration, "plain http off loopback");
    let e = WooshPayClient::builder()
        .api_key("sk_test_with space")
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Configuration);
    assert!(!e.to_string().contains("with space"));
}

#[test]
fn the_key_never_shows() {
    let builder = WooshPayClient::builder().api_key(KEY).currency(Currency::USD);
    let builder_debug = format!("{builder:?}");
    let client = builder.build().unwrap();
    for text in [builder_debug, format!("{client:?}")] {
        assert!(!text.contains(KEY), "{text}");
        assert!(!text.contains(&base64_encode(format!("{KEY}:").as_bytes())), "{text}");
    }
}

#[tokio::test]
async fn an_echoed_key_is_redacted_from_errors() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": {
            "type": "invalid_request_error",
            "message": format!("Invalid API Key provided: {KEY}"),
        }})))
        .mount(&server)
        .await;
    let e = client_for(&server)
        .get_refund(&RefundId::new("re_1").unwrap())
        .await
        .expect_err("401");
    assert_eq!(e.kind(), &ErrorKind::Authentication);
    assert!(!format!("{e} {e:?}").contains(KEY), "{e:?}");
}

/// Each case runs this test binary again with only the `WOOSHPAY_*` variables given, because the
/// process environment cannot be changed safely from a multi-threaded test.
#[test]
fn from_env_reads_the_environment() {
    const CASE: &str = "REFUNDS_WOOSHPAY_ENV_CASE";
    if let Ok(case) = std::env::var(CASE) {
        check_env_case(&case);
        return;
    }
    let cases: [(&str, &[(&str, &str)]); 4] = [
        ("live", &[("WOOSHPAY_API_KEY", "sk_live_env00001")]),
        (
            "override",
            &[
                ("WOOSHPAY_API_KEY", "sk_test_env00001"),
                ("WOOSHPAY_BASE_URL", "http://127.0.0.1:4010"),
                ("WOOSHPAY_CURRENCY", "jpy"),
            ],
        ),
        (
            "bad_currency",
            &[("WOOSHPAY_API_KEY", "sk_test_env00001"), ("WOOSHPAY_CURRENCY", "zzz")],
        ),
        ("no_key", &[]),
    ];
    for (case, vars) in cases {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap());
        child
            .args(["--exact", "from_env_reads_the_environment", "--nocapture"])
            .env(CASE, case)
            .env_remove("WOOSHPAY_API_KEY")
            .env_remove("WOOSHPAY_BASE_URL")
            .env_remove("WOOSHPAY_CURRENCY");
        for (name, value) in vars {
            child.env(name, value);
        }
        let output = child.output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains("1 passed"),
            "case {case}: {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

fn check_env_case(case: &str) {
    match case {
        "live" => {
            let client = WooshPayClient::from_env().unwrap();
            assert_eq!(client.base_url(), "https://api.wooshpay.com/");
            assert_eq!(client.currency(), None);
        }
        "override" => {
            let client = WooshPayClient::from_env().unwrap();
            assert_eq!(client.base_url(), "http://127.0.0.1:4010/");
            assert_eq!(client.currency(), Some(Currency::JPY));
        }
        "bad_currency" => {
            let e = WooshPayClient::from_env().unwrap_err();
            assert_eq!(e.kind(), &ErrorKind::Configuration);
            assert!(e.to_string().contains("WOOSHPAY_CURRENCY"), "{e}");
        }
        "no_key" => {
            let e = WooshPayClient::from_env().unwrap_err();
            assert_eq!(e.kind(), &ErrorKind::Configuration);
            assert!(e.to_string().contains("WOOSHPAY_API_KEY"), "{e}");
        }
        other => panic!("unknown case {other}"),
    }
}

/// WooshPay's own bad-input rows, beyond the generic table of `refunds::bad_input_tests!`: what is
/// tried, the request, and the field the refusal must name.
fn provider_specific_rows() -> Vec<(&'static str, CreateRefund, &'static str)> {
    let p = pi("pi_bad");
    let with_entries = |n: usize| (0..n).fold(CreateRefund::new(p.clone()), |r, i| r.metadata(format!("k{i}"), "v"));
    vec![
        (
            "a payment (not a payment intent)",
            CreateRefund::new(PaymentRef::payment("pay_1").unwrap()),
            "payment",
        ),
        (
            "reason expired_uncaptured_charge (reported by wooshpay, never requested)",
            CreateRefund::new(p.clone()).reason(RefundReason::ExpiredUncapturedCharge),
            "reason",
        ),
        (
            "reason outside the create enum",
            CreateRefund::new(p.clone()).reason(RefundReason::Other("goodwill".into())),
            "reason",
        ),
        (
            "any description (not a create field)",
            CreateRefund::new(p.clone()).description("a fine refund"),
            "description",
        ),
        (
            "metadata key of 41 characters",
            CreateRefund::new(p.clone()).metadata("k".repeat(41), "v"),
            "metadata",
        ),
        (
            "metadata value of 501 characters",
            CreateRefund::new(p.clone()).metadata("k", "v".repeat(501)),
            "metadata",
        ),
        (
            "50 metadata entries plus the merchant reference (which travels in metadata)",
            with_entries(50).merchant_reference("order-1"),
            "metadata",
        ),
        (
            "metadata merchant_reference differing from the merchant reference",
            CreateRefund::new(p.clone())
                .metadata("merchant_reference", "order-1")
                .merchant_reference("order-2"),
            "metadata",
        ),
    ]
}

#[tokio::test]
async fn provider_specific_bad_input_rows() {
    let server = refused_server().await;
    let client = WooshPayClient::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .currency(Currency::USD)
        .build()
        .unwrap();
    let rows = provider_specific_rows();
    for (case, request, field) in &rows {
        let e = client.create_refund(request).await.expect_err(case);
        assert!(matches!(e.kind(), ErrorKind::InvalidRequest { .. }), "{case}: {e}");
        assert_eq!(e.field(), Some(*field), "{case}: {e}");
        assert_eq!(e.delivery(), Delivery::NotSent, "{case}");
        assert_eq!(e.provider(), Some("wooshpay"), "{case}");
        assert!(e.pending_create().is_none(), "{case}");
        println!("refused before sending: {case} -> field `{field}`");
    }
    let sent = server.received_requests().await.unwrap().len();
    assert_eq!(sent, 0, "no bad request was sent");
    println!(
        "wooshpay: {} provider-specific bad-input rows, {sent} requests sent",
        rows.len()
    );
}
