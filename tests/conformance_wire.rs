//! The conformance suite over HTTP: a minimal reference provider built only from `refunds::adapter`
//! (the way a third party would write one), run against wiremock through `WireHarness`.

use std::sync::Arc;

use refunds::adapter::amount::MinorUnits;
use refunds::adapter::paging::{check_limit, offset};
use refunds::adapter::{
    ApiRequest, ApiResponse, Auth, StatusMap, Transport, TransportConfig, WithRaw,
};
use refunds::testkit::{
    HarnessOptions, RefundFixture, WireClient, WireDialect, WireError, WireHarness, fast_retry,
};
use refunds::{
    Capabilities, CreateRefund, Currency, Error, IdempotencySupport, ListRefunds, Page,
    PagingStyle, PaymentRef, PaymentRefKind, ProviderInfo, Refund, RefundId, RefundProvider,
    RefundStatus, async_trait,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use wiremock::{Request, ResponseTemplate};

const STATUSES: StatusMap = StatusMap::new(&[
    ("pending", RefundStatus::Pending),
    ("succeeded", RefundStatus::Succeeded),
    ("failed", RefundStatus::Failed),
]);

#[derive(Deserialize)]
struct WireRefund {
    id: String,
    payment: String,
    amount: MinorUnits,
    currency: String,
    status: String,
}

#[derive(Serialize)]
struct WireCreate<'a> {
    payment: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    amount: Option<MinorUnits>,
}

#[derive(Deserialize)]
struct WireList {
    data: Vec<WithRaw<WireRefund>>,
    total: u64,
}

#[derive(Deserialize)]
struct WireErrorBody {
    error: WireErrorObject,
}

#[derive(Deserialize)]
struct WireErrorObject {
    code: String,
    message: String,
    field: Option<String>,
}

fn decode_error(response: &ApiResponse) -> Error {
    let kind = refunds::adapter::kind_for_status(response.status);
    match serde_json::from_slice::<WireErrorBody>(&response.body) {
        Ok(body) => {
            let kind = if body.error.code == "amount_too_large" {
                refunds::ErrorKind::AmountExceedsRefundable
            } else {
                kind
            };
            let fields = body
                .error
                .field
                .map(|f| {
                    vec![refunds::FieldError::new(
                        f,
                        body.error.message.clone(),
                        Some(body.error.code.clone()),
                    )]
                })
                .unwrap_or_default();
            Error::new(kind, refunds::Delivery::Rejected, body.error.message)
                .with_provider_code(Some(body.error.code))
                .with_field_errors(fields)
        }
        Err(_) => Error::new(
            kind,
            refunds::Delivery::Rejected,
            format!("http {}", response.status),
        ),
    }
}

#[derive(Debug)]
struct Reference {
    info: ProviderInfo,
    transport: Transport,
}

impl Reference {
    fn new(base_url: &str, key: &str, max_retries: u32) -> Result<Reference, Error> {
        let config = TransportConfig::new(base_url)?.retry(fast_retry(max_retries));
        let capabilities = Capabilities::new()
            .list(Some(PagingStyle::Offset))
            .idempotency(IdempotencySupport::Header)
            .payment_kinds(&[PaymentRefKind::Payment]);
        Ok(Reference {
            info: ProviderInfo::new("reference", "Reference", capabilities),
            transport: Transport::new("reference", config, Auth::bearer(key)?, decode_error)?,
        })
    }

    fn refund(&self, wire: WithRaw<WireRefund>) -> Result<Refund, Error> {
        let currency =
            Currency::from_code(&wire.value.currency).map_err(|e| Error::decode(e.to_string()))?;
        Ok(Refund::new(
            RefundId::new(wire.value.id)?,
            "reference",
            PaymentRef::payment(wire.value.payment)?,
            wire.value.amount.to_money(currency),
            STATUSES.to_status(&wire.value.status),
            wire.raw,
        ))
    }
}

#[async_trait]
impl RefundProvider for Reference {
    fn info(&self) -> &ProviderInfo {
        &self.info
    }

    async fn create_refund(&self, request: &CreateRefund) -> Result<Refund, Error> {
        request.validate()?;
        let payment = request
            .payment()
            .expect_kind("reference", &self.info.capabilities.payment_kinds)?;
        let body = WireCreate {
            payment,
            amount: request.amount_requested().map(MinorUnits::from_money),
        };
        let mut call = ApiRequest::post(&["refunds"]).json(&body)?;
        if let Some(key) = request.idempotency_key_given() {
            call = call
                .header(
                    http::HeaderName::from_static("idempotency-key"),
                    key.as_str(),
                )?
                .replay_safe(true);
        }
        let outcome = async {
            let response = self.transport.send(&call).await?;
            self.refund(response.json()?)
        };
        outcome
            .await
            .map_err(|e| refunds::adapter::note_pending_create(e, request))
    }

    async fn get_refund(&self, id: &RefundId) -> Result<Refund, Error> {
        let response = self
            .transport
            .send(&ApiRequest::get(&["refunds", id.as_str()]))
            .await?;
        self.refund(response.json()?)
    }

    async fn list_refunds(&self, request: &ListRefunds) -> Result<Page<Refund>, Error> {
        if request.status_filter().is_some() {
            return Err(self.info.unsupported("status filters"));
        }
        let limit = check_limit(request.limit_requested(), 1..=100, 10)?;
        let start = offset::from_cursor("reference", request.cursor_given())?;
        let call = ApiRequest::get(&["refunds"])
            .query("limit", limit)
            .query("offset", start);
        let list: WireList = self.transport.send(&call).await?.json()?;
        let items = list
            .data
            .into_iter()
            .map(|w| self.refund(w))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(offset::page("reference", items, start, Some(list.total)))
    }
}

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
        let client = Reference::new(base_url, KEY, options.max_retries).unwrap();
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
        ResponseTemplate::new(status)
            .set_body_json(json!({"error": {"code": code, "message": code, "field": field}}))
    }
    fn check_create(&self, received: &Request, request: &CreateRefund) {
        assert_eq!(
            received.headers.get("authorization").unwrap(),
            &format!("Bearer {KEY}")
        );
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
        assert_eq!(
            key.as_deref(),
            request.idempotency_key_given().map(|k| k.as_str())
        );
    }
}

refunds::conformance_tests!(WireHarness::new(Dialect));
