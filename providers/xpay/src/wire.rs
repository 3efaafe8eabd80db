//! XPay's JSON: the create body, the refund object, the list envelope and the error envelope, with the
//! one conversion into [`refunds::Refund`]. Every struct derives both `Serialize` and `Deserialize`
//! because the sandbox skin speaks the same JSON in the server direction.

use std::collections::BTreeMap;

use refunds::adapter::amount::{MinorUnits, MinorUnitsString};
use refunds::adapter::{StatusMap, WithRaw};
use refunds::{Currency, Delivery, Error, PaymentRef, Refund, RefundId, RefundReason, RefundStatus, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use time::OffsetDateTime;

use crate::PROVIDER_ID;

/// The metadata key the merchant reference travels in: XPay has no reference field of its own, so the
/// SDK stores [`refunds::CreateRefund::merchant_reference`] in `metadata` and reads it back from there.
pub const MERCHANT_REFERENCE_KEY: &str = "merchant_reference";

/// XPay's refund statuses. Only `succeeded` appears in the documentation; the others are the
/// Stripe-style names the API is modelled on (assumed). Anything else stays `Unknown(raw)`.
pub const STATUSES: StatusMap = StatusMap::new(&[
    ("pending", RefundStatus::Pending),
    ("processing", RefundStatus::Processing),
    ("requires_action", RefundStatus::RequiresAction),
    ("succeeded", RefundStatus::Succeeded),
    ("failed", RefundStatus::Failed),
    ("canceled", RefundStatus::Canceled),
    ("cancelled", RefundStatus::Canceled),
]);

/// What a refund is taken from: exactly one of a charge or a payment intent. An enum, so a request
/// naming both cannot be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundTarget {
    /// `chargeId`: the charge itself.
    Charge(String),
    /// `paymentIntentId`: the server resolves it to the intent's single succeeded charge.
    PaymentIntent(String),
}

/// The body of `POST /refunds` as the SDK builds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "WireCreateBody", into = "WireCreateBody")]
pub struct WireCreate {
    /// The charge or payment intent.
    pub target: RefundTarget,
    /// Minor units of the charge's currency; `None` refunds everything left.
    pub amount: Option<MinorUnits>,
    /// Free-text reason (`requested_by_customer`).
    pub reason: Option<String>,
    /// Free-text description.
    pub description: Option<String>,
    /// Key/value metadata (also carries the merchant reference).
    pub metadata: BTreeMap<String, String>,
}

/// The body of `POST /refunds` field by field, as the server reads it: both targets are optional here
/// so that a server can say which rule a body broke.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireCreateBody {
    /// `ch_...`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charge_id: Option<String>,
    /// `pi_...`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_intent_id: Option<String>,
    /// Integer minor units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<MinorUnits>,
    /// Reason text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Metadata.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

/// Why a create body names no target or two.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetError {
    /// The body field to blame (`chargeId`).
    pub param: &'static str,
    /// What is wrong.
    pub message: &'static str,
}

impl std::fmt::Display for TargetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message)
    }
}

impl WireCreateBody {
    /// The target, when exactly one of `chargeId` and `paymentIntentId` is present.
    pub fn target(&self) -> std::result::Result<RefundTarget, TargetError> {
        match (&self.charge_id, &self.payment_intent_id) {
            (Some(charge), None) => Ok(RefundTarget::Charge(charge.clone())),
            (None, Some(intent)) => Ok(RefundTarget::PaymentIntent(intent.clone())),
            (Some(_), Some(_)) => Err(TargetError {
                param: "chargeId",
                message: "provide exactly one of chargeId or paymentIntentId, not both",
            }),
            (None, None) => Err(TargetError {
                param: "chargeId",
                message: "one of chargeId or paymentIntentId is required",
            }),
        }
    }
}

impl TryFrom<WireCreateBody> for WireCreate {
    type Error = TargetError;
    fn try_from(body: WireCreateBody) -> std::result::Result<Self, TargetError> {
        Ok(WireCreate {
            target: body.target()?,
            amount: body.amount,
            reason: body.reason,
            description: body.description,
            metadata: body.metadata,
        })
    }
}

impl From<WireCreate> for WireCreateBody {
    fn from(create: WireCreate) -> Self {
        let (charge_id, payment_intent_id) = match create.target {
            RefundTarget::Charge(id) => (Some(id), None),
            RefundTarget::PaymentIntent(id) => (None, Some(id)),
        };
        WireCreateBody {
            charge_id,
            payment_intent_id,
            amount: create.amount,
            reason: create.reason,
            description: create.description,
            metadata: create.metadata,
        }
    }
}

/// XPay's refund object. Fields not named here stay in [`refunds::Refund::raw`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireRefund {
    /// `re_...`.
    pub id: String,
    /// The refunded charge, `ch_...`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charge_id: Option<String>,
    /// The payment intent, when the object names it (not in the documented example).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_intent_id: Option<String>,
    /// Minor units in a string (`"50000"` EGP = 500.00); an integer is read too.
    pub amount: MinorUnitsString,
    /// Upper-case ISO 4217 code.
    pub currency: String,
    /// `succeeded`, ...
    pub status: String,
    /// `requested_by_customer`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Description, when the object carries it (assumed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Metadata, when the object carries it (assumed); values of any JSON type are read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, Value>>,
    /// The ledger entry, `bt_...` (kept in `raw` only: the model has no field for it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance_transaction_id: Option<String>,
    /// Why a refund failed (the name is assumed; not documented).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    /// RFC 3339 with milliseconds, `2024-01-01T00:00:00.000Z`.
    #[serde(default, with = "created_at", skip_serializing_if = "Option::is_none")]
    pub created_at: Option<OffsetDateTime>,
}

/// `createdAt`: read with the shared RFC 3339 codec; written with milliseconds and `Z`, the way XPay
/// writes it, so the sandbox matches the documented example byte for byte.
mod created_at {
    use serde::{Deserializer, Serializer};
    use time::OffsetDateTime;
    use time::macros::format_description;

    pub fn serialize<S: Serializer>(at: &Option<OffsetDateTime>, s: S) -> Result<S::Ok, S::Error> {
        let Some(at) = at else {
            return s.serialize_none();
        };
        let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
        let text = at
            .to_offset(time::UtcOffset::UTC)
            .format(format)
            .map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<OffsetDateTime>, D::Error> {
        refunds::adapter::timestamp::rfc3339::option::deserialize(d)
    }
}

/// The list page the sandbox writes. The real envelope is undocumented; [`WireList`] reads this shape,
/// `{"items": [...]}` and a bare array. (Only the sandbox writes lists, hence the feature gate.)
#[cfg(feature = "sandbox")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireListPage {
    /// The refunds.
    pub data: Vec<WireRefund>,
}

#[derive(Deserialize)]
struct ListEnvelope {
    #[serde(default)]
    data: Option<Vec<WithRaw<WireRefund>>>,
    #[serde(default)]
    items: Option<Vec<WithRaw<WireRefund>>>,
}

/// `GET /refunds` as read: a bare array, or an object with `data` or `items`. (The refunds are captured
/// with their raw text, which serde's untagged enums cannot do, hence the hand-written dispatch.)
#[derive(Debug)]
pub struct WireList(pub Vec<WithRaw<WireRefund>>);

impl<'de> Deserialize<'de> for WireList {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        let raw = Box::<RawValue>::deserialize(d)?;
        let text = raw.get();
        if text.starts_with('[') {
            return serde_json::from_str(text).map(WireList).map_err(D::Error::custom);
        }
        let envelope: ListEnvelope = serde_json::from_str(text).map_err(D::Error::custom)?;
        envelope
            .data
            .or(envelope.items)
            .map(WireList)
            .ok_or_else(|| D::Error::custom("list envelope has neither `data` nor `items`"))
    }
}

impl WireList {
    /// The refunds, converted.
    pub fn into_refunds(self) -> Result<Vec<Refund>> {
        self.0.into_iter().map(to_refund).collect()
    }
}

/// `{"error": {...}, "request_id": "req_..."}`, XPay's error answer on every endpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WireErrorBody {
    /// The error.
    #[serde(default)]
    pub error: Option<WireErrorDetail>,
    /// `req_...`, for XPay support.
    #[serde(default, alias = "requestId")]
    pub request_id: Option<String>,
}

/// The `error` object.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WireErrorDetail {
    /// The category: `invalid_request_error`, `authentication_error`, `api_error`.
    #[serde(rename = "type", default)]
    pub error_type: Option<String>,
    /// A stable identifier, `parameter_missing`.
    #[serde(default)]
    pub code: Option<String>,
    /// English text for developers.
    #[serde(default)]
    pub message: Option<String>,
    /// The offending body field.
    #[serde(default)]
    pub param: Option<String>,
    /// A link to the code's documentation.
    #[serde(default)]
    pub doc_url: Option<String>,
}

fn bad_field(field: &str, e: impl std::fmt::Display) -> Error {
    Error::decode(format!("field `{field}`: {e}"))
}

fn metadata_text(value: Value) -> String {
    match value {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

/// A failure to read text handed over by the caller: nothing was sent, so the delivery is `NotSent`,
/// and the start of the text is kept so that the caller can see what was refused.
/// (`to_refund` fails only with `Decode` errors, so the kind is already right.)
fn local_decode_failure(e: Error, text: &[u8]) -> Error {
    e.with_delivery(Delivery::NotSent)
        .with_body(text)
        .with_provider(PROVIDER_ID)
}

/// Parses one XPay refund object exactly as XPay sends it (an API answer, a stored body, the object of
/// a `refund.created` webhook) into a [`Refund`], the same way responses are read: the text is kept in
/// [`Refund::raw`] byte for byte and the currency is the object's own `currency`. Anything else (not
/// JSON, a list envelope, trailing text, a missing `id`, `amount`, `currency` or `status`, an amount
/// that is not integer minor units) is a `Decode` error with delivery `NotSent`.
///
/// [`XPayClient::refund_from_json`](crate::XPayClient::refund_from_json) is the same parse on a client.
pub fn parse_refund(body: &[u8]) -> Result<Refund> {
    refunds::adapter::parse_object::<WireRefund>(body)
        .map_err(|e| Error::decode(format!("refund object: {e}")))
        .and_then(to_refund)
        .map_err(|e| local_decode_failure(e, body))
}

/// Parses an XPay refund list in any shape `GET /refunds` is read in: a bare array, or an object with
/// `data` or `items`. Failures are as for [`parse_refund`].
pub fn parse_refund_list(body: &[u8]) -> Result<Vec<Refund>> {
    serde_json::from_slice::<WireList>(body)
        .map_err(|e| Error::decode(format!("refund list: {e}")))
        .and_then(WireList::into_refunds)
        .map_err(|e| local_decode_failure(e, body))
}

/// The one conversion from XPay's refund object into the SDK's model.
pub fn to_refund(wire: WithRaw<WireRefund>) -> Result<Refund> {
    let WithRaw { value, raw } = wire;
    let id = RefundId::new(value.id).map_err(|e| bad_field("id", e.message()))?;
    // A refund by payment intent is resolved to a charge by the server, so the charge names the
    // refunded object whenever the answer has one.
    let payment = match (value.charge_id, value.payment_intent_id) {
        (Some(charge), _) => PaymentRef::charge(charge).map_err(|e| bad_field("chargeId", e.message()))?,
        (None, Some(intent)) => {
            PaymentRef::payment_intent(intent).map_err(|e| bad_field("paymentIntentId", e.message()))?
        }
        (None, None) => {
            return Err(Error::decode("refund names neither `chargeId` nor `paymentIntentId`"));
        }
    };
    let currency = Currency::from_code(&value.currency).map_err(|e| bad_field("currency", e.message()))?;
    let amount = value.amount.to_money(currency, "amount")?;
    let mut metadata: BTreeMap<String, String> = value
        .metadata
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, metadata_text(v)))
        .collect();
    let merchant_reference = metadata.remove(MERCHANT_REFERENCE_KEY);
    Ok(
        Refund::new(id, PROVIDER_ID, payment, amount, STATUSES.to_status(&value.status), raw)
            .with_reason(value.reason.as_deref().map(RefundReason::from_name))
            .with_description(value.description)
            .with_failure_reason(value.failure_reason)
            .with_created_at(value.created_at)
            .with_merchant_reference(merchant_reference)
            .with_metadata(metadata),
    )
}
