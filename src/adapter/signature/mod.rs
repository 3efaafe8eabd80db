//! Webhook signature schemes, for provider crates: verification with RustCrypto's `hmac` + `sha2` and
//! a constant-time comparison ([`Mac::verify_slice`]), over the raw body bytes only.
//!
//! - [`TimestampedHmac`]: the Stripe-style scheme `<Header>: t=<unix s>,v1=<hex>[,v1=<hex>...]`, the
//!   signature being hex HMAC-SHA256 over `t` + `"."` + raw body, on a header each provider names
//!   (three of this workspace's providers sign this way). Several
//!   `v1=` values are accepted (the provider signs with the old and the new secret while it rotates),
//!   several secrets can be configured (the application rotates), the timestamp must be within a
//!   tolerance of an injectable [`Clock`](crate::webhook::Clock). It also reads the older split form,
//!   `t` and the signature in two headers of their own ([`SplitHeaders`]: Bachs' `X-Bachs-Timestamp`
//!   and `X-Bachs-Signature`).
//! - [`BodyHmac`]: a plain HMAC-SHA256 of the raw body in one header, hex (or base64), for providers
//!   that document no timestamp.
//!
//! Both implement [`SignatureScheme`], which [`SignedWebhooks`](crate::webhook::SignedWebhooks) pairs
//! with an [`EventParser`](crate::webhook::EventParser) into a [`WebhookVerifier`](crate::webhook::WebhookVerifier).
//! Secrets live in [`Secret`] and appear in no `Debug`, `Display` or error.

use std::fmt;

use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderName, HeaderValue};
use sha2::Sha256;

use crate::adapter::{Secret, base64_decode, base64_encode};
use crate::error::{Error, Result};
use crate::webhook_check::{MAX_SIGNATURE_HEADER, WebhookError, WebhookErrorKind};

mod timestamped;

pub use timestamped::{SplitHeaders, TimestampedHmac};

type HmacSha256 = Hmac<Sha256>;

/// Bytes in an HMAC-SHA256 signature.
const SIGNATURE_LEN: usize = 32;

/// A webhook signature scheme: checks a delivery's headers against its raw body, and (for sandboxes and
/// tests) produces the headers that sign a body.
pub trait SignatureScheme: Send + Sync + fmt::Debug {
    /// The signature header's name.
    fn header(&self) -> &HeaderName;

    /// Accepts the delivery when one signature in the header matches `body` under one configured secret
    /// (and, where the scheme has a timestamp, it is within tolerance).
    fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), WebhookError>;

    /// The headers that sign `body` with every configured secret, now (for a sandbox sender).
    fn sign_headers(&self, body: &[u8]) -> Vec<(HeaderName, String)>;
}

/// Which secrets a scheme accepts at construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretRule {
    min_chars: usize,
    max_chars: usize,
    prefix: Option<&'static str>,
}

impl SecretRule {
    /// Any non-empty secret of at most 1,024 characters.
    pub const ANY: SecretRule = SecretRule::chars(1, 1024);

    /// A secret of `min..=max` characters (SyncgramPay's `webhook_secret`: 8 to 64).
    pub const fn chars(min: usize, max: usize) -> SecretRule {
        SecretRule {
            min_chars: min,
            max_chars: max,
            prefix: None,
        }
    }

    /// Also requires the secret to start with `prefix` (`"whsec_"`).
    pub const fn with_prefix(mut self, prefix: &'static str) -> SecretRule {
        self.prefix = Some(prefix);
        self
    }

    /// Checks `secret`; the error names the rule, never the secret.
    pub fn check(&self, secret: &Secret) -> Result<()> {
        let chars = secret.expose().chars().count();
        if chars < self.min_chars.max(1) || chars > self.max_chars {
            return Err(Error::configuration(format!(
                "webhook secret must be {} to {} characters, got {chars}",
                self.min_chars.max(1),
                self.max_chars
            )));
        }
        match self.prefix {
            Some(prefix) if !secret.starts_with(prefix) => Err(Error::configuration(format!(
                "webhook secret must start with {prefix:?}"
            ))),
            _ => Ok(()),
        }
    }
}

fn header_name(header: &str) -> Result<HeaderName> {
    HeaderName::from_bytes(header.as_bytes())
        .map_err(|_| Error::configuration(format!("{header:?} is not a valid header name")))
}

fn new_mac(secret: &Secret) -> Option<HmacSha256> {
    // HMAC takes keys of any length; this cannot fail, but a failure must not panic either.
    HmacSha256::new_from_slice(secret.expose().as_bytes()).ok()
}

/// Lower-case hex.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Decodes exactly 64 hex digits (either case) into 32 bytes.
fn unhex32(text: &str) -> Option<[u8; SIGNATURE_LEN]> {
    let b = text.as_bytes();
    if b.len() != SIGNATURE_LEN * 2 {
        return None;
    }
    let digit = |c: u8| -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    };
    let mut out = [0u8; SIGNATURE_LEN];
    for (i, pair) in b.chunks_exact(2).enumerate() {
        out[i] = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Some(out)
}

/// The one signature header's value as ASCII text: missing, repeated, oversized or non-ASCII values are
/// refused with their own kinds. The size is checked before anything else is read.
fn header_text<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Result<&'a str, WebhookError> {
    let mut values = headers.get_all(name).iter();
    let value: &HeaderValue = values
        .next()
        .ok_or_else(|| WebhookError::missing_header(name.as_str()))?;
    if value.len() > MAX_SIGNATURE_HEADER {
        return Err(WebhookError::new(
            WebhookErrorKind::HeaderTooLarge,
            format!("{} is longer than {MAX_SIGNATURE_HEADER} bytes", name.as_str()),
        ));
    }
    if values.next().is_some() {
        return Err(WebhookError::malformed_header(format!(
            "{} sent more than once",
            name.as_str()
        )));
    }
    std::str::from_utf8(value.as_bytes())
        .ok()
        .filter(|s| s.is_ascii())
        .ok_or_else(|| WebhookError::malformed_header(format!("{} is not ascii", name.as_str())))
}

/// Whether `mac` (already fed the signed bytes) matches one of `candidates`, each compared in
/// constant time by [`Mac::verify_slice`].
fn matches_any(mac: &HmacSha256, candidates: &[[u8; SIGNATURE_LEN]]) -> bool {
    candidates.iter().any(|c| mac.clone().verify_slice(c).is_ok())
}

fn secrets_debug(f: &mut fmt::DebugStruct<'_, '_>, secrets: &[Secret]) {
    f.field("secrets", &format_args!("[{} redacted]", secrets.len()));
}

/// How a [`BodyHmac`] signature is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SignatureEncoding {
    /// 64 hex digits, either case (the default).
    #[default]
    Hex,
    /// Standard base64 (padding optional).
    Base64,
}

/// A plain HMAC-SHA256 of the raw body in one header: `<Header>: [sha256=]<signature>[,<signature>...]`.
///
/// No timestamp, so no replay window: an application de-duplicates on the event id. An optional
/// `sha256=` prefix (any case) is tolerated; several comma-separated signatures are accepted.
#[derive(Clone)]
pub struct BodyHmac {
    header: HeaderName,
    secrets: Vec<Secret>,
    rule: SecretRule,
    encoding: SignatureEncoding,
}

impl fmt::Debug for BodyHmac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("BodyHmac");
        d.field("header", &self.header);
        secrets_debug(&mut d, &self.secrets);
        d.field("encoding", &self.encoding).finish()
    }
}

impl BodyHmac {
    /// The scheme on `header` with one secret checked against `rule` (SyncgramPay:
    /// `SecretRule::chars(8, 64)`), hex encoded. Errors are `Configuration` and never contain the secret.
    pub fn new(header: &str, secret: impl Into<Secret>, rule: SecretRule) -> Result<BodyHmac> {
        let secret = secret.into();
        rule.check(&secret)?;
        Ok(BodyHmac {
            header: header_name(header)?,
            secrets: vec![secret],
            rule,
            encoding: SignatureEncoding::Hex,
        })
    }

    /// Also accepts signatures made with `secret` (rotation).
    pub fn with_secret(mut self, secret: impl Into<Secret>) -> Result<BodyHmac> {
        let secret = secret.into();
        self.rule.check(&secret)?;
        self.secrets.push(secret);
        Ok(self)
    }

    /// Sets the encoding.
    pub fn encoding(mut self, encoding: SignatureEncoding) -> BodyHmac {
        self.encoding = encoding;
        self
    }

    fn mac(secret: &Secret, body: &[u8]) -> Option<HmacSha256> {
        let mut mac = new_mac(secret)?;
        mac.update(body);
        Some(mac)
    }

    /// The signature of `body` under `secret` in `encoding` (for sandboxes and tests).
    pub fn sign(secret: &Secret, body: &[u8], encoding: SignatureEncoding) -> String {
        let Some(mac) = Self::mac(secret, body) else {
            return String::new();
        };
        let bytes = mac.finalize().into_bytes();
        match encoding {
            SignatureEncoding::Hex => hex(&bytes),
            SignatureEncoding::Base64 => base64_encode(&bytes),
        }
    }

    fn decode(&self, text: &str) -> Option<[u8; SIGNATURE_LEN]> {
        match self.encoding {
            SignatureEncoding::Hex => unhex32(text),
            SignatureEncoding::Base64 => base64_decode(text)?.try_into().ok(),
        }
    }
}

impl SignatureScheme for BodyHmac {
    fn header(&self) -> &HeaderName {
        &self.header
    }

    fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), WebhookError> {
        let text = header_text(headers, &self.header)?;
        let mut candidates = Vec::new();
        for item in text.split(',') {
            let mut item = item.trim_matches([' ', '\t']);
            if item.len() >= 7 && item[..7].eq_ignore_ascii_case("sha256=") {
                item = &item[7..];
            }
            let sig = self
                .decode(item)
                .ok_or_else(|| WebhookError::malformed_header("the signature is not a 32-byte hmac-sha256"))?;
            candidates.push(sig);
        }
        let matched = self
            .secrets
            .iter()
            .filter_map(|s| Self::mac(s, body))
            .any(|mac| matches_any(&mac, &candidates));
        if matched {
            Ok(())
        } else {
            Err(WebhookError::new(
                WebhookErrorKind::NoMatchingSignature,
                "no signature matches the body",
            ))
        }
    }

    fn sign_headers(&self, body: &[u8]) -> Vec<(HeaderName, String)> {
        self.secrets
            .first()
            .map(|s| vec![(self.header.clone(), Self::sign(s, body, self.encoding))])
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod webhook_signature_tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let bytes: Vec<u8> = (0..32).collect();
        let h = hex(&bytes);
        assert_eq!(unhex32(&h).unwrap().to_vec(), bytes);
        assert_eq!(unhex32(&h.to_uppercase()).unwrap().to_vec(), bytes);
        assert!(unhex32(&h[1..]).is_none());
        assert!(unhex32(&format!("{}zz", &h[2..])).is_none());
        assert!(unhex32("é").is_none());
    }

    #[test]
    fn secrets_never_print() {
        let s = TimestampedHmac::new("XPay-Signature", "whsec_topsecret", SecretRule::ANY).unwrap();
        assert!(!format!("{s:?}").contains("topsecret"));
        let b = BodyHmac::new("X-Syncgram-Signature", "topsecret", SecretRule::chars(8, 64)).unwrap();
        assert!(!format!("{b:?}").contains("topsecret"));
        let e = BodyHmac::new("X-Syncgram-Signature", "short", SecretRule::chars(8, 64)).unwrap_err();
        assert!(!e.to_string().contains("short"));
        let e = TimestampedHmac::new("XPay-Signature", "sk_nope", SecretRule::ANY.with_prefix("whsec_")).unwrap_err();
        assert!(!e.to_string().contains("sk_nope"));
        assert!(TimestampedHmac::new("bad header", "x", SecretRule::ANY).is_err());
    }
}
