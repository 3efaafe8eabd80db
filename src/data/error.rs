//! One error type for every provider, saying what happened and whether the refund may exist.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::model::{CreateRefund, Refund};
use crate::pending::PendingCreate;

/// The SDK's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, normalized across providers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The caller's input was refused before anything was sent; `field` names it.
    InvalidRequest {
        /// The offending field (`amount`, `payment`, `idempotency_key`, ...).
        field: String,
    },
    /// The provider (or this SDK for it) does not offer the operation.
    Unsupported,
    /// The API key was missing, wrong or revoked (HTTP 401).
    Authentication,
    /// The key may not do this (HTTP 403).
    PermissionDenied,
    /// No such refund or payment (HTTP 404).
    NotFound,
    /// The provider refused the request's content; see [`Error::field_errors`].
    Validation,
    /// More than the payment's remaining refundable amount.
    AmountExceedsRefundable,
    /// The payment is already fully refunded.
    AlreadyRefunded,
    /// The idempotency key was reused with a different request.
    IdempotencyConflict,
    /// Too many requests (HTTP 429); see [`Error::retry_after`].
    RateLimited,
    /// The provider failed (HTTP 5xx).
    ProviderUnavailable,
    /// The connection failed or broke.
    Transport,
    /// No answer in time.
    Timeout,
    /// The provider answered with something this SDK could not read.
    Decode,
    /// The client is misconfigured (missing key, bad base URL).
    Configuration,
    /// The provider answered a create with a refund that differs from the request (`field` names
    /// what differs: `payment`, `amount` or `currency`). The refund exists: see [`Error::refund`].
    AnswerMismatch {
        /// What differs.
        field: String,
    },
    /// Anything else the provider said no to.
    Other,
}

impl ErrorKind {
    fn describe(&self) -> &'static str {
        match self {
            ErrorKind::InvalidRequest { .. } => "invalid request",
            ErrorKind::Unsupported => "unsupported operation",
            ErrorKind::Authentication => "authentication failed",
            ErrorKind::PermissionDenied => "permission denied",
            ErrorKind::NotFound => "not found",
            ErrorKind::Validation => "validation failed",
            ErrorKind::AmountExceedsRefundable => "amount exceeds refundable balance",
            ErrorKind::AlreadyRefunded => "already refunded",
            ErrorKind::IdempotencyConflict => "idempotency key conflict",
            ErrorKind::RateLimited => "rate limited",
            ErrorKind::ProviderUnavailable => "provider unavailable",
            ErrorKind::Transport => "transport error",
            ErrorKind::Timeout => "timed out",
            ErrorKind::Decode => "undecodable response",
            ErrorKind::Configuration => "configuration error",
            ErrorKind::AnswerMismatch { .. } => "answer differs from the request",
            ErrorKind::Other => "provider error",
        }
    }

    /// True for kinds that may pass by themselves: rate limits, provider outages, broken
    /// connections and timeouts.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ErrorKind::RateLimited | ErrorKind::ProviderUnavailable | ErrorKind::Transport | ErrorKind::Timeout
        )
    }
}

/// Whether the request reached the provider and may have taken effect. For a create this is the
/// difference between "safe to try again" and "look before you try again".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Delivery {
    /// Nothing was sent (bad input, connection refused, configuration): safe to retry.
    NotSent,
    /// The provider answered and did not apply the request.
    Rejected,
    /// The request may have been applied: the answer was lost, late, a 5xx, or unreadable. A create
    /// with this delivery carries its [`PendingCreate`]: resolve it with
    /// [`crate::RecoverExt::recover`], never by sending the original request again.
    Ambiguous,
    /// The provider applied the request and answered with a refund that differs from what was asked
    /// ([`ErrorKind::AnswerMismatch`]): the refund exists ([`Error::refund`]); book it as answered and
    /// have a person look, never create again.
    Applied,
}

/// One field-level complaint from a provider's validation error.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FieldError {
    /// The field path as the provider wrote it, joined with `.` (`body.payment_id`).
    pub field: String,
    /// The provider's message.
    pub message: String,
    /// The provider's machine code, if any (`value_error.missing`).
    pub code: Option<String>,
}

impl FieldError {
    /// A field error.
    pub fn new(field: impl Into<String>, message: impl Into<String>, code: Option<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
            code,
        }
    }
}

/// Most bytes of a response body kept on an error.
pub const MAX_ERROR_BODY: usize = 2048;

/// How far past [`MAX_ERROR_BODY`] a body is held until it has been scrubbed of secrets, so that a key
/// echoed across the cut is still seen whole by [`Error::redact_all`].
const BODY_SLACK: usize = 1024;

/// The SDK's error: small (one pointer), `Send + Sync + 'static`, cheap to clone.
#[derive(Clone)]
pub struct Error(Box<Inner>);

#[derive(Clone)]
struct Inner {
    kind: ErrorKind,
    delivery: Delivery,
    message: String,
    provider: Option<String>,
    http_status: Option<u16>,
    provider_code: Option<String>,
    request_id: Option<String>,
    retry_after: Option<Duration>,
    field_errors: Vec<FieldError>,
    body: Option<String>,
    replay_safe: bool,
    pending: Option<PendingCreate>,
    refund: Option<Box<Refund>>,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl Error {
    /// An error of `kind` with `delivery` and a lower-case message.
    #[cold]
    pub fn new(kind: ErrorKind, delivery: Delivery, message: impl Into<String>) -> Error {
        Error(Box::new(Inner {
            kind,
            delivery,
            message: message.into(),
            provider: None,
            http_status: None,
            provider_code: None,
            request_id: None,
            retry_after: None,
            field_errors: Vec::new(),
            body: None,
            replay_safe: false,
            pending: None,
            refund: None,
            source: None,
        }))
    }

    /// Bad caller input on `field`, refused before sending.
    #[cold]
    pub fn invalid_request(field: impl Into<String>, message: impl Into<String>) -> Error {
        Error::new(
            ErrorKind::InvalidRequest { field: field.into() },
            Delivery::NotSent,
            message,
        )
    }

    /// The operation is not offered.
    #[cold]
    pub fn unsupported(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Unsupported, Delivery::NotSent, message)
    }

    /// The client is misconfigured.
    #[cold]
    pub fn configuration(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Configuration, Delivery::NotSent, message)
    }

    /// A response that could not be read. The provider did answer, so the request may have been applied.
    #[cold]
    pub fn decode(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Decode, Delivery::Ambiguous, message)
    }

    /// Names the provider.
    pub fn with_provider(mut self, provider: impl Into<String>) -> Error {
        self.0.provider = Some(provider.into());
        self
    }
    /// Records the HTTP status.
    pub fn with_http_status(mut self, status: u16) -> Error {
        self.0.http_status = Some(status);
        self
    }
    /// Records the provider's error code.
    pub fn with_provider_code(mut self, code: Option<String>) -> Error {
        self.0.provider_code = code;
        self
    }
    /// Records the request id (header or body).
    pub fn with_request_id(mut self, request_id: Option<String>) -> Error {
        if request_id.is_some() {
            self.0.request_id = request_id;
        }
        self
    }
    /// Records how long the provider asked to wait.
    pub fn with_retry_after(mut self, retry_after: Option<Duration>) -> Error {
        self.0.retry_after = retry_after;
        self
    }
    /// Records field-level complaints.
    pub fn with_field_errors(mut self, errors: Vec<FieldError>) -> Error {
        self.0.field_errors = errors;
        self
    }
    /// Keeps (the start of) the response body; [`Error::body`] shows at most [`MAX_ERROR_BODY`] bytes,
    /// cut on a char boundary. A little more is held until [`Error::redact_all`] has scrubbed it, so
    /// that a secret across the cut is removed whole rather than shown minus its last characters.
    pub fn with_body(mut self, body: &[u8]) -> Error {
        let text = String::from_utf8_lossy(body);
        self.0.body = Some(text[..char_floor(&text, MAX_ERROR_BODY + BODY_SLACK)].to_owned());
        self
    }
    /// The same error with `prefix: ` before its message (what the SDK was doing when it met it).
    pub(crate) fn while_doing(mut self, prefix: &str) -> Error {
        self.0.message = format!("{prefix}: {}", self.0.message);
        self
    }

    /// Changes the delivery.
    pub fn with_delivery(mut self, delivery: Delivery) -> Error {
        self.0.delivery = delivery;
        self
    }
    /// Marks the request as safe to send again as is (a GET, or a create with an honoured idempotency key).
    pub fn with_replay_safe(mut self, replay_safe: bool) -> Error {
        self.0.replay_safe = replay_safe;
        self
    }
    /// Attaches the create whose outcome is unknown (started now), so that it can be resolved with
    /// [`crate::RecoverExt::recover`].
    pub fn with_pending_create(mut self, request: CreateRefund) -> Error {
        let provider = self.0.provider.clone().unwrap_or_default();
        self.0.pending = Some(PendingCreate::new(request, provider, time::OffsetDateTime::now_utc()));
        self
    }
    /// Attaches a pending create (request as sent, provider, start time) to an ambiguous error.
    pub fn with_pending(mut self, pending: PendingCreate) -> Error {
        self.0.pending = Some(pending);
        self
    }
    /// Attaches the refund the provider answered with ([`ErrorKind::AnswerMismatch`]).
    pub fn with_refund(mut self, refund: Refund) -> Error {
        self.0.refund = Some(Box::new(refund));
        self
    }
    /// Attaches the underlying cause.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Error {
        self.0.source = Some(Arc::new(source));
        self
    }

    /// Replaces every occurrence of `secret` in the message, body and field messages with `[redacted]`.
    /// The transport calls it on every error, so a provider that echoes a key cannot leak it.
    pub fn redact(self, secret: &str) -> Error {
        self.redact_all(&[secret])
    }

    /// Like [`Error::redact`] for several spellings of a secret (a key, its Basic-auth base64): every
    /// text the error carries is scrubbed (message, body, provider code, request id, field errors).
    pub fn redact_all<S: AsRef<str>>(mut self, secrets: &[S]) -> Error {
        // Each secret also in its JSON-escaped spelling (`/` as `\/`, quotes and backslashes escaped),
        // as a server that echoes it inside a JSON string writes it.
        let mut forms: Vec<String> = Vec::new();
        for secret in secrets.iter().map(AsRef::as_ref).filter(|s| s.len() >= 4) {
            forms.push(secret.to_owned());
            let escaped = json_escaped(secret);
            if escaped != secret {
                forms.push(escaped.replace('/', "\\/"));
                forms.push(escaped);
            } else if secret.contains('/') {
                forms.push(secret.replace('/', "\\/"));
            }
        }
        if forms.is_empty() {
            return self;
        }
        let scrub = |s: &mut String| {
            for secret in &forms {
                if s.contains(secret.as_str()) {
                    *s = s.replace(secret.as_str(), "[redacted]");
                }
            }
        };
        let inner = &mut *self.0;
        scrub(&mut inner.message);
        for text in [
            &mut inner.body,
            &mut inner.provider_code,
            &mut inner.request_id,
            &mut inner.provider,
        ]
        .into_iter()
        .flatten()
        {
            scrub(text);
        }
        for e in &mut inner.field_errors {
            scrub(&mut e.field);
            scrub(&mut e.message);
            if let Some(code) = e.code.as_mut() {
                scrub(code);
            }
        }
        if let ErrorKind::InvalidRequest { field } = &mut inner.kind {
            scrub(field);
        }
        if inner
            .source
            .as_ref()
            .is_some_and(|s| forms.iter().any(|secret| s.to_string().contains(secret.as_str())))
        {
            inner.source = None;
        }
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }
    /// Whether the request was not sent, rejected, or may have been applied.
    pub fn delivery(&self) -> Delivery {
        self.0.delivery
    }
    /// The message, without the provider and status decorations of `Display`.
    pub fn message(&self) -> &str {
        &self.0.message
    }
    /// Which provider answered.
    pub fn provider(&self) -> Option<&str> {
        self.0.provider.as_deref()
    }
    /// The HTTP status, when there was a response.
    pub fn http_status(&self) -> Option<u16> {
        self.0.http_status
    }
    /// The provider's own error code.
    pub fn provider_code(&self) -> Option<&str> {
        self.0.provider_code.as_deref()
    }
    /// The provider's request id, for its support desk.
    pub fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }
    /// How long the provider asked to wait before retrying.
    pub fn retry_after(&self) -> Option<Duration> {
        self.0.retry_after
    }
    /// Field-level complaints from a validation error.
    pub fn field_errors(&self) -> &[FieldError] {
        &self.0.field_errors
    }
    /// The start of the response body (at most [`MAX_ERROR_BODY`] bytes), for decode and unexpected
    /// errors.
    pub fn body(&self) -> Option<&str> {
        self.0.body.as_deref().map(|b| &b[..char_floor(b, MAX_ERROR_BODY)])
    }
    /// The field at fault: the `InvalidRequest` field, else the first provider field error.
    pub fn field(&self) -> Option<&str> {
        match &self.0.kind {
            ErrorKind::InvalidRequest { field } | ErrorKind::AnswerMismatch { field } => Some(field),
            _ => self.0.field_errors.first().map(|e| e.field.as_str()),
        }
    }
    /// The create whose outcome is unknown, on an `Ambiguous` create error.
    pub fn pending_create(&self) -> Option<&CreateRefund> {
        self.0.pending.as_ref().map(|p| &p.request)
    }
    /// The pending create with its provider and start time, for recovery.
    pub fn pending(&self) -> Option<&PendingCreate> {
        self.0.pending.as_ref()
    }
    /// True when trying the same request again may succeed and cannot apply it twice: a transient
    /// failure that was not sent, was rejected, or was replay-safe.
    pub fn is_retryable(&self) -> bool {
        // An error that carries a pending create is never "retryable", whatever its delivery: sending
        // the caller's original request again would carry a fresh generated key. The only safe next
        // step is `recover` with the pending create. An applied create is never retried either.
        if self.0.pending.is_some() || self.0.delivery == Delivery::Applied {
            return false;
        }
        self.0.kind.is_transient() && (self.0.delivery != Delivery::Ambiguous || self.0.replay_safe)
    }
    /// The refund the provider answered with, where it differs from the request
    /// ([`ErrorKind::AnswerMismatch`], delivery [`Delivery::Applied`]).
    pub fn refund(&self) -> Option<&Refund> {
        self.0.refund.as_deref()
    }
    /// True when the request may have been applied.
    pub fn is_ambiguous(&self) -> bool {
        self.0.delivery == Delivery::Ambiguous
    }
    /// True for `NotFound`.
    pub fn is_not_found(&self) -> bool {
        self.0.kind == ErrorKind::NotFound
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.0;
        if let Some(provider) = &inner.provider {
            write!(f, "{provider}: ")?;
        }
        f.write_str(inner.kind.describe())?;
        if let ErrorKind::InvalidRequest { field } = &inner.kind {
            write!(f, " on `{field}`")?;
        }
        if !inner.message.is_empty() {
            write!(f, ": {}", inner.message)?;
        }
        let mut extras = Vec::new();
        if let Some(status) = inner.http_status {
            extras.push(format!("http {status}"));
        }
        if let Some(code) = &inner.provider_code {
            extras.push(format!("code {code}"));
        }
        if let Some(id) = &inner.request_id {
            extras.push(format!("request {id}"));
        }
        if !extras.is_empty() {
            write!(f, " ({})", extras.join(", "))?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.0;
        let mut d = f.debug_struct("Error");
        d.field("kind", &inner.kind)
            .field("delivery", &inner.delivery)
            .field("message", &inner.message);
        if let Some(p) = &inner.provider {
            d.field("provider", p);
        }
        if let Some(s) = inner.http_status {
            d.field("http_status", &s);
        }
        if let Some(c) = &inner.provider_code {
            d.field("provider_code", c);
        }
        if let Some(r) = &inner.request_id {
            d.field("request_id", r);
        }
        if let Some(r) = inner.retry_after {
            d.field("retry_after", &r);
        }
        if !inner.field_errors.is_empty() {
            d.field("field_errors", &inner.field_errors);
        }
        if let Some(b) = self.body() {
            d.field("body", &b);
        }
        if let Some(s) = &inner.source {
            d.field("source", &s.to_string());
        }
        d.finish()
    }
}

/// The largest char boundary of `text` at or below `max`.
fn char_floor(text: &str, max: usize) -> usize {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    end
}

/// `text` as it reads inside a JSON string (without the quotes).
fn json_escaped(text: &str) -> String {
    let quoted = serde_json::to_string(text).unwrap_or_default();
    quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .unwrap_or(text)
        .to_owned()
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

impl From<crate::money::AmountError> for Error {
    fn from(e: crate::money::AmountError) -> Error {
        Error::invalid_request("amount", e.to_string())
    }
}

#[cfg(test)]
mod tests;
