//! WooshPay's documented bodies (`fixtures/`, as the pages show them) through the real client, its
//! error table, the assumed Stripe units in both directions, and WooshPay's own refusals and hosts.

use refunds::{
    CreateRefund, Currency, Delivery, ErrorKind, Money, OffsetDateTime, PaymentRef, Refund, RefundId, RefundProvider,
    RefundReason, RefundStatus,
};
use refunds_wooshpay::WooshPayClient;
use serde_json::{Value, json};
use wiremock::matchers::{any, body_json, body_json_string, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk_test_wire_tests_000000";
/// "Retrieve a refund", https://docs.wooshpay.com/api-52306151, exactly as the page shows it.
const RETRIEVE: &str = include_str!("fixtures/retrieve.json");
/// The seed's "Create a refund" 200 example: placeholder values throughout.
const SEED_RESPONSE: &str = include_str!("fixtures/seed_create_response.json");
const SEED_REQUEST: &str = include_str!("fixtures/seed_create_request.json");

async fn answering(status: u16, body: &str, times: u64) -> (MockServer, WooshPayClient) {
    let server = MockServer::start().await;
    let answer = ResponseTemplate::new(status).set_body_raw(body.to_owned(), "application/json");
    Mock::given(any())
        .respond_with(answer)
        .expect(times)
        .mount(&server)
        .await;
    let client = WooshPayClient::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .max_retries(0)
        .build()
        .unwrap();
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
    assert_eq!(
        (refund.id.as_str(), refund.payment.id()),
        ("re_3KQu4U2eZvKYlo2C02Ndp8xy", "pi_3KQu4U2eZvKYlo2C0avUn9aJ")
    );
    assert_eq!(refund.amount, Money::from_minor(100, Currency::USD));
    assert_eq!(refund.status, RefundStatus::Succeeded);
    assert_eq!(
        refund.created_at,
        Some(OffsetDateTime::from_unix_timestamp(1_644_328_172).unwrap())
    );
    assert_eq!(refund.livemode, Some(false), "an sk_test_ key");
    assert_eq!(refund.raw.get(), RETRIEVE, "raw is byte-exact");
    let parsed = WooshPayClient::builder()
        .api_key(KEY)
        .build()
        .unwrap()
        .refund_from_json(RETRIEVE.as_bytes());
    assert_eq!(parsed.unwrap(), refund, "a webhook payload reads like an answer");

    // The seed's placeholder currency ("string") is not a currency, so not a refund.
    let e = retrieve(SEED_RESPONSE).await.expect_err("placeholder currency");
    assert_eq!(e.kind(), &ErrorKind::Decode, "{e}");
    assert!(e.message().contains("`currency`"), "{e}");
    assert_eq!((e.http_status(), e.body()), (Some(200), Some(SEED_RESPONSE)));
    let body = SEED_RESPONSE.replace("\"currency\": \"string\"", "\"currency\": \"jpy\"");
    let refund = retrieve(&body).await.expect("otherwise well formed");
    assert_eq!(refund.reason, Some(RefundReason::Duplicate));
    assert_eq!(
        refund.status,
        RefundStatus::Unknown("string".into()),
        "kept, never guessed"
    );
    assert_eq!(refund.failure_reason.as_deref(), Some("lost_or_stolen_card"));
    let metadata = RETRIEVE.replace(
        "\"metadata\": {}",
        r#""metadata": {"merchant_reference": "o-42", "attempt": 2}"#,
    );
    let refund = retrieve(&metadata).await.unwrap();
    assert_eq!(refund.merchant_reference.as_deref(), Some("o-42"));
    assert_eq!(refund.metadata["attempt"], "2", "a non-string value keeps its text");
}

#[tokio::test]
async fn the_client_sends_the_seed_request_example() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/refunds"))
        .and(body_json_string(SEED_REQUEST))
        .respond_with(ResponseTemplate::new(200).set_body_raw(RETRIEVE, "application/json"))
        .expect(1)
        .mount(&server)
        .await;
    let client = WooshPayClient::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .build()
        .unwrap();
    let request = CreateRefund::new(pi("pi_1787730829493927936")).reason(RefundReason::RequestedByCustomer);
    client.create_refund(&request).await.expect("create");
}

#[tokio::test]
async fn error_bodies_follow_the_code_table() {
    let cases: Vec<Value> = serde_json::from_str(include_str!("fixtures/errors.json")).unwrap();
    for case in cases {
        let body = match &case["body"] {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        let (_server, client) = answering(case["status"].as_u64().unwrap() as u16, &body, 1).await;
        let e = client
            .get_refund(&RefundId::new("re_x").unwrap())
            .await
            .expect_err("error answer");
        assert_eq!(format!("{:?}", e.kind()), case["kind"].as_str().unwrap(), "{case}");
        assert_eq!(e.provider_code(), case["code"].as_str(), "{case}");
        assert_eq!(e.field(), case["field"].as_str(), "{case}");
        assert_eq!(e.provider(), Some("wooshpay"));
        assert_eq!(e.http_status(), case["status"].as_u64().map(|s| s as u16));
    }
}

#[tokio::test]
async fn stripe_units_convert_both_ways() {
    let major = |text: &str, code: &str| Money::from_major_str(text, Currency::from_code(code).unwrap()).unwrap();
    for (money, wire, code) in [
        (major("5", "ISK"), 500, "isk"),
        (major("7", "UGX"), 700, "ugx"),
        (major("12.00", "MGA"), 12, "mga"),
        (major("1000", "JPY"), 1000, "jpy"),
        (major("1.230", "KWD"), 1230, "kwd"),
        (major("0.01", "USD"), 1, "usd"),
    ] {
        let server = MockServer::start().await;
        let answer = RETRIEVE
            .replace("\"amount\": 100", &format!("\"amount\": {wire}"))
            .replace("\"usd\"", &format!("\"{code}\""));
        Mock::given(body_json(
            json!({"payment_intent": "pi_cur", "amount": wire.to_string()}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_raw(answer, "application/json"))
        .expect(1)
        .mount(&server)
        .await;
        let client = WooshPayClient::builder()
            .api_key(KEY)
            .base_url(server.uri())
            .build()
            .unwrap();
        let refund = client
            .create_refund(&CreateRefund::new(pi("pi_cur")).amount(money))
            .await
            .expect(code);
        assert_eq!(refund.amount, money, "{code}: no 100x error");
    }
    // Hundredths of a krona cannot be an ISK amount: the read refuses rather than rounds.
    let e = retrieve(
        &RETRIEVE
            .replace("\"amount\": 100", "\"amount\": 4010")
            .replace("\"usd\"", "\"isk\""),
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Decode, "{e}");
    assert!(e.message().contains("`amount`"), "{e}");
}

#[tokio::test]
async fn wooshpay_refusals_send_nothing() {
    let (server, client) = answering(500, "", 0).await;
    let p = pi("pi_bad");
    let entries = |n: usize| (0..n).fold(CreateRefund::new(p.clone()), |r, i| r.metadata(format!("k{i}"), "v"));
    let money = |minor, code| Money::from_minor(minor, Currency::from_code(code).unwrap());
    let rows = [
        (CreateRefund::new(p.clone()).amount(money(1250, "MGA")), "amount"), // 12.50 MGA: Stripe sends whole ariary
        (CreateRefund::new(p.clone()).amount(money(1000, "IQD")), "amount"), // no Stripe unit known
        (CreateRefund::new(p.clone()).amount(money(10_000, "CLF")), "amount"),
        (CreateRefund::new(PaymentRef::payment("pay_1").unwrap()), "payment"),
        (
            CreateRefund::new(p.clone()).reason(RefundReason::ExpiredUncapturedCharge),
            "reason",
        ),
        (
            CreateRefund::new(p.clone()).reason(RefundReason::Other("goodwill".into())),
            "reason",
        ),
        (CreateRefund::new(p.clone()).description("a fine refund"), "description"),
        (entries(50).merchant_reference("order-1"), "metadata"),
        (
            CreateRefund::new(p.clone())
                .metadata("merchant_reference", "o-1")
                .merchant_reference("o-2"),
            "metadata",
        ),
    ];
    for (request, field) in rows {
        let e = client.create_refund(&request).await.expect_err(field);
        assert!(matches!(e.kind(), ErrorKind::InvalidRequest { .. }), "{e}");
        assert_eq!(
            (e.field(), e.delivery(), e.provider()),
            (Some(field), Delivery::NotSent, Some("wooshpay")),
            "{e}"
        );
        assert!(e.pending().is_none());
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[test]
fn the_host_follows_the_key_and_other_keys_need_a_base_url() {
    let build = |key: &str| WooshPayClient::builder().api_key(key).build();
    assert_eq!(
        build("sk_test_abc12345").unwrap().base_url(),
        "https://apitest.wooshpay.com/"
    );
    assert_eq!(
        build("sk_live_abc12345").unwrap().base_url(),
        "https://api.wooshpay.com/"
    );
    for key in ["pk_test_abc12345", "rk_live_abc12345", "abc12345"] {
        let e = build(key).unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Configuration, "{key}");
        assert!(!format!("{e} {e:?}").contains(key), "the key is not echoed");
        let explicit = WooshPayClient::builder()
            .api_key(key)
            .base_url("https://apitest.wooshpay.com");
        assert!(explicit.build().is_ok());
    }
}
