//! The shared conformance suite against wiremock, speaking SyncgramPay's wire format.

use std::collections::HashMap;
use std::sync::Arc;

use refunds_testkit::{HarnessOptions, RefundFixture, WireClient, WireDialect, WireError, WireHarness, fast_retry};
use refunds::{CreateRefund, Money, PaymentRef, RefundStatus};
use refunds_syncgram::{MAX_REFERENCE_LEN, SyncgramClient};
use serde_json::{Value, json};
use wiremock::{Request, ResponseTemplate};

const KEY: &str = "sk_test_conformance_a1b2c3d4e5f6";
const REFUNDS: &str = "/api/v1/payments/refunds";

struct Syncgram;

/// The documented refund object with the fixture's id, charge, status and amount (the SDK's status
/// names are SyncgramPay's; an unknown one is written raw).
fn refund_body(f: &RefundFixture) -> Value {
    let mut body: Value = serde_json::from_str(include_str!("fixtures/create_response.json")).unwrap();
    let amount = json!(f.amount.to_major_string());
    let succeeded = f.status == RefundStatus::Succeeded;
    body["refund_id"] = json!(f.id);
    body["charge_id"] = json!(f.payment_id);
    body["status"] = json!(f.status.as_str());
    body["requested_amount"] = amount.clone();
    body["refunded_amount"] = if succeeded { amount } else { Value::Null };
    body["refund_fee_amount"] = json!(Money::zero(f.amount.currency()).to_major_string());
    body
}

fn detail(status: u16, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({ "detail": message }))
}

impl WireDialect for Syncgram {
    fn api_key(&self) -> String {
        KEY.into()
    }

    fn client(&self, base_url: &str, options: &HarnessOptions) -> WireClient {
        let builder = SyncgramClient::builder()
            .api_key(KEY)
            .base_url(base_url)
            .currency(options.currency)
            .retry(fast_retry(options.max_retries))
            .timeout(options.timeout);
        let builder_debug = format!("{builder:?}");
        let client = builder.build().expect("client builds");
        let debug_strings = vec![builder_debug, format!("{client:?}")];
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
        ("POST", REFUNDS.into())
    }

    fn get_path(&self, encoded_id: &str) -> Option<String> {
        Some(format!("{REFUNDS}/{encoded_id}"))
    }

    fn list_path(&self) -> Option<String> {
        Some(REFUNDS.into())
    }

    fn refund_body(&self, fixture: &RefundFixture) -> Value {
        refund_body(fixture)
    }

    fn list_body(&self, all: &[RefundFixture], request: &Request) -> Value {
        let q: HashMap<_, _> = request.url.query_pairs().into_owned().collect();
        let offset: usize = q["offset"].parse().unwrap();
        let limit: usize = q["limit"].parse().unwrap();
        let items: Vec<Value> = all.iter().skip(offset).take(limit).map(refund_body).collect();
        json!({ "total": all.len(), "items": items })
    }

    fn error_response(&self, error: WireError) -> ResponseTemplate {
        match error {
            WireError::Unauthorized => detail(401, "Invalid or missing API key"),
            WireError::NotFound => detail(404, "Refund not found"),
            WireError::Validation => ResponseTemplate::new(400).set_body_raw(
                r#"{"detail":[{"loc":["body","amount"],"msg":"Input should be greater than 0","type":"gt"}]}"#,
                "application/json",
            ),
            WireError::OverRefund => detail(400, "Refund amount exceeds the refundable amount of 10.00"),
            WireError::UnknownPayment => detail(404, "Charge not found"),
            WireError::RateLimited => detail(429, "Too many requests"),
            WireError::ServerError => detail(500, "Internal Server Error"),
            _ => detail(500, "unexpected"),
        }
    }

    fn check_create(&self, received: &Request, request: &CreateRefund) {
        assert_eq!(received.headers.get("authorization").unwrap(), &format!("Bearer {KEY}"));
        assert!(
            received.headers.get("idempotency-key").is_none(),
            "the key travels in the body"
        );
        let text = std::str::from_utf8(&received.body).unwrap();
        let body: Value = serde_json::from_str(text).unwrap();
        assert_eq!(body["charge_id"], request.payment().id());
        match request.amount_requested() {
            // A bare JSON number equal to the amount, exactly (see `amount_value` for its spelling).
            Some(m) => {
                assert!(body["amount"].is_number(), "{text}");
                let sent = Money::from_major_str(&body["amount"].to_string(), m.currency());
                assert_eq!(sent.as_ref(), Ok(m), "{text}");
            }
            None => assert!(body.get("amount").is_none(), "{text}"),
        }
        // Every create carries a key (the caller's or a generated one); the reference is the merchant
        // reference, else that key.
        let key = body["idempotency_key"].as_str().expect("idempotency_key always sent");
        if let Some(given) = request.idempotency_key_given() {
            assert_eq!(key, given.as_str());
        }
        let reference = request.merchant_reference_given().unwrap_or(key);
        assert_eq!(
            body["reference"].as_str(),
            Some(reference).filter(|r| r.len() <= MAX_REFERENCE_LEN)
        );
        assert_eq!(
            body.get("reason").and_then(Value::as_str),
            request.reason_given().map(|r| r.as_str())
        );
        let known = "charge_id reference amount fee_bearer reason refund_address idempotency_key simulated_outcome";
        for name in body.as_object().unwrap().keys() {
            assert!(known.split(' ').any(|k| k == name), "undocumented field {name}");
        }
    }
}

refunds_testkit::conformance_tests!(WireHarness::new(Syncgram));
refunds_testkit::bad_input_tests!(WireHarness::new(Syncgram));
