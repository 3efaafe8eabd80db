//! Every shared scenario of `refunds-testkit` on the XPay sandbox and its documented bodies, plus the
//! sandbox suite in the zero- and three-decimal currencies XPay takes.

use refunds::Currency;
use refunds_testkit::SuiteHarness;
use refunds_testkit::sandbox_suite::create_get_list_settle;

refunds_testkit::provider_suite!(refunds_xpay::XPay, include_str!("fixtures/documented.json"));

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_zero_and_three_decimal_currencies() {
    create_get_list_settle(&SuiteHarness::<Described>::new(), Currency::JPY).await;
    create_get_list_settle(&SuiteHarness::<Described>::new(), Currency::KWD).await;
}
