//! WooshPay webhooks (providers-2.md §2): `Wooshpay-Signature: t=<ts>,v1=<hex>`, hex HMAC-SHA256 over
//! `t` + "." + the raw body; Stripe-style envelope; refund event `charge.refund.updated`.
//!
//! Every signature a test accepts is computed here with `hmac` + `sha2` and the documented recipe,
//! never with the SDK's signer. Then the sandbox-to-receiver round trip, with a retry after a 500.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderName, HeaderValue};
use proptest::prelude::*;
use refunds::sandbox::WebhookSender;
use refunds::webhook::{Clock, MAX_SIGNATURE_HEADER, WebhookErrorKind};
use refunds::{
    CreateRefund, Currency, EventKind, Money, PaymentRef, RefundProvider, RefundStatus, WebhookError, WebhookEvent,
    WebhookVerifier,
};
use refunds_wooshpay::sandbox;
use refunds_wooshpay::webhooks::{self, EVENTS, SIGNATURE_HEADER, WooshPayWebhooks};
use sha2::Sha256;

const NOW: i64 = 1_704_067_200; // 2024-01-01T00:00:00Z
const SECRET: &str = "whsec_test_5WbX5kEWLlfzsGNjH64I8lOOqUB6e8FH";

/// The documented envelope (doc-2653815), pretty-printed with odd spacing on purpose: the signature
/// covers these bytes, never a re-serialization.
const EVENT: &str = r#"{
  "id": "evt_3OaBcD2eZvKYlo2C1x2y3z4w",
  "object": "event",
  "api_version": "2022-11-15",
  "created": 1704067195,
  "data": {
    "object": {"id": "re_3OaBcD2eZvKYlo2C0a1b2c3d", "object": "refund", "amount": 1999,
               "currency": "eur", "payment_intent": "pi_1787730829493927936", "status": "succeeded",
               "created": 1704067100, "metadata": {}, "reason": "requested_by_customer"}
  },
  "livemode": false,
  "pending_webhooks": 1,
  "type": "charge.refund.updated"
}"#;

// ---------------------------------------------------------------------------------------------
// The documented recipe, computed independently.

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `t=<t>,v1=<hex of HMAC-SHA256(secret, t + "." + body)>`.
fn sign(secret: &str, t: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("t={t},v1={}", hex(&mac.finalize().into_bytes()))
}

fn headers(value: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        HeaderName::from_static("wooshpay-signature"),
        HeaderValue::from_str(value).expect("header value"),
    );
    h
}

fn fixed() -> WooshPayWebhooks {
    webhooks::builder(SECRET)
        .clock(Clock::fixed_unix(NOW))
        .build()
        .expect("verifier")
}

fn kind(result: Result<WebhookEvent, WebhookError>) -> WebhookErrorKind {
    match result {
        Ok(event) => panic!("accepted: {event:?}"),
        Err(e) => e.kind(),
    }
}

// ---------------------------------------------------------------------------------------------

#[test]
fn the_documented_event_signed_with_the_documented_recipe_verifies() {
    let body = EVENT.as_bytes();
    let event = fixed()
        .verify_and_parse(&headers(&sign(SECRET, NOW - 5, body)), body)
        .unwrap();
    assert_eq!(event.provider, "wooshpay");
    assert_eq!(event.id, "evt_3OaBcD2eZvKYlo2C1x2y3z4w");
    assert_eq!(event.kind, EventKind::Updated);
    assert_eq!(event.event_type, "charge.refund.updated");
    assert_eq!(event.created_at.unwrap().unix_timestamp(), 1_704_067_195);
    assert_eq!(event.livemode, Some(false));
    assert_eq!(event.raw.get(), EVENT);
    let refund = event.refund.expect("a refund event carries a refund");
    assert_eq!(refund.id.as_str(), "re_3OaBcD2eZvKYlo2C0a1b2c3d");
    assert_eq!(refund.amount, Money::from_minor(1999, Currency::EUR));
    assert_eq!(refund.status, RefundStatus::Succeeded);
    assert_eq!(
        refund.payment,
        PaymentRef::payment_intent("pi_1787730829493927936").unwrap()
    );
    assert_eq!(event.payment, Some(refund.payment.clone()));
    assert!(
        EVENT.contains(refund.raw.get()),
        "the refund's raw json is the body's own bytes"
    );
    assert_eq!(EVENTS.kind("charge.refund.updated"), EventKind::Updated);
    assert_eq!(SIGNATURE_HEADER, "Wooshpay-Signature");
    // The default verifier (system clock) accepts a signature made now.
    let now = refunds::OffsetDateTime::now_utc().unix_timestamp();
    webhooks::verifier(SECRET)
        .unwrap()
        .verify_and_parse(&headers(&sign(SECRET, now, body)), body)
        .unwrap();
}

#[test]
fn each_failure_has_its_own_typed_result() {
    let verifier = fixed();
    let body = EVENT.as_bytes();
    let good = sign(SECRET, NOW, body);
    let check = |value: &str, b: &[u8]| kind(verifier.verify_and_parse(&headers(value), b));
    // A changed byte.
    for i in [0, body.len() / 2, body.len() - 1] {
        let mut changed = body.to_vec();
        changed[i] ^= 0x01;
        assert_eq!(
            check(&good, &changed),
            WebhookErrorKind::NoMatchingSignature,
            "byte {i}"
        );
    }
    // A wrong secret.
    assert_eq!(
        check(&sign("whsec_someone_else", NOW, body), body),
        WebhookErrorKind::NoMatchingSignature
    );
    // An old (or future) timestamp, correctly signed: outside the default 300 s.
    for t in [NOW - 301, NOW + 301, 0] {
        assert_eq!(
            check(&sign(SECRET, t, body), body),
            WebhookErrorKind::TimestampOutsideTolerance
        );
    }
    verifier
        .verify_and_parse(&headers(&sign(SECRET, NOW - 300, body)), body)
        .unwrap();
    // A missing t.
    let sig = good.split_once(",v1=").unwrap().1;
    assert_eq!(check(&format!("v1={sig}"), body), WebhookErrorKind::MalformedHeader);
    // Malformed headers.
    for bad in [
        "",
        "garbage",
        &format!("t={NOW}"),
        &format!("t={NOW},v1={}", &sig[1..]),
        &format!("t=x,v1={sig}"),
    ] {
        assert_eq!(check(bad, body), WebhookErrorKind::MalformedHeader, "{bad:?}");
    }
    // An oversized header, refused unread.
    let oversized = format!("{good},v0={}", "0".repeat(MAX_SIGNATURE_HEADER));
    assert_eq!(check(&oversized, body), WebhookErrorKind::HeaderTooLarge);
    // No header at all.
    assert_eq!(
        kind(verifier.verify_and_parse(&HeaderMap::new(), body)),
        WebhookErrorKind::MissingHeader
    );
    // An unknown event type: authentic, kept raw, not an error.
    let payout =
        br#"{"id":"evt_2","object":"event","type":"payout.paid","created":1704067200,"data":{"object":{"id":"po_1"}}}"#;
    let event = verifier
        .verify_and_parse(&headers(&sign(SECRET, NOW, payout)), payout)
        .unwrap();
    assert_eq!(event.kind, EventKind::Unknown("payout.paid".into()));
    assert!(event.refund.is_none() && event.payment.is_none());
    assert_eq!(event.raw.get().as_bytes(), payout);
    // Authentic but unreadable: a refund event whose refund lacks fields.
    let broken =
        br#"{"id":"evt_3","type":"charge.refund.updated","created":1704067200,"data":{"object":{"id":"re_1"}}}"#;
    let e = verifier
        .verify_and_parse(&headers(&sign(SECRET, NOW, broken)), broken)
        .unwrap_err();
    assert!(e.is_unparseable_body() && !e.is_unauthenticated(), "{e}");
    assert_eq!(e.provider(), Some("wooshpay"));
}

#[test]
fn tolerance_clock_and_rotation_are_configuration() {
    let body = EVENT.as_bytes();
    let minute_old = headers(&sign(SECRET, NOW - 60, body));
    let strict = webhooks::builder(SECRET)
        .tolerance(Duration::from_secs(30))
        .clock(Clock::fixed_unix(NOW))
        .build()
        .unwrap();
    assert!(
        strict
            .verify_and_parse(&minute_old, body)
            .unwrap_err()
            .is_outside_tolerance()
    );
    let later = webhooks::builder(SECRET)
        .clock(Clock::fixed_unix(NOW - 60))
        .build()
        .unwrap();
    later.verify_and_parse(&minute_old, body).unwrap();
    // Rotation: the provider sends two v1 values, or the application holds two secrets.
    let next = "whsec_next_secret_after_rotation";
    let old_sig = sign(SECRET, NOW, body).split_once(",v1=").unwrap().1.to_owned();
    let new_sig = sign(next, NOW, body).split_once(",v1=").unwrap().1.to_owned();
    fixed()
        .verify_and_parse(&headers(&format!("t={NOW},v1={new_sig},v1={old_sig}")), body)
        .unwrap();
    let only_new = headers(&format!("t={NOW},v1={new_sig}"));
    assert!(
        fixed()
            .verify_and_parse(&only_new, body)
            .unwrap_err()
            .is_signature_mismatch()
    );
    let both = webhooks::builder(SECRET)
        .secret(next)
        .clock(Clock::fixed_unix(NOW))
        .build()
        .unwrap();
    both.verify_and_parse(&only_new, body).unwrap();
    // WooshPay's guide shows a secret without `whsec_`: any non-empty secret is accepted; empty is not.
    assert!(webhooks::verifier("c2tfdGVzdF9leGFtcGxl").is_ok());
    assert!(webhooks::verifier("").is_err());
}

#[test]
fn refunds_read_through_a_client_carry_its_mode() {
    let client = refunds_wooshpay::WooshPayClient::builder()
        .api_key("sk_test_example_key")
        .build()
        .unwrap();
    let verifier = webhooks::builder(SECRET)
        .clock(Clock::fixed_unix(NOW))
        .client(&client)
        .build()
        .unwrap();
    let body = EVENT.as_bytes();
    let event = verifier
        .verify_and_parse(&headers(&sign(SECRET, NOW, body)), body)
        .unwrap();
    assert_eq!(event.refund.unwrap().livemode, Some(false));
}

#[test]
fn the_secret_appears_in_no_debug_display_or_error() {
    let secret = "whsec_do_not_print_me_0123456789";
    let verifier = webhooks::builder(secret).clock(Clock::fixed_unix(NOW)).build().unwrap();
    let body = EVENT.as_bytes();
    let sig = sign(secret, NOW, body);
    let mut texts = vec![format!("{verifier:?}"), format!("{:?}", webhooks::builder(secret))];
    for (value, b) in [
        (sig.clone(), &b"{}"[..]),
        (sign(secret, 0, body), body),
        ("t=1".to_owned(), body),
    ] {
        let e = verifier.verify_and_parse(&headers(&value), b).unwrap_err();
        texts.push(format!("{e} {e:?}"));
    }
    for text in texts {
        assert!(!text.contains("do_not_print_me"), "{text}");
        assert!(!text.contains(sig.split_once("v1=").unwrap().1), "{text}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_headers_and_bodies_never_panic(
        header in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..200),
            "t=[0-9]{0,14},v1=[0-9a-fA-Fz]{0,70}(,v1=[0-9a-f]{0,64})?".prop_map(String::into_bytes),
            proptest::collection::vec(any::<u8>(), MAX_SIGNATURE_HEADER - 2..MAX_SIGNATURE_HEADER + 2),
        ],
        body in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..300),
            "[{}\\[\\]\":,a-z0-9 .eE+-]{0,200}".prop_map(String::into_bytes),
            Just(EVENT.as_bytes().to_vec()),
        ],
        age in 0i64..600,
    ) {
        let verifier = fixed();
        if let Ok(value) = HeaderValue::from_bytes(&header) {
            let mut h = HeaderMap::new();
            h.insert(HeaderName::from_static("wooshpay-signature"), value);
            prop_assert!(verifier.verify_and_parse(&h, &body).is_err());
        }
        // Correctly signed random bodies: accepted, or a typed refusal.
        match verifier.verify_and_parse(&headers(&sign(SECRET, NOW - age, &body)), &body) {
            Ok(event) => prop_assert!(age <= 300 && !event.id.is_empty()),
            Err(e) => prop_assert!((age > 300 && e.is_outside_tolerance()) || (age <= 300 && e.is_unparseable_body()), "{e}"),
        }
    }
}
// ---------------------------------------------------------------------------------------------
// A receiver on 127.0.0.1 (a plain std thread, independent of the SDK): answers the first
// `failures` requests with 500, the rest with 200, and keeps every request's headers and body.

struct Received {
    headers: HeaderMap,
    body: Vec<u8>,
    status: u16,
}

type Log = Arc<Mutex<Vec<Received>>>;

fn receiver(failures: usize) -> (String, Log) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let url = format!("http://{}/webhooks", listener.local_addr().expect("addr"));
    let log: Log = Arc::default();
    let seen = log.clone();
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { return };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let Some((headers, body)) = read_request(&mut stream) else {
                continue;
            };
            let status = if n < failures { 500 } else { 200 };
            seen.lock().unwrap().push(Received { headers, body, status });
            let reason = if status == 200 { "OK" } else { "Internal Server Error" };
            let answer = format!("HTTP/1.1 {status} {reason}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    (url, log)
}

fn read_request(stream: &mut std::net::TcpStream) -> Option<(HeaderMap, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut headers = HeaderMap::new();
    for line in head.lines().skip(1) {
        let Some((k, v)) = line.split_once(':') else { continue };
        if let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(k.trim().as_bytes()),
            HeaderValue::from_str(v.trim()),
        ) {
            headers.append(k, v);
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some((headers, buf[head_end..head_end + length].to_vec()))
}

// ---------------------------------------------------------------------------------------------
// The sandbox sends signed events to a registered receiver, retrying a 500.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_sends_signed_refund_events_and_retries_after_a_500() {
    let sandbox = sandbox::start().await.expect("bind 127.0.0.1");
    sandbox
        .ledger()
        .seed_payment("pi_webhooks_1", Money::from_minor(5_000, Currency::USD));
    let (url, log) = receiver(1);
    let sender = WebhookSender::with_retries(3, Duration::from_millis(10)).unwrap();
    let sender = sandbox::enable_webhooks_with(&sandbox, webhooks::scheme(SECRET).unwrap(), sender);
    sender.register(&url).unwrap();
    let client = sandbox::builder_for(&sandbox).build().unwrap();
    let payment = PaymentRef::payment_intent("pi_webhooks_1").unwrap();

    // Created (the first delivery gets a 500, its retry a 200), then settled.
    let created = client
        .create_refund(&CreateRefund::new(payment.clone()).amount(Money::from_minor(1_500, Currency::USD)))
        .await
        .unwrap();
    sender.wait_idle().await;
    assert_eq!(sandbox.ledger().settle_all(), 1);
    sender.wait_idle().await;
    // Another refund, failed.
    let failing = client
        .create_refund(&CreateRefund::new(payment).amount(Money::from_minor(500, Currency::USD)))
        .await
        .unwrap();
    sender.wait_idle().await;
    assert!(sandbox.ledger().set_status(failing.id.as_str(), RefundStatus::Failed));
    sender.wait_idle().await;

    let records = sender.deliveries();
    assert_eq!(records.len(), 4, "{records:?}");
    assert!(records.iter().all(|r| r.delivered));
    assert_eq!(records[0].attempts, 2, "one 500, then a 200");
    assert_eq!(sender.stats().failed, 0);

    // The receiver verifies every request with the application's verifier (system clock).
    let verifier = webhooks::verifier(SECRET).unwrap();
    let log = std::mem::take(&mut *log.lock().unwrap());
    let statuses: Vec<u16> = log.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [500, 200, 200, 200, 200]);
    assert_eq!(log[0].body, log[1].body, "a retry re-sends the same event");
    let events: Vec<WebhookEvent> = log[1..]
        .iter()
        .map(|r| verifier.verify_and_parse(&r.headers, &r.body).expect("verifies"))
        .collect();
    let seen: Vec<(&str, RefundStatus)> = events
        .iter()
        .map(|e| {
            assert_eq!(e.kind, EventKind::Updated);
            assert_eq!(e.event_type, "charge.refund.updated");
            let refund = e.refund.as_ref().expect("carries the refund");
            (refund.id.as_str(), refund.status.clone())
        })
        .collect();
    assert_eq!(
        seen,
        [
            (created.id.as_str(), RefundStatus::Pending),
            (created.id.as_str(), RefundStatus::Succeeded),
            (failing.id.as_str(), RefundStatus::Pending),
            (failing.id.as_str(), RefundStatus::Failed),
        ]
    );
    assert!(
        events
            .iter()
            .all(|e| e.id.starts_with("evt_") && e.livemode == Some(false))
    );
    // The event carries the refund exactly as `get_refund` answers it.
    let fetched = client.get_refund(&created.id).await.unwrap();
    assert_eq!(events[1].refund.as_ref().unwrap().raw, fetched.raw);
    assert!(
        log.iter()
            .all(|r| r.headers.get("content-type").unwrap() == "application/json")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enable_webhooks_uses_the_documented_scheme() {
    let sandbox = sandbox::start().await.expect("bind 127.0.0.1");
    sandbox
        .ledger()
        .seed_payment("pi_webhooks_2", Money::from_minor(900, Currency::USD));
    let (url, log) = receiver(0);
    let sender = sandbox::enable_webhooks(&sandbox, SECRET).unwrap();
    sender.register(&url).unwrap();
    let client = sandbox::builder_for(&sandbox).build().unwrap();
    client
        .create_refund(&CreateRefund::new(PaymentRef::payment_intent("pi_webhooks_2").unwrap()))
        .await
        .unwrap();
    sender.wait_idle().await;
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 1);
    // The header is the documented recipe: recompute it independently from its own `t`.
    let value = log[0].headers.get("wooshpay-signature").unwrap().to_str().unwrap();
    let t: i64 = value
        .strip_prefix("t=")
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(value, sign(SECRET, t, &log[0].body));
    // Not a registered URL elsewhere: only loopback endpoints.
    assert!(sender.register("http://example.com/hook").is_err());
}
