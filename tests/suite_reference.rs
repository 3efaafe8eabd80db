//! Every shared scenario of `refunds-testkit` on the reference provider (written from the adapter
//! alone) and its skin: the suite's own proof that it passes a correct provider.

mod common;

use common::reference::Reference;
use common::reference_skin::{KEY, ReferenceSkin};
use refunds::Currency;
use refunds::sandbox::Skin;

struct Under;

impl refunds_testkit::ProviderUnderTest for Under {
    type Provider = Reference;
    const API_KEY: &'static str = KEY;

    fn skin(_currency: Currency) -> impl Skin {
        ReferenceSkin
    }

    fn sample_bodies() -> Vec<String> {
        vec![
            r#"{"id":"re_1","payment":"pay_1","amount":2500,"currency":"USD","status":"pending"}"#.into(),
            r#"{"data":[{"id":"re_1","payment":"pay_1","amount":2500,"currency":"USD","status":"pending"}],"total":1}"#
                .into(),
            r#"{"error":{"code":"amount_too_large","message":"too much","field":"amount"}}"#.into(),
        ]
    }
}

refunds_testkit::provider_suite!(Under);
