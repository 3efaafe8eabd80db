//! The verifier builder every HMAC-signing provider offers: secrets (rotation), tolerance, clock, the
//! client that reads refunds, a timestamped scheme's split headers, and for providers whose scheme is
//! configuration, the header, the signed bytes and the encoding. A provider crate names it
//! (`pub type VerifierBuilder = HmacBuilder<TheirScheme>`) and starts it from its own header, secret
//! rule and parser.

use std::marker::PhantomData;
use std::time::Duration;

use http::{HeaderMap, HeaderName};

use super::{Clock, DEFAULT_TOLERANCE, EventParser, SignedWebhooks, WebhookError};
use crate::adapter::signature::{BodyHmac, SecretRule, SignatureEncoding, SignatureScheme, TimestampedHmac};
use crate::adapter::{Client, HttpProvider, Secret};
use crate::currency::Currency;
use crate::{Error, Result};

/// What an HMAC signature covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SignedBytes {
    /// HMAC-SHA256 of the raw body, in one header ([`BodyHmac`]).
    #[default]
    RawBody,
    /// Stripe-style: `t=<unix s>,v1=<hex>` over `t` + `"."` + the raw body, `t` within a tolerance
    /// ([`TimestampedHmac`]).
    TimestampDotBody,
}

/// Either HMAC scheme, chosen by configuration ([`SignedBytes`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum HmacScheme {
    /// [`SignedBytes::RawBody`].
    Body(BodyHmac),
    /// [`SignedBytes::TimestampDotBody`].
    Timestamped(TimestampedHmac),
}

impl SignatureScheme for HmacScheme {
    fn header(&self) -> &HeaderName {
        match self {
            HmacScheme::Body(s) => s.header(),
            HmacScheme::Timestamped(s) => s.header(),
        }
    }

    fn verify(&self, headers: &HeaderMap, body: &[u8]) -> std::result::Result<(), WebhookError> {
        match self {
            HmacScheme::Body(s) => s.verify(headers, body),
            HmacScheme::Timestamped(s) => s.verify(headers, body),
        }
    }

    fn sign_headers(&self, body: &[u8]) -> Vec<(HeaderName, String)> {
        match self {
            HmacScheme::Body(s) => s.sign_headers(body),
            HmacScheme::Timestamped(s) => s.sign_headers(body),
        }
    }
}

/// A scheme the [`HmacBuilder`] can make: [`TimestampedHmac`], [`BodyHmac`] or [`HmacScheme`].
pub trait FromHmacSettings: Sized {
    /// The scheme for these settings. Errors are `Configuration` and never contain a secret.
    fn from_settings(settings: &HmacSettings) -> Result<Self>;
}

/// What an [`HmacBuilder`] was told, as a scheme reads it.
#[derive(Debug, Clone)]
pub struct HmacSettings {
    header: String,
    rule: SecretRule,
    secrets: Vec<Secret>,
    signed: SignedBytes,
    encoding: SignatureEncoding,
    tolerance: Duration,
    clock: Clock,
    split: Option<(String, String)>,
    sign_split: bool,
}

impl HmacSettings {
    fn secrets(&self) -> Result<(&Secret, &[Secret])> {
        self.secrets
            .split_first()
            .ok_or_else(|| Error::configuration("a webhook secret is required"))
    }
}

impl FromHmacSettings for TimestampedHmac {
    fn from_settings(s: &HmacSettings) -> Result<TimestampedHmac> {
        let (first, rest) = s.secrets()?;
        let mut scheme = TimestampedHmac::new(&s.header, first.clone(), s.rule)?;
        for secret in rest {
            scheme = scheme.with_secret(secret.clone())?;
        }
        if let Some((timestamp, signature)) = &s.split {
            scheme = scheme.split_headers(timestamp, signature)?;
        }
        Ok(scheme
            .tolerance(s.tolerance)
            .clock(s.clock.clone())
            .sign_split(s.sign_split))
    }
}

impl FromHmacSettings for BodyHmac {
    fn from_settings(s: &HmacSettings) -> Result<BodyHmac> {
        let (first, rest) = s.secrets()?;
        let mut scheme = BodyHmac::new(&s.header, first.clone(), s.rule)?.encoding(s.encoding);
        for secret in rest {
            scheme = scheme.with_secret(secret.clone())?;
        }
        Ok(scheme)
    }
}

impl FromHmacSettings for HmacScheme {
    fn from_settings(s: &HmacSettings) -> Result<HmacScheme> {
        Ok(match s.signed {
            SignedBytes::RawBody => HmacScheme::Body(BodyHmac::from_settings(s)?),
            SignedBytes::TimestampDotBody => HmacScheme::Timestamped(TimestampedHmac::from_settings(s)?),
        })
    }
}

/// Builds a [`SignedWebhooks<S>`]. `Debug` never shows a secret.
#[derive(Debug, Clone)]
pub struct HmacBuilder<S> {
    settings: HmacSettings,
    parser: EventParser,
    scheme: PhantomData<fn() -> S>,
}

impl<S: FromHmacSettings + SignatureScheme> HmacBuilder<S> {
    /// A builder for `secret` under `header` and `rule`, reading events with `parser`; the defaults
    /// are [`DEFAULT_TOLERANCE`], the system clock, hex, and the signed bytes of `S` (an
    /// [`HmacScheme`] starts with [`SignedBytes::default`]).
    pub fn new(header: &str, rule: SecretRule, secret: impl Into<Secret>, parser: EventParser) -> HmacBuilder<S> {
        HmacBuilder {
            settings: HmacSettings {
                header: header.to_owned(),
                rule,
                secrets: vec![secret.into()],
                signed: SignedBytes::default(),
                encoding: SignatureEncoding::Hex,
                tolerance: DEFAULT_TOLERANCE,
                clock: Clock::system(),
                split: None,
                sign_split: false,
            },
            parser,
            scheme: PhantomData,
        }
    }

    /// Also accepts signatures made with `secret` (the application's side of a secret rotation).
    pub fn secret(mut self, secret: impl Into<Secret>) -> Self {
        self.settings.secrets.push(secret.into());
        self
    }

    /// The largest distance allowed between a timestamped signature's `t` and the clock, either way
    /// (default 300 s).
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.settings.tolerance = tolerance;
        self
    }

    /// The clock `t` is checked against (default the system clock).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.settings.clock = clock;
        self
    }

    /// The signature header's name (where the provider leaves it to configuration).
    pub fn header(mut self, name: impl Into<String>) -> Self {
        self.settings.header = name.into();
        self
    }

    /// What the signature covers (read by an [`HmacScheme`]; the fixed schemes ignore it).
    pub fn signed_bytes(mut self, signed: SignedBytes) -> Self {
        self.settings.signed = signed;
        self
    }

    /// Also accepts a timestamped signature split over two headers, `t` alone in `timestamp` and one
    /// hex signature in `signature`, when the signature header is absent (a provider's older form:
    /// Bachs' `X-Bachs-Timestamp` and `X-Bachs-Signature`). Read by the timestamped scheme only.
    pub fn split_headers(mut self, timestamp: impl Into<String>, signature: impl Into<String>) -> Self {
        self.settings.split = Some((timestamp.into(), signature.into()));
        self
    }

    /// The tolerance, clock and signing form of `settings` (the account currency is the parser's, set
    /// by the provider when it makes the builder).
    pub fn with_settings(self, settings: &WebhookSettings) -> Self {
        let builder = self.tolerance(settings.tolerance).clock(settings.clock.clone());
        builder.sign_split(settings.legacy_signature)
    }

    /// Whether [`SignatureScheme::sign_headers`] writes the split form (with [`HmacBuilder::split_headers`]):
    /// for a sandbox or a test sender addressing a receiver of the older form. Verification is not
    /// changed: both forms are read.
    pub fn sign_split(mut self, split: bool) -> Self {
        self.settings.sign_split = split;
        self
    }

    /// How a raw-body signature is written (default hex; the timestamped form is always hex).
    pub fn encoding(mut self, encoding: SignatureEncoding) -> Self {
        self.settings.encoding = encoding;
        self
    }

    /// Reads refunds with `client` ([`Client::refund_from_json`]): its account currency and its key's
    /// live or test mode, decode errors tagged like the client's.
    pub fn client<P: HttpProvider>(mut self, client: &Client<P>) -> Self {
        let client = client.clone();
        let parser = &self.parser;
        self.parser = EventParser::new(parser.provider(), parser.envelope(), parser.events(), move |body| {
            client.refund_from_json(body)
        });
        self
    }

    /// The scheme alone, as configured.
    pub fn scheme(&self) -> Result<S> {
        S::from_settings(&self.settings)
    }

    /// The verifier. Errors are `Configuration` (a secret the rule refuses, an invalid header name)
    /// and never contain a secret.
    pub fn build(self) -> Result<SignedWebhooks<S>> {
        Ok(SignedWebhooks::new(self.scheme()?, self.parser))
    }
}

/// How a webhook verifier or signer is set up beyond its secret (what a tool serving every provider
/// passes to a provider's webhook kit; [`HmacBuilder::with_settings`] applies it).
#[derive(Clone)]
#[non_exhaustive]
pub struct WebhookSettings {
    /// How far a signature's time may be from the clock.
    pub tolerance: Duration,
    /// The clock signatures are checked (or made) against.
    pub clock: Clock,
    /// The account's currency, for a provider whose refund objects carry none.
    pub currency: Option<Currency>,
    /// Sign in the provider's legacy form.
    pub legacy_signature: bool,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            tolerance: DEFAULT_TOLERANCE,
            clock: Clock::system(),
            currency: None,
            legacy_signature: false,
        }
    }
}

impl WebhookSettings {
    /// The default tolerance (300 s), the system clock, no currency, the current form.
    pub fn new() -> WebhookSettings {
        WebhookSettings::default()
    }

    /// Sets the tolerance.
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Sets the clock.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Sets the account's currency.
    pub fn currency(mut self, currency: Option<Currency>) -> Self {
        self.currency = currency;
        self
    }

    /// Signs in the legacy form.
    pub fn legacy_signature(mut self, legacy: bool) -> Self {
        self.legacy_signature = legacy;
        self
    }
}
