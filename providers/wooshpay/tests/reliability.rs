//! The reliability suites on WooshPay's sandbox: a fault storm where every ambiguous create is resolved
//! by re-sending its pending create (which carries the idempotency key of the first attempt), keys
//! never logged, and hostile bodies fed to the client's real response path.

use std::sync::Arc;

use refunds::testkit::hostile::HostileTarget;
use refunds::testkit::sandbox_suite::{SandboxHarness, SandboxRun};
use refunds::testkit::{HarnessOptions, fast_retry};
use refunds::{PaymentRef, RefundProvider};
use refunds_wooshpay::WooshPayClient;
use refunds_wooshpay::sandbox::{API_KEY, builder_for, start};

const WRONG_KEY: &str = "sk_test_wooshpay_wrong_0000";

struct Harness;

#[refunds::async_trait]
impl SandboxHarness for Harness {
    async fn start(&self, options: HarnessOptions) -> SandboxRun {
        let sandbox = start().await.expect("bind 127.0.0.1");
        let build = |key: &str| {
            builder_for(&sandbox)
                .api_key(key)
                .retry(fast_retry(options.max_retries))
                .timeout(options.timeout)
                .currency(options.currency)
                .build()
                .expect("client")
        };
        let (client, wrong) = (build(API_KEY), build(WRONG_KEY));
        SandboxRun::new(sandbox, Arc::new(client), Arc::new(wrong))
    }
}

struct Target;

impl HostileTarget for Target {
    fn client(&self, base_url: &str) -> Arc<dyn RefundProvider> {
        let client = WooshPayClient::builder()
            .api_key(API_KEY)
            .base_url(base_url)
            .max_retries(0)
            .build()
            .expect("client");
        Arc::new(client)
    }

    fn sample_bodies(&self) -> Vec<String> {
        // The documented refund object (the retrieve page) and error body. WooshPay has no list, so
        // there is no list page to mutate; a refund with metadata and a failure stands in for it.
        vec![
            r#"{"id":"re_3KQu4U2eZvKYlo2C02Ndp8xy","object":"refund","amount":100,"created":1644328172,"currency":"usd","metadata":{},"payment_intent":"pi_3KQu4U2eZvKYlo2C0avUn9aJ","reason":null,"receipt_number":null,"status":"succeeded"}"#.into(),
            r#"{"id":"re_2","object":"refund","amount":2500,"created":1700000000,"currency":"kwd","metadata":{"merchant_reference":"order-42","attempt":2},"payment_intent":"pi_2","reason":"requested_by_customer","status":"failed","description":null,"failure_reason":"expired_or_canceled_card"}"#.into(),
            r#"{"error":{"type":"invalid_request_error","code":"amount_too_large","message":"Refund amount is greater than unrefunded amount.","param":"amount"}}"#.into(),
        ]
    }

    fn payment(&self) -> PaymentRef {
        PaymentRef::payment_intent("pi_3KQu4U2eZvKYlo2C0avUn9aJ").expect("id")
    }
}

refunds::reliability_tests!(Harness, &[API_KEY, WRONG_KEY]);
refunds::hostile_tests!(Target);
