//! The Stripe-style timestamped scheme, in one header (`t=..,v1=..`) or, for a provider's older form,
//! split over a timestamp header and a signature header.

use std::fmt;
use std::time::Duration;

use hmac::Mac;
use http::{HeaderMap, HeaderName, HeaderValue};

use super::{
    HmacSha256, SIGNATURE_LEN, SecretRule, SignatureScheme, header_name, header_text, hex, matches_any, new_mac,
    secrets_debug, unhex32,
};
use crate::adapter::Secret;
use crate::error::Result;
use crate::webhook_check::{Clock, DEFAULT_TOLERANCE, WebhookError, WebhookErrorKind};

/// The Stripe-style scheme: `<Header>: t=<unix s>,v1=<hex>[,v1=<hex>...]`, hex HMAC-SHA256 over the
/// `t` text + `"."` + the raw body, timestamp within a tolerance (default [`DEFAULT_TOLERANCE`],
/// 300 s) of a [`Clock`] (default the system clock).
///
/// Header parsing: comma-separated `key=value` items, whitespace around items allowed; exactly one
/// `t` of 1 to 12 digits; at least one `v1` of 64 hex digits; other keys (`v0`, future schemes) are
/// ignored. Anything else is [`WebhookErrorKind::MalformedHeader`].
///
/// **Split headers** ([`TimestampedHmac::split_headers`]): some providers also send, or used to send,
/// the same signature as two headers, the timestamp alone in one and one hex signature in the other
/// (Bachs: `X-Bachs-Timestamp` and `X-Bachs-Signature`, beside its `X-Bachs-Signature-V2`). With them
/// configured, a delivery without the one-header form is checked in the split form, over the same
/// `t.body` and with the same tolerance; a delivery that has the one-header form is judged by it
/// alone, so a malformed one never falls back to the split form (as the Bachs client does).
#[derive(Clone)]
pub struct TimestampedHmac {
    header: HeaderName,
    secrets: Vec<Secret>,
    rule: SecretRule,
    tolerance: Duration,
    clock: Clock,
    split: Option<SplitHeaders>,
    sign_split: bool,
}

/// The two headers of a split timestamped signature: the timestamp, and one hex signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitHeaders {
    /// The header holding `t` alone (unix seconds).
    pub timestamp: HeaderName,
    /// The header holding one hex signature of `t.body`.
    pub signature: HeaderName,
}

impl fmt::Debug for TimestampedHmac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("TimestampedHmac");
        d.field("header", &self.header);
        secrets_debug(&mut d, &self.secrets);
        d.field("tolerance", &self.tolerance)
            .field("clock", &self.clock)
            .field("split", &self.split)
            .field("sign_split", &self.sign_split)
            .finish()
    }
}

/// A parsed Stripe-style header: the `t` text as sent and the `v1` signatures.
pub(super) struct Parsed<'a> {
    pub(super) t_text: &'a str,
    pub(super) t: i64,
    pub(super) v1: Vec<[u8; SIGNATURE_LEN]>,
}

/// `t` as sent: 1 to 12 digits.
fn timestamp(value: &str) -> Result<i64, WebhookError> {
    if value.is_empty() || value.len() > 12 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(WebhookError::malformed_header("t= is not unix seconds"));
    }
    value
        .parse::<i64>()
        .map_err(|_| WebhookError::malformed_header("t= is not unix seconds"))
}

pub(super) fn parse_timestamped(text: &str) -> Result<Parsed<'_>, WebhookError> {
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
                t = Some((value, timestamp(value)?));
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
    /// The scheme on `header` (`"Stripe-Signature"` or a provider's own name; any case) with one secret
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
            split: None,
            sign_split: false,
        })
    }

    /// Also accepts signatures made with `secret` (the application's side of a rotation: old and new).
    pub fn with_secret(mut self, secret: impl Into<Secret>) -> Result<TimestampedHmac> {
        let secret = secret.into();
        self.rule.check(&secret)?;
        self.secrets.push(secret);
        Ok(self)
    }

    /// Also accepts the split form: `t` alone in `timestamp`, one hex signature in `signature`, read
    /// when the one-header form is absent. Errors are `Configuration` (an invalid header name).
    pub fn split_headers(mut self, timestamp: &str, signature: &str) -> Result<TimestampedHmac> {
        self.split = Some(SplitHeaders {
            timestamp: header_name(timestamp)?,
            signature: header_name(signature)?,
        });
        Ok(self)
    }

    /// Signs in the split form ([`TimestampedHmac::split_headers`], with the first secret) instead of
    /// the one-header form: what a sandbox or `refunds webhook trigger` sends to test a receiver of
    /// the older form. Without split headers configured it changes nothing.
    pub fn sign_split(mut self, split: bool) -> TimestampedHmac {
        self.sign_split = split;
        self
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

    /// The split headers, where configured.
    pub fn split(&self) -> Option<&SplitHeaders> {
        self.split.as_ref()
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

    /// The headers signing `body` at `t`: the one-header form, or the split form when configured to
    /// sign with it.
    pub fn sign_headers_at(&self, t: i64, body: &[u8]) -> Vec<(HeaderName, String)> {
        match (&self.split, self.sign_split, self.secrets.first()) {
            (Some(split), true, Some(secret)) => vec![
                (split.timestamp.clone(), t.to_string()),
                (split.signature.clone(), Self::signature(secret, t, body)),
            ],
            _ => vec![(self.header.clone(), self.sign_at(t, body))],
        }
    }

    /// The split form's `t` and signature, when the one-header form is absent.
    fn read_split<'a>(&self, headers: &'a HeaderMap, split: &SplitHeaders) -> Result<Parsed<'a>, WebhookError> {
        if !headers.contains_key(&split.timestamp) {
            return Err(WebhookError::missing_header(&format!(
                "{} (nor {})",
                self.header.as_str(),
                split.timestamp.as_str()
            )));
        }
        let t_text = header_text(headers, &split.timestamp)?.trim_matches([' ', '\t']);
        let t = timestamp(t_text)?;
        let signature = header_text(headers, &split.signature)?.trim_matches([' ', '\t']);
        let sig = unhex32(signature).ok_or_else(|| {
            WebhookError::malformed_header(format!("{} is not 64 hex digits", split.signature.as_str()))
        })?;
        Ok(Parsed {
            t_text,
            t,
            v1: vec![sig],
        })
    }
}

impl SignatureScheme for TimestampedHmac {
    fn header(&self) -> &HeaderName {
        &self.header
    }

    fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), WebhookError> {
        let parsed = match &self.split {
            Some(split) if !headers.contains_key(&self.header) => self.read_split(headers, split)?,
            _ => parse_timestamped(header_text(headers, &self.header)?)?,
        };
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
        self.sign_headers_at(self.clock.now_unix(), body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_split_headers_secret";

    fn scheme() -> TimestampedHmac {
        TimestampedHmac::new("X-Bachs-Signature-V2", SECRET, SecretRule::ANY)
            .and_then(|s| s.split_headers("X-Bachs-Timestamp", "X-Bachs-Signature"))
            .unwrap()
            .clock(Clock::fixed_unix(1_000))
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
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

    #[test]
    fn the_split_form_verifies_over_t_dot_body() {
        let body = br#"{"id":"evt_1"}"#;
        let secret = Secret::from(SECRET);
        let sig = TimestampedHmac::signature(&secret, 990, body);
        let scheme = scheme();
        scheme
            .verify(
                &headers(&[("x-bachs-timestamp", "990"), ("x-bachs-signature", &sig)]),
                body,
            )
            .unwrap();
        let upper = sig.to_ascii_uppercase();
        scheme
            .verify(
                &headers(&[("X-Bachs-Timestamp", " 990"), ("X-Bachs-Signature", &upper)]),
                body,
            )
            .unwrap();
        let kind = |pairs: &[(&str, &str)]| scheme.verify(&headers(pairs), body).unwrap_err().kind();
        assert_eq!(
            kind(&[("x-bachs-timestamp", "991"), ("x-bachs-signature", &sig)]),
            WebhookErrorKind::NoMatchingSignature
        );
        let stale = TimestampedHmac::signature(&secret, 600, body);
        assert_eq!(
            kind(&[("x-bachs-timestamp", "600"), ("x-bachs-signature", &stale)]),
            WebhookErrorKind::TimestampOutsideTolerance
        );
        assert_eq!(kind(&[("x-bachs-signature", &sig)]), WebhookErrorKind::MissingHeader);
        assert_eq!(kind(&[("x-bachs-timestamp", "990")]), WebhookErrorKind::MissingHeader);
        assert_eq!(kind(&[]), WebhookErrorKind::MissingHeader);
        for (t, s) in [("99x", &sig[..]), ("990", &sig[2..]), ("990", "sha256=00")] {
            let pairs = [("x-bachs-timestamp", t), ("x-bachs-signature", s)];
            assert_eq!(kind(&pairs), WebhookErrorKind::MalformedHeader, "{t} {s}");
        }
        let twice = [
            ("x-bachs-timestamp", "990"),
            ("x-bachs-timestamp", "990"),
            ("x-bachs-signature", &sig),
        ];
        assert_eq!(kind(&twice), WebhookErrorKind::MalformedHeader);
        // A one-header form, even a malformed one, is judged alone: no fall back to the split form.
        let split_ok = [("x-bachs-timestamp", "990"), ("x-bachs-signature", &sig[..])];
        let with_bad_v2 = [split_ok[0], split_ok[1], ("x-bachs-signature-v2", "garbage")];
        assert_eq!(kind(&with_bad_v2), WebhookErrorKind::MalformedHeader);
        // Without split headers configured, the split form is not read.
        let plain = TimestampedHmac::new("X-Bachs-Signature-V2", SECRET, SecretRule::ANY).unwrap();
        let e = plain.clock(Clock::fixed_unix(1_000)).verify(&headers(&split_ok), body);
        assert_eq!(e.unwrap_err().kind(), WebhookErrorKind::MissingHeader);
    }

    #[test]
    fn signs_in_either_form() {
        let body = b"{}";
        let one = scheme().sign_headers(body);
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].0.as_str(), "x-bachs-signature-v2");
        assert!(one[0].1.starts_with("t=1000,v1="));
        let split = scheme().sign_split(true).sign_headers(body);
        let names: Vec<&str> = split.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["x-bachs-timestamp", "x-bachs-signature"]);
        assert_eq!(split[0].1, "1000");
        let pairs: Vec<(&str, &str)> = split.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        scheme().verify(&headers(&pairs), body).unwrap();
        let pairs: Vec<(&str, &str)> = one.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        scheme().verify(&headers(&pairs), body).unwrap();
    }
}
