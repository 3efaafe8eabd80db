//! 4Geeks on the wire: the documented bodies of the seed (`../shared/seeds/000_*`) and the dossier
//! (`../shared/providers.md` §1) in `fixtures/documented.json`, run against the real client over
//! wiremock (`refunds_testkit::fixtures`); then what only 4Geeks does: its capabilities and the list
//! inputs it refuses before sending.

use refunds::adapter::paging::offset;
use refunds::{Currency, Delivery, ErrorKind, ListRefunds, PageCursor, RefundProvider};
use refunds_fourgeeks::{FourGeeksClient, FourGeeksClientBuilder};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk_test_fourgeeks_fixtures_01";

fn builder(base_url: &str) -> FourGeeksClientBuilder {
    FourGeeksClient::builder()
        .api_key(KEY)
        .base_url(base_url)
        .currency(Currency::USD)
}

#[test]
fn capabilities_say_what_4geeks_does() {
    let client = FourGeeksClient::builder()
        .api_key(KEY)
        .currency(Currency::USD)
        .build()
        .unwrap();
    let info = client.info();
    assert_eq!((info.id, info.name), ("fourgeeks", "4Geeks Payments"));
    let caps = &info.capabilities;
    assert!(caps.partial_refunds && caps.retrieve);
    assert_eq!(caps.list, Some(refunds::PagingStyle::Offset));
    assert!(!caps.list_status_filter && !caps.cancel && !caps.retrieve_by_payment);
    assert_eq!(caps.idempotency, refunds::IdempotencySupport::None);
    assert_eq!(caps.payment_kinds, [refunds::PaymentRefKind::Payment]);
    let debug = format!("{client:?}");
    assert!(
        debug.contains("https://api.4geeks.io/") && !debug.contains(KEY),
        "{debug}"
    );
}

/// The list rows the shared bad-input table does not have: the assumed maximum page size and the
/// offset cursors 4Geeks pages with. Nothing reaches the server, and each refusal names its field.
/// (The create rows, and the currency guard's message, are in the fixtures.)
#[tokio::test]
async fn provider_specific_list_input_is_refused_before_sending() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let client = builder(&server.uri()).max_retries(0).build().unwrap();
    let rows = [
        (
            "limit 101 (above the assumed maximum of 100)",
            "limit",
            ListRefunds::new().limit(101),
        ),
        (
            "an id-cursor",
            "cursor",
            ListRefunds::new().cursor(PageCursor::from_token("fourgeeks:a:ref_1")),
        ),
        (
            "a negative offset",
            "cursor",
            ListRefunds::new().cursor(PageCursor::from_token("fourgeeks:o:-3")),
        ),
        (
            "an offset past i64::MAX",
            "cursor",
            ListRefunds::new().cursor(offset::cursor("fourgeeks", u64::MAX)),
        ),
    ];
    for (case, field, request) in rows {
        let e = client.list_refunds(&request).await.expect_err(case);
        assert!(matches!(e.kind(), ErrorKind::InvalidRequest { .. }), "{case}: {e}");
        assert_eq!(
            (e.field(), e.delivery(), e.provider()),
            (Some(field), Delivery::NotSent, Some("fourgeeks"))
        );
    }
    let e = client
        .create_refund(
            &refunds::CreateRefund::new(refunds::PaymentRef::payment("pay_1").unwrap())
                .amount(refunds::Money::from_minor(100, Currency::JPY)),
        )
        .await
        .unwrap_err();
    assert_eq!(e.message(), "the fourgeeks account is in USD, the amount is in JPY");
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        0,
        "no bad request was sent"
    );
}

/// Retrieve uses the documented path, `GET /v1/refunds/{refund_id}/` with its trailing slash: the
/// slashless form would meet the framework's redirect, which the SDK never follows. The list keeps
/// `GET /v1/refunds`.
#[tokio::test]
async fn retrieve_sends_the_documented_trailing_slash() {
    use wiremock::matchers::{method, path};
    let server = MockServer::start().await;
    let refund = r#"{"id":"ref_1","object":"refund","payment_id":"pay_1","amount":500,"status":"succeeded"}"#;
    Mock::given(method("GET"))
        .and(path("/v1/refunds/ref_1/"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(refund, "application/json"))
        .mount(&server)
        .await;
    let redirect = ResponseTemplate::new(307).insert_header("location", "/v1/refunds/ref_1/");
    Mock::given(method("GET"))
        .and(path("/v1/refunds/ref_1"))
        .respond_with(redirect)
        .mount(&server)
        .await;
    // The refund names no currency: its payment's (CRC) is read once, with the documented slash.
    Mock::given(method("GET"))
        .and(path("/v1/payments/pay_1/"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(r#"{"id":"pay_1","currency":"CRC"}"#, "application/json"))
        .mount(&server)
        .await;
    let list = r#"{"items":[],"total_items":0,"limit":10,"offset":0}"#;
    Mock::given(method("GET"))
        .and(path("/v1/refunds"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(list, "application/json"))
        .mount(&server)
        .await;
    let client = builder(&server.uri()).max_retries(0).build().unwrap();
    let got = client
        .get_refund(&refunds::RefundId::new("ref_1").unwrap())
        .await
        .unwrap();
    assert_eq!(got.amount, refunds::Money::from_minor(500, Currency::CRC));
    client.list_refunds(&ListRefunds::new()).await.unwrap();
    let paths: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_owned())
        .collect();
    assert_eq!(paths, ["/v1/refunds/ref_1/", "/v1/payments/pay_1/", "/v1/refunds"]);
}

refunds_testkit::readme_status_table_test!(include_str!("../README.md"), &refunds_fourgeeks::STATUSES);
