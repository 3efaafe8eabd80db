//! # refunds-syncgram
//!
//! [SyncgramPay](https://docs.bachs.io) refunds behind the [`refunds::RefundProvider`] interface:
//! create (full or partial) refunds of a charge, retrieve one by id or by charge, list with offset
//! paging and a status filter. Money is exact (decimal amounts are read and written digit for digit),
//! statuses are normalized with unknown strings kept, and every [`refunds::Refund`] keeps SyncgramPay's
//! JSON in `raw`. The engine ([`refunds::adapter::Client`]) runs every call; this crate is the
//! translator ([`Syncgram`]) and SyncgramPay's own operations ([`SyncgramExt`]).
//!
//! ```no_run
//! # async fn run() -> refunds::Result<()> {
//! use refunds::{CreateRefund, Currency, Money, PaymentRef, RefundProvider};
//! use refunds_syncgram::{FeeBearer, SyncgramClient, SyncgramExt, SyncgramOptions};
//!
//! // SYNCGRAM_API_KEY=sk_live_... SYNCGRAM_CURRENCY=USD (the account's settlement currency)
//! let client = SyncgramClient::from_env()?;
//! let request = CreateRefund::new(PaymentRef::charge("ch_a1b2c3d4e5f6")?)
//!     .amount(Money::from_major_str("25.00", Currency::USD)?)
//!     .merchant_reference("partial_refund_ord_12345");
//! let refund = client.create_refund(&request).await?;
//! println!("{} {} {}", refund.id, refund.status, refund.amount);
//!
//! // SyncgramPay's own options: per call here, or for every create with the builder's `.options(..)`.
//! let options = SyncgramOptions::new().fee_bearer(FeeBearer::Customer);
//! let full = CreateRefund::new(PaymentRef::charge("ch_b2c3d4e5f6a1")?);
//! client.create_refund_with_options(&full, &options).await?;
//! # Ok(()) }
//! ```
//!
//! Things to know (the crate's README has the tables):
//!
//! - SyncgramPay refunds **charges** ([`refunds::PaymentRef::charge`]); other reference kinds are
//!   refused before sending.
//! - Its refund objects carry no currency: the client is built with the account's **settlement
//!   currency** (required) and refuses amounts in any other.
//! - Every create carries an `idempotency_key` (the caller's, else one generated from the OS random
//!   source), which SyncgramPay documents as returning the original refund when sent again; the
//!   `reference` is the merchant reference, else that key. Creates are therefore re-sent after a 5xx,
//!   a 408 or a timeout, and an `Ambiguous` create error's pending create carries the key: sending it
//!   again returns the same refund instead of making a second one.
//! - `SyncgramClient::refund_from_json` reads a refund object from elsewhere (a webhook payload)
//!   the way responses are read.
//! - The documentation site is Bachs', which now also documents the Bachs API: [`BachsClient`] sends
//!   the same refunds to `api.bachs.io` (`sk_live_` keys) or `sandbox-api.bachs.io` (`sk_sandbox_`
//!   keys) under `/v1/refunds`. Webhooks are signed the Bachs way ([`webhooks`]).
//!
//! With the `sandbox` feature, [`sandbox`] simulates SyncgramPay's API locally.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod bachs;
mod client;
mod error;
pub mod webhooks;
mod wire;

#[cfg(feature = "sandbox")]
pub mod sandbox;

pub use client::{
    MAX_IDEMPOTENCY_KEY_LEN, MAX_REASON_LEN, MAX_REFERENCE_LEN, MAX_REFUND_ADDRESS_LEN, Syncgram, SyncgramExt,
    SyncgramOptions,
};

/// A SyncgramPay refunds client (the engine's [`Client`](refunds::adapter::Client) over [`Syncgram`]). Cheap to clone.
///
/// Amounts are in the account's settlement currency, which SyncgramPay never names in its answers:
/// the client is built with it (`.currency(..)` or `SYNCGRAM_CURRENCY`) and refuses creates in any other.
pub type SyncgramClient = refunds::adapter::Client<Syncgram>;

/// The builder of a [`SyncgramClient`]: API key and settlement currency are required; `.options(..)`
/// sets the [`SyncgramOptions`] every create sends.
pub type SyncgramClientBuilder = refunds::adapter::ClientBuilder<Syncgram>;
pub use bachs::{BACHS_LIVE_URL, BACHS_SANDBOX_URL, BACHS_STATUSES, Bachs, BachsClient, BachsClientBuilder};
pub use error::CODES;
pub use wire::{FeeBearer, STATUSES, SimulatedOutcome};

/// The provider id, in [`refunds::ProviderInfo::id`], [`refunds::Refund::provider`] and errors.
pub const ID: &str = "syncgram";

/// Syncgram, described once for the registry, the command line and the shared suite.
pub const DESCRIPTOR: refunds::adapter::Descriptor = <Syncgram as refunds::adapter::Described>::DESCRIPTOR;
