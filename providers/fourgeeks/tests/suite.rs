//! Every shared scenario of `refunds-testkit` on the 4Geeks sandbox, and its documented bodies.

refunds_testkit::provider_suite!(refunds_fourgeeks::FourGeeks, include_str!("fixtures/documented.json"));
