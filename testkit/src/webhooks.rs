//! The webhook checks every HMAC-signing provider runs: typed failures, tolerance and rotation, no
//! secret in any text, the secret rule, random input, and the sandbox-to-receiver round trip with a
//! retry after a 500 ([`sandbox_round_trip`]).
//!
//! A provider describes its scheme once ([`WebhookCase`]) with a signing recipe independent of the
//! SDK (RustCrypto's `hmac` + `sha2` called directly, never the SDK's signer; the timestamped recipe
//! three providers document is [`sign_timestamped`]) and invokes
//! [`webhook_tests!`](crate::webhook_tests); its documented events and its sandbox's event names stay
//! in its own tests.

use std::time::Duration;

use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderName, HeaderValue};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use refunds::adapter::signature::SignatureScheme;
use refunds::adapter::{Client, HttpProvider};
use refunds::webhook::{Clock, FromHmacSettings, HmacBuilder, MAX_SIGNATURE_HEADER, SignedWebhooks, WebhookErrorKind};
use refunds::{ErrorKind, EventKind, WebhookError, WebhookEvent, WebhookVerifier};
use sha2::Sha256;

mod round_trip;

pub use round_trip::{Received, Receiver, RoundTrip, sandbox_round_trip};

/// One `#[test]` per shared scheme check, for the [`WebhookCase`] expression given.
#[macro_export]
macro_rules! webhook_tests {
    ($case:expr) => {
        $crate::webhook_tests!(@tests $case; each_failure_has_its_own_typed_result, tolerance_clock_and_rotation,
            the_secret_appears_in_no_debug_display_or_error, random_headers_and_bodies_never_panic,
            the_secret_rule_refuses_as_configuration);
    };
    (@tests $case:expr; $($name:ident),*) => {
        $(
            #[test]
            fn $name() {
                $case.$name();
            }
        )*
    };
}

/// A provider's signature scheme, as the shared checks need it.
pub struct WebhookCase<S> {
    /// The provider id errors and events name.
    pub provider: &'static str,
    /// The signature header.
    pub header: &'static str,
    /// A secret the scheme takes.
    pub secret: &'static str,
    /// Another secret the scheme takes (the wrong one, then the rotated one).
    pub other_secret: &'static str,
    /// A secret containing `do_not_print_me`, for the no-secret-in-text check.
    pub unprintable_secret: &'static str,
    /// The fixed "now" of the verifiers built here (unix seconds).
    pub now: i64,
    /// A documented refund event the verifier reads.
    pub event: &'static str,
    /// An authentic event of a type the provider's table does not know.
    pub unknown: &'static [u8],
    /// An authentic refund event whose refund cannot be read.
    pub broken: &'static [u8],
    /// Secrets the provider's rule takes, besides `secret` and `other_secret`.
    pub accepted_secrets: &'static [&'static str],
    /// Secrets the provider's rule refuses.
    pub refused_secrets: &'static [&'static str],
    /// Whether the signature carries a timestamp (`t=..,v1=..`) checked against a tolerance.
    pub timestamped: bool,
    /// The provider's documented recipe, computed independently: the header value for `secret`, `t`
    /// (ignored by a raw-body scheme) and the body.
    pub sign: fn(&str, i64, &[u8]) -> String,
    /// The provider's verifier builder for a secret.
    pub builder: fn(&str) -> HmacBuilder<S>,
}

/// The fixed "now" of [`WebhookCase::new`]: 2024-01-01T00:00:00Z.
pub const NOW: i64 = 1_704_067_200;

impl<S> WebhookCase<S> {
    /// A timestamped case at [`NOW`], with `whsec_` rotation and unprintable secrets (8 to 64
    /// characters) and the empty secret refused; set `unknown` and `broken` (and `timestamped: false`
    /// for a raw-body scheme).
    pub fn new(
        (provider, header): (&'static str, &'static str),
        (secret, event): (&'static str, &'static str),
        sign: fn(&str, i64, &[u8]) -> String,
        builder: fn(&str) -> HmacBuilder<S>,
    ) -> WebhookCase<S> {
        WebhookCase {
            provider,
            header,
            secret,
            other_secret: "whsec_next_secret_after_rotation",
            unprintable_secret: "whsec_do_not_print_me_0123456789",
            now: NOW,
            event,
            unknown: b"",
            broken: b"",
            accepted_secrets: &[],
            refused_secrets: &[""],
            timestamped: true,
            sign,
            builder,
        }
    }
}

fn kind(result: Result<WebhookEvent, WebhookError>) -> WebhookErrorKind {
    match result {
        Ok(event) => panic!("accepted: {event:?}"),
        Err(e) => e.kind(),
    }
}

/// Lowercase hex, for a test's own signing recipe.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The headers given, in order (a name given twice is sent twice).
pub fn header_map(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        let name = HeaderName::from_bytes(name.as_bytes()).expect("header name");
        headers.append(name, HeaderValue::from_str(value).expect("header value"));
    }
    headers
}

/// HMAC-SHA256 of `message` under `secret`, by RustCrypto directly: a mistake in the SDK's signer
/// cannot cancel out in a check that signs with the signer itself.
pub fn hmac_sha256(secret: &str, message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// The hex HMAC-SHA256 of `t` + "." + body: the `v1` of [`sign_timestamped`].
pub fn timestamped_signature(secret: &str, t: i64, body: &[u8]) -> String {
    hex(&hmac_sha256(secret, &[format!("{t}.").as_bytes(), body].concat()))
}

/// The raw-body recipe: the hex HMAC-SHA256 of the body alone (`t` unused), for a receiver
/// configured to sign the body without a timestamp.
pub fn sign_body(secret: &str, _t: i64, body: &[u8]) -> String {
    hex(&hmac_sha256(secret, body))
}

/// The Stripe-style recipe (three of the workspace's providers document it):
/// `t=<t>,v1=<hex of HMAC-SHA256(secret, t + "." + body)>`.
pub fn sign_timestamped(secret: &str, t: i64, body: &[u8]) -> String {
    format!("t={t},v1={}", timestamped_signature(secret, t, body))
}

/// The part of a header value after `v1=` (the signature of a timestamped header), or all of it.
fn signature_part(value: &str) -> &str {
    value.split_once("v1=").map_or(value, |(_, sig)| sig)
}

impl<S: FromHmacSettings + SignatureScheme> WebhookCase<S> {
    /// `value` under the provider's header.
    pub fn headers(&self, value: &str) -> HeaderMap {
        header_map(&[(self.header, value)])
    }

    /// The verifier for `secret` at the fixed clock.
    pub fn verifier(&self) -> SignedWebhooks<S> {
        (self.builder)(self.secret)
            .clock(Clock::fixed_unix(self.now))
            .build()
            .expect("verifier")
    }

    /// `body` signed with `secret` at `t` by the test's own recipe, under the provider's header.
    pub fn signed(&self, secret: &str, t: i64, body: &[u8]) -> HeaderMap {
        self.headers(&(self.sign)(secret, t, body))
    }

    /// A delivery's signature header is the provider's recipe, recomputed here from its own `t`.
    pub fn assert_signed(&self, delivery: &Received) {
        let value = delivery.headers[self.header].to_str().expect("a text header");
        let t = value.strip_prefix("t=").and_then(|v| v.split(',').next()?.parse().ok());
        assert!(t.is_some() || !self.timestamped, "{value}");
        assert_eq!(value, (self.sign)(self.secret, t.unwrap_or_default(), &delivery.body));
    }

    /// The documented event, signed now, read by the verifier `configure` makes of the provider's
    /// builder at the fixed clock (`|b| b.client(&client)`, ...).
    pub fn documented_with(&self, configure: impl FnOnce(HmacBuilder<S>) -> HmacBuilder<S>) -> WebhookEvent {
        let verifier = configure((self.builder)(self.secret).clock(Clock::fixed_unix(self.now)));
        let body = self.event.as_bytes();
        let signed = self.signed(self.secret, self.now, body);
        verifier
            .build()
            .expect("verifier")
            .verify_and_parse(&signed, body)
            .expect("verifies")
    }

    /// The documented event, signed 5 s ago, read by the fixed verifier: it names the provider, keeps
    /// the body byte for byte, and its refund's raw is the body's own bytes; the default verifier
    /// (system clock) accepts a signature made now. Returns the event for the provider's own checks.
    pub fn documented_event(&self) -> WebhookEvent {
        let body = self.event.as_bytes();
        let event = self
            .verifier()
            .verify_and_parse(&self.signed(self.secret, self.now - 5, body), body);
        let event = event.expect("the documented event verifies");
        assert_eq!((event.provider.as_ref(), event.raw.get()), (self.provider, self.event));
        if let Some(refund) = &event.refund {
            assert!(
                self.event.contains(refund.raw.get()),
                "the refund's raw is the body's own bytes"
            );
            assert_eq!(event.payment.as_ref(), Some(&refund.payment));
        }
        let now = refunds::OffsetDateTime::now_utc().unix_timestamp();
        let system = (self.builder)(self.secret).build().expect("verifier");
        system
            .verify_and_parse(&self.signed(self.secret, now, body), body)
            .expect("signed now");
        event
    }

    /// A changed byte, a wrong secret, a stale timestamp, malformed, oversized and missing headers
    /// each have their own [`WebhookErrorKind`]; an unknown event type is an event, an unreadable
    /// refund an unparseable body naming the provider.
    pub fn each_failure_has_its_own_typed_result(&self) {
        let (verifier, body, now) = (self.verifier(), self.event.as_bytes(), self.now);
        let good = (self.sign)(self.secret, now, body);
        let check = |value: &str, b: &[u8]| kind(verifier.verify_and_parse(&self.headers(value), b));
        for i in [0, body.len() / 2, body.len() - 1] {
            let mut changed = body.to_vec();
            changed[i] ^= 0x01;
            assert_eq!(
                check(&good, &changed),
                WebhookErrorKind::NoMatchingSignature,
                "byte {i}"
            );
        }
        let wrong = (self.sign)(self.other_secret, now, body);
        assert_eq!(check(&wrong, body), WebhookErrorKind::NoMatchingSignature);
        let sig = signature_part(&good);
        let mut malformed = vec![String::new(), "garbage".into(), format!("t=x,v1={sig}")];
        if self.timestamped {
            for t in [now - 301, now + 301, 0] {
                let stale = (self.sign)(self.secret, t, body);
                assert_eq!(
                    check(&stale, body),
                    WebhookErrorKind::TimestampOutsideTolerance,
                    "t={t}"
                );
            }
            let edge = (self.sign)(self.secret, now - 300, body);
            verifier
                .verify_and_parse(&self.headers(&edge), body)
                .expect("300 s is in");
            malformed.extend([
                format!("v1={sig}"),
                format!("t={now}"),
                format!("t={now},v1={}", &sig[1..]),
            ]);
        } else {
            malformed.extend([sig[2..].to_owned(), format!("{sig}00"), "sha256=".into()]);
        }
        for bad in &malformed {
            assert_eq!(check(bad, body), WebhookErrorKind::MalformedHeader, "{bad:?}");
        }
        let oversized = format!("{good},{}", "0".repeat(MAX_SIGNATURE_HEADER));
        assert_eq!(check(&oversized, body), WebhookErrorKind::HeaderTooLarge);
        assert_eq!(
            kind(verifier.verify_and_parse(&HeaderMap::new(), body)),
            WebhookErrorKind::MissingHeader
        );
        let unknown = verifier.verify_and_parse(&self.signed(self.secret, now, self.unknown), self.unknown);
        let unknown = unknown.expect("an unknown type is an event");
        assert!(matches!(unknown.kind, EventKind::Unknown(_)), "{:?}", unknown.kind);
        assert!(unknown.refund.is_none() && unknown.payment.is_none());
        assert_eq!(unknown.raw.get().as_bytes(), self.unknown);
        let e = verifier
            .verify_and_parse(&self.signed(self.secret, now, self.broken), self.broken)
            .expect_err("an unreadable refund");
        assert!(e.is_unparseable_body() && !e.is_unauthenticated(), "{e}");
        assert_eq!(e.provider(), Some(self.provider));
    }

    /// Tolerance and clock are configuration (timestamped schemes); a second secret, in the header
    /// or in the builder, is accepted (rotation).
    pub fn tolerance_clock_and_rotation(&self) {
        let (body, now) = (self.event.as_bytes(), self.now);
        if self.timestamped {
            let minute_old = self.signed(self.secret, now - 60, body);
            let strict = (self.builder)(self.secret).tolerance(Duration::from_secs(30));
            let strict = strict.clock(Clock::fixed_unix(now)).build().expect("verifier");
            assert!(
                strict
                    .verify_and_parse(&minute_old, body)
                    .unwrap_err()
                    .is_outside_tolerance()
            );
            let later = (self.builder)(self.secret).clock(Clock::fixed_unix(now - 60)).build();
            later
                .expect("verifier")
                .verify_and_parse(&minute_old, body)
                .expect("in its tolerance");
        }
        let old = (self.sign)(self.secret, now, body);
        let new = (self.sign)(self.other_secret, now, body);
        let both = match old.split_once(",v1=") {
            Some((t, old_sig)) => format!("{t},v1={},v1={old_sig}", signature_part(&new)),
            None => format!("{new},{old}"),
        };
        self.verifier()
            .verify_and_parse(&self.headers(&both), body)
            .expect("either signature");
        let only_new = self.headers(&new);
        assert!(
            self.verifier()
                .verify_and_parse(&only_new, body)
                .unwrap_err()
                .is_signature_mismatch()
        );
        let rotated = (self.builder)(self.secret)
            .secret(self.other_secret)
            .clock(Clock::fixed_unix(now));
        rotated
            .build()
            .expect("verifier")
            .verify_and_parse(&only_new, body)
            .expect("rotated");
    }

    /// No Debug, Display or error text shows the secret or a signature.
    pub fn the_secret_appears_in_no_debug_display_or_error(&self) {
        let secret = self.unprintable_secret;
        assert!(secret.contains("do_not_print_me"));
        let builder = (self.builder)(secret).clock(Clock::fixed_unix(self.now));
        let mut texts = vec![
            format!("{builder:?}"),
            format!("{:?}", builder.scheme().expect("scheme")),
        ];
        let verifier = builder.build().expect("verifier");
        texts.push(format!("{verifier:?}"));
        let body = self.event.as_bytes();
        let sig = (self.sign)(secret, self.now, body);
        for (value, b) in [
            (sig.clone(), &b"{}"[..]),
            ((self.sign)(secret, 0, b"x"), body),
            ("t=1".into(), body),
        ] {
            let e = verifier.verify_and_parse(&self.headers(&value), b).unwrap_err();
            texts.push(format!("{e} {e:?}"));
        }
        for text in texts {
            assert!(!text.contains("do_not_print_me"), "{text}");
            assert!(!text.contains(signature_part(&sig)), "{text}");
        }
    }

    /// The provider's rule takes `accepted_secrets`; each of `refused_secrets`, as the first secret or
    /// a rotated one, is a configuration error whose text holds no 12 characters of it.
    pub fn the_secret_rule_refuses_as_configuration(&self) {
        for secret in self.accepted_secrets {
            (self.builder)(secret)
                .build()
                .unwrap_or_else(|e| panic!("{secret:?}: {e}"));
        }
        for secret in self.refused_secrets {
            let e = (self.builder)(secret).build().expect_err(secret);
            assert_eq!(e.kind(), &ErrorKind::Configuration, "{secret:?}: {e}");
            let text = format!("{e} {e:?}");
            let window = secret.len().min(12);
            let shown = secret.len() >= 8 && (0..=secret.len() - window).any(|i| text.contains(&secret[i..i + window]));
            assert!(!shown, "{secret:?} shown: {text}");
            let rotated = (self.builder)(self.secret).secret(*secret).build();
            assert!(rotated.is_err(), "{secret:?} taken as a rotated secret");
        }
    }

    /// A verifier given the provider's client reads the documented refund as the standalone reader
    /// does, plus the mode the client's key says.
    pub fn reads_like_the_standalone_reader<P: HttpProvider>(&self, client: &Client<P>, livemode: bool) {
        let via_client = self.documented_with(|builder| builder.client(client));
        let mut standalone = self.documented_event().refund.expect("a refund");
        assert_eq!(standalone.livemode, None, "no mode without a client");
        standalone.livemode = Some(livemode);
        assert_eq!(via_client.refund, Some(standalone));
    }

    /// Random headers never verify; correctly signed random bodies are events or typed refusals.
    pub fn random_headers_and_bodies_never_panic(&self) {
        let headers = prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..200),
            "(sha256=)?[0-9a-fA-Fz]{0,70}(,[0-9a-f+/=]{0,64})?".prop_map(String::into_bytes),
            "t=[0-9]{0,14},v1=[0-9a-fA-Fz]{0,70}(,v1=[0-9a-f]{0,64})?".prop_map(String::into_bytes),
            proptest::collection::vec(any::<u8>(), MAX_SIGNATURE_HEADER - 2..MAX_SIGNATURE_HEADER + 2),
        ];
        let bodies = prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..300),
            "[{}\\[\\]\":,a-z0-9 .eE+_-]{0,200}".prop_map(String::into_bytes),
            Just(self.event.as_bytes().to_vec()),
        ];
        let verifier = self.verifier();
        let mut runner = TestRunner::new(Config {
            cases: 300,
            ..Config::default()
        });
        let strategy = (headers, bodies, 0i64..600);
        let outcome = runner.run(&strategy, |(header, body, age)| {
            if let Ok(value) = HeaderValue::from_bytes(&header) {
                let mut h = HeaderMap::new();
                h.insert(HeaderName::from_bytes(self.header.as_bytes()).expect("name"), value);
                prop_assert!(verifier.verify_and_parse(&h, &body).is_err());
            }
            let fresh = !self.timestamped || age <= 300;
            match verifier.verify_and_parse(&self.signed(self.secret, self.now - age, &body), &body) {
                Ok(event) => prop_assert!(fresh && !event.id.is_empty()),
                Err(e) => prop_assert!((!fresh && e.is_outside_tolerance()) || (fresh && e.is_unparseable_body())),
            }
            Ok(())
        });
        outcome.unwrap_or_else(|e| panic!("{e}"));
    }
}
