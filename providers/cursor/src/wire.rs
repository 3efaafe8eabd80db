//! The provider's JSON: the refund object, the create body, the list envelope, the status table, and
//! the one conversion into [`refunds::Refund`].
//!
//! Every struct derives both `Serialize` and `Deserialize`: the client reads them and the sandbox
//! skin writes them, so the two cannot drift apart.

use refunds::adapter::amount::MinorUnits;
use refunds::adapter::{StatusMap, WithRaw};
use refunds::{Currency, Error, PaymentRef, RawJson, Refund, RefundId, RefundStatus, Result};
use std::fmt;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::PROVIDER_ID;

/// The refund statuses. The excerpt types `status` as an enum without listing its values: only
/// `failed` is named (by `failed_reason`). `pending`, `succeeded` and `canceled` are assumed from the
/// Stripe-shaped API; any other string is kept as `RefundStatus::Unknown`.
pub const STATUSES: StatusMap = StatusMap::new(&[
    ("pending", RefundStatus::Pending),
    ("succeeded", RefundStatus::Succeeded),
    ("failed", RefundStatus::Failed),
    ("canceled", RefundStatus::Canceled),
]);

/// The refund object: `object`, `id`, `live`, `created_at` (unix milliseconds), `amount` (integer),
/// `failed_reason` (nullable), `payment` (an id or the expanded payment), `status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct WireRefund {
    /// Always `"refund"`; read but not required, so a proxy that strips it does not break reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live: Option<bool>,
    #[serde(
        with = "refunds::adapter::timestamp::unix_millis::option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at: Option<OffsetDateTime>,
    pub amount: MinorUnits,
    /// Documented as `string or null`: written as `null`, absence read as `None`.
    #[serde(default)]
    pub failed_reason: Option<String>,
    pub payment: WirePaymentField,
    pub status: String,
}

/// `payment` is "string or Payment": the id, or the payment object when `expand` asked for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum WirePaymentField {
    /// Not expanded: the payment id.
    Id(String),
    /// Expanded.
    Expanded(ExpandedPayment),
}

impl WirePaymentField {
    /// The payment id either way.
    pub fn id(&self) -> &str {
        match self {
            WirePaymentField::Id(id) => id,
            WirePaymentField::Expanded(payment) => &payment.id,
        }
    }
}

/// The expanded payment inside a refund (when the client asks for `expand`).
///
/// The excerpt does not document the Payment object. The fields here are the ones it mentions in
/// passing (`amount_received`, `amount_refunded`, a `succeeded` status) plus `id` and `amount`; all
/// but `id` are optional and unknown fields are ignored. Read it with
/// [`expanded_payment`](crate::expanded_payment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ExpandedPayment {
    /// `"payment"`, where the provider writes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// The payment id.
    pub id: String,
    /// The payment's amount, in minor units of the account currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<MinorUnits>,
    /// What was received (captured), in minor units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_received: Option<MinorUnits>,
    /// What has been refunded so far, in minor units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_refunded: Option<MinorUnits>,
    /// The payment's status (`succeeded` when refundable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

impl ExpandedPayment {
    /// A payment object with an id and nothing else (the sandbox fills the rest).
    pub fn new(id: impl Into<String>) -> ExpandedPayment {
        ExpandedPayment {
            object: Some("payment".to_owned()),
            id: id.into(),
            amount: None,
            amount_received: None,
            amount_refunded: None,
            status: None,
        }
    }

    /// Sets the amounts (minor units) and status.
    pub fn with_amounts(
        mut self,
        amount: i64,
        received: i64,
        refunded: i64,
        status: impl Into<String>,
    ) -> ExpandedPayment {
        self.amount = Some(MinorUnits(amount));
        self.amount_received = Some(MinorUnits(received));
        self.amount_refunded = Some(MinorUnits(refunded));
        self.status = Some(status.into());
        self
    }
}

/// The create body: `payment` (required) and `amount` (optional integer; omitted for a full refund).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct WireCreate {
    pub payment: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<MinorUnits>,
}

/// The list answer. Not in the excerpt: read tolerantly as a Stripe-style envelope whose array is
/// `data` (or `items`) and whose `has_more` may be missing, or as a bare JSON array of refunds (then
/// `has_more` is unknown). The sandbox writes the envelope.
#[derive(Debug, Serialize)]
pub(crate) struct WireList {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    pub data: Vec<WithRaw<WireRefund>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_more: Option<bool>,
}

/// The envelope form of [`WireList`].
#[derive(Deserialize)]
struct WireListEnvelope {
    #[serde(default)]
    object: Option<String>,
    #[serde(alias = "items")]
    data: Vec<WithRaw<WireRefund>>,
    #[serde(default)]
    has_more: Option<bool>,
}

impl<'de> Deserialize<'de> for WireList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<WireList, D::Error> {
        // One pass over the body: the first token decides the form, and each refund is still
        // captured by `WithRaw` from the original deserializer, so `raw` stays byte-exact.
        struct EitherForm;
        impl<'de> Visitor<'de> for EitherForm {
            type Value = WireList;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list envelope with `data` or a JSON array of refunds")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> std::result::Result<WireList, A::Error> {
                Ok(WireList {
                    object: None,
                    data: Vec::deserialize(SeqAccessDeserializer::new(seq))?,
                    has_more: None,
                })
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> std::result::Result<WireList, A::Error> {
                let envelope = WireListEnvelope::deserialize(MapAccessDeserializer::new(map))?;
                Ok(WireList {
                    object: envelope.object,
                    data: envelope.data,
                    has_more: envelope.has_more,
                })
            }
        }
        deserializer.deserialize_any(EitherForm)
    }
}

/// Reads one refund object as the API sends it (a response body or a webhook payload), keeping its
/// exact text.
pub(crate) fn parse_refund(json: &[u8], currency: Currency) -> Result<Refund> {
    let wire: WithRaw<WireRefund> = refunds::adapter::parse_object(json).map_err(|e| {
        Error::decode(format!("refund object: {e}"))
            .with_body(json)
            .with_provider(PROVIDER_ID)
    })?;
    to_refund(wire, currency).map_err(|e| e.with_body(json).with_provider(PROVIDER_ID))
}

/// Converts a received refund into the unified model. The object carries no currency: the
/// account currency configured on the client labels the amount.
pub(crate) fn to_refund(wire: WithRaw<WireRefund>, currency: Currency) -> Result<Refund> {
    let WithRaw { value, raw } = wire;
    if let Some(object) = value.object.as_deref().filter(|o| *o != "refund") {
        return Err(Error::decode(format!(
            "expected a refund object, got `object`: {object:?}"
        )));
    }
    let id = RefundId::new(value.id).map_err(|e| Error::decode(format!("refund `id`: {}", e.message())))?;
    let payment = PaymentRef::payment(value.payment.id())
        .map_err(|e| Error::decode(format!("refund `payment`: {}", e.message())))?;
    Ok(Refund::new(
        id,
        PROVIDER_ID,
        payment,
        value.amount.to_money(currency),
        STATUSES.to_status(&value.status),
        raw,
    )
    .with_failure_reason(value.failed_reason)
    .with_created_at(value.created_at)
    .with_livemode(value.live))
}

/// The expanded payment of a refund read with `expand`, from its raw JSON; `None` when `payment` is
/// only an id.
pub fn expanded_payment(refund: &Refund) -> Result<Option<ExpandedPayment>> {
    expanded_payment_in(&refund.raw)
}

fn expanded_payment_in(raw: &RawJson) -> Result<Option<ExpandedPayment>> {
    let wire: WireRefund =
        serde_json::from_str(raw.get()).map_err(|e| Error::decode(format!("refund raw json: {e}")))?;
    Ok(match wire.payment {
        WirePaymentField::Id(_) => None,
        WirePaymentField::Expanded(payment) => Some(payment),
    })
}
