//! The shared conformance suite over wiremock, in this provider's wire format.

use std::collections::HashMap;
use std::sync::Arc;

use refunds::testkit::{HarnessOptions, RefundFixture, WireClient, WireDialect, WireError, WireHarness, fast_retry};
use refunds::{CreateRefund, PaymentRef};
use refunds_cursor::{CursorClient, STATUSES};
use serde_json::{Value, json};
use wiremock::{Request, ResponseTemplate};

const KEY: &str = "sk_test_cursor_conformance_7d1e";

struct Dialect;

fn body(f: &RefundFixture) -> Value {
    json!({
        "object": "refund",
        "id": f.id,
        "live": false,
        "created_at": 1_704_067_200_123_i64,
        "amount": f.amount.minor(),
        "failed_reason": null,
        "payment": f.payment_id,
        "status": STATUSES.to_wire(&f.status),
    })
}

impl WireDialect for Dialect {
    fn api_key(&self) -> String {
        KEY.into()
    }

    fn client(&self, base_url: &str, options: &HarnessOptions) -> WireClient {
        let builder = CursorClient::builder()
            .api_key(KEY)
            .base_url(base_url)
            .currency(options.currency)
            .retry(fast_retry(options.max_retries))
            .timeout(options.timeout);
        let debug_strings = vec![format!("{builder:?}")];
        let client = builder.build().expect("client");
        let mut debug_strings = debug_strings;
        debug_strings.push(format!("{client:?}"));
        WireClient {
            client: Arc::new(client),
            debug_strings,
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
        let page: Vec<Value> = rest.iter().take(limit).map(body).collect();
        json!({"object": "list", "data": page, "has_more": rest.len() > limit})
    }

    fn error_response(&self, error: WireError) -> ResponseTemplate {
        let (status, error_type, code, param) = match error {
            WireError::Unauthorized => (401, "authentication_error", "unauthorized", None),
            WireError::NotFound => (404, "invalid_request_error", "resource_missing", None),
            WireError::Validation => (
                400,
                "invalid_request_error",
                "parameter_invalid_integer",
                Some("amount"),
            ),
            WireError::OverRefund => (400, "invalid_request_error", "amount_too_large", Some("amount")),
            WireError::UnknownPayment => (404, "invalid_request_error", "resource_missing", Some("payment")),
            WireError::RateLimited => (429, "rate_limit_error", "rate_limit", None),
            WireError::ServerError => (500, "api_error", "api_error", None),
            _ => (500, "api_error", "other", None),
        };
        ResponseTemplate::new(status).set_body_json(json!({"error": {
            "type": error_type, "code": code, "message": format!("{code} (conformance)"), "param": param,
        }}))
    }

    fn check_create(&self, received: &Request, request: &CreateRefund) {
        assert_eq!(received.headers.get("authorization").unwrap(), &format!("Bearer {KEY}"));
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
        assert!(
            received.headers.get("idempotency-key").is_none(),
            "no idempotency is documented, so no key is sent"
        );
    }
}

refunds::conformance_tests!(WireHarness::new(Dialect));
refunds::bad_input_tests!(WireHarness::new(Dialect));
