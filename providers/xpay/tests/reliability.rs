//! The shared suites on XPay's sandbox (create/get/list/settle, balances, faults, the fault storm, keys
//! never logged) and hostile bodies fed to the client's real response path.

use std::sync::Arc;

use refunds_testkit::hostile::HostileTarget;
use refunds_testkit::sandbox_suite::{SandboxHarness, SandboxRun, create_get_list_settle};
use refunds_testkit::{HarnessOptions, fast_retry};
use refunds::{Currency, PaymentRef, RefundProvider};
use refunds_xpay::XPayClient;
use refunds_xpay::sandbox::{API_KEY, builder_for, start};

const WRONG_KEY: &str = "sk_test_xpay_wrong_0000";

struct Harness;

#[refunds::async_trait]
impl SandboxHarness for Harness {
    async fn start(&self, options: HarnessOptions) -> SandboxRun {
        let sandbox = start().await.expect("bind 127.0.0.1");
        let build = |key: &str| {
            builder_for(&sandbox)
                .api_key(key)
                .currency(options.currency)
                .retry(fast_retry(options.max_retries))
                .timeout(options.timeout)
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
        let client = XPayClient::builder()
            .api_key(API_KEY)
            .base_url(base_url)
            .max_retries(0)
            .build()
            .expect("client");
        Arc::new(client)
    }

    /// The seed's refund object, a list page and the error envelope with its `request_id`.
    fn sample_bodies(&self) -> Vec<String> {
        vec![
            r#"{"id":"re_abc123","chargeId":"ch_xyz789","amount":"50000","currency":"EGP","status":"succeeded","reason":"requested_by_customer","balanceTransactionId":"bt_def456","createdAt":"2024-01-01T00:00:00.000Z"}"#.into(),
            r#"{"data":[{"id":"re_1","paymentIntentId":"pi_1","amount":2500,"currency":"KWD","status":"pending","metadata":{"merchant_reference":"r"}}]}"#.into(),
            r#"{"error":{"type":"invalid_request_error","code":"amount_exceeds_refundable","message":"too much","param":"amount","doc_url":null},"request_id":"req_8f2a91"}"#.into(),
        ]
    }

    fn payment(&self) -> PaymentRef {
        PaymentRef::charge("ch_xyz789").expect("id")
    }
}

refunds_testkit::sandbox_tests!(Harness);
refunds_testkit::reliability_tests!(Harness, &[API_KEY, WRONG_KEY]);
refunds_testkit::hostile_tests!(Target);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_zero_and_three_decimal_currencies() {
    create_get_list_settle(&Harness, Currency::JPY).await;
    create_get_list_settle(&Harness, Currency::KWD).await;
}
