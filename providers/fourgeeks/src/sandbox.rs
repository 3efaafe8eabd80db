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
//! let refund = client.create_refund(&CreateRefund::new(PaymentRef::payment("pay_1")?)).await?;
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
//! `GET /v1/payments/{id}/` answers the payment's id and currency (the client reads its currency;
//! payments may be in any currency, as on 4Geeks).

use refunds::Currency;
use refunds::adapter::amount::MinorUnits;
use refunds::adapter::{HttpProvider, ProviderSpec};
use refunds::sandbox::{
    BadParam, Call, Ledger, LedgerError, Page, ParamProblem, RefundDraft, RefundRecord, Refusal, Sandbox, SandboxKit,
    SandboxRequest, SandboxResponse, SpecSkin,
};
use serde::Serialize;
use serde_json::Value;

use crate::wire::{
    WireCode, WireCreateRefund, WireDetail, WireDetailItem, WireErrorBody, WireMessage, WireMessageObject, WirePayment,
    WireRefund, WireRefundList, status_to_wire,
};
use crate::{FourGeeks, FourGeeksClient, FourGeeksClientBuilder};

/// A test key the sandbox accepts in `X-Api-Key`.
pub const API_KEY: &str = "sk_test_fourgeeks_sandbox_0123456789";

/// The currency of the sandbox's demo payments.
pub const CURRENCY: Currency = Currency::USD;

/// The refund id prefix the sandbox uses, as 4Geeks does.
pub const REFUND_ID_PREFIX: &str = "ref_";

/// Starts a 4Geeks sandbox on an ephemeral port of 127.0.0.1, with an empty ledger.
pub async fn start() -> std::io::Result<Sandbox> {
    start_at(std::net::SocketAddr::from(([127, 0, 0, 1], 0))).await
}

/// Starts a sandbox on `addr`, a loopback address (port 0: an ephemeral one), as
/// `refunds sandbox serve` does.
pub async fn start_at(addr: std::net::SocketAddr) -> std::io::Result<Sandbox> {
    Sandbox::start_at(addr, FourGeeksSkin, Ledger::new(REFUND_ID_PREFIX)).await
}

/// A client builder pointed at `sandbox` with [`API_KEY`]. Refunds take their currency from their
/// payment, as on 4Geeks; `.currency(..)` on it only checks creates.
pub fn builder_for(sandbox: &Sandbox) -> FourGeeksClientBuilder {
    FourGeeksClient::builder().api_key(API_KEY).base_url(sandbox.base_url())
}

/// The 4Geeks face of the sandbox over the generic skin (`/v1/refunds`, `/v1/refunds/{id}`).
#[derive(Debug, Clone, Copy, Default)]
pub struct FourGeeksSkin;

fn error(status: u16, detail: Option<WireDetail>, message: Option<WireMessage>) -> SandboxResponse {
    SandboxResponse::json(status, &WireErrorBody { detail, message })
}

fn detail(status: u16, text: &str) -> SandboxResponse {
    error(status, Some(WireDetail::Text(text.to_owned())), None)
}

fn invalid(items: Vec<WireDetailItem>) -> SandboxResponse {
    error(422, Some(WireDetail::Items(items)), None)
}

/// A refusal in 4Geeks' `{"message": {"code", "title", "content", "type"}}` form.
fn refused(content: &str) -> SandboxResponse {
    let message = WireMessageObject {
        code: Some(WireCode::Number(400)),
        title: Some("Refund error".to_owned()),
        content: Some(content.to_owned()),
        kind: Some("danger".to_owned()),
    };
    error(400, None, Some(WireMessage::Object(message)))
}

fn wire(record: &RefundRecord) -> WireRefund<'static> {
    WireRefund {
        id: record.id.clone(),
        object: Some("refund".into()),
        payment_id: record.payment_id.clone(),
        amount: MinorUnits::from_money(&record.amount),
        status: status_to_wire(&record.status).into(),
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
    let item = |field: &str, msg: &str, kind: &str| WireDetailItem::new(&["body", field], msg, kind);
    let field = |name: &str| map.get(name).filter(|v| !v.is_null());
    let mut complaints = Vec::new();
    match field("payment_id") {
        None => complaints.push(item("payment_id", "field required", "value_error.missing")),
        Some(v) if !v.is_string() => complaints.push(item("payment_id", "str type expected", "type_error.str")),
        Some(_) => {}
    }
    if field("amount").is_some_and(|v| v.as_i64().is_none()) {
        complaints.push(item("amount", "value is not a valid integer", "type_error.integer"));
    }
    if field("reason").is_some_and(|v| !v.is_string()) {
        complaints.push(item("reason", "str type expected", "type_error.str"));
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

/// FastAPI's complaint about one query parameter.
fn query_complaint(bad: &BadParam) -> WireDetailItem {
    let (msg, kind) = match bad.problem {
        ParamProblem::OutOfRange { min, max } => (
            format!("ensure this value is between {min} and {max}"),
            "value_error.number.not_in_range",
        ),
        _ => ("value is not a valid integer".to_owned(), "type_error.integer"),
    };
    WireDetailItem::new(&["query", bad.name], &msg, kind)
}

impl SpecSkin for FourGeeksSkin {
    const SPEC: ProviderSpec = FourGeeks::SPEC;
    const API_KEYS: &'static [&'static str] = &[API_KEY];

    fn decode_create(&self, call: &Call<'_>) -> Result<RefundDraft, SandboxResponse> {
        let Ok(body) = call.request.json::<WireCreateRefund>() else {
            return Err(invalid(body_complaints(&call.request.body)));
        };
        let mut draft = RefundDraft::new(body.payment_id);
        draft.amount_minor = body.amount.map(|a| a.0);
        draft.reason = body.reason;
        Ok(draft)
    }

    fn encode_refund(&self, record: &RefundRecord, _call: &Call<'_>) -> impl Serialize {
        wire(record)
    }

    fn encode_page(&self, page: &Page<RefundRecord>, _call: &Call<'_>) -> impl Serialize {
        WireRefundList {
            items: page.items.iter().map(wire).collect(),
            total_items: Some(page.total),
            limit: Some(page.limit),
            offset: Some(page.offset),
        }
    }

    /// `GET /v1/payments/{id}/`: the payment's id and currency (what the client reads of it).
    fn extra_route(&self, call: &Call<'_>) -> Option<SandboxResponse> {
        let request = call.request;
        self.bookkeeping_read(request)
            .then(|| match call.ledger.payment(&request.segments[2]) {
                Some(payment) => SandboxResponse::json(
                    200,
                    &WirePayment {
                        id: Some(payment.id),
                        currency: payment.captured.currency().code().into(),
                    },
                ),
                None => detail(404, "Not found."),
            })
    }

    /// The client's read of a payment's currency.
    fn bookkeeping_read(&self, request: &SandboxRequest) -> bool {
        request.is("GET", &["v1", "payments", "*"]) || request.is("GET", &["v1", "payments", "*", ""])
    }

    fn encode_error(&self, refusal: Refusal<'_>) -> SandboxResponse {
        let error = match refusal {
            Refusal::Unauthorized { given: false } => {
                return detail(401, "Authentication credentials were not provided.");
            }
            Refusal::Unauthorized { .. } => return detail(401, "Incorrect authentication credentials."),
            Refusal::NoSuchRefund { .. } => return detail(404, "Not found."),
            Refusal::BadParams(bad) => return invalid(bad.iter().map(query_complaint).collect()),
            Refusal::Fault { status, message } => return detail(status, message),
            Refusal::Ledger { error, .. } => error,
            _ => return detail(404, "Not Found"),
        };
        match error {
            LedgerError::PaymentNotFound(_) => detail(404, "Payment not found."),
            LedgerError::AmountExceedsRefundable { available } => refused(&format!(
                "The refund amount exceeds the refundable amount of the payment ({} cents left).",
                available.minor()
            )),
            LedgerError::AlreadyRefunded(_) => refused("The payment has already been fully refunded."),
            LedgerError::PaymentNotRefundable(_) => refused("The payment cannot be refunded in its current state."),
            LedgerError::InvalidAmount => not_positive(),
            other => refused(&other.to_string()),
        }
    }
}

/// The sandbox for tools that serve every provider (the registry's demo, `refunds sandbox serve`, the
/// shared suite): this key, this skin, and a demo payment of "pay_7g8h9i0j1k2l".
pub const KIT: SandboxKit = SandboxKit::new(API_KEY, REFUND_ID_PREFIX, |_currency| Box::new(FourGeeksSkin)).demo(
    "pay_7g8h9i0j1k2l",
    refunds::Money::from_minor(10_000, refunds::Currency::USD),
);
