//! The verification interface every provider implements, and the clock it checks timestamps against.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;
use time::OffsetDateTime;

use super::{WebhookError, WebhookEvent};

/// Longest signature header accepted, in bytes; a longer one is refused unread
/// ([`WebhookErrorKind::HeaderTooLarge`](super::WebhookErrorKind::HeaderTooLarge)).
pub const MAX_SIGNATURE_HEADER: usize = 8 * 1024;

/// The default distance allowed between a signature's timestamp and the clock: 300 s (xpay documents
/// it; WooshPay documents none, and the SDK assumes the same).
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// Verifies a webhook delivery and reads it as a [`WebhookEvent`]: one interface for every provider.
///
/// Give it the request's headers and its body bytes exactly as received, before any JSON parsing:
/// the signature covers those bytes, and nothing is re-serialized. It is object-safe, so an application
/// can keep one `Box<dyn WebhookVerifier>` per provider endpoint.
///
/// ```ignore
/// match verifier.verify_and_parse(request.headers(), &body_bytes) {
///     Ok(event) => { /* dedupe on event.id, then act on event.kind / event.refund */ }
///     Err(e) if e.is_unauthenticated() => { /* 400: forged, replayed or unsigned */ }
///     Err(e) => { /* authentic but unreadable: log e, answer 2xx or 400 by policy */ }
/// }
/// ```
pub trait WebhookVerifier: Send + Sync {
    /// The provider id (`"wooshpay"`), as in [`crate::ProviderInfo::id`].
    fn provider(&self) -> &'static str;

    /// Checks the signature over `body`, then reads the event. The body is parsed only after the
    /// signature has been accepted.
    fn verify_and_parse(&self, headers: &HeaderMap, body: &[u8]) -> Result<WebhookEvent, WebhookError>;
}

impl<T: WebhookVerifier + ?Sized> WebhookVerifier for Box<T> {
    fn provider(&self) -> &'static str {
        (**self).provider()
    }
    fn verify_and_parse(&self, headers: &HeaderMap, body: &[u8]) -> Result<WebhookEvent, WebhookError> {
        (**self).verify_and_parse(headers, body)
    }
}

impl<T: WebhookVerifier + ?Sized> WebhookVerifier for Arc<T> {
    fn provider(&self) -> &'static str {
        (**self).provider()
    }
    fn verify_and_parse(&self, headers: &HeaderMap, body: &[u8]) -> Result<WebhookEvent, WebhookError> {
        (**self).verify_and_parse(headers, body)
    }
}

/// Where "now" comes from when a signature's timestamp is checked: the system clock by default, or an
/// injected one (a fixed instant in tests, the sandbox ledger's clock).
#[derive(Clone)]
pub struct Clock(ClockSource);

#[derive(Clone)]
enum ClockSource {
    System,
    Fixed(i64),
    Func(Arc<dyn Fn() -> OffsetDateTime + Send + Sync>),
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock(ClockSource::System)
    }

    /// A clock that always says `at`.
    pub fn fixed(at: OffsetDateTime) -> Clock {
        Clock(ClockSource::Fixed(at.unix_timestamp()))
    }

    /// A clock that always says `unix_seconds`.
    pub fn fixed_unix(unix_seconds: i64) -> Clock {
        Clock(ClockSource::Fixed(unix_seconds))
    }

    /// A clock read from `now` on every check (for example a sandbox ledger's clock).
    pub fn from_fn(now: impl Fn() -> OffsetDateTime + Send + Sync + 'static) -> Clock {
        Clock(ClockSource::Func(Arc::new(now)))
    }

    /// Now, in unix seconds.
    pub fn now_unix(&self) -> i64 {
        match &self.0 {
            ClockSource::System => OffsetDateTime::now_utc().unix_timestamp(),
            ClockSource::Fixed(at) => *at,
            ClockSource::Func(now) => now().unix_timestamp(),
        }
    }
}

impl Default for Clock {
    fn default() -> Clock {
        Clock::system()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            ClockSource::System => f.write_str("Clock::system"),
            ClockSource::Fixed(at) => write!(f, "Clock::fixed({at})"),
            ClockSource::Func(_) => f.write_str("Clock::from_fn"),
        }
    }
}
