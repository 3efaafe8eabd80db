//! # refunds-bias
//!
//! [Bias](https://docs.biaspay.com) refunds for the [`refunds`] SDK: create, retrieve and list refunds
//! through [`refunds::RefundProvider`], with exact money, normalized statuses, the raw JSON of every
//! refund, idempotent creates, native list filters, the payment expanded per call, and the Bias event
//! stream kept going across disconnects.
//!
//! ```no_run
//! use refunds::{CreateRefund, Currency, Money, PaymentRef, RefundProvider};
//! use refunds_bias::BiasClient;
//!
//! # async fn run() -> refunds::Result<()> {
//! let client = BiasClient::builder().api_key("sk_test_...").build()?;
//! let refund = client
//!     .create_refund(
//!         &CreateRefund::new(PaymentRef::payment("pay_lUY2g0TuPzN9qi4couahd3")?)
//!             .amount(Money::from_major_str("10.00", Currency::USD)?),
//!     )
//!     .await?;
//! println!("{} {} {}", refund.id, refund.amount, refund.status);
//! # Ok(())
//! # }
//! ```
//!
//! What to know (the README has the tables and the source of each fact):
//!
//! - base URL `https://api.biaspay.com/v1`, `Authorization: Bearer`, `api-version: 2025-07-01` (the
//!   version the vendor's own client pins; [`BiasOptions`] pins another); `sk_live_` / `sk_test_` keys
//!   give the mode, and a refund whose `live` disagrees with the key is a `Decode` error;
//! - every create carries an `idempotency-key` (the caller's, else one generated and reused by every
//!   retry), so a create that may have been received is re-sent safely;
//! - the create body is `payment` and `amount` only: a reason, description, metadata or merchant
//!   reference is refused before sending, naming the field;
//! - amounts are integer minor units; Bias sends no currency, so USD is assumed unless configured
//!   (`BiasClientBuilder::currency` or `BIAS_CURRENCY`);
//! - the list pages by object id (`starting_after` / `ending_before`, `limit` 1 to 1000, default 50),
//!   newest first, and filters by payment, status and creation time natively (one JSON `filters`
//!   object in the query, as the vendor encodes it);
//! - [`BiasExt`] gets and lists with the payment expanded (`expand={"payment":true}`), reads the
//!   event log and streams events across disconnects ([`EventStream`], [`ResumePoint`]);
//!   [`customer_message`] reads the payer-facing text of an error.
//!
//! With the `sandbox` feature, [`sandbox`] runs a stateful Bias simulator on 127.0.0.1.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
mod error;
mod events;
mod expand;
mod ext;
mod stream;
mod wire;

#[cfg(feature = "sandbox")]
pub mod sandbox;

pub use client::{API_VERSION, Bias, BiasOptions};

/// A Bias refunds client (the engine's [`Client`](refunds::adapter::Client) over [`Bias`]).
///
/// Creates carry an `idempotency-key` (the caller's, else one generated per create and reused by every
/// retry), so they are re-sent safely. Amounts are minor units of the account currency (USD unless
/// configured: Bias objects carry no currency). Provider-only calls: [`crate::BiasExt`] (the payment
/// expanded per call, the event log and stream).
pub type BiasClient = refunds::adapter::Client<Bias>;

/// The builder of a [`BiasClient`].
pub type BiasClientBuilder = refunds::adapter::ClientBuilder<Bias>;
pub use events::{BiasEvent, EventLines, EventsRequest, RefundEvent, ResumePoint};
pub use expand::ExpandedRefund;
pub use ext::BiasExt;
pub use stream::{EventStream, MAX_CATCH_UP};
pub use wire::{BiasPayment, STATUSES};

/// The `customer_message` of a Bias error (the text Bias meant for the payer, on a `payment_error`),
/// read from the response body the error keeps.
pub fn customer_message(error: &refunds::Error) -> Option<String> {
    error::customer_message(error)
}

/// The provider id, in [`refunds::ProviderInfo::id`], [`refunds::Refund::provider`] and errors.
pub const ID: &str = "bias";

/// A cursor listing forward from just after `id` (`starting_after`: older refunds or events, since
/// Bias lists newest first).
pub fn cursor_after(id: &str) -> refunds::PageCursor {
    refunds::adapter::paging::id_cursor::after(ID, id)
}

/// A cursor listing backward from just before `id` (`ending_before`: newer ones); the pages read with
/// it continue backward.
pub fn cursor_before(id: &str) -> refunds::PageCursor {
    refunds::adapter::paging::id_cursor::before(ID, id)
}

/// Bias, described once for the registry, the command line and the shared suite.
pub const DESCRIPTOR: refunds::adapter::Descriptor = <Bias as refunds::adapter::Described>::DESCRIPTOR;
