//! An offline XPay on 127.0.0.1: XPay's paths, Bearer check, camelCase JSON, amounts as minor-unit
//! strings and error envelopes (with a `req_...` request id) over the shared [`Ledger`].
//!
//! ```no_run
//! use refunds::{CreateRefund, Currency, Money, PaymentRef, RefundProvider};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let sandbox = refunds_xpay::sandbox::start().await?;
//! sandbox.ledger().seed_payment("ch_1", Money::from_minor(50_000, Currency::EGP));
//! let client = refunds_xpay::sandbox::builder_for(&sandbox).build()?;
//! let refund = client.create_refund(&CreateRefund::new(PaymentRef::charge("ch_1")?)).await?;
//! assert_eq!(refund.amount.to_major_string(), "500.00");
//! # Ok(())
//! # }
//! ```
//!
//! What the sandbox knows and the real API does not say:
//! - A seeded payment is addressed by its id as `chargeId` or as `paymentIntentId`. The sandbox has no
//!   charges behind intents, so a refund made by `paymentIntentId` answers with `paymentIntentId` and
//!   no `chargeId` (the real API resolves the intent to its charge and names the charge).
//! - `GET /refunds` answers every refund as `{"data": [...]}` and reads no query parameters.
//! - Refunds start `pending` and turn `succeeded` when the ledger settles them.
//! - Error codes are the ones this crate assumes: `amount_exceeds_refundable`,
//!   `charge_already_refunded`, `resource_missing`, `parameter_missing`, `parameter_invalid`,
//!   `amount_invalid`, `charge_not_refundable`, `invalid_api_key`; injected faults answer 429 with
//!   `rate_limit` and 5xx with type `api_error`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use refunds::adapter::amount::MinorUnitsString;
use refunds::sandbox::{
    Ledger, LedgerError, RefundDraft, RefundRecord, Sandbox, SandboxRequest, SandboxResponse, Skin,
};
use serde_json::Value;

use crate::client::XPayClientBuilder;
use crate::wire::{
    MERCHANT_REFERENCE_KEY, RefundTarget, STATUSES, WireCreateBody, WireErrorBody, WireErrorDetail, WireListPage,
    WireRefund,
};
use crate::{PROVIDER_ID, XPayClient};

/// A test key the sandbox accepts (`Authorization: Bearer sk_test_xpay_sandbox_0001`).
pub const API_KEY: &str = "sk_test_xpay_sandbox_0001";

const DOC_URL: &str = "https://docs.xpay.app/integrate/errors/api-errors";

/// Which body field a refund was created through, so that it is answered the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TargetField {
    Charge,
    PaymentIntent,
}

/// XPay's face over the shared ledger.
#[derive(Debug, Default)]
pub struct XPaySkin {
    targets: Mutex<HashMap<String, TargetField>>,
    next_request: AtomicU64,
}

impl XPaySkin {
    /// A skin with no refunds remembered.
    pub fn new() -> XPaySkin {
        XPaySkin::default()
    }

    fn request_id(&self) -> String {
        format!("req_sbx{:08}", self.next_request.fetch_add(1, Ordering::SeqCst) + 1)
    }

    fn target_of(&self, refund_id: &str) -> TargetField {
        self.targets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(refund_id)
            .copied()
            .unwrap_or(TargetField::Charge)
    }

    fn remember(&self, refund_id: &str, field: TargetField) {
        self.targets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(refund_id.to_owned(), field);
    }

    fn error(
        &self,
        status: u16,
        error_type: &str,
        code: Option<&str>,
        message: &str,
        param: Option<&str>,
    ) -> SandboxResponse {
        let body = WireErrorBody {
            error: Some(WireErrorDetail {
                error_type: Some(error_type.to_owned()),
                code: code.map(str::to_owned),
                message: Some(message.to_owned()),
                param: param.map(str::to_owned),
                doc_url: code.map(|c| format!("{DOC_URL}#{c}")),
            }),
            request_id: Some(self.request_id()),
        };
        SandboxResponse::json(status, &body)
    }

    fn invalid(&self, status: u16, code: &str, message: &str, param: Option<&str>) -> SandboxResponse {
        self.error(status, "invalid_request_error", Some(code), message, param)
    }

    fn refund_wire(&self, record: &RefundRecord) -> WireRefund {
        let (charge_id, payment_intent_id) = match self.target_of(&record.id) {
            TargetField::Charge => (Some(record.payment_id.clone()), None),
            TargetField::PaymentIntent => (None, Some(record.payment_id.clone())),
        };
        let mut metadata: BTreeMap<String, Value> = record
            .metadata
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        if let Some(reference) = &record.reference {
            metadata.insert(MERCHANT_REFERENCE_KEY.to_owned(), Value::String(reference.clone()));
        }
        WireRefund {
            id: record.id.clone(),
            charge_id,
            payment_intent_id,
            amount: MinorUnitsString::from_money(&record.amount),
            currency: record.amount.currency().code().to_owned(),
            status: STATUSES
                .to_wire(&record.status)
                .unwrap_or(record.status.as_str())
                .to_owned(),
            reason: record.reason.clone(),
            description: record.description.clone(),
            metadata: Some(metadata),
            balance_transaction_id: Some(format!("bt_{}", record.id.trim_start_matches("re_"))),
            failure_reason: None,
            created_at: Some(record.created_at),
        }
    }

    fn create(&self, request: &SandboxRequest, ledger: &Ledger) -> SandboxResponse {
        let body: WireCreateBody = match request.json() {
            Ok(body) => body,
            Err(e) => {
                return self.invalid(400, "parameter_invalid", &format!("invalid request body: {e}"), None);
            }
        };
        let target = match body.target() {
            Ok(target) => target,
            Err(e) => {
                let code = if body.charge_id.is_none() {
                    "parameter_missing"
                } else {
                    "parameter_invalid"
                };
                return self.invalid(400, code, e.message, Some(e.param));
            }
        };
        let (payment_id, field, param) = match target {
            RefundTarget::Charge(id) => (id, TargetField::Charge, "chargeId"),
            RefundTarget::PaymentIntent(id) => (id, TargetField::PaymentIntent, "paymentIntentId"),
        };
        if body.amount.is_some_and(|a| a.0 <= 0) {
            return self.invalid(
                400,
                "amount_invalid",
                "amount must be a positive integer",
                Some("amount"),
            );
        }
        let mut draft = RefundDraft::new(payment_id.clone());
        draft.amount_minor = body.amount.map(|a| a.0);
        draft.reason = body.reason;
        draft.description = body.description;
        let mut metadata = body.metadata;
        draft.reference = metadata.remove(MERCHANT_REFERENCE_KEY);
        draft.metadata = metadata;
        // XPay has no idempotency key: the body only fingerprints the request.
        draft.fingerprint = String::from_utf8_lossy(&request.body).into_owned();
        match ledger.create_refund(draft) {
            Ok(outcome) => {
                let record = outcome.record();
                self.remember(&record.id, field);
                SandboxResponse::json(200, &self.refund_wire(record))
            }
            Err(LedgerError::PaymentNotFound(_)) => {
                let what = match field {
                    TargetField::Charge => "charge",
                    TargetField::PaymentIntent => "payment intent",
                };
                self.invalid(
                    404,
                    "resource_missing",
                    &format!("no such {what}: '{payment_id}'"),
                    Some(param),
                )
            }
            Err(LedgerError::PaymentNotRefundable(_)) => self.invalid(
                400,
                "charge_not_refundable",
                "the charge has not succeeded and cannot be refunded",
                Some(param),
            ),
            Err(LedgerError::AmountExceedsRefundable { available }) => self.invalid(
                400,
                "amount_exceeds_refundable",
                &format!(
                    "refund amount exceeds the refundable amount of {} {}",
                    available.to_minor_string(),
                    available.currency().code()
                ),
                Some("amount"),
            ),
            Err(LedgerError::AlreadyRefunded(_)) => self.invalid(
                400,
                "charge_already_refunded",
                &format!("charge '{payment_id}' has already been refunded"),
                Some(param),
            ),
            Err(LedgerError::InvalidAmount) => self.invalid(
                400,
                "amount_invalid",
                "amount must be a positive integer",
                Some("amount"),
            ),
            Err(other) => self.invalid(400, "parameter_invalid", &other.to_string(), None),
        }
    }
}

impl Skin for XPaySkin {
    fn provider(&self) -> &'static str {
        PROVIDER_ID
    }

    fn handle(&self, request: &SandboxRequest, ledger: &Ledger) -> SandboxResponse {
        let expected = format!("Bearer {API_KEY}");
        if request.header("authorization") != Some(expected.as_str()) {
            return self.error(
                401,
                "authentication_error",
                Some("invalid_api_key"),
                "invalid api key provided",
                None,
            );
        }
        if request.is("POST", &["refunds"]) {
            return self.create(request, ledger);
        }
        if request.is("GET", &["refunds", "*"]) {
            let id = &request.segments[1];
            return match ledger.refund(id) {
                Some(record) => SandboxResponse::json(200, &self.refund_wire(&record)),
                None => self.invalid(404, "resource_missing", &format!("no such refund: '{id}'"), Some("id")),
            };
        }
        if request.is("GET", &["refunds"]) {
            let data = ledger.refunds().iter().map(|r| self.refund_wire(r)).collect();
            return SandboxResponse::json(200, &WireListPage { data });
        }
        self.invalid(404, "resource_missing", "unrecognized request url", None)
    }

    fn error_response(&self, status: u16, message: &str) -> SandboxResponse {
        if status >= 500 {
            self.error(status, "api_error", None, message, None)
        } else {
            self.invalid(status, "rate_limit", message, None)
        }
    }
}

/// Starts an XPay sandbox (refund ids `re_000001`, ...) on an ephemeral port of 127.0.0.1.
pub async fn start() -> std::io::Result<Sandbox> {
    Sandbox::start(XPaySkin::new(), Ledger::new("re_")).await
}

/// A builder with the sandbox's key and base URL set; add settings and `build()`.
pub fn builder_for(sandbox: &Sandbox) -> XPayClientBuilder {
    XPayClient::builder().api_key(API_KEY).base_url(sandbox.base_url())
}
