//! WooshPay webhooks (providers-2.md §2): `Wooshpay-Signature: t=<ts>,v1=<hex>`, hex HMAC-SHA256 over
//! `t` + "." + the raw body; Stripe-style envelope; refund event `charge.refund.updated`.
//!
//! Every signature a test accepts is the documented recipe computed by the testkit with `hmac` +
//! `sha2`, never with the SDK's signer; the shared checks (`refunds_testkit::webhooks`) run on it.

use refunds::adapter::signature::TimestampedHmac;
use refunds::{Currency, EventKind, Money, PaymentRef, RefundStatus, WebhookVerifier};
use refunds_testkit::webhooks::{WebhookCase, sign_timestamped};
use refunds_wooshpay::sandbox;
use refunds_wooshpay::webhooks::{self, EVENTS, SIGNATURE_HEADER};

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

fn case() -> WebhookCase<TimestampedHmac> {
    let builder = |secret: &str| webhooks::builder(secret);
    let mut case = WebhookCase::new(
        ("wooshpay", "wooshpay-signature"),
        (SECRET, EVENT),
        sign_timestamped,
        builder,
    );
    case.unknown =
        br#"{"id":"evt_2","object":"event","type":"payout.paid","created":1704067200,"data":{"object":{"id":"po_1"}}}"#;
    case.broken =
        br#"{"id":"evt_3","type":"charge.refund.updated","created":1704067200,"data":{"object":{"id":"re_1"}}}"#;
    // WooshPay's guide shows a secret without `whsec_`: any non-empty secret is taken.
    case.accepted_secrets = &["c2tfdGVzdF9leGFtcGxl"];
    case
}

refunds_testkit::webhook_tests!(case());

#[test]
fn the_documented_event_signed_with_the_documented_recipe_verifies() {
    let event = case().documented_event();
    assert_eq!(event.id, "evt_3OaBcD2eZvKYlo2C1x2y3z4w");
    assert_eq!(
        (event.kind, event.event_type.as_str()),
        (EventKind::Updated, "charge.refund.updated")
    );
    assert_eq!(
        (event.created_at.unwrap().unix_timestamp(), event.livemode),
        (1_704_067_195, Some(false))
    );
    let refund = event.refund.expect("a refund event carries a refund");
    let intent = PaymentRef::payment_intent("pi_1787730829493927936").unwrap();
    assert_eq!(
        (refund.id.as_str(), refund.amount, refund.status, refund.payment),
        (
            "re_3OaBcD2eZvKYlo2C0a1b2c3d",
            Money::from_minor(1999, Currency::EUR),
            RefundStatus::Succeeded,
            intent
        )
    );
    assert_eq!(EVENTS.kind("charge.refund.updated"), EventKind::Updated);
    assert_eq!(SIGNATURE_HEADER, "Wooshpay-Signature");
}

#[test]
fn a_client_carries_its_mode() {
    let client = refunds_wooshpay::WooshPayClient::builder()
        .api_key("sk_test_example_key")
        .build()
        .unwrap();
    case().reads_like_the_standalone_reader(&client, false);
}

/// The sandbox signs with the documented recipe and sends `charge.refund.updated` for every change;
/// `WebhookCase::sandbox_trip` checks the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_sends_signed_refund_events_and_retries_after_a_500() {
    let sandbox = sandbox::start().await.expect("bind 127.0.0.1");
    let client = sandbox::builder_for(&sandbox).build().unwrap();
    let enable = |sender| sandbox::enable_webhooks_with(&sandbox, webhooks::scheme(SECRET).unwrap(), sender);
    let seed = (PaymentRef::payment_intent("pi_webhooks_1").unwrap(), Currency::USD);
    let events = std::array::from_fn(|_| ("charge.refund.updated", EventKind::Updated));
    let trip = case().sandbox_trip((&sandbox, &client), enable, seed, events).await;
    assert!(
        trip.events
            .iter()
            .all(|e| e.id.starts_with("evt_") && e.refund.is_some())
    );
    assert!(sandbox::enable_webhooks(&sandbox, "").is_err());
}

/// A refund event about a dashboard refund, which names its charge and no payment intent, is read
/// with a charge reference (and the charge as the event's payment), not refused.
#[test]
fn a_refund_event_naming_only_a_charge_is_read() {
    let body = EVENT.replace(
        r#""payment_intent": "pi_1787730829493927936""#,
        r#""payment_intent": null, "charge": "ch_3OaBcD2eZvKYlo2C", "receipt_number": "1820-4419""#,
    );
    let case = case();
    let event = case
        .verifier()
        .verify_and_parse(&case.signed(SECRET, case.now, body.as_bytes()), body.as_bytes())
        .expect("a charge-only refund is an event");
    let refund = event.refund.expect("with its refund");
    assert_eq!(refund.payment, PaymentRef::charge("ch_3OaBcD2eZvKYlo2C").unwrap());
    assert_eq!(event.payment, Some(refund.payment.clone()));
    assert_eq!(
        refund
            .reconciliation
            .get::<refunds::reconciliation::ReceiptNumber>()
            .as_deref(),
        Some("1820-4419")
    );
}
