//! The sandbox harness shared by the reliability and sandbox suites.

use std::sync::Arc;

use refunds_testkit::sandbox_suite::{SandboxHarness, SandboxRun};
use refunds_testkit::{HarnessOptions, fast_retry};
use refunds_bias::sandbox::{builder_for, start_with_currency};

/// A key the sandbox refuses.
pub const WRONG_KEY: &str = "sk_test_bias_wrong_key_0";

/// Starts a Bias sandbox and its clients.
pub struct Harness;

#[refunds::async_trait]
impl SandboxHarness for Harness {
    async fn start(&self, options: HarnessOptions) -> SandboxRun {
        let sandbox = start_with_currency(options.currency).await.expect("bind 127.0.0.1");
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
