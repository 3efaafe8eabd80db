//! `sandbox::serve`: the sandboxes as a standalone server: chosen ports, fixtures, a state file that
//! survives a restart, faults, and the machine-readable description a test in another language reads.

use std::time::Duration;

use refunds::sandbox::Fault;
use refunds::{CreateRefund, Currency, IdempotencyKey, Money, PaymentRef, RefundProvider};
use refunds_registry::sandbox::{ServeOptions, serve};

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("refunds-serve-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn bias_client(url: &str) -> refunds_bias::BiasClient {
    refunds_bias::BiasClient::builder()
        .api_key(refunds_bias::sandbox::API_KEY)
        .base_url(url)
        .currency(Currency::KWD)
        .max_retries(0)
        .build()
        .unwrap()
}

#[tokio::test]
async fn serves_the_named_providers_with_fixtures_and_keeps_the_world_in_a_file() {
    let dir = temp("state");
    let (fixtures, state) = (dir.join("fixtures.json"), dir.join("state.jsonl"));
    std::fs::write(
        &fixtures,
        r#"{"payments": [{"provider": "bias", "id": "pay_fix_1", "amount": "5.000", "currency": "KWD"},
                        {"provider": "xpay", "id": "ch_fix_1", "amount": "10.00", "currency": "USD"}]}"#,
    )
    .unwrap();
    let port = free_port();
    let options = ServeOptions::new()
        .provider("bias")
        .port("bias", port)
        .fixtures(&fixtures)
        .state(&state);
    let served = serve(options.clone()).await.unwrap();
    assert_eq!(served.iter().count(), 1, "only bias: the xpay fixture is left out");
    let bias = served.get("bias").unwrap();
    assert_eq!(bias.url, format!("http://127.0.0.1:{port}"));
    let described = served.to_json();
    let first = &described["sandboxes"][0];
    assert_eq!(first["env"]["BIAS_BASE_URL"], bias.url.as_str());
    assert_eq!(first["api_key"], refunds_bias::sandbox::API_KEY);
    assert_eq!(
        (first["currency"].as_str(), first["demo_payment"]["id"].as_str()),
        (Some("KWD"), Some("pay_bias_1"))
    );

    let client = bias_client(&bias.url);
    let key = IdempotencyKey::new("serve-1").unwrap();
    let request = CreateRefund::new(PaymentRef::payment("pay_fix_1").unwrap())
        .amount(Money::from_minor(1_500, Currency::KWD))
        .idempotency_key(key);
    let made = client.create_refund(&request).await.unwrap();
    bias.sandbox.ledger().settle_all();
    served.stop().await.unwrap();

    // The next start on the same state file is the same world: the refund, its status, the balance,
    // and the key (a re-send is a replay, not a second refund).
    let served = serve(options).await.unwrap();
    let bias = served.get("bias").unwrap();
    let client = bias_client(&bias.url);
    let again = client.get_refund(&made.id).await.unwrap();
    assert_eq!(
        (again.status, again.amount),
        (refunds::RefundStatus::Succeeded, made.amount)
    );
    assert_eq!(client.create_refund(&request).await.unwrap().id, made.id);
    assert_eq!(bias.sandbox.ledger().refund_count(), 1);
    assert_eq!(bias.sandbox.ledger().payment("pay_fix_1").unwrap().refunded, 1_500);
    served.stop().await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn ports_faults_and_refusals() {
    let base = free_port();
    let options = ServeOptions::new()
        .provider("xpay")
        .provider("wooshpay")
        .fault(Fault::ServiceUnavailable, 1)
        .settle_after(Duration::from_secs(1));
    let served = serve(options.base_port(base)).await;
    // The port after a free one may be taken: then the error names the provider and the address.
    let served = match served {
        Ok(served) => served,
        Err(e) => {
            assert!(e.message().contains("did not start on 127.0.0.1:"), "{e}");
            return;
        }
    };
    let urls: Vec<&str> = served.iter().map(|s| s.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            format!("http://127.0.0.1:{base}"),
            format!("http://127.0.0.1:{}", base + 1)
        ]
    );
    let xpay = served.get("xpay").unwrap();
    let client = refunds_xpay::sandbox::builder_for(&xpay.sandbox)
        .max_retries(0)
        .build()
        .unwrap();
    let e = client
        .get_refund(&refunds::RefundId::new("re_1").unwrap())
        .await
        .unwrap_err();
    assert_eq!(e.http_status(), Some(503), "the queued fault");
    served.stop().await.unwrap();

    for bad in [
        ServeOptions::new().provider("paypal"),
        ServeOptions::new().port("nobody", 1),
    ] {
        let e = serve(bad).await.unwrap_err();
        assert!(e.message().contains("no sandbox for"), "{e}");
    }
    let dir = temp("bad");
    let fixtures = dir.join("fixtures.json");
    std::fs::write(
        &fixtures,
        r#"{"payments": [{"provider": "bias", "id": "p", "amount": "5.00", "currency": "USD"}]}"#,
    )
    .unwrap();
    let e = serve(ServeOptions::new().provider("bias").fixtures(&fixtures))
        .await
        .unwrap_err();
    assert!(e.message().contains("account is in KWD"), "{e}");
    std::fs::write(&fixtures, r#"{"payment": []}"#).unwrap();
    let e = serve(ServeOptions::new().provider("bias").fixtures(&fixtures))
        .await
        .unwrap_err();
    assert!(e.message().contains("not a fixtures file"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}
