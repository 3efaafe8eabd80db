//! What checking a signed delivery needs, shared by the signature schemes (`adapter::signature`) and
//! the verifiers built on them (`webhook`), so that neither reaches into the other: why a webhook was
//! refused, the clock its timestamp is checked against, and the limits.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

/// The default distance allowed between a signature's timestamp and the clock: 300 s (Stripe's, and
/// the value providers that document one give; where a provider documents none the SDK assumes it).
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// Longest signature header accepted, in bytes; a longer one is refused unread
/// ([`WebhookErrorKind::HeaderTooLarge`]).
pub const MAX_SIGNATURE_HEADER: usize = 8 * 1024;

/// What was wrong with a webhook delivery. Each failure has its own kind, so an application can answer
/// (and log) a forged or replayed delivery differently from a body it cannot read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WebhookErrorKind {
    /// The signature header is absent.
    MissingHeader,
    /// The signature header is present but cannot be read: not ASCII, repeated, no `t=`, no signature,
    /// a timestamp or signature that is not well formed.
    MalformedHeader,
    /// The signature header is longer than [`MAX_SIGNATURE_HEADER`](crate::webhook::MAX_SIGNATURE_HEADER)
    /// bytes and was refused unread.
    HeaderTooLarge,
    /// No signature in the header matches the body under any configured secret (a forged or altered
    /// delivery, or the wrong secret).
    NoMatchingSignature,
    /// The signature matches but its timestamp is further from the clock than the tolerance (a replay,
    /// or a badly wrong clock).
    TimestampOutsideTolerance,
    /// The signature is valid but the body is not an event this SDK can read.
    UnparseableBody,
}

impl WebhookErrorKind {
    fn describe(self) -> &'static str {
        match self {
            WebhookErrorKind::MissingHeader => "signature header missing",
            WebhookErrorKind::MalformedHeader => "malformed signature header",
            WebhookErrorKind::HeaderTooLarge => "signature header too large",
            WebhookErrorKind::NoMatchingSignature => "no matching signature",
            WebhookErrorKind::TimestampOutsideTolerance => "timestamp outside tolerance",
            WebhookErrorKind::UnparseableBody => "unparseable event body",
        }
    }
}

impl fmt::Display for WebhookErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// A refused webhook: a kind, the provider, and a short message. `Send + Sync + 'static`, cheap to clone.
///
/// It never carries a secret or a computed signature, and never echoes the signature header (which an
/// attacker controls); the message says what was wrong in a few words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookError {
    kind: WebhookErrorKind,
    provider: Option<Cow<'static, str>>,
    message: Cow<'static, str>,
}

impl WebhookError {
    /// An error of `kind` with a lower-case message.
    pub fn new(kind: WebhookErrorKind, message: impl Into<Cow<'static, str>>) -> WebhookError {
        WebhookError {
            kind,
            provider: None,
            message: message.into(),
        }
    }

    /// The signature header is absent.
    pub fn missing_header(header: &str) -> WebhookError {
        WebhookError::new(WebhookErrorKind::MissingHeader, format!("no {header} header"))
    }

    /// The signature header cannot be read.
    pub fn malformed_header(message: impl Into<Cow<'static, str>>) -> WebhookError {
        WebhookError::new(WebhookErrorKind::MalformedHeader, message)
    }

    /// The body is not a readable event.
    pub fn unparseable_body(message: impl Into<Cow<'static, str>>) -> WebhookError {
        WebhookError::new(WebhookErrorKind::UnparseableBody, message)
    }

    /// Names the provider.
    pub fn with_provider(mut self, provider: impl Into<Cow<'static, str>>) -> WebhookError {
        self.provider = Some(provider.into());
        self
    }

    /// What was wrong.
    pub fn kind(&self) -> WebhookErrorKind {
        self.kind
    }

    /// The provider whose webhook this was, when known.
    pub fn provider(&self) -> Option<&str> {
        self.provider.as_deref()
    }

    /// The message, without the kind.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The signature header is missing, malformed or oversized.
    pub fn is_malformed_header(&self) -> bool {
        matches!(
            self.kind,
            WebhookErrorKind::MissingHeader | WebhookErrorKind::MalformedHeader | WebhookErrorKind::HeaderTooLarge
        )
    }

    /// No signature matched: forged, altered, or signed with another secret.
    pub fn is_signature_mismatch(&self) -> bool {
        self.kind == WebhookErrorKind::NoMatchingSignature
    }

    /// The signature matched but is too old (or too far in the future).
    pub fn is_outside_tolerance(&self) -> bool {
        self.kind == WebhookErrorKind::TimestampOutsideTolerance
    }

    /// The body was authentic but could not be read as an event.
    pub fn is_unparseable_body(&self) -> bool {
        self.kind == WebhookErrorKind::UnparseableBody
    }

    /// The delivery could not be shown to come from the provider (every kind except
    /// [`WebhookErrorKind::UnparseableBody`]). Answer these with 400/401 and do not act on the body.
    pub fn is_unauthenticated(&self) -> bool {
        !self.is_unparseable_body()
    }
}

impl fmt::Display for WebhookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.provider {
            Some(p) => write!(f, "{p} webhook: {}", self.kind)?,
            None => write!(f, "webhook: {}", self.kind)?,
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for WebhookError {}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_predicates() {
        let e = WebhookError::missing_header("XPay-Signature").with_provider("xpay");
        assert_eq!(
            e.to_string(),
            "xpay webhook: signature header missing: no XPay-Signature header"
        );
        assert!(e.is_malformed_header() && e.is_unauthenticated() && !e.is_signature_mismatch());
        let e = WebhookError::unparseable_body("no id");
        assert!(e.is_unparseable_body() && !e.is_unauthenticated());
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<WebhookError>();
    }
}
