//! The shared conformance suite against wiremock speaking XPay's wire format, with the account
//! currency configured (the guard of safety finding 8).

use std::sync::Arc;

use refunds_testkit::{HarnessOptions, RefundFixture, WireClient, WireDialect, WireError, WireHarness, fast_retry};
use refunds::{CreateRefund, PaymentRef};
use refunds_xpay::{MERCHANT_REFERENCE_KEY, STATUSES, XPayClient};
use serde_json::{Value, json};
use wiremock::{Request, ResponseTemplate};

const KEY: &str = "sk_test_xpay_conformance_0001";

struct XPayDialect;

fn refund_json(f: &RefundFixture) -> Value {
    json!({
        "id": f.id, "chargeId": f.payment_id, "amount": f.amount.to_minor_string(),
        "currency": f.amount.currency().code(), "status": STATUSES.to_wire(&f.status),
        "reason": "requested_by_customer", "balanceTransactionId": format!("bt_{}", f.id),
        "createdAt": "2024-01-01T00:00:00.000Z",
    })
}

impl WireDialect for XPayDialect {
    fn api_key(&self) -> String {
        KEY.into()
    }

    fn client(&self, base_url: &str, options: &HarnessOptions) -> WireClient {
        let builder = XPayClient::builder()
            .api_key(KEY)
            .base_url(base_url)
            .currency(options.currency)
            .retry(fast_retry(options.max_retries))
            .timeout(options.timeout);
        let debug_builder = format!("{builder:?}");
        let client = builder.build().expect("client");
        let debug_strings = vec![debug_builder, format!("{client:?}")];
        WireClient {
            client: Arc::new(client),
            debug_strings,
        }
    }

    fn payment_ref(&self, id: &str) -> PaymentRef {
        PaymentRef::charge(id).unwrap()
    }

    fn foreign_payment_ref(&self, id: &str) -> Option<PaymentRef> {
        PaymentRef::payment(id).ok()
    }

    fn has_configured_currency(&self) -> bool {
        true
    }

    fn create_route(&self) -> (&'static str, String) {
        ("POST", "/refunds".into())
    }

    fn get_path(&self, encoded_id: &str) -> Option<String> {
        Some(format!("/refunds/{encoded_id}"))
    }

    fn list_path(&self) -> Option<String> {
        Some("/refunds".into())
    }

    fn refund_body(&self, fixture: &RefundFixture) -> Value {
        refund_json(fixture)
    }

    fn list_body(&self, all: &[RefundFixture], request: &Request) -> Value {
        // No paging parameter is documented, so none may be sent: a query makes the answer unreadable.
        if request.url.query().is_some() {
            return json!({"unexpected_query": request.url.query()});
        }
        Value::Array(all.iter().map(refund_json).collect())
    }

    fn error_response(&self, error: WireError) -> ResponseTemplate {
        const INVALID: &str = "invalid_request_error";
        let (status, error_type, code, param) = match error {
            WireError::Unauthorized => (401, "authentication_error", "invalid_api_key", None),
            WireError::NotFound => (404, INVALID, "resource_missing", Some("id")),
            WireError::Validation => (400, INVALID, "amount_invalid", Some("amount")),
            WireError::OverRefund => (400, INVALID, "amount_exceeds_refundable", Some("amount")),
            WireError::UnknownPayment => (404, INVALID, "resource_missing", Some("chargeId")),
            WireError::RateLimited => (429, INVALID, "rate_limit", None),
            _ => (500, "api_error", "internal", None),
        };
        let error = json!({"type": error_type, "code": code, "message": code, "param": param, "doc_url": null});
        ResponseTemplate::new(status).set_body_json(json!({"error": error, "request_id": "req_conformance_1"}))
    }

    fn check_create(&self, received: &Request, request: &CreateRefund) {
        assert_eq!(received.headers["authorization"], format!("Bearer {KEY}").as_str());
        assert!(!received.headers.contains_key("idempotency-key"));
        let mut metadata = request.metadata_given().clone();
        let reference = request
            .merchant_reference_given()
            .map(|r| (MERCHANT_REFERENCE_KEY.to_owned(), r.to_owned()));
        metadata.extend(reference);
        let mut expected = json!({
            "chargeId": request.payment().id(),
            "amount": request.amount_requested().map(|m| m.minor()),
            "reason": request.reason_given().map(|r| r.as_str()),
            "description": request.description_given(),
            "metadata": (!metadata.is_empty()).then_some(metadata),
        });
        expected.as_object_mut().unwrap().retain(|_, v| !v.is_null());
        let body: Value = serde_json::from_slice(&received.body).unwrap();
        assert_eq!(body, expected, "exactly one target, integer minor units, no currency");
    }
}

refunds_testkit::conformance_tests!(WireHarness::new(XPayDialect));
refunds_testkit::bad_input_tests!(WireHarness::new(XPayDialect));
