//! The Bias wire format: the refund object, the expanded payment, the create body, the list envelope,
//! and the one conversion into [`refunds::Refund`].
//!
//! Every struct derives both `Serialize` and `Deserialize`: the client reads what the sandbox skin
//! writes with the same types, so the two cannot drift apart.

use refunds::adapter::amount::MinorUnits;
use refunds::adapter::{Expandable, StatusMap, Text, WithRaw, read};
use refunds::{Currency, Error, PaymentRef, Refund, RefundId, RefundStatus, Result};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Bias refund statuses, as the vendor's own client types them (`RefundStatus` in `biaspay` 2.0.0):
/// `pending`, `succeeded`, `failed`. Any other string is kept as `RefundStatus::Unknown`.
pub const STATUSES: StatusMap = StatusMap::new(&[
    ("pending", RefundStatus::Pending),
    ("succeeded", RefundStatus::Succeeded),
    ("failed", RefundStatus::Failed),
]);

/// The refund object: `object`, `id`, `live`, `created_at` (unix ms), `amount`, `fees`,
/// `failed_reason`, `payment` (an id, or the payment when expanded), `status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct WireRefund<'a> {
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub object: Option<Text<'a>>,
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
    /// An object whose keys the vendor's model leaves open (`Dict[str, Any]`): kept in `raw` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fees: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default)]
    pub failed_reason: Option<String>,
    pub payment: WirePayment,
    #[serde(borrow)]
    pub status: Text<'a>,
}

/// `payment` is "string or Payment" (an id, or the payment with `expand={"payment":true}`).
pub(crate) type WirePayment = Expandable<BiasPayment>;

/// The Bias Payment object as far as a refund needs it (the fields the docs name; unknown fields are
/// ignored, every field but `id` is optional). Amounts are integer minor units ("cents").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BiasPayment {
    /// `"payment"`.
    pub object: Option<String>,
    /// `pay_...`.
    pub id: String,
    /// The payment's amount.
    pub amount: Option<MinorUnits>,
    /// What was received.
    pub amount_received: Option<MinorUnits>,
    /// What has been refunded so far.
    pub amount_refunded: Option<MinorUnits>,
    /// `succeeded` when refundable.
    pub status: Option<String>,
}

impl BiasPayment {
    /// A payment with its amounts (minor units) and status, as the sandbox writes it.
    pub fn new(id: impl Into<String>, amount: i64, refunded: i64, status: impl Into<String>) -> BiasPayment {
        BiasPayment {
            object: Some("payment".to_owned()),
            id: id.into(),
            amount: Some(MinorUnits(amount)),
            amount_received: Some(MinorUnits(amount)),
            amount_refunded: Some(MinorUnits(refunded)),
            status: Some(status.into()),
        }
    }
}

/// `POST /refunds` body: `payment`, and `amount` unless the whole payment is refunded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WireCreate {
    pub payment: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<MinorUnits>,
}

/// The list envelope `{"object":"list","has_more":…,"items":[…]}` (the array is `items`, not `data`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct WireList<R> {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    #[serde(default)]
    pub has_more: Option<bool>,
    pub items: Vec<R>,
}

/// The one conversion into the model. `key_live` is the mode of the client's key (`sk_live_` /
/// `sk_test_`); a refund whose `live` says otherwise is a `Decode` error, since it cannot belong to
/// this key's environment.
pub(crate) fn into_refund(wire: WithRaw<WireRefund<'_>>, currency: Currency, key_live: Option<bool>) -> Result<Refund> {
    let WithRaw { value, raw } = wire;
    if let Some(object) = value.object.as_deref().filter(|o| *o != "refund") {
        return Err(not_a_refund(object));
    }
    if let (Some(key), Some(live)) = (key_live, value.live)
        && key != live
    {
        return Err(other_environment(key, live));
    }
    let id = RefundId::new(value.id).map_err(|e| read::bad_field("id", &e))?;
    let payment_id = match value.payment {
        WirePayment::Id(id) => id,
        WirePayment::Expanded(payment) => payment.id,
    };
    let payment = PaymentRef::payment(payment_id).map_err(|e| read::bad_field("payment", &e))?;
    let (amount, status) = (value.amount.to_money(currency), STATUSES.to_status(&value.status));
    Ok(Refund::new(id, crate::ID, payment, amount, status, raw)
        .with_failure_reason(value.failed_reason)
        .with_created_at(value.created_at)
        .with_livemode(value.live.or(key_live)))
}

#[cold]
fn not_a_refund(object: &str) -> Error {
    Error::decode(format!("expected a refund object, got `object`: {object:?}"))
}

#[cold]
fn other_environment(key: bool, live: bool) -> Error {
    let mode = |live: bool| if live { "live" } else { "test" };
    Error::decode(format!(
        "refund `live` is {live} but the key is a {} key: the object is from the {} environment",
        mode(key),
        mode(live)
    ))
}

/// The expanded payment inside a refund's raw JSON; `None` when `payment` is only an id.
pub(crate) fn expanded_payment(refund: &Refund) -> Result<Option<BiasPayment>> {
    let wire: WireRefund =
        serde_json::from_str(refund.raw.get()).map_err(|e| Error::decode(format!("refund raw json: {e}")))?;
    Ok(match wire.payment {
        WirePayment::Id(_) => None,
        WirePayment::Expanded(payment) => Some(payment),
    })
}

/// One condition of a `filters` object, as the vendor's client types them: a plain value (equality)
/// or an object of comparisons (`{"gte": 1750000000000, "lt": ...}`; Bias' `TimestampFilter`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum Condition<T> {
    Is(T),
    Compare(Comparisons<T>),
}

/// The comparisons of a [`Condition`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, bound(deserialize = "T: Deserialize<'de>"))]
pub(crate) struct Comparisons<T> {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eq: Option<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gt: Option<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gte: Option<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lt: Option<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lte: Option<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exists: Option<bool>,
}

impl<T> Default for Comparisons<T> {
    fn default() -> Self {
        Comparisons {
            eq: None,
            gt: None,
            gte: None,
            lt: None,
            lte: None,
            exists: None,
        }
    }
}

impl<T: PartialOrd> Condition<T> {
    /// Whether `value` (`None`: the field is absent) meets the condition.
    #[cfg(feature = "sandbox")]
    pub fn holds(&self, value: Option<&T>) -> bool {
        match (self, value) {
            (Condition::Is(want), Some(v)) => v == want,
            (Condition::Is(_), None) => false,
            (Condition::Compare(c), v) => {
                let exists = c.exists.is_none_or(|e| e == v.is_some());
                let bound = |limit: &Option<T>, ok: fn(&T, &T) -> bool| match (limit, v) {
                    (None, _) => true,
                    (Some(l), Some(v)) => ok(v, l),
                    (Some(_), None) => false,
                };
                exists
                    && bound(&c.eq, |v, l| v == l)
                    && bound(&c.gt, |v, l| v > l)
                    && bound(&c.gte, |v, l| v >= l)
                    && bound(&c.lt, |v, l| v < l)
                    && bound(&c.lte, |v, l| v <= l)
            }
        }
    }
}

/// The refund list's `filters` object (the vendor's `RefundFilters`), JSON-encoded into one query
/// parameter. The client writes `payment`, `status` and `created_at`; the sandbox reads them all.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WireRefundFilters {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Condition<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Condition<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<Condition<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method: Option<Condition<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Condition<String>>,
}

/// The event list's `filters` object (the vendor's `EventFilters`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WireEventFilters {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Condition<i64>>,
    #[serde(rename = "for", default, skip_serializing_if = "Option::is_none")]
    pub for_object: Option<Condition<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<Condition<String>>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<Condition<String>>,
}

/// Unix milliseconds of `at`, as Bias' timestamps and time filters are written.
pub(crate) fn unix_millis(at: OffsetDateTime) -> Result<i64> {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000)
        .map_err(|_| Error::invalid_request("created_at", "out of range"))
}

/// A JSON object as one query parameter value, compact, as the vendor's client encodes `filters`
/// and `expand`.
pub(crate) fn query_json(value: &impl Serialize) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::configuration(format!("query object did not serialize: {e}")))
}
