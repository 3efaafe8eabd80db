//! The core's reliability suite on SyncgramPay: a fault storm over the sandbox reconciled against the
//! ledger (every create is replay-safe through its fixed `reference`, so ambiguous ones are re-sent),
//! keys absent from everything logged, and hostile bodies fed to the real response path.

use std::sync::Arc;

use refunds_testkit::hostile::HostileTarget;
use refunds_testkit::sandbox_suite::{SandboxHarness, SandboxRun};
use refunds_testkit::{HarnessOptions, fast_retry};
use refunds::{Currency, PaymentRef, RefundProvider};
use refunds_syncgram::SyncgramClient;
use refunds_syncgram::sandbox::{API_KEY, builder_for, start};
use serde_json::Value;

const WRONG_KEY: &str = "sk_test_syncgram_wrong_key_0";

struct Harness;

#[refunds::async_trait]
impl SandboxHarness for Harness {
    async fn start(&self, options: HarnessOptions) -> SandboxRun {
        let sandbox = start().await.expect("bind 127.0.0.1");
        let builder = || {
            builder_for(&sandbox)
                .currency(options.currency)
                .retry(fast_retry(options.max_retries))
                .timeout(options.timeout)
        };
        let client = builder().build().unwrap();
        let wrong = builder().api_key(WRONG_KEY).build().unwrap();
        SandboxRun::new(sandbox, Arc::new(client), Arc::new(wrong))
    }
}

struct Target;

impl HostileTarget for Target {
    fn client(&self, base_url: &str) -> Arc<dyn RefundProvider> {
        let client = SyncgramClient::builder()
            .api_key(API_KEY)
            .base_url(base_url)
            .currency(Currency::USD)
            .max_retries(0)
            .build()
            .unwrap();
        Arc::new(client)
    }

    fn sample_bodies(&self) -> Vec<String> {
        let errors: Value = serde_json::from_str(include_str!("fixtures/errors.json")).unwrap();
        let errors = errors
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["body"].as_str().unwrap().to_owned());
        let documented = [
            include_str!("fixtures/create_response.json"),
            include_str!("fixtures/list_response.json"),
        ];
        documented.into_iter().map(str::to_owned).chain(errors).collect()
    }

    fn payment(&self) -> PaymentRef {
        PaymentRef::charge("ch_a1b2c3d4e5f6").unwrap()
    }
}

refunds_testkit::reliability_tests!(Harness, &[API_KEY, WRONG_KEY]);
refunds_testkit::hostile_tests!(Target);
