//! # refunds
//!
//! One typed interface to refunds across payment providers. Every provider crate (the README lists them) implements
//! [`RefundProvider`], so an application calls [`RefundProvider::create_refund`],
//! [`RefundProvider::get_refund`] and [`RefundProvider::list_refunds`] the same way on each and gets the
//! same [`Refund`] back:
//!
//! - **exact money**: [`Money`] is integer minor units plus an ISO 4217 [`Currency`]; decimal text is
//!   parsed exactly and more precision than the currency has is an error, never a rounding;
//! - **a normalized status** ([`RefundStatus`]), with unknown provider strings kept;
//! - **the provider's raw JSON** on every refund ([`Refund::raw`]);
//! - **errors that say what happened** ([`Error`]): a kind, the HTTP status, the provider's code and
//!   message, the request id, and whether the request was not sent, rejected, or may have been
//!   applied ([`Delivery`]). A create is re-sent only under a key the provider honours; when it may
//!   have been applied, the error carries a [`PendingCreate`] and [`RecoverExt::recover`] resolves it
//!   without guessing.
//!
//! Walk a whole list with [`RefundProviderExt::refunds_stream`]; wait for a final status with
//! [`SettleExt::wait_until_final`]; override a call's deadline, retries or key with [`CallOptions`];
//! verify webhooks with [`webhook`]. Provider authors build on
//! [`adapter`]; with the `sandbox` feature, the `sandbox` module is the stateful offline simulator. The suite
//! every provider crate runs lives in its own crate, `refunds-testkit` (a dev-dependency).

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod adapter;
mod data;
mod options;
mod provider;
mod random;
mod raw;
pub mod reconciliation;
mod recovery;
mod retry;
mod settle;
mod stream;
mod verdict;
pub mod webhook;
mod webhook_check;

// The data layer's modules under their own names, as everything in the crate imports them.
pub(crate) use data::{currency, error, ids, model, money, pending};

// Its types are public under one path, `refunds::sandbox`.
#[cfg(feature = "sandbox")]
mod ledger;
#[cfg(feature = "sandbox")]
pub mod sandbox;

pub use adapter::RetryPolicy;
pub use currency::Currency;
pub use error::{Delivery, Error, ErrorKind, FieldError, MAX_ERROR_BODY, Result};
pub use ids::{IdempotencyKey, MAX_ID_LEN, PaymentRef, PaymentRefKind, RefundId};
pub use model::{
    CreateRefund, ListFilters, ListRefunds, MAX_METADATA_ENTRIES, MAX_TEXT_LEN, Page, PageCursor, Refund, RefundReason,
    RefundStatus, check_text,
};
pub use money::{AmountError, Money};
pub use options::CallOptions;
pub use pending::PendingCreate;
pub use provider::{
    Capabilities, CreateFields, IdempotencySupport, KEY_RETENTION_UNKNOWN, MarkerField, PagingStyle, ProviderInfo,
    RefundProvider, RequestPreview, Resent,
};
pub use raw::RawJson;
pub use recovery::{RecoverExt, RecoveryOptions};
pub use settle::{SettleExt, WaitOptions};
pub use stream::{BoxStream, RefundProviderExt, StreamOptions};
pub use verdict::{Doubt, Evidence, Recovery};
pub use webhook::{EventKind, WebhookError, WebhookEvent, WebhookVerifier};

/// Re-exported so provider crates and applications name the same versions.
pub use async_trait::async_trait;
pub use time::OffsetDateTime;
