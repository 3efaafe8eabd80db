//! Every shared scenario of `refunds-testkit` on the Bias sandbox.

use refunds::Currency;
use refunds::sandbox::{Ledger, Skin};
use refunds_bias::Bias;
use refunds_bias::sandbox::{API_KEY, BiasSkin, REFUND_ID_PREFIX};

struct Under;

impl refunds_testkit::ProviderUnderTest for Under {
    type Provider = Bias;
    const API_KEY: &'static str = API_KEY;

    fn skin(currency: Currency) -> impl Skin {
        BiasSkin::new(currency)
    }

    fn ledger() -> Ledger {
        Ledger::new(REFUND_ID_PREFIX)
    }

    /// The documented refund object, list page and error bodies.
    fn sample_bodies() -> Vec<String> {
        [
            include_str!("fixtures/refund.json"),
            include_str!("fixtures/list.json"),
            include_str!("fixtures/invalid_request_error.json"),
            include_str!("fixtures/payment_error.json"),
        ]
        .map(String::from)
        .to_vec()
    }
}

refunds_testkit::provider_suite!(Under);
