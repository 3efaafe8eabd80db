//! Test support: the conformance suite every provider runs, and the in-memory reference provider.
//!
//! A provider crate implements [`Harness`] (usually over wiremock, with its own wire format) and
//! invokes [`conformance_tests!`](crate::conformance_tests) in `tests/conformance.rs`:
//!
//! ```text
//! refunds::conformance_tests!(my_provider_tests::WireHarness::new());
//! ```
//!
//! Each scenario becomes one named `#[tokio::test]`. The scenarios speak of situations
//! ([`Situation`]), not stubs, so the same suite also runs against stateful backends: the in-memory
//! [`MemoryProvider`] (the reference run in this crate's `tests/`) and the sandbox.

pub mod bad_input;
pub mod conformance;
mod harness;
pub mod hostile;
mod memory;
pub mod reliability;
pub mod sandbox_suite;
pub mod wire;

pub use harness::{Backend, Harness, HarnessOptions, RefundFixture, Situation};
pub use memory::{MemoryBackend, MemoryHarness, MemoryProvider};
pub use wire::{WireBackend, WireClient, WireDialect, WireError, WireHarness, fast_retry};

/// Adds to `request` those of the optional fields given that `capabilities` says the provider
/// carries; the others are left out (a provider refuses what it cannot carry).
pub fn with_carried(
    mut request: crate::CreateRefund,
    capabilities: &crate::Capabilities,
    reason: Option<crate::RefundReason>,
    merchant_reference: Option<&str>,
    idempotency_key: Option<crate::IdempotencyKey>,
) -> crate::CreateRefund {
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
                $crate::testkit::conformance::$name(&harness).await;
            }
        )*
    };
}
