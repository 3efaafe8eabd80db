//! # refunds-cursor
//!
//! Refunds on the cursor-paged refunds API (seed 002) through the [`refunds`] SDK's one interface,
//! [`RefundProvider`](refunds::RefundProvider).
//!
//! The API's documentation names no vendor, host or auth scheme, so the client asks for what it
//! does not say: the **base URL** and the **account currency** are required, the auth scheme is
//! selectable ([`AuthScheme`], Bearer by default) and the paths default to `POST /refunds`,
//! `GET /refunds/{id}` and `GET /refunds` and can be overridden.
//!
//! - amounts are integer minor units (`amount`), labelled with the configured currency;
//! - `created_at` is unix milliseconds; `live` becomes [`Refund::livemode`](refunds::Refund::livemode);
//!   `failed_reason` becomes [`Refund::failure_reason`](refunds::Refund::failure_reason);
//! - `payment` may be an id or the expanded payment object ([`CursorClientBuilder::expand_payment`],
//!   [`expanded_payment`]); the refund's payment reference is the id either way;
//! - the list pages by object id (`starting_after` / `ending_before`, `limit` 1 to 1000, default 50);
//! - creates are sent once: the API documents no idempotency, so an ambiguous failure carries the
//!   request and [`RefundProvider::find_created`](refunds::RefundProvider::find_created) looks for it.
//!
//! ```no_run
//! # async fn demo() -> refunds::Result<()> {
//! use refunds::{CreateRefund, Currency, Money, PaymentRef, RefundProvider};
//! use refunds_cursor::CursorClient;
//!
//! let client = CursorClient::builder()
//!     .api_key("sk_live_...")
//!     .base_url("https://api.example.com/v1")
//!     .currency(Currency::USD)
//!     .build()?;
//! let refund = client
//!     .create_refund(
//!         &CreateRefund::new(PaymentRef::payment("pay_123")?)
//!             .amount(Money::from_major_str("12.50", Currency::USD)?),
//!     )
//!     .await?;
//! println!("{} {} {}", refund.id, refund.amount, refund.status);
//! # Ok(()) }
//! ```

mod client;
mod error;
mod wire;

#[cfg(feature = "sandbox")]
pub mod sandbox;

pub use client::{
    AuthScheme, CursorClient, CursorClientBuilder, DEFAULT_CREATE_PATH, DEFAULT_LIST_PATH, DEFAULT_RETRIEVE_PATH,
    ExpandStyle,
};
pub use wire::{ExpandedPayment, STATUSES, expanded_payment};

/// The provider id, in [`ProviderInfo::id`](refunds::ProviderInfo::id) and
/// [`Refund::provider`](refunds::Refund::provider).
pub const PROVIDER_ID: &str = "cursor";

/// The display name (the vendor is not named by its documentation).
pub const PROVIDER_NAME: &str = "cursor-paged refunds API";

/// The prefix of the environment variables [`CursorClient::from_env`] reads.
pub const ENV_PREFIX: &str = "CURSOR_REFUNDS";
