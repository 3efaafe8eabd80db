//! The webhook checks every HMAC-signing provider runs: typed failures, tolerance and rotation, no
//! secret in any text, random input, and the sandbox-to-receiver round trip with a retry after a 500.
//!
//! A provider describes its scheme once ([`WebhookCase`]) with its own, independent signing recipe
//! (`hmac` + `sha2` in its test file, never the SDK's signer) and invokes
//! [`webhook_tests!`](crate::webhook_tests); its documented events and its sandbox's event names stay
//! in its own tests.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use refunds::adapter::signature::SignatureScheme;
use refunds::adapter::{Client, HttpProvider};
use refunds::sandbox::{Sandbox, WebhookSender};
use refunds::webhook::{Clock, FromHmacSettings, HmacBuilder, MAX_SIGNATURE_HEADER, SignedWebhooks, WebhookErrorKind};
use refunds::{
    CreateRefund, Currency, EventKind, Money, PaymentRef, RefundProvider, RefundStatus, WebhookError, WebhookEvent,
    WebhookVerifier,
};

/// One `#[test]` per shared scheme check, for the [`WebhookCase`] expression given.
#[macro_export]
macro_rules! webhook_tests {
    ($case:expr) => {
        $crate::webhook_tests!(@tests $case; each_failure_has_its_own_typed_result, tolerance_clock_and_rotation,
            the_secret_appears_in_no_debug_display_or_error, random_headers_and_bodies_never_panic);
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
    /// characters); set `unknown` and `broken` (and `timestamped: false` for a raw-body scheme).
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

/// The part of a header value after `v1=` (the signature of a timestamped header), or all of it.
fn signature_part(value: &str) -> &str {
    value.split_once("v1=").map_or(value, |(_, sig)| sig)
}

impl<S: FromHmacSettings + SignatureScheme> WebhookCase<S> {
    /// `value` under the provider's header.
    pub fn headers(&self, value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let name = HeaderName::from_bytes(self.header.as_bytes()).expect("header name");
        headers.insert(name, HeaderValue::from_str(value).expect("header value"));
        headers
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

/// One request a [`Receiver`] got.
#[derive(Debug)]
pub struct Received {
    /// Its headers.
    pub headers: HeaderMap,
    /// Its body.
    pub body: Vec<u8>,
    /// What the receiver answered.
    pub status: u16,
}

/// A webhook endpoint on 127.0.0.1 (a plain std thread, independent of the SDK): answers the first
/// `failures` requests with 500, the rest with 200, and keeps every request.
pub struct Receiver {
    /// The endpoint's URL.
    pub url: String,
    log: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    /// Starts a receiver that fails the first `failures` requests.
    pub fn start(failures: usize) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let url = format!("http://{}/webhooks", listener.local_addr().expect("addr"));
        let log: Arc<Mutex<Vec<Received>>> = Arc::default();
        let seen = log.clone();
        std::thread::spawn(move || {
            for (n, stream) in listener.incoming().enumerate() {
                let Ok(mut stream) = stream else { return };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let Some((headers, body)) = read_request(&mut stream) else {
                    continue;
                };
                let status = if n < failures { 500 } else { 200 };
                seen.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(Received { headers, body, status });
                let answer = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                let _ = stream.write_all(answer.as_bytes());
            }
        });
        Receiver { url, log }
    }

    /// Every request so far, taken out of the log.
    pub fn take(&self) -> Vec<Received> {
        std::mem::take(&mut *self.log.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

fn read_request(stream: &mut TcpStream) -> Option<(HeaderMap, Vec<u8>)> {
    let (mut buf, mut chunk) = (Vec::new(), [0u8; 4096]);
    let head_end = loop {
        let n = stream.read(&mut chunk).ok().filter(|n| *n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut headers = HeaderMap::new();
    for (name, value) in head.lines().skip(1).filter_map(|line| line.split_once(':')) {
        if let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(name.trim().as_bytes()),
            HeaderValue::from_str(value.trim()),
        ) {
            headers.append(k, v);
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).ok().filter(|n| *n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
    }
    Some((headers, buf[head_end..head_end + length].to_vec()))
}

/// The round trip every webhook sandbox runs: `payment` seeded in `currency`; a receiver that fails
/// once; `enable` (the provider's `sandbox::enable_webhooks_with` over a sender retrying 3 times);
/// a refund created and settled, another created and failed. Every delivery is checked (one 500
/// then four 200s, the retry the same bytes, JSON) and verified with `verifier`; each event that
/// carries a refund carries it as `get_refund` answers it, in the expected state; none is live; the
/// event types are `types`. Returns the events and the deliveries (the failed one first). Returns the four
pub async fn sandbox_round_trip<P: HttpProvider>(
    sandbox: &Sandbox,
    client: &Client<P>,
    enable: impl FnOnce(WebhookSender) -> WebhookSender,
    verifier: &impl WebhookVerifier,
    payment: PaymentRef,
    currency: Currency,
    types: [&str; 4],
) -> RoundTrip {
    sandbox
        .ledger()
        .seed_payment(payment.id(), Money::from_minor(10_000, currency));
    let receiver = Receiver::start(1);
    let sender = enable(WebhookSender::with_retries(3, Duration::from_millis(10)).expect("sender"));
    sender.register(&receiver.url).expect("a loopback url");
    let create = |minor| CreateRefund::new(payment.clone()).amount(Money::from_minor(minor, currency));
    let created = client.create_refund(&create(1_500)).await.expect("create");
    sender.wait_idle().await;
    assert_eq!(sandbox.ledger().settle_all(), 1);
    sender.wait_idle().await;
    let failing = client.create_refund(&create(500)).await.expect("create");
    sender.wait_idle().await;
    assert!(sandbox.ledger().set_status(failing.id.as_str(), RefundStatus::Failed));
    sender.wait_idle().await;

    let records = sender.deliveries();
    assert_eq!(records.len(), 4, "{records:?}");
    assert!(records.iter().all(|r| r.delivered));
    assert_eq!(
        (records[0].attempts, sender.stats().failed),
        (2, 0),
        "one 500, then a 200"
    );
    let log = receiver.take();
    assert_eq!(
        log.iter().map(|r| r.status).collect::<Vec<_>>(),
        [500, 200, 200, 200, 200]
    );
    assert_eq!(log[0].body, log[1].body, "a retry re-sends the same event");
    assert!(log.iter().all(|r| r.headers["content-type"] == "application/json"));
    let events: Vec<WebhookEvent> = log[1..]
        .iter()
        .map(|r| verifier.verify_and_parse(&r.headers, &r.body).expect("verifies"))
        .collect();
    let expected = [
        (&created.id, RefundStatus::Pending),
        (&created.id, RefundStatus::Succeeded),
        (&failing.id, RefundStatus::Pending),
        (&failing.id, RefundStatus::Failed),
    ];
    for (event, (id, status)) in events.iter().zip(expected) {
        assert_ne!(event.livemode, Some(true), "a test-mode event: {event:?}");
        if let Some(refund) = &event.refund {
            assert_eq!((&refund.id, &refund.status), (id, &status));
        }
    }
    let fetched = client.get_refund(&failing.id).await.expect("get");
    assert_eq!(events[3].refund.as_ref().map(|r| &r.raw), Some(&fetched.raw));
    assert_eq!(events.iter().map(|e| e.event_type.as_str()).collect::<Vec<_>>(), types);
    RoundTrip {
        events,
        deliveries: log,
    }
}

/// What [`sandbox_round_trip`] saw.
#[derive(Debug)]
pub struct RoundTrip {
    /// The four events, verified, in order.
    pub events: Vec<WebhookEvent>,
    /// The five deliveries (a 500, then four 200s).
    pub deliveries: Vec<Received>,
}
