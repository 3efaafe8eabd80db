//! SyncgramPay webhooks, signed the Bachs way (the official `bachs` 2.0.0 client's
//! `bachs/webhooks.py`): `X-Bachs-Signature-V2: t=<unix s>,v1=<hex>` over `t.body`, 300 s, several
//! `v1` during a rotation; the legacy pair `X-Bachs-Timestamp` + `X-Bachs-Signature` over the same
//! string when V2 is absent; envelope `{id, type, created_at, organization_id, data}`. Event names
//! (`refund.created`, `refund.paid`, `refund.failed`) come from two community SDKs of the Bachs API.
//!
//! Signatures are computed by the testkit's own recipes, never the SDK's signer; its shared checks run
//! on the V2 header and on the raw-body configuration a receiver can still choose.

use refunds::adapter::signature::SignatureEncoding;
use refunds::reconciliation::{FeeBearer, Party};
use refunds::webhook::{Clock, HmacScheme, WebhookErrorKind};
use refunds::{Currency, EventKind, Money, PaymentRef, RefundStatus, WebhookVerifier};
use refunds_syncgram::sandbox;
use refunds_syncgram::webhooks::{
    self, EVENTS, LEGACY_SIGNATURE_HEADER, LEGACY_TIMESTAMP_HEADER, SIGNATURE_HEADER, SignedBytes,
};
use refunds_testkit::webhooks::{
    NOW, WebhookCase, header_map, hmac_sha256, sandbox_round_trip, sign_body, sign_timestamped, timestamped_signature,
};

const SECRET: &str = "merchant-chosen-secret";

/// The documented envelope (with Bachs' `organization_id`) around the documented refund object.
const EVENT: &str = r#"{"id":"evt_01HN4X","type":"refund.paid","created_at":"2024-01-01T00:00:00Z","organization_id":"org_01HN4X","data":{
  "refund_id": "ref_a1b2c3d4e5f6", "charge_id": "ch_a1b2c3d4e5f6", "reference": "refund_ord_12345",
  "status": "success", "requested_amount": "50.00", "refunded_amount": "50.00", "refund_fee_amount": "0.50",
  "fee_bearer": "ORG", "reason": "Customer request", "created_at": "2024-01-16T09:00:00Z",
  "updated_at": "2024-01-16T09:05:00Z", "completed_at": "2024-01-16T09:05:00Z"}}"#;

/// The documented names, in the order the sandbox round trip sends them.
const EVENTS_SENT: [(&str, EventKind); 4] = [
    ("refund.created", EventKind::Created),
    ("refund.paid", EventKind::Succeeded),
    ("refund.created", EventKind::Created),
    ("refund.failed", EventKind::Failed),
];

fn case() -> WebhookCase<HmacScheme> {
    let builder = |secret: &str| webhooks::builder(secret, Currency::USD);
    WebhookCase {
        other_secret: "the-next-secret",
        // SyncgramPay's test event.
        unknown: br#"{"id":"evt_9","type":"collection.succeeded","created_at":"2024-01-01T00:00:00Z","organization_id":"org_1","data":{"id":"col_1"}}"#,
        broken: br#"{"id":"evt_3","type":"refund.created","created_at":"2024-01-01T00:00:00Z","organization_id":"org_1","data":{"refund_id":"r"}}"#,
        // The secret is 8 to 64 characters.
        accepted_secrets: &["12345678", "a-secret-of-sixty-four-characters-is-the-longest-the-rule-takes."],
        refused_secrets: &["1234567", "a-secret-of-sixty-five-characters-is-one-more-than-the-rule-takes"],
        ..WebhookCase::new(("syncgram", SIGNATURE_HEADER), (SECRET, EVENT), sign_timestamped, builder)
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
            sign: sign_body,
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

#[test]
fn the_documented_event_signed_with_v2_verifies_and_reads() {
    let case = case();
    let event = case.documented_event();
    assert_eq!((event.id.as_str(), event.kind), ("evt_01HN4X", EventKind::Succeeded));
    assert_eq!(event.created_at.unwrap().unix_timestamp(), NOW);
    let refund = event.refund.expect("a refund event carries a refund");
    let usd = |minor| Money::from_minor(minor, Currency::USD);
    assert_eq!(
        (refund.id.as_str(), refund.amount, refund.fee),
        ("ref_a1b2c3d4e5f6", usd(5_000), Some(usd(50)))
    );
    assert_eq!(refund.reconciliation.get::<FeeBearer>(), Some(Party::Merchant));
    assert_eq!(refund.status, RefundStatus::Succeeded, "Bachs' `success`");
    assert_eq!(refund.payment, PaymentRef::charge("ch_a1b2c3d4e5f6").unwrap());
    assert_eq!(SIGNATURE_HEADER, "X-Bachs-Signature-V2");
    // Upper-case hex, as the vendor's client accepts it.
    let body = EVENT.as_bytes();
    let upper = format!("t={NOW},v1={}", timestamped_signature(SECRET, NOW, body).to_uppercase());
    case.verifier().verify_and_parse(&case.headers(&upper), body).unwrap();
    raw_body::case().documented_event();
}

#[test]
fn the_documented_event_names_are_typed() {
    for (name, kind) in EVENTS_SENT {
        assert_eq!(EVENTS.kind(name), kind, "{name}");
    }
    for assumed_before in ["refund.succeeded", "refund.updated", "collection.succeeded"] {
        assert!(EVENTS.kind(assumed_before).is_unknown(), "{assumed_before}");
    }
}

#[test]
fn the_legacy_pair_verifies_over_the_same_string_when_v2_is_absent() {
    use WebhookErrorKind::{MalformedHeader as Malformed, MissingHeader as Missing};
    use WebhookErrorKind::{NoMatchingSignature as NoMatch, TimestampOutsideTolerance as Stale};
    let (body, verifier) = (EVENT.as_bytes(), case().verifier());
    let at = |t: i64, secret: &str| (t.to_string(), timestamped_signature(secret, t, body));
    let (t, sig) = at(NOW - 5, SECRET);
    let pair = |t: &str, sig: &str| header_map(&[(LEGACY_TIMESTAMP_HEADER, t), (LEGACY_SIGNATURE_HEADER, sig)]);
    let event = verifier.verify_and_parse(&pair(&t, &sig), body).expect("legacy pair");
    assert_eq!(event.kind, EventKind::Succeeded);
    let (wrong, old) = (at(NOW - 5, "the-next-secret").1, at(NOW - 301, SECRET));
    // A malformed V2 is judged alone, as the vendor's client does: no fall back to the valid pair.
    let mut with_bad_v2 = pair(&t, &sig);
    with_bad_v2.append(SIGNATURE_HEADER, "t=1".parse().unwrap());
    let refused = [
        ("another secret", pair(&t, &wrong), NoMatch),
        ("a changed timestamp", pair(&(NOW - 4).to_string(), &sig), NoMatch),
        ("a stale one", pair(&old.0, &old.1), Stale),
        ("no timestamp", header_map(&[(LEGACY_SIGNATURE_HEADER, &sig)]), Missing),
        ("no signature", header_map(&[(LEGACY_TIMESTAMP_HEADER, &t)]), Missing),
        ("a malformed signature", pair(&t, &sig[1..]), Malformed),
        ("a malformed V2 beside it", with_bad_v2, Malformed),
    ];
    for (case, headers, kind) in refused {
        let refusal = verifier.verify_and_parse(&headers, body).unwrap_err();
        assert_eq!(refusal.kind(), kind, "{case}");
    }
    // A rotated secret signs the legacy pair too.
    let rotated = webhooks::builder(SECRET, Currency::USD).secret("the-next-secret");
    let rotated = rotated.clock(Clock::fixed_unix(NOW)).build().unwrap();
    rotated.verify_and_parse(&pair(&t, &wrong), body).expect("rotated");
}

#[test]
fn header_and_encoding_are_configuration() {
    let body = EVENT.as_bytes();
    let b64 = refunds::adapter::base64_encode(&hmac_sha256(SECRET, body));
    let custom_verifier = webhooks::builder(SECRET, Currency::USD)
        .header("X-Webhook-Signature")
        .signed_bytes(SignedBytes::RawBody)
        .encoding(SignatureEncoding::Base64)
        .build()
        .unwrap();
    let custom = |value: &str| header_map(&[("x-webhook-signature", value)]);
    custom_verifier.verify_and_parse(&custom(&b64), body).unwrap();
    let hex_sig = custom_verifier.verify_and_parse(&custom(&sign_body(SECRET, 0, body)), body);
    assert_eq!(hex_sig.unwrap_err().kind(), WebhookErrorKind::MalformedHeader);
    let default_header = custom_verifier.verify_and_parse(&case().headers(&b64), body);
    assert_eq!(default_header.unwrap_err().kind(), WebhookErrorKind::MissingHeader);
    let bad_name = webhooks::builder(SECRET, Currency::USD).header("bad header").build();
    assert!(bad_name.is_err(), "an invalid header name is a configuration error");
}

/// The sandbox signs with V2, in the Bachs envelope and the documented names;
/// `WebhookCase::sandbox_trip` checks the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_sends_signed_refund_events_and_retries_after_a_500() {
    let sandbox = sandbox::start().await.expect("bind 127.0.0.1");
    assert!(sandbox::enable_webhooks(&sandbox, "short").is_err(), "8 to 64");
    let client = sandbox::builder_for(&sandbox).build().unwrap();
    let enable = |sender| sandbox::enable_webhooks_with(&sandbox, webhooks::scheme(SECRET).unwrap(), sender);
    let seed = (PaymentRef::charge("ch_webhooks_1").unwrap(), sandbox::CURRENCY);
    let trip = case()
        .sandbox_trip((&sandbox, &client), enable, seed, EVENTS_SENT)
        .await;
    for event in &trip.events {
        // The Bachs envelope: {id, type, created_at, organization_id, data}, nothing else.
        let value = event.raw.to_value();
        let mut keys: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["created_at", "data", "id", "organization_id", "type"]);
        assert_eq!(value["organization_id"], sandbox::ORGANIZATION_ID);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_can_sign_with_the_legacy_pair() {
    let sandbox = sandbox::start().await.expect("bind 127.0.0.1");
    let client = sandbox::builder_for(&sandbox).build().unwrap();
    let legacy = webhooks::legacy_scheme(SECRET).unwrap();
    let enable = |sender| sandbox::enable_webhooks_with(&sandbox, legacy, sender);
    let verifier = webhooks::verifier(SECRET, sandbox::CURRENCY).unwrap();
    let seed = (PaymentRef::charge("ch_webhooks_2").unwrap(), sandbox::CURRENCY);
    let trip = sandbox_round_trip(&sandbox, &client, enable, &verifier, seed, EVENTS_SENT).await;
    for delivery in &trip.deliveries {
        assert!(!delivery.headers.contains_key(SIGNATURE_HEADER));
        let text = |name: &str| delivery.headers[name].to_str().unwrap().to_owned();
        let t: i64 = text(LEGACY_TIMESTAMP_HEADER).parse().unwrap();
        let signature = timestamped_signature(SECRET, t, &delivery.body);
        assert_eq!(text(LEGACY_SIGNATURE_HEADER), signature);
    }
}
