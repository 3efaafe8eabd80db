//! Red-team attack B7: a provider clock inside the stated skew margin (5 min), with SyncgramPay's
//! second-precision `created_at`, puts the create's own refund outside the look-up window.
//!
//! Rule 6 excludes a refund "created before the call started ... widened by the clock-skew margin":
//! `created_at >= started_at - 5 min`, compared at full precision. The provider reports whole seconds
//! (`2024-01-16T09:00:00Z`), so a refund made by a provider clock 299.999 s behind is reported up to a
//! second earlier than it happened, and falls out of the window although the skew is within the
//! margin. The same list then answers `Candidates` or `NotApplied` depending on a truncation.

use std::time::Duration;

use refunds::{CreateRefund, Currency, Money, PaymentRef, RecoverExt, RecoveryOptions, RefundProvider};
use refunds_syncgram::SyncgramClient;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const REFUNDS: &str = "/api/v1/payments/refunds";

#[tokio::test]
async fn red_second_precision_created_at_inside_the_skew_margin_is_excluded() {
    let server = MockServer::start().await;
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
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let request = CreateRefund::new(PaymentRef::charge("ch_a1b2c3d4e5f6").unwrap())
        .amount(Money::from_major_str("25.00", Currency::USD).unwrap())
        .merchant_reference("partial_refund_ord_12345");
    let pending = client
        .create_refund(&request)
        .await
        .unwrap_err()
        .pending()
        .unwrap()
        .clone();
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
    let at = reported.format(&time::format_description::well_known::Rfc3339).unwrap();
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
