//! SyncgramPay webhooks, signed the Bachs way (the official `bachs` 2.0.0 client's
//! `bachs/webhooks.py`): `X-Bachs-Signature-V2: t=<unix s>,v1=<hex>` over `t.body`, 300 s, several
//! `v1` during a rotation; the legacy pair `X-Bachs-Timestamp` + `X-Bachs-Signature` over the same
//! string when V2 is absent; envelope `{id, type, created_at, organization_id, data}`. Event names
//! (`refund.created`, `refund.paid`, `refund.failed`) come from two community SDKs of the Bachs API.
//!
//! Every signature a test accepts is computed here with `hmac` + `sha2`, never with the SDK's signer;
//! the shared checks (`refunds_testkit::webhooks`) run on the V2 header and on the raw-body
//! configuration a receiver can still choose.

use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderName, HeaderValue};
use refunds::adapter::signature::SignatureEncoding;
use refunds::reconciliation::{FeeBearer, Party};
use refunds::webhook::{Clock, HmacScheme, WebhookErrorKind};
use refunds::{Currency, EventKind, Money, PaymentRef, RefundStatus, WebhookVerifier};
use refunds_syncgram::sandbox;
use refunds_syncgram::webhooks::{
    self, EVENTS, LEGACY_SIGNATURE_HEADER, LEGACY_TIMESTAMP_HEADER, SIGNATURE_HEADER, SignedBytes, VerifierBuilder,
};
use refunds_testkit::webhooks::{NOW, WebhookCase, hex, sandbox_round_trip};
use sha2::Sha256;

const SECRET: &str = "merchant-chosen-secret";

/// The documented envelope (with Bachs' `organization_id`) around the documented refund object.
const EVENT: &str = r#"{"id":"evt_01HN4X","type":"refund.paid","created_at":"2024-01-01T00:00:00Z","organization_id":"org_01HN4X","data":{
  "refund_id": "ref_a1b2c3d4e5f6", "charge_id": "ch_a1b2c3d4e5f6", "reference": "refund_ord_12345",
  "status": "success", "requested_amount": "50.00", "refunded_amount": "50.00", "refund_fee_amount": "0.50",
  "fee_bearer": "ORG", "reason": "Customer request", "created_at": "2024-01-16T09:00:00Z",
  "updated_at": "2024-01-16T09:05:00Z", "completed_at": "2024-01-16T09:05:00Z"}}"#;

fn hmac(secret: &str, body: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

/// Hex HMAC-SHA256 of `t` + "." + body: the V2 `v1` and the legacy signature alike.
fn signature(secret: &str, t: i64, body: &[u8]) -> String {
    hex(&hmac(secret, &[format!("{t}.").as_bytes(), body].concat()))
}

/// The V2 header value: `t=<t>,v1=<hex>`.
fn sign_v2(secret: &str, t: i64, body: &[u8]) -> String {
    format!("t={t},v1={}", signature(secret, t, body))
}

/// A receiver configured for the raw body: hex HMAC-SHA256 of the body alone (`t` unused).
fn sign_raw(secret: &str, _t: i64, body: &[u8]) -> String {
    hex(&hmac(secret, body))
}

fn case() -> WebhookCase<HmacScheme> {
    let builder = |secret: &str| webhooks::builder(secret, Currency::USD);
    WebhookCase {
        other_secret: "the-next-secret",
        // SyncgramPay's test event.
        unknown: br#"{"id":"evt_9","type":"collection.succeeded","created_at":"2024-01-01T00:00:00Z","organization_id":"org_1","data":{"id":"col_1"}}"#,
        broken: br#"{"id":"evt_3","type":"refund.created","created_at":"2024-01-01T00:00:00Z","organization_id":"org_1","data":{"refund_id":"r"}}"#,
        ..WebhookCase::new(("syncgram", SIGNATURE_HEADER), (SECRET, EVENT), sign_v2, builder)
    }
}

refunds_testkit::webhook_tests!(case());

/// The same checks on a receiver configured for a raw-body signature in another header.
mod raw_body {
    use super::*;

    pub(super) fn case() -> WebhookCase<HmacScheme> {
        WebhookCase {
            header: "X-Syncgram-Signature",
            timestamped: false,
            sign: sign_raw,
            builder: |secret| {
                webhooks::builder(secret, Currency::USD)
                    .header("X-Syncgram-Signature")
                    .signed_bytes(SignedBytes::RawBody)
            },
            ..super::case()
        }
    }

    refunds_testkit::webhook_tests!(case());
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        let name = HeaderName::from_bytes(name.as_bytes()).expect("name");
        map.append(name, HeaderValue::from_str(value).expect("value"));
    }
    map
}

#[test]
fn the_documented_event_signed_with_v2_verifies_and_reads() {
    let case = case();
    let event = case.documented_event();
    assert_eq!((event.id.as_str(), event.kind), ("evt_01HN4X", EventKind::Succeeded));
    assert_eq!(event.created_at.unwrap().unix_timestamp(), NOW);
    let refund = event.refund.expect("a refund event carries a refund");
    assert_eq!(refund.id.as_str(), "ref_a1b2c3d4e5f6");
    assert_eq!(refund.amount, Money::from_minor(5_000, Currency::USD));
    assert_eq!(refund.fee, Some(Money::from_minor(50, Currency::USD)));
    assert_eq!(refund.reconciliation.get::<FeeBearer>(), Some(Party::Merchant));
    assert_eq!(refund.status, RefundStatus::Succeeded, "Bachs' `success`");
    assert_eq!(refund.payment, PaymentRef::charge("ch_a1b2c3d4e5f6").unwrap());
    assert_eq!(SIGNATURE_HEADER, "X-Bachs-Signature-V2");
    // Upper-case hex, as the vendor's client accepts it.
    let body = EVENT.as_bytes();
    let upper = sign_v2(SECRET, NOW, body).replace(
        &signature(SECRET, NOW, body),
        &signature(SECRET, NOW, body).to_uppercase(),
    );
    case.verifier().verify_and_parse(&case.headers(&upper), body).unwrap();
    raw_body::case().documented_event();
}

#[test]
fn the_documented_event_names_are_typed() {
    for (name, kind) in [
        ("refund.created", EventKind::Created),
        ("refund.paid", EventKind::Succeeded),
        ("refund.failed", EventKind::Failed),
    ] {
        assert_eq!(EVENTS.kind(name), kind, "{name}");
    }
    for assumed_before in ["refund.succeeded", "refund.updated", "collection.succeeded"] {
        assert!(EVENTS.kind(assumed_before).is_unknown(), "{assumed_before}");
    }
}

#[test]
fn the_legacy_pair_verifies_over_the_same_string_when_v2_is_absent() {
    let (body, verifier) = (EVENT.as_bytes(), case().verifier());
    let sig = signature(SECRET, NOW - 5, body);
    let t = (NOW - 5).to_string();
    let legacy = [
        (LEGACY_TIMESTAMP_HEADER, t.as_str()),
        (LEGACY_SIGNATURE_HEADER, sig.as_str()),
    ];
    let event = verifier.verify_and_parse(&headers(&legacy), body).expect("legacy pair");
    assert_eq!(event.kind, EventKind::Succeeded);
    let kind = |pairs: &[(&str, &str)]| verifier.verify_and_parse(&headers(pairs), body).unwrap_err().kind();
    // Another secret, a changed timestamp, a stale one, a missing half, a malformed one.
    let wrong = signature("the-next-secret", NOW - 5, body);
    assert_eq!(
        kind(&[(LEGACY_TIMESTAMP_HEADER, &t), (LEGACY_SIGNATURE_HEADER, &wrong)]),
        WebhookErrorKind::NoMatchingSignature
    );
    let shifted = (NOW - 4).to_string();
    assert_eq!(
        kind(&[(LEGACY_TIMESTAMP_HEADER, &shifted), (LEGACY_SIGNATURE_HEADER, &sig)]),
        WebhookErrorKind::NoMatchingSignature
    );
    let old = (NOW - 301).to_string();
    let old_sig = signature(SECRET, NOW - 301, body);
    assert_eq!(
        kind(&[(LEGACY_TIMESTAMP_HEADER, &old), (LEGACY_SIGNATURE_HEADER, &old_sig)]),
        WebhookErrorKind::TimestampOutsideTolerance
    );
    assert_eq!(
        kind(&[(LEGACY_SIGNATURE_HEADER, &sig)]),
        WebhookErrorKind::MissingHeader
    );
    assert_eq!(kind(&[(LEGACY_TIMESTAMP_HEADER, &t)]), WebhookErrorKind::MissingHeader);
    assert_eq!(
        kind(&[(LEGACY_TIMESTAMP_HEADER, &t), (LEGACY_SIGNATURE_HEADER, &sig[1..])]),
        WebhookErrorKind::MalformedHeader
    );
    // A malformed V2 is judged alone, as the vendor's client does: no fall back to the valid pair.
    let with_bad_v2 = [legacy[0], legacy[1], (SIGNATURE_HEADER, "t=1")];
    assert_eq!(kind(&with_bad_v2), WebhookErrorKind::MalformedHeader);
    // A rotated secret signs the legacy pair too.
    let rotated = webhooks::builder(SECRET, Currency::USD)
        .secret("the-next-secret")
        .clock(Clock::fixed_unix(NOW))
        .build()
        .unwrap();
    let pairs = [
        (LEGACY_TIMESTAMP_HEADER, t.as_str()),
        (LEGACY_SIGNATURE_HEADER, wrong.as_str()),
    ];
    rotated.verify_and_parse(&headers(&pairs), body).expect("rotated");
}

#[test]
fn header_encoding_and_secret_length_are_configuration() {
    let body = EVENT.as_bytes();
    let b64 = refunds::adapter::base64_encode(&hmac(SECRET, body));
    let configure = |b: VerifierBuilder| {
        b.header("X-Webhook-Signature")
            .signed_bytes(SignedBytes::RawBody)
            .encoding(SignatureEncoding::Base64)
    };
    let custom_verifier = configure(webhooks::builder(SECRET, Currency::USD)).build().unwrap();
    custom_verifier
        .verify_and_parse(&headers(&[("x-webhook-signature", &b64)]), body)
        .unwrap();
    let hex_sig =
        custom_verifier.verify_and_parse(&headers(&[("x-webhook-signature", &sign_raw(SECRET, 0, body))]), body);
    assert_eq!(hex_sig.unwrap_err().kind(), WebhookErrorKind::MalformedHeader);
    let default_header = custom_verifier.verify_and_parse(&case().headers(&b64), body);
    assert_eq!(default_header.unwrap_err().kind(), WebhookErrorKind::MissingHeader);
    // An invalid header name is a configuration error.
    assert!(
        webhooks::builder(SECRET, Currency::USD)
            .header("bad header")
            .build()
            .is_err()
    );
    // The secret is 8 to 64 characters.
    let (long, too_long) = ("x".repeat(64), "x".repeat(65));
    for (secret, ok) in [
        ("1234567", false),
        ("12345678", true),
        (&long[..], true),
        (&too_long[..], false),
    ] {
        let built = webhooks::verifier(secret, Currency::USD);
        assert_eq!(built.is_ok(), ok, "{} chars", secret.len());
        if let Err(e) = built {
            assert_eq!(e.kind(), &refunds::ErrorKind::Configuration);
            assert!(secret.len() < 8 || !e.to_string().contains(secret));
        }
    }
}

/// The sandbox signs with V2, in the Bachs envelope and the documented names;
/// `refunds_testkit::webhooks::sandbox_round_trip` checks the rest. Then the legacy pair.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_sends_signed_refund_events_and_retries_after_a_500() {
    let sandbox = sandbox::start().await.expect("bind 127.0.0.1");
    assert!(
        sandbox::enable_webhooks(&sandbox, "short").is_err(),
        "8 to 64 characters"
    );
    let client = sandbox::builder_for(&sandbox).build().unwrap();
    let enable = |sender| sandbox::enable_webhooks_with(&sandbox, webhooks::scheme(SECRET).unwrap(), sender);
    let verifier = webhooks::verifier(SECRET, sandbox::CURRENCY).unwrap();
    let charge = PaymentRef::charge("ch_webhooks_1").unwrap();
    let types = ["refund.created", "refund.paid", "refund.created", "refund.failed"];
    let trip = sandbox_round_trip(&sandbox, &client, enable, &verifier, charge, sandbox::CURRENCY, types).await;
    let kinds = [
        EventKind::Created,
        EventKind::Succeeded,
        EventKind::Created,
        EventKind::Failed,
    ];
    for (event, kind) in trip.events.iter().zip(kinds) {
        assert_eq!(event.kind, kind);
        // The Bachs envelope: {id, type, created_at, organization_id, data}, nothing else.
        let value = event.raw.to_value();
        let mut keys: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["created_at", "data", "id", "organization_id", "type"]);
        assert_eq!(value["organization_id"], sandbox::ORGANIZATION_ID);
    }
    case().assert_signed(&trip.deliveries[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_can_sign_with_the_legacy_pair() {
    let sandbox = sandbox::start().await.expect("bind 127.0.0.1");
    let client = sandbox::builder_for(&sandbox).build().unwrap();
    let legacy = webhooks::legacy_scheme(SECRET).unwrap();
    let enable = |sender| sandbox::enable_webhooks_with(&sandbox, legacy, sender);
    let verifier = webhooks::verifier(SECRET, sandbox::CURRENCY).unwrap();
    let charge = PaymentRef::charge("ch_webhooks_2").unwrap();
    let types = ["refund.created", "refund.paid", "refund.created", "refund.failed"];
    let trip = sandbox_round_trip(&sandbox, &client, enable, &verifier, charge, sandbox::CURRENCY, types).await;
    for delivery in &trip.deliveries {
        assert!(!delivery.headers.contains_key(SIGNATURE_HEADER));
        let t: i64 = delivery.headers[LEGACY_TIMESTAMP_HEADER]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let sig = delivery.headers[LEGACY_SIGNATURE_HEADER].to_str().unwrap();
        assert_eq!(sig, signature(SECRET, t, &delivery.body));
    }
}
