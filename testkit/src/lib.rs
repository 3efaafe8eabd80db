//! # refunds-testkit
//!
//! The suite every `refunds` provider runs, as a dev-dependency. A provider crate describes itself
//! once with [`ProviderUnderTest`] and invokes [`provider_suite!`] in `tests/suite.rs`:
//!
//! ```text
//! struct Under;
//! impl refunds_testkit::ProviderUnderTest for Under { type Provider = MyProvider; ... }
//! refunds_testkit::provider_suite!(Under);
//! ```
//!
//! Each scenario becomes one named test. The conformance scenarios speak of situations
//! ([`Situation`]), not stubs, so they run on stateful backends: the provider's own sandbox
//! ([`SandboxHarness`](sandbox_suite::SandboxHarness)), the in-memory [`MemoryProvider`], or wiremock ([`WireHarness`], for a provider
//! written by hand against its wire).

/// The core crate, re-exported so the macros name the same version the provider uses.
pub use refunds;

pub mod bad_input;
pub mod conformance;
pub mod fields;
pub mod fixtures;
mod harness;
pub mod hostile;
mod memory;
pub mod property;
pub mod raw;
pub mod readme;
pub mod recovery_suite;
pub mod reliability;
pub mod sandbox_suite;
mod suite;
pub mod webhooks;
pub mod wire;

pub use harness::{Backend, Harness, HarnessOptions, RefundFixture, Situation};
pub use memory::{MemoryBackend, MemoryHarness, MemoryProvider};
pub use suite::{ProviderUnderTest, SuiteHarness, WRONG_KEY, env_and_redaction, sandbox_kit, skip, status_table};
pub use wire::{WireBackend, WireClient, WireDialect, WireError, WireHarness, fast_retry};

/// Adds to `request` those of the optional fields given that `capabilities` says the provider
/// carries; the others are left out (a provider refuses what it cannot carry).
pub fn with_carried(
    mut request: refunds::CreateRefund,
    capabilities: &refunds::Capabilities,
    reason: Option<refunds::RefundReason>,
    merchant_reference: Option<&str>,
    idempotency_key: Option<refunds::IdempotencyKey>,
) -> refunds::CreateRefund {
    if let Some(reason) = reason.filter(|_| capabilities.carries.reason) {
        request = request.reason(reason);
    }
    if let Some(reference) = merchant_reference.filter(|_| capabilities.carries.merchant_reference) {
        request = request.merchant_reference(reference);
    }
    if let Some(key) = idempotency_key.filter(|_| capabilities.idempotency.is_native()) {
        request = request.idempotency_key(key);
    }
    request
}

/// The path segment an id becomes on the wire (as the transport encodes it), for wiremock `path`
/// matchers: `encoded_segment("../a?b")` is `"..%2Fa%3Fb"`.
pub fn encoded_segment(id: &str) -> String {
    let mut url = url::Url::parse("http://x/").expect("static url");
    url.path_segments_mut().expect("base").push(id);
    url.path().trim_start_matches('/').to_owned()
}

/// One `#[tokio::test]` per conformance scenario, against the harness expression given.
#[macro_export]
macro_rules! conformance_tests {
    ($harness:expr) => {
        $crate::conformance_tests!(@tests $harness;
            full_refund, partial_refund, several_partials, amount_over_refundable, unknown_payment,
            unauthorized_401, not_found_404, validation_error_with_fields, rate_limited_429_retry_after,
            server_error_then_ok_with_idempotency_key, server_error_without_key_is_ambiguous,
            malformed_body, unknown_status_string, list_three_pages_each_once, zero_decimal_currency,
            three_decimal_currency, request_facts, secret_absent_from_debug, unsupported_operations,
            bad_input_not_sent, path_injection_stays_one_segment);
    };
    (@tests $harness:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let harness = $harness;
                $crate::conformance::$name(&harness).await;
            }
        )*
    };
}
