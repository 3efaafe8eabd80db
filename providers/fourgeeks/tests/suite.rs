//! Every shared scenario of `refunds-testkit` on the 4Geeks sandbox.

use refunds::Currency;
use refunds::adapter::ClientBuilder;
use refunds::sandbox::{Ledger, Skin};
use refunds_fourgeeks::FourGeeks;
use refunds_fourgeeks::sandbox::{self, FourGeeksSkin, REFUND_ID_PREFIX};

struct Under;

impl refunds_testkit::ProviderUnderTest for Under {
    type Provider = FourGeeks;
    const API_KEY: &'static str = sandbox::API_KEY;

    fn skin(_currency: Currency) -> impl Skin {
        FourGeeksSkin
    }

    fn ledger() -> Ledger {
        Ledger::new(REFUND_ID_PREFIX)
    }

    fn builder(base_url: &str) -> ClientBuilder<FourGeeks> {
        ClientBuilder::new().api_key(Self::API_KEY).base_url(base_url)
    }

    /// The seed's refund object, list page and error bodies, as documented.
    fn sample_bodies() -> Vec<String> {
        [
            include_str!("fixtures/refund.json"),
            include_str!("fixtures/list.json"),
            include_str!("fixtures/validation_error.json"),
            include_str!("fixtures/refund_error.json"),
        ]
        .map(String::from)
        .to_vec()
    }
}

refunds_testkit::provider_suite!(Under);
