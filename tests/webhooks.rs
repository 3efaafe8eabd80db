//! Webhook verification and parsing for the three signing providers' recipes, and the sandbox sender.
//!
//! Every signature a test accepts is computed here independently, with `hmac` + `sha2` directly and the
//! documented recipe, not with the SDK's signer (providers-2.md §2):
//! - WooshPay: `Wooshpay-Signature: t=<ts>,v1=<hex>`, HMAC-SHA256 hex over `t` + "." + raw body;
//!   Stripe-style envelope, unix-seconds `created`, refund event `charge.refund.updated`.
//! - xpay: `XPay-Signature: t=<unix s>,v1=<hex>`, HMAC-SHA256 hex over `${t}.${rawBody}`, 300 s;
//!   ISO 8601 `created`, `evt_test_` ids, `refund.created` (a refund) and `charge.refunded` (a charge).
//! - a raw-body scheme (`BodyHmac`): envelope `{id, type, created_at, data}`, HMAC-SHA256 of the raw
//!   body with an 8–64 character secret, in a header chosen by configuration (SyncgramPay's own
//!   default, the Bachs scheme, is tested in its crate).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderName, HeaderValue};
use proptest::prelude::*;
use refunds::adapter::signature::{BodyHmac, SecretRule, SignatureEncoding, SignatureScheme, TimestampedHmac};
use refunds::adapter::{StatusMap, parse_object};
use refunds::sandbox::WebhookSender;
use refunds::webhook::{
    Carries, Clock, Envelope, EventKind, EventParser, EventTable, MAX_SIGNATURE_HEADER, SignedWebhooks,
    WebhookErrorKind, WebhookVerifier,
};
use refunds::{Currency, Money, PaymentRef, PaymentRefKind, Refund, RefundId, RefundStatus};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const NOW: i64 = 1_704_067_200; // 2024-01-01T00:00:00Z
const WHSEC: &str = "whsec_test_5WbX5kEWLlfzsGNjH64I8lOOqUB6e8FH";
const SYNC_SECRET: &str = "merchant-chosen-secret";

// ---------------------------------------------------------------------------------------------
// Independent recipe: the test's own HMAC, never the SDK's.

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("hmac takes any key");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().to_vec()
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `t=<t>,v1=<hex of HMAC-SHA256(secret, t + "." + body)>`.
fn stripe_style_header(secret: &str, t: i64, body: &[u8]) -> String {
    let sig = to_hex(&hmac_sha256(secret.as_bytes(), &[t.to_string().as_bytes(), b".", body]));
    format!("t={t},v1={sig}")
}

fn headers(name: &str, value: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        HeaderName::from_bytes(name.as_bytes()).unwrap(),
        HeaderValue::from_str(value).unwrap(),
    );
    h
}

// ---------------------------------------------------------------------------------------------
// The provider glue a provider crate would write (here with a tiny wire type of its own).

#[derive(serde::Deserialize)]
struct WireRefund {
    id: String,
    amount: i64,
    currency: String,
    status: String,
    #[serde(default)]
    charge: Option<String>,
    #[serde(default)]
    payment_intent: Option<String>,
}

const STATUSES: StatusMap = StatusMap::new(&[
    ("pending", RefundStatus::Pending),
    ("succeeded", RefundStatus::Succeeded),
    ("failed", RefundStatus::Failed),
    ("canceled", RefundStatus::Canceled),
]);

fn parse_refund(provider: &'static str, bytes: &[u8]) -> refunds::Result<Refund> {
    let w = parse_object::<WireRefund>(bytes).map_err(|e| refunds::Error::decode(e.to_string()))?;
    let currency = Currency::from_code(&w.value.currency)?;
    let payment = match (w.value.payment_intent, w.value.charge) {
        (Some(pi), _) => PaymentRef::payment_intent(pi)?,
        (None, Some(ch)) => PaymentRef::charge(ch)?,
        (None, None) => return Err(refunds::Error::decode("refund without a payment")),
    };
    Ok(Refund::new(
        RefundId::new(w.value.id)?,
        provider,
        payment,
        Money::from_minor(w.value.amount, currency),
        STATUSES.to_status(&w.value.status),
        w.raw,
    ))
}

const WOOSHPAY_EVENTS: EventTable = EventTable::new(&[("charge.refund.updated", EventKind::Updated, Carries::Refund)]);
const XPAY_EVENTS: EventTable = EventTable::new(&[
    ("refund.created", EventKind::Created, Carries::Refund),
    (
        "charge.refunded",
        EventKind::Succeeded,
        Carries::Payment(PaymentRefKind::Charge),
    ),
]);
// SyncgramPay's event names were not captured; these are the test's assumption.
const SYNCGRAM_EVENTS: EventTable = EventTable::new(&[
    ("refund.succeeded", EventKind::Succeeded, Carries::Refund),
    ("refund.failed", EventKind::Failed, Carries::Refund),
]);

fn wooshpay(secret: &str, clock: Clock) -> SignedWebhooks<TimestampedHmac> {
    let scheme = TimestampedHmac::new("Wooshpay-Signature", secret, SecretRule::ANY)
        .unwrap()
        .clock(clock);
    let parser = EventParser::new("wooshpay", Envelope::STRIPE_STYLE, WOOSHPAY_EVENTS, |b| {
        parse_refund("wooshpay", b)
    });
    SignedWebhooks::new(scheme, parser)
}

fn xpay(secret: &str, clock: Clock) -> SignedWebhooks<TimestampedHmac> {
    let scheme = TimestampedHmac::new("XPay-Signature", secret, SecretRule::ANY.with_prefix("whsec_"))
        .unwrap()
        .clock(clock);
    let parser = EventParser::new("xpay", Envelope::ISO_CREATED, XPAY_EVENTS, |b| parse_refund("xpay", b));
    SignedWebhooks::new(scheme, parser)
}

fn syncgram(secret: &str) -> SignedWebhooks<BodyHmac> {
    let scheme = BodyHmac::new("X-Syncgram-Signature", secret, SecretRule::chars(8, 64)).unwrap();
    let parser = EventParser::new("syncgram", Envelope::CREATED_AT_DATA, SYNCGRAM_EVENTS, |b| {
        parse_refund("syncgram", b)
    });
    SignedWebhooks::new(scheme, parser)
}

// Documented shapes (providers-2.md §2), pretty-printed with odd spacing on purpose: the signature is
// over these bytes, not over any re-serialization.
const WOOSHPAY_EVENT: &str = r#"{
  "id": "evt_3OaBcD2eZvKYlo2C1x2y3z4w",
  "object": "event",
  "api_version": "2022-11-15",
  "created": 1704067195,
  "data": {
    "object": {"id": "re_3OaBcD2eZvKYlo2C0a1b2c3d", "object": "refund", "amount": 1999,
               "currency": "eur", "payment_intent": "pi_1787730829493927936", "status": "succeeded",
               "created": 1704067100}
  },
  "livemode": false,
  "pending_webhooks": 1,
  "type": "charge.refund.updated"
}"#;

const XPAY_REFUND_EVENT: &str = r#"{"id":"evt_test_8f2k","object":"event","api_version":"3.1.0","created":"2024-01-01T00:00:00.000Z","type":"refund.created","livemode":false,"data":{"object":{"id":"re_000001","object":"refund","amount":50000,"currency":"EGP","charge":"ch_xyz789","status":"succeeded"}}}"#;

const XPAY_CHARGE_EVENT: &str = r#"{"id":"evt_live_9a1b","object":"event","api_version":"3.1.0","created":"2024-01-01T00:00:00Z","type":"charge.refunded","livemode":true,"data":{"object":{"id":"ch_xyz789","object":"charge","amount":80000,"amount_refunded":80000,"currency":"EGP","status":"refunded"}}}"#;

const SYNCGRAM_EVENT: &str = r#"{"id":"evt_01HN","type":"refund.succeeded","created_at":"2024-01-01T00:00:00Z","data":{"id":"ref_000001","amount":5000,"currency":"JPY","charge":"ch_a1b2c3d4e5f6","status":"succeeded"}}"#;

/// The two timestamped providers with their documented event and header name.
fn timestamped_cases() -> Vec<(&'static str, SignedWebhooks<TimestampedHmac>, &'static str)> {
    vec![
        (
            "Wooshpay-Signature",
            wooshpay(WHSEC, Clock::fixed_unix(NOW)),
            WOOSHPAY_EVENT,
        ),
        ("XPay-Signature", xpay(WHSEC, Clock::fixed_unix(NOW)), XPAY_REFUND_EVENT),
    ]
}

fn kind_of(result: Result<refunds::WebhookEvent, refunds::WebhookError>) -> WebhookErrorKind {
    match result {
        Ok(e) => panic!("accepted: {e:?}"),
        Err(e) => e.kind(),
    }
}

// ---------------------------------------------------------------------------------------------
// WooshPay and xpay: the Stripe-style recipe.

#[test]
fn timestamped_accepts_the_documented_recipe() {
    for (header, verifier, body) in timestamped_cases() {
        let h = headers(header, &stripe_style_header(WHSEC, NOW - 5, body.as_bytes()));
        let event = verifier.verify_and_parse(&h, body.as_bytes()).unwrap();
        assert_eq!(event.provider, verifier.provider());
        let refund = event.refund.as_ref().expect("a refund event carries a refund");
        assert!(refund.raw.get().starts_with(r#"{"id": "re_3"#) || refund.raw.get().starts_with(r#"{"id":"re_0"#));
        assert!(
            body.contains(refund.raw.get()),
            "the refund's raw json is the body's own bytes"
        );
        assert_eq!(refund.status, RefundStatus::Succeeded);
        assert_eq!(event.payment.as_ref(), Some(&refund.payment));
        assert_eq!(event.raw.get(), body);
        assert_eq!(event.livemode, Some(false));
        // Header names are case-insensitive.
        let h = headers(
            &header.to_ascii_uppercase(),
            &stripe_style_header(WHSEC, NOW, body.as_bytes()),
        );
        verifier.verify_and_parse(&h, body.as_bytes()).unwrap();
    }
    let h = headers(
        "Wooshpay-Signature",
        &stripe_style_header(WHSEC, NOW, WOOSHPAY_EVENT.as_bytes()),
    );
    let event = wooshpay(WHSEC, Clock::fixed_unix(NOW))
        .verify_and_parse(&h, WOOSHPAY_EVENT.as_bytes())
        .unwrap();
    assert_eq!(event.kind, EventKind::Updated);
    assert_eq!(event.event_type, "charge.refund.updated");
    assert_eq!(event.id, "evt_3OaBcD2eZvKYlo2C1x2y3z4w");
    assert_eq!(event.created_at.unwrap().unix_timestamp(), 1_704_067_195);
    let refund = event.refund.unwrap();
    assert_eq!(
        refund.amount,
        Money::from_minor(1999, Currency::from_code("EUR").unwrap())
    );
    assert_eq!(
        refund.payment,
        PaymentRef::payment_intent("pi_1787730829493927936").unwrap()
    );
}

#[test]
fn xpay_charge_event_carries_a_payment_and_no_refund() {
    let verifier = xpay(WHSEC, Clock::fixed_unix(NOW));
    let body = XPAY_CHARGE_EVENT.as_bytes();
    let event = verifier
        .verify_and_parse(&headers("XPay-Signature", &stripe_style_header(WHSEC, NOW, body)), body)
        .unwrap();
    assert_eq!(event.kind, EventKind::Succeeded);
    assert!(event.refund.is_none());
    assert_eq!(event.payment, Some(PaymentRef::charge("ch_xyz789").unwrap()));
    assert_eq!(event.livemode, Some(true));
    assert_eq!(event.created_at.unwrap().unix_timestamp(), NOW);

    let event = verifier
        .verify_and_parse(
            &headers(
                "XPay-Signature",
                &stripe_style_header(WHSEC, NOW, XPAY_REFUND_EVENT.as_bytes()),
            ),
            XPAY_REFUND_EVENT.as_bytes(),
        )
        .unwrap();
    assert_eq!(event.kind, EventKind::Created);
    assert_eq!(event.id, "evt_test_8f2k");
}

#[test]
fn timestamped_refuses_each_failure_with_its_own_kind() {
    for (header, verifier, body) in timestamped_cases() {
        let body = body.as_bytes();
        let good = stripe_style_header(WHSEC, NOW, body);
        let check = |value: &str, b: &[u8]| kind_of(verifier.verify_and_parse(&headers(header, value), b));

        // A changed byte anywhere in the body.
        for i in [0, body.len() / 2, body.len() - 1] {
            let mut changed = body.to_vec();
            changed[i] ^= 0x01;
            assert_eq!(
                check(&good, &changed),
                WebhookErrorKind::NoMatchingSignature,
                "{header} byte {i}"
            );
        }
        // Trailing whitespace is a changed body too: the raw bytes are what is signed.
        let mut padded = body.to_vec();
        padded.push(b'\n');
        assert_eq!(check(&good, &padded), WebhookErrorKind::NoMatchingSignature);
        // The wrong secret.
        let wrong = stripe_style_header("whsec_someone_else", NOW, body);
        assert_eq!(check(&wrong, body), WebhookErrorKind::NoMatchingSignature);
        // A signature over the body alone (no `t.`), or another t than the one signed.
        let body_only = format!("t={NOW},v1={}", to_hex(&hmac_sha256(WHSEC.as_bytes(), &[body])));
        assert_eq!(check(&body_only, body), WebhookErrorKind::NoMatchingSignature);
        let sig = good.split_once(",v1=").unwrap().1;
        assert_eq!(
            check(&format!("t={},v1={sig}", NOW + 1), body),
            WebhookErrorKind::NoMatchingSignature
        );
        // Old and future timestamps, correctly signed: outside the 300 s default either way.
        for t in [NOW - 301, NOW + 301, NOW - 86_400, 0] {
            assert_eq!(
                check(&stripe_style_header(WHSEC, t, body), body),
                WebhookErrorKind::TimestampOutsideTolerance,
                "{header} t={t}"
            );
        }
        for t in [NOW - 300, NOW + 300] {
            verifier
                .verify_and_parse(&headers(header, &stripe_style_header(WHSEC, t, body)), body)
                .unwrap();
        }
        // Missing t, missing or malformed header.
        assert_eq!(check(&format!("v1={sig}"), body), WebhookErrorKind::MalformedHeader);
        assert_eq!(
            kind_of(verifier.verify_and_parse(&HeaderMap::new(), body)),
            WebhookErrorKind::MissingHeader
        );
        assert_eq!(
            kind_of(verifier.verify_and_parse(&headers("Stripe-Signature", &good), body)),
            WebhookErrorKind::MissingHeader
        );
        for bad in [
            "",
            "garbage",
            &format!("t={NOW}"),
            &format!("t={NOW},v1="),
            &format!("t={NOW},v1={}", &sig[1..]),
            &format!("t={NOW},v1={}zz", &sig[2..]),
            &format!("t=abc,v1={sig}"),
            &format!("t=-{NOW},v1={sig}"),
            &format!("t={NOW},t={NOW},v1={sig}"),
            &format!("t={NOW};v1={sig}"),
            &format!("t=99999999999999999999,v1={sig}"),
        ] {
            assert_eq!(check(bad, body), WebhookErrorKind::MalformedHeader, "{header}: {bad:?}");
        }
        // The same header twice is ambiguous.
        let mut twice = headers(header, &good);
        twice.append(
            HeaderName::from_bytes(header.as_bytes()).unwrap(),
            HeaderValue::from_str(&good).unwrap(),
        );
        assert_eq!(
            kind_of(verifier.verify_and_parse(&twice, body)),
            WebhookErrorKind::MalformedHeader
        );
        // Oversized: refused unread even though it holds a valid signature.
        let oversized = format!("{good},v0={}", "0".repeat(MAX_SIGNATURE_HEADER));
        assert_eq!(check(&oversized, body), WebhookErrorKind::HeaderTooLarge);
        let just_fits = format!("{good},x={}", "0".repeat(MAX_SIGNATURE_HEADER - good.len() - 3));
        assert_eq!(just_fits.len(), MAX_SIGNATURE_HEADER);
        verifier.verify_and_parse(&headers(header, &just_fits), body).unwrap();
        // Non-ascii header bytes.
        let mut h = HeaderMap::new();
        h.insert(
            HeaderName::from_bytes(header.as_bytes()).unwrap(),
            HeaderValue::from_bytes(format!("{good}\u{e9}").as_bytes()).unwrap(),
        );
        assert_eq!(
            kind_of(verifier.verify_and_parse(&h, body)),
            WebhookErrorKind::MalformedHeader
        );
    }
}

#[test]
fn timestamped_accepts_rotation_on_either_side() {
    for (header, verifier, body) in timestamped_cases() {
        let body = body.as_bytes();
        let new_secret = "whsec_new_secret_after_rotation";
        // The provider signs with the old and the new secret: several v1 values, and a v0 to ignore.
        let old_sig = stripe_style_header(WHSEC, NOW, body)
            .split_once(",v1=")
            .unwrap()
            .1
            .to_owned();
        let new_sig = stripe_style_header(new_secret, NOW, body)
            .split_once(",v1=")
            .unwrap()
            .1
            .to_owned();
        let both = format!("t={NOW}, v1={new_sig}, v1={old_sig}, v0={}", "ab".repeat(32));
        verifier.verify_and_parse(&headers(header, &both), body).unwrap();
        // Upper-case hex is the same signature.
        let upper = format!("t={NOW},v1={}", old_sig.to_ascii_uppercase());
        verifier.verify_and_parse(&headers(header, &upper), body).unwrap();
        // Only the new secret's signature: refused by a verifier holding only the old one...
        let only_new = format!("t={NOW},v1={new_sig}");
        assert_eq!(
            kind_of(verifier.verify_and_parse(&headers(header, &only_new), body)),
            WebhookErrorKind::NoMatchingSignature
        );
    }
    // ...and accepted once the application configures both secrets.
    let scheme = TimestampedHmac::new("XPay-Signature", WHSEC, SecretRule::ANY)
        .unwrap()
        .with_secret("whsec_new_secret_after_rotation")
        .unwrap()
        .clock(Clock::fixed_unix(NOW));
    let body = XPAY_REFUND_EVENT.as_bytes();
    let h = headers(
        "XPay-Signature",
        &stripe_style_header("whsec_new_secret_after_rotation", NOW, body),
    );
    scheme.verify(&h, body).unwrap();
    // And the SDK's own signer (used by the sandbox) writes one v1 per secret, each verifiable alone.
    let signed = scheme.sign_at(NOW, body);
    assert_eq!(signed.matches("v1=").count(), 2);
    assert!(signed.contains(&stripe_style_header(WHSEC, NOW, body)[..]));
}

#[test]
fn tolerance_and_clock_are_configuration() {
    let body = XPAY_REFUND_EVENT.as_bytes();
    let h = headers("XPay-Signature", &stripe_style_header(WHSEC, NOW - 60, body));
    let strict = TimestampedHmac::new("XPay-Signature", WHSEC, SecretRule::ANY)
        .unwrap()
        .tolerance(Duration::from_secs(30))
        .clock(Clock::fixed_unix(NOW));
    assert_eq!(
        strict.verify(&h, body).unwrap_err().kind(),
        WebhookErrorKind::TimestampOutsideTolerance
    );
    let moving = Arc::new(AtomicUsize::new(0));
    let m = moving.clone();
    let clock = Clock::from_fn(move || {
        let ahead = i64::try_from(m.load(Ordering::SeqCst)).unwrap();
        refunds::OffsetDateTime::from_unix_timestamp(NOW - 60 + ahead).unwrap()
    });
    let scheme = TimestampedHmac::new("XPay-Signature", WHSEC, SecretRule::ANY)
        .unwrap()
        .tolerance(Duration::from_secs(30))
        .clock(clock);
    scheme.verify(&h, body).unwrap();
    moving.store(31, Ordering::SeqCst);
    assert!(scheme.verify(&h, body).unwrap_err().is_outside_tolerance());
    // The system clock: a signature from now verifies, one from 2024 does not.
    let system = TimestampedHmac::new("XPay-Signature", WHSEC, SecretRule::ANY).unwrap();
    let now = refunds::OffsetDateTime::now_utc().unix_timestamp();
    system
        .verify(&headers("XPay-Signature", &stripe_style_header(WHSEC, now, body)), body)
        .unwrap();
    assert!(system.verify(&h, body).unwrap_err().is_outside_tolerance());
}

#[test]
fn unknown_event_types_are_kept_raw_and_bad_bodies_are_typed() {
    let verifier = wooshpay(WHSEC, Clock::fixed_unix(NOW));
    let body = br#"{"id":"evt_1","object":"event","type":"payout.paid","created":1704067200,"data":{"object":{"id":"po_1","amount":1.5}}}"#;
    let h = headers("Wooshpay-Signature", &stripe_style_header(WHSEC, NOW, body));
    let event = verifier.verify_and_parse(&h, body).unwrap();
    assert_eq!(event.kind, EventKind::Unknown("payout.paid".into()));
    assert_eq!(event.event_type, "payout.paid");
    assert!(event.refund.is_none() && event.payment.is_none());
    assert_eq!(event.raw.get().as_bytes(), body);

    // Authentic but unreadable bodies: not json, no id, a refund event whose refund is unreadable.
    for body in [
        &b"not json"[..],
        br#"{"type":"charge.refund.updated"}"#,
        br#"{"id":"evt_1","type":"charge.refund.updated","created":1704067200,"data":{"object":{"id":"re_1"}}}"#,
        br#"{"id":"evt_1","type":"charge.refund.updated","created":"soon","data":{}}"#,
    ] {
        let h = headers("Wooshpay-Signature", &stripe_style_header(WHSEC, NOW, body));
        let e = verifier.verify_and_parse(&h, body).unwrap_err();
        assert_eq!(e.kind(), WebhookErrorKind::UnparseableBody, "{e}");
        assert!(!e.is_unauthenticated());
        assert_eq!(e.provider(), Some("wooshpay"));
    }
    // A body that fails verification is never parsed: an unparseable forged body is a signature error.
    let e = verifier
        .verify_and_parse(
            &headers("Wooshpay-Signature", &stripe_style_header("whsec_x", NOW, b"x")),
            b"x",
        )
        .unwrap_err();
    assert!(e.is_signature_mismatch() && e.is_unauthenticated());
}

#[test]
fn secrets_appear_in_no_debug_display_or_error() {
    let secret = "whsec_do_not_print_me_0123456789";
    let verifier = xpay(secret, Clock::fixed_unix(NOW));
    let body = XPAY_REFUND_EVENT.as_bytes();
    let sig = stripe_style_header(secret, NOW, body);
    let mut texts = vec![format!("{verifier:?}"), format!("{:?}", verifier.scheme())];
    for (value, b) in [
        (sig.clone(), &b"{}"[..]),
        (stripe_style_header(secret, 0, body), body),
        ("t=1".to_owned(), body),
    ] {
        let e = verifier
            .verify_and_parse(&headers("XPay-Signature", &value), b)
            .unwrap_err();
        texts.push(format!("{e}"));
        texts.push(format!("{e:?}"));
    }
    let sync = syncgram("sync_do_not_print_me");
    texts.push(format!("{sync:?}"));
    let e = BodyHmac::new("X-Syncgram-Signature", "7chars!", SecretRule::chars(8, 64)).unwrap_err();
    texts.push(format!("{e} {e:?}"));
    let e = TimestampedHmac::new(
        "XPay-Signature",
        "sk_test_not_whsec",
        SecretRule::ANY.with_prefix("whsec_"),
    )
    .unwrap_err();
    texts.push(format!("{e} {e:?}"));
    for text in texts {
        for s in [
            secret,
            "do_not_print_me",
            "7chars!",
            "sk_test_not_whsec",
            sig.split_once("v1=").unwrap().1,
        ] {
            assert!(!text.contains(s), "{text:?} shows {s:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// SyncgramPay: plain HMAC over the raw body, configurable header (default assumed, not documented).

fn sync_sig(secret: &str, body: &[u8]) -> String {
    to_hex(&hmac_sha256(secret.as_bytes(), &[body]))
}

#[test]
fn syncgram_accepts_the_configured_recipe() {
    let verifier = syncgram(SYNC_SECRET);
    let body = SYNCGRAM_EVENT.as_bytes();
    let sig = sync_sig(SYNC_SECRET, body);
    for value in [
        sig.clone(),
        sig.to_ascii_uppercase(),
        format!("sha256={sig}"),
        format!(" {sig} "),
    ] {
        let event = verifier
            .verify_and_parse(&headers("X-Syncgram-Signature", &value), body)
            .unwrap();
        assert_eq!(event.kind, EventKind::Succeeded);
        assert_eq!(event.created_at.unwrap().unix_timestamp(), NOW);
        let refund = event.refund.unwrap();
        assert_eq!(refund.id.as_str(), "ref_000001");
        assert_eq!(refund.amount.minor(), 5000);
        assert!(SYNCGRAM_EVENT.contains(refund.raw.get()));
    }
    // Another header name and base64 are configuration.
    let scheme = BodyHmac::new("X-Webhook-Signature", SYNC_SECRET, SecretRule::chars(8, 64))
        .unwrap()
        .encoding(SignatureEncoding::Base64);
    let b64 = refunds::adapter::base64_encode(&hmac_sha256(SYNC_SECRET.as_bytes(), &[body]));
    scheme.verify(&headers("x-webhook-signature", &b64), body).unwrap();
    assert_eq!(
        scheme
            .verify(&headers("x-webhook-signature", &sig), body)
            .unwrap_err()
            .kind(),
        WebhookErrorKind::MalformedHeader
    );
}

#[test]
fn syncgram_refuses_each_failure_with_its_own_kind() {
    let verifier = syncgram(SYNC_SECRET);
    let body = SYNCGRAM_EVENT.as_bytes();
    let sig = sync_sig(SYNC_SECRET, body);
    let check = |value: &str, b: &[u8]| kind_of(verifier.verify_and_parse(&headers("X-Syncgram-Signature", value), b));
    let mut changed = body.to_vec();
    changed[10] ^= 0x20;
    assert_eq!(check(&sig, &changed), WebhookErrorKind::NoMatchingSignature);
    assert_eq!(
        check(&sync_sig("another-secret", body), body),
        WebhookErrorKind::NoMatchingSignature
    );
    assert_eq!(
        kind_of(verifier.verify_and_parse(&HeaderMap::new(), body)),
        WebhookErrorKind::MissingHeader
    );
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
    // Rotation: several signatures in the header, or several configured secrets.
    let other = sync_sig("the-next-secret", body);
    verifier
        .verify_and_parse(&headers("X-Syncgram-Signature", &format!("{other},{sig}")), body)
        .unwrap();
    let rotated = BodyHmac::new("X-Syncgram-Signature", SYNC_SECRET, SecretRule::chars(8, 64))
        .unwrap()
        .with_secret("the-next-secret")
        .unwrap();
    rotated.verify(&headers("X-Syncgram-Signature", &other), body).unwrap();
    // Unknown event type kept raw (SyncgramPay's test event).
    let test_event =
        br#"{"id":"evt_9","type":"collection.succeeded","created_at":"2024-01-01T00:00:00Z","data":{"id":"col_1"}}"#;
    let event = verifier
        .verify_and_parse(
            &headers("X-Syncgram-Signature", &sync_sig(SYNC_SECRET, test_event)),
            test_event,
        )
        .unwrap();
    assert_eq!(event.kind, EventKind::Unknown("collection.succeeded".into()));
    assert!(event.refund.is_none());
    // The secret is 8 to 64 characters, checked at construction.
    for (secret, ok) in [
        ("1234567", false),
        ("12345678", true),
        (&"x".repeat(64)[..], true),
        (&"x".repeat(65)[..], false),
        ("", false),
    ] {
        let built = BodyHmac::new("X-Syncgram-Signature", secret, SecretRule::chars(8, 64));
        assert_eq!(built.is_ok(), ok, "{} chars", secret.len());
        if let Err(e) = built {
            assert_eq!(e.kind(), &refunds::ErrorKind::Configuration);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// No input panics.

fn header_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..200),
        "[ -~]{0,200}".prop_map(String::into_bytes),
        (
            "-?[0-9]{0,22}",
            proptest::collection::vec("[0-9a-fA-Fxz]{0,70}", 0..4),
            "[ ,;=tv01]{0,3}"
        )
            .prop_map(|(t, sigs, sep)| {
                let mut s = format!("t={t}");
                for sig in sigs {
                    s.push_str(&sep);
                    s.push_str(",v1=");
                    s.push_str(&sig);
                }
                s.into_bytes()
            }),
        proptest::collection::vec(any::<u8>(), MAX_SIGNATURE_HEADER - 2..MAX_SIGNATURE_HEADER + 2),
    ]
}

fn body_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..300),
        "[{}\\[\\]\":,a-z0-9 .eE+-]{0,200}".prop_map(String::into_bytes),
        (
            "[a-z_.]{0,30}",
            prop_oneof![Just("1704067200".to_owned()), Just("\"2024-01-01T00:00:00Z\"".to_owned()), "-?[0-9.e]{0,25}"],
            "[{}\\[\\]\":,a-z0-9 .-]{0,80}"
        )
            .prop_map(|(t, created, data)| {
                format!(r#"{{"id":"evt_1","type":"{t}","created":{created},"created_at":{created},"data":{{"object":{data}}}}}"#)
                    .into_bytes()
            }),
        Just(WOOSHPAY_EVENT.as_bytes().to_vec()),
        Just(XPAY_CHARGE_EVENT.as_bytes().to_vec()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_headers_and_bodies_never_panic_nor_verify(header in header_strategy(), body in body_strategy()) {
        let verifiers: Vec<(&str, Box<dyn WebhookVerifier>)> = vec![
            ("Wooshpay-Signature", Box::new(wooshpay(WHSEC, Clock::fixed_unix(NOW)))),
            ("XPay-Signature", Box::new(xpay(WHSEC, Clock::fixed_unix(NOW)))),
            ("X-Syncgram-Signature", Box::new(syncgram(SYNC_SECRET))),
        ];
        for (name, verifier) in &verifiers {
            if let Ok(value) = HeaderValue::from_bytes(&header) {
                let mut h = HeaderMap::new();
                h.insert(HeaderName::from_bytes(name.as_bytes()).unwrap(), value);
                prop_assert!(verifier.verify_and_parse(&h, &body).is_err());
            }
        }
    }

    #[test]
    fn correctly_signed_random_bodies_never_panic(body in body_strategy(), age in 0i64..600) {
        let t = NOW - age;
        for (name, verifier) in timestamped_cases().into_iter().map(|(n, v, _)| (n, v)) {
            let r = verifier.verify_and_parse(&headers(name, &stripe_style_header(WHSEC, t, &body)), &body);
            match r {
                Ok(event) => prop_assert!(age <= 300 && !event.id.is_empty()),
                Err(e) => prop_assert!(
                    (age > 300 && e.is_outside_tolerance()) || (age <= 300 && e.is_unparseable_body()),
                    "{e}"
                ),
            }
        }
        let sync = syncgram(SYNC_SECRET);
        let r = sync.verify_and_parse(&headers("X-Syncgram-Signature", &sync_sig(SYNC_SECRET, &body)), &body);
        prop_assert!(r.is_ok() || r.unwrap_err().is_unparseable_body());
    }
}

// ---------------------------------------------------------------------------------------------
// Sandbox sender round trip: a receiver on 127.0.0.1 that answers 500 once, then 200.

struct Received {
    headers: HeaderMap,
    body: Vec<u8>,
}

/// A minimal HTTP/1 receiver: answers the first `failures` requests with 500, the rest with 200.
async fn receiver(failures: usize) -> (String, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let url = format!("http://{}/webhooks", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        let count = AtomicUsize::new(0);
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let (head_end, content_length) = loop {
                let n = stream.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break (None, 0);
                }
                buf.extend_from_slice(&chunk[..n]);
                if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..pos]).to_string();
                    let len = head
                        .lines()
                        .filter_map(|l| l.split_once(':'))
                        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
                        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    break (Some(pos + 4), len);
                }
            };
            let Some(head_end) = head_end else { continue };
            while buf.len() < head_end + content_length {
                let n = stream.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
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
            let body = buf[head_end..head_end + content_length.min(buf.len() - head_end)].to_vec();
            log.lock().unwrap().push(Received { headers, body });
            let status = if count.fetch_add(1, Ordering::SeqCst) < failures {
                "500 Internal Server Error"
            } else {
                "200 OK"
            };
            let answer = format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let _ = stream.write_all(answer.as_bytes()).await;
            let _ = stream.shutdown().await;
        }
    });
    (url, seen)
}

async fn round_trip<S: SignatureScheme + Clone + 'static>(verifier: SignedWebhooks<S>, body: &'static str) {
    let (url, seen) = receiver(1).await;
    let sender = WebhookSender::with_retries(3, Duration::from_millis(10)).unwrap();
    sender.register(&url).unwrap();
    let scheme = verifier.scheme().clone();
    let records = sender
        .deliver(body.as_bytes().to_vec(), move |b| scheme.sign_headers(b))
        .await;
    assert_eq!(records.len(), 1);
    assert!(records[0].delivered, "{records:?}");
    assert_eq!(records[0].attempts, 2, "one 500, then a 200");
    assert_eq!(records[0].last_status, Some(200));
    let stats = sender.stats();
    assert_eq!((stats.attempts, stats.delivered, stats.failed), (2, 1, 0));
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    for r in seen.iter() {
        assert_eq!(r.body, body.as_bytes());
        let event = verifier.verify_and_parse(&r.headers, &r.body).unwrap();
        assert!(!event.kind.is_unknown());
        assert_eq!(r.headers.get("content-type").unwrap(), "application/json");
    }
}

#[tokio::test]
async fn sandbox_sender_retries_after_a_500_and_the_signature_verifies() {
    // The sandbox signs with the system clock, so the verifiers use it too.
    round_trip(wooshpay(WHSEC, Clock::system()), WOOSHPAY_EVENT).await;
    round_trip(xpay(WHSEC, Clock::system()), XPAY_REFUND_EVENT).await;
    round_trip(syncgram(SYNC_SECRET), SYNCGRAM_EVENT).await;
}

#[tokio::test]
async fn sandbox_sender_gives_up_after_bounded_retries_and_delivers_in_background() {
    let (url, seen) = receiver(usize::MAX).await;
    let sender = WebhookSender::with_retries(2, Duration::from_millis(5)).unwrap();
    sender.register(&url).unwrap();
    let records = sender.deliver(b"{}".to_vec(), |_| Vec::new()).await;
    assert!(!records[0].delivered);
    assert_eq!(records[0].attempts, 3);
    assert_eq!(records[0].last_status, Some(500));
    assert_eq!(seen.lock().unwrap().len(), 3);
    assert_eq!(sender.stats().failed, 1);

    // A closed port: no answer at all, still bounded.
    let closed = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let closed_url = format!("http://{}/", closed.local_addr().unwrap());
    drop(closed);
    let lonely = WebhookSender::with_retries(1, Duration::from_millis(5)).unwrap();
    lonely.register(&closed_url).unwrap();
    let records = lonely.deliver(b"{}".to_vec(), |_| Vec::new()).await;
    assert_eq!(
        (records[0].attempts, records[0].last_status, records[0].delivered),
        (2, None, false)
    );

    // From sync code (a skin's handle): spawned, then awaited with wait_idle.
    let (url, seen) = receiver(0).await;
    let sender = WebhookSender::new().unwrap();
    sender.register(&url).unwrap();
    let scheme = syncgram(SYNC_SECRET).scheme().clone();
    assert!(sender.deliver_in_background(SYNCGRAM_EVENT.as_bytes().to_vec(), move |b| scheme.sign_headers(b)));
    sender.wait_idle().await;
    assert_eq!(sender.stats().delivered, 1);
    assert_eq!(sender.deliveries().len(), 1);
    {
        let seen = seen.lock().unwrap();
        syncgram(SYNC_SECRET)
            .verify_and_parse(&seen[0].headers, &seen[0].body)
            .unwrap();
    }
    // No endpoints registered: nothing sent.
    let idle = WebhookSender::new().unwrap();
    assert!(idle.deliver(b"{}".to_vec(), |_| Vec::new()).await.is_empty());
    assert!(idle.register("http://example.com/hook").is_err());
}
