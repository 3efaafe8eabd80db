//! # refunds-syncgram
//!
//! [SyncgramPay](https://docs.bachs.io) refunds behind the [`refunds::RefundProvider`] interface:
//! create (full or partial) refunds of a charge, retrieve one by id or by charge, list with offset
//! paging and a status filter. Money is exact (decimal amounts are read and written digit for digit),
//! statuses are normalized with unknown strings kept, and every [`refunds::Refund`] keeps SyncgramPay's
//! JSON in `raw`.
//!
//! ```no_run
//! # async fn run() -> refunds::Result<()> {
//! use refunds::{CreateRefund, Currency, Money, PaymentRef, RefundProvider};
//! use refunds_syncgram::{FeeBearer, SyncgramClient, SyncgramOptions};
//!
//! // SYNCGRAM_API_KEY=sk_live_... SYNCGRAM_CURRENCY=USD (the account's settlement currency)
//! let client = SyncgramClient::from_env()?;
//! let request = CreateRefund::new(PaymentRef::charge("ch_a1b2c3d4e5f6")?)
//!     .amount(Money::from_major_str("25.00", Currency::USD)?)
//!     .merchant_reference("partial_refund_ord_12345");
//! let refund = client.create_refund(&request).await?;
//! println!("{} {} {}", refund.id, refund.status, refund.amount);
//!
//! // SyncgramPay's own options go through the concrete client.
//! let options = SyncgramOptions::new().fee_bearer(FeeBearer::Customer);
//! let full = CreateRefund::new(PaymentRef::charge("ch_b2c3d4e5f6a1")?);
//! client.create_refund_with(&full, &options).await?;
//! # Ok(()) }
//! ```
//!
//! Things to know:
//!
//! - SyncgramPay refunds **charges** ([`refunds::PaymentRef::charge`]); other reference kinds are
//!   refused before sending.
//! - Its refund objects carry no currency: the client is built with the account's **settlement
//!   currency** (required) and refuses amounts in any other.
//! - Every create carries a `reference` (the merchant reference, else one derived from the
//!   idempotency key, else a generated one), which SyncgramPay de-duplicates on, so creates are
//!   retried safely after a 5xx or a timeout. An `Ambiguous` create error's
//!   [`refunds::Error::pending_create`] carries that reference (a generated one as its merchant
//!   reference), so sending it again returns the same refund instead of making a second one.
//! - [`SyncgramClient::refund_from_json`] reads a refund object from elsewhere (a webhook payload)
//!   the way responses are read.
//!
//! With the `sandbox` feature, [`sandbox`] simulates SyncgramPay's API locally.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
mod error;
mod wire;

#[cfg(feature = "sandbox")]
pub mod sandbox;

pub use client::{
    DEFAULT_BASE_URL, DEFAULT_PAGE_SIZE, ENV_PREFIX, MAX_IDEMPOTENCY_KEY_LEN, MAX_PAGE_SIZE, MAX_REASON_LEN,
    MAX_REFERENCE_LEN, MAX_REFUND_ADDRESS_LEN, PROVIDER_ID, PROVIDER_NAME, SyncgramClient, SyncgramClientBuilder,
    SyncgramOptions, capabilities,
};
pub use wire::{FeeBearer, SimulatedOutcome};
