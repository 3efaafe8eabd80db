//! Every shared scenario of `refunds-testkit` on the WooshPay sandbox.

use refunds::Currency;
use refunds::sandbox::{Ledger, Skin};
use refunds_wooshpay::WooshPay;
use refunds_wooshpay::sandbox::{API_KEY, WooshPaySkin};

struct Under;

impl refunds_testkit::ProviderUnderTest for Under {
    type Provider = WooshPay;
    const API_KEY: &'static str = API_KEY;

    fn skin(_currency: Currency) -> impl Skin {
        WooshPaySkin
    }

    fn ledger() -> Ledger {
        Ledger::new("re_")
    }

    /// The documented refund objects and error bodies (WooshPay has no list page to mutate).
    fn sample_bodies() -> Vec<String> {
        let samples: Vec<serde_json::Value> =
            serde_json::from_str(include_str!("fixtures/hostile_samples.json")).unwrap();
        samples.iter().map(ToString::to_string).collect()
    }
}

refunds_testkit::provider_suite!(Under);
