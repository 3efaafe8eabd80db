//! The whole shared suite on the provider of `examples/custom_provider.rs`, written outside the
//! repository's providers with only the public API, on its own sandbox skin.

#[path = "../custom_provider.rs"]
mod custom_provider;

refunds_testkit::provider_suite!(custom_provider::Acme, include_str!("custom_provider.json"));

/// The example itself: registered at run time and driven through the registry.
#[test]
fn the_example_runs_through_the_registry() {
    custom_provider::main().expect("the example runs");
}
