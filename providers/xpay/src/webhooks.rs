//! XPay's webhooks: verify a delivery and read it as a typed [`WebhookEvent`](refunds::WebhookEvent).
//!
//! XPay signs `XPay-Signature: t=<unix s>,v1=<hex>`, the signature being hex HMAC-SHA256 over
//! `${t}.${rawBody}` keyed with the endpoint's secret (`whsec_...`, shown in the dashboard), and rejects
//! `abs(now - t) > 300` ([`DEFAULT_TOLERANCE`], configurable). The envelope is `{id:"evt_test_..."|
//! "evt_live_...", object:"event", api_version, created:<ISO 8601>, type, livemode, data:{object}}`;
//! `id` stays the same across retries (de-duplicate on it).
//!
//! [`EVENTS`]: `refund.created` carries a refund (read by the same code as `get_refund` answers);
//! `charge.refunded` carries a charge, so its event has [`refunds::WebhookEvent::payment`] (the charge)
//! and no refund. Both are documented. `refund.updated` and `refund.failed` are **assumed** (Stripe's
//! names; XPay's docs list neither): they carry a refund too. Anything else is
//! [`EventKind::Unknown`] with the body in `raw`.
//!
//! Beware docs.xpaycheckout.com: another company's "xPay" (HMAC-SHA512, `xpay-signature`); this is
//! not its scheme.
//!
//! ```no_run
//! # fn run(headers: &http::HeaderMap, body: &[u8]) -> refunds::Result<()> {
//! use refunds::WebhookVerifier;
//! let verifier = refunds_xpay::webhooks::verifier("whsec_your_endpoint_secret")?;
//! let event = verifier.verify_and_parse(headers, body);
//! # let _ = event; Ok(()) }
//! ```

use std::time::Duration;

use refunds::adapter::signature::{SecretRule, TimestampedHmac};
use refunds::adapter::{HttpProvider, Secret};
use refunds::webhook::{
    Carries, Clock, DEFAULT_TOLERANCE, Envelope, EventKind, EventParser, EventTable, SignedWebhooks,
};
use refunds::{Error, PaymentRefKind, Result};

use crate::{ID, XPay, XPayClient};

/// The signature header.
pub const SIGNATURE_HEADER: &str = "XPay-Signature";

/// The secrets accepted: XPay's endpoint secrets start `whsec_`.
pub const SECRET_RULE: SecretRule = SecretRule::ANY.with_prefix("whsec_");

/// The envelope: `created` in ISO 8601, the object at `data.object`.
pub const ENVELOPE: Envelope = Envelope::ISO_CREATED;

/// XPay's refund event types (see the [module docs](self) for which are documented).
pub const EVENTS: EventTable = EventTable::new(&[
    ("refund.created", EventKind::Created, Carries::Refund),
    (
        "charge.refunded",
        EventKind::Succeeded,
        Carries::Payment(PaymentRefKind::Charge),
    ),
    ("refund.updated", EventKind::Updated, Carries::Refund),
    ("refund.failed", EventKind::Failed, Carries::Refund),
]);

/// The XPay webhook verifier.
pub type XPayWebhooks = SignedWebhooks<TimestampedHmac>;

/// A verifier for `secret` (`whsec_...`) with the documented 300 s tolerance and the system clock.
///
/// Errors are `Configuration` (a secret without `whsec_`, empty or over-long) and never contain it.
pub fn verifier(secret: impl Into<Secret>) -> Result<XPayWebhooks> {
    builder(secret).build()
}

/// A verifier builder for `secret`: add secrets (rotation), set the tolerance and the clock.
pub fn builder(secret: impl Into<Secret>) -> VerifierBuilder {
    VerifierBuilder {
        secrets: vec![secret.into()],
        tolerance: DEFAULT_TOLERANCE,
        clock: Clock::system(),
        client: None,
    }
}

/// The signature scheme alone for `secret` (header, recipe, 300 s, system clock): what the sandbox
/// signs with.
pub fn scheme(secret: impl Into<Secret>) -> Result<TimestampedHmac> {
    TimestampedHmac::new(SIGNATURE_HEADER, secret, SECRET_RULE)
}

/// The event reader alone (envelope, [`EVENTS`], the client's refund reader
/// [`HttpProvider::read_refund`]). Call it only on a body whose signature was verified.
pub fn parser() -> EventParser {
    EventParser::new(ID, ENVELOPE, EVENTS, |body| XPay.read_refund(body))
}

/// Builds an [`XPayWebhooks`]. `Debug` never shows a secret.
#[derive(Debug, Clone)]
pub struct VerifierBuilder {
    secrets: Vec<Secret>,
    tolerance: Duration,
    clock: Clock,
    client: Option<XPayClient>,
}

impl VerifierBuilder {
    /// Also accepts signatures made with `secret` (the application's side of a secret rotation).
    pub fn secret(mut self, secret: impl Into<Secret>) -> VerifierBuilder {
        self.secrets.push(secret.into());
        self
    }

    /// The largest distance allowed between the signature's `t` and the clock, either way (default
    /// and documented: 300 s).
    pub fn tolerance(mut self, tolerance: Duration) -> VerifierBuilder {
        self.tolerance = tolerance;
        self
    }

    /// The clock `t` is checked against (default the system clock).
    pub fn clock(mut self, clock: Clock) -> VerifierBuilder {
        self.clock = clock;
        self
    }

    /// Reads refunds with `client` ([`refunds::adapter::Client::refund_from_json`]), so that decode
    /// errors are tagged like the client's.
    pub fn client(mut self, client: &XPayClient) -> VerifierBuilder {
        self.client = Some(client.clone());
        self
    }

    /// The verifier. Errors are `Configuration` and never contain a secret.
    pub fn build(self) -> Result<XPayWebhooks> {
        let mut secrets = self.secrets.into_iter();
        let first = secrets
            .next()
            .ok_or_else(|| Error::configuration("a webhook secret is required"))?;
        let mut scheme = scheme(first)?;
        for secret in secrets {
            scheme = scheme.with_secret(secret)?;
        }
        let scheme = scheme.tolerance(self.tolerance).clock(self.clock);
        let parser = match self.client {
            None => parser(),
            Some(client) => EventParser::new(ID, ENVELOPE, EVENTS, move |body| client.refund_from_json(body)),
        };
        Ok(SignedWebhooks::new(scheme, parser))
    }
}
