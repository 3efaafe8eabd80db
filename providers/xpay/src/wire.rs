//! XPay's JSON: the create body, the refund object and the list envelope, with the one conversion into
//! [`refunds::Refund`]. The structs derive both `Serialize` and `Deserialize` because the sandbox skin
//! speaks the same JSON in the server direction, so the two cannot drift apart.

use std::collections::BTreeMap;

use refunds::adapter::amount::{MinorUnits, MinorUnitsString};
use refunds::adapter::{StatusMap, Text, WithRaw, read};
use refunds::reconciliation::BalanceTransaction;
use refunds::{Currency, Error, PaymentRef, Refund, RefundId, RefundReason, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::ID;

/// The metadata key the merchant reference travels in: XPay has no reference field of its own, so the
/// SDK stores [`refunds::CreateRefund::merchant_reference`] in `metadata` and reads it back from there.
pub const MERCHANT_REFERENCE_KEY: &str = "merchant_reference";

/// XPay's refund statuses. Only `succeeded` appears in the documentation; the others are the
/// Stripe-style names the API is modelled on (assumed). Anything else stays `Unknown(raw)`.
/// ([`read::COMMON_STATUSES`].)
pub const STATUSES: StatusMap = StatusMap::new(read::COMMON_STATUSES);

/// The body of `POST /refunds`. The client fills exactly one of `chargeId` and `paymentIntentId`; the
/// sandbox reads both as optional so that it can say which rule a body broke.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireCreate {
    /// `ch_...`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub charge_id: Option<String>,
    /// `pi_...`: XPay resolves it to the intent's single succeeded charge.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_intent_id: Option<String>,
    /// Integer minor units of the charge's currency; absent refunds everything left.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<MinorUnits>,
    /// Reason text (`requested_by_customer`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Metadata (also carries the merchant reference).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

/// XPay's refund object. Fields not named here stay in [`refunds::Refund::raw`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireRefund<'a> {
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
    #[serde(borrow)]
    pub currency: Text<'a>,
    /// See [`STATUSES`].
    #[serde(borrow)]
    pub status: Text<'a>,
    /// `requested_by_customer`, ...
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Text<'a>>,
    /// Description, when the object carries it (assumed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Metadata, when the object carries it (assumed); values of any JSON type are read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, Value>>,
    /// The ledger entry, `bt_...` (the [`BalanceTransaction`](refunds::reconciliation::BalanceTransaction) fact).
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

fn metadata_text(value: Value) -> String {
    match value {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

/// The one conversion from XPay's refund object into the SDK's model. The currency is always the
/// object's own `currency`, never the configured one (see the README: a configured currency only
/// guards creates).
pub(crate) fn into_refund(wire: WithRaw<WireRefund<'_>>) -> Result<Refund> {
    let WithRaw { value, raw } = wire;
    let id = RefundId::new(value.id).map_err(|e| read::bad_field("id", &e))?;
    // A refund by payment intent is resolved to a charge by the server, so the charge names the
    // refunded object whenever the answer has one.
    let payment = match (value.charge_id, value.payment_intent_id) {
        (Some(charge), _) => PaymentRef::charge(charge).map_err(|e| read::bad_field("chargeId", &e))?,
        (None, Some(intent)) => {
            PaymentRef::payment_intent(intent).map_err(|e| read::bad_field("paymentIntentId", &e))?
        }
        (None, None) => return Err(Error::decode("refund names neither `chargeId` nor `paymentIntentId`")),
    };
    let currency = Currency::from_code(&value.currency).map_err(|e| read::bad_field("currency", &e))?;
    let amount = value.amount.to_money(currency, "amount")?;
    let mut metadata: BTreeMap<String, String> = match value.metadata {
        Some(map) if !map.is_empty() => map.into_iter().map(|(k, v)| (k, metadata_text(v))).collect(),
        _ => BTreeMap::new(),
    };
    let merchant_reference = metadata.remove(MERCHANT_REFERENCE_KEY);
    Ok(
        Refund::new(id, ID, payment, amount, STATUSES.to_status(&value.status), raw)
            .with_reason(value.reason.as_deref().map(RefundReason::from_name))
            .with_description(value.description)
            .with_failure_reason(value.failure_reason)
            .with_created_at(value.created_at)
            .with_merchant_reference(merchant_reference)
            .with_fact::<BalanceTransaction>(value.balance_transaction_id.filter(|id| !id.is_empty()))
            .with_metadata(metadata),
    )
}
