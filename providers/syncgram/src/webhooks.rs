//! SyncgramPay's webhooks: verify a delivery and read it as a typed [`WebhookEvent`](refunds::WebhookEvent).
//!
//! SyncgramPay's documentation lives on the Bachs site (docs.bachs.io), and deliveries are signed the
//! Bachs way. The scheme below is the one Bachs' official Python client (`bachs` 2.0.0,
//! `bachs/webhooks.py`) verifies:
//!
//! | | |
//! |---|---|
//! | header | [`SIGNATURE_HEADER`] `X-Bachs-Signature-V2: t=<unix s>,v1=<hex>`, several `v1` during a secret rotation |
//! | signed bytes | hex HMAC-SHA256 over `t` + `"."` + the raw body, keyed with the endpoint's signing secret |
//! | tolerance | 300 s either way ([`DEFAULT_TOLERANCE`](refunds::webhook::DEFAULT_TOLERANCE), configurable) |
//! | legacy form | [`LEGACY_TIMESTAMP_HEADER`] `X-Bachs-Timestamp: <t>` and [`LEGACY_SIGNATURE_HEADER`] `X-Bachs-Signature: <hex>`, over the same `t.body`; read only when the V2 header is absent (a malformed V2 never falls back) |
//! | envelope | `{id, type, created_at (ISO 8601), organization_id, data}`, `data` being the object |
//!
//! [`EVENTS`]: `refund.created`, `refund.paid` (the refund went back) and `refund.failed`, each
//! carrying a refund object as `GET /api/v1/payments/refunds/{id}` answers it. The names come from two
//! independent community SDKs that cite docs.bachs.io (`HalxDocs/bachs-go`, `okeke-dev/laravel-bachs`),
//! not from the official client, which has no refunds resource. Other types (the test event
//! `collection.succeeded`) come back as [`EventKind::Unknown`] with the body in `raw`. Refund objects
//! carry no currency: the verifier needs the account's settlement currency, as the client does.
//!
//! A receiver configured another way (an older SyncgramPay integration signing the raw body in another
//! header) is still expressible: `.header(..)`, `.signed_bytes(SignedBytes::RawBody)` and `.encoding(..)`
//! on the [`builder`].
//!
//! ```no_run
//! # fn run(headers: &http::HeaderMap, body: &[u8]) -> refunds::Result<()> {
//! use refunds::{Currency, WebhookVerifier};
//! let verifier = refunds_syncgram::webhooks::verifier("your-webhook-secret", Currency::USD)?;
//! let event = verifier.verify_and_parse(headers, body);
//! # let _ = event; Ok(()) }
//! ```

use refunds::adapter::signature::SecretRule;
use std::sync::Arc;

use refunds::WebhookVerifier;
use refunds::adapter::signature::SignatureScheme;
use refunds::adapter::{HttpProvider, Secret, WebhookKit, WebhookSettings};
use refunds::webhook::{
    Carries, Envelope, EventKind, EventParser, EventTable, HmacBuilder, HmacScheme, SignedWebhooks,
};
use refunds::{Currency, Error, Result};

use crate::{ID, Syncgram};

/// The signature header (Bachs' V2 form).
pub const SIGNATURE_HEADER: &str = "X-Bachs-Signature-V2";

/// The legacy form's timestamp header (unix seconds alone).
pub const LEGACY_TIMESTAMP_HEADER: &str = "X-Bachs-Timestamp";

/// The legacy form's signature header (one hex signature of `t.body`).
pub const LEGACY_SIGNATURE_HEADER: &str = "X-Bachs-Signature";

/// The secrets accepted: SyncgramPay's `webhook_secret` is 8 to 64 characters.
pub const SECRET_RULE: SecretRule = SecretRule::chars(8, 64);

/// The envelope: `{id, type, created_at, organization_id, data}`, the object being `data`.
pub const ENVELOPE: Envelope = Envelope::CREATED_AT_DATA;

/// SyncgramPay's refund event types (named by two community SDKs of the Bachs API; see the
/// [module docs](self)).
pub const EVENTS: EventTable = EventTable::new(&[
    ("refund.created", EventKind::Created, Carries::Refund),
    ("refund.paid", EventKind::Succeeded, Carries::Refund),
    ("refund.failed", EventKind::Failed, Carries::Refund),
]);

/// What a signature covers: the default is [`SignedBytes::TimestampDotBody`]; `RawBody` is there for
/// a receiver configured otherwise.
pub use refunds::webhook::SignedBytes;

/// SyncgramPay's signature scheme, as configured ([`SignedBytes`]).
pub type SyncgramScheme = HmacScheme;

/// The SyncgramPay webhook verifier.
pub type SyncgramWebhooks = SignedWebhooks<SyncgramScheme>;

/// A verifier with the Bachs scheme (V2 header, legacy pair accepted, 300 s) for `secret`, reading
/// amounts in the account's settlement `currency`.
///
/// Errors are `Configuration` (a secret outside 8 to 64 characters) and never contain the secret.
pub fn verifier(secret: impl Into<Secret>, currency: Currency) -> Result<SyncgramWebhooks> {
    builder(secret, currency).build()
}

/// A verifier builder: more secrets, tolerance, clock and client; for a receiver configured
/// otherwise, header, signed bytes and encoding.
pub fn builder(secret: impl Into<Secret>, currency: Currency) -> VerifierBuilder {
    VerifierBuilder::new(SIGNATURE_HEADER, SECRET_RULE, secret, parser(currency))
        .signed_bytes(SignedBytes::TimestampDotBody)
        .split_headers(LEGACY_TIMESTAMP_HEADER, LEGACY_SIGNATURE_HEADER)
}

/// The scheme alone for `secret`: what the sandbox signs with (the V2 header, system clock).
pub fn scheme(secret: impl Into<Secret>) -> Result<SyncgramScheme> {
    scheme_builder(secret).scheme()
}

/// The scheme signing with the legacy pair instead of the V2 header (for testing a receiver that
/// still reads it).
pub fn legacy_scheme(secret: impl Into<Secret>) -> Result<SyncgramScheme> {
    scheme_builder(secret).sign_split(true).scheme()
}

fn scheme_builder(secret: impl Into<Secret>) -> VerifierBuilder {
    // The currency only matters to the parser, which a scheme does not use.
    builder(secret, Currency::USD)
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

/// Builds a [`SyncgramWebhooks`]: `secret`, `tolerance`, `clock`, `client`, `build`, and `header`,
/// `signed_bytes`, `encoding`, `split_headers` for a receiver configured otherwise. `Debug` never
/// shows a secret.
pub type VerifierBuilder = HmacBuilder<SyncgramScheme>;

/// The verifier and signer for tools that serve every provider (the registry, `refunds webhook`): the
/// kit asks for the account's currency before it reads (the descriptor's spec says its refunds carry
/// none), and the signer can use the legacy pair.
pub const KIT: WebhookKit = WebhookKit::new(EVENTS, kit_verifier, kit_scheme).legacy_form();

fn kit_verifier(secret: Secret, settings: &WebhookSettings) -> Result<Box<dyn WebhookVerifier>> {
    // The kit refuses a missing currency first (and names the provider on every error it returns).
    let currency = settings
        .currency
        .ok_or_else(|| Error::configuration("the account's currency is required"))?;
    Ok(Box::new(builder(secret, currency).with_settings(settings).build()?))
}

fn kit_scheme(secret: Secret, settings: &WebhookSettings) -> Result<Arc<dyn SignatureScheme>> {
    Ok(Arc::new(scheme_builder(secret).with_settings(settings).scheme()?))
}
