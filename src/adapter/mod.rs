//! The toolkit for provider authors.
//!
//! A provider crate is a translator: wire structs in, [`crate::Refund`] out. Everything that two
//! providers would otherwise both write lives here, once:
//!
//! - [`Transport`]: HTTP with auth, JSON, one-segment path encoding, timeouts, a response size cap,
//!   request ids, and retries that only re-send what is safe to re-send.
//! - [`Auth`] and [`Secret`]: API-key header, Bearer, Basic; never printed.
//! - [`amount`]: the wire spellings of money (integer minor units, minor units in a string, decimal
//!   major units as a string or a JSON number), exact.
//! - [`timestamp`]: RFC 3339, unix seconds and unix milliseconds as serde `with` modules.
//! - [`paging`]: offset and id cursors inside the opaque [`crate::PageCursor`], and page-size checks.
//! - [`StatusMap`]: provider status strings onto [`crate::RefundStatus`], unknown strings kept.
//! - [`ClientSettings`] and [`client_settings_setters!`](crate::client_settings_setters): the builder
//!   settings every client shares.
//! - [`WithRaw`]: parse a wire object and keep its exact JSON for [`crate::Refund::raw`].
//! - [`Expandable`]: a Stripe-style field that is an id or, expanded, the object.
//! - [`Text`]: a wire string the conversion only reads (a status, a currency), borrowed from the body.
//!
//! Application code does not need this module.

pub mod amount;
mod auth;
mod body;
mod descriptor;
pub mod engine;
pub mod errors;
mod expandable;
mod json;
pub mod lines;
pub mod paging;
pub mod read;
mod secret;
mod settings;
pub mod signature;
pub mod spec;
mod status;
mod text;
pub mod timestamp;
mod transport;

pub use crate::random::{random_u64, try_random_u64, try_random_u128};
/// The verdict rules a wrapper that retries by itself must keep (a rate limiter retrying each
/// attempt on its own permit): once an attempt may have been applied, so may the whole call.
pub use crate::verdict::rules::attempt_may_have_applied;
pub use crate::webhook::WebhookSettings;
pub use auth::{Auth, base64_decode, base64_encode};
pub use descriptor::{BuildFn, Described, Descriptor, WebhookKit};
pub use engine::{Client, ClientBuilder, CreateBody, HttpProvider, ListBody, Setup};
pub use expandable::Expandable;
pub use json::{WithRaw, parse_list, parse_object};
pub use secret::Secret;
pub use settings::ClientSettings;
pub use spec::{AccountCurrency, AuthStyle, Hosts, Idempotency, MARKER_KEY, MARKER_ROOM, PagingSpec, ProviderSpec};
pub use status::StatusMap;
pub use text::Text;
pub(crate) use transport::instant_after;
pub use transport::{
    ApiRequest, ApiResponse, ErrorDecoder, RetryPolicy, StreamBody, Transport, TransportConfig, TrustStore,
    check_base_url, check_proxy_url, check_root_certificates_pem, is_loopback, parse_retry_after,
    request_id_from_headers, whole_call_verdict,
};

use crate::error::ErrorKind;

/// The usual meaning of an HTTP status, for a provider's error table to start from.
pub fn kind_for_status(status: u16) -> ErrorKind {
    match status {
        400 | 422 => ErrorKind::Validation,
        401 => ErrorKind::Authentication,
        403 => ErrorKind::PermissionDenied,
        404 => ErrorKind::NotFound,
        408 => ErrorKind::Timeout,
        429 => ErrorKind::RateLimited,
        500..=599 => ErrorKind::ProviderUnavailable,
        _ => ErrorKind::Other,
    }
}
