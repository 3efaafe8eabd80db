//! WooshPay's webhooks: verify a delivery and read it as a typed [`WebhookEvent`](refunds::WebhookEvent).
//!
//! WooshPay signs like Stripe: `Wooshpay-Signature: t=<unix s>,v1=<hex>`, the signature being hex
//! HMAC-SHA256 over the `t` text, `"."` and the raw body, keyed with the endpoint's secret (`whsec_...`,
//! from `webhook.secret`). Its docs give no timestamp tolerance: the SDK's default is 300 s
//! ([`DEFAULT_TOLERANCE`]), configurable. The envelope is Stripe's (`{id:"evt_...", object:"event",
//! created, data:{object}, livemode, type}`), and the refund event is `charge.refund.updated` ([`EVENTS`]);
//! its refund object is read by the same code as `get_refund` answers.
//!
//! ```no_run
//! # fn run(headers: &http::HeaderMap, body: &[u8]) -> refunds::Result<()> {
//! use refunds::WebhookVerifier;
//! let verifier = refunds_wooshpay::webhooks::verifier("whsec_your_endpoint_secret")?;
//! match verifier.verify_and_parse(headers, body) {
//!     Ok(event) => println!("{} {} {:?}", event.id, event.kind, event.refund.map(|r| r.status)),
//!     Err(e) if e.is_unauthenticated() => { /* answer 400: forged, replayed or unsigned */ }
//!     Err(e) => eprintln!("{e}"),
//! }
//! # Ok(()) }
//! ```

use std::time::Duration;

use refunds::adapter::signature::{SecretRule, TimestampedHmac};
use refunds::adapter::{Secret, WithRaw};
use refunds::webhook::{
    Carries, Clock, DEFAULT_TOLERANCE, Envelope, EventKind, EventParser, EventTable, SignedWebhooks,
};
use refunds::{Error, Refund, Result};

use crate::wire::WireRefund;
use crate::{PROVIDER_ID, WooshPayClient};

/// The signature header.
pub const SIGNATURE_HEADER: &str = "Wooshpay-Signature";

/// The prefix WooshPay's webhook secrets carry. Not enforced: WooshPay's own guide shows a secret
/// without it.
pub const SECRET_PREFIX: &str = "whsec_";

/// The secrets accepted: any non-empty text up to 1,024 characters.
pub const SECRET_RULE: SecretRule = SecretRule::ANY;

/// The envelope: Stripe's, `created` in unix seconds (the guide's milliseconds are read too).
pub const ENVELOPE: Envelope = Envelope::STRIPE_STYLE;

/// WooshPay's refund event types. Only `charge.refund.updated` is documented (in every example);
/// other types come back as [`EventKind::Unknown`] with the body in `raw`. The refund's status says
/// whether it succeeded or failed.
pub const EVENTS: EventTable = EventTable::new(&[("charge.refund.updated", EventKind::Updated, Carries::Refund)]);

/// The WooshPay webhook verifier.
pub type WooshPayWebhooks = SignedWebhooks<TimestampedHmac>;

/// A verifier for `secret` with the default tolerance (300 s) and the system clock.
///
/// Errors are `Configuration` (an empty or over-long secret) and never contain the secret.
pub fn verifier(secret: impl Into<Secret>) -> Result<WooshPayWebhooks> {
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

/// The signature scheme alone for `secret` (header, recipe, default tolerance, system clock): what
/// the sandbox signs with.
pub fn scheme(secret: impl Into<Secret>) -> Result<TimestampedHmac> {
    TimestampedHmac::new(SIGNATURE_HEADER, secret, SECRET_RULE)
}

/// The event reader alone (envelope, [`EVENTS`], this crate's refund reader). Call it only on a body
/// whose signature was verified.
pub fn parser() -> EventParser {
    EventParser::new(PROVIDER_ID, ENVELOPE, EVENTS, read_refund)
}

/// A WooshPay refund object, read as `get_refund` reads it (`livemode` left unset: the event's own
/// `livemode` is in [`refunds::WebhookEvent::livemode`]).
fn read_refund(body: &[u8]) -> Result<Refund> {
    let wire: WithRaw<WireRefund> = refunds::adapter::parse_object(body)
        .map_err(|e| Error::decode(format!("not a wooshpay refund object: {e}")))?;
    wire.value.into_refund(wire.raw, None)
}

/// Builds a [`WooshPayWebhooks`]. `Debug` never shows a secret.
#[derive(Debug, Clone)]
pub struct VerifierBuilder {
    secrets: Vec<Secret>,
    tolerance: Duration,
    clock: Clock,
    client: Option<WooshPayClient>,
}

impl VerifierBuilder {
    /// Also accepts signatures made with `secret` (the application's side of a secret rotation).
    pub fn secret(mut self, secret: impl Into<Secret>) -> VerifierBuilder {
        self.secrets.push(secret.into());
        self
    }

    /// The largest distance allowed between the signature's `t` and the clock, either way (default
    /// 300 s; WooshPay documents none).
    pub fn tolerance(mut self, tolerance: Duration) -> VerifierBuilder {
        self.tolerance = tolerance;
        self
    }

    /// The clock `t` is checked against (default the system clock).
    pub fn clock(mut self, clock: Clock) -> VerifierBuilder {
        self.clock = clock;
        self
    }

    /// Reads refunds with `client` ([`refunds::adapter::Client::refund_from_json`]), so that they
    /// carry the client key's live or test mode and decode errors are tagged like the client's.
    pub fn client(mut self, client: &WooshPayClient) -> VerifierBuilder {
        self.client = Some(client.clone());
        self
    }

    /// The verifier. Errors are `Configuration` and never contain a secret.
    pub fn build(self) -> Result<WooshPayWebhooks> {
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
            Some(client) => EventParser::new(PROVIDER_ID, ENVELOPE, EVENTS, move |body| client.refund_from_json(body)),
        };
        Ok(SignedWebhooks::new(scheme, parser))
    }
}
