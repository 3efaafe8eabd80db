//! SyncgramPay webhooks (providers-2.md §2): envelope `{id, type, created_at, data}`, HMAC-SHA256
//! with the merchant-chosen secret (8 to 64 characters). The header name, the signed bytes and the
//! event names are undocumented: the crate's defaults (`X-Syncgram-Signature`, hex HMAC-SHA256 of the
//! raw body, `refund.*` names) are tested as configuration, not as documented facts, and so is the
//! timestamped alternative (where the "old timestamp" and "missing t" cases apply).
//!
//! Every signature a test accepts is computed here with `hmac` + `sha2`, never with the SDK's signer;
//! the shared checks (`refunds_testkit::webhooks`) run on both forms.

use hmac::{Hmac, Mac};
use refunds::adapter::signature::SignatureEncoding;
use refunds::webhook::{HmacScheme, WebhookErrorKind};
use refunds::{Currency, EventKind, Money, PaymentRef, RefundStatus, WebhookVerifier};
use refunds_syncgram::sandbox;
use refunds_syncgram::webhooks::{self, DEFAULT_SIGNATURE_HEADER, EVENTS, SignedBytes, VerifierBuilder};
use refunds_testkit::webhooks::{NOW, WebhookCase, hex, sandbox_round_trip};
use sha2::Sha256;

const SECRET: &str = "merchant-chosen-secret";

/// The documented envelope around the documented refund object.
const EVENT: &str = r#"{"id":"evt_01HN4X","type":"refund.succeeded","created_at":"2024-01-01T00:00:00Z","data":{
  "refund_id": "ref_a1b2c3d4e5f6", "charge_id": "ch_a1b2c3d4e5f6", "reference": "refund_ord_12345",
  "status": "succeeded", "requested_amount": "50.00", "refunded_amount": "50.00", "refund_fee_amount": "0.50",
  "fee_bearer": "ORG", "reason": "Customer request", "created_at": "2024-01-16T09:00:00Z",
  "updated_at": "2024-01-16T09:05:00Z", "completed_at": "2024-01-16T09:05:00Z"}}"#;

fn hmac(secret: &str, body: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

/// The default: hex HMAC-SHA256 of the raw body (`t` unused).
fn sign(secret: &str, _t: i64, body: &[u8]) -> String {
    hex(&hmac(secret, body))
}

/// The timestamped alternative: `t=<t>,v1=<hex of HMAC-SHA256(secret, t + "." + body)>`.
fn sign_at(secret: &str, t: i64, body: &[u8]) -> String {
    format!(
        "t={t},v1={}",
        hex(&hmac(secret, &[format!("{t}.").as_bytes(), body].concat()))
    )
}

fn case() -> WebhookCase<HmacScheme> {
    let builder = |secret: &str| webhooks::builder(secret, Currency::USD);
    WebhookCase {
        other_secret: "the-next-secret",
        // SyncgramPay's test event.
        unknown:
            br#"{"id":"evt_9","type":"collection.succeeded","created_at":"2024-01-01T00:00:00Z","data":{"id":"col_1"}}"#,
        broken:
            br#"{"id":"evt_3","type":"refund.created","created_at":"2024-01-01T00:00:00Z","data":{"refund_id":"r"}}"#,
        timestamped: false,
        ..WebhookCase::new(("syncgram", DEFAULT_SIGNATURE_HEADER), (SECRET, EVENT), sign, builder)
    }
}

refunds_testkit::webhook_tests!(case());

/// The same checks on the timestamped alternative.
mod timestamped {
    use super::*;

    pub(super) fn case() -> WebhookCase<HmacScheme> {
        WebhookCase {
            timestamped: true,
            sign: sign_at,
            builder: |secret| webhooks::builder(secret, Currency::USD).signed_bytes(SignedBytes::TimestampDotBody),
            ..super::case()
        }
    }

    refunds_testkit::webhook_tests!(case());
}

#[test]
fn the_documented_event_signed_with_the_default_recipe_verifies() {
    let (case, body) = (case(), EVENT.as_bytes());
    let event = case.documented_event();
    let sig = sign(SECRET, 0, body);
    for value in [sig.to_ascii_uppercase(), format!("sha256={sig}")] {
        let same = case.verifier().verify_and_parse(&case.headers(&value), body).unwrap();
        assert_eq!(same, event);
    }
    assert_eq!((event.id.as_str(), event.kind), ("evt_01HN4X", EventKind::Succeeded));
    assert_eq!(event.created_at.unwrap().unix_timestamp(), NOW);
    let refund = event.refund.expect("a refund event carries a refund");
    assert_eq!(refund.id.as_str(), "ref_a1b2c3d4e5f6");
    assert_eq!(refund.amount, Money::from_minor(5_000, Currency::USD));
    assert_eq!(refund.status, RefundStatus::Succeeded);
    assert_eq!(refund.payment, PaymentRef::charge("ch_a1b2c3d4e5f6").unwrap());
    assert_eq!(DEFAULT_SIGNATURE_HEADER, "X-Syncgram-Signature");
    assert_eq!(EVENTS.kind("refund.failed"), EventKind::Failed);
    // The timestamped alternative, with the same event.
    timestamped::case().documented_event();
}

#[test]
fn header_encoding_and_secret_length_are_configuration() {
    let body = EVENT.as_bytes();
    let b64 = refunds::adapter::base64_encode(&hmac(SECRET, body));
    let configure = |b: VerifierBuilder| b.header("X-Webhook-Signature").encoding(SignatureEncoding::Base64);
    let custom = WebhookCase {
        header: "x-webhook-signature",
        ..case()
    };
    let custom_verifier = configure(webhooks::builder(SECRET, Currency::USD)).build().unwrap();
    custom_verifier.verify_and_parse(&custom.headers(&b64), body).unwrap();
    let hex_sig = custom_verifier.verify_and_parse(&custom.headers(&sign(SECRET, 0, body)), body);
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

/// The sandbox signs with the default scheme, in the documented envelope and the assumed names;
/// `refunds_testkit::webhooks::sandbox_round_trip` checks the rest.
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
    let types = ["refund.created", "refund.succeeded", "refund.created", "refund.failed"];
    let trip = sandbox_round_trip(&sandbox, &client, enable, &verifier, charge, sandbox::CURRENCY, types).await;
    let kinds = [
        EventKind::Created,
        EventKind::Succeeded,
        EventKind::Created,
        EventKind::Failed,
    ];
    for (event, kind) in trip.events.iter().zip(kinds) {
        assert_eq!(event.kind, kind);
        // The documented envelope: {id, type, created_at, data}, nothing else.
        let value = event.raw.to_value();
        let mut keys: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["created_at", "data", "id", "type"]);
    }
    case().assert_signed(&trip.deliveries[0]);
}
