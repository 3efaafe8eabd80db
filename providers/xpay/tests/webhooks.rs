//! xpay webhooks (providers-2.md §2): `XPay-Signature: t=<unix s>,v1=<hex>`, hex HMAC-SHA256 over
//! `${t}.${rawBody}`, 300 s; ISO 8601 `created`, `evt_test_`/`evt_live_` ids; `refund.created` carries
//! a refund, `charge.refunded` a charge (a payment reference and no refund).
//!
//! Every signature a test accepts is computed here with `hmac` + `sha2` and the documented recipe,
//! never with the SDK's signer; the shared checks (`refunds_testkit::webhooks`) run on it.

use hmac::{Hmac, Mac};
use refunds::adapter::signature::TimestampedHmac;
use refunds::{Currency, EventKind, Money, PaymentRef, RefundStatus, WebhookVerifier};
use refunds_testkit::webhooks::{NOW, WebhookCase, hex, sandbox_round_trip};
use refunds_xpay::sandbox;
use refunds_xpay::webhooks::{self, EVENTS, SIGNATURE_HEADER};
use sha2::Sha256;

const SECRET: &str = "whsec_test_5WbX5kEWLlfzsGNjH64I8lOOqUB6e8FH";

/// The documented envelope (event-reference) with the documented refund object (integrate/refunds).
const EVENT: &str = r#"{"id":"evt_test_8f2k","object":"event","api_version":"3.1.0","created":"2024-01-01T00:00:00.000Z","type":"refund.created","livemode":false,"data":{"object":{"id":"re_abc123","chargeId":"ch_xyz789","amount":"50000","currency":"EGP","status":"succeeded","reason":"requested_by_customer","createdAt":"2024-01-01T00:00:00Z"}}}"#;

/// `charge.refunded` carries a charge.
const CHARGE_EVENT: &str = r#"{"id":"evt_live_9a1b","object":"event","api_version":"3.1.0","created":"2024-01-01T00:00:00Z","type":"charge.refunded","livemode":true,"data":{"object":{"id":"ch_xyz789","object":"charge","amount":80000,"amount_refunded":80000,"currency":"EGP","status":"refunded"}}}"#;

/// `t=<t>,v1=<hex of HMAC-SHA256(secret, t + "." + body)>`.
fn sign(secret: &str, t: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(&[format!("{t}.").as_bytes(), body].concat());
    format!("t={t},v1={}", hex(&mac.finalize().into_bytes()))
}

fn case() -> WebhookCase<TimestampedHmac> {
    let builder = |secret: &str| webhooks::builder(secret);
    WebhookCase {
        unknown: br#"{"id":"evt_test_2","object":"event","type":"payout.paid","created":"2024-01-01T00:00:00Z","data":{"object":{"id":"po_1"}}}"#,
        broken: br#"{"id":"evt_test_3","type":"refund.created","created":"2024-01-01T00:00:00Z","data":{"object":{"id":"re_1"}}}"#,
        ..WebhookCase::new(("xpay", "xpay-signature"), (SECRET, EVENT), sign, builder)
    }
}

refunds_testkit::webhook_tests!(case());

#[test]
fn the_documented_events_signed_with_the_documented_recipe_verify() {
    let (case, event) = (case(), case().documented_event());
    assert_eq!((event.id.as_str(), event.kind), ("evt_test_8f2k", EventKind::Created));
    assert_eq!(event.created_at.unwrap().unix_timestamp(), NOW);
    assert_eq!(event.livemode, Some(false));
    let refund = event.refund.expect("refund.created carries a refund");
    assert_eq!(refund.id.as_str(), "re_abc123");
    assert_eq!(refund.amount, Money::from_minor(50_000, Currency::EGP));
    assert_eq!(refund.status, RefundStatus::Succeeded);
    assert_eq!(refund.payment, PaymentRef::charge("ch_xyz789").unwrap());

    // charge.refunded: a payment reference and no refund, not a decode error.
    let body = CHARGE_EVENT.as_bytes();
    let event = case
        .verifier()
        .verify_and_parse(&case.headers(&sign(SECRET, NOW, body)), body);
    let event = event.unwrap();
    assert_eq!(
        (event.kind, event.event_type.as_str()),
        (EventKind::Succeeded, "charge.refunded")
    );
    assert!(event.refund.is_none());
    assert_eq!(event.payment, Some(PaymentRef::charge("ch_xyz789").unwrap()));
    assert_eq!(event.livemode, Some(true));
    assert_eq!(EVENTS.kind("refund.created"), EventKind::Created);
    assert_eq!(SIGNATURE_HEADER, "XPay-Signature");
}

#[test]
fn secrets_are_whsec_and_a_client_reads_like_the_standalone_reader() {
    // XPay's endpoint secrets are `whsec_...`: another secret is a configuration error, unprinted.
    let e = webhooks::verifier("sk_test_not_a_webhook_secret").unwrap_err();
    assert_eq!(e.kind(), &refunds::ErrorKind::Configuration);
    assert!(!format!("{e} {e:?}").contains("not_a_webhook_secret"));
    assert!(webhooks::builder(SECRET).secret("nope").build().is_err());
    let client = refunds_xpay::XPayClient::builder()
        .api_key("sk_test_example_key")
        .build()
        .unwrap();
    let via_client = case().documented_with(|builder| builder.client(&client));
    // The same refund, plus the mode the `sk_test_` key says.
    let mut standalone = case().documented_event().refund.expect("a refund");
    assert_eq!(standalone.livemode, None);
    standalone.livemode = Some(false);
    assert_eq!(via_client.refund, Some(standalone));
}

/// The sandbox signs with the documented recipe and sends `charge.refunded` (a charge, no refund)
/// when a refund settles; `refunds_testkit::webhooks::sandbox_round_trip` checks the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_sends_signed_refund_events_and_retries_after_a_500() {
    let sandbox = sandbox::start().await.expect("bind 127.0.0.1");
    let client = sandbox::builder_for(&sandbox).build().unwrap();
    let enable = |sender| sandbox::enable_webhooks_with(&sandbox, webhooks::scheme(SECRET).unwrap(), sender);
    let (verifier, payment) = (
        webhooks::verifier(SECRET).unwrap(),
        PaymentRef::charge("ch_webhooks_1").unwrap(),
    );
    let types = ["refund.created", "charge.refunded", "refund.created", "refund.failed"];
    let trip = sandbox_round_trip(
        &sandbox,
        &client,
        enable,
        &verifier,
        payment.clone(),
        Currency::EGP,
        types,
    )
    .await;
    let kinds: Vec<EventKind> = trip.events.iter().map(|e| e.kind.clone()).collect();
    assert_eq!(
        kinds,
        [
            EventKind::Created,
            EventKind::Succeeded,
            EventKind::Created,
            EventKind::Failed
        ]
    );
    assert!(trip.events[1].refund.is_none(), "charge.refunded carries a charge");
    assert_eq!(trip.events[1].payment, Some(payment));
    assert!(trip.events.iter().all(|e| e.id.starts_with("evt_test_")));
    case().assert_signed(&trip.deliveries[0]);
    assert!(sandbox::enable_webhooks(&sandbox, "sk_test_not_whsec").is_err());
}
