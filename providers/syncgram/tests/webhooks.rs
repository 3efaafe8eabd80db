//! SyncgramPay webhooks (providers-2.md §2): envelope `{id, type, created_at, data}`, HMAC-SHA256
//! with the merchant-chosen secret (8 to 64 characters). The header name, the signed bytes and the
//! event names are undocumented: the crate's defaults (`X-Syncgram-Signature`, hex HMAC-SHA256 of the
//! raw body, `refund.*` names) are tested as configuration, not as documented facts, and so is the
//! timestamped alternative (where the "old timestamp" and "missing t" cases apply).
//!
//! Every signature a test accepts is computed here with `hmac` + `sha2`, never with the SDK's signer.
//! Then the sandbox-to-receiver round trip, with a retry after a 500.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderName, HeaderValue};
use proptest::prelude::*;
use refunds::adapter::signature::SignatureEncoding;
use refunds::sandbox::WebhookSender;
use refunds::webhook::{Clock, MAX_SIGNATURE_HEADER, WebhookErrorKind};
use refunds::{
    CreateRefund, Currency, EventKind, Money, PaymentRef, RefundProvider, RefundStatus, WebhookError, WebhookEvent,
    WebhookVerifier,
};
use refunds_syncgram::sandbox;
use refunds_syncgram::webhooks::{self, DEFAULT_SIGNATURE_HEADER, EVENTS, SignedBytes, SyncgramWebhooks};
use refunds_syncgram::{SimulatedOutcome, SyncgramExt, SyncgramOptions};
use sha2::Sha256;

const NOW: i64 = 1_704_067_200; // 2024-01-01T00:00:00Z
const SECRET: &str = "merchant-chosen-secret";

/// The documented envelope around the documented refund object.
const EVENT: &str = r#"{"id":"evt_01HN4X","type":"refund.succeeded","created_at":"2024-01-01T00:00:00Z","data":{
  "refund_id": "ref_a1b2c3d4e5f6", "charge_id": "ch_a1b2c3d4e5f6", "reference": "refund_ord_12345",
  "status": "succeeded", "requested_amount": "50.00", "refunded_amount": "50.00", "refund_fee_amount": "0.50",
  "fee_bearer": "ORG", "reason": "Customer request", "created_at": "2024-01-16T09:00:00Z",
  "updated_at": "2024-01-16T09:05:00Z", "completed_at": "2024-01-16T09:05:00Z"}}"#;

// ---------------------------------------------------------------------------------------------
// The recipes, computed independently.

fn hmac(secret: &str, parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The default: hex HMAC-SHA256 of the raw body.
fn sign(secret: &str, body: &[u8]) -> String {
    hex(&hmac(secret, &[body]))
}

/// The timestamped alternative: `t=<t>,v1=<hex of HMAC-SHA256(secret, t + "." + body)>`.
fn sign_at(secret: &str, t: i64, body: &[u8]) -> String {
    format!(
        "t={t},v1={}",
        hex(&hmac(secret, &[t.to_string().as_bytes(), b".", body]))
    )
}

fn headers_named(name: &str, value: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        HeaderName::from_bytes(name.as_bytes()).expect("name"),
        HeaderValue::from_str(value).expect("header value"),
    );
    h
}

fn headers(value: &str) -> HeaderMap {
    headers_named(DEFAULT_SIGNATURE_HEADER, value)
}

fn default_verifier() -> SyncgramWebhooks {
    webhooks::verifier(SECRET, Currency::USD).expect("verifier")
}

fn timestamped() -> SyncgramWebhooks {
    webhooks::builder(SECRET, Currency::USD)
        .signed_bytes(SignedBytes::TimestampDotBody)
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
fn the_documented_event_signed_with_the_default_recipe_verifies() {
    let body = EVENT.as_bytes();
    let sig = sign(SECRET, body);
    for value in [sig.clone(), sig.to_ascii_uppercase(), format!("sha256={sig}")] {
        let event = default_verifier().verify_and_parse(&headers(&value), body).unwrap();
        assert_eq!(event.provider, "syncgram");
        assert_eq!(event.id, "evt_01HN4X");
        assert_eq!(event.kind, EventKind::Succeeded);
        assert_eq!(event.created_at.unwrap().unix_timestamp(), NOW);
        assert_eq!(event.raw.get(), EVENT);
        let refund = event.refund.expect("a refund event carries a refund");
        assert_eq!(refund.id.as_str(), "ref_a1b2c3d4e5f6");
        assert_eq!(refund.amount, Money::from_minor(5_000, Currency::USD));
        assert_eq!(refund.status, RefundStatus::Succeeded);
        assert_eq!(refund.payment, PaymentRef::charge("ch_a1b2c3d4e5f6").unwrap());
        assert!(
            EVENT.contains(refund.raw.get()),
            "the refund's raw json is the body's own bytes"
        );
    }
    assert_eq!(DEFAULT_SIGNATURE_HEADER, "X-Syncgram-Signature");
    assert_eq!(EVENTS.kind("refund.failed"), EventKind::Failed);
    // The timestamped alternative, with the same event.
    timestamped()
        .verify_and_parse(&headers(&sign_at(SECRET, NOW - 5, body)), body)
        .unwrap();
}

#[test]
fn header_encoding_and_signed_bytes_are_configuration() {
    let body = EVENT.as_bytes();
    let b64 = refunds::adapter::base64_encode(&hmac(SECRET, &[body]));
    let custom = webhooks::builder(SECRET, Currency::USD)
        .header("X-Webhook-Signature")
        .encoding(SignatureEncoding::Base64)
        .build()
        .unwrap();
    custom
        .verify_and_parse(&headers_named("x-webhook-signature", &b64), body)
        .unwrap();
    let hex_sig = headers_named("x-webhook-signature", &sign(SECRET, body));
    assert_eq!(
        kind(custom.verify_and_parse(&hex_sig, body)),
        WebhookErrorKind::MalformedHeader
    );
    assert_eq!(
        kind(custom.verify_and_parse(&headers(&b64), body)),
        WebhookErrorKind::MissingHeader
    );
    // An invalid header name is a configuration error.
    assert!(
        webhooks::builder(SECRET, Currency::USD)
            .header("bad header")
            .build()
            .is_err()
    );
    // The secret is 8 to 64 characters.
    for (secret, ok) in [
        ("1234567", false),
        ("12345678", true),
        (&"x".repeat(64)[..], true),
        (&"x".repeat(65)[..], false),
    ] {
        let built = webhooks::verifier(secret, Currency::USD);
        assert_eq!(built.is_ok(), ok, "{} chars", secret.len());
        if let Err(e) = built {
            assert_eq!(e.kind(), &refunds::ErrorKind::Configuration);
            assert!(secret.len() < 8 || !e.to_string().contains(secret));
        }
    }
    // Rotation: two signatures in the header, or two configured secrets.
    let next = "the-next-secret";
    let both = format!("{},{}", sign(next, body), sign(SECRET, body));
    default_verifier().verify_and_parse(&headers(&both), body).unwrap();
    let only_next = headers(&sign(next, body));
    assert!(
        default_verifier()
            .verify_and_parse(&only_next, body)
            .unwrap_err()
            .is_signature_mismatch()
    );
    let rotated = webhooks::builder(SECRET, Currency::USD).secret(next).build().unwrap();
    rotated.verify_and_parse(&only_next, body).unwrap();
    // Tolerance and clock of the timestamped form.
    let minute_old = headers(&sign_at(SECRET, NOW - 60, body));
    let strict = webhooks::builder(SECRET, Currency::USD)
        .signed_bytes(SignedBytes::TimestampDotBody)
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
    timestamped().verify_and_parse(&minute_old, body).unwrap();
}

#[test]
fn each_failure_has_its_own_typed_result() {
    let verifier = default_verifier();
    let body = EVENT.as_bytes();
    let sig = sign(SECRET, body);
    let check = |value: &str, b: &[u8]| kind(verifier.verify_and_parse(&headers(value), b));
    // A changed byte.
    for i in [0, body.len() / 2, body.len() - 1] {
        let mut changed = body.to_vec();
        changed[i] ^= 0x01;
        assert_eq!(check(&sig, &changed), WebhookErrorKind::NoMatchingSignature, "byte {i}");
    }
    // A wrong secret.
    assert_eq!(
        check(&sign("another-secret", body), body),
        WebhookErrorKind::NoMatchingSignature
    );
    // Malformed and oversized headers, and none.
    for bad in [
        "",
        "xyz",
        &sig[2..],
        &format!("{sig}00"),
        "sha256=",
        &format!("t=1,v1={sig}"),
    ] {
        assert_eq!(check(bad, body), WebhookErrorKind::MalformedHeader, "{bad:?}");
    }
    let oversized = format!("{sig},{}", "a".repeat(MAX_SIGNATURE_HEADER));
    assert_eq!(check(&oversized, body), WebhookErrorKind::HeaderTooLarge);
    assert_eq!(
        kind(verifier.verify_and_parse(&HeaderMap::new(), body)),
        WebhookErrorKind::MissingHeader
    );
    // An unknown event type (SyncgramPay's test event): authentic, kept raw, not an error.
    let test_event =
        br#"{"id":"evt_9","type":"collection.succeeded","created_at":"2024-01-01T00:00:00Z","data":{"id":"col_1"}}"#;
    let event = verifier
        .verify_and_parse(&headers(&sign(SECRET, test_event)), test_event)
        .unwrap();
    assert_eq!(event.kind, EventKind::Unknown("collection.succeeded".into()));
    assert!(event.refund.is_none() && event.payment.is_none());
    // Authentic but unreadable: a refund event whose refund lacks fields.
    let broken =
        br#"{"id":"evt_3","type":"refund.created","created_at":"2024-01-01T00:00:00Z","data":{"refund_id":"r"}}"#;
    let e = verifier
        .verify_and_parse(&headers(&sign(SECRET, broken)), broken)
        .unwrap_err();
    assert!(e.is_unparseable_body() && !e.is_unauthenticated(), "{e}");

    // The timestamped form: an old timestamp and a missing t.
    let verifier = timestamped();
    let check = |value: &str| kind(verifier.verify_and_parse(&headers(value), body));
    for t in [NOW - 301, NOW + 301, 0] {
        assert_eq!(
            check(&sign_at(SECRET, t, body)),
            WebhookErrorKind::TimestampOutsideTolerance
        );
    }
    let v1 = sign_at(SECRET, NOW, body).split_once(",v1=").unwrap().1.to_owned();
    assert_eq!(check(&format!("v1={v1}")), WebhookErrorKind::MalformedHeader);
    assert_eq!(check(&sign(SECRET, body)), WebhookErrorKind::MalformedHeader);
    assert_eq!(
        check(&sign_at("another-secret", NOW, body)),
        WebhookErrorKind::NoMatchingSignature
    );
}

#[test]
fn the_secret_appears_in_no_debug_display_or_error() {
    let secret = "sync_do_not_print_me";
    let verifier = webhooks::verifier(secret, Currency::USD).unwrap();
    let body = EVENT.as_bytes();
    let sig = sign(secret, body);
    let mut texts = vec![
        format!("{verifier:?}"),
        format!("{:?}", webhooks::builder(secret, Currency::USD)),
        format!("{:?}", webhooks::scheme(secret).unwrap()),
    ];
    for (value, b) in [(sig.clone(), &b"{}"[..]), ("zz".to_owned(), body)] {
        let e = verifier.verify_and_parse(&headers(&value), b).unwrap_err();
        texts.push(format!("{e} {e:?}"));
    }
    for text in texts {
        assert!(!text.contains("do_not_print_me"), "{text}");
        assert!(!text.contains(&sig), "{text}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_headers_and_bodies_never_panic(
        header in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..200),
            "(sha256=)?[0-9a-fA-Fz]{0,70}(,[0-9a-f+/=]{0,64})?".prop_map(String::into_bytes),
            "t=[0-9]{0,14},v1=[0-9a-fA-Fz]{0,70}".prop_map(String::into_bytes),
            proptest::collection::vec(any::<u8>(), MAX_SIGNATURE_HEADER - 2..MAX_SIGNATURE_HEADER + 2),
        ],
        body in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..300),
            "[{}\\[\\]\":,a-z0-9 ._-]{0,200}".prop_map(String::into_bytes),
            Just(EVENT.as_bytes().to_vec()),
        ],
    ) {
        for verifier in [default_verifier(), timestamped()] {
            if let Ok(value) = HeaderValue::from_bytes(&header) {
                prop_assert!(verifier.verify_and_parse(&headers_named(DEFAULT_SIGNATURE_HEADER, "x"), &body).is_err());
                let mut h = HeaderMap::new();
                h.insert(HeaderName::from_static("x-syncgram-signature"), value);
                prop_assert!(verifier.verify_and_parse(&h, &body).is_err());
            }
        }
        // Correctly signed random bodies: accepted, or an unparseable body.
        let r = default_verifier().verify_and_parse(&headers(&sign(SECRET, &body)), &body);
        prop_assert!(r.is_ok() || r.unwrap_err().is_unparseable_body());
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
        .seed_payment("ch_webhooks_1", Money::from_minor(10_000, sandbox::CURRENCY));
    let (url, log) = receiver(1);
    let sender = WebhookSender::with_retries(3, Duration::from_millis(10)).unwrap();
    let sender = sandbox::enable_webhooks_with(&sandbox, webhooks::scheme(SECRET).unwrap(), sender);
    sender.register(&url).unwrap();
    let client = sandbox::builder_for(&sandbox).build().unwrap();
    let payment = PaymentRef::charge("ch_webhooks_1").unwrap();

    // Created (the first delivery gets a 500, its retry a 200), then settled.
    let created = client
        .create_refund(&CreateRefund::new(payment.clone()).amount(Money::from_minor(1_500, sandbox::CURRENCY)))
        .await
        .unwrap();
    sender.wait_idle().await;
    assert_eq!(sandbox.ledger().settle_all(), 1);
    sender.wait_idle().await;
    // Another refund, made to fail with SyncgramPay's test-mode option.
    let options = SyncgramOptions::new().simulated_outcome(SimulatedOutcome::Failed);
    let failing = client
        .create_refund_with_options(
            &CreateRefund::new(payment).amount(Money::from_minor(500, sandbox::CURRENCY)),
            &options,
        )
        .await
        .unwrap();
    sender.wait_idle().await;
    assert_eq!(sandbox.ledger().settle_all(), 1);
    sender.wait_idle().await;

    let records = sender.deliveries();
    assert_eq!(records.len(), 4, "{records:?}");
    assert!(records.iter().all(|r| r.delivered));
    assert_eq!(records[0].attempts, 2, "one 500, then a 200");

    // The receiver verifies every request with the application's verifier.
    let verifier = webhooks::verifier(SECRET, sandbox::CURRENCY).unwrap();
    let log = std::mem::take(&mut *log.lock().unwrap());
    let statuses: Vec<u16> = log.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [500, 200, 200, 200, 200]);
    assert_eq!(log[0].body, log[1].body, "a retry re-sends the same event");
    let events: Vec<WebhookEvent> = log[1..]
        .iter()
        .map(|r| verifier.verify_and_parse(&r.headers, &r.body).expect("verifies"))
        .collect();
    let seen: Vec<(&str, EventKind, &str, RefundStatus)> = events
        .iter()
        .map(|e| {
            let refund = e.refund.as_ref().expect("carries the refund");
            (
                e.event_type.as_str(),
                e.kind.clone(),
                refund.id.as_str(),
                refund.status.clone(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                "refund.created",
                EventKind::Created,
                created.id.as_str(),
                RefundStatus::Pending
            ),
            (
                "refund.succeeded",
                EventKind::Succeeded,
                created.id.as_str(),
                RefundStatus::Succeeded
            ),
            (
                "refund.created",
                EventKind::Created,
                failing.id.as_str(),
                RefundStatus::Pending
            ),
            (
                "refund.failed",
                EventKind::Failed,
                failing.id.as_str(),
                RefundStatus::Failed
            ),
        ]
    );
    // The documented envelope: {id, type, created_at, data}, nothing else.
    for r in &log[1..] {
        let value: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        let mut keys: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["created_at", "data", "id", "type"]);
    }
    // The event carries the refund exactly as `get_refund` answers it.
    let fetched = client.get_refund(&failing.id).await.unwrap();
    assert_eq!(events[3].refund.as_ref().unwrap().raw, fetched.raw);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enable_webhooks_uses_the_default_scheme() {
    let sandbox = sandbox::start().await.expect("bind 127.0.0.1");
    sandbox
        .ledger()
        .seed_payment("ch_webhooks_2", Money::from_minor(900, sandbox::CURRENCY));
    assert!(
        sandbox::enable_webhooks(&sandbox, "short").is_err(),
        "8 to 64 characters"
    );
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
    let value = log[0].headers.get("x-syncgram-signature").unwrap().to_str().unwrap();
    assert_eq!(value, sign(SECRET, &log[0].body), "hex HMAC-SHA256 of the raw body");
}
