//! A minimal reference provider built only from `refunds::adapter`, the way a third party would
//! write one: Bearer auth, integer minor units, offset paging, `{"error": {code, message, field}}`.

#![allow(dead_code)]

use refunds::adapter::amount::MinorUnits;
use refunds::adapter::paging::{check_limit, offset};
use refunds::adapter::{ApiRequest, ApiResponse, Auth, StatusMap, Transport, TransportConfig, WithRaw};
use refunds::testkit::{HarnessOptions, fast_retry};
use refunds::{
    Capabilities, CreateRefund, Currency, Error, IdempotencySupport, ListRefunds, Page, PagingStyle, PaymentRef,
    PaymentRefKind, ProviderInfo, Refund, RefundId, RefundProvider, RefundStatus, async_trait,
};
use serde::{Deserialize, Serialize};

pub const STATUSES: StatusMap = StatusMap::new(&[
    ("pending", RefundStatus::Pending),
    ("succeeded", RefundStatus::Succeeded),
    ("failed", RefundStatus::Failed),
]);

#[derive(Deserialize)]
pub struct WireRefund {
    pub id: String,
    pub payment: String,
    pub amount: MinorUnits,
    pub currency: String,
    pub status: String,
}

#[derive(Serialize, Deserialize)]
pub struct WireCreate<'a> {
    #[serde(borrow)]
    pub payment: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<MinorUnits>,
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
            let kind = match body.error.code.as_str() {
                "amount_too_large" => refunds::ErrorKind::AmountExceedsRefundable,
                "idempotency_conflict" => refunds::ErrorKind::IdempotencyConflict,
                _ => kind,
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
        Err(_) => Error::new(kind, refunds::Delivery::Rejected, format!("http {}", response.status)),
    }
}

#[derive(Debug)]
pub struct Reference {
    info: ProviderInfo,
    transport: Transport,
}

impl Reference {
    pub fn new(base_url: &str, key: &str, options: &HarnessOptions) -> Result<Reference, Error> {
        let config = TransportConfig::new(base_url)?
            .retry(fast_retry(options.max_retries))
            .timeout(options.timeout);
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
        let currency = Currency::from_code(&wire.value.currency).map_err(|e| Error::decode(e.to_string()))?;
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
                .header(http::HeaderName::from_static("idempotency-key"), key.as_str())?
                .replay_safe(true);
        }
        let outcome = async {
            let response = self.transport.send(&call).await?;
            response.decode(|wire| self.refund(wire))
        };
        outcome
            .await
            .map_err(|e| refunds::adapter::note_pending_create(e, request))
    }

    async fn get_refund(&self, id: &RefundId) -> Result<Refund, Error> {
        let response = self.transport.send(&ApiRequest::get(&["refunds", id.as_str()])).await?;
        response.decode(|wire| self.refund(wire))
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
        let response = self.transport.send(&call).await?;
        response.decode(|list: WireList| {
            let items = list
                .data
                .into_iter()
                .map(|w| self.refund(w))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(offset::page("reference", items, start, Some(list.total)))
        })
    }
}
