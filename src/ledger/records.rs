//! What the ledger holds and answers: payments, refunds, a create's draft and outcome, and why a create
//! was refused.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use crate::currency::Currency;
use crate::model::RefundStatus;
use crate::money::Money;

/// Whether a payment can be refunded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PaymentState {
    /// Captured: refundable.
    Succeeded,
    /// Not captured yet: not refundable.
    Pending,
    /// Failed: not refundable.
    Failed,
}

/// A seeded payment.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PaymentRecord {
    /// The payment id.
    pub id: String,
    /// The captured amount.
    pub captured: Money,
    /// Minor units refunded or on their way (failed refunds give their amount back).
    pub refunded: i64,
    /// Refundable or not.
    pub state: PaymentState,
}

impl PaymentRecord {
    /// What can still be refunded.
    pub fn refundable(&self) -> Money {
        Money::from_minor(self.captured.minor() - self.refunded, self.captured.currency())
    }
}

/// How a simulated refund ends when it settles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SimulatedOutcome {
    /// It succeeds.
    #[default]
    Succeed,
    /// It fails and the amount becomes refundable again.
    Fail,
}

/// A refund the ledger holds.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RefundRecord {
    /// The refund id.
    pub id: String,
    /// The payment refunded.
    pub payment_id: String,
    /// The amount.
    pub amount: Money,
    /// The status (an `Unknown` status can be forced for tests).
    pub status: RefundStatus,
    /// The reason as sent.
    pub reason: Option<String>,
    /// The merchant reference as sent.
    pub reference: Option<String>,
    /// The description as sent.
    pub description: Option<String>,
    /// Metadata as sent.
    pub metadata: BTreeMap<String, String>,
    /// Why it failed.
    pub failure_reason: Option<String>,
    /// The fee charged.
    pub fee: Option<Money>,
    /// The idempotency key it was created with.
    pub idempotency_key: Option<String>,
    /// The create request it was made from, as the skin fingerprinted it (its body): what recovery
    /// tests compare with what the first attempt sent, to see a re-send was the identical request.
    pub fingerprint: String,
    /// How it will settle.
    pub outcome: SimulatedOutcome,
    /// Creation time (ledger clock).
    pub created_at: OffsetDateTime,
    /// Last change (ledger clock).
    pub updated_at: OffsetDateTime,
    /// Settlement time.
    pub completed_at: Option<OffsetDateTime>,
}

impl RefundRecord {
    /// A record as an existing refund (for seeding), created now by the ledger clock at use.
    pub fn new(id: impl Into<String>, payment_id: impl Into<String>, amount: Money, status: RefundStatus) -> Self {
        let epoch = OffsetDateTime::UNIX_EPOCH;
        RefundRecord {
            id: id.into(),
            payment_id: payment_id.into(),
            amount,
            status,
            reason: None,
            reference: None,
            description: None,
            metadata: BTreeMap::new(),
            failure_reason: None,
            fee: None,
            idempotency_key: None,
            fingerprint: String::new(),
            outcome: SimulatedOutcome::Succeed,
            created_at: epoch,
            updated_at: epoch,
            completed_at: None,
        }
    }
}

/// A create as the ledger sees it, after the provider skin decoded the wire request.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct RefundDraft {
    /// The payment to refund.
    pub payment_id: String,
    /// Minor units; `None` refunds everything left.
    pub amount_minor: Option<i64>,
    /// The currency the request named, if it named one (checked against the payment's).
    pub currency: Option<Currency>,
    /// Reason text.
    pub reason: Option<String>,
    /// Merchant reference.
    pub reference: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Metadata.
    pub metadata: BTreeMap<String, String>,
    /// Idempotency key, if the request carried one.
    pub idempotency_key: Option<String>,
    /// A fingerprint of the request (its body); a reused key with another fingerprint is a conflict.
    pub fingerprint: String,
    /// How it settles.
    pub outcome: SimulatedOutcome,
    /// The fee to record.
    pub fee_minor: Option<i64>,
}

impl RefundDraft {
    /// A full refund of `payment_id`.
    pub fn new(payment_id: impl Into<String>) -> RefundDraft {
        RefundDraft {
            payment_id: payment_id.into(),
            ..RefundDraft::default()
        }
    }
}

/// What a create did.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CreateOutcome {
    /// A new refund.
    Created(RefundRecord),
    /// The same idempotency key and request again: the original refund, nothing new.
    Replayed(RefundRecord),
}

impl CreateOutcome {
    /// The refund either way.
    pub fn record(&self) -> &RefundRecord {
        match self {
            CreateOutcome::Created(r) | CreateOutcome::Replayed(r) => r,
        }
    }
}

/// Why the ledger refused a create.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// No such payment.
    #[error("no such payment: {0}")]
    PaymentNotFound(String),
    /// The payment is not captured.
    #[error("payment {0} is not refundable in its state")]
    PaymentNotRefundable(String),
    /// Asked for more than is left.
    #[error("amount exceeds the refundable balance of {available}")]
    AmountExceedsRefundable {
        /// What is left.
        available: Money,
    },
    /// Nothing is left to refund.
    #[error("payment {0} is already fully refunded")]
    AlreadyRefunded(String),
    /// Same key, different request.
    #[error("idempotency key reused with a different request")]
    IdempotencyConflict,
    /// Zero or negative.
    #[error("amount must be positive")]
    InvalidAmount,
    /// The request's currency is not the payment's.
    #[error("currency {requested} does not match the payment's {payment}")]
    CurrencyMismatch {
        /// Asked.
        requested: String,
        /// The payment's.
        payment: String,
    },
}
