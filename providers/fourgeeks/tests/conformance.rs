//! The shared conformance suite against wiremock speaking the 4Geeks wire format.

use std::collections::HashMap;
use std::sync::Arc;

use refunds_testkit::{HarnessOptions, RefundFixture, WireClient, WireDialect, WireError, WireHarness, fast_retry};
use refunds::{CreateRefund, PaymentRef};
use refunds_fourgeeks::{FourGeeksClient, STATUSES};
use serde_json::{Value, json};
use wiremock::{Request, ResponseTemplate};

const KEY: &str = "sk_test_conformance_0123456789";

struct FourGeeksDialect;

fn refund_body(fixture: &RefundFixture) -> Value {
    json!({
        "id": fixture.id,
        "object": "refund",
        "payment_id": fixture.payment_id,
        "amount": fixture.amount.minor(),
        "status": STATUSES.to_wire(&fixture.status).expect("every fixture status has a wire string"),
    })
}

impl WireDialect for FourGeeksDialect {
    fn api_key(&self) -> String {
        KEY.into()
    }

    fn client(&self, base_url: &str, options: &HarnessOptions) -> WireClient {
        let builder = FourGeeksClient::builder()
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
        ("POST", "/v1/refunds".into())
    }

    fn get_path(&self, encoded_id: &str) -> Option<String> {
        Some(format!("/v1/refunds/{encoded_id}"))
    }

    fn list_path(&self) -> Option<String> {
        Some("/v1/refunds".into())
    }

    fn refund_body(&self, fixture: &RefundFixture) -> Value {
        refund_body(fixture)
    }

    fn list_body(&self, all: &[RefundFixture], request: &Request) -> Value {
        let query: HashMap<_, _> = request.url.query_pairs().into_owned().collect();
        let offset: usize = query["offset"].parse().unwrap();
        let limit: usize = query["limit"].parse().unwrap();
        let items: Vec<Value> = all.iter().skip(offset).take(limit).map(refund_body).collect();
        json!({"items": items, "total_items": all.len(), "limit": limit, "offset": offset})
    }

    fn error_response(&self, error: WireError) -> ResponseTemplate {
        let (status, body) = match error {
            WireError::Unauthorized => (401, json!({"detail": "Authentication credentials were not provided."})),
            WireError::NotFound => (404, json!({"detail": "Not found."})),
            WireError::Validation => (
                422,
                json!({"detail": [{
                    "loc": ["body", "amount"],
                    "msg": "ensure this value is greater than 0",
                    "type": "value_error.number.not_gt"
                }]}),
            ),
            WireError::OverRefund => (
                400,
                json!({"message": {
                    "code": 400,
                    "title": "Refund error",
                    "content": "The refund amount exceeds the refundable amount of the payment.",
                    "type": "danger"
                }}),
            ),
            WireError::UnknownPayment => (404, json!({"detail": "Payment not found."})),
            WireError::RateLimited => (429, json!({"detail": "Request was throttled."})),
            WireError::ServerError => {
                // FastAPI's unhandled-exception answer is plain text, not JSON.
                return ResponseTemplate::new(500)
                    .insert_header("content-type", "text/plain; charset=utf-8")
                    .set_body_string("Internal Server Error");
            }
            _ => (500, json!({"detail": "unexpected"})),
        };
        ResponseTemplate::new(status).set_body_json(body)
    }

    fn check_create(&self, received: &Request, request: &CreateRefund) {
        assert_eq!(received.headers.get("x-api-key").unwrap().to_str().unwrap(), KEY);
        assert!(received.headers.get("authorization").is_none());
        assert!(
            received.headers.get("idempotency-key").is_none(),
            "4Geeks documents no idempotency key: none is sent"
        );
        let body: Value = serde_json::from_slice(&received.body).unwrap();
        let fields: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
        assert!(
            fields.iter().all(|f| ["payment_id", "amount", "reason"].contains(f)),
            "only documented fields: {fields:?}"
        );
        assert_eq!(body["payment_id"], request.payment().id());
        match request.amount_requested() {
            Some(amount) => assert_eq!(body["amount"], json!(amount.minor())),
            None => assert!(body.get("amount").is_none()),
        }
        match request.reason_given() {
            Some(reason) => assert_eq!(body["reason"], reason.as_str()),
            None => assert!(body.get("reason").is_none()),
        }
    }
}

refunds_testkit::conformance_tests!(WireHarness::new(FourGeeksDialect));
refunds_testkit::bad_input_tests!(WireHarness::new(FourGeeksDialect));
