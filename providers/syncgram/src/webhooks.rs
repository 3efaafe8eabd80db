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

use std::time::Duration;

use http::{HeaderMap, HeaderName};
use refunds::adapter::signature::{BodyHmac, SecretRule, SignatureEncoding, SignatureScheme, TimestampedHmac};
use refunds::adapter::{Secret, WithRaw};
use refunds::webhook::{
    Carries, Clock, DEFAULT_TOLERANCE, Envelope, EventKind, EventParser, EventTable, SignedWebhooks, WebhookError,
};
use refunds::{Currency, Error, Refund, Result};

use crate::wire::{WireRefund, into_refund};
use crate::{ID, SyncgramClient};

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

/// What the signature covers (undocumented by SyncgramPay, hence configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SignedBytes {
    /// HMAC-SHA256 of the raw body, in one header (the default).
    #[default]
    RawBody,
    /// Stripe-style: `t=<unix s>,v1=<hex>` over `t` + `"."` + the raw body, `t` within a tolerance.
    TimestampDotBody,
}

/// SyncgramPay's signature scheme, as configured ([`SignedBytes`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SyncgramScheme {
    /// [`SignedBytes::RawBody`].
    Body(BodyHmac),
    /// [`SignedBytes::TimestampDotBody`].
    Timestamped(TimestampedHmac),
}

impl SignatureScheme for SyncgramScheme {
    fn header(&self) -> &HeaderName {
        match self {
            SyncgramScheme::Body(s) => s.header(),
            SyncgramScheme::Timestamped(s) => s.header(),
        }
    }

    fn verify(&self, headers: &HeaderMap, body: &[u8]) -> std::result::Result<(), WebhookError> {
        match self {
            SyncgramScheme::Body(s) => s.verify(headers, body),
            SyncgramScheme::Timestamped(s) => s.verify(headers, body),
        }
    }

    fn sign_headers(&self, body: &[u8]) -> Vec<(HeaderName, String)> {
        match self {
            SyncgramScheme::Body(s) => s.sign_headers(body),
            SyncgramScheme::Timestamped(s) => s.sign_headers(body),
        }
    }
}

/// The SyncgramPay webhook verifier.
pub type SyncgramWebhooks = SignedWebhooks<SyncgramScheme>;

/// A verifier with the defaults (see the [module docs](self)) for `secret`, reading amounts in the
/// account's settlement `currency`.
///
/// Errors are `Configuration` (a secret outside 8 to 64 characters) and never contain the secret.
pub fn verifier(secret: impl Into<Secret>, currency: Currency) -> Result<SyncgramWebhooks> {
    builder(secret, currency).build()
}

/// A verifier builder: header, signed bytes, encoding, more secrets, tolerance and clock.
pub fn builder(secret: impl Into<Secret>, currency: Currency) -> VerifierBuilder {
    VerifierBuilder {
        secrets: vec![secret.into()],
        currency,
        header: DEFAULT_SIGNATURE_HEADER.to_owned(),
        signed: SignedBytes::RawBody,
        encoding: SignatureEncoding::Hex,
        tolerance: DEFAULT_TOLERANCE,
        clock: Clock::system(),
        client: None,
    }
}

/// The default scheme alone for `secret`: what the sandbox signs with.
pub fn scheme(secret: impl Into<Secret>) -> Result<SyncgramScheme> {
    BodyHmac::new(DEFAULT_SIGNATURE_HEADER, secret, SECRET_RULE).map(SyncgramScheme::Body)
}

/// The event reader alone (envelope, [`EVENTS`], this crate's refund reader in `currency`). Call it
/// only on a body whose signature was verified.
pub fn parser(currency: Currency) -> EventParser {
    EventParser::new(ID, ENVELOPE, EVENTS, move |body| read_refund(body, currency))
}

/// A SyncgramPay refund object, read as `get_refund` reads it (`livemode` left unset).
fn read_refund(body: &[u8], currency: Currency) -> Result<Refund> {
    let wire: WithRaw<WireRefund> =
        refunds::adapter::parse_object(body).map_err(|e| Error::decode(format!("refund object: {e}")))?;
    into_refund(wire, currency, None)
}

/// Builds a [`SyncgramWebhooks`]. `Debug` never shows a secret.
#[derive(Debug, Clone)]
pub struct VerifierBuilder {
    secrets: Vec<Secret>,
    currency: Currency,
    header: String,
    signed: SignedBytes,
    encoding: SignatureEncoding,
    tolerance: Duration,
    clock: Clock,
    client: Option<SyncgramClient>,
}

impl VerifierBuilder {
    /// Also accepts signatures made with `secret` (rotation).
    pub fn secret(mut self, secret: impl Into<Secret>) -> VerifierBuilder {
        self.secrets.push(secret.into());
        self
    }

    /// The signature header's name (default [`DEFAULT_SIGNATURE_HEADER`]).
    pub fn header(mut self, name: impl Into<String>) -> VerifierBuilder {
        self.header = name.into();
        self
    }

    /// What the signature covers (default [`SignedBytes::RawBody`]).
    pub fn signed_bytes(mut self, signed: SignedBytes) -> VerifierBuilder {
        self.signed = signed;
        self
    }

    /// How a [`SignedBytes::RawBody`] signature is written (default hex; the timestamped form is
    /// always hex).
    pub fn encoding(mut self, encoding: SignatureEncoding) -> VerifierBuilder {
        self.encoding = encoding;
        self
    }

    /// The tolerance of [`SignedBytes::TimestampDotBody`] (default 300 s).
    pub fn tolerance(mut self, tolerance: Duration) -> VerifierBuilder {
        self.tolerance = tolerance;
        self
    }

    /// The clock of [`SignedBytes::TimestampDotBody`] (default the system clock).
    pub fn clock(mut self, clock: Clock) -> VerifierBuilder {
        self.clock = clock;
        self
    }

    /// Reads refunds with `client` ([`refunds::adapter::Client::refund_from_json`]): its settlement
    /// currency and its key's live or test mode, decode errors tagged like the client's.
    pub fn client(mut self, client: &SyncgramClient) -> VerifierBuilder {
        self.client = Some(client.clone());
        self
    }

    /// The verifier. Errors are `Configuration` (a secret outside 8 to 64 characters, an invalid
    /// header name) and never contain a secret.
    pub fn build(self) -> Result<SyncgramWebhooks> {
        let mut secrets = self.secrets.into_iter();
        let first = secrets
            .next()
            .ok_or_else(|| Error::configuration("a webhook secret is required"))?;
        let scheme = match self.signed {
            SignedBytes::RawBody => {
                let mut scheme = BodyHmac::new(&self.header, first, SECRET_RULE)?.encoding(self.encoding);
                for secret in secrets {
                    scheme = scheme.with_secret(secret)?;
                }
                SyncgramScheme::Body(scheme)
            }
            SignedBytes::TimestampDotBody => {
                let mut scheme = TimestampedHmac::new(&self.header, first, SECRET_RULE)?;
                for secret in secrets {
                    scheme = scheme.with_secret(secret)?;
                }
                SyncgramScheme::Timestamped(scheme.tolerance(self.tolerance).clock(self.clock))
            }
        };
        let parser = match self.client {
            None => parser(self.currency),
            Some(client) => EventParser::new(ID, ENVELOPE, EVENTS, move |body| client.refund_from_json(body)),
        };
        Ok(SignedWebhooks::new(scheme, parser))
    }
}
