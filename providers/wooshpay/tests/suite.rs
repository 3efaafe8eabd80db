//! Every shared scenario of `refunds-testkit` on the WooshPay sandbox, and its documented bodies.

refunds_testkit::provider_suite!(refunds_wooshpay::WooshPay, include_str!("fixtures/documented.json"));
