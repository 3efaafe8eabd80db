//! WooshPay's documented bodies (`fixtures/`, as the pages show them) through the real client, its
//! error table, the assumed Stripe units both ways, and WooshPay's own refusals and hosts.

use refunds::{CreateRefund, Currency, Delivery, ErrorKind, Money, PaymentRef, Refund, RefundId, RefundProvider};
use refunds::{OffsetDateTime, RefundReason as Reason, RefundStatus};
use refunds_wooshpay::WooshPayClient;
use serde_json::{Value, json};
use wiremock::matchers::{any, body_json, body_json_string};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk_test_wire_tests_000000";
/// "Retrieve a refund", https://docs.wooshpay.com/api-52306151, exactly as the page shows it.
const RETRIEVE: &str = include_str!("fixtures/retrieve.json");
/// The seed's "Create a refund" 200 example: placeholder values throughout.
const SEED_RESPONSE: &str = include_str!("fixtures/seed_create_response.json");

fn client(base_url: &str) -> WooshPayClient {
    let builder = WooshPayClient::builder().api_key(KEY).base_url(base_url);
    builder.max_retries(0).build().unwrap()
}

fn answer(status: u16, body: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.to_owned(), "application/json")
}

async fn answering(status: u16, body: &str, times: u64) -> (MockServer, WooshPayClient) {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(answer(status, body))
        .expect(times)
        .mount(&server)
        .await;
    let client = client(&server.uri());
    (server, client)
}

async fn retrieve(body: &str) -> refunds::Result<Refund> {
    let (_server, client) = answering(200, body, 1).await;
    client.get_refund(&RefundId::new("re_any").unwrap()).await
}

fn pi(id: &str) -> PaymentRef {
    PaymentRef::payment_intent(id).unwrap()
}

#[tokio::test]
async fn the_documented_bodies_read_field_by_field() {
    let refund = retrieve(RETRIEVE).await.expect("documented example");
    let ids = (refund.id.as_str(), refund.payment.id());
    assert_eq!(ids, ("re_3KQu4U2eZvKYlo2C02Ndp8xy", "pi_3KQu4U2eZvKYlo2C0avUn9aJ"));
    let amount = Money::from_minor(100, Currency::USD);
    assert_eq!((refund.amount, &refund.status), (amount, &RefundStatus::Succeeded));
    let created = OffsetDateTime::from_unix_timestamp(1_644_328_172).unwrap();
    assert_eq!(refund.created_at, Some(created), "unix seconds");
    assert_eq!(refund.livemode, Some(false), "an sk_test_ key");
    assert_eq!(refund.raw.get(), RETRIEVE, "raw is byte-exact");
    let parsed = client("http://127.0.0.1:9").refund_from_json(RETRIEVE.as_bytes());
    assert_eq!(parsed.unwrap(), refund, "a webhook payload reads like an answer");
    // The seed's placeholder currency ("string") is not a currency, so not a refund.
    let e = retrieve(SEED_RESPONSE).await.expect_err("placeholder currency");
    assert_eq!(e.kind(), &ErrorKind::Decode, "{e}");
    assert!(e.message().contains("`currency`"), "{e}");
    assert_eq!((e.http_status(), e.body()), (Some(200), Some(SEED_RESPONSE)));
    let jpy = SEED_RESPONSE.replace(r#""currency": "string""#, r#""currency": "jpy""#);
    let refund = retrieve(&jpy).await.expect("otherwise well formed");
    assert_eq!(refund.reason, Some(Reason::Duplicate));
    assert_eq!(refund.status, RefundStatus::Unknown("string".into()), "kept");
    assert_eq!(refund.failure_reason.as_deref(), Some("lost_or_stolen_card"));
    let metadata = r#""metadata": {"merchant_reference": "o-42", "n": 2}"#;
    let refund = retrieve(&RETRIEVE.replace(r#""metadata": {}"#, metadata))
        .await
        .unwrap();
    assert_eq!(refund.merchant_reference.as_deref(), Some("o-42"));
    assert_eq!(refund.metadata["n"], "2", "a non-string value keeps its text");
}

#[tokio::test]
async fn the_client_sends_the_seed_request_example() {
    let server = MockServer::start().await;
    let request = include_str!("fixtures/seed_create_request.json");
    let mock = Mock::given(body_json_string(request)).respond_with(answer(200, RETRIEVE));
    mock.expect(1).mount(&server).await;
    let request = CreateRefund::new(pi("pi_1787730829493927936"));
    let request = request.reason(Reason::RequestedByCustomer);
    client(&server.uri()).create_refund(&request).await.expect("create");
}

#[tokio::test]
async fn error_bodies_follow_the_code_table() {
    let cases: Vec<Value> = serde_json::from_str(include_str!("fixtures/errors.json")).unwrap();
    for case in cases {
        let status = case["status"].as_u64().unwrap() as u16;
        let body = case["body"]
            .as_str()
            .map_or_else(|| case["body"].to_string(), str::to_owned);
        let (_server, client) = answering(status, &body, 1).await;
        let e = client.get_refund(&RefundId::new("re_x").unwrap()).await;
        let e = e.expect_err("error answer");
        assert_eq!(format!("{:?}", e.kind()), case["kind"].as_str().unwrap(), "{case}");
        assert_eq!(e.provider_code(), case["code"].as_str(), "{case}");
        assert_eq!(e.field(), case["field"].as_str(), "{case}");
        assert_eq!((e.provider(), e.http_status()), (Some("wooshpay"), Some(status)));
    }
}

#[tokio::test]
async fn stripe_units_convert_both_ways() {
    let cases: Vec<Value> = serde_json::from_str(include_str!("fixtures/units.json")).unwrap();
    for case in cases {
        let code = case["currency"].as_str().unwrap();
        let money = Money::from_major_str(case["major"].as_str().unwrap(), Currency::from_code(code).unwrap());
        let (money, wire) = (money.unwrap(), case["wire"].as_i64().unwrap());
        let server = MockServer::start().await;
        let sent = json!({"payment_intent": "pi_cur", "amount": wire.to_string()});
        let body = RETRIEVE.replace("\"amount\": 100", &format!("\"amount\": {wire}"));
        let body = body.replace("\"usd\"", &format!("\"{}\"", code.to_lowercase()));
        let mock = Mock::given(body_json(sent)).respond_with(answer(200, &body));
        mock.expect(1).mount(&server).await;
        let request = CreateRefund::new(pi("pi_cur")).amount(money);
        let refund = client(&server.uri()).create_refund(&request).await.expect(code);
        assert_eq!(refund.amount, money, "{case}: no 100x error");
    }
    // Hundredths of a krona cannot be an ISK amount: the read refuses rather than rounds.
    let body = RETRIEVE.replace("\"amount\": 100", "\"amount\": 4010");
    let e = retrieve(&body.replace("\"usd\"", "\"isk\"")).await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Decode, "{e}");
    assert!(e.message().contains("`amount`"), "{e}");
}

#[tokio::test]
async fn wooshpay_refusals_send_nothing() {
    let (server, client) = answering(500, "", 0).await;
    let new = || CreateRefund::new(pi("pi_bad"));
    let entries = |n: usize| (0..n).fold(new(), |r, i| r.metadata(format!("k{i}"), "v"));
    let money = |minor, code| Money::from_minor(minor, Currency::from_code(code).unwrap());
    let rows = [
        (new().amount(money(1250, "MGA")), "amount"), // Stripe sends whole ariary
        (new().amount(money(1000, "IQD")), "amount"), // no Stripe unit known
        (new().amount(money(10_000, "CLF")), "amount"),
        (CreateRefund::new(PaymentRef::payment("pay_1").unwrap()), "payment"),
        (new().reason(Reason::ExpiredUncapturedCharge), "reason"),
        (new().reason(Reason::Other("goodwill".into())), "reason"),
        (new().description("a fine refund"), "description"),
        (entries(50).merchant_reference("order-1"), "metadata"),
        (
            new().metadata("merchant_reference", "o-1").merchant_reference("o-2"),
            "metadata",
        ),
    ];
    for (request, field) in rows {
        let e = client.create_refund(&request).await.expect_err(field);
        assert!(matches!(e.kind(), ErrorKind::InvalidRequest { .. }), "{e}");
        assert_eq!((e.field(), e.delivery()), (Some(field), Delivery::NotSent), "{e}");
        assert!(e.pending().is_none() && e.provider() == Some("wooshpay"));
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

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

#[tokio::test]
async fn a_redirect_answer_to_a_create_is_ambiguous() {
    let (_server, client) = answering(302, "", 1).await;
    let e = client.create_refund(&CreateRefund::new(pi("pi_3xx"))).await;
    let e = e.expect_err("302");
    assert_eq!(e.delivery(), Delivery::Ambiguous, "{e}");
    let pending = e.pending().expect("a pending create");
    assert!(pending.request.idempotency_key_given().is_some(), "with its key");
}
