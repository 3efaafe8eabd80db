//! xpay webhooks (providers-2.md §2): `XPay-Signature: t=<unix s>,v1=<hex>`, hex HMAC-SHA256 over
//! `${t}.${rawBody}`, 300 s; ISO 8601 `created`, `evt_test_`/`evt_live_` ids; `refund.created` carries
//! a refund, `charge.refunded` a charge (a payment reference and no refund).
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
use refunds_xpay::sandbox;
use refunds_xpay::webhooks::{self, EVENTS, SIGNATURE_HEADER, XPayWebhooks};
use sha2::Sha256;

const NOW: i64 = 1_704_067_200; // 2024-01-01T00:00:00Z
const SECRET: &str = "whsec_test_5WbX5kEWLlfzsGNjH64I8lOOqUB6e8FH";

/// The documented envelope (event-reference) with the documented refund object (integrate/refunds).
const EVENT: &str = r#"{"id":"evt_test_8f2k","object":"event","api_version":"3.1.0","created":"2024-01-01T00:00:00.000Z","type":"refund.created","livemode":false,"data":{"object":{"id":"re_abc123","chargeId":"ch_xyz789","amount":"50000","currency":"EGP","status":"succeeded","reason":"requested_by_customer","createdAt":"2024-01-01T00:00:00Z"}}}"#;

/// `charge.refunded` carries a charge.
const CHARGE_EVENT: &str = r#"{"id":"evt_live_9a1b","object":"event","api_version":"3.1.0","created":"2024-01-01T00:00:00Z","type":"charge.refunded","livemode":true,"data":{"object":{"id":"ch_xyz789","object":"charge","amount":80000,"amount_refunded":80000,"currency":"EGP","status":"refunded"}}}"#;

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
        HeaderName::from_static("xpay-signature"),
        HeaderValue::from_str(value).expect("header value"),
    );
    h
}

fn fixed() -> XPayWebhooks {
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
fn the_documented_events_signed_with_the_documented_recipe_verify() {
    let body = EVENT.as_bytes();
    let event = fixed()
        .verify_and_parse(&headers(&sign(SECRET, NOW - 5, body)), body)
        .unwrap();
    assert_eq!(event.provider, "xpay");
    assert_eq!(event.id, "evt_test_8f2k");
    assert_eq!(event.kind, EventKind::Created);
    assert_eq!(event.created_at.unwrap().unix_timestamp(), NOW);
    assert_eq!(event.livemode, Some(false));
    assert_eq!(event.raw.get(), EVENT);
    let refund = event.refund.expect("refund.created carries a refund");
    assert_eq!(refund.id.as_str(), "re_abc123");
    assert_eq!(refund.amount, Money::from_minor(50_000, Currency::EGP));
    assert_eq!(refund.status, RefundStatus::Succeeded);
    assert_eq!(refund.payment, PaymentRef::charge("ch_xyz789").unwrap());
    assert_eq!(event.payment, Some(refund.payment.clone()));
    assert!(
        EVENT.contains(refund.raw.get()),
        "the refund's raw json is the body's own bytes"
    );

    // charge.refunded: a payment reference and no refund, not a decode error.
    let body = CHARGE_EVENT.as_bytes();
    let event = fixed()
        .verify_and_parse(&headers(&sign(SECRET, NOW, body)), body)
        .unwrap();
    assert_eq!(event.kind, EventKind::Succeeded);
    assert_eq!(event.event_type, "charge.refunded");
    assert!(event.refund.is_none());
    assert_eq!(event.payment, Some(PaymentRef::charge("ch_xyz789").unwrap()));
    assert_eq!(event.livemode, Some(true));
    assert_eq!(EVENTS.kind("refund.created"), EventKind::Created);
    assert_eq!(SIGNATURE_HEADER, "XPay-Signature");
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
    let payout = br#"{"id":"evt_test_2","object":"event","type":"payout.paid","created":"2024-01-01T00:00:00Z","data":{"object":{"id":"po_1"}}}"#;
    let event = verifier
        .verify_and_parse(&headers(&sign(SECRET, NOW, payout)), payout)
        .unwrap();
    assert_eq!(event.kind, EventKind::Unknown("payout.paid".into()));
    assert!(event.refund.is_none() && event.payment.is_none());
    assert_eq!(event.raw.get().as_bytes(), payout);
    // Authentic but unreadable: a refund event whose refund lacks fields.
    let broken = br#"{"id":"evt_test_3","type":"refund.created","created":"2024-01-01T00:00:00Z","data":{"object":{"id":"re_1"}}}"#;
    let e = verifier
        .verify_and_parse(&headers(&sign(SECRET, NOW, broken)), broken)
        .unwrap_err();
    assert!(e.is_unparseable_body() && !e.is_unauthenticated(), "{e}");
    assert_eq!(e.provider(), Some("xpay"));
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
    // XPay's endpoint secrets are `whsec_...`: another secret is a configuration error, unprinted.
    let e = webhooks::verifier("sk_test_not_a_webhook_secret").unwrap_err();
    assert_eq!(e.kind(), &refunds::ErrorKind::Configuration);
    assert!(!format!("{e} {e:?}").contains("not_a_webhook_secret"));
    assert!(webhooks::builder(SECRET).secret("nope").build().is_err());
}

#[test]
fn refunds_read_through_a_client_match_the_standalone_reader() {
    let client = refunds_xpay::XPayClient::builder()
        .api_key("sk_test_example_key")
        .build()
        .unwrap();
    let verifier = webhooks::builder(SECRET)
        .clock(Clock::fixed_unix(NOW))
        .client(&client)
        .build()
        .unwrap();
    let body = EVENT.as_bytes();
    let h = headers(&sign(SECRET, NOW, body));
    let via_client = verifier.verify_and_parse(&h, body).unwrap();
    assert_eq!(via_client.refund, fixed().verify_and_parse(&h, body).unwrap().refund);
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
            Just(CHARGE_EVENT.as_bytes().to_vec()),
        ],
        age in 0i64..600,
    ) {
        let verifier = fixed();
        if let Ok(value) = HeaderValue::from_bytes(&header) {
            let mut h = HeaderMap::new();
            h.insert(HeaderName::from_static("xpay-signature"), value);
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
        .seed_payment("ch_webhooks_1", Money::from_minor(5_000, Currency::EGP));
    let (url, log) = receiver(1);
    let sender = WebhookSender::with_retries(3, Duration::from_millis(10)).unwrap();
    let sender = sandbox::enable_webhooks_with(&sandbox, webhooks::scheme(SECRET).unwrap(), sender);
    sender.register(&url).unwrap();
    let client = sandbox::builder_for(&sandbox).build().unwrap();
    let payment = PaymentRef::charge("ch_webhooks_1").unwrap();

    // Created (the first delivery gets a 500, its retry a 200), then settled.
    let created = client
        .create_refund(&CreateRefund::new(payment.clone()).amount(Money::from_minor(1_500, Currency::EGP)))
        .await
        .unwrap();
    sender.wait_idle().await;
    assert_eq!(sandbox.ledger().settle_all(), 1);
    sender.wait_idle().await;
    // Another refund, failed.
    let failing = client
        .create_refund(&CreateRefund::new(payment).amount(Money::from_minor(500, Currency::EGP)))
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
    let kinds: Vec<(&str, EventKind)> = events.iter().map(|e| (e.event_type.as_str(), e.kind.clone())).collect();
    assert_eq!(
        kinds,
        [
            ("refund.created", EventKind::Created),
            ("charge.refunded", EventKind::Succeeded),
            ("refund.created", EventKind::Created),
            ("refund.failed", EventKind::Failed),
        ]
    );
    let refund = |i: usize| events[i].refund.as_ref().expect("carries a refund");
    assert_eq!(
        (&refund(0).id, &refund(0).status),
        (&created.id, &RefundStatus::Pending)
    );
    assert!(events[1].refund.is_none(), "charge.refunded carries a charge");
    assert_eq!(events[1].payment, Some(PaymentRef::charge("ch_webhooks_1").unwrap()));
    assert_eq!((&refund(3).id, &refund(3).status), (&failing.id, &RefundStatus::Failed));
    assert!(
        events
            .iter()
            .all(|e| e.id.starts_with("evt_test_") && e.livemode == Some(false))
    );
    // The event carries the refund exactly as `get_refund` answers it.
    let fetched = client.get_refund(&failing.id).await.unwrap();
    assert_eq!(refund(3).raw, fetched.raw);
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
        .seed_payment("ch_webhooks_2", Money::from_minor(900, Currency::EGP));
    let (url, log) = receiver(0);
    let sender = sandbox::enable_webhooks(&sandbox, SECRET).unwrap();
    sender.register(&url).unwrap();
    let client = sandbox::builder_for(&sandbox).build().unwrap();
    client
        .create_refund(&CreateRefund::new(PaymentRef::charge("ch_webhooks_2").unwrap()))
        .await
        .unwrap();
    sender.wait_idle().await;
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 1);
    // The header is the documented recipe: recompute it independently from its own `t`.
    let value = log[0].headers.get("xpay-signature").unwrap().to_str().unwrap();
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
