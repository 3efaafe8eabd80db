//! Every shared scenario of `refunds-testkit` on the SyncgramPay sandbox.

use refunds::Currency;
use refunds::sandbox::{Ledger, Skin};
use refunds_syncgram::sandbox::{API_KEY, REFUND_ID_PREFIX, SyncgramSkin};
use refunds_syncgram::{FeeBearer, Syncgram, SyncgramOptions};
use serde_json::Value;

struct Under;

impl refunds_testkit::ProviderUnderTest for Under {
    type Provider = Syncgram;
    const API_KEY: &'static str = API_KEY;

    fn skin(_currency: Currency) -> impl Skin {
        SyncgramSkin
    }

    fn ledger() -> Ledger {
        Ledger::new(REFUND_ID_PREFIX)
    }

    /// The documented create and list answers and every documented error body.
    fn sample_bodies() -> Vec<String> {
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

    /// A crypto refund's wallet and fee bearer: a re-send must carry them again.
    fn sample_options() -> Option<SyncgramOptions> {
        Some(
            SyncgramOptions::new()
                .fee_bearer(FeeBearer::Customer)
                .refund_address("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"),
        )
    }
}

refunds_testkit::provider_suite!(Under);
