//! XPay's webhooks: verify a delivery and read it as a typed [`WebhookEvent`](refunds::WebhookEvent).
//!
//! XPay signs `XPay-Signature: t=<unix s>,v1=<hex>`, the signature being hex HMAC-SHA256 over
//! `${t}.${rawBody}` keyed with the endpoint's secret (`whsec_...`, shown in the dashboard), and rejects
//! `abs(now - t) > 300` ([`DEFAULT_TOLERANCE`](refunds::webhook::DEFAULT_TOLERANCE), configurable). The envelope is `{id:"evt_test_..."|
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

use refunds::adapter::signature::{SecretRule, TimestampedHmac};
use std::sync::Arc;

use refunds::WebhookVerifier;
use refunds::adapter::signature::SignatureScheme;
use refunds::adapter::{HttpProvider, Secret, WebhookKit, WebhookSettings};
use refunds::webhook::{Carries, Envelope, EventKind, EventParser, EventTable, HmacBuilder, SignedWebhooks};
use refunds::{PaymentRefKind, Result};

use crate::{ID, XPay};

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

/// A verifier builder for `secret`: add secrets (rotation), set the tolerance, the clock and the
/// client that reads refunds.
pub fn builder(secret: impl Into<Secret>) -> VerifierBuilder {
    VerifierBuilder::new(SIGNATURE_HEADER, SECRET_RULE, secret, parser())
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

/// Builds a [`XPayWebhooks`]: `secret`, `tolerance`, `clock`, `client`, `build`. `Debug` never
/// shows a secret.
pub type VerifierBuilder = HmacBuilder<TimestampedHmac>;

/// The verifier and signer for tools that serve every provider (the registry, `refunds webhook`).
pub const KIT: WebhookKit = WebhookKit::new(EVENTS, kit_verifier, kit_scheme);

fn kit_verifier(secret: Secret, settings: &WebhookSettings) -> Result<Box<dyn WebhookVerifier>> {
    Ok(Box::new(builder(secret).with_settings(settings).build()?))
}

fn kit_scheme(secret: Secret, settings: &WebhookSettings) -> Result<Arc<dyn SignatureScheme>> {
    Ok(Arc::new(builder(secret).with_settings(settings).scheme()?))
}
