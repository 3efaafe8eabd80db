//! The shared conformance suite over wiremock speaking Bias: `items` envelope, Bias error bodies, and
//! every create carrying an `idempotency-key` with only `payment` and `amount` in the body.

use std::collections::HashMap;
use std::sync::Arc;

use refunds_testkit::{HarnessOptions, RefundFixture, WireClient, WireDialect, WireError, WireHarness, fast_retry};
use refunds::{CreateRefund, PaymentRef};
use refunds_bias::{BiasClient, STATUSES};
use serde_json::{Value, json};
use wiremock::{Request, ResponseTemplate};

const KEY: &str = "sk_test_bias_conformance_7d1e";

struct Dialect;

fn body(f: &RefundFixture) -> Value {
    json!({"object": "refund", "id": f.id, "live": false, "created_at": 1_750_000_000_000_i64,
        "amount": f.amount.minor(), "failed_reason": null, "payment": f.payment_id,
        "status": STATUSES.to_wire(&f.status)})
}

impl WireDialect for Dialect {
    fn api_key(&self) -> String {
        KEY.into()
    }

    fn client(&self, base_url: &str, options: &HarnessOptions) -> WireClient {
        let builder = BiasClient::builder()
            .api_key(KEY)
            .base_url(base_url)
            .currency(options.currency)
            .retry(fast_retry(options.max_retries))
            .timeout(options.timeout);
        let builder_debug = format!("{builder:?}");
        let client = builder.build().expect("client");
        WireClient {
            debug_strings: vec![builder_debug, format!("{client:?}")],
            client: Arc::new(client),
        }
    }

    fn payment_ref(&self, id: &str) -> PaymentRef {
        PaymentRef::payment(id).unwrap()
    }

    fn foreign_payment_ref(&self, id: &str) -> Option<PaymentRef> {
        PaymentRef::charge(id).ok()
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
        body(fixture)
    }

    fn list_body(&self, all: &[RefundFixture], request: &Request) -> Value {
        let q: HashMap<_, _> = request.url.query_pairs().into_owned().collect();
        let limit: usize = q["limit"].parse().unwrap();
        let start = match q.get("starting_after") {
            Some(id) => all.iter().position(|f| &f.id == id).unwrap() + 1,
            None => 0,
        };
        let rest = &all[start..];
        let items: Vec<Value> = rest.iter().take(limit).map(body).collect();
        json!({"object": "list", "has_more": rest.len() > limit, "items": items})
    }

    fn error_response(&self, error: WireError) -> ResponseTemplate {
        let (status, kind, code, param) = match error {
            WireError::Unauthorized => (401, "invalid_request_error", Some("unauthorized"), None),
            WireError::NotFound => (404, "invalid_request_error", Some("resource_missing"), None),
            WireError::Validation => (400, "invalid_request_error", Some("parameter_invalid"), Some("amount")),
            WireError::OverRefund => (400, "invalid_request_error", Some("amount_too_large"), Some("amount")),
            WireError::UnknownPayment => (404, "invalid_request_error", Some("resource_missing"), Some("payment")),
            WireError::RateLimited => (429, "rate_limit_error", None, None),
            _ => (500, "server_error", None, None),
        };
        ResponseTemplate::new(status).set_body_json(json!({"object": "error", "error": {
            "type": kind, "live": false, "code": code, "message": "conformance", "param": param, "issues": null}}))
    }

    fn check_create(&self, received: &Request, request: &CreateRefund) {
        assert_eq!(received.headers.get("authorization").unwrap(), &format!("Bearer {KEY}"));
        let key = received
            .headers
            .get("idempotency-key")
            .expect("every create carries a key");
        if let Some(given) = request.idempotency_key_given() {
            assert_eq!(key.to_str().unwrap(), given.as_str());
        }
        let body: Value = serde_json::from_slice(&received.body).unwrap();
        let mut keys: Vec<&String> = body.as_object().unwrap().keys().collect();
        keys.sort();
        match request.amount_requested() {
            Some(m) => {
                assert_eq!(body["amount"], json!(m.minor()), "integer minor units");
                assert_eq!(keys, ["amount", "payment"]);
            }
            None => assert_eq!(keys, ["payment"]),
        }
        assert_eq!(body["payment"], request.payment().id());
    }
}

refunds_testkit::conformance_tests!(WireHarness::new(Dialect));
refunds_testkit::bad_input_tests!(WireHarness::new(Dialect));
