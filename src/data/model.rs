//! The unified refund model every provider translates into.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;

use crate::error::Error;
use crate::ids::{IdempotencyKey, PaymentRef, RefundId};
use crate::money::Money;
use crate::raw::RawJson;
use crate::reconciliation::{Fact, Reconciliation};

mod list;

pub use list::{ListFilters, ListRefunds, Page, PageCursor};

/// Where a refund is in its life. Unknown provider strings are kept, never guessed into success.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RefundStatus {
    /// Accepted, not yet sent on.
    Pending,
    /// On its way through the provider or the card network.
    Processing,
    /// Waiting on the merchant or customer (for example a bank account to send to).
    RequiresAction,
    /// The money went back.
    Succeeded,
    /// The refund failed; see [`Refund::failure_reason`].
    Failed,
    /// Canceled before it completed.
    Canceled,
    /// A status this SDK does not know, with the provider's raw string.
    Unknown(String),
}

impl RefundStatus {
    /// True when the refund will not change any more: succeeded, failed or canceled.
    /// Unknown statuses are not terminal: nothing is assumed about them.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            RefundStatus::Succeeded | RefundStatus::Failed | RefundStatus::Canceled
        )
    }

    /// The snake-case name, or the raw string of an unknown status.
    pub fn as_str(&self) -> &str {
        match self {
            RefundStatus::Pending => "pending",
            RefundStatus::Processing => "processing",
            RefundStatus::RequiresAction => "requires_action",
            RefundStatus::Succeeded => "succeeded",
            RefundStatus::Failed => "failed",
            RefundStatus::Canceled => "canceled",
            RefundStatus::Unknown(raw) => raw,
        }
    }

    /// Reads the SDK's own snake-case names (as [`RefundStatus::as_str`] writes them); anything else is
    /// `Unknown`. Providers map their own strings with [`crate::adapter::StatusMap`].
    pub fn from_name(name: &str) -> RefundStatus {
        match name {
            "pending" => RefundStatus::Pending,
            "processing" => RefundStatus::Processing,
            "requires_action" => RefundStatus::RequiresAction,
            "succeeded" => RefundStatus::Succeeded,
            "failed" => RefundStatus::Failed,
            "canceled" => RefundStatus::Canceled,
            other => RefundStatus::Unknown(other.to_owned()),
        }
    }
}

impl fmt::Display for RefundStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefundStatus::Unknown(raw) => write!(f, "unknown({raw})"),
            known => f.write_str(known.as_str()),
        }
    }
}

impl Serialize for RefundStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for RefundStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Ok(RefundStatus::from_name(&name))
    }
}

/// Why the merchant refunds. Free-text or unknown reasons are kept in `Other`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RefundReason {
    /// A duplicate charge.
    Duplicate,
    /// A fraudulent charge.
    Fraudulent,
    /// The customer asked for it.
    RequestedByCustomer,
    /// An uncaptured charge expired (reported by providers, not requested).
    ExpiredUncapturedCharge,
    /// A dispute was settled with a refund.
    ResolvedDispute,
    /// Any other reason, as written.
    Other(String),
}

impl RefundReason {
    /// The snake-case name, or the text of `Other`.
    pub fn as_str(&self) -> &str {
        match self {
            RefundReason::Duplicate => "duplicate",
            RefundReason::Fraudulent => "fraudulent",
            RefundReason::RequestedByCustomer => "requested_by_customer",
            RefundReason::ExpiredUncapturedCharge => "expired_uncaptured_charge",
            RefundReason::ResolvedDispute => "resolved_dispute",
            RefundReason::Other(text) => text,
        }
    }

    /// Reads the Stripe-style names; anything else becomes `Other` with the text kept.
    pub fn from_name(name: &str) -> RefundReason {
        match name {
            "duplicate" => RefundReason::Duplicate,
            "fraudulent" => RefundReason::Fraudulent,
            "requested_by_customer" => RefundReason::RequestedByCustomer,
            "expired_uncaptured_charge" => RefundReason::ExpiredUncapturedCharge,
            "resolved_dispute" => RefundReason::ResolvedDispute,
            other => RefundReason::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for RefundReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for RefundReason {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for RefundReason {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(RefundReason::from_name(&String::deserialize(d)?))
    }
}

/// A refund as every provider reports it, normalized, with the provider's own object in `raw`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Refund {
    /// The provider's refund id.
    pub id: RefundId,
    /// Which provider holds it (`"fourgeeks"`, `"xpay"`, ...), as in [`crate::ProviderInfo::id`].
    /// Borrowed from the provider's constant, so a page of refunds does not allocate it per item.
    pub provider: Cow<'static, str>,
    /// What was refunded.
    pub payment: PaymentRef,
    /// The amount refunded (or requested, while pending).
    pub amount: Money,
    /// Normalized status; unknown strings kept.
    pub status: RefundStatus,
    /// Why, if the provider reports it.
    pub reason: Option<RefundReason>,
    /// The provider's explanation of a failure.
    pub failure_reason: Option<String>,
    /// The merchant's own reference for this refund.
    pub merchant_reference: Option<String>,
    /// Free-text description.
    pub description: Option<String>,
    /// The fee the provider charged for the refund (SyncgramPay, Bias).
    pub fee: Option<Money>,
    /// When the provider created it.
    #[serde(with = "time::serde::rfc3339::option")]
    pub created_at: Option<OffsetDateTime>,
    /// When the provider last changed it.
    #[serde(with = "time::serde::rfc3339::option")]
    pub updated_at: Option<OffsetDateTime>,
    /// When it reached a terminal status.
    #[serde(with = "time::serde::rfc3339::option")]
    pub completed_at: Option<OffsetDateTime>,
    /// Live (`true`) or test (`false`) mode, where the provider says.
    pub livemode: Option<bool>,
    /// Merchant key/value metadata.
    pub metadata: BTreeMap<String, String>,
    /// What only one provider reports for reconciliation (a balance transaction, a receipt number, who
    /// bears the fee), read by [`Reconciliation::get`]: `refund.reconciliation.get::<ReceiptNumber>()`
    /// ([`crate::reconciliation`]).
    #[serde(default, skip_serializing_if = "Reconciliation::is_empty")]
    pub reconciliation: Reconciliation,
    /// The provider's JSON object, byte for byte as received.
    pub raw: RawJson,
}

impl Refund {
    /// A refund with the fields every provider has; the rest start empty and are set with the `with_*`
    /// methods.
    #[inline]
    pub fn new(
        id: RefundId,
        provider: impl Into<Cow<'static, str>>,
        payment: PaymentRef,
        amount: Money,
        status: RefundStatus,
        raw: RawJson,
    ) -> Refund {
        Refund {
            id,
            provider: provider.into(),
            payment,
            amount,
            status,
            reason: None,
            failure_reason: None,
            merchant_reference: None,
            description: None,
            fee: None,
            created_at: None,
            updated_at: None,
            completed_at: None,
            livemode: None,
            metadata: BTreeMap::new(),
            reconciliation: Reconciliation::default(),
            raw,
        }
    }

    /// Sets the reason.
    #[inline]
    pub fn with_reason(mut self, reason: Option<RefundReason>) -> Refund {
        self.reason = reason;
        self
    }
    /// Sets the failure reason.
    #[inline]
    pub fn with_failure_reason(mut self, failure_reason: Option<String>) -> Refund {
        self.failure_reason = failure_reason;
        self
    }
    /// Sets the merchant reference.
    #[inline]
    pub fn with_merchant_reference(mut self, reference: Option<String>) -> Refund {
        self.merchant_reference = reference;
        self
    }
    /// Sets the description.
    #[inline]
    pub fn with_description(mut self, description: Option<String>) -> Refund {
        self.description = description;
        self
    }
    /// Sets the fee.
    #[inline]
    pub fn with_fee(mut self, fee: Option<Money>) -> Refund {
        self.fee = fee;
        self
    }
    /// Sets the creation time.
    #[inline]
    pub fn with_created_at(mut self, at: Option<OffsetDateTime>) -> Refund {
        self.created_at = at;
        self
    }
    /// Sets the last-update time.
    #[inline]
    pub fn with_updated_at(mut self, at: Option<OffsetDateTime>) -> Refund {
        self.updated_at = at;
        self
    }
    /// Sets the completion time.
    #[inline]
    pub fn with_completed_at(mut self, at: Option<OffsetDateTime>) -> Refund {
        self.completed_at = at;
        self
    }
    /// Sets live/test mode.
    #[inline]
    pub fn with_livemode(mut self, livemode: Option<bool>) -> Refund {
        self.livemode = livemode;
        self
    }
    /// Sets the metadata.
    #[inline]
    pub fn with_metadata(mut self, metadata: BTreeMap<String, String>) -> Refund {
        self.metadata = metadata;
        self
    }
    /// Records reconciliation fact `F` when `value` is `Some`.
    #[inline]
    pub fn with_fact<F: Fact>(mut self, value: Option<F::Value>) -> Refund {
        if let Some(value) = value {
            self.reconciliation.set::<F>(value);
        }
        self
    }
}

/// Longest merchant reference or description the core accepts; providers may allow less.
pub const MAX_TEXT_LEN: usize = 500;
/// Most metadata entries the core accepts.
pub const MAX_METADATA_ENTRIES: usize = 50;

/// A request to refund a payment, fully or in part. Built with a consuming builder:
///
/// ```
/// use refunds::{CreateRefund, Currency, Money, PaymentRef, RefundReason};
/// let req = CreateRefund::new(PaymentRef::payment("pay_123")?)
///     .amount(Money::from_major_str("12.50", Currency::USD)?)
///     .reason(RefundReason::RequestedByCustomer)
///     .merchant_reference("order-42");
/// assert_eq!(req.amount_requested().unwrap().minor(), 1250);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateRefund {
    payment: PaymentRef,
    amount: Option<Money>,
    reason: Option<RefundReason>,
    merchant_reference: Option<String>,
    idempotency_key: Option<IdempotencyKey>,
    metadata: BTreeMap<String, String>,
    description: Option<String>,
}

impl CreateRefund {
    /// A full refund of `payment`; add `.amount(...)` for a partial one.
    pub fn new(payment: PaymentRef) -> CreateRefund {
        CreateRefund {
            payment,
            amount: None,
            reason: None,
            merchant_reference: None,
            idempotency_key: None,
            metadata: BTreeMap::new(),
            description: None,
        }
    }

    /// Refund this amount instead of the full remaining amount.
    pub fn amount(mut self, amount: Money) -> CreateRefund {
        self.amount = Some(amount);
        self
    }
    /// Why.
    pub fn reason(mut self, reason: RefundReason) -> CreateRefund {
        self.reason = Some(reason);
        self
    }
    /// The merchant's own reference (an order or ticket id).
    pub fn merchant_reference(mut self, reference: impl Into<String>) -> CreateRefund {
        self.merchant_reference = Some(reference.into());
        self
    }
    /// Makes the create safe to retry where the provider honours idempotency.
    pub fn idempotency_key(mut self, key: IdempotencyKey) -> CreateRefund {
        self.idempotency_key = Some(key);
        self
    }
    /// Adds one metadata entry.
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> CreateRefund {
        self.metadata.insert(key.into(), value.into());
        self
    }
    /// Free-text description.
    pub fn description(mut self, description: impl Into<String>) -> CreateRefund {
        self.description = Some(description.into());
        self
    }

    /// The payment to refund.
    pub fn payment(&self) -> &PaymentRef {
        &self.payment
    }
    /// The partial amount, or `None` for a full refund.
    pub fn amount_requested(&self) -> Option<&Money> {
        self.amount.as_ref()
    }
    /// The reason, if given.
    pub fn reason_given(&self) -> Option<&RefundReason> {
        self.reason.as_ref()
    }
    /// The merchant reference, if given.
    pub fn merchant_reference_given(&self) -> Option<&str> {
        self.merchant_reference.as_deref()
    }
    /// The idempotency key, if given.
    pub fn idempotency_key_given(&self) -> Option<&IdempotencyKey> {
        self.idempotency_key.as_ref()
    }
    /// The metadata.
    pub fn metadata_given(&self) -> &BTreeMap<String, String> {
        &self.metadata
    }
    /// The description, if given.
    pub fn description_given(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// Checks what holds for every provider: a positive amount, non-empty bounded strings without
    /// control characters, bounded metadata. Providers add their own limits on top.
    pub fn validate(&self) -> Result<(), Error> {
        if let Some(amount) = &self.amount {
            if !amount.is_positive() {
                return Err(Error::invalid_request(
                    "amount",
                    format!("must be positive, got {amount}"),
                ));
            }
        }
        if let Some(reason) = &self.reason {
            check_text("reason", reason.as_str(), MAX_TEXT_LEN)?;
        }
        if let Some(reference) = &self.merchant_reference {
            check_text("merchant_reference", reference, MAX_TEXT_LEN)?;
        }
        if let Some(description) = &self.description {
            check_text("description", description, MAX_TEXT_LEN)?;
        }
        if self.metadata.len() > MAX_METADATA_ENTRIES {
            return Err(Error::invalid_request(
                "metadata",
                format!("at most {MAX_METADATA_ENTRIES} entries"),
            ));
        }
        for (key, value) in &self.metadata {
            check_text("metadata", key, 40)?;
            if value.len() > MAX_TEXT_LEN || value.chars().any(char::is_control) {
                return Err(Error::invalid_request(
                    "metadata",
                    format!("value of {key:?} is over {MAX_TEXT_LEN} bytes or has a control character"),
                ));
            }
        }
        Ok(())
    }
}

/// Checks that `text` is non-empty, at most `max` characters and free of control characters.
pub fn check_text(field: &str, text: &str, max: usize) -> Result<(), Error> {
    if text.is_empty() {
        return Err(Error::invalid_request(field, "must not be empty"));
    }
    let len = text.chars().count();
    if len > max {
        return Err(Error::invalid_request(
            field,
            format!("at most {max} characters, got {len}"),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(Error::invalid_request(field, "contains a control character"));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
