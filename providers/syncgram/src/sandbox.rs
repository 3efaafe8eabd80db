//! SyncgramPay's embedded sandbox: its HTTP API simulated on 127.0.0.1 over the shared ledger.
//!
//! Three lines in a test:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use refunds::{CreateRefund, Currency, Money, PaymentRef, RefundProvider};
//! let sandbox = refunds_syncgram::sandbox::start().await?;
//! sandbox.ledger().seed_payment("ch_1", Money::from_minor(5_000, Currency::USD));
//! let client = refunds_syncgram::sandbox::builder_for(&sandbox).build()?;
//!
//! let refund = client.create_refund(&CreateRefund::new(PaymentRef::charge("ch_1")?)).await?;
//! assert!(refund.id.as_str().starts_with("ref_"));
//! assert_eq!(refund.fee, Some(Money::from_minor(50, Currency::USD)));
//! # Ok(()) }
//! ```
//!
//! What it does, as SyncgramPay does or as assumed where SyncgramPay does not say:
//!
//! - the same paths, field names and decimal strings (with the currency's decimal places) as the
//!   real API; refund ids start `ref_`;
//! - `Authorization: Bearer` must carry [`API_KEY`] (test mode) or [`LIVE_API_KEY`] (live mode),
//!   else 401 `{"detail": "Invalid or missing API key"}`;
//! - a fee of 1% of the refunded amount ([`FEE_PERCENT`]), rounded down to the minor unit;
//! - idempotency by `idempotency_key`, else by `reference`: the same one with the same body returns
//!   the original refund, with another body a 409;
//! - `simulated_outcome: failed` makes the refund fail when it settles; in live mode it is a 400;
//! - errors are FastAPI-style: `{"detail": "..."}`, or `{"detail": [{"loc", "msg", "type"}]}` for
//!   invalid fields (status 400);
//! - the refund of a charge is its most recent refund;
//! - `refunded_amount` is `null` until the refund has succeeded.

use std::collections::HashMap;
use std::sync::Mutex;

use refunds::adapter::amount::MajorDecimal;
use refunds::sandbox::{
    Ledger, LedgerError, RefundDraft, RefundRecord, Sandbox, SandboxRequest, SandboxResponse,
    SimulatedOutcome as LedgerOutcome, Skin,
};
use refunds::{Currency, Money, RefundStatus};
use serde_json::json;

use crate::client::{
    DEFAULT_PAGE_SIZE, MAX_IDEMPOTENCY_KEY_LEN, MAX_PAGE_SIZE, MAX_REASON_LEN, MAX_REFERENCE_LEN,
    MAX_REFUND_ADDRESS_LEN, PROVIDER_ID, SyncgramClient, SyncgramClientBuilder,
};
use crate::wire::{FeeBearer, STATUSES, SimulatedOutcome, WireCreateRefund, WireRefund, WireRefundList};

/// A test-mode key the sandbox accepts.
pub const API_KEY: &str = "sk_test_syncgram_sandbox_0000";
/// A key the sandbox treats as live mode, where test-only options (`simulated_outcome`) are refused.
pub const LIVE_API_KEY: &str = "sk_live_syncgram_sandbox_0000";
/// The sandbox's refund fee, in percent of the refunded amount (rounded down to the minor unit).
pub const FEE_PERCENT: i64 = 1;
/// The refund id prefix of the sandbox's ledger.
pub const REFUND_ID_PREFIX: &str = "ref_";
/// The settlement currency [`builder_for`] configures; seed payments in it, or change it with
/// [`SyncgramClientBuilder::currency`].
pub const SANDBOX_CURRENCY: Currency = Currency::USD;

/// Starts a SyncgramPay sandbox with an empty ledger on an ephemeral port of 127.0.0.1.
pub async fn start() -> std::io::Result<Sandbox> {
    Sandbox::start(SyncgramSkin::new(), Ledger::new(REFUND_ID_PREFIX)).await
}

/// A client builder pointed at `sandbox` with [`API_KEY`] and the settlement currency
/// [`SANDBOX_CURRENCY`] (USD): call `.currency(..)` when the seeded payments are in another one.
pub fn builder_for(sandbox: &Sandbox) -> SyncgramClientBuilder {
    SyncgramClient::builder()
        .api_key(API_KEY)
        .base_url(sandbox.base_url())
        .currency(SANDBOX_CURRENCY)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Test,
    Live,
}

/// SyncgramPay's face over the shared ledger (see the [module docs](self)).
#[derive(Debug, Default)]
pub struct SyncgramSkin {
    // The ledger has no fee-bearer field: the skin remembers it per refund id.
    fee_bearers: Mutex<HashMap<String, FeeBearer>>,
}

impl SyncgramSkin {
    /// A skin with no remembered state.
    pub fn new() -> SyncgramSkin {
        SyncgramSkin::default()
    }

    fn mode(&self, request: &SandboxRequest) -> Option<Mode> {
        let token = request.header("authorization")?.strip_prefix("Bearer ")?;
        if token == API_KEY {
            Some(Mode::Test)
        } else if token == LIVE_API_KEY {
            Some(Mode::Live)
        } else {
            None
        }
    }

    fn fee_bearer(&self, refund_id: &str) -> FeeBearer {
        self.fee_bearers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(refund_id)
            .copied()
            // The organisation's configured default, assumed to be ORG.
            .unwrap_or(FeeBearer::Org)
    }

    fn refund_answer(&self, record: &RefundRecord) -> SandboxResponse {
        SandboxResponse::json(200, &self.wire_refund(record))
    }

    fn wire_refund(&self, record: &RefundRecord) -> WireRefund {
        let currency = record.amount.currency();
        let status = STATUSES.to_wire(&record.status).unwrap_or(record.status.as_str());
        WireRefund {
            refund_id: record.id.clone(),
            charge_id: record.payment_id.clone(),
            reference: record.reference.clone(),
            status: status.to_owned(),
            requested_amount: MajorDecimal::string(&record.amount),
            refunded_amount: (record.status == RefundStatus::Succeeded).then(|| MajorDecimal::string(&record.amount)),
            refund_fee_amount: Some(MajorDecimal::string(&record.fee.unwrap_or(Money::zero(currency)))),
            fee_bearer: Some(self.fee_bearer(&record.id).as_str().to_owned()),
            reason: record.reason.clone(),
            created_at: Some(record.created_at),
            updated_at: Some(record.updated_at),
            completed_at: record.completed_at,
        }
    }

    fn create(&self, request: &SandboxRequest, ledger: &Ledger, mode: Mode) -> SandboxResponse {
        let body: WireCreateRefund = match request.json() {
            Ok(body) => body,
            Err(e) => {
                return invalid_at(&["body"], &format!("invalid refund request: {e}"), "value_error");
            }
        };
        if let Some(answer) = check_limits(&body) {
            return answer;
        }
        if body.simulated_outcome.is_some() && mode == Mode::Live {
            return detail(400, "simulated_outcome is only available in test mode");
        }
        let Some(payment) = ledger.payment(&body.charge_id) else {
            return detail(404, "Charge not found");
        };
        let currency = payment.captured.currency();
        let amount_minor = match &body.amount {
            None => None,
            Some(amount) => match amount.to_money(currency, "amount") {
                Ok(money) if money.is_positive() => Some(money.minor()),
                Ok(_) => return invalid("amount", "Input should be greater than 0"),
                Err(_) => {
                    return invalid(
                        "amount",
                        &format!(
                            "Amount has more than {} decimal places for {}",
                            currency.exponent(),
                            currency.code()
                        ),
                    );
                }
            },
        };
        let refunded = amount_minor.unwrap_or(payment.refundable().minor()).max(0);
        let mut draft = RefundDraft::new(body.charge_id.clone());
        draft.amount_minor = amount_minor;
        draft.reason = body.reason.clone();
        draft.reference = Some(body.reference.clone());
        // One idempotency namespace in the ledger: keep keys and references apart.
        draft.idempotency_key = Some(match &body.idempotency_key {
            Some(key) => format!("idempotency_key:{key}"),
            None => format!("reference:{}", body.reference),
        });
        draft.fingerprint = String::from_utf8_lossy(&request.body).into_owned();
        draft.outcome = match body.simulated_outcome {
            Some(SimulatedOutcome::Failed) => LedgerOutcome::Fail,
            _ => LedgerOutcome::Succeed,
        };
        draft.fee_minor = Some(refunded * FEE_PERCENT / 100);
        match ledger.create_refund(draft) {
            Ok(outcome) => {
                let record = outcome.record();
                if let Some(bearer) = body.fee_bearer {
                    self.fee_bearers
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .entry(record.id.clone())
                        .or_insert(bearer);
                }
                self.refund_answer(record)
            }
            Err(error) => ledger_error(&error),
        }
    }

    fn list(&self, request: &SandboxRequest, ledger: &Ledger) -> SandboxResponse {
        let limit = match request.query_param("limit") {
            None => DEFAULT_PAGE_SIZE,
            Some(text) => match text.parse::<u32>() {
                Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => n,
                _ => {
                    return invalid_at(
                        &["query", "limit"],
                        &format!("Input should be between 1 and {MAX_PAGE_SIZE}"),
                        "value_error",
                    );
                }
            },
        };
        let offset = match request.query_param("offset") {
            None => 0,
            Some(text) => match text.parse::<usize>() {
                Ok(n) => n,
                Err(_) => {
                    return invalid_at(
                        &["query", "offset"],
                        "Input should be a valid integer greater than or equal to 0",
                        "int_parsing",
                    );
                }
            },
        };
        let status = request.query_param("status");
        let matching: Vec<WireRefund> = ledger
            .refunds()
            .iter()
            .map(|record| self.wire_refund(record))
            .filter(|wire| status.is_none_or(|s| wire.status.eq_ignore_ascii_case(s)))
            .collect();
        let total = matching.len() as u64;
        let items = matching.into_iter().skip(offset).take(limit as usize).collect();
        SandboxResponse::json(200, &WireRefundList { total, items })
    }

    fn by_charge(&self, charge_id: &str, ledger: &Ledger) -> SandboxResponse {
        if let Some(latest) = ledger.refunds_for_payment(charge_id).last() {
            return self.refund_answer(latest);
        }
        if ledger.payment(charge_id).is_none() {
            return detail(404, "Charge not found");
        }
        detail(404, "No refund found for this charge")
    }
}

impl Skin for SyncgramSkin {
    fn provider(&self) -> &'static str {
        PROVIDER_ID
    }

    fn handle(&self, request: &SandboxRequest, ledger: &Ledger) -> SandboxResponse {
        let Some(mode) = self.mode(request) else {
            return detail(401, "Invalid or missing API key");
        };
        let segments: Vec<&str> = request.segments.iter().map(String::as_str).collect();
        match (request.method.as_str(), segments.as_slice()) {
            ("POST", ["api", "v1", "payments", "refunds"]) => self.create(request, ledger, mode),
            ("GET", ["api", "v1", "payments", "refunds"]) => self.list(request, ledger),
            ("GET", ["api", "v1", "payments", "refunds", id]) => match ledger.refund(id) {
                Some(record) => self.refund_answer(&record),
                None => detail(404, "Refund not found"),
            },
            ("GET", ["api", "v1", "payments", "payins", charge_id, "refund"]) => self.by_charge(charge_id, ledger),
            _ => detail(404, "Not Found"),
        }
    }

    fn error_response(&self, status: u16, message: &str) -> SandboxResponse {
        detail(status, message)
    }
}

/// The documented limits, checked as SyncgramPay's validation would.
fn check_limits(body: &WireCreateRefund) -> Option<SandboxResponse> {
    let too_long = |field: &str, text: &str, min: usize, max: usize| {
        let len = text.chars().count();
        (len < min || len > max)
            .then(|| invalid(field, &format!("String should have between {min} and {max} characters")))
    };
    too_long("reference", &body.reference, 1, MAX_REFERENCE_LEN)
        .or_else(|| {
            body.reason
                .as_deref()
                .and_then(|r| too_long("reason", r, 0, MAX_REASON_LEN))
        })
        .or_else(|| {
            body.refund_address
                .as_deref()
                .and_then(|a| too_long("refund_address", a, 1, MAX_REFUND_ADDRESS_LEN))
        })
        .or_else(|| {
            body.idempotency_key
                .as_deref()
                .and_then(|k| too_long("idempotency_key", k, 1, MAX_IDEMPOTENCY_KEY_LEN))
        })
}

fn ledger_error(error: &LedgerError) -> SandboxResponse {
    match error {
        LedgerError::PaymentNotFound(_) => detail(404, "Charge not found"),
        LedgerError::PaymentNotRefundable(_) => detail(400, "Charge is not refundable"),
        LedgerError::AmountExceedsRefundable { available } => detail(
            400,
            &format!(
                "Refund amount exceeds the refundable amount of {}",
                available.to_major_string()
            ),
        ),
        LedgerError::AlreadyRefunded(_) => detail(400, "Charge has already been fully refunded"),
        LedgerError::IdempotencyConflict => detail(
            409,
            "Idempotency conflict: this idempotency key or reference was used with a different request",
        ),
        LedgerError::InvalidAmount => invalid("amount", "Input should be greater than 0"),
        other => detail(400, &other.to_string()),
    }
}

fn detail(status: u16, message: &str) -> SandboxResponse {
    SandboxResponse::json(status, &json!({ "detail": message }))
}

fn invalid(field: &str, message: &str) -> SandboxResponse {
    invalid_at(&["body", field], message, "value_error")
}

fn invalid_at(loc: &[&str], message: &str, kind: &str) -> SandboxResponse {
    SandboxResponse::json(
        400,
        &json!({ "detail": [{ "loc": loc, "msg": message, "type": kind }] }),
    )
}
