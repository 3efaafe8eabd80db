//! The shared conformance suite against wiremock speaking XPay's wire format, with the account
//! currency configured (the guard of safety finding 8).

use std::sync::Arc;

use refunds::testkit::{HarnessOptions, RefundFixture, WireClient, WireDialect, WireError, WireHarness, fast_retry};
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

fn error_body(error_type: &str, code: Option<&str>, message: &str, param: Option<&str>) -> Value {
    json!({
        "error": {"type": error_type, "code": code, "message": message, "param": param, "doc_url": null},
        "request_id": "req_conformance_1",
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
        let invalid = "invalid_request_error";
        let (status, body) = match error {
            WireError::Unauthorized => (
                401,
                error_body("authentication_error", Some("invalid_api_key"), "invalid api key", None),
            ),
            WireError::NotFound => (404, error_body(invalid, Some("resource_missing"), "no such refund", Some("id"))),
            WireError::Validation => (
                400,
                error_body(invalid, Some("amount_invalid"), "amount must be positive", Some("amount")),
            ),
            WireError::OverRefund => (
                400,
                error_body(invalid, Some("amount_exceeds_refundable"), "too much", Some("amount")),
            ),
            WireError::UnknownPayment => (
                404,
                error_body(invalid, Some("resource_missing"), "no such charge", Some("chargeId")),
            ),
            WireError::RateLimited => (429, error_body(invalid, Some("rate_limit"), "too many requests", None)),
            _ => (500, error_body("api_error", None, "internal error", None)),
        };
        ResponseTemplate::new(status).set_body_json(body)
    }

    fn check_create(&self, received: &Request, request: &CreateRefund) {
        assert_eq!(received.headers.get("authorization").unwrap(), &format!("Bearer {KEY}"));
        let body: Value = serde_json::from_slice(&received.body).unwrap();
        assert_eq!(body["chargeId"], request.payment().id());
        assert!(body.get("paymentIntentId").is_none(), "exactly one target");
        match request.amount_requested() {
            Some(m) => assert_eq!(body["amount"], json!(m.minor()), "integer minor units"),
            None => assert!(body.get("amount").is_none()),
        }
        match request.reason_given() {
            Some(reason) => assert_eq!(body["reason"], reason.as_str()),
            None => assert!(body.get("reason").is_none()),
        }
        match request.merchant_reference_given() {
            Some(reference) => assert_eq!(body["metadata"][MERCHANT_REFERENCE_KEY], reference),
            None => assert!(body.pointer(&format!("/metadata/{MERCHANT_REFERENCE_KEY}")).is_none()),
        }
        assert!(body.get("currency").is_none(), "xpay takes no currency on a refund");
        assert!(received.headers.get("idempotency-key").is_none());
    }
}

refunds::conformance_tests!(WireHarness::new(XPayDialect));
refunds::bad_input_tests!(WireHarness::new(XPayDialect));
