//! # refunds-fourgeeks
//!
//! [4Geeks Payments](https://docs.4geeks.io) refunds for the [`refunds`] SDK: create, retrieve and
//! list refunds through [`refunds::RefundProvider`], with exact money, normalized statuses, the raw
//! JSON of every refund, and errors that say whether a create may have been applied.
//!
//! ```no_run
//! use refunds::{CreateRefund, Currency, Money, PaymentRef, RefundProvider, RefundReason};
//! use refunds_fourgeeks::FourGeeksClient;
//!
//! # async fn run() -> refunds::Result<()> {
//! let client = FourGeeksClient::builder()
//!     .api_key("sk_test_your_api_key_here")
//!     .currency(Currency::USD) // 4Geeks refunds carry no currency: say which the account uses
//!     .build()?;
//! let refund = client
//!     .create_refund(
//!         &CreateRefund::new(PaymentRef::payment("pay_7g8h9i0j1k2l")?)
//!             .amount(Money::from_major_str("25.00", Currency::USD)?)
//!             .reason(RefundReason::Other("Customer requested partial refund".into())),
//!     )
//!     .await?;
//! println!("{} {} {}", refund.id, refund.amount, refund.status);
//! # Ok(())
//! # }
//! ```
//!
//! What to know (the crate's README has the tables):
//!
//! - amounts are integer minor units of the account currency set on the builder
//!   (`FourGeeksClientBuilder::currency` or `FOURGEEKS_CURRENCY`);
//! - 4Geeks documents no idempotency: a create is never re-sent after it may have been received (only
//!   a refused connection and a 429 are re-sent), a caller's idempotency key is refused, and a create
//!   whose answer was lost fails with an `Ambiguous` error carrying the pending create;
//! - the list pages by `limit`/`offset` with a total, so a stream fetches pages concurrently;
//! - merchant reference, description and metadata have no 4Geeks field: a create carrying one is
//!   refused before sending, naming the field;
//! - `FourGeeksClient::refund_from_json` reads a refund object from a webhook or a stored body the
//!   same way the client reads API answers.
//!
//! With the `sandbox` feature, [`sandbox`] runs a stateful 4Geeks simulator on 127.0.0.1.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
mod error;
mod wire;

#[cfg(feature = "sandbox")]
pub mod sandbox;

pub use client::FourGeeks;

/// A 4Geeks Payments refunds client (the engine's [`Client`](refunds::adapter::Client) over [`FourGeeks`]).
///
/// The account currency is required because 4Geeks refund objects carry none: it fills every
/// [`refunds::Money`] the client returns, and a create in another currency is refused before
/// anything is sent.
pub type FourGeeksClient = refunds::adapter::Client<FourGeeks>;

/// The builder of a [`FourGeeksClient`].
pub type FourGeeksClientBuilder = refunds::adapter::ClientBuilder<FourGeeks>;
pub use wire::STATUSES;

/// The provider id, in [`refunds::ProviderInfo::id`], [`refunds::Refund::provider`] and errors.
pub const ID: &str = "fourgeeks";

/// FourGeeks, described once for the registry, the command line and the shared suite.
pub const DESCRIPTOR: refunds::adapter::Descriptor = <FourGeeks as refunds::adapter::Described>::DESCRIPTOR;
