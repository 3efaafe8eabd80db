//! The shared conformance suite against wiremock speaking WooshPay's wire format.

use std::sync::Arc;

use refunds::adapter::base64_encode;
use refunds::testkit::{HarnessOptions, RefundFixture, WireClient, WireDialect, WireError, WireHarness, fast_retry};
use refunds::{CreateRefund, PaymentRef};
use refunds_wooshpay::{STATUSES, WooshPayClient};
use serde_json::{Value, json};
use wiremock::{Request, ResponseTemplate};

const KEY: &str = "sk_test_conformance_51Hc9x";

struct Dialect;

fn refund_body(f: &RefundFixture) -> Value {
    json!({
        "id": f.id,
        "object": "refund",
        "amount": f.amount.minor(),
        "created": 1_644_328_172,
        "currency": f.amount.currency().code_lowercase(),
        "metadata": {},
        "payment_intent": f.payment_id,
        "reason": null,
        "status": STATUSES.to_wire(&f.status),
        "description": null,
        "failure_reason": null,
    })
}

fn error_body(kind: &str, code: Option<&str>, param: Option<&str>, message: &str) -> Value {
    let mut error = json!({ "type": kind, "message": message });
    if let Some(code) = code {
        error["code"] = json!(code);
    }
    if let Some(param) = param {
        error["param"] = json!(param);
    }
    json!({ "error": error })
}

impl WireDialect for Dialect {
    fn api_key(&self) -> String {
        KEY.into()
    }

    fn client(&self, base_url: &str, options: &HarnessOptions) -> WireClient {
        let builder = WooshPayClient::builder()
            .api_key(KEY)
            .base_url(base_url)
            .retry(fast_retry(options.max_retries))
            .timeout(options.timeout)
            .currency(options.currency);
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

    fn refund_body(&self, fixture: &RefundFixture) -> Value {
        refund_body(fixture)
    }

    fn list_body(&self, _all: &[RefundFixture], _request: &Request) -> Value {
        // Never asked: WooshPay has no list endpoint (list_path is None).
        error_body("invalid_request_error", None, None, "unrecognized request url")
    }

    fn error_response(&self, error: WireError) -> ResponseTemplate {
        let invalid = "invalid_request_error";
        let (status, kind, code, param, message) = match error {
            WireError::Unauthorized => (401, invalid, None, None, "invalid api key provided"),
            WireError::NotFound => (404, invalid, Some("resource_missing"), Some("id"), "no such refund"),
            WireError::Validation => (
                400,
                invalid,
                Some("parameter_invalid_integer"),
                Some("amount"),
                "invalid integer",
            ),
            WireError::OverRefund => (
                400,
                invalid,
                Some("amount_too_large"),
                Some("amount"),
                "refund amount too large",
            ),
            WireError::UnknownPayment => (
                404,
                invalid,
                Some("resource_missing"),
                Some("payment_intent"),
                "no such pi",
            ),
            WireError::RateLimited => (429, invalid, Some("rate_limit"), None, "too many requests"),
            WireError::ServerError => (500, "api_error", None, None, "internal error"),
            other => panic!("no wooshpay answer for {other:?}"),
        };
        ResponseTemplate::new(status).set_body_json(error_body(kind, code, param, message))
    }

    fn check_create(&self, received: &Request, request: &CreateRefund) {
        let expected_auth = format!("Basic {}", base64_encode(format!("{KEY}:").as_bytes()));
        assert_eq!(received.headers.get("authorization").unwrap(), &expected_auth);
        assert_eq!(received.headers.get("accept").unwrap(), "application/json");
        let body: Value = serde_json::from_slice(&received.body).unwrap();
        let object = body.as_object().expect("a json object");
        for name in object.keys() {
            assert!(
                ["payment_intent", "amount", "reason", "metadata"].contains(&name.as_str()),
                "undocumented field {name}"
            );
        }
        assert_eq!(body["payment_intent"], request.payment().id());
        match request.amount_requested() {
            Some(m) => assert_eq!(body["amount"], json!(m.minor().to_string())),
            None => assert!(body.get("amount").is_none()),
        }
        match request.reason_given() {
            Some(r) => assert_eq!(body["reason"], r.as_str()),
            None => assert!(body.get("reason").is_none()),
        }
        if let Some(reference) = request.merchant_reference_given() {
            assert_eq!(body["metadata"]["merchant_reference"], reference);
        }
        let key = received
            .headers
            .get("idempotency-key")
            .expect("every create carries an Idempotency-Key")
            .to_str()
            .unwrap();
        match request.idempotency_key_given() {
            Some(given) => assert_eq!(key, given.as_str()),
            None => assert!(key.starts_with("rfd_"), "generated key {key}"),
        }
    }
}

refunds::conformance_tests!(WireHarness::new(Dialect));
refunds::bad_input_tests!(WireHarness::new(Dialect));
