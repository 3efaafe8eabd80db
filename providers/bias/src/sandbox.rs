//! An offline Bias: `POST /refunds`, `GET /refunds/{id}`, `GET /refunds` (`items` envelope, id cursors,
//! `expand[payment]=true`) and `GET /events?stream=true`, Bearer auth, Bias error bodies, and
//! `idempotency-key` replay (same key and body → the same refund; same key, other body →
//! `idempotency_error`), over the SDK's shared ledger. [`start`] is a USD account.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use refunds::{CreateRefund, Currency, Money, PaymentRef, RefundProvider};
//! let sandbox = refunds_bias::sandbox::start().await?;
//! sandbox.ledger().seed_payment("pay_1", Money::from_minor(5_000, Currency::USD));
//! let client = refunds_bias::sandbox::builder_for(&sandbox).build()?;
//! let refund = client.create_refund(&CreateRefund::new(PaymentRef::payment("pay_1")?)).await?;
//! assert_eq!(refund.amount.minor(), 5_000);
//! # Ok(()) }
//! ```
//!
//! Choices where Bias documents nothing: refusals answer 400 (`invalid_request_error`, an unknown id
//! 404, a same-key conflict `idempotency_error`), a bad key 401, a create still in progress under the
//! same key 409 `idempotency_error`; the event stream holds `refund.created` (and `refund.updated` once
//! the status moved) per refund, with a keep-alive space before each line.

use refunds::adapter::amount::MinorUnits;
use refunds::adapter::{HttpProvider, ProviderSpec};
use refunds::sandbox::{Call, Ledger, LedgerError, Page, RefundRecord, Refusal, Sandbox, SandboxResponse};
use refunds::sandbox::{PaymentState, RefundDraft, SandboxRequest, SpecSkin};
use refunds::{Currency, RefundStatus};
use serde::Serialize;
use serde_json::{Value, json};

use crate::wire::{BiasPayment, STATUSES, WireCreate, WireList, WirePayment, WireRefund};
use crate::{Bias, BiasClient, BiasClientBuilder};

/// The test key the sandbox accepts, as `Authorization: Bearer <API_KEY>`.
pub const API_KEY: &str = "sk_test_bias_sandbox_4f2a9c";

/// The refund id prefix, as Bias's (`re_...`).
pub const REFUND_ID_PREFIX: &str = "re_";

/// The Bias face of the sandbox, for an account in `currency`.
#[derive(Debug, Clone)]
pub struct BiasSkin {
    currency: Currency,
}

fn error(status: u16, kind: &str, code: Option<&str>, message: &str, param: Option<&str>) -> SandboxResponse {
    let error = json!({"type": kind, "live": false, "code": code, "message": message, "param": param, "issues": null});
    SandboxResponse::json(status, &json!({"object": "error", "error": error}))
}

fn invalid(code: &str, message: &str, param: Option<&str>) -> SandboxResponse {
    error(400, "invalid_request_error", Some(code), message, param)
}

fn wire(record: &RefundRecord, status: &RefundStatus, ledger: &Ledger, expand: bool) -> WireRefund<'static> {
    let payment = match expand.then(|| ledger.payment(&record.payment_id)).flatten() {
        Some(p) => {
            let succeeded = p.state == PaymentState::Succeeded;
            let state = if succeeded { "succeeded" } else { "pending" };
            WirePayment::Expanded(BiasPayment::new(&p.id, p.captured.minor(), p.refunded, state))
        }
        None => WirePayment::Id(record.payment_id.clone()),
    };
    WireRefund {
        object: Some("refund".into()),
        id: record.id.clone(),
        live: Some(false),
        created_at: Some(record.created_at),
        amount: MinorUnits::from_money(&record.amount),
        failed_reason: record
            .failure_reason
            .clone()
            .filter(|_| *status == RefundStatus::Failed),
        payment,
        status: STATUSES.to_wire(status).unwrap_or(status.as_str()).to_owned().into(),
    }
}

impl BiasSkin {
    /// A skin for an account in `currency`.
    pub fn new(currency: Currency) -> BiasSkin {
        BiasSkin { currency }
    }
}

impl SpecSkin for BiasSkin {
    const SPEC: ProviderSpec = Bias::SPEC;
    const API_KEYS: &'static [&'static str] = &[API_KEY];

    fn decode_create(&self, call: &Call<'_>) -> Result<RefundDraft, SandboxResponse> {
        let body: WireCreate = call.request.json().map_err(|e| {
            let issue = json!({"path": ["body"], "message": e.to_string()});
            let body = json!({"object": "error", "error": {"type": "invalid_request_error", "live": false,
                "code": "parameter_invalid", "message": "Invalid request body", "param": null, "issues": [issue]}});
            SandboxResponse::json(400, &body)
        })?;
        let mut draft = RefundDraft::new(body.payment);
        draft.amount_minor = body.amount.map(|a| a.0);
        draft.currency = Some(self.currency);
        Ok(draft)
    }

    fn encode_refund(&self, record: &RefundRecord, call: &Call<'_>) -> impl Serialize {
        let expand = call.request.query_param("expand[payment]") == Some("true");
        wire(record, &record.status, call.ledger, expand)
    }

    fn encode_page(&self, page: &Page<RefundRecord>, call: &Call<'_>) -> impl Serialize {
        let expand = call.request.query_param("expand[payment]") == Some("true");
        let items = page.items.iter().map(|r| wire(r, &r.status, call.ledger, expand));
        WireList {
            object: Some("list".to_owned()),
            has_more: Some(page.has_more),
            items: items.collect(),
        }
    }

    #[rustfmt::skip]
    fn encode_error(&self, refusal: Refusal<'_>) -> SandboxResponse {
        const INVALID: &str = "invalid_request_error";
        const MAX_LIMIT: u32 = Bias::SPEC.paging.unwrap().max_limit;
        match refusal {
            Refusal::Unauthorized { .. } => error(401, INVALID, Some("unauthorized"), "Invalid API key", None),
            Refusal::NoSuchRefund { .. } => error(404, INVALID, Some("resource_missing"), "No such refund", Some("id")),
            Refusal::BadParams(_) => invalid("parameter_invalid", &format!("limit must be from 1 to {MAX_LIMIT}"), Some("limit")),
            Refusal::UnknownCursor { param, id } => invalid("resource_missing", &format!("No such refund: {id}"), Some(param)),
            Refusal::Ledger { error, .. } => ledger_refusal(error),
            Refusal::InProgress => error(409, "idempotency_error", None, "A request with this idempotency key is in progress.", None),
            Refusal::Fault { status, message } => {
                let kind = match status { 429 => "rate_limit_error", 500..=599 => "server_error", 409 => "idempotency_error", _ => INVALID };
                error(status, kind, None, message, None)
            }
            _ => error(404, INVALID, Some("not_found"), "Unrecognized request URL", None),
        }
    }

    fn extra_route(&self, call: &Call<'_>) -> Option<SandboxResponse> {
        let is_events = call.request.is("GET", &["events"]);
        is_events.then(|| events(call.request, call.ledger))
    }
}

/// Bias's answer to what the ledger refuses, one row each.
#[rustfmt::skip]
fn ledger_refusal(e: &LedgerError) -> SandboxResponse {
    match e {
        LedgerError::PaymentNotFound(id) => error(404, "invalid_request_error", Some("resource_missing"), &format!("No such payment: {id}"), Some("payment")),
        LedgerError::IdempotencyConflict => error(400, "idempotency_error", None, "This idempotency key was used with a different request.", None),
        LedgerError::AmountExceedsRefundable { available } => invalid("amount_too_large", &format!("amount must be at most {} (amount_received - amount_refunded)", available.minor()), Some("amount")),
        LedgerError::AlreadyRefunded(id) => invalid("payment_already_refunded", &format!("Payment {id} is fully refunded"), Some("payment")),
        LedgerError::PaymentNotRefundable(id) => invalid("payment_not_succeeded", &format!("Payment {id} does not have a status of succeeded"), Some("payment")),
        other => invalid("parameter_invalid", &other.to_string(), Some("amount")),
    }
}

/// `GET /events?stream=true`: the refund events as newline-delimited JSON.
fn events(request: &SandboxRequest, ledger: &Ledger) -> SandboxResponse {
    if request.query_param("stream") != Some("true") {
        let message = "the sandbox streams events only (stream=true)";
        return invalid("parameter_invalid", message, Some("stream"));
    }
    let limit = request.query_param("limit").and_then(|l| l.parse().ok());
    let mut lines = Vec::new();
    for r in ledger.refunds() {
        let created = wire(&r, &RefundStatus::Pending, ledger, false);
        let event = |kind: &str, state: &WireRefund, previous: Value| {
            json!({"object": "event", "id": format!("event_{}_{kind}", r.id), "live": false,
                "created_at": r.created_at.unix_timestamp() * 1000, "type": kind, "state": state,
                "previous_state": previous, "request": null})
        };
        lines.push(event("refund.created", &created, Value::Null));
        if r.status != RefundStatus::Pending {
            let previous = serde_json::to_value(&created).unwrap_or_default();
            lines.push(event("refund.updated", &wire(&r, &r.status, ledger, false), previous));
        }
    }
    let body: String = lines
        .iter()
        .take(limit.unwrap_or(usize::MAX))
        .map(|line| format!(" {line}\n"))
        .collect();
    SandboxResponse::raw(200, "application/x-ndjson", body)
}

/// Starts a sandbox for a USD account on an ephemeral port of 127.0.0.1.
pub async fn start() -> std::io::Result<Sandbox> {
    start_with_currency(Currency::USD).await
}

/// Starts a sandbox for an account in `currency` (give the builder the same currency).
pub async fn start_with_currency(currency: Currency) -> std::io::Result<Sandbox> {
    Sandbox::start(BiasSkin::new(currency), Ledger::new(REFUND_ID_PREFIX)).await
}

/// A builder pointed at `sandbox` with [`API_KEY`] and USD (set `.currency(..)` for another account).
pub fn builder_for(sandbox: &Sandbox) -> BiasClientBuilder {
    let builder = BiasClient::builder().api_key(API_KEY);
    builder.base_url(sandbox.base_url()).currency(Currency::USD)
}
