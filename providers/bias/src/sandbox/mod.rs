//! An offline Bias, where the real host serves it: `POST /v1/refunds`, `GET /v1/refunds/{id}`,
//! `GET /v1/refunds` (newest first, `items` envelope, id cursors, the JSON `filters` and `expand`
//! objects as the vendor's client sends them), the event log `GET /v1/events`,
//! `GET /v1/events/{id}` and the live stream `GET /v1/events?stream=true`; Bearer auth, Bias error
//! bodies, and `idempotency-key` replay (same key and body → the same refund; same key, other body →
//! `idempotency_error`), over the SDK's shared ledger. Every object carries what the vendor's own
//! client (`biaspay` 2.0.0) requires, so that client runs against it unmodified. [`start`] is a USD
//! account.
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
//! Choices where Bias documents nothing: refusals answer 400 `invalid_request_error` (an unknown id
//! 404), a bad key 401 `invalid_api_key`, a same key with another body 409 `idempotency_error`
//! `idempotency_params_mismatch`, a create still in progress under the same key 409
//! `idempotency_key_in_use` (the codes are the vendor client's); `fees` is an empty object; the
//! events are derived from the
//! ledger (`refund.created` at a refund's creation; `refund.updated` and `refund.succeeded` or
//! `refund.failed` when its status moves).

mod events;

use std::time::Duration;

use refunds::adapter::amount::MinorUnits;
use refunds::adapter::{HttpProvider, ProviderSpec};
use refunds::sandbox::{
    Call, Ledger, LedgerError, ListQuery, Page, RefundRecord, Refusal, Sandbox, SandboxKit, SandboxResponse,
};
use refunds::sandbox::{PaymentState, RefundDraft, SpecSkin};
use refunds::{Currency, RefundStatus};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::wire::{STATUSES, WireCreate, WireList, WirePayment, WireRefund, WireRefundFilters};
use crate::{Bias, BiasClient, BiasClientBuilder};

/// The test key the sandbox accepts, as `Authorization: Bearer <API_KEY>`.
pub const API_KEY: &str = "sk_test_bias_sandbox_4f2a9c";

/// The refund id prefix, as Bias's (`re_...`).
pub const REFUND_ID_PREFIX: &str = "re_";

/// The Bias face of the sandbox, for an account in `currency`.
#[derive(Debug, Clone)]
pub struct BiasSkin {
    currency: Currency,
    keep_alive: Duration,
}

fn error(status: u16, kind: &str, code: Option<&str>, message: &str, param: Option<&str>) -> SandboxResponse {
    let error = json!({"type": kind, "live": false, "code": code, "message": message, "param": param, "issues": null});
    SandboxResponse::json(status, &json!({"object": "error", "error": error}))
}

fn invalid(code: &str, message: &str, param: Option<&str>) -> SandboxResponse {
    error(400, "invalid_request_error", Some(code), message, param)
}

/// The payment as the vendor's `Payment` model requires it (every field it declares), for `expand`.
fn payment_object(ledger: &Ledger, id: &str) -> Option<Value> {
    let p = ledger.payment(id)?;
    let status = match p.state {
        PaymentState::Succeeded => "succeeded",
        PaymentState::Pending => "processing",
        _ => "failed",
    };
    Some(
        json!({"object": "payment", "live": false, "id": p.id, "created_at": 1_704_067_200_000_i64,
        "amount": p.captured.minor(), "amount_capturable": 0, "amount_received": p.captured.minor(),
        "amount_refunded": p.refunded, "fees": {}, "capture_method": "automatic", "customer": null,
        "description": null, "metadata": {}, "payment_error": null, "payment_method": format!("pm_{}", p.id),
        "statement_descriptor": null, "status": status, "dispute": null, "session": null, "invoice": null,
        "mandate": null, "off_session": false, "recurring": false, "ach_return": null}),
    )
}

/// A ledger refund as Bias' refund object, in `status`.
pub(crate) fn wire(record: &RefundRecord, status: &RefundStatus) -> WireRefund<'static> {
    WireRefund {
        object: Some("refund".into()),
        id: record.id.clone(),
        live: Some(false),
        created_at: Some(record.created_at),
        amount: MinorUnits::from_money(&record.amount),
        fees: Some(serde_json::Map::new()),
        failed_reason: record
            .failure_reason
            .clone()
            .filter(|_| *status == RefundStatus::Failed),
        payment: WirePayment::Id(record.payment_id.clone()),
        status: STATUSES.to_wire(status).unwrap_or(status.as_str()).to_owned().into(),
    }
}

/// The refund object as answered: its payment expanded when the call asked for it.
fn answered(record: &RefundRecord, call: &Call<'_>) -> Value {
    let mut refund = serde_json::to_value(wire(record, &record.status)).unwrap_or_default();
    if wants_payment(call) == Ok(true) {
        if let Some(payment) = payment_object(call.ledger, &record.payment_id) {
            refund["payment"] = payment;
        }
    }
    refund
}

/// The `expand` query parameter: a JSON object whose only key is `payment` (`true`, or an object of
/// the payment's own expansions, taken as `true`). `Err` names what is wrong.
fn wants_payment(call: &Call<'_>) -> Result<bool, String> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RefundExpand {
        #[serde(default)]
        payment: Option<Value>,
    }
    let Some(text) = call.request.query_param("expand") else {
        return Ok(false);
    };
    let expand: RefundExpand = serde_json::from_str(text).map_err(|e| format!("expand: {e}"))?;
    match expand.payment {
        None | Some(Value::Null) | Some(Value::Bool(false)) => Ok(false),
        Some(Value::Bool(true)) | Some(Value::Object(_)) => Ok(true),
        Some(other) => Err(format!("expand.payment: expected a boolean or an object, got {other}")),
    }
}

impl BiasSkin {
    /// A skin for an account in `currency`, sending a keep-alive space every 10 s on event streams.
    pub fn new(currency: Currency) -> BiasSkin {
        BiasSkin {
            currency,
            keep_alive: Duration::from_secs(10),
        }
    }

    /// Sets the time between keep-alive spaces on event streams.
    pub fn keep_alive(mut self, every: Duration) -> BiasSkin {
        self.keep_alive = every;
        self
    }
}

impl SpecSkin for BiasSkin {
    const SPEC: ProviderSpec = Bias::SPEC;
    const API_KEYS: &'static [&'static str] = &[API_KEY];

    fn decode_create(&self, call: &Call<'_>) -> Result<RefundDraft, SandboxResponse> {
        if let Err(e) = wants_payment(call) {
            return Err(invalid("parameter_invalid", &e, Some("expand")));
        }
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
        answered(record, call)
    }

    fn encode_page(&self, page: &Page<RefundRecord>, call: &Call<'_>) -> impl Serialize {
        WireList {
            object: Some("list".to_owned()),
            has_more: Some(page.has_more),
            items: page.items.iter().map(|r| answered(r, call)).collect(),
        }
    }

    fn list_query(&self, call: &Call<'_>) -> Result<ListQuery, SandboxResponse> {
        if let Err(e) = wants_payment(call) {
            return Err(invalid("parameter_invalid", &e, Some("expand")));
        }
        let query = ListQuery::new().newest_first();
        let Some(text) = call.request.query_param("filters") else {
            return Ok(query);
        };
        let filters: WireRefundFilters = serde_json::from_str(text)
            .map_err(|e| invalid("parameter_invalid", &format!("filters: {e}"), Some("filters")))?;
        if filters.payment_method.is_some() {
            let message = "the sandbox has no payment methods: filters.payment_method is not supported";
            return Err(invalid("parameter_invalid", message, Some("filters")));
        }
        Ok(query.filter(move |r| refund_matches(&filters, r)))
    }

    #[rustfmt::skip]
    fn encode_error(&self, refusal: Refusal<'_>) -> SandboxResponse {
        const INVALID: &str = "invalid_request_error";
        const MAX_LIMIT: u32 = Bias::SPEC.paging.unwrap().max_limit;
        match refusal {
            Refusal::Unauthorized { .. } => error(401, INVALID, Some("invalid_api_key"), "Invalid API key", None),
            Refusal::NoSuchRefund { .. } => error(404, INVALID, Some("resource_missing"), "No such refund", Some("id")),
            Refusal::BadParams(_) => invalid("parameter_invalid", &format!("limit must be from 1 to {MAX_LIMIT}"), Some("limit")),
            Refusal::UnknownCursor { param, id } => invalid("resource_missing", &format!("No such refund: {id}"), Some(param)),
            Refusal::Ledger { error, .. } => ledger_refusal(error),
            Refusal::InProgress => error(409, "idempotency_error", Some("idempotency_key_in_use"), "A request with this idempotency key is in progress.", None),
            Refusal::Fault { status, message } => {
                let kind = match status { 429 => "rate_limit_error", 500..=599 => "server_error", 409 => "idempotency_error", _ => INVALID };
                error(status, kind, None, message, None)
            }
            _ => error(404, INVALID, Some("not_found"), "Unrecognized request URL", None),
        }
    }

    fn extra_route(&self, call: &Call<'_>) -> Option<SandboxResponse> {
        let request = call.request;
        if request.is("GET", &["v1", "events"]) {
            return Some(match request.query_param("stream") {
                Some("true") => events::stream(call, self.keep_alive),
                _ => events::list(call),
            });
        }
        request
            .is("GET", &["v1", "events", "*"])
            .then(|| events::one(call, &request.segments[2]))
    }
}

/// Whether `record` passes the list's `filters`.
fn refund_matches(filters: &WireRefundFilters, record: &RefundRecord) -> bool {
    let status = STATUSES
        .to_wire(&record.status)
        .unwrap_or(record.status.as_str())
        .to_owned();
    let created = crate::wire::unix_millis(record.created_at).ok();
    filters
        .payment
        .as_ref()
        .is_none_or(|c| c.holds(Some(&record.payment_id)))
        && filters.status.as_ref().is_none_or(|c| c.holds(Some(&status)))
        && filters
            .amount
            .as_ref()
            .is_none_or(|c| c.holds(Some(&record.amount.minor())))
        && filters.created_at.as_ref().is_none_or(|c| c.holds(created.as_ref()))
}

/// Bias's answer to what the ledger refuses, one row each.
#[rustfmt::skip]
fn ledger_refusal(e: &LedgerError) -> SandboxResponse {
    match e {
        LedgerError::PaymentNotFound(id) => error(404, "invalid_request_error", Some("resource_missing"), &format!("No such payment: {id}"), Some("payment")),
        LedgerError::IdempotencyConflict => error(409, "idempotency_error", Some("idempotency_params_mismatch"), "This idempotency key was used with a different request.", None),
        LedgerError::AmountExceedsRefundable { available } => invalid("amount_too_large", &format!("amount must be at most {} (amount_received - amount_refunded)", available.minor()), Some("amount")),
        LedgerError::AlreadyRefunded(id) => invalid("payment_already_refunded", &format!("Payment {id} is fully refunded"), Some("payment")),
        LedgerError::PaymentNotRefundable(id) => invalid("payment_not_succeeded", &format!("Payment {id} does not have a status of succeeded"), Some("payment")),
        other => invalid("parameter_invalid", &other.to_string(), Some("amount")),
    }
}

/// Starts a sandbox for a USD account on an ephemeral port of 127.0.0.1.
pub async fn start() -> std::io::Result<Sandbox> {
    start_with_currency(Currency::USD).await
}

/// Starts a sandbox for an account in `currency` (give the builder the same currency).
pub async fn start_with_currency(currency: Currency) -> std::io::Result<Sandbox> {
    start_at(std::net::SocketAddr::from(([127, 0, 0, 1], 0)), currency).await
}

/// Starts a sandbox for an account in `currency` on `addr`, a loopback address (port 0: an ephemeral
/// one), as `refunds sandbox serve` does.
pub async fn start_at(addr: std::net::SocketAddr, currency: Currency) -> std::io::Result<Sandbox> {
    Sandbox::start_at(addr, BiasSkin::new(currency), Ledger::new(REFUND_ID_PREFIX)).await
}

/// A builder pointed at `sandbox` with [`API_KEY`] and USD (set `.currency(..)` for another account).
pub fn builder_for(sandbox: &Sandbox) -> BiasClientBuilder {
    let builder = BiasClient::builder().api_key(API_KEY);
    builder.base_url(sandbox.base_url()).currency(Currency::USD)
}

/// The sandbox for tools that serve every provider (the registry's demo, `refunds sandbox serve`, the
/// shared suite): this key, this skin, and a demo payment of "pay_bias_1".
pub const KIT: SandboxKit = SandboxKit::new(API_KEY, REFUND_ID_PREFIX, |currency| Box::new(BiasSkin::new(currency)))
    .demo("pay_bias_1", refunds::Money::from_minor(12_345, refunds::Currency::KWD))
    .demo_refunds(1_234, 500);
