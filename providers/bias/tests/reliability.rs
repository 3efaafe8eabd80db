//! The core's reliability suite on Bias: a fault storm over the sandbox reconciled against the ledger
//! (creates carry an idempotency key, so they are re-sent safely), keys absent from everything logged,
//! and hostile bodies fed to the real response path.

use std::sync::Arc;

use refunds_testkit::hostile::HostileTarget;
use refunds::{Currency, PaymentRef, RefundProvider};
use refunds_bias::BiasClient;
use refunds_bias::sandbox::API_KEY;

mod common;
use common::{Harness, WRONG_KEY};

struct Target;

impl HostileTarget for Target {
    fn client(&self, base_url: &str) -> Arc<dyn RefundProvider> {
        let client = BiasClient::builder()
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
            include_str!("fixtures/refund.json").into(),
            include_str!("fixtures/list.json").into(),
            include_str!("fixtures/invalid_request_error.json").into(),
            include_str!("fixtures/payment_error.json").into(),
        ]
    }

    fn payment(&self) -> PaymentRef {
        PaymentRef::payment("pay_lUY2g0TuPzN9qi4couahd3").unwrap()
    }
}

refunds_testkit::reliability_tests!(Harness, &[API_KEY, WRONG_KEY]);
refunds_testkit::hostile_tests!(Target);
