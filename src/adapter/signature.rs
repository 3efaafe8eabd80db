//! Webhook signature schemes, for provider crates: verification with RustCrypto's `hmac` + `sha2` and
//! a constant-time comparison ([`Mac::verify_slice`]), over the raw body bytes only.
//!
//! - [`TimestampedHmac`]: the Stripe-style scheme `<Header>: t=<unix s>,v1=<hex>[,v1=<hex>...]`, the
//!   signature being hex HMAC-SHA256 over `t` + `"."` + raw body. WooshPay (`Wooshpay-Signature`) and
//!   xpay (`XPay-Signature`) use it. Several `v1=` values are accepted (the provider signs with the old
//!   and the new secret while it rotates), several secrets can be configured (the application rotates),
//!   the timestamp must be within a tolerance of an injectable [`Clock`].
//! - [`BodyHmac`]: a plain HMAC-SHA256 of the raw body in one header, hex (or base64), for providers
//!   that document no timestamp (SyncgramPay: its header name and signed bytes are not documented, so
//!   the provider crate makes them configuration).
//!
//! Both implement [`SignatureScheme`], which [`SignedWebhooks`](crate::webhook::SignedWebhooks) pairs
//! with an [`EventParser`](crate::webhook::EventParser) into a [`WebhookVerifier`](crate::webhook::WebhookVerifier).
//! Secrets live in [`Secret`] and appear in no `Debug`, `Display` or error.

use std::fmt;
use std::time::Duration;

use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderName, HeaderValue};
use sha2::Sha256;

use crate::adapter::{Secret, base64_decode, base64_encode};
use crate::error::{Error, Result};
use crate::webhook::{Clock, DEFAULT_TOLERANCE, MAX_SIGNATURE_HEADER, WebhookError, WebhookErrorKind};

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

/// The Stripe-style scheme: `<Header>: t=<unix s>,v1=<hex>[,v1=<hex>...]`, hex HMAC-SHA256 over the
/// `t` text + `"."` + the raw body, timestamp within a tolerance (default [`DEFAULT_TOLERANCE`],
/// 300 s) of a [`Clock`] (default the system clock).
///
/// Header parsing: comma-separated `key=value` items, whitespace around items allowed; exactly one
/// `t` of 1 to 12 digits; at least one `v1` of 64 hex digits; other keys (`v0`, future schemes) are
/// ignored. Anything else is [`WebhookErrorKind::MalformedHeader`].
#[derive(Clone)]
pub struct TimestampedHmac {
    header: HeaderName,
    secrets: Vec<Secret>,
    rule: SecretRule,
    tolerance: Duration,
    clock: Clock,
}

impl fmt::Debug for TimestampedHmac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("TimestampedHmac");
        d.field("header", &self.header);
        secrets_debug(&mut d, &self.secrets);
        d.field("tolerance", &self.tolerance)
            .field("clock", &self.clock)
            .finish()
    }
}

/// A parsed Stripe-style header: the `t` text as sent and the `v1` signatures.
struct Parsed<'a> {
    t_text: &'a str,
    t: i64,
    v1: Vec<[u8; SIGNATURE_LEN]>,
}

fn parse_timestamped(text: &str) -> Result<Parsed<'_>, WebhookError> {
    let mut t: Option<(&str, i64)> = None;
    let mut v1 = Vec::new();
    for item in text.split(',') {
        let item = item.trim_matches([' ', '\t']);
        let Some((key, value)) = item.split_once('=') else {
            return Err(WebhookError::malformed_header("an item is not key=value"));
        };
        match key.trim_matches([' ', '\t']) {
            "t" => {
                if t.is_some() {
                    return Err(WebhookError::malformed_header("more than one t="));
                }
                if value.is_empty() || value.len() > 12 || !value.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(WebhookError::malformed_header("t= is not unix seconds"));
                }
                let n = value
                    .parse::<i64>()
                    .map_err(|_| WebhookError::malformed_header("t= is not unix seconds"))?;
                t = Some((value, n));
            }
            "v1" => {
                let sig = unhex32(value).ok_or_else(|| WebhookError::malformed_header("v1= is not 64 hex digits"))?;
                v1.push(sig);
            }
            "" => return Err(WebhookError::malformed_header("an item has no key")),
            _ => {}
        }
    }
    let (t_text, t) = t.ok_or_else(|| WebhookError::malformed_header("no t= timestamp"))?;
    if v1.is_empty() {
        return Err(WebhookError::malformed_header("no v1= signature"));
    }
    Ok(Parsed { t_text, t, v1 })
}

impl TimestampedHmac {
    /// The scheme on `header` (`"Wooshpay-Signature"`, `"XPay-Signature"`; any case) with one secret
    /// checked against `rule`. Errors are `Configuration` and never contain the secret.
    pub fn new(header: &str, secret: impl Into<Secret>, rule: SecretRule) -> Result<TimestampedHmac> {
        let secret = secret.into();
        rule.check(&secret)?;
        Ok(TimestampedHmac {
            header: header_name(header)?,
            secrets: vec![secret],
            rule,
            tolerance: DEFAULT_TOLERANCE,
            clock: Clock::system(),
        })
    }

    /// Also accepts signatures made with `secret` (the application's side of a rotation: old and new).
    pub fn with_secret(mut self, secret: impl Into<Secret>) -> Result<TimestampedHmac> {
        let secret = secret.into();
        self.rule.check(&secret)?;
        self.secrets.push(secret);
        Ok(self)
    }

    /// Sets the largest allowed distance between `t` and the clock, either way.
    pub fn tolerance(mut self, tolerance: Duration) -> TimestampedHmac {
        self.tolerance = tolerance;
        self
    }

    /// Sets the clock.
    pub fn clock(mut self, clock: Clock) -> TimestampedHmac {
        self.clock = clock;
        self
    }

    /// The tolerance.
    pub fn tolerance_value(&self) -> Duration {
        self.tolerance
    }

    /// Verifies a header value directly (when the caller has no [`HeaderMap`]). The value's size is
    /// checked first, like [`SignatureScheme::verify`] does.
    pub fn verify_value(&self, value: &[u8], body: &[u8]) -> Result<(), WebhookError> {
        let value =
            HeaderValue::from_bytes(value).map_err(|_| WebhookError::malformed_header("not a valid header value"))?;
        let mut headers = HeaderMap::new();
        headers.insert(self.header.clone(), value);
        self.verify(&headers, body)
    }

    fn mac(secret: &Secret, t_text: &str, body: &[u8]) -> Option<HmacSha256> {
        let mut mac = new_mac(secret)?;
        mac.update(t_text.as_bytes());
        mac.update(b".");
        mac.update(body);
        Some(mac)
    }

    /// The hex signature of `body` at `t` under `secret`: HMAC-SHA256 over `t` + `"."` + body.
    pub fn signature(secret: &Secret, t: i64, body: &[u8]) -> String {
        Self::mac(secret, &t.to_string(), body)
            .map(|m| hex(&m.finalize().into_bytes()))
            .unwrap_or_default()
    }

    /// The header value `t=<t>,v1=<hex>` signing `body` at `t` under `secret` (for sandboxes and tests).
    pub fn sign(secret: &Secret, t: i64, body: &[u8]) -> String {
        format!("t={t},v1={}", Self::signature(secret, t, body))
    }

    /// The header value signing `body` at `t` with every configured secret (one `v1` each).
    pub fn sign_at(&self, t: i64, body: &[u8]) -> String {
        let mut out = format!("t={t}");
        for secret in &self.secrets {
            out.push_str(",v1=");
            out.push_str(&Self::signature(secret, t, body));
        }
        out
    }
}

impl SignatureScheme for TimestampedHmac {
    fn header(&self) -> &HeaderName {
        &self.header
    }

    fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), WebhookError> {
        let text = header_text(headers, &self.header)?;
        let parsed = parse_timestamped(text)?;
        let matched = self
            .secrets
            .iter()
            .filter_map(|s| Self::mac(s, parsed.t_text, body))
            .any(|mac| matches_any(&mac, &parsed.v1));
        if !matched {
            return Err(WebhookError::new(
                WebhookErrorKind::NoMatchingSignature,
                "no v1 signature matches the body",
            ));
        }
        let now = self.clock.now_unix();
        let distance = (i128::from(now) - i128::from(parsed.t)).unsigned_abs();
        if distance > u128::from(self.tolerance.as_secs()) {
            return Err(WebhookError::new(
                WebhookErrorKind::TimestampOutsideTolerance,
                format!(
                    "signed at {}, {distance} s from now, tolerance {} s",
                    parsed.t,
                    self.tolerance.as_secs()
                ),
            ));
        }
        Ok(())
    }

    fn sign_headers(&self, body: &[u8]) -> Vec<(HeaderName, String)> {
        vec![(self.header.clone(), self.sign_at(self.clock.now_unix(), body))]
    }
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

    #[test]
    fn header_parsing_kinds() {
        let ok = format!("t=1, v1={}", "ab".repeat(32));
        assert_eq!(parse_timestamped(&ok).unwrap().t, 1);
        for (bad, why) in [
            ("v1=00", "v1"),
            ("t=1", "no v1"),
            ("t=-1,v1=00", "t"),
            ("t=1,t=2", "more than one"),
            ("garbage", "key=value"),
            ("t=1,,v1=00", "key=value"),
            ("=1", "no key"),
            ("t=1234567890123,v1=00", "t"),
        ] {
            let e = parse_timestamped(bad).err().unwrap();
            assert_eq!(e.kind(), WebhookErrorKind::MalformedHeader, "{bad}");
            assert!(e.message().contains(why), "{bad}: {e}");
        }
    }
}
