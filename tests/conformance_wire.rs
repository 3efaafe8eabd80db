//! The conformance suite over HTTP: a minimal reference provider built only from `refunds::adapter`
//! (the way a third party would write one), run against wiremock through `WireHarness`.

mod common;

use std::sync::Arc;

use common::reference::{Reference, STATUSES};
use refunds::{CreateRefund, PaymentRef};
use refunds_testkit::{HarnessOptions, RefundFixture, WireClient, WireDialect, WireError, WireHarness};
use serde_json::{Value, json};
use wiremock::{Request, ResponseTemplate};

struct Dialect;

const KEY: &str = "sk_test_reference_secret";

fn body(f: &RefundFixture) -> Value {
    json!({
        "id": f.id, "payment": f.payment_id, "amount": f.amount.minor(),
        "currency": f.amount.currency().code(), "status": STATUSES.to_wire(&f.status),
    })
}

impl WireDialect for Dialect {
    fn api_key(&self) -> String {
        KEY.into()
    }
    fn client(&self, base_url: &str, options: &HarnessOptions) -> WireClient {
        let client = Reference::client(base_url, KEY, options).unwrap();
        let debug_strings = vec![format!("{client:?}")];
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
        false
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
        let q: std::collections::HashMap<_, _> = request.url.query_pairs().into_owned().collect();
        let offset: usize = q["offset"].parse().unwrap();
        let limit: usize = q["limit"].parse().unwrap();
        let page: Vec<Value> = all.iter().skip(offset).take(limit).map(body).collect();
        json!({ "data": page, "total": all.len() })
    }
    fn error_response(&self, error: WireError) -> ResponseTemplate {
        let (status, code, field) = match error {
            WireError::Unauthorized => (401, "unauthorized", None),
            WireError::NotFound => (404, "not_found", None),
            WireError::Validation => (400, "invalid_amount", Some("amount")),
            WireError::OverRefund => (400, "amount_too_large", Some("amount")),
            WireError::UnknownPayment => (404, "payment_not_found", Some("payment")),
            WireError::RateLimited => (429, "rate_limited", None),
            WireError::ServerError => (500, "internal", None),
            _ => (500, "other", None),
        };
        ResponseTemplate::new(status).set_body_json(json!({"error": {"code": code, "message": code, "field": field}}))
    }
    fn check_create(&self, received: &Request, request: &CreateRefund) {
        assert_eq!(received.headers.get("authorization").unwrap(), &format!("Bearer {KEY}"));
        let body: Value = serde_json::from_slice(&received.body).unwrap();
        assert_eq!(body["payment"], request.payment().id());
        match request.amount_requested() {
            Some(m) => assert_eq!(body["amount"], json!(m.minor())),
            None => assert!(body.get("amount").is_none()),
        }
        let key = received
            .headers
            .get("idempotency-key")
            .map(|v| v.to_str().unwrap().to_owned());
        // The caller's key, or one the engine generated for this create.
        match request.idempotency_key_given() {
            Some(given) => assert_eq!(key.as_deref(), Some(given.as_str())),
            None => assert!(
                key.as_deref().is_some_and(|k| k.starts_with("rfd_") && k.len() == 36),
                "{key:?}"
            ),
        }
    }
}

refunds_testkit::conformance_tests!(WireHarness::new(Dialect));
refunds_testkit::bad_input_tests!(WireHarness::new(Dialect));
