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
//!
//! Application code does not need this module.

pub mod amount;
mod auth;
mod json;
pub mod paging;
mod secret;
mod settings;
mod status;
pub mod timestamp;
mod transport;

pub use auth::{Auth, base64_decode, base64_encode};
pub use json::{WithRaw, parse_object};
pub use secret::Secret;
pub use settings::ClientSettings;
pub use status::StatusMap;
pub use transport::{
    ApiRequest, ApiResponse, ErrorDecoder, RetryPolicy, Transport, TransportConfig, check_base_url, parse_retry_after,
    request_id_from_headers,
};

use crate::error::{Error, ErrorKind};
use crate::model::CreateRefund;

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

/// Attaches `request` to an error whose create may have been applied, so the caller can look it up
/// with [`crate::RefundProvider::find_created`]. Other errors pass through.
pub fn note_pending_create(error: Error, request: &CreateRefund) -> Error {
    if error.is_ambiguous() {
        error.with_pending_create(request.clone())
    } else {
        error
    }
}

/// 64 random bits from the operating system (for jitter and generated keys).
pub fn random_u64() -> u64 {
    let mut buf = [0u8; 8];
    // getrandom only fails on platforms without an entropy source; fall back to the clock there.
    if getrandom::fill(&mut buf).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        return (nanos as u64) ^ 0x9E37_79B9_7F4A_7C15;
    }
    u64::from_le_bytes(buf)
}

/// 128 random bits from the operating system.
pub fn random_u128() -> u128 {
    (u128::from(random_u64()) << 64) | u128::from(random_u64())
}
