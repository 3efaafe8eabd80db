//! Bias on the wire: its documented bodies (`fixtures/documented.json`: the refund, a list page, each
//! error type, create bodies and refusals) run against the real client over wiremock
//! (`refunds_testkit::fixtures`); then what only Bias does, as the vendor's own client sends it:
//! list parameters both ways, `expand` and `filters` as JSON objects, the pinned `api-version`, and
//! what an error keeps.

use refunds::{Currency, Delivery, ErrorKind, ListRefunds, PaymentRef, RefundId, RefundProvider, RefundStatus};
use refunds_bias::{BiasClient, BiasClientBuilder, BiasExt, BiasOptions, cursor_before, customer_message};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk_test_bias_wire_0123456789";
const LIST: &str = include_str!("fixtures/list.json");

fn builder(base: &str) -> BiasClientBuilder {
    BiasClient::builder().api_key(KEY).base_url(base)
}

async fn list_server() -> MockServer {
    let server = MockServer::start().await;
    let page = ResponseTemplate::new(200).set_body_string(LIST);
    Mock::given(method("GET"))
        .and(path("/v1/refunds"))
        .respond_with(page)
        .mount(&server)
        .await;
    server
}

fn query(request: &wiremock::Request) -> Vec<(String, String)> {
    request.url.query_pairs().into_owned().collect()
}

#[tokio::test]
async fn list_parameters_both_ways_and_expand_is_one_json_object() {
    let server = list_server().await;
    let client = builder(&server.uri()).max_retries(0).build().unwrap();
    assert_eq!(client.livemode(), Some(false));
    let page = client.list_refunds(&ListRefunds::new().limit(1000)).await.unwrap();
    assert!(page.next.is_some(), "has_more");
    let back = ListRefunds::new().cursor(cursor_before(page.items[0].id.as_str()));
    let expanded = client.list_refunds_expanded(&back).await.unwrap();
    let payment = expanded.items[1].payment.clone().expect("expanded");
    assert_eq!(
        (payment.id.as_str(), payment.amount_refunded.map(|a| a.0)),
        ("pay_2", Some(250))
    );
    assert!(expanded.items[0].payment.is_none());
    assert_eq!(
        expanded.next,
        Some(cursor_before(page.items[0].id.as_str())),
        "keeps walking backward"
    );
    let sent = server.received_requests().await.unwrap();
    assert_eq!(sent[0].url.query(), Some("limit=1000"));
    let pairs = |v: &[(&str, &str)]| {
        v.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        query(&sent[1]),
        pairs(&[
            ("limit", "50"),
            ("ending_before", "re_3UgC74NSEMIWiFK5s3tZ82"),
            ("expand", r#"{"payment":true}"#)
        ])
    );
    let e = client.list_refunds(&ListRefunds::new().limit(1001)).await.unwrap_err();
    assert_eq!(e.delivery(), Delivery::NotSent);
}

#[tokio::test]
async fn filters_go_out_as_one_json_object_and_are_not_applied_again() {
    let server = list_server().await;
    let client = builder(&server.uri()).max_retries(0).build().unwrap();
    let info = client.info().capabilities.clone();
    assert!(info.list_payment_filter && info.list_status_filter && info.list_created_filter);
    let after = time::macros::datetime!(2025-06-15 15:06:40 UTC);
    let before = time::macros::datetime!(2025-06-16 00:00:00 UTC);
    let request = ListRefunds::new()
        .payment(PaymentRef::payment("pay_other").unwrap())
        .status(RefundStatus::Pending)
        .created_after(after)
        .created_before(before);
    let page = client.list_refunds(&request).await.unwrap();
    assert_eq!(page.items.len(), 2, "the server filtered: its answer is taken as is");
    let sent = &server.received_requests().await.unwrap()[0];
    let filters = query(sent).into_iter().find(|(k, _)| k == "filters").unwrap().1;
    let filters: serde_json::Value = serde_json::from_str(&filters).unwrap();
    assert_eq!(
        filters,
        serde_json::json!({"payment": "pay_other", "status": "pending",
            "created_at": {"gte": 1_750_000_000_000_i64, "lt": 1_750_032_000_000_i64}})
    );
    let e = client
        .list_refunds(&ListRefunds::new().status(RefundStatus::Canceled))
        .await
        .unwrap_err();
    assert_eq!((e.field(), e.delivery()), (Some("status"), Delivery::NotSent));
}

#[tokio::test]
async fn the_api_version_is_pinned_and_configurable() {
    let server = list_server().await;
    for (client, version) in [
        (builder(&server.uri()).build().unwrap(), refunds_bias::API_VERSION),
        (
            builder(&server.uri())
                .options(BiasOptions::new().api_version("2026-01-01"))
                .build()
                .unwrap(),
            "2026-01-01",
        ),
    ] {
        client.list_refunds(&ListRefunds::new()).await.unwrap();
        let sent = server.received_requests().await.unwrap();
        let header = sent.last().unwrap().headers.get("api-version").unwrap();
        assert_eq!(header.to_str().unwrap(), version);
    }
    assert_eq!(refunds_bias::API_VERSION, "2025-07-01");
    let bad = builder(&server.uri())
        .options(BiasOptions::new().api_version("2025\n"))
        .build();
    assert_eq!(bad.unwrap_err().kind(), &ErrorKind::Configuration);
}

#[tokio::test]
async fn a_404_is_not_found_whatever_its_type_and_customer_message_is_kept() {
    let server = MockServer::start().await;
    let missing = r#"{"object":"error","error":{"type":"invalid_request_error","live":false,"code":"route_or_id_unknown","message":"Not found","param":null}}"#;
    Mock::given(method("GET"))
        .and(path("/v1/refunds/re_gone"))
        .respond_with(ResponseTemplate::new(404).set_body_string(missing))
        .mount(&server)
        .await;
    let declined = r#"{"object":"error","error":{"type":"payment_error","live":false,"code":null,"decline_code":"insufficient_funds","message":"Your card has insufficient funds.","customer_message":"Please use another card.","payment":"pay_1"}}"#;
    Mock::given(method("POST"))
        .and(path("/v1/refunds"))
        .respond_with(ResponseTemplate::new(402).set_body_string(declined))
        .mount(&server)
        .await;
    let client = builder(&server.uri())
        .max_retries(0)
        .currency(Currency::USD)
        .build()
        .unwrap();
    let e = client.get_refund(&RefundId::new("re_gone").unwrap()).await.unwrap_err();
    assert_eq!(
        (e.kind(), e.provider_code()),
        (&ErrorKind::NotFound, Some("route_or_id_unknown"))
    );
    let create = refunds::CreateRefund::new(PaymentRef::payment("pay_1").unwrap());
    let e = client.create_refund(&create).await.unwrap_err();
    assert_eq!(e.provider_code(), Some("insufficient_funds"));
    assert_eq!(customer_message(&e).as_deref(), Some("Please use another card."));
    assert_eq!(customer_message(&refunds::Error::decode("x")), None);
}
