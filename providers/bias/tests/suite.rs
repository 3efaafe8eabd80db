//! Every shared scenario of `refunds-testkit` on the Bias sandbox, and its documented bodies.

refunds_testkit::provider_suite!(refunds_bias::Bias, include_str!("fixtures/documented.json"));
