//! The Bachs API client ([`BachsClient`]): hosts and key prefixes from the official `bachs` 2.0.0 client
//! (`sk_live_` → `api.bachs.io`, `sk_sandbox_` → `sandbox-api.bachs.io`), refund paths and the
//! upper-case status filter from two community SDKs of docs.bachs.io; and the statuses both APIs
//! answer (`success`, `processing`, any case) read by both clients.

use refunds::{
    CreateRefund, Currency, ErrorKind, ListRefunds, Money, PaymentRef, RefundId, RefundProvider, RefundStatus,
};
use refunds_syncgram::{BACHS_LIVE_URL, BACHS_SANDBOX_URL, BachsClient, STATUSES, SyncgramClient, SyncgramExt};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn refund(status: &str) -> Value {
    json!({
        "refund_id": "ref_b1", "charge_id": "ch_b1", "reference": "order-9", "status": status,
        "requested_amount": "12.50", "refunded_amount": null, "refund_fee_amount": "0.13",
        "fee_bearer": "customer", "reason": null, "created_at": "2024-01-16T09:00:00Z",
        "updated_at": "2024-01-16T09:00:00Z", "completed_at": null
    })
}

#[test]
fn the_key_prefix_picks_the_bachs_host_and_mode() {
    for (key, url, live) in [
        ("sk_live_a1", BACHS_LIVE_URL, Some(true)),
        ("sk_sandbox_a1", BACHS_SANDBOX_URL, Some(false)),
    ] {
        let client = BachsClient::builder()
            .api_key(key)
            .currency(Currency::NGN)
            .build()
            .unwrap();
        assert_eq!(
            (client.base_url().trim_end_matches('/'), client.livemode()),
            (url, live),
            "{key}"
        );
        assert_eq!(client.info().id, "syncgram");
    }
    // The SyncgramPay client keeps the seed's host.
    let seed = SyncgramClient::builder()
        .api_key("sk_test_a1")
        .currency(Currency::USD)
        .build()
        .unwrap();
    assert_eq!(seed.base_url().trim_end_matches('/'), "https://api.syncgrampay.com");
    // BACHS_* variables configure it.
    let env = |name: &str| match name {
        "BACHS_API_KEY" => Some("sk_sandbox_env".to_owned()),
        "BACHS_CURRENCY" => Some("GHS".to_owned()),
        _ => None,
    };
    let client = refunds_syncgram::BachsClientBuilder::from_lookup(env).build().unwrap();
    assert_eq!(client.currency(), Some(Currency::from_code("GHS").unwrap()));
}

#[test]
fn every_documented_status_spelling_reads() {
    for (raw, status) in [
        ("pending", RefundStatus::Pending),
        ("processing", RefundStatus::Processing),
        ("PROCESSING", RefundStatus::Processing),
        ("succeeded", RefundStatus::Succeeded),
        ("success", RefundStatus::Succeeded),
        ("SUCCESS", RefundStatus::Succeeded),
        ("failed", RefundStatus::Failed),
        ("FAILED", RefundStatus::Failed),
    ] {
        assert_eq!(STATUSES.to_status(raw), status, "{raw}");
        assert_eq!(refunds_syncgram::BACHS_STATUSES.to_status(raw), status, "{raw}");
    }
    assert_eq!(STATUSES.to_status("reversed"), RefundStatus::Unknown("reversed".into()));
    // A success is terminal, so waiting on it ends.
    assert!(STATUSES.to_status("success").is_terminal());
}

#[tokio::test]
async fn the_bachs_paths_and_the_upper_case_filter() {
    let server = MockServer::start().await;
    let success = || refund("success");
    let list = json!({"items": [success()], "total": 1, "limit": 50, "offset": 0});
    let gone = json!({"detail": "Refund not found", "error_code": "refund_not_found"});
    let routes = [
        ("POST", "/v1/refunds", None, 200, refund("processing")),
        ("GET", "/v1/refunds/ref_b1", None, 200, success()),
        ("GET", "/v1/refunds/by-charge/ch_b1", None, 200, success()),
        ("GET", "/v1/refunds", Some(("status", "SUCCESS")), 200, list),
        ("GET", "/v1/refunds/ref_gone", None, 404, gone),
    ];
    for (verb, route, query, status, body) in routes {
        let mock = Mock::given(method(verb)).and(path(route));
        let mock = match query {
            Some((name, value)) => mock.and(query_param(name, value)),
            None => mock,
        };
        let answer = ResponseTemplate::new(status).set_body_json(body);
        mock.respond_with(answer).mount(&server).await;
    }
    let client = BachsClient::builder()
        .api_key("sk_sandbox_a1")
        .base_url(server.uri())
        .currency(Currency::NGN)
        .max_retries(0)
        .build()
        .unwrap();
    let charge = PaymentRef::charge("ch_b1").unwrap();
    let created = client
        .create_refund(
            // The answer echoes `order-9`: the create names it, so no marker is written in its place.
            &CreateRefund::new(charge.clone())
                .amount(Money::from_minor(1_250, Currency::NGN))
                .merchant_reference("order-9"),
        )
        .await
        .unwrap();
    assert_eq!(
        (created.status, created.livemode),
        (RefundStatus::Processing, Some(false))
    );
    let got = client.get_refund(&RefundId::new("ref_b1").unwrap()).await.unwrap();
    assert_eq!(got.status, RefundStatus::Succeeded);
    assert_eq!(client.get_refund_by_charge("ch_b1").await.unwrap().id, got.id);
    let page = client
        .list_refunds(&ListRefunds::new().status(RefundStatus::Succeeded))
        .await
        .unwrap();
    assert_eq!((page.items.len(), page.total), (1, Some(1)));
    let gone = client
        .get_refund(&RefundId::new("ref_gone").unwrap())
        .await
        .unwrap_err();
    assert_eq!(gone.kind(), &ErrorKind::NotFound);
    assert_eq!(gone.provider_code(), Some("refund_not_found"));
    assert_eq!(gone.message(), "Refund not found");
}

refunds_testkit::readme_status_table_test!(include_str!("../README.md"), &STATUSES);
