//! Every shared scenario of `refunds-testkit` on the XPay sandbox, plus the sandbox suite in the
//! zero- and three-decimal currencies XPay takes.

use refunds::Currency;
use refunds::sandbox::{Ledger, Skin};
use refunds_testkit::SuiteHarness;
use refunds_testkit::sandbox_suite::create_get_list_settle;
use refunds_xpay::XPay;
use refunds_xpay::sandbox::{API_KEY, REFUND_ID_PREFIX, XPaySkin};

struct Under;

impl refunds_testkit::ProviderUnderTest for Under {
    type Provider = XPay;
    const API_KEY: &'static str = API_KEY;

    fn skin(_currency: Currency) -> impl Skin {
        XPaySkin::default()
    }

    fn ledger() -> Ledger {
        Ledger::new(REFUND_ID_PREFIX)
    }

    /// The seed's refund object, a list page and the error envelope with its `request_id`.
    fn sample_bodies() -> Vec<String> {
        [
            r#"{"id":"re_abc123","chargeId":"ch_xyz789","amount":"50000","currency":"EGP","status":"succeeded","reason":"requested_by_customer","balanceTransactionId":"bt_def456","createdAt":"2024-01-01T00:00:00.000Z"}"#,
            r#"{"data":[{"id":"re_1","paymentIntentId":"pi_1","amount":2500,"currency":"KWD","status":"pending","metadata":{"merchant_reference":"r"}}]}"#,
            r#"{"error":{"type":"invalid_request_error","code":"amount_exceeds_refundable","message":"too much","param":"amount","doc_url":null},"request_id":"req_8f2a91"}"#,
        ]
        .map(String::from)
        .to_vec()
    }
}

refunds_testkit::provider_suite!(Under);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_zero_and_three_decimal_currencies() {
    create_get_list_settle(&SuiteHarness::<Under>::new(), Currency::JPY).await;
    create_get_list_settle(&SuiteHarness::<Under>::new(), Currency::KWD).await;
}
