//! The shared conformance and bad-input suites against wiremock speaking WooshPay's wire format.

use std::sync::Arc;

use refunds::adapter::base64_encode;
use refunds::adapter::errors::{ErrorBody, stripe};
use refunds_testkit::{HarnessOptions, RefundFixture, WireClient, WireDialect, WireError, WireHarness, fast_retry};
use refunds::{CreateRefund, PaymentRef};
use refunds_wooshpay::{STATUSES, WooshPayClient};
use serde_json::{Value, json};
use wiremock::{Request, ResponseTemplate};

const KEY: &str = "sk_test_conformance_51Hc9x";

struct Dialect;

impl WireDialect for Dialect {
    fn api_key(&self) -> String {
        KEY.into()
    }
    fn client(&self, base_url: &str, options: &HarnessOptions) -> WireClient {
        let builder = WooshPayClient::builder()
            .api_key(KEY)
            .base_url(base_url)
            .currency(options.currency);
        let builder = builder.retry(fast_retry(options.max_retries)).timeout(options.timeout);
        let debug_builder = format!("{builder:?}");
        let client = builder.build().expect("client");
        let debug_strings = vec![debug_builder, format!("{client:?}")];
        WireClient {
            client: Arc::new(client),
            debug_strings,
        }
    }
    fn payment_ref(&self, id: &str) -> PaymentRef {
        PaymentRef::payment_intent(id).unwrap()
    }
    fn foreign_payment_ref(&self, id: &str) -> Option<PaymentRef> {
        PaymentRef::charge(id).ok()
    }
    fn has_configured_currency(&self) -> bool {
        true
    }
    fn create_route(&self) -> (&'static str, String) {
        ("POST", "/v1/refunds".into())
    }
    fn get_path(&self, encoded_id: &str) -> Option<String> {
        Some(format!("/v1/refunds/{encoded_id}"))
    }
    fn list_path(&self) -> Option<String> {
        None
    }

    fn refund_body(&self, f: &RefundFixture) -> Value {
        // The suite's currencies (USD, JPY, KWD) have the same units at Stripe and in ISO 4217.
        json!({
            "id": f.id, "object": "refund", "amount": f.amount.minor(), "created": 1_644_328_172,
            "currency": f.amount.currency().code_lowercase(), "metadata": {}, "payment_intent": f.payment_id,
            "reason": null, "status": STATUSES.to_wire(&f.status), "description": null, "failure_reason": null,
        })
    }

    fn list_body(&self, _all: &[RefundFixture], _request: &Request) -> Value {
        unreachable!("wooshpay has no list endpoint (list_path is None)")
    }

    fn error_response(&self, error: WireError) -> ResponseTemplate {
        let (status, code, param, message) = match error {
            WireError::Unauthorized => (401, "", "", "invalid api key provided"),
            WireError::NotFound => (404, "resource_missing", "id", "no such refund"),
            WireError::Validation => (400, "parameter_invalid_integer", "amount", "invalid integer"),
            WireError::OverRefund => (400, "amount_too_large", "amount", "refund amount too large"),
            WireError::UnknownPayment => (404, "resource_missing", "payment_intent", "no such payment_intent"),
            WireError::RateLimited => (429, "rate_limit", "", "too many requests"),
            WireError::ServerError => (500, "", "", "internal error"),
            other => panic!("no wooshpay answer for {other:?}"),
        };
        let mut body = ErrorBody::new(message).with_type(if status == 500 {
            "api_error"
        } else {
            "invalid_request_error"
        });
        body.code = Some(code.to_owned()).filter(|c| !c.is_empty());
        body.param = Some(param.to_owned()).filter(|p| !p.is_empty());
        ResponseTemplate::new(status).set_body_json(stripe::write(&body))
    }

    fn check_create(&self, received: &Request, request: &CreateRefund) {
        let expected_auth = format!("Basic {}", base64_encode(format!("{KEY}:").as_bytes()));
        assert_eq!(received.headers.get("authorization").unwrap(), &expected_auth);
        let body: Value = serde_json::from_slice(&received.body).unwrap();
        for name in body.as_object().expect("a json object").keys() {
            assert!(
                ["payment_intent", "amount", "reason", "metadata"].contains(&name.as_str()),
                "undocumented {name}"
            );
        }
        assert_eq!(body["payment_intent"], request.payment().id());
        assert_eq!(
            body.get("amount"),
            request
                .amount_requested()
                .map(|m| json!(m.minor().to_string()))
                .as_ref()
        );
        assert_eq!(
            body.get("reason"),
            request.reason_given().map(|r| json!(r.as_str())).as_ref()
        );
        if let Some(reference) = request.merchant_reference_given() {
            assert_eq!(body["metadata"]["merchant_reference"], reference);
        }
        let key = received
            .headers
            .get("idempotency-key")
            .expect("every create carries an Idempotency-Key");
        match request.idempotency_key_given() {
            Some(given) => assert_eq!(key, given.as_str()),
            None => assert!(key.to_str().unwrap().starts_with("rfd_"), "generated key {key:?}"),
        }
    }
}

refunds_testkit::conformance_tests!(WireHarness::new(Dialect));
refunds_testkit::bad_input_tests!(WireHarness::new(Dialect));
