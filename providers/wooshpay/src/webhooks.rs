//! WooshPay's webhooks: verify a delivery and read it as a typed [`WebhookEvent`](refunds::WebhookEvent).
//!
//! WooshPay signs like Stripe: `Wooshpay-Signature: t=<unix s>,v1=<hex>`, the signature being hex
//! HMAC-SHA256 over the `t` text, `"."` and the raw body, keyed with the endpoint's secret (`whsec_...`,
//! from `webhook.secret`). Its docs give no timestamp tolerance: the SDK's default is 300 s
//! ([`DEFAULT_TOLERANCE`](refunds::webhook::DEFAULT_TOLERANCE)), configurable. The envelope is Stripe's (`{id:"evt_...", object:"event",
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

use refunds::Result;
use refunds::adapter::signature::{SecretRule, TimestampedHmac};
use std::sync::Arc;

use refunds::WebhookVerifier;
use refunds::adapter::signature::SignatureScheme;
use refunds::adapter::{HttpProvider, Secret, WebhookKit, WebhookSettings};
use refunds::webhook::{Carries, Envelope, EventKind, EventParser, EventTable, HmacBuilder, SignedWebhooks};

use crate::{ID, WooshPay};

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

/// A verifier builder for `secret` ([`VerifierBuilder`]: `secret` for rotation, `tolerance`, `clock`,
/// `client`, `build`). `Debug` never shows a secret.
pub fn builder(secret: impl Into<Secret>) -> VerifierBuilder {
    VerifierBuilder::new(SIGNATURE_HEADER, SECRET_RULE, secret, parser())
}

/// The builder of a [`WooshPayWebhooks`].
pub type VerifierBuilder = HmacBuilder<TimestampedHmac>;

/// The event reader alone (envelope, [`EVENTS`], this crate's refund reader, `livemode` left to the
/// event). Call it only on a body whose signature was verified.
pub fn parser() -> EventParser {
    EventParser::new(ID, ENVELOPE, EVENTS, |body| {
        WooshPay { livemode: None }.read_refund(body)
    })
}

/// The signature scheme alone for `secret` (header, recipe, default tolerance, system clock): what
/// the sandbox signs with.
pub fn scheme(secret: impl Into<Secret>) -> Result<TimestampedHmac> {
    builder(secret).scheme()
}

/// A verifier for `secret` with the default tolerance (300 s) and the system clock. Errors are
/// `Configuration` (an empty or over-long secret) and never contain the secret.
pub fn verifier(secret: impl Into<Secret>) -> Result<WooshPayWebhooks> {
    builder(secret).build()
}

/// The verifier and signer for tools that serve every provider (the registry, `refunds webhook`).
pub const KIT: WebhookKit = WebhookKit::new(EVENTS, kit_verifier, kit_scheme);

fn kit_verifier(secret: Secret, settings: &WebhookSettings) -> Result<Box<dyn WebhookVerifier>> {
    Ok(Box::new(builder(secret).with_settings(settings).build()?))
}

fn kit_scheme(secret: Secret, settings: &WebhookSettings) -> Result<Arc<dyn SignatureScheme>> {
    Ok(Arc::new(builder(secret).with_settings(settings).scheme()?))
}
