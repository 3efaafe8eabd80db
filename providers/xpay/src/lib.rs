//! # refunds-xpay
//!
//! [XPay](https://docs.xpay.app) (Egypt) refunds for the [`refunds`] SDK: the same
//! [`RefundProvider`](refunds::RefundProvider) interface as every other provider, exact money, a
//! normalized status with unknown strings kept, XPay's JSON kept in [`Refund::raw`](refunds::Refund::raw).
//!
//! ```no_run
//! use refunds::{CreateRefund, Currency, Money, PaymentRef, RefundProvider};
//! use refunds_xpay::XPayClient;
//!
//! # async fn run() -> refunds::Result<()> {
//! let client = XPayClient::builder()
//!     .api_key("sk_test_your_api_key_here")
//!     .currency(Currency::EGP) // optional: refuses a create whose amount is in another currency
//!     .build()?;
//! let request = CreateRefund::new(PaymentRef::charge("ch_xyz789")?)
//!     .amount(Money::from_major_str("200.00", Currency::EGP)?);
//! let refund = client.create_refund(&request).await?;
//! println!("{} {} {}", refund.id, refund.amount, refund.status);
//! # Ok(())
//! # }
//! ```
//!
//! What to know (the crate's README has the tables):
//!
//! - **create**: `POST /refunds` with exactly one of `chargeId` ([`PaymentRef::charge`](refunds::PaymentRef::charge))
//!   or `paymentIntentId` ([`PaymentRef::payment_intent`](refunds::PaymentRef::payment_intent)); other
//!   reference kinds are refused before sending. The amount goes out as integer minor units and XPay
//!   takes no currency: configure the account currency (`.currency(..)` or `XPAY_CURRENCY`) to have a
//!   create in another currency refused before sending. Refunds read back keep XPay's own `currency`;
//! - **no idempotency** is documented: a create is sent once (only a refused connection and a 429 are
//!   re-sent), a caller's idempotency key is refused, and a create whose outcome is unknown fails with
//!   an `Ambiguous` error carrying the pending create;
//! - **list**: `GET /refunds`, one page ([`PagingStyle::SinglePage`](refunds::PagingStyle::SinglePage)),
//!   no parameter sent: XPay documents none. A refund missing from that page may still exist;
//! - the merchant reference travels as the metadata entry [`MERCHANT_REFERENCE_KEY`];
//! - `XPayClient::refund_from_json` reads a refund object from a webhook or a stored body the same way
//!   the client reads API answers.
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
pub mod webhooks;
mod wire;

#[cfg(feature = "sandbox")]
pub mod sandbox;

pub use client::{XPay, XPayClient, XPayClientBuilder};
pub use wire::{MERCHANT_REFERENCE_KEY, STATUSES};

/// The provider id, in [`refunds::ProviderInfo::id`], [`refunds::Refund::provider`] and errors.
pub const ID: &str = "xpay";

/// XPay, described once for the registry, the command line and the shared suite.
pub const DESCRIPTOR: refunds::adapter::Descriptor = <XPay as refunds::adapter::Described>::DESCRIPTOR;
