//! Red-team regressions of SyncgramPay's recovery on the wire (wiremock answers as SyncgramPay would):
//! a customer-borne fee (B2, B10) and second-precision creation times (B7).

use std::time::Duration;

use refunds::{
    CreateRefund, Currency, Money, OffsetDateTime, PaymentRef, PendingCreate, RecoverExt, Recovery, RecoveryOptions,
    RefundProvider,
};
use refunds_syncgram::{FeeBearer, SyncgramClient, SyncgramExt, SyncgramOptions};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const REFUNDS: &str = "/api/v1/payments/refunds";

fn customer_fee() -> SyncgramOptions {
    SyncgramOptions::new().fee_bearer(FeeBearer::Customer)
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339).unwrap()
}

/// The refund the provider made for the create: 25.00 requested, 0.25 fee borne by the customer.
fn applied(created_at: OffsetDateTime, key: &str) -> serde_json::Value {
    let at = rfc3339(created_at);
    json!({
        "refund_id": "ref_applied_1", "charge_id": "ch_a1b2c3d4e5f6", "reference": "partial_refund_ord_12345",
        "status": "succeeded", "requested_amount": "25.00", "refunded_amount": "24.75", "refund_fee_amount": "0.25",
        "fee_bearer": "CUSTOMER", "reason": null, "created_at": at, "updated_at": at, "completed_at": at,
        "idempotency_key_seen": key,
    })
}

/// A create of 25.00 with the caller's merchant reference (and `options`), taken by the server but
/// answered after the client's `deadline`: ambiguous.
async fn ambiguous_create(
    options: &SyncgramOptions,
    deadline: Duration,
) -> (MockServer, SyncgramClient, PendingCreate) {
    let server = MockServer::start().await;
    // The create is taken but answered too late: the client's deadline passes first.
    Mock::given(method("POST"))
        .and(path(REFUNDS))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let client = SyncgramClient::builder()
        .api_key("sk_test_a1b2")
        .base_url(server.uri())
        .currency(Currency::USD)
        .max_retries(0)
        .timeout(deadline)
        .build()
        .unwrap();
    // The crate's own documented example: a partial refund with the caller's merchant reference.
    let request = CreateRefund::new(PaymentRef::charge("ch_a1b2c3d4e5f6").unwrap())
        .amount(Money::from_major_str("25.00", Currency::USD).unwrap())
        .merchant_reference("partial_refund_ord_12345");
    let error = client.create_refund_with_options(&request, options).await.unwrap_err();
    let pending = error.pending().expect("ambiguous: a pending create");
    (server, client, pending.clone())
}

/// Red-team attack B2: a SyncgramPay refund whose fee the customer bears is excluded from recovery's
/// look-up by its amount, so a create that was applied is answered `NotApplied`.
///
/// `Refund::amount` is SyncgramPay's `refunded_amount` once it is reported ("what actually went back",
/// `wire.rs`), and with `fee_bearer: CUSTOMER` "the fee is taken from what the customer gets back"
/// (`FeeBearer::Customer`'s own doc). Look-up rule 4 ("the request's currency with another amount:
/// excluded") then compares the request's amount with the net amount and drops the create's own
/// refund, although it echoes the caller's merchant reference, names the payment, and was created
/// during the call. Once the key may be forgotten (24 h), the walk finds "nothing": `NotApplied`.
#[tokio::test]
async fn red_customer_fee_refund_is_excluded_by_amount_and_lookup_says_not_applied() {
    let (server, client, pending) = ambiguous_create(&customer_fee(), Duration::from_millis(700)).await;
    let key = pending.request.idempotency_key_given().unwrap().as_str().to_owned();
    // The provider applied the create (it is in the list, for this charge, with the caller's reference).
    let created = pending.started_at + Duration::from_millis(200);
    server.reset().await;
    Mock::given(method("GET"))
        .and(path(REFUNDS))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"total": 1, "items": [applied(created, &key)]})))
        .mount(&server)
        .await;
    // The application recovers a day later (the key may be forgotten: recovery looks up).
    let later = pending.started_at + Duration::from_secs(25 * 3600);
    let verdict = client.recover_with(&pending, RecoveryOptions::new().now(later)).await;
    eprintln!("verdict: {verdict}");
    assert!(
        !verdict.is_not_applied(),
        "the create's own refund (same charge, same merchant reference, created during the call) is in \
         the list, yet: {verdict}"
    );
}

/// Within the day the re-send is answered with the same refund and the verdict is `Candidates`: the
/// SDK's own provider answers its own key with the refund, and the SDK refuses it as "differs from the
/// request". Listed to show the cause (not a break by itself).
#[tokio::test]
async fn red_customer_fee_resend_is_only_a_candidate() {
    let (server, client, pending) = ambiguous_create(&customer_fee(), Duration::from_millis(700)).await;
    let key = pending.request.idempotency_key_given().unwrap().as_str().to_owned();
    let created = pending.started_at + Duration::from_millis(200);
    server.reset().await;
    Mock::given(method("POST"))
        .and(path(REFUNDS))
        .respond_with(ResponseTemplate::new(200).set_body_json(applied(created, &key)))
        .mount(&server)
        .await;
    let verdict = client.recover(&pending).await;
    eprintln!("verdict: {verdict}");
    assert!(
        matches!(verdict, Recovery::Candidates { .. } | Recovery::Applied { .. }),
        "{verdict}"
    );
    let _ = client.info();
}

/// B10 (needs SyncgramPay to answer an in-flight key with its documented 400 instead of the 409 the SDK
/// assumes). SyncgramPay documents 400 for "invalid or not refundable" and no 409. The SDK's table maps
/// `*not_refundable` (and the sentence "not refundable") to `Validation`, and a re-send refused with a
/// 400 `Validation` is `NotApplied` (`Evidence::Malformed`: "the identical request can never apply").
/// "Not refundable" is the account's state, not the request's form: after a full refund, or while one
/// is in progress, the charge is not refundable, exactly the case of the rule "over-refund, already
/// refunded → Unknown(refused_on_state): the original may have used the balance".
#[tokio::test]
async fn red_not_refundable_on_a_resend_is_called_malformed() {
    let (server, client, _) = ambiguous_create(&customer_fee(), Duration::from_millis(700)).await;
    // A full refund this time.
    let full = CreateRefund::new(PaymentRef::charge("ch_a1b2c3d4e5f6").unwrap());
    let error = client.create_refund(&full).await.unwrap_err();
    let pending = error.pending().expect("pending").clone();
    server.reset().await;
    let mut verdicts = Vec::new();
    for body in [
        json!({"detail": "Charge ch_a1b2c3d4e5f6 is not refundable"}),
        json!({"detail": {"code": "charge_not_refundable", "message": "charge is not refundable"}}),
        json!({"code": "charge_not_refundable", "message": "charge is not refundable"}),
    ] {
        let guard = Mock::given(method("POST"))
            .and(path(REFUNDS))
            .respond_with(ResponseTemplate::new(400).set_body_json(body.clone()))
            .mount_as_scoped(&server)
            .await;
        let verdict = client.recover(&pending).await;
        drop(guard);
        eprintln!("{body}: {verdict}");
        verdicts.push(verdict);
    }
    assert!(
        verdicts.iter().all(|v| !v.is_not_applied()),
        "a state refusal of the re-send was taken as proof the create can never apply"
    );
}

/// Red-team attack B7: a provider clock inside the stated skew margin (5 min), with SyncgramPay's
/// second-precision `created_at`, puts the create's own refund outside the look-up window.
///
/// Rule 6 excludes a refund "created before the call started ... widened by the clock-skew margin":
/// `created_at >= started_at - 5 min`, compared at full precision. The provider reports whole seconds
/// (`2024-01-16T09:00:00Z`), so a refund made by a provider clock 299.999 s behind is reported up to a
/// second earlier than it happened, and falls out of the window although the skew is within the
/// margin. The same list then answers `Candidates` or `NotApplied` depending on a truncation.
#[tokio::test]
async fn red_second_precision_created_at_inside_the_skew_margin_is_excluded() {
    let (server, client, pending) = ambiguous_create(&SyncgramOptions::new(), Duration::from_millis(500)).await;
    // The provider's clock is 299.999 s behind this machine's (inside the 5 min margin); it took the
    // request 10 ms after the call started and reports the time in whole seconds.
    let provider_time = pending.started_at + Duration::from_millis(10) - Duration::from_millis(299_999);
    let reported = provider_time.replace_nanosecond(0).unwrap();
    let earliest = pending.started_at - Duration::from_secs(300);
    eprintln!(
        "started {}, provider took it at {provider_time} and reports {reported}; window from {earliest}",
        pending.started_at
    );
    if reported >= earliest {
        eprintln!("the call started too close to a whole second to show it; run again");
        return;
    }
    let at = rfc3339(reported);
    server.reset().await;
    Mock::given(method("GET"))
        .and(path(REFUNDS))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"total": 1, "items": [{
            "refund_id": "ref_1", "charge_id": "ch_a1b2c3d4e5f6", "reference": "partial_refund_ord_12345",
            "status": "succeeded", "requested_amount": "25.00", "refunded_amount": "25.00",
            "refund_fee_amount": "0.00", "fee_bearer": "ORG", "created_at": at, "updated_at": at, "completed_at": at
        }]})))
        .mount(&server)
        .await;
    let later = pending.started_at + Duration::from_secs(25 * 3600);
    let verdict = client.recover_with(&pending, RecoveryOptions::new().now(later)).await;
    eprintln!("verdict: {verdict}");
    assert!(!verdict.is_not_applied(), "{verdict}");
    let _ = client.info();
}
