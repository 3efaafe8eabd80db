//! Webhooks: verify a provider's signed delivery and read it as a typed [`WebhookEvent`].
//!
//! Refunds finish after the call that creates them; providers report the outcome by webhook. Every
//! provider crate that has webhooks offers a [`WebhookVerifier`]; an application hands it the request's
//! headers and the raw body bytes, and gets a [`WebhookEvent`] or a [`WebhookError`] saying exactly
//! what was wrong:
//!
//! | failure | kind | predicate |
//! | --- | --- | --- |
//! | no signature header | [`WebhookErrorKind::MissingHeader`] | [`WebhookError::is_malformed_header`] |
//! | unreadable header (no `t=`, bad hex, repeated) | [`WebhookErrorKind::MalformedHeader`] | [`WebhookError::is_malformed_header`] |
//! | header over [`MAX_SIGNATURE_HEADER`] bytes | [`WebhookErrorKind::HeaderTooLarge`] | [`WebhookError::is_malformed_header`] |
//! | forged, altered, wrong secret | [`WebhookErrorKind::NoMatchingSignature`] | [`WebhookError::is_signature_mismatch`] |
//! | replayed or clock skew | [`WebhookErrorKind::TimestampOutsideTolerance`] | [`WebhookError::is_outside_tolerance`] |
//! | authentic but not a readable event | [`WebhookErrorKind::UnparseableBody`] | [`WebhookError::is_unparseable_body`] |
//!
//! Signatures are checked with RustCrypto's HMAC-SHA256 and a constant-time comparison, over the body
//! bytes as received, never over re-serialized JSON; the body is parsed only after the signature is
//! accepted. An event type the provider's table does not know is not an error: it comes back as
//! [`EventKind::Unknown`] with the raw type string and the whole body in [`WebhookEvent::raw`].
//!
//! Provider crates build their verifier from [`SignedWebhooks`]: a scheme from
//! [`crate::adapter::signature`] plus an [`EventParser`] (envelope shape, [`EventTable`], and their
//! own refund parser).

mod builder;
mod envelope;
mod event;
mod signed;
mod verify;

pub use crate::webhook_check::{Clock, DEFAULT_TOLERANCE, MAX_SIGNATURE_HEADER, WebhookError, WebhookErrorKind};
pub use builder::{FromHmacSettings, HmacBuilder, HmacScheme, HmacSettings, SignedBytes, WebhookSettings};
pub use envelope::{Envelope, EventParser, ObjectAt, RefundParser, TimeFormat};
pub use event::{Carries, EventKind, EventTable, WebhookEvent};
pub use signed::SignedWebhooks;
pub use verify::WebhookVerifier;
