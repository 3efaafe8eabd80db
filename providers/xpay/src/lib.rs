//! # refunds-xpay
//!
//! [XPay](https://docs.xpay.app) (Egypt) refunds for the [`refunds`] SDK: the same
//! [`RefundProvider`](refunds::RefundProvider) interface as every other provider, exact money, a
//! normalized status with unknown strings kept, XPay's JSON kept in [`Refund::raw`](refunds::Refund::raw).
//!
//! - **Create**: `POST /refunds` with exactly one of `chargeId` ([`PaymentRef::charge`](refunds::PaymentRef::charge))
//!   or `paymentIntentId` ([`PaymentRef::payment_intent`](refunds::PaymentRef::payment_intent)); other
//!   reference kinds are refused before sending. The amount goes out as integer minor units of the
//!   charge's currency (XPay takes no currency on a refund); without an amount the rest is refunded.
//! - **Retrieve**: `GET /refunds/{id}`.
//! - **List**: `GET /refunds`, one page ([`PagingStyle::SinglePage`](refunds::PagingStyle::SinglePage)):
//!   XPay's paging parameters are undocumented, so none are sent and `next` is always `None`.
//! - **No idempotency** is documented: a create is never retried, a caller's idempotency key is not
//!   sent, and a create whose answer was lost is an `Ambiguous` error carrying the request, to be
//!   looked up with [`RefundProvider::find_created`](refunds::RefundProvider::find_created).
//!
//! ```no_run
//! use refunds::{CreateRefund, Currency, Money, PaymentRef, RefundProvider};
//! use refunds_xpay::XPayClient;
//!
//! # async fn run() -> refunds::Result<()> {
//! let client = XPayClient::from_env()?; // XPAY_API_KEY, optional XPAY_BASE_URL
//! let request = CreateRefund::new(PaymentRef::charge("ch_xyz789")?)
//!     .amount(Money::from_major_str("200.00", Currency::EGP)?);
//! let refund = client.create_refund(&request).await?;
//! println!("{} {} {}", refund.id, refund.amount, refund.status);
//! # Ok(())
//! # }
//! ```
//!
// The link resolves only when the module is built, so the docs build with and without the feature.
#![cfg_attr(
    feature = "sandbox",
    doc = "With the `sandbox` feature, [`sandbox`] runs an offline XPay on 127.0.0.1 for tests."
)]
#![cfg_attr(
    not(feature = "sandbox"),
    doc = "With the `sandbox` feature, the `sandbox` module runs an offline XPay on 127.0.0.1 for tests."
)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
mod error;
mod wire;

#[cfg(feature = "sandbox")]
pub mod sandbox;

pub use client::{LIST_LIMITS, XPayClient, XPayClientBuilder, capabilities};
pub use wire::{MERCHANT_REFERENCE_KEY, STATUSES, parse_refund, parse_refund_list};

/// The provider id, in [`refunds::ProviderInfo::id`] and [`refunds::Refund::provider`].
pub const PROVIDER_ID: &str = "xpay";

/// The production API.
pub const DEFAULT_BASE_URL: &str = "https://api.xpay.app";

/// The prefix of the environment variables [`XPayClient::from_env`] reads.
pub const ENV_PREFIX: &str = "XPAY";

/// The API key variable.
pub const API_KEY_ENV: &str = "XPAY_API_KEY";

/// The base URL override variable.
pub const BASE_URL_ENV: &str = "XPAY_BASE_URL";
