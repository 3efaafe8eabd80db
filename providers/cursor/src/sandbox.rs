//! The embedded sandbox: the cursor-paged refunds API simulated on 127.0.0.1 over the shared ledger.
//!
//! It speaks the client's defaults: `POST /refunds`, `GET /refunds/{id}`, `GET /refunds`, Bearer auth,
//! ids `re_...`, `created_at` in unix milliseconds, `live: false`, cursor paging with `limit`,
//! `starting_after`, `ending_before` and `has_more`, and `expand` (both `expand[payment]=true` and
//! `expand[]=payment`) on retrieve and list. Errors are `{"error": {"type", "code", "message",
//! "param"}}`. The account currency is fixed per sandbox ([`start`] is a USD account); a refund of a
//! payment seeded in another currency is refused.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use refunds::{CreateRefund, Currency, Money, PaymentRef, RefundProvider};
//! let sandbox = refunds_cursor::sandbox::start().await?;
//! sandbox.ledger().seed_payment("pay_1", Money::from_minor(5_000, Currency::USD));
//! let client = refunds_cursor::sandbox::builder_for(&sandbox).build()?;
//! let refund = client.create_refund(&CreateRefund::new(PaymentRef::payment("pay_1")?)).await?;
//! assert_eq!(refund.amount.minor(), 5_000);
//! # Ok(()) }
//! ```

use refunds::adapter::WithRaw;
use std::cell::Cell;

use refunds::adapter::amount::MinorUnits;
use refunds::sandbox::{
    Ledger, LedgerError, PaymentState, RefundDraft, RefundRecord, Sandbox, SandboxRequest, SandboxResponse, Skin,
};
use refunds::{Currency, RawJson, RefundStatus};
use serde_json::json;

use crate::PROVIDER_ID;
use crate::client::CursorClientBuilder;
use crate::wire::{ExpandedPayment, STATUSES, WireCreate, WireList, WirePaymentField, WireRefund};

/// The test key the sandbox accepts, sent as `Authorization: Bearer <API_KEY>`.
pub const API_KEY: &str = "sk_test_cursor_sandbox_4f2a9c";

/// The refund id prefix of the sandbox.
pub const REFUND_ID_PREFIX: &str = "re_";

/// The sandbox's cursor-paged API over a ledger, for an account in `currency`.
#[derive(Debug, Clone)]
pub struct CursorSkin {
    currency: Currency,
}

impl CursorSkin {
    /// A skin for an account in `currency`.
    pub fn new(currency: Currency) -> CursorSkin {
        CursorSkin { currency }
    }
}

fn error(status: u16, error_type: &str, code: &str, message: &str, param: Option<&str>) -> SandboxResponse {
    let mut body = json!({"type": error_type, "code": code, "message": message});
    if let Some(param) = param {
        body["param"] = json!(param);
    }
    SandboxResponse::json(status, &json!({ "error": body }))
}

fn invalid(code: &str, message: &str, param: Option<&str>) -> SandboxResponse {
    error(400, "invalid_request_error", code, message, param)
}

fn unknown_cursor(param: &str, id: &str) -> SandboxResponse {
    invalid("resource_missing", &format!("no such refund: {id}"), Some(param))
}

fn payment_status(state: PaymentState) -> &'static str {
    match state {
        PaymentState::Succeeded => "succeeded",
        PaymentState::Pending => "pending",
        PaymentState::Failed => "failed",
        _ => "unknown",
    }
}

impl CursorSkin {
    fn wire(&self, record: &RefundRecord, ledger: &Ledger, expand: bool) -> WireRefund {
        let payment = match expand.then(|| ledger.payment(&record.payment_id)).flatten() {
            Some(p) => WirePaymentField::Expanded(ExpandedPayment::new(&p.id).with_amounts(
                p.captured.minor(),
                p.captured.minor(),
                p.refunded,
                payment_status(p.state),
            )),
            None => WirePaymentField::Id(record.payment_id.clone()),
        };
        // Statuses outside the table (processing, requires_action) are written with the SDK name.
        let status = STATUSES
            .to_wire(&record.status)
            .unwrap_or(record.status.as_str())
            .to_owned();
        let failed_reason = match record.status {
            RefundStatus::Failed => record.failure_reason.clone(),
            _ => None,
        };
        WireRefund {
            object: Some("refund".to_owned()),
            id: record.id.clone(),
            live: Some(false),
            created_at: Some(record.created_at),
            amount: MinorUnits::from_money(&record.amount),
            failed_reason,
            payment,
            status,
        }
    }

    fn create(&self, request: &SandboxRequest, ledger: &Ledger) -> SandboxResponse {
        let body: WireCreate = match request.json() {
            Ok(body) => body,
            Err(e) => {
                return invalid("parameter_invalid", &format!("body is not a refund request: {e}"), None);
            }
        };
        if body.payment.is_empty() {
            return invalid("parameter_missing", "payment is required", Some("payment"));
        }
        let mut draft = RefundDraft::new(body.payment);
        draft.amount_minor = body.amount.map(|a| a.0);
        // Amounts are in the account currency; a payment in another one is not this account's.
        draft.currency = Some(self.currency);
        draft.fingerprint = String::from_utf8_lossy(&request.body).into_owned();
        match ledger.create_refund(draft) {
            Ok(outcome) => SandboxResponse::json(200, &self.wire(outcome.record(), ledger, false)),
            Err(LedgerError::PaymentNotFound(id)) => error(
                404,
                "invalid_request_error",
                "resource_missing",
                &format!("no such payment: {id}"),
                Some("payment"),
            ),
            Err(LedgerError::PaymentNotRefundable(id)) => invalid(
                "payment_not_succeeded",
                &format!("payment {id} does not have a status of succeeded"),
                Some("payment"),
            ),
            Err(LedgerError::AmountExceedsRefundable { available }) => invalid(
                "amount_too_large",
                &format!(
                    "amount must be less than or equal to {} (amount_received minus amount_refunded)",
                    available.minor()
                ),
                Some("amount"),
            ),
            Err(LedgerError::AlreadyRefunded(id)) => invalid(
                "payment_already_refunded",
                &format!("payment {id} has already been refunded"),
                Some("payment"),
            ),
            Err(LedgerError::InvalidAmount) => invalid(
                "parameter_invalid_integer",
                "amount must be a positive integer",
                Some("amount"),
            ),
            Err(LedgerError::CurrencyMismatch { payment, .. }) => invalid(
                "currency_mismatch",
                &format!("payment is in {payment}, the account in {}", self.currency.code()),
                Some("payment"),
            ),
            Err(other) => invalid("invalid_request", &other.to_string(), None),
        }
    }

    fn list(&self, request: &SandboxRequest, ledger: &Ledger) -> SandboxResponse {
        let limit = match request.query_param("limit") {
            None => 50,
            Some(text) => match text.parse::<usize>() {
                Ok(n) if (1..=1000).contains(&n) => n,
                _ => {
                    return invalid(
                        "parameter_invalid_integer",
                        "limit must be an integer from 1 to 1000",
                        Some("limit"),
                    );
                }
            },
        };
        let after = request.query_param("starting_after");
        let before = request.query_param("ending_before");
        let (window, has_more) = match (after, before) {
            (Some(_), Some(_)) => {
                return invalid(
                    "parameter_invalid",
                    "starting_after and ending_before cannot be combined",
                    None,
                );
            }
            (Some(id), None) => {
                // Everything after `id`, in creation order; one extra tells whether there is more.
                let seen = Cell::new(false);
                let (page, _) = ledger.refunds_page(0, limit + 1, |r| {
                    let pass = seen.get();
                    if r.id == id {
                        seen.set(true);
                    }
                    pass
                });
                if !seen.get() {
                    return unknown_cursor("starting_after", id);
                }
                let more = page.len() > limit;
                (page.into_iter().take(limit).collect::<Vec<_>>(), more)
            }
            (None, Some(id)) => {
                // The `limit` refunds just before `id`.
                let seen = Cell::new(false);
                let before_id = |r: &RefundRecord| {
                    if r.id == id {
                        seen.set(true);
                    }
                    !seen.get()
                };
                let (_, count) = ledger.refunds_page(0, 0, before_id);
                if !seen.get() {
                    return unknown_cursor("ending_before", id);
                }
                seen.set(false);
                let start = count.saturating_sub(limit);
                let (page, _) = ledger.refunds_page(start, limit, before_id);
                (page, start > 0)
            }
            (None, None) => {
                let (page, total) = ledger.refunds_page(0, limit, |_| true);
                (page, total > limit)
            }
        };
        let expand = expands_payment(request);
        let data = window
            .iter()
            .map(|r| {
                let wire = self.wire(r, ledger, expand);
                let raw = serde_json::value::to_raw_value(&wire)
                    .map(RawJson::from_raw)
                    .unwrap_or_else(|_| RawJson::from_value(&serde_json::Value::Null));
                WithRaw { value: wire, raw }
            })
            .collect();
        let list = WireList {
            object: Some("list".to_owned()),
            data,
            has_more: Some(has_more),
        };
        SandboxResponse::json(200, &list)
    }
}

/// True when the query asks for the payment expanded, in either spelling the client can send.
fn expands_payment(request: &SandboxRequest) -> bool {
    request
        .query
        .iter()
        .any(|(k, v)| (k == "expand[payment]" && v == "true") || (k == "expand[]" && v == "payment"))
}

impl Skin for CursorSkin {
    fn provider(&self) -> &'static str {
        PROVIDER_ID
    }

    fn handle(&self, request: &SandboxRequest, ledger: &Ledger) -> SandboxResponse {
        if request.header("authorization") != Some(&format!("Bearer {API_KEY}")) {
            return error(
                401,
                "authentication_error",
                "unauthorized",
                "invalid api key provided",
                None,
            );
        }
        if request.is("POST", &["refunds"]) {
            return self.create(request, ledger);
        }
        if request.is("GET", &["refunds", "*"]) {
            return match ledger.refund(&request.segments[1]) {
                Some(r) => SandboxResponse::json(200, &self.wire(&r, ledger, expands_payment(request))),
                None => error(
                    404,
                    "invalid_request_error",
                    "resource_missing",
                    &format!("no such refund: {}", request.segments[1]),
                    Some("id"),
                ),
            };
        }
        if request.is("GET", &["refunds"]) {
            return self.list(request, ledger);
        }
        error(
            404,
            "invalid_request_error",
            "not_found",
            "unrecognized request url",
            None,
        )
    }

    fn error_response(&self, status: u16, message: &str) -> SandboxResponse {
        let (error_type, code) = match status {
            429 => ("rate_limit_error", "rate_limit"),
            _ => ("api_error", "api_error"),
        };
        error(status, error_type, code, message, None)
    }
}

/// Starts a sandbox for a USD account on an ephemeral port of 127.0.0.1.
pub async fn start() -> std::io::Result<Sandbox> {
    start_with_currency(Currency::USD).await
}

/// Starts a sandbox for an account in `currency` (give the builder the same currency).
pub async fn start_with_currency(currency: Currency) -> std::io::Result<Sandbox> {
    Sandbox::start(CursorSkin::new(currency), Ledger::new(REFUND_ID_PREFIX)).await
}

/// A builder pointed at `sandbox` with [`API_KEY`] and the USD account currency of [`start`]
/// (for [`start_with_currency`], set `.currency(..)` to match).
pub fn builder_for(sandbox: &Sandbox) -> CursorClientBuilder {
    CursorClientBuilder::new()
        .api_key(API_KEY)
        .base_url(sandbox.base_url())
        .currency(Currency::USD)
}
