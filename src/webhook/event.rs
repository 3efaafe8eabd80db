//! The typed event every provider's webhook becomes, and the per-provider table of event types.

use std::borrow::Cow;
use std::fmt;

use time::OffsetDateTime;

use crate::ids::{PaymentRef, PaymentRefKind};
use crate::model::Refund;
use crate::raw::RawJson;

/// What happened to the refund, normalized across providers. Event types a provider's table does not
/// know become [`EventKind::Unknown`] with the raw type string, never a guess.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventKind {
    /// A refund was created.
    Created,
    /// A refund changed (read its status from [`WebhookEvent::refund`]).
    Updated,
    /// A refund (or a charge's refund) succeeded.
    Succeeded,
    /// A refund failed.
    Failed,
    /// A refund was canceled.
    Canceled,
    /// An event type the provider's table does not list; the raw type string is kept.
    Unknown(String),
}

impl EventKind {
    /// The snake-case name (`"succeeded"`), or the raw type for an unknown kind.
    pub fn as_str(&self) -> &str {
        match self {
            EventKind::Created => "created",
            EventKind::Updated => "updated",
            EventKind::Succeeded => "succeeded",
            EventKind::Failed => "failed",
            EventKind::Canceled => "canceled",
            EventKind::Unknown(raw) => raw,
        }
    }

    /// True for [`EventKind::Unknown`].
    pub fn is_unknown(&self) -> bool {
        matches!(self, EventKind::Unknown(_))
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One verified webhook event.
///
/// `refund` is set when the event carries a refund object (read by the provider crate's own wire
/// types, so it is the same [`Refund`] that `get_refund` returns); `payment` is set when the event
/// carries a charge or payment instead, and also, for convenience, to the refund's payment when it
/// carries a refund. An event type the provider's table does not know is still returned, with
/// [`EventKind::Unknown`] and neither field set: the body is in `raw`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct WebhookEvent {
    /// The provider id (`"xpay"`), as in [`crate::ProviderInfo::id`].
    pub provider: Cow<'static, str>,
    /// The provider's event id (`evt_...`). Providers re-send the same id on retries: de-duplicate on it.
    pub id: String,
    /// The normalized kind.
    pub kind: EventKind,
    /// The provider's event type exactly as sent (`"charge.refund.updated"`).
    pub event_type: String,
    /// When the provider created the event, if the envelope says.
    pub created_at: Option<OffsetDateTime>,
    /// Live (`true`) or test (`false`) mode, if the envelope says.
    pub livemode: Option<bool>,
    /// The refund the event carries.
    pub refund: Option<Refund>,
    /// The payment the event is about: the charge it carries, or the refunded payment.
    pub payment: Option<PaymentRef>,
    /// The whole event body as received (surrounding whitespace trimmed).
    pub raw: RawJson,
}

impl WebhookEvent {
    /// An event with no refund, payment, time or mode; set those with the `with_*` methods.
    pub fn new(
        provider: impl Into<Cow<'static, str>>,
        id: impl Into<String>,
        kind: EventKind,
        event_type: impl Into<String>,
        raw: RawJson,
    ) -> WebhookEvent {
        WebhookEvent {
            provider: provider.into(),
            id: id.into(),
            kind,
            event_type: event_type.into(),
            created_at: None,
            livemode: None,
            refund: None,
            payment: None,
            raw,
        }
    }

    /// Sets the creation time.
    pub fn with_created_at(mut self, at: Option<OffsetDateTime>) -> WebhookEvent {
        self.created_at = at;
        self
    }

    /// Sets live or test mode.
    pub fn with_livemode(mut self, livemode: Option<bool>) -> WebhookEvent {
        self.livemode = livemode;
        self
    }

    /// Sets the refund (and the payment, from the refund, when none is set yet).
    pub fn with_refund(mut self, refund: Refund) -> WebhookEvent {
        if self.payment.is_none() {
            self.payment = Some(refund.payment.clone());
        }
        self.refund = Some(refund);
        self
    }

    /// Sets the payment.
    pub fn with_payment(mut self, payment: PaymentRef) -> WebhookEvent {
        self.payment = Some(payment);
        self
    }
}

/// What the object inside an event is, so the envelope reader knows how to read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Carries {
    /// A refund object: read with the provider's refund parser into [`WebhookEvent::refund`].
    Refund,
    /// A charge, payment or payment intent: its `id` becomes [`WebhookEvent::payment`] of this kind.
    Payment(PaymentRefKind),
    /// Nothing the SDK reads; the object stays in [`WebhookEvent::raw`].
    Nothing,
}

/// A provider's event types, like [`crate::adapter::StatusMap`] for statuses: a `const` table in the
/// provider crate of `(wire type, kind, what the object is)`. Lookups are exact (event types are
/// case-sensitive identifiers); types not listed become [`EventKind::Unknown`] carrying nothing.
///
/// ```
/// use refunds::PaymentRefKind;
/// use refunds::webhook::{Carries, EventKind, EventTable};
/// const EVENTS: EventTable = EventTable::new(&[
///     ("refund.created", EventKind::Created, Carries::Refund),
///     ("charge.refunded", EventKind::Succeeded, Carries::Payment(PaymentRefKind::Charge)),
/// ]);
/// assert_eq!(EVENTS.kind("refund.created"), EventKind::Created);
/// assert_eq!(EVENTS.kind("payout.paid"), EventKind::Unknown("payout.paid".into()));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct EventTable {
    rules: &'static [(&'static str, EventKind, Carries)],
}

impl EventTable {
    /// A table of `(wire type, kind, what the object is)`.
    pub const fn new(rules: &'static [(&'static str, EventKind, Carries)]) -> EventTable {
        EventTable { rules }
    }

    fn rule(&self, event_type: &str) -> Option<&'static (&'static str, EventKind, Carries)> {
        self.rules.iter().find(|(wire, _, _)| *wire == event_type)
    }

    /// The kind of `event_type`; unlisted types give [`EventKind::Unknown`] with the raw string.
    pub fn kind(&self, event_type: &str) -> EventKind {
        self.rule(event_type)
            .map(|(_, kind, _)| kind.clone())
            .unwrap_or_else(|| EventKind::Unknown(event_type.to_owned()))
    }

    /// What `event_type`'s object is; unlisted types carry [`Carries::Nothing`].
    pub fn carries(&self, event_type: &str) -> Carries {
        self.rule(event_type)
            .map_or(Carries::Nothing, |(_, _, carries)| *carries)
    }

    /// The first wire type listed for `kind` (for sandboxes writing events).
    pub fn wire_type(&self, kind: &EventKind) -> Option<&'static str> {
        if let EventKind::Unknown(_) = kind {
            return None;
        }
        self.rules.iter().find(|(_, k, _)| k == kind).map(|(wire, _, _)| *wire)
    }

    /// The table, for documentation tests.
    pub fn entries(&self) -> &'static [(&'static str, EventKind, Carries)] {
        self.rules
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: EventTable = EventTable::new(&[
        ("refund.created", EventKind::Created, Carries::Refund),
        (
            "charge.refunded",
            EventKind::Succeeded,
            Carries::Payment(PaymentRefKind::Charge),
        ),
    ]);

    #[test]
    fn table_lookups_keep_unknown_types() {
        assert_eq!(TABLE.kind("refund.created"), EventKind::Created);
        assert_eq!(
            TABLE.carries("charge.refunded"),
            Carries::Payment(PaymentRefKind::Charge)
        );
        assert_eq!(
            TABLE.kind("Refund.Created"),
            EventKind::Unknown("Refund.Created".into())
        );
        assert_eq!(TABLE.carries("payout.paid"), Carries::Nothing);
        assert_eq!(TABLE.kind("payout.paid").as_str(), "payout.paid");
        assert!(TABLE.kind("x").is_unknown());
        assert_eq!(TABLE.wire_type(&EventKind::Succeeded), Some("charge.refunded"));
        assert_eq!(TABLE.wire_type(&EventKind::Failed), None);
    }
}
