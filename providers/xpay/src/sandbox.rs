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

use std::sync::atomic::{AtomicU64, Ordering};

use refunds::adapter::amount::MinorUnitsString;
use refunds::adapter::errors::{ErrorBody, stripe};
use refunds::adapter::signature::TimestampedHmac;
use refunds::adapter::{HttpProvider, ProviderSpec, Secret};
use refunds::sandbox::ChangeKind;
use refunds::sandbox::{
    Call, Ledger, LedgerError, Page, RefundDraft, RefundRecord, Refusal, Sandbox, SandboxKit, SandboxRequest,
    SandboxResponse, SandboxWebhooks, SpecSkin, WebhookSender, event_kind, send_webhooks,
};
use refunds::webhook::Carries;
use refunds::{RawJson, Result};
use serde::Serialize;
use serde_json::Value;

use crate::wire::{MERCHANT_REFERENCE_KEY, STATUSES, WireCreate, WireRefund};
use crate::{XPay, XPayClient, XPayClientBuilder};

/// A test key the sandbox accepts (`Authorization: Bearer sk_test_xpay_sandbox_0001`).
pub const API_KEY: &str = "sk_test_xpay_sandbox_0001";

/// The refund id prefix (`re_000001`, ...), as XPay's.
pub const REFUND_ID_PREFIX: &str = "re_";

/// Starts an XPay sandbox on an ephemeral port of 127.0.0.1, with an empty ledger.
pub async fn start() -> std::io::Result<Sandbox> {
    start_at(std::net::SocketAddr::from(([127, 0, 0, 1], 0))).await
}

/// Starts a sandbox on `addr`, a loopback address (port 0: an ephemeral one), as
/// `refunds sandbox serve` does.
pub async fn start_at(addr: std::net::SocketAddr) -> std::io::Result<Sandbox> {
    Sandbox::start_at(addr, XPaySkin::default(), Ledger::new(REFUND_ID_PREFIX)).await
}

/// A builder with the sandbox's key and base URL set; add settings (`.currency(..)` for the account
/// currency guard) and `build()`.
pub fn builder_for(sandbox: &Sandbox) -> XPayClientBuilder {
    XPayClient::builder().api_key(API_KEY).base_url(sandbox.base_url())
}

/// XPay's face over the shared ledger (the generic skin does auth, routing and the list).
#[derive(Debug, Default)]
pub struct XPaySkin {
    next_request: AtomicU64,
}

impl XPaySkin {
    fn error(&self, status: u16, error_type: &str, code: &str, message: &str, param: Option<&str>) -> SandboxResponse {
        let n = self.next_request.fetch_add(1, Ordering::Relaxed) + 1;
        let mut body = ErrorBody::new(message).with_type(error_type);
        body.request_id = Some(format!("req_sbx{n:08}"));
        body.code = Some(code.to_owned()).filter(|c| !c.is_empty());
        body.param = param.map(str::to_owned);
        SandboxResponse::json(status, &stripe::write(&body))
    }
}

impl SpecSkin for XPaySkin {
    const SPEC: ProviderSpec = XPay::SPEC;
    const API_KEYS: &'static [&'static str] = &[API_KEY];

    fn decode_create(&self, call: &Call<'_>) -> Result<RefundDraft, SandboxResponse> {
        let parsed = call.request.json::<WireCreate>();
        let parsed = parsed.map_err(|e| format!("invalid request body: {e}"));
        let body = parsed.map_err(|message| self.error(400, INVALID, "parameter_invalid", &message, None))?;
        let one = "chargeId or paymentIntentId";
        let bad = |code, message: &str| Err(self.error(400, INVALID, code, message, Some("chargeId")));
        let payment_id = match (body.charge_id, body.payment_intent_id) {
            (Some(id), None) | (None, Some(id)) => id,
            (Some(_), Some(_)) => return bad("parameter_invalid", &format!("provide exactly one of {one}, not both")),
            (None, None) => return bad("parameter_missing", &format!("one of {one} is required")),
        };
        let mut draft = RefundDraft::new(payment_id);
        draft.amount_minor = body.amount.map(|a| a.0);
        draft.reason = body.reason;
        draft.description = body.description;
        let mut metadata = body.metadata;
        draft.reference = metadata.remove(MERCHANT_REFERENCE_KEY);
        draft.metadata = metadata;
        Ok(draft)
    }

    fn encode_refund(&self, record: &RefundRecord, _call: &Call<'_>) -> impl Serialize {
        refund_wire(record)
    }

    fn encode_page(&self, page: &Page<RefundRecord>, _call: &Call<'_>) -> impl Serialize {
        let data: Vec<WireRefund> = page.items.iter().map(refund_wire).collect();
        serde_json::json!({ "data": data })
    }

    #[rustfmt::skip]
    fn encode_error(&self, refusal: Refusal<'_>) -> SandboxResponse {
        let (status, kind, code, message, param) = match refusal {
            Refusal::Unauthorized { .. } => (401, "authentication_error", "invalid_api_key", "invalid api key provided".into(), None),
            Refusal::NoSuchRefund { id } => (404, INVALID, "resource_missing", format!("no such refund: '{id}'"), Some("id")),
            Refusal::Fault { status, message } if status >= 500 => (status, "api_error", "", message.into(), None),
            Refusal::Fault { status, message } => (status, INVALID, "rate_limit", message.into(), None),
            Refusal::Ledger { error, payment, request } => {
                let (code, message, param) = ledger_refusal(error, payment, request);
                (if code == "resource_missing" { 404 } else { 400 }, INVALID, code, message, param)
            }
            _ => (404, INVALID, "resource_missing", "unrecognized request url".into(), None),
        };
        self.error(status, kind, code, &message, param)
    }
}

const INVALID: &str = "invalid_request_error";

/// The ledger's refusal of a create as XPay's published code, message and parameter: a missing
/// charge is `resource_missing` (404), a charge in the wrong state (not succeeded, fully refunded)
/// `resource_invalid_state`, an amount over what is left `parameter_out_of_range` on `amount`.
#[rustfmt::skip]
fn ledger_refusal(error: &LedgerError, payment: &str, request: &SandboxRequest) -> (&'static str, String, Option<&'static str>) {
    let by_charge = request.json::<WireCreate>().map_or(true, |b| b.charge_id.is_some());
    let (param, what) = if by_charge { ("chargeId", "charge") } else { ("paymentIntentId", "payment intent") };
    match error {
        LedgerError::PaymentNotFound(_) => ("resource_missing", format!("no such {what}: '{payment}'"), Some(param)),
        LedgerError::PaymentNotRefundable(_) => ("resource_invalid_state", format!("the {what} has not succeeded and cannot be refunded"), Some(param)),
        LedgerError::AmountExceedsRefundable { available } => ("parameter_out_of_range", format!("refund amount exceeds the refundable amount of {available} ({} in minor units)", available.to_minor_string()), Some("amount")),
        LedgerError::AlreadyRefunded(_) => ("resource_invalid_state", format!("{what} '{payment}' has already been fully refunded"), Some(param)),
        LedgerError::InvalidAmount => ("parameter_invalid", "amount must be a positive integer".into(), Some("amount")),
        other => ("validation_error", other.to_string(), None),
    }
}

/// A ledger record as XPay's refund object.
fn refund_wire(record: &RefundRecord) -> WireRefund<'_> {
    let by_intent = record.payment_id.starts_with("pi_");
    let reference = record.reference.iter().map(|r| (MERCHANT_REFERENCE_KEY, r));
    let entries = record.metadata.iter().map(|(k, v)| (k.as_str(), v)).chain(reference);
    let metadata = entries.map(|(k, v)| (k.to_owned(), Value::String(v.clone())));
    WireRefund {
        id: record.id.clone(),
        charge_id: (!by_intent).then(|| record.payment_id.clone()),
        payment_intent_id: by_intent.then(|| record.payment_id.clone()),
        amount: MinorUnitsString::from_money(&record.amount),
        currency: record.amount.currency().code().to_owned().into(),
        status: STATUSES
            .to_wire(&record.status)
            .unwrap_or(record.status.as_str())
            .into(),
        reason: record.reason.as_deref().map(Into::into),
        description: record.description.clone(),
        metadata: Some(metadata.collect()),
        balance_transaction_id: Some(format!("bt_{}", record.id.trim_start_matches(REFUND_ID_PREFIX))),
        failure_reason: record.failure_reason.clone(),
        created_at: Some(record.created_at),
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
    send_webhooks(sandbox, scheme, sender, webhook_body)
}

/// The event for a refund's change, in XPay's envelope.
fn webhook_body(record: &RefundRecord, change: ChangeKind, n: u64) -> Option<Vec<u8>> {
    let event_type = crate::webhooks::EVENTS.wire_type(&event_kind(record, change))?;
    event_body(record, event_type, &format!("evt_test_sbx{n:010}"))
}

/// The test-mode event `id` of `event_type` about `record`, in XPay's envelope: a refund event carries
/// the refund as `GET /refunds/{id}` answers it, `charge.refunded` the charge (`id`, `object`,
/// `currency`). What the sandbox sends, and what `refunds webhook trigger` signs.
pub fn event_body(record: &RefundRecord, event_type: &str, id: &str) -> Option<Vec<u8>> {
    let object = match crate::webhooks::EVENTS.carries(event_type) {
        Carries::Payment(_) => {
            let currency = record.amount.currency();
            serde_json::json!({"id": record.payment_id, "object": "charge", "currency": currency.code()}).to_string()
        }
        _ => serde_json::to_string(&refund_wire(record)).ok()?,
    };
    let object = RawJson::parse(&object).ok()?;
    Some(crate::webhooks::ENVELOPE.encode(id, event_type, record.updated_at, false, &object))
}

/// The sandbox for tools that serve every provider (the registry's demo, `refunds sandbox serve`, the
/// shared suite): this key, this skin, and a demo payment of "ch_xyz789".
pub const KIT: SandboxKit = SandboxKit::new(API_KEY, REFUND_ID_PREFIX, |_currency| Box::new(XPaySkin::default()))
    .demo("ch_xyz789", refunds::Money::from_minor(80_000, refunds::Currency::EGP))
    .demo_refunds(50_000, 10_000)
    .webhooks(SandboxWebhooks::new(
        enable_webhooks,
        event_body,
        ("evt_test_trigger_", "re_trigger_", "ch_trigger_"),
    ));
