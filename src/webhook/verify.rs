//! The verification interface every provider implements.

use std::sync::Arc;

use http::HeaderMap;

use super::{WebhookError, WebhookEvent};

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
    /// The provider id (`"acme"`), as in [`crate::ProviderInfo::id`].
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
