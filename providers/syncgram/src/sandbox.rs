//! SyncgramPay's API simulated on 127.0.0.1 over the shared ledger: [`start`] it, seed payments, and
//! point a client at it with [`builder_for`]. Its paths, fields, decimal strings, Bearer keys ([`API_KEY`],
//! [`LIVE_API_KEY`]) and FastAPI errors; a [`FEE_PERCENT`] fee; replay by `idempotency_key` (409 for
//! another body or a key in progress); the crate's README lists the assumptions. SyncgramPay refunds
//! have no metadata: the ledger's keeps the `fee_bearer` sent.
//!
//! [`enable_webhooks`] makes it send signed webhooks on every refund change, in SyncgramPay's envelope
//! `{id, type, created_at, data}` with the crate's assumed event names (`refund.created`,
//! `refund.succeeded`, `refund.failed`, `refund.updated`) and signature defaults (see
//! [`crate::webhooks`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use refunds::adapter::Secret;
use refunds::adapter::amount::MajorDecimal;
use refunds::adapter::errors::{ErrorBody, fastapi};
use refunds::adapter::signature::SignatureScheme;
use refunds::ledger::ChangeKind;
use refunds::sandbox::WebhookSender;
use refunds::sandbox::{Ledger, LedgerError, RefundDraft, RefundRecord, Sandbox, SandboxRequest, SandboxResponse};
use refunds::sandbox::{SimulatedOutcome as LedgerOutcome, Skin};
use refunds::{Currency, EventKind, FieldError, Money, RefundStatus, Result};

use crate::client::{MAX_IDEMPOTENCY_KEY_LEN, MAX_REASON_LEN, MAX_REFERENCE_LEN, MAX_REFUND_ADDRESS_LEN};
use crate::webhooks::SyncgramScheme;
use crate::wire::{STATUSES, SimulatedOutcome, WireCreateRefund, WireRefund, WireRefundList};
use crate::{ID, SyncgramClient, SyncgramClientBuilder};

/// A test-mode key the sandbox accepts.
pub const API_KEY: &str = "sk_test_syncgram_sandbox_0000";
/// A key the sandbox treats as live mode, where test-only options (`simulated_outcome`) are refused.
pub const LIVE_API_KEY: &str = "sk_live_syncgram_sandbox_0000";
/// The sandbox's refund fee, in percent of the refunded amount (rounded down to the minor unit).
pub const FEE_PERCENT: i64 = 1;
/// The refund id prefix of the sandbox's ledger.
pub const REFUND_ID_PREFIX: &str = "ref_";
/// The settlement currency [`builder_for`] configures; seed payments in it, or call `.currency(..)`.
pub const CURRENCY: Currency = Currency::USD;

/// Starts a SyncgramPay sandbox with an empty ledger on an ephemeral port of 127.0.0.1.
pub async fn start() -> std::io::Result<Sandbox> {
    Sandbox::start(SyncgramSkin, Ledger::new(REFUND_ID_PREFIX)).await
}

/// A client builder pointed at `sandbox` with [`API_KEY`] and the settlement currency [`CURRENCY`].
pub fn builder_for(sandbox: &Sandbox) -> SyncgramClientBuilder {
    let builder = SyncgramClient::builder().api_key(API_KEY);
    builder.base_url(sandbox.base_url()).currency(CURRENCY)
}

/// SyncgramPay's face over the shared ledger (see the [module docs](self)).
#[derive(Debug, Clone, Copy, Default)]
pub struct SyncgramSkin;

fn wire_refund(record: &RefundRecord) -> WireRefund {
    let decimal = |money: &Money| Some(MajorDecimal::string(money));
    let fee = record.fee.unwrap_or(Money::zero(record.amount.currency()));
    let status = STATUSES.to_wire(&record.status).unwrap_or(record.status.as_str());
    // Without one sent, the organisation's configured fee bearer is assumed to be ORG.
    let bearer = record.metadata.get("fee_bearer").map_or("ORG", String::as_str);
    WireRefund {
        refund_id: record.id.clone(),
        charge_id: record.payment_id.clone(),
        reference: record.reference.clone(),
        status: status.to_owned(),
        requested_amount: MajorDecimal::string(&record.amount),
        refunded_amount: decimal(&record.amount).filter(|_| record.status == RefundStatus::Succeeded),
        refund_fee_amount: decimal(&fee),
        fee_bearer: Some(bearer.to_owned()),
        reason: record.reason.clone(),
        created_at: Some(record.created_at),
        updated_at: Some(record.updated_at),
        completed_at: record.completed_at,
    }
}

fn create(request: &SandboxRequest, ledger: &Ledger, live: bool) -> SandboxResponse {
    let Ok(body) = request.json::<WireCreateRefund>() else {
        return invalid("body", "Input should be a valid refund request");
    };
    let (reason, address, key) = (&body.reason, &body.refund_address, &body.idempotency_key);
    let texts = [
        ("reference", Some(&body.reference), 1, MAX_REFERENCE_LEN),
        ("reason", reason.as_ref(), 0, MAX_REASON_LEN),
        ("refund_address", address.as_ref(), 1, MAX_REFUND_ADDRESS_LEN),
        ("idempotency_key", key.as_ref(), 1, MAX_IDEMPOTENCY_KEY_LEN),
    ];
    for (field, text, min, max) in texts {
        if text.is_some_and(|t| !(min..=max).contains(&t.chars().count())) {
            let message = format!("String should have between {min} and {max} characters");
            return invalid(&format!("body.{field}"), &message);
        }
    }
    if body.simulated_outcome.is_some() && live {
        return detail(400, "simulated_outcome is only available in test mode");
    }
    let Some(payment) = ledger.payment(&body.charge_id) else {
        return detail(404, "Charge not found");
    };
    let currency = payment.captured.currency();
    let amount_minor = match body.amount.as_ref().map(|a| a.to_money(currency, "amount")) {
        None => None,
        Some(Ok(money)) if money.is_positive() => Some(money.minor()),
        Some(Ok(_)) => return invalid("body.amount", "Input should be greater than 0"),
        Some(Err(_)) => return invalid("body.amount", "Amount has more decimal places than the currency"),
    };
    let mut draft = RefundDraft::new(body.charge_id.clone());
    draft.fee_minor = Some(amount_minor.unwrap_or(payment.refundable().minor()).max(0) * FEE_PERCENT / 100);
    draft.amount_minor = amount_minor;
    draft.reason = body.reason;
    draft.reference = Some(body.reference);
    draft.idempotency_key = body.idempotency_key;
    draft.fingerprint = String::from_utf8_lossy(&request.body).into_owned();
    if body.simulated_outcome == Some(SimulatedOutcome::Failed) {
        draft.outcome = LedgerOutcome::Fail;
    }
    let bearer = body
        .fee_bearer
        .map(|b| ("fee_bearer".to_owned(), b.as_str().to_owned()));
    draft.metadata.extend(bearer);
    match ledger.create_refund(draft) {
        Ok(outcome) => SandboxResponse::json(200, &wire_refund(outcome.record())),
        Err(error) => ledger_error(&error),
    }
}

fn list(request: &SandboxRequest, ledger: &Ledger) -> SandboxResponse {
    let number = |name: &str, default: u64, range: std::ops::RangeInclusive<u64>| match request.query_param(name) {
        None => Some(default),
        Some(text) => text.parse::<u64>().ok().filter(|n| range.contains(n)),
    };
    let Some(limit) = number("limit", 50, 1..=100) else {
        return invalid("query.limit", "Input should be between 1 and 100");
    };
    let Some(offset) = number("offset", 0, 0..=u64::MAX) else {
        return invalid("query.offset", "Input should be greater than or equal to 0");
    };
    let status = request.query_param("status");
    let matches = |wire: &WireRefund| status.is_none_or(|s| wire.status.eq_ignore_ascii_case(s));
    let matching: Vec<WireRefund> = ledger.refunds().iter().map(wire_refund).filter(matches).collect();
    let total = matching.len() as u64;
    let page = matching.into_iter().skip(offset as usize);
    let items = page.take(limit as usize).collect();
    SandboxResponse::json(200, &WireRefundList { total, items })
}

impl Skin for SyncgramSkin {
    fn provider(&self) -> &'static str {
        ID
    }

    fn handle(&self, request: &SandboxRequest, ledger: &Ledger) -> SandboxResponse {
        let live = match request.header("authorization").and_then(|h| h.strip_prefix("Bearer ")) {
            Some(API_KEY) => false,
            Some(LIVE_API_KEY) => true,
            _ => return detail(401, "Invalid or missing API key"),
        };
        let answer = |record: Option<RefundRecord>| match record {
            Some(record) => SandboxResponse::json(200, &wire_refund(&record)),
            None => detail(404, "Not found"),
        };
        let segments: Vec<&str> = request.segments.iter().map(String::as_str).collect();
        let route = segments.strip_prefix(&["api", "v1", "payments"]);
        match (request.method.as_str(), route) {
            ("POST", Some(["refunds"])) => create(request, ledger, live),
            ("GET", Some(["refunds"])) => list(request, ledger),
            ("GET", Some(["refunds", id])) => answer(ledger.refund(id)),
            // The latest refund of the charge; 404 for an unknown charge or one without refunds.
            ("GET", Some(["payins", charge, "refund"])) => answer(ledger.refunds_for_payment(charge).pop()),
            _ => detail(404, "Not Found"),
        }
    }

    fn error_response(&self, status: u16, message: &str) -> SandboxResponse {
        detail(status, message)
    }

    fn idempotency_key(&self, request: &SandboxRequest) -> Option<String> {
        request.json::<WireCreateRefund>().ok()?.idempotency_key
    }

    fn in_progress_response(&self) -> SandboxResponse {
        detail(409, "A request with this idempotency key is in progress")
    }
}

fn ledger_error(error: &LedgerError) -> SandboxResponse {
    match error {
        LedgerError::PaymentNotFound(_) => detail(404, "Charge not found"),
        LedgerError::PaymentNotRefundable(_) => detail(400, "Charge is not refundable"),
        LedgerError::AmountExceedsRefundable { available } => detail(
            400,
            &format!("Refund amount exceeds the refundable {}", available.to_major_string()),
        ),
        LedgerError::AlreadyRefunded(_) => detail(400, "Charge has already been fully refunded"),
        LedgerError::IdempotencyConflict => detail(409, "Idempotency conflict: key reused with a different request"),
        LedgerError::InvalidAmount => invalid("body.amount", "Input should be greater than 0"),
        other => detail(400, &other.to_string()),
    }
}

fn detail(status: u16, message: &str) -> SandboxResponse {
    SandboxResponse::json(status, &fastapi::write(&ErrorBody::new(message)))
}

/// FastAPI's validation answer about `loc` (`body.amount`), with SyncgramPay's documented 400.
fn invalid(loc: &str, message: &str) -> SandboxResponse {
    let field = FieldError::new(loc, message, Some("value_error".into()));
    SandboxResponse::json(400, &fastapi::write(&ErrorBody::default().with_field(field)))
}

/// Makes `sandbox` send signed webhooks for every refund state change (created, settled, failed, or
/// otherwise changed), signed with `secret` (8 to 64 characters) by the default scheme: hex
/// HMAC-SHA256 of the raw body in `X-Syncgram-Signature` (assumed, see [`crate::webhooks`]). Verify
/// them with `refunds_syncgram::webhooks::verifier(secret, CURRENCY)`. Register the receiving URLs
/// (loopback only) on the returned sender; a non-2xx answer is retried 3 times (50 ms, doubling).
///
/// Deliveries are spawned on the tokio runtime the change happens in (the sandbox's requests run in
/// one); a change made outside any runtime sends nothing. [`WebhookSender::wait_idle`] waits for them.
pub fn enable_webhooks(sandbox: &Sandbox, secret: impl Into<Secret>) -> Result<WebhookSender> {
    let scheme = crate::webhooks::scheme(secret)?;
    Ok(enable_webhooks_with(sandbox, scheme, WebhookSender::new()?))
}

/// [`enable_webhooks`] with a scheme (another header, signed bytes or encoding, built with
/// [`crate::webhooks::builder`]) and a sender (other retries) of your own; returns the sender.
pub fn enable_webhooks_with(sandbox: &Sandbox, scheme: SyncgramScheme, sender: WebhookSender) -> WebhookSender {
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

/// SyncgramPay's event envelope, fields in the documented order.
#[derive(serde::Serialize)]
struct WireEvent {
    id: String,
    #[serde(rename = "type")]
    event_type: &'static str,
    created_at: String,
    data: WireRefund,
}

/// The event for a refund's change: `{id, type, created_at, data}`, `data` the refund object.
fn webhook_body(record: &RefundRecord, change: ChangeKind, n: u64) -> Option<Vec<u8>> {
    let kind = match (change, &record.status) {
        (ChangeKind::Created, _) => EventKind::Created,
        (_, RefundStatus::Succeeded) => EventKind::Succeeded,
        (_, RefundStatus::Failed) => EventKind::Failed,
        _ => EventKind::Updated,
    };
    let event_type = crate::webhooks::EVENTS.wire_type(&kind)?;
    let created_at = record
        .updated_at
        .format(&time::format_description::well_known::Rfc3339)
        .ok()?;
    let event = WireEvent {
        id: format!("evt_sbx{n:010}"),
        event_type,
        created_at,
        data: wire_refund(record),
    };
    serde_json::to_vec(&event).ok()
}
