//! The core's reliability suite on this provider: a fault storm over the sandbox reconciled against
//! the ledger (creates are never re-sent; every ambiguous one is resolved through `find_created`),
//! keys absent from everything logged, and hostile bodies fed to the real response path.

use std::sync::Arc;

use refunds::testkit::hostile::HostileTarget;
use refunds::testkit::sandbox_suite::{SandboxHarness, SandboxRun};
use refunds::testkit::{HarnessOptions, fast_retry};
use refunds::{Currency, PaymentRef, RefundProvider};
use refunds_cursor::CursorClient;
use refunds_cursor::sandbox::{API_KEY, builder_for, start_with_currency};

const WRONG_KEY: &str = "sk_test_cursor_wrong_key_0";

struct Harness;

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

struct Target;

impl HostileTarget for Target {
    fn client(&self, base_url: &str) -> Arc<dyn RefundProvider> {
        let client = CursorClient::builder()
            .api_key(API_KEY)
            .base_url(base_url)
            .currency(Currency::USD)
            .max_retries(0)
            .build()
            .unwrap();
        Arc::new(client)
    }

    fn sample_bodies(&self) -> Vec<String> {
        vec![
            r#"{"object":"refund","id":"re_1","live":false,"created_at":1700000000123,"amount":2500,"failed_reason":null,"payment":"pay_1","status":"succeeded"}"#.into(),
            r#"{"object":"refund","id":"re_2","live":true,"created_at":1700000000123,"amount":999,"failed_reason":"card closed","payment":{"object":"payment","id":"pay_2","amount":5000,"amount_received":5000,"amount_refunded":999,"status":"succeeded"},"status":"failed"}"#.into(),
            r#"{"object":"list","data":[{"object":"refund","id":"re_1","live":false,"created_at":1700000000123,"amount":2500,"failed_reason":null,"payment":"pay_1","status":"pending"}],"has_more":true}"#.into(),
            r#"{"error":{"type":"invalid_request_error","code":"amount_too_large","message":"too large","param":"amount"}}"#.into(),
            r#"{"message":"Validation failed","errors":[{"field":"amount","message":"must be an integer"}]}"#.into(),
            r#"{"detail":[{"loc":["body","amount"],"msg":"not an integer","type":"type_error"}]}"#.into(),
        ]
    }

    fn payment(&self) -> PaymentRef {
        PaymentRef::payment("pay_1").unwrap()
    }
}

refunds::reliability_tests!(Harness, &[API_KEY, WRONG_KEY]);
refunds::hostile_tests!(Target);
