//! SyncgramPay's webhooks: verify a delivery and read it as a typed [`WebhookEvent`](refunds::WebhookEvent).
//!
//! **The scheme is unverified.** SyncgramPay documents the envelope (`{id:"evt_...", type,
//! created_at:<ISO 8601>, data:{...}}`, `data` being the object) and that deliveries are signed with
//! HMAC-SHA256 when the merchant sets a `webhook_secret` (8 to 64 characters, chosen by the merchant,
//! never returned). It documents neither the header name, nor the signed bytes, nor the encoding, nor
//! the refund event names. So these are configuration, with stated defaults:
//!
//! | | default ([`VerifierBuilder`]) | alternatives |
//! |---|---|---|
//! | header | [`DEFAULT_SIGNATURE_HEADER`] (`X-Syncgram-Signature`) | `.header(..)` |
//! | signed bytes | [`SignedBytes::RawBody`]: HMAC-SHA256 of the raw body (its predecessor SyncPay signed the JSON payload) | [`SignedBytes::TimestampDotBody`]: Stripe-style `t=..,v1=..` over `t` + `"."` + body, with a tolerance |
//! | encoding | hex (an optional `sha256=` prefix is accepted) | `.encoding(SignatureEncoding::Base64)` |
//!
//! [`EVENTS`] (all **assumed**): `refund.created`, `refund.updated`, `refund.succeeded`,
//! `refund.failed`, each carrying a refund object as `GET /api/v1/payments/refunds/{id}` answers it.
//! Other types (SyncgramPay's test event `collection.succeeded`) come back as
//! [`EventKind::Unknown`] with the body in `raw`. Refund objects carry no currency: the verifier
//! needs the account's settlement currency, as the client does.
//!
//! ```no_run
//! # fn run(headers: &http::HeaderMap, body: &[u8]) -> refunds::Result<()> {
//! use refunds::{Currency, WebhookVerifier};
//! let verifier = refunds_syncgram::webhooks::verifier("your-webhook-secret", Currency::USD)?;
//! let event = verifier.verify_and_parse(headers, body);
//! # let _ = event; Ok(()) }
//! ```

use refunds::adapter::signature::{BodyHmac, SecretRule};
use refunds::adapter::{HttpProvider, Secret};
use refunds::webhook::{
    Carries, Envelope, EventKind, EventParser, EventTable, HmacBuilder, HmacScheme, SignedWebhooks,
};
use refunds::{Currency, Result};

use crate::{ID, Syncgram};

/// The signature header assumed by default (SyncgramPay does not document it; its predecessor SyncPay
/// used `x-syncpay-signature`).
pub const DEFAULT_SIGNATURE_HEADER: &str = "X-Syncgram-Signature";

/// The secrets accepted: SyncgramPay's `webhook_secret` is 8 to 64 characters.
pub const SECRET_RULE: SecretRule = SecretRule::chars(8, 64);

/// The envelope: `{id, type, created_at, data}`, the object being `data`.
pub const ENVELOPE: Envelope = Envelope::CREATED_AT_DATA;

/// SyncgramPay's refund event types: all **assumed** (the docs say refund status changes emit events
/// but the names were not captured).
pub const EVENTS: EventTable = EventTable::new(&[
    ("refund.created", EventKind::Created, Carries::Refund),
    ("refund.updated", EventKind::Updated, Carries::Refund),
    ("refund.succeeded", EventKind::Succeeded, Carries::Refund),
    ("refund.failed", EventKind::Failed, Carries::Refund),
]);

/// What the signature covers (undocumented by SyncgramPay, hence configuration; default
/// [`SignedBytes::RawBody`]).
pub use refunds::webhook::SignedBytes;

/// SyncgramPay's signature scheme, as configured ([`SignedBytes`]).
pub type SyncgramScheme = HmacScheme;

/// The SyncgramPay webhook verifier.
pub type SyncgramWebhooks = SignedWebhooks<SyncgramScheme>;

/// A verifier with the defaults (see the [module docs](self)) for `secret`, reading amounts in the
/// account's settlement `currency`.
///
/// Errors are `Configuration` (a secret outside 8 to 64 characters) and never contain the secret.
pub fn verifier(secret: impl Into<Secret>, currency: Currency) -> Result<SyncgramWebhooks> {
    builder(secret, currency).build()
}

/// A verifier builder: header, signed bytes, encoding, more secrets, tolerance, clock and client.
pub fn builder(secret: impl Into<Secret>, currency: Currency) -> VerifierBuilder {
    VerifierBuilder::new(DEFAULT_SIGNATURE_HEADER, SECRET_RULE, secret, parser(currency))
        .signed_bytes(SignedBytes::RawBody)
}

/// The default scheme alone for `secret`: what the sandbox signs with.
pub fn scheme(secret: impl Into<Secret>) -> Result<SyncgramScheme> {
    BodyHmac::new(DEFAULT_SIGNATURE_HEADER, secret, SECRET_RULE).map(HmacScheme::Body)
}

/// The event reader alone (envelope, [`EVENTS`], this crate's refund reader in `currency`). Call it
/// only on a body whose signature was verified.
pub fn parser(currency: Currency) -> EventParser {
    EventParser::new(ID, ENVELOPE, EVENTS, move |body| {
        Syncgram {
            currency,
            livemode: None,
        }
        .read_refund(body)
    })
}

/// Builds a [`SyncgramWebhooks`]: `secret`, `header`, `signed_bytes`, `encoding`, `tolerance` and
/// `clock` (of [`SignedBytes::TimestampDotBody`]), `client`, `build`. `Debug` never shows a secret.
pub type VerifierBuilder = HmacBuilder<SyncgramScheme>;
