//! The reliability suite over the 4Geeks skin and client: a fault storm reconciled against the
//! ledger, the keys absent from every log line, and hostile bodies on the real response path.

use std::sync::Arc;

use refunds_testkit::hostile::HostileTarget;
use refunds_testkit::sandbox_suite::{SandboxHarness, SandboxRun};
use refunds_testkit::{HarnessOptions, fast_retry};
use refunds::{Currency, PaymentRef, RefundProvider};
use refunds_fourgeeks::sandbox::{self, API_KEY};
use refunds_fourgeeks::{FourGeeksClient, FourGeeksClientBuilder};

const WRONG_KEY: &str = "sk_test_wrong_key_000";

struct Harness;

#[refunds::async_trait]
impl SandboxHarness for Harness {
    async fn start(&self, options: HarnessOptions) -> SandboxRun {
        let sandbox = sandbox::start().await.expect("bind 127.0.0.1");
        let configure = |builder: FourGeeksClientBuilder| {
            builder
                .currency(options.currency)
                .retry(fast_retry(options.max_retries))
                .timeout(options.timeout)
                .build()
                .expect("client")
        };
        let client = configure(sandbox::builder_for(&sandbox));
        let wrong = configure(sandbox::builder_for(&sandbox).api_key(WRONG_KEY));
        SandboxRun::new(sandbox, Arc::new(client), Arc::new(wrong))
    }
}

struct Target;

impl HostileTarget for Target {
    fn client(&self, base_url: &str) -> Arc<dyn RefundProvider> {
        let client = FourGeeksClient::builder()
            .api_key(API_KEY)
            .base_url(base_url)
            .currency(Currency::USD)
            .max_retries(0)
            .build()
            .expect("client");
        Arc::new(client)
    }

    /// The seed's refund object, list page and validation error, as documented.
    fn sample_bodies(&self) -> Vec<String> {
        vec![
            r#"{"id": "ref_m3n4o5p6q7r8", "object": "refund", "payment_id": "pay_7g8h9i0j1k2l", "amount": 2500, "status": "pending"}"#.into(),
            r#"{"items": [{"id": "ref_m3n4o5p6q7r8", "object": "refund", "payment_id": "pay_7g8h9i0j1k2l", "amount": 2500, "status": "pending"}, {"id": "ref_s9t0u1v2w3x4", "object": "refund", "payment_id": "pay_y5z6a7b8c9d0", "amount": 4999, "status": "succeeded"}], "total_items": 2, "limit": 5, "offset": 0}"#.into(),
            r#"{"detail": [{"loc": ["body", "payment_id"], "msg": "field required", "type": "value_error.missing"}]}"#.into(),
            r#"{"message": {"code": 400, "title": "Refund error", "content": "The refund amount exceeds the refundable amount of the payment.", "type": "danger"}}"#.into(),
        ]
    }

    fn payment(&self) -> PaymentRef {
        PaymentRef::payment("pay_7g8h9i0j1k2l").expect("payment id")
    }
}

refunds_testkit::reliability_tests!(Harness, &[API_KEY, WRONG_KEY]);
refunds_testkit::hostile_tests!(Target);
