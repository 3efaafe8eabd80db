//! Bias on the wire: its documented bodies (`fixtures/documented.json`: the refund, a list page, each
//! error type, create bodies and refusals) run against the real client over wiremock
//! (`refunds_testkit::fixtures`); then what only Bias does: list parameters both ways and expand.

use refunds::{Delivery, ListRefunds, RefundProvider};
use refunds_bias::{BiasClient, BiasClientBuilder, BiasExpand, cursor_before};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk_test_bias_wire_0123456789";
const LIST: &str = include_str!("fixtures/list.json");

fn builder(base: &str) -> BiasClientBuilder {
    BiasClient::builder().api_key(KEY).base_url(base)
}

refunds_testkit::fixture_tests!(include_str!("fixtures/documented.json"), builder);

#[tokio::test]
async fn list_parameters_both_ways_and_expand_is_typed() {
    let server = MockServer::start().await;
    let page = ResponseTemplate::new(200).set_body_string(LIST);
    Mock::given(method("GET"))
        .and(path("/refunds"))
        .respond_with(page)
        .mount(&server)
        .await;
    let client = builder(&server.uri()).max_retries(0).build().unwrap();
    assert_eq!(client.livemode(), Some(false));
    let page = client.list_refunds(&ListRefunds::new().limit(1000)).await.unwrap();
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
    let before = "limit=50&ending_before=re_3UgC74NSEMIWiFK5s3tZ82&expand%5Bpayment%5D=true";
    assert_eq!(sent[1].url.query(), Some(before));
    let e = client.list_refunds(&ListRefunds::new().limit(1001)).await.unwrap_err();
    assert_eq!(e.delivery(), Delivery::NotSent);
}
