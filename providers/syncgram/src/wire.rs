//! SyncgramPay's JSON: the create body, the refund object, the list envelope, and the one place where
//! a refund object becomes a [`refunds::Refund`].
//!
//! Every struct derives both `Serialize` and `Deserialize`: the client writes requests and reads
//! responses, and the sandbox skin does the opposite with the same types, so the two cannot drift.

use refunds::adapter::amount::MajorDecimal;
use refunds::adapter::{StatusMap, Text, WithRaw, read};
use refunds::reconciliation::{FeeBearer as FeeBearerFact, Party};
use refunds::{Currency, OffsetDateTime, PaymentRef, Refund, RefundId, RefundReason, RefundStatus, Result};
use serde::{Deserialize, Serialize};

/// SyncgramPay's refund statuses, matched ignoring ASCII case. The SyncgramPay refund page lists
/// `pending`, `processing`, `succeeded` and `failed` as the "common values" of an open set; the Bachs
/// API documented on the same site answers `processing`, `success` and `failed` and filters by
/// `PROCESSING`, `SUCCESS` and `FAILED` (two community SDKs of it agree). Both spellings are read; a
/// filter writes the first spelling of its status. Anything else is kept as `Unknown(raw)`.
pub const STATUSES: StatusMap = StatusMap::new(&[
    ("pending", RefundStatus::Pending),
    ("processing", RefundStatus::Processing),
    ("succeeded", RefundStatus::Succeeded),
    ("success", RefundStatus::Succeeded),
    ("failed", RefundStatus::Failed),
]);

/// Who bears the refund processing fee (`fee_bearer`). Omitted, SyncgramPay applies the organisation's
/// configured setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FeeBearer {
    /// `ORG`: the merchant's organisation pays the fee.
    #[serde(rename = "ORG")]
    Org,
    /// `CUSTOMER`: the fee is taken from what the customer gets back.
    #[serde(rename = "CUSTOMER")]
    Customer,
}

impl FeeBearer {
    /// The wire spelling, `"ORG"` or `"CUSTOMER"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            FeeBearer::Org => "ORG",
            FeeBearer::Customer => "CUSTOMER",
        }
    }
}

/// The outcome a test-mode refund is forced to (`simulated_outcome`). SyncgramPay refuses it with a
/// 400 outside test mode (keys starting `sk_live_`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SimulatedOutcome {
    /// `success`: the refund succeeds.
    Success,
    /// `failed`: the refund fails.
    Failed,
}

/// `POST /api/v1/payments/refunds` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct WireCreateRefund {
    pub(crate) charge_id: String,
    pub(crate) reference: String,
    /// A JSON number in the settlement currency's major units, written digit for digit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) amount: Option<MajorDecimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) fee_bearer: Option<FeeBearer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) refund_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) idempotency_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) simulated_outcome: Option<SimulatedOutcome>,
}

/// The refund object of create, retrieve, retrieve-by-charge and list items.
///
/// Fields the documentation marks required are still read leniently where a missing value can be
/// represented (`None`), so that one absent field does not make a whole list unreadable; the amounts
/// and ids the model cannot do without stay required.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct WireRefund<'a> {
    pub(crate) refund_id: String,
    pub(crate) charge_id: String,
    #[serde(default)]
    pub(crate) reference: Option<String>,
    #[serde(borrow)]
    pub(crate) status: Text<'a>,
    pub(crate) requested_amount: MajorDecimal,
    #[serde(default)]
    pub(crate) refunded_amount: Option<MajorDecimal>,
    #[serde(default)]
    pub(crate) refund_fee_amount: Option<MajorDecimal>,
    #[serde(borrow, default)]
    pub(crate) fee_bearer: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub(crate) reason: Option<Text<'a>>,
    #[serde(with = "refunds::adapter::timestamp::rfc3339::option", default)]
    pub(crate) created_at: Option<OffsetDateTime>,
    #[serde(with = "refunds::adapter::timestamp::rfc3339::option", default)]
    pub(crate) updated_at: Option<OffsetDateTime>,
    #[serde(with = "refunds::adapter::timestamp::rfc3339::option", default)]
    pub(crate) completed_at: Option<OffsetDateTime>,
}

/// `GET /api/v1/payments/refunds` answer: `total` counts the matches before paging.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct WireRefundList<T> {
    pub(crate) total: u64,
    pub(crate) items: Vec<T>,
}

/// Turns a refund object into the model. SyncgramPay's object has no currency: amounts are in the
/// client's configured settlement currency.
///
/// `Refund::amount` is `requested_amount`, the refund as asked, whatever its status: where the customer
/// bears the fee, `refunded_amount` (what went back to them) is less by the fee (`Refund::fee`, the
/// `FeeBearer` fact), and stays in `raw`. An amount that changed with the fee bearer would make the
/// create's own refund look like another one to recovery. `livemode` is the key's mode.
pub(crate) fn into_refund(wire: WithRaw<WireRefund<'_>>, currency: Currency, livemode: Option<bool>) -> Result<Refund> {
    let WithRaw { value, raw } = wire;
    let amount = value.requested_amount.to_money(currency, "requested_amount")?;
    if let Some(refunded) = &value.refunded_amount {
        // Read for its exactness (a malformed amount is refused), kept in `raw`.
        refunded.to_money(currency, "refunded_amount")?;
    }
    let fee = value
        .refund_fee_amount
        .as_ref()
        .map(|fee| fee.to_money(currency, "refund_fee_amount"))
        .transpose()?;
    let id = RefundId::new(value.refund_id).map_err(|e| read::bad_field("refund_id", &e))?;
    let payment = PaymentRef::charge(value.charge_id).map_err(|e| read::bad_field("charge_id", &e))?;
    let reason = value
        .reason
        .filter(|text| !text.is_empty())
        .map(|text| RefundReason::from_name(&text));
    let reference = value.reference.filter(|text| !text.is_empty());
    let bearer = value.fee_bearer.filter(|text| !text.is_empty());
    Ok(
        Refund::new(id, crate::ID, payment, amount, STATUSES.to_status(&value.status), raw)
            .with_reason(reason)
            .with_merchant_reference(reference)
            .with_fee(fee)
            .with_fact::<FeeBearerFact>(bearer.map(|text| Party::from_name(&text)))
            .with_created_at(value.created_at)
            .with_updated_at(value.updated_at)
            .with_completed_at(value.completed_at)
            .with_livemode(livemode),
    )
}
