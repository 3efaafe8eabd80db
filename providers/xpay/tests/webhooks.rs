//! xpay webhooks (providers-2.md §2): `XPay-Signature: t=<unix s>,v1=<hex>`, hex HMAC-SHA256 over
//! `${t}.${rawBody}`, 300 s; ISO 8601 `created`, `evt_test_`/`evt_live_` ids; `refund.created` carries
//! a refund, `charge.refunded` a charge (a payment reference and no refund).
//!
//! Every signature a test accepts is the documented recipe computed by the testkit with `hmac` +
//! `sha2`, never with the SDK's signer; the shared checks (`refunds_testkit::webhooks`) run on it.

use refunds::adapter::signature::TimestampedHmac;
use refunds::{Currency, EventKind, Money, PaymentRef, RefundStatus, WebhookVerifier};
use refunds_testkit::webhooks::{NOW, WebhookCase, sign_timestamped};
use refunds_xpay::sandbox;
use refunds_xpay::webhooks::{self, EVENTS, SIGNATURE_HEADER};

const SECRET: &str = "whsec_test_5WbX5kEWLlfzsGNjH64I8lOOqUB6e8FH";

/// The documented envelope (event-reference) with the documented refund object (integrate/refunds).
const EVENT: &str = r#"{"id":"evt_test_8f2k","object":"event","api_version":"3.1.0","created":"2024-01-01T00:00:00.000Z","type":"refund.created","livemode":false,"data":{"object":{"id":"re_abc123","chargeId":"ch_xyz789","amount":"50000","currency":"EGP","status":"succeeded","reason":"requested_by_customer","createdAt":"2024-01-01T00:00:00Z"}}}"#;

/// `charge.refunded` carries a charge.
const CHARGE_EVENT: &str = r#"{"id":"evt_live_9a1b","object":"event","api_version":"3.1.0","created":"2024-01-01T00:00:00Z","type":"charge.refunded","livemode":true,"data":{"object":{"id":"ch_xyz789","object":"charge","amount":80000,"amount_refunded":80000,"currency":"EGP","status":"refunded"}}}"#;

fn case() -> WebhookCase<TimestampedHmac> {
    let builder = |secret: &str| webhooks::builder(secret);
    WebhookCase {
        unknown: br#"{"id":"evt_test_2","object":"event","type":"payout.paid","created":"2024-01-01T00:00:00Z","data":{"object":{"id":"po_1"}}}"#,
        broken: br#"{"id":"evt_test_3","type":"refund.created","created":"2024-01-01T00:00:00Z","data":{"object":{"id":"re_1"}}}"#,
        // XPay's endpoint secrets are `whsec_...`.
        refused_secrets: &["", "sk_test_not_a_webhook_secret", "nope"],
        ..WebhookCase::new(("xpay", "xpay-signature"), (SECRET, EVENT), sign_timestamped, builder)
    }
}

refunds_testkit::webhook_tests!(case());

#[test]
fn the_documented_events_signed_with_the_documented_recipe_verify() {
    let (case, event) = (case(), case().documented_event());
    assert_eq!((event.id.as_str(), event.kind), ("evt_test_8f2k", EventKind::Created));
    assert_eq!(
        (event.created_at.unwrap().unix_timestamp(), event.livemode),
        (NOW, Some(false))
    );
    let refund = event.refund.expect("refund.created carries a refund");
    let egp = Money::from_minor(50_000, Currency::EGP);
    let charge = PaymentRef::charge("ch_xyz789").unwrap();
    assert_eq!(
        (refund.id.as_str(), refund.amount, refund.status, refund.payment),
        ("re_abc123", egp, RefundStatus::Succeeded, charge.clone())
    );

    // charge.refunded: a payment reference and no refund, not a decode error.
    let body = CHARGE_EVENT.as_bytes();
    let event = case.verifier().verify_and_parse(&case.signed(SECRET, NOW, body), body);
    let event = event.unwrap();
    assert_eq!(
        (event.kind, event.event_type.as_str()),
        (EventKind::Succeeded, "charge.refunded")
    );
    assert!(event.refund.is_none());
    assert_eq!((event.payment, event.livemode), (Some(charge), Some(true)));
    assert_eq!(EVENTS.kind("refund.created"), EventKind::Created);
    assert_eq!(SIGNATURE_HEADER, "XPay-Signature");
}

#[test]
fn a_client_reads_like_the_standalone_reader() {
    let client = refunds_xpay::XPayClient::builder()
        .api_key("sk_test_example_key")
        .build()
        .unwrap();
    case().reads_like_the_standalone_reader(&client, false);
}

/// The sandbox signs with the documented recipe and sends `charge.refunded` (a charge, no refund)
/// when a refund settles; `WebhookCase::sandbox_trip` checks the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_sends_signed_refund_events_and_retries_after_a_500() {
    let sandbox = sandbox::start().await.expect("bind 127.0.0.1");
    let client = sandbox::builder_for(&sandbox).build().unwrap();
    let enable = |sender| sandbox::enable_webhooks_with(&sandbox, webhooks::scheme(SECRET).unwrap(), sender);
    let payment = PaymentRef::charge("ch_webhooks_1").unwrap();
    let events = [
        ("refund.created", EventKind::Created),
        ("charge.refunded", EventKind::Succeeded),
        ("refund.created", EventKind::Created),
        ("refund.failed", EventKind::Failed),
    ];
    let seed = (payment.clone(), Currency::EGP);
    let trip = case().sandbox_trip((&sandbox, &client), enable, seed, events).await;
    assert!(trip.events[1].refund.is_none(), "charge.refunded carries a charge");
    assert_eq!(trip.events[1].payment, Some(payment));
    assert!(trip.events.iter().all(|e| e.id.starts_with("evt_test_")));
    assert!(sandbox::enable_webhooks(&sandbox, "sk_test_not_whsec").is_err());
}
