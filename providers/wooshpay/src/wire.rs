//! WooshPay's JSON, both directions (the sandbox skin reuses these types as the server), and the one
//! conversion from a wire refund into [`refunds::Refund`].

use std::collections::BTreeMap;
use std::fmt;

use refunds::adapter::amount::{MinorUnits, MinorUnitsString};
use refunds::adapter::{StatusMap, Text, read};
use refunds::reconciliation::{BalanceTransaction, ReceiptNumber};
use refunds::{Currency, Error, PaymentRef, RawJson, Refund, RefundId, RefundReason, Result};
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;
use time::OffsetDateTime;

use crate::ID;

/// WooshPay's refund statuses. The seed shows only `succeeded`; the rest is Stripe's refund status set,
/// which WooshPay's objects copy (assumed, see the README). Anything else stays `Unknown(raw)`.
/// ([`read::COMMON_STATUSES`].)
pub const STATUSES: StatusMap = StatusMap::new(read::COMMON_STATUSES);

/// The metadata key a create's merchant reference travels under: WooshPay has no reference field, and
/// metadata comes back on every refund, so the reference survives the round trip.
pub(crate) const MERCHANT_REFERENCE_KEY: &str = "merchant_reference";

/// The `reason` values a create accepts (the response adds `expired_uncaptured_charge`, which is
/// reported by WooshPay, never requested).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum WireCreateReason {
    Duplicate,
    Fraudulent,
    RequestedByCustomer,
    ResolvedDispute,
}

impl WireCreateReason {
    /// The wire value for `reason`, or `None` when a create cannot carry it.
    pub(crate) fn from_reason(reason: &RefundReason) -> Option<WireCreateReason> {
        match reason {
            RefundReason::Duplicate => Some(WireCreateReason::Duplicate),
            RefundReason::Fraudulent => Some(WireCreateReason::Fraudulent),
            RefundReason::RequestedByCustomer => Some(WireCreateReason::RequestedByCustomer),
            RefundReason::ResolvedDispute => Some(WireCreateReason::ResolvedDispute),
            _ => None,
        }
    }

    /// The snake-case wire text (the skin records it in the ledger).
    #[cfg(any(feature = "sandbox", test))]
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            WireCreateReason::Duplicate => "duplicate",
            WireCreateReason::Fraudulent => "fraudulent",
            WireCreateReason::RequestedByCustomer => "requested_by_customer",
            WireCreateReason::ResolvedDispute => "resolved_dispute",
        }
    }
}

/// `POST /v1/refunds` body. `payment_intent` is marked optional by the seed, but it is what names the
/// payment, so the client always sends it; the skin answers `parameter_missing` without it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct WireCreateRefund {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_intent: Option<String>,
    /// Minor units as a JSON string (`"2500"`), as the seed types it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<MinorUnitsString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<WireCreateReason>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

/// A metadata value as received. WooshPay documents metadata as an object without saying its values
/// are strings; a non-string value is kept as its JSON text instead of failing the whole refund.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct MetadataValue(pub String);

impl fmt::Debug for MetadataValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl Serialize for MetadataValue {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for MetadataValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        // Through the raw text, so that a number is kept as written, never through a binary float.
        let raw = Box::<RawValue>::deserialize(d)?;
        let text = raw.get();
        if text.starts_with('"') {
            serde_json::from_str(text).map(MetadataValue).map_err(de::Error::custom)
        } else {
            Ok(MetadataValue(text.to_owned()))
        }
    }
}

/// The refund object (amount in WooshPay's units, see [`crate::units`]). Every field is "optional" in WooshPay's documentation, so every field is an
/// `Option` here; the conversion names the essential ones that are missing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct WireRefund<'a> {
    pub id: Option<String>,
    #[serde(borrow)]
    pub object: Option<Text<'a>>,
    /// Minor units as a JSON integer (responses differ from requests here).
    pub amount: Option<MinorUnits>,
    #[serde(with = "refunds::adapter::timestamp::unix_seconds::option")]
    pub created: Option<OffsetDateTime>,
    /// Lower-case ISO 4217 (`"usd"`).
    #[serde(borrow)]
    pub currency: Option<Text<'a>>,
    pub metadata: Option<BTreeMap<String, MetadataValue>>,
    pub payment_intent: Option<String>,
    /// The refunded charge, on a refund that names no payment intent (Stripe's refund object, and a
    /// refund made from the dashboard). Not written when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub charge: Option<String>,
    #[serde(borrow)]
    pub reason: Option<Text<'a>>,
    #[serde(borrow)]
    pub status: Option<Text<'a>>,
    pub description: Option<String>,
    /// `lost_or_stolen_card`, `expired_or_canceled_card` or `unknown`.
    pub failure_reason: Option<String>,
    /// The receipt number (the retrieve example shows it, `null`): the
    /// [`ReceiptNumber`](refunds::reconciliation::ReceiptNumber) fact.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt_number: Option<String>,
    /// Stripe's ledger entry id (`txn_...`), when an answer carries one (WooshPay documents none): the
    /// [`BalanceTransaction`](refunds::reconciliation::BalanceTransaction) fact. An expanded object is
    /// not read (it stays in `raw`).
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "id_or_none")]
    pub balance_transaction: Option<String>,
}

/// A string id, or `None` for `null`, an absent field or an expanded object.
fn id_or_none<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<String>, D::Error> {
    let raw = Option::<Box<RawValue>>::deserialize(d)?;
    Ok(raw.and_then(|raw| serde_json::from_str::<String>(raw.get()).ok()))
}

impl WireRefund<'_> {
    /// The normalized refund, keeping `raw` (the object exactly as received). The payment is the
    /// `payment_intent`, else the `charge` (a refund that names only a charge, as Stripe's refund object
    /// and a dashboard refund do). A missing `id`, `amount`, `currency`, `status`, or neither
    /// `payment_intent` nor `charge`, is a `Decode` error naming the field.
    pub(crate) fn into_refund(self, raw: RawJson, livemode: Option<bool>) -> Result<Refund> {
        // Serde also fills a struct from a JSON array, position by position; a refund is an object.
        if !raw.get().trim_start().starts_with('{') {
            return Err(Error::decode("a wooshpay refund is a json object"));
        }
        let id = self.id.ok_or_else(|| read::missing_field("id"))?;
        let id = RefundId::new(id).map_err(|e| read::bad_field("id", &e))?;
        let amount = self.amount.ok_or_else(|| read::missing_field("amount"))?;
        let currency = self.currency.ok_or_else(|| read::missing_field("currency"))?;
        let currency = Currency::from_code(&currency).map_err(|e| read::bad_field("currency", &e))?;
        let payment = match (self.payment_intent, self.charge) {
            (Some(intent), _) => {
                PaymentRef::payment_intent(intent).map_err(|e| read::bad_field("payment_intent", &e))?
            }
            (None, Some(charge)) => PaymentRef::charge(charge).map_err(|e| read::bad_field("charge", &e))?,
            (None, None) => return Err(read::missing_field("payment_intent` or `charge")),
        };
        let status = self.status.ok_or_else(|| read::missing_field("status"))?;
        let metadata: BTreeMap<String, String> = match self.metadata {
            Some(map) if !map.is_empty() => map.into_iter().map(|(key, value)| (key, value.0)).collect(),
            _ => BTreeMap::new(),
        };
        let merchant_reference = metadata.get(MERCHANT_REFERENCE_KEY).cloned();
        Ok(Refund::new(
            id,
            ID,
            payment,
            crate::units::from_wire(amount.0, currency)?,
            STATUSES.to_status(&status),
            raw,
        )
        .with_reason(self.reason.as_deref().map(RefundReason::from_name))
        .with_failure_reason(self.failure_reason)
        .with_description(self.description)
        .with_merchant_reference(merchant_reference)
        .with_created_at(self.created)
        .with_metadata(metadata)
        .with_fact::<ReceiptNumber>(self.receipt_number.filter(|n| !n.is_empty()))
        .with_fact::<BalanceTransaction>(self.balance_transaction.filter(|t| !t.is_empty()))
        .with_livemode(livemode))
    }
}
