//! The 4Geeks wire format: request, refund, list and error bodies, and the one conversion into
//! [`refunds::Refund`].
//!
//! Every struct derives both `Serialize` and `Deserialize`: the client reads what the sandbox skin
//! writes with the same types, so the two cannot drift apart.

use refunds::adapter::amount::MinorUnits;
use refunds::adapter::{StatusMap, Text, WithRaw, read};
use refunds::{Currency, PaymentRef, Refund, RefundId, Result};
use serde::{Deserialize, Serialize};

/// 4Geeks refund status strings and what they mean: the common names ([`read::COMMON_STATUSES`]).
///
/// `pending` and `succeeded` are the values the documentation shows. The others (`failed`, `canceled`,
/// `cancelled`, ...) are assumed (not documented): they are mapped because reading them as anything but
/// what they say would be wrong. Every other string becomes `RefundStatus::Unknown(raw)`.
pub const STATUSES: StatusMap = StatusMap::new(read::COMMON_STATUSES);

/// The wire string for `status`, falling back to the SDK's own name for statuses 4Geeks has no
/// string for (the sandbox writes those; the real API never sends them).
#[cfg(feature = "sandbox")]
pub(crate) fn status_to_wire(status: &refunds::RefundStatus) -> String {
    STATUSES.to_wire(status).unwrap_or_else(|| status.as_str()).to_owned()
}

/// `POST /v1/refunds` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct WireCreateRefund {
    /// The internal payment id (`pay_...`).
    pub payment_id: String,
    /// Minor units ("cents"); omitted for a full refund.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<MinorUnits>,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The refund object. It carries no currency and no timestamps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct WireRefund<'a> {
    /// `ref_...`.
    pub id: String,
    /// Always `"refund"`; tolerated when absent.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub object: Option<Text<'a>>,
    /// The refunded payment.
    pub payment_id: String,
    /// Minor units of the payment's currency (assumed: the refund names none).
    pub amount: MinorUnits,
    /// See [`STATUSES`].
    #[serde(borrow)]
    pub status: Text<'a>,
}

/// The part of a payment (`GET /v1/payments/{id}/`) the SDK reads: its ISO 4217 currency, the
/// field the create documents (docs.4geeks.io/api/endpoints/payments). The rest stays unread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct WirePayment<'a> {
    /// The payment id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `USD`, `CRC`, ...
    #[serde(borrow)]
    pub currency: Text<'a>,
}

/// A payment's currency; a code that is not ISO 4217 is a decode error naming it.
pub(crate) fn payment_currency(body: &[u8]) -> Result<Currency> {
    let payment: WirePayment<'_> =
        serde_json::from_slice(body).map_err(|e| refunds::Error::decode(format!("not a 4Geeks payment: {e}")))?;
    Currency::from_code(payment.currency.as_str())
        .map_err(|_| refunds::Error::decode("a 4Geeks payment's currency is not an ISO 4217 code"))
}

/// `GET /v1/refunds` envelope. Generic so the client reads it with the items emptied
/// (`IgnoredAny`, the items come from `read::list`) and the sandbox writes `WireRefund` items.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct WireRefundList<R> {
    /// The page.
    pub items: Vec<R>,
    /// How many refunds the whole list has; tolerated when absent (then pages continue until an
    /// empty one).
    #[serde(default)]
    pub total_items: Option<u64>,
    /// The page size the server used.
    #[serde(default)]
    pub limit: Option<u64>,
    /// The offset the server used.
    #[serde(default)]
    pub offset: Option<u64>,
}

/// An error body in any of the documented shapes; unknown fields are ignored.
///
/// - `{"detail": [{"loc": [...], "msg": ..., "type": ...}]}`: FastAPI validation (422);
/// - `{"detail": "..."}`: a plain message (401, 404);
/// - `{"message": {"code": 400, "title": ..., "content": ..., "type": "danger"}}`: other refusals.
#[cfg(feature = "sandbox")]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct WireErrorBody {
    /// The FastAPI / DRF `detail`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<WireDetail>,
    /// The 4Geeks `message` object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<WireMessage>,
}

/// `detail` as a list of field complaints or as one message.
#[cfg(feature = "sandbox")]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum WireDetail {
    /// Field complaints.
    Items(Vec<WireDetailItem>),
    /// One message.
    Text(String),
}

/// One FastAPI validation complaint.
#[cfg(feature = "sandbox")]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct WireDetailItem {
    /// Where: `["body", "payment_id"]`, `["query", "limit"]`, list indices as integers.
    #[serde(default)]
    pub loc: Vec<WireCode>,
    /// What is wrong.
    #[serde(default)]
    pub msg: String,
    /// The machine code, `value_error.missing`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

#[cfg(feature = "sandbox")]
impl WireDetailItem {
    /// A complaint about `loc`.
    #[cfg(feature = "sandbox")]
    pub fn new(loc: &[&str], msg: &str, kind: &str) -> WireDetailItem {
        WireDetailItem {
            loc: loc.iter().map(|p| WireCode::Text((*p).to_owned())).collect(),
            msg: msg.to_owned(),
            kind: Some(kind.to_owned()),
        }
    }
}

/// `message` as the documented object, or as a bare string.
#[cfg(feature = "sandbox")]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum WireMessage {
    /// `{"code", "title", "content", "type"}`.
    Object(WireMessageObject),
    /// A bare string.
    Text(String),
}

/// The 4Geeks message object: `code` (a number, `400`, in the documented example; a string is read
/// too), a short `title`, the explanation in `content`, and `type`, a UI hint (`"danger"`).
#[cfg(feature = "sandbox")]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct WireMessageObject {
    pub code: Option<WireCode>,
    pub title: Option<String>,
    pub content: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// A number or a string: an error code (`400`, `"refund_error"`), or one step of a `loc` (a list
/// index or a field name).
#[cfg(feature = "sandbox")]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum WireCode {
    /// `400`.
    Number(i64),
    /// `"refund_error"`.
    Text(String),
}

#[cfg(feature = "sandbox")]
impl std::fmt::Display for WireCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireCode::Number(n) => write!(f, "{n}"),
            WireCode::Text(s) => f.write_str(s),
        }
    }
}

/// The one conversion from the wire into the model. Errors are `Decode` errors naming the field.
pub(crate) fn into_refund(wire: WithRaw<WireRefund<'_>>, currency: Currency, livemode: Option<bool>) -> Result<Refund> {
    let WithRaw { value, raw } = wire;
    let id = RefundId::new(value.id).map_err(|e| read::bad_field("id", &e))?;
    let payment = PaymentRef::payment(value.payment_id).map_err(|e| read::bad_field("payment_id", &e))?;
    let (amount, status) = (value.amount.to_money(currency), STATUSES.to_status(&value.status));
    Ok(Refund::new(id, crate::ID, payment, amount, status, raw).with_livemode(livemode))
}
