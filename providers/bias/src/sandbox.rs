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

use std::cell::Cell;

use refunds::adapter::amount::MinorUnits;
use refunds::sandbox::{Ledger, LedgerError, RefundRecord, Sandbox, SandboxRequest, SandboxResponse, Skin};
use refunds::sandbox::{PaymentState, RefundDraft};
use refunds::{Currency, RefundStatus};
use serde_json::{Value, json};

use crate::wire::{BiasPayment, STATUSES, WireCreate, WireList, WirePayment, WireRefund};
use crate::{BiasClient, BiasClientBuilder, ID};

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
    let body = json!({"object": "error", "error": {
        "type": kind, "live": false, "code": code, "message": message, "param": param, "issues": null,
    }});
    SandboxResponse::json(status, &body)
}

fn invalid(code: &str, message: &str, param: Option<&str>) -> SandboxResponse {
    error(400, "invalid_request_error", Some(code), message, param)
}

fn wire(record: &RefundRecord, status: &RefundStatus, ledger: &Ledger, expand: bool) -> WireRefund {
    let payment = match expand.then(|| ledger.payment(&record.payment_id)).flatten() {
        Some(p) => {
            let state = if p.state == PaymentState::Succeeded {
                "succeeded"
            } else {
                "pending"
            };
            WirePayment::Expanded(BiasPayment::new(&p.id, p.captured.minor(), p.refunded, state))
        }
        None => WirePayment::Id(record.payment_id.clone()),
    };
    WireRefund {
        object: Some("refund".to_owned()),
        id: record.id.clone(),
        live: Some(false),
        created_at: Some(record.created_at),
        amount: MinorUnits::from_money(&record.amount),
        failed_reason: (*status == RefundStatus::Failed)
            .then(|| record.failure_reason.clone())
            .flatten(),
        payment,
        status: STATUSES.to_wire(status).unwrap_or(status.as_str()).to_owned(),
    }
}

impl BiasSkin {
    /// A skin for an account in `currency`.
    pub fn new(currency: Currency) -> BiasSkin {
        BiasSkin { currency }
    }

    fn create(&self, request: &SandboxRequest, ledger: &Ledger) -> SandboxResponse {
        let body: WireCreate = match request.json() {
            Ok(body) => body,
            Err(e) => {
                let issue = json!({"path": ["body"], "message": e.to_string()});
                let body = json!({"object": "error", "error": {"type": "invalid_request_error", "live": false,
                    "code": "parameter_invalid", "message": "Invalid request body", "param": null, "issues": [issue]}});
                return SandboxResponse::json(400, &body);
            }
        };
        let mut draft = RefundDraft::new(body.payment);
        draft.amount_minor = body.amount.map(|a| a.0);
        draft.currency = Some(self.currency);
        draft.idempotency_key = request.header("idempotency-key").map(str::to_owned);
        draft.fingerprint = String::from_utf8_lossy(&request.body).into_owned();
        match ledger.create_refund(draft) {
            Ok(outcome) => {
                let record = outcome.record();
                SandboxResponse::json(200, &wire(record, &record.status, ledger, false))
            }
            Err(LedgerError::PaymentNotFound(id)) => error(
                404,
                "invalid_request_error",
                Some("resource_missing"),
                &format!("No such payment: {id}"),
                Some("payment"),
            ),
            Err(LedgerError::IdempotencyConflict) => error(
                400,
                "idempotency_error",
                None,
                "This idempotency key was used with a different request.",
                None,
            ),
            Err(LedgerError::AmountExceedsRefundable { available }) => invalid(
                "amount_too_large",
                &format!(
                    "amount must be at most {} (amount_received - amount_refunded)",
                    available.minor()
                ),
                Some("amount"),
            ),
            Err(LedgerError::AlreadyRefunded(id)) => invalid(
                "payment_already_refunded",
                &format!("Payment {id} is fully refunded"),
                Some("payment"),
            ),
            Err(LedgerError::PaymentNotRefundable(id)) => invalid(
                "payment_not_succeeded",
                &format!("Payment {id} does not have a status of succeeded"),
                Some("payment"),
            ),
            Err(other) => invalid("parameter_invalid", &other.to_string(), Some("amount")),
        }
    }

    fn list(&self, request: &SandboxRequest, ledger: &Ledger) -> SandboxResponse {
        let limit = match request.query_param("limit").map(str::parse::<usize>) {
            None => 50,
            Some(Ok(n)) if (1..=1000).contains(&n) => n,
            Some(_) => return invalid("parameter_invalid", "limit must be from 1 to 1000", Some("limit")),
        };
        let cursor = |name| request.query_param(name).map(|id| (name, id));
        let (window, has_more) = match cursor("starting_after").or(cursor("ending_before")) {
            None => {
                let (page, total) = ledger.refunds_page(0, limit, |_| true);
                (page, total > limit)
            }
            Some((name, id)) => {
                let seen = Cell::new(false);
                let before = |r: &RefundRecord| {
                    seen.set(seen.get() || r.id == id);
                    !seen.get()
                };
                let (_, count) = ledger.refunds_page(0, 0, before);
                if !seen.get() {
                    return invalid("resource_missing", &format!("No such refund: {id}"), Some(name));
                }
                let all = ledger.refunds();
                let (start, end) = match name {
                    "starting_after" => (count + 1, (count + 1 + limit).min(all.len())),
                    _ => (count.saturating_sub(limit), count),
                };
                let more = if name == "starting_after" {
                    end < all.len()
                } else {
                    start > 0
                };
                (all[start..end].to_vec(), more)
            }
        };
        let expand = request.query_param("expand[payment]") == Some("true");
        let items = window.iter().map(|r| wire(r, &r.status, ledger, expand)).collect();
        let list = WireList {
            object: Some("list".to_owned()),
            has_more: Some(has_more),
            items,
        };
        SandboxResponse::json(200, &list)
    }

    fn events(&self, request: &SandboxRequest, ledger: &Ledger) -> SandboxResponse {
        if request.query_param("stream") != Some("true") {
            return invalid(
                "parameter_invalid",
                "the sandbox streams events only (stream=true)",
                Some("stream"),
            );
        }
        let limit = request
            .query_param("limit")
            .and_then(|l| l.parse().ok())
            .unwrap_or(usize::MAX);
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
        let body: String = lines.iter().take(limit).map(|line| format!(" {line}\n")).collect();
        SandboxResponse::raw(200, "application/x-ndjson", body)
    }
}

impl Skin for BiasSkin {
    fn provider(&self) -> &'static str {
        ID
    }

    fn handle(&self, request: &SandboxRequest, ledger: &Ledger) -> SandboxResponse {
        if request.header("authorization") != Some(&format!("Bearer {API_KEY}")) {
            return error(
                401,
                "invalid_request_error",
                Some("unauthorized"),
                "Invalid API key",
                None,
            );
        }
        if request.is("POST", &["refunds"]) {
            return self.create(request, ledger);
        }
        if request.is("GET", &["refunds"]) {
            return self.list(request, ledger);
        }
        if request.is("GET", &["refunds", "*"]) {
            let expand = request.query_param("expand[payment]") == Some("true");
            return match ledger.refund(&request.segments[1]) {
                Some(r) => SandboxResponse::json(200, &wire(&r, &r.status, ledger, expand)),
                None => error(
                    404,
                    "invalid_request_error",
                    Some("resource_missing"),
                    "No such refund",
                    Some("id"),
                ),
            };
        }
        if request.is("GET", &["events"]) {
            return self.events(request, ledger);
        }
        error(
            404,
            "invalid_request_error",
            Some("not_found"),
            "Unrecognized request URL",
            None,
        )
    }

    fn error_response(&self, status: u16, message: &str) -> SandboxResponse {
        let kind = match status {
            429 => "rate_limit_error",
            500..=599 => "server_error",
            409 => "idempotency_error",
            _ => "invalid_request_error",
        };
        error(status, kind, None, message, None)
    }

    fn idempotency_key(&self, request: &SandboxRequest) -> Option<String> {
        request.header("idempotency-key").map(str::to_owned)
    }

    fn in_progress_response(&self) -> SandboxResponse {
        error(
            409,
            "idempotency_error",
            None,
            "A request with this idempotency key is in progress.",
            None,
        )
    }
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
    BiasClient::builder()
        .api_key(API_KEY)
        .base_url(sandbox.base_url())
        .currency(Currency::USD)
}
