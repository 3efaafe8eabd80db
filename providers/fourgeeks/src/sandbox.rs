//! An offline 4Geeks Payments: the same paths, `X-Api-Key` check, JSON, cents, `limit`/`offset`
//! paging and error bodies as the real API, over the SDK's shared simulated ledger.
//!
//! ```no_run
//! use refunds::{CreateRefund, Currency, Money, PaymentRef, RefundProvider};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let sandbox = refunds_fourgeeks::sandbox::start().await?;
//! sandbox.ledger().seed_payment("pay_1", Money::from_minor(10_000, Currency::USD));
//! let client = refunds_fourgeeks::sandbox::builder_for(&sandbox).build()?;
//! let refund = client
//!     .create_refund(&CreateRefund::new(PaymentRef::payment("pay_1")?))
//!     .await?;
//! assert_eq!(refund.amount, Money::from_minor(10_000, Currency::USD));
//! # Ok(())
//! # }
//! ```
//!
//! Choices where 4Geeks documents nothing (the client decodes each of them): a missing or wrong key
//! answers 401 `{"detail": ...}`; an unknown payment or refund answers 404 `{"detail": ...}`;
//! an over-refund, a fully refunded or an unrefundable payment answers 400 in the
//! `{"message": {"code", "title", "content", "type"}}` form; a malformed body or query answers 422
//! with a FastAPI `detail` list. No idempotency key is read, as 4Geeks documents none.

use refunds::Currency;
use refunds::adapter::amount::MinorUnits;
use refunds::sandbox::{
    Ledger, LedgerError, RefundDraft, RefundRecord, Sandbox, SandboxRequest, SandboxResponse, Skin,
};
use serde_json::Value;

use crate::wire::{
    WireCode, WireCreateRefund, WireDetail, WireDetailItem, WireErrorBody, WireMessage, WireMessageObject, WireRefund,
    WireRefundList, status_to_wire,
};
use refunds::adapter::HttpProvider;

use crate::{FourGeeks, FourGeeksClient, FourGeeksClientBuilder, ID};

/// A test key the sandbox accepts in `X-Api-Key`.
pub const API_KEY: &str = "sk_test_fourgeeks_sandbox_0123456789";

/// The currency [`builder_for`] configures: the sandbox account's currency unless you say otherwise.
pub const CURRENCY: Currency = Currency::USD;

/// The refund id prefix the sandbox uses, as 4Geeks does.
pub const REFUND_ID_PREFIX: &str = "ref_";

/// Starts a 4Geeks sandbox on an ephemeral port of 127.0.0.1, with an empty ledger.
pub async fn start() -> std::io::Result<Sandbox> {
    Sandbox::start(FourGeeksSkin, Ledger::new(REFUND_ID_PREFIX)).await
}

/// A client builder pointed at `sandbox` with [`API_KEY`] and the account currency [`CURRENCY`];
/// call `.currency(..)` on it when the seeded payments are in another currency.
pub fn builder_for(sandbox: &Sandbox) -> FourGeeksClientBuilder {
    FourGeeksClient::builder()
        .api_key(API_KEY)
        .base_url(sandbox.base_url())
        .currency(CURRENCY)
}

/// The 4Geeks face of the sandbox: routes `/v1/refunds` and `/v1/refunds/{id}` onto the ledger.
#[derive(Debug, Clone, Copy, Default)]
pub struct FourGeeksSkin;

fn detail(status: u16, text: &str) -> SandboxResponse {
    let body = WireErrorBody {
        detail: Some(WireDetail::Text(text.to_owned())),
        message: None,
    };
    SandboxResponse::json(status, &body)
}

fn invalid(items: Vec<WireDetailItem>) -> SandboxResponse {
    let body = WireErrorBody {
        detail: Some(WireDetail::Items(items)),
        message: None,
    };
    SandboxResponse::json(422, &body)
}

fn refusal(title: &str, content: &str) -> SandboxResponse {
    let body = WireErrorBody {
        detail: None,
        message: Some(WireMessage::Object(WireMessageObject {
            code: Some(WireCode::Number(400)),
            title: Some(title.to_owned()),
            content: Some(content.to_owned()),
            kind: Some("danger".to_owned()),
        })),
    };
    SandboxResponse::json(400, &body)
}

fn refund_json(record: &RefundRecord) -> WireRefund {
    WireRefund {
        id: record.id.clone(),
        object: Some("refund".to_owned()),
        payment_id: record.payment_id.clone(),
        amount: MinorUnits::from_money(&record.amount),
        status: status_to_wire(&record.status),
    }
}

/// FastAPI's complaints about a create body that does not fit the schema.
fn body_complaints(body: &[u8]) -> Vec<WireDetailItem> {
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
        return vec![WireDetailItem::new(
            &["body"],
            "value is not a valid dict",
            "type_error.dict",
        )];
    };
    let mut complaints = Vec::new();
    match map.get("payment_id") {
        None | Some(Value::Null) => complaints.push(WireDetailItem::new(
            &["body", "payment_id"],
            "field required",
            "value_error.missing",
        )),
        Some(Value::String(_)) => {}
        Some(_) => complaints.push(WireDetailItem::new(
            &["body", "payment_id"],
            "str type expected",
            "type_error.str",
        )),
    }
    match map.get("amount") {
        None | Some(Value::Null) => {}
        Some(Value::Number(n)) if n.as_i64().is_some() => {}
        Some(_) => complaints.push(WireDetailItem::new(
            &["body", "amount"],
            "value is not a valid integer",
            "type_error.integer",
        )),
    }
    match map.get("reason") {
        None | Some(Value::Null) | Some(Value::String(_)) => {}
        Some(_) => complaints.push(WireDetailItem::new(
            &["body", "reason"],
            "str type expected",
            "type_error.str",
        )),
    }
    complaints
}

fn not_positive() -> SandboxResponse {
    invalid(vec![WireDetailItem::new(
        &["body", "amount"],
        "ensure this value is greater than 0",
        "value_error.number.not_gt",
    )])
}

impl FourGeeksSkin {
    fn create(&self, request: &SandboxRequest, ledger: &Ledger) -> SandboxResponse {
        let body: WireCreateRefund = match request.json() {
            Ok(body) => body,
            Err(_) => return invalid(body_complaints(&request.body)),
        };
        if body.amount.is_some_and(|a| a.0 <= 0) {
            return not_positive();
        }
        let mut draft = RefundDraft::new(body.payment_id);
        draft.amount_minor = body.amount.map(|a| a.0);
        draft.reason = body.reason;
        draft.fingerprint = String::from_utf8_lossy(&request.body).into_owned();
        match ledger.create_refund(draft) {
            Ok(outcome) => SandboxResponse::json(200, &refund_json(outcome.record())),
            Err(LedgerError::PaymentNotFound(_)) => detail(404, "Payment not found."),
            Err(LedgerError::AmountExceedsRefundable { available }) => refusal(
                "Refund error",
                &format!(
                    "The refund amount exceeds the refundable amount of the payment ({} cents left).",
                    available.minor()
                ),
            ),
            Err(LedgerError::AlreadyRefunded(_)) => {
                refusal("Refund error", "The payment has already been fully refunded.")
            }
            Err(LedgerError::PaymentNotRefundable(_)) => {
                refusal("Refund error", "The payment cannot be refunded in its current state.")
            }
            Err(LedgerError::InvalidAmount) => not_positive(),
            Err(other) => refusal("Refund error", &other.to_string()),
        }
    }

    fn list(&self, request: &SandboxRequest, ledger: &Ledger) -> SandboxResponse {
        let mut complaints = Vec::new();
        let mut number = |name: &str, default: u64, range: std::ops::RangeInclusive<u64>| {
            let Some(text) = request.query_param(name) else {
                return default;
            };
            match text.parse::<u64>() {
                Ok(n) if range.contains(&n) => n,
                Ok(_) => {
                    complaints.push(WireDetailItem::new(
                        &["query", name],
                        &format!("ensure this value is between {} and {}", range.start(), range.end()),
                        "value_error.number.not_in_range",
                    ));
                    default
                }
                Err(_) => {
                    complaints.push(WireDetailItem::new(
                        &["query", name],
                        "value is not a valid integer",
                        "type_error.integer",
                    ));
                    default
                }
            }
        };
        let paging = FourGeeks::SPEC.paging.expect("4geeks lists");
        let limit = number(
            "limit",
            u64::from(paging.default_limit),
            1..=u64::from(paging.max_limit),
        );
        let offset = number("offset", 0, 0..=u64::MAX);
        if !complaints.is_empty() {
            return invalid(complaints);
        }
        let all = ledger.refunds();
        let skip = usize::try_from(offset).unwrap_or(usize::MAX);
        let take = usize::try_from(limit).unwrap_or(usize::MAX);
        let list = WireRefundList {
            items: all.iter().skip(skip).take(take).map(refund_json).collect(),
            total_items: Some(all.len() as u64),
            limit: Some(limit),
            offset: Some(offset),
        };
        SandboxResponse::json(200, &list)
    }
}

impl Skin for FourGeeksSkin {
    fn provider(&self) -> &'static str {
        ID
    }

    fn handle(&self, request: &SandboxRequest, ledger: &Ledger) -> SandboxResponse {
        match request.header("x-api-key") {
            None => return detail(401, "Authentication credentials were not provided."),
            Some(key) if key != API_KEY => {
                return detail(401, "Incorrect authentication credentials.");
            }
            Some(_) => {}
        }
        if request.is("POST", &["v1", "refunds"]) {
            return self.create(request, ledger);
        }
        if request.is("GET", &["v1", "refunds"]) {
            return self.list(request, ledger);
        }
        if request.is("GET", &["v1", "refunds", "*"]) {
            return match ledger.refund(&request.segments[2]) {
                Some(record) => SandboxResponse::json(200, &refund_json(&record)),
                None => detail(404, "Not found."),
            };
        }
        detail(404, "Not Found")
    }

    fn error_response(&self, status: u16, message: &str) -> SandboxResponse {
        detail(status, message)
    }
}
