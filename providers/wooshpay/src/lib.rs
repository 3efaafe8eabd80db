//! # refunds-wooshpay
//!
//! [WooshPay](https://docs.wooshpay.com) refunds behind the [`refunds::RefundProvider`] interface.
//! WooshPay's API is Stripe-compatible: HTTP Basic auth with the secret key as user name, JSON bodies,
//! amounts as a string of minor units in requests and an integer in answers, unix-second timestamps,
//! lower-case currency codes, and an `Idempotency-Key` header.
//!
//! - **Create** (`POST /v1/refunds`) of a payment intent ([`refunds::PaymentRef::payment_intent`]), in
//!   full or in part. Every create carries an `Idempotency-Key` (yours, or one generated for the
//!   call and reused by its retries), so it is re-sent safely after timeouts, resets, 5xx answers and
//!   a 409 `idempotency_key_in_use`.
//! - **Units**: Stripe's, assumed. Where Stripe's exponent differs from ISO 4217 (ISK and UGX are sent
//!   in hundredths, MGA in whole units) amounts are converted both ways; currencies with no known
//!   Stripe unit are refused before sending (see the README's "Units" table).
//! - **Retrieve** (`GET /v1/refunds/{id}`).
//! - **No list**: WooshPay documents none, so [`refunds::RefundProvider::list_refunds`] returns
//!   `Unsupported` without sending anything. An ambiguous create is recovered by re-sending its
//!   pending create ([`refunds::RecoverExt::recover`] does it): it carries the idempotency key the
//!   first attempt used (yours, or the generated one), so WooshPay answers with the refund it made.
//! - **Parse** a refund object as WooshPay sends it (a webhook payload):
//!   [`WooshPayClient::refund_from_json`].
//!
//! ```no_run
//! use refunds::{CreateRefund, Currency, Money, PaymentRef, RefundProvider, RefundReason};
//! use refunds_wooshpay::WooshPayClient;
//!
//! # async fn demo() -> refunds::Result<()> {
//! // `sk_test_` keys go to the test host, `sk_live_` keys to the live one.
//! let client = WooshPayClient::builder().api_key("sk_test_your_key").build()?;
//! let refund = client
//!     .create_refund(
//!         &CreateRefund::new(PaymentRef::payment_intent("pi_1787730829493927936")?)
//!             .amount(Money::from_major_str("12.50", Currency::USD)?)
//!             .reason(RefundReason::RequestedByCustomer),
//!     )
//!     .await?;
//! println!("{} {} {}", refund.id, refund.amount, refund.status);
//! # Ok(()) }
//! ```
//!
//! With the `sandbox` feature, the `sandbox` module runs a stateful simulation of WooshPay's API on 127.0.0.1
//! for offline tests.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
mod error;
mod units;
pub mod webhooks;
mod wire;

#[cfg(feature = "sandbox")]
pub mod sandbox;

pub use client::{WooshPay, WooshPayClient, WooshPayClientBuilder};
pub use wire::STATUSES;

/// The provider id, as in [`refunds::ProviderInfo::id`] and [`refunds::Refund::provider`].
pub const ID: &str = "wooshpay";

/// WooshPay's test host, chosen for `sk_test_` keys.
pub const TEST_BASE_URL: &str = "https://apitest.wooshpay.com";

/// WooshPay's live host, chosen for `sk_live_` keys.
pub const LIVE_BASE_URL: &str = "https://api.wooshpay.com";

/// The prefix of the environment variables `WooshPayClient::from_env` reads: `WOOSHPAY_API_KEY`,
/// `WOOSHPAY_BASE_URL` and `WOOSHPAY_CURRENCY`.
pub const ENV_PREFIX: &str = "WOOSHPAY";

/// WooshPay, described once for the registry, the command line and the shared suite.
pub const DESCRIPTOR: refunds::adapter::Descriptor = <WooshPay as refunds::adapter::Described>::DESCRIPTOR;
