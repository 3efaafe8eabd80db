//! An offline XPay on 127.0.0.1: XPay's paths, Bearer check, camelCase JSON, amounts as minor-unit
//! strings and error envelopes (with a `req_...` request id) over the shared [`Ledger`].
//!
//! [`start`] it, seed payments on its [`Sandbox::ledger`], and build the real client with [`builder_for`].
//!
//! What the sandbox decides where the real API does not say:
//! - A seeded payment is addressed by its id as `chargeId` or as `paymentIntentId`. The sandbox has no
//!   charges behind intents: refunds of a payment whose id starts with `pi_` answer `paymentIntentId`
//!   and no `chargeId` (the real API names the charge the intent resolved to); others answer `chargeId`.
//! - `GET /refunds` answers every refund as `{"data": [...]}` and reads no query parameters.
//! - Refunds start `pending` and turn `succeeded` when the ledger settles them.
//! - Error codes are the ones this crate assumes: `amount_exceeds_refundable`,
//!   `charge_already_refunded`, `resource_missing`, `parameter_missing`, `parameter_invalid`,
//!   `amount_invalid`, `charge_not_refundable`, `invalid_api_key`; injected faults answer 429 with
//!   `rate_limit` and 5xx with type `api_error`. No idempotency key is read: XPay documents none.
//! - [`enable_webhooks`] sends signed webhooks (`XPay-Signature`) on every refund change:
//!   `refund.created` (a refund) on a create, `charge.refunded` (a charge: `id`, `object`, `currency`
//!   only) when a refund succeeds, and the assumed `refund.failed` / `refund.updated` (a refund) when
//!   it fails or is otherwise changed.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use refunds::adapter::Secret;
use refunds::adapter::amount::MinorUnitsString;
use refunds::adapter::errors::{ErrorBody, stripe};
use refunds::adapter::signature::{SignatureScheme, TimestampedHmac};
use refunds::ledger::ChangeKind;
use refunds::sandbox::{
    Ledger, LedgerError, RefundDraft, RefundRecord, Sandbox, SandboxRequest, SandboxResponse, Skin, WebhookSender,
};
use refunds::{EventKind, RawJson, RefundStatus, Result};
use serde_json::Value;

use crate::wire::{MERCHANT_REFERENCE_KEY, STATUSES, WireCreate, WireRefund};
use crate::{ID, XPayClient, XPayClientBuilder};

/// A test key the sandbox accepts (`Authorization: Bearer sk_test_xpay_sandbox_0001`).
pub const API_KEY: &str = "sk_test_xpay_sandbox_0001";

/// The refund id prefix (`re_000001`, ...), as XPay's.
pub const REFUND_ID_PREFIX: &str = "re_";

/// Starts an XPay sandbox on an ephemeral port of 127.0.0.1, with an empty ledger.
pub async fn start() -> std::io::Result<Sandbox> {
    Sandbox::start(XPaySkin::default(), Ledger::new(REFUND_ID_PREFIX)).await
}

/// A builder with the sandbox's key and base URL set; add settings (`.currency(..)` for the account
/// currency guard) and `build()`.
pub fn builder_for(sandbox: &Sandbox) -> XPayClientBuilder {
    XPayClient::builder().api_key(API_KEY).base_url(sandbox.base_url())
}

/// XPay's face over the shared ledger.
#[derive(Debug, Default)]
pub struct XPaySkin {
    next_request: AtomicU64,
}

impl XPaySkin {
    fn error(&self, status: u16, error_type: &str, code: &str, message: &str, param: Option<&str>) -> SandboxResponse {
        let n = self.next_request.fetch_add(1, Ordering::Relaxed) + 1;
        let mut body = ErrorBody::new(message).with_type(error_type).with_code(code);
        body.request_id = Some(format!("req_sbx{n:08}"));
        body.code = body.code.filter(|c| !c.is_empty());
        body.param = param.map(str::to_owned);
        SandboxResponse::json(status, &stripe::write(&body))
    }

    fn invalid(&self, status: u16, code: &str, message: &str, param: Option<&str>) -> SandboxResponse {
        self.error(status, "invalid_request_error", code, message, param)
    }
}

/// What a refused create answers: status, code, message, offending parameter.
type Refusal = (u16, &'static str, String, Option<&'static str>);

fn create(request: &SandboxRequest, ledger: &Ledger) -> Result<RefundRecord, Refusal> {
    let body: WireCreate = request
        .json()
        .map_err(|e| (400, "parameter_invalid", format!("invalid request body: {e}"), None))?;
    let (payment_id, param, what) = match (body.charge_id, body.payment_intent_id) {
        (Some(id), None) => (id, "chargeId", "charge"),
        (None, Some(id)) => (id, "paymentIntentId", "payment intent"),
        (Some(_), Some(_)) => {
            let message = "provide exactly one of chargeId or paymentIntentId, not both".to_owned();
            return Err((400, "parameter_invalid", message, Some("chargeId")));
        }
        (None, None) => {
            let message = "one of chargeId or paymentIntentId is required".to_owned();
            return Err((400, "parameter_missing", message, Some("chargeId")));
        }
    };
    let not_positive = (
        400,
        "amount_invalid",
        "amount must be a positive integer".to_owned(),
        Some("amount"),
    );
    if body.amount.is_some_and(|a| a.0 <= 0) {
        return Err(not_positive);
    }
    let mut draft = RefundDraft::new(payment_id.clone());
    draft.amount_minor = body.amount.map(|a| a.0);
    draft.reason = body.reason;
    draft.description = body.description;
    let mut metadata = body.metadata;
    draft.reference = metadata.remove(MERCHANT_REFERENCE_KEY);
    draft.metadata = metadata;
    draft.fingerprint = String::from_utf8_lossy(&request.body).into_owned();
    ledger
        .create_refund(draft)
        .map(|o| o.record().clone())
        .map_err(|e| match e {
            LedgerError::PaymentNotFound(_) => {
                let message = format!("no such {what}: '{payment_id}'");
                (404, "resource_missing", message, Some(param))
            }
            LedgerError::PaymentNotRefundable(_) => {
                let message = "the charge has not succeeded and cannot be refunded".to_owned();
                (400, "charge_not_refundable", message, Some(param))
            }
            LedgerError::AmountExceedsRefundable { available } => {
                let left = format!("{} {}", available.to_minor_string(), available.currency().code());
                let message = format!("refund amount exceeds the refundable amount of {left}");
                (400, "amount_exceeds_refundable", message, Some("amount"))
            }
            LedgerError::AlreadyRefunded(_) => {
                let message = format!("charge '{payment_id}' has already been refunded");
                (400, "charge_already_refunded", message, Some(param))
            }
            LedgerError::InvalidAmount => not_positive,
            other => (400, "parameter_invalid", other.to_string(), None),
        })
}

/// A ledger record as XPay's refund object.
fn refund_wire(record: &RefundRecord) -> WireRefund {
    let id = Some(record.payment_id.clone());
    let (charge_id, payment_intent_id) = if record.payment_id.starts_with("pi_") {
        (None, id)
    } else {
        (id, None)
    };
    let reference = record.reference.iter().map(|r| (MERCHANT_REFERENCE_KEY, r));
    let metadata = record.metadata.iter().map(|(k, v)| (k.as_str(), v)).chain(reference);
    let status = STATUSES.to_wire(&record.status).unwrap_or(record.status.as_str());
    WireRefund {
        id: record.id.clone(),
        charge_id,
        payment_intent_id,
        amount: MinorUnitsString::from_money(&record.amount),
        currency: record.amount.currency().code().to_owned(),
        status: status.to_owned(),
        reason: record.reason.clone(),
        description: record.description.clone(),
        metadata: Some(
            metadata
                .map(|(k, v)| (k.to_owned(), Value::String(v.clone())))
                .collect(),
        ),
        balance_transaction_id: Some(format!("bt_{}", record.id.trim_start_matches(REFUND_ID_PREFIX))),
        failure_reason: record.failure_reason.clone(),
        created_at: Some(record.created_at),
    }
}

impl Skin for XPaySkin {
    fn provider(&self) -> &'static str {
        ID
    }

    fn handle(&self, request: &SandboxRequest, ledger: &Ledger) -> SandboxResponse {
        if request.header("authorization") != Some(format!("Bearer {API_KEY}").as_str()) {
            let message = "invalid api key provided";
            return self.error(401, "authentication_error", "invalid_api_key", message, None);
        }
        if request.is("POST", &["refunds"]) {
            return match create(request, ledger) {
                Ok(record) => SandboxResponse::json(200, &refund_wire(&record)),
                Err((status, code, message, param)) => self.invalid(status, code, &message, param),
            };
        }
        if request.is("GET", &["refunds", "*"]) {
            let id = &request.segments[1];
            return match ledger.refund(id) {
                Some(record) => SandboxResponse::json(200, &refund_wire(&record)),
                None => self.invalid(404, "resource_missing", &format!("no such refund: '{id}'"), Some("id")),
            };
        }
        if request.is("GET", &["refunds"]) {
            let data: Vec<WireRefund> = ledger.refunds().iter().map(refund_wire).collect();
            return SandboxResponse::json(200, &serde_json::json!({ "data": data }));
        }
        self.invalid(404, "resource_missing", "unrecognized request url", None)
    }

    fn error_response(&self, status: u16, message: &str) -> SandboxResponse {
        if status >= 500 {
            self.error(status, "api_error", "", message, None)
        } else {
            self.invalid(status, "rate_limit", message, None)
        }
    }
}

/// Makes `sandbox` send signed webhooks for every refund state change (see the [module docs](self)
/// for the events), in XPay's envelope (`evt_test_...` ids, ISO 8601 `created`), signed
/// `XPay-Signature: t=..,v1=..` with `secret` (`whsec_...`) at the time of each attempt (system
/// clock). Register the receiving URLs (loopback only) on the returned sender; a non-2xx answer is
/// retried 3 times (50 ms, doubling).
///
/// Deliveries are spawned on the tokio runtime the change happens in (the sandbox's requests run in
/// one); a change made outside any runtime sends nothing. [`WebhookSender::wait_idle`] waits for them.
pub fn enable_webhooks(sandbox: &Sandbox, secret: impl Into<Secret>) -> Result<WebhookSender> {
    let scheme = crate::webhooks::scheme(secret)?;
    Ok(enable_webhooks_with(sandbox, scheme, WebhookSender::new()?))
}

/// [`enable_webhooks`] with a scheme (several secrets, another clock) and a sender (other retries)
/// of your own; returns the sender.
pub fn enable_webhooks_with(sandbox: &Sandbox, scheme: TimestampedHmac, sender: WebhookSender) -> WebhookSender {
    let events = AtomicU64::new(0);
    let out = sender.clone();
    sandbox
        .ledger()
        .on_change(Arc::new(move |record: &RefundRecord, kind: ChangeKind| {
            let n = events.fetch_add(1, Ordering::Relaxed) + 1;
            let Some(body) = webhook_body(record, kind, n) else {
                return;
            };
            let scheme = scheme.clone();
            sender.deliver_in_background(body, move |b| scheme.sign_headers(b));
        }));
    out
}

/// The event for a refund's change, in XPay's envelope.
fn webhook_body(record: &RefundRecord, change: ChangeKind, n: u64) -> Option<Vec<u8>> {
    let kind = match (change, &record.status) {
        (ChangeKind::Created, _) => EventKind::Created,
        (_, RefundStatus::Succeeded) => EventKind::Succeeded,
        (_, RefundStatus::Failed) => EventKind::Failed,
        _ => EventKind::Updated,
    };
    let object = if kind == EventKind::Succeeded {
        serde_json::json!({
            "id": record.payment_id,
            "object": "charge",
            "currency": record.amount.currency().code(),
        })
        .to_string()
    } else {
        serde_json::to_string(&refund_wire(record)).ok()?
    };
    let object = RawJson::parse(&object).ok()?;
    let event_type = crate::webhooks::EVENTS.wire_type(&kind)?;
    let id = format!("evt_test_sbx{n:010}");
    Some(crate::webhooks::ENVELOPE.encode(&id, event_type, record.updated_at, false, &object))
}
