//! The verdict rules, as functions of what was seen. RELIABILITY.md ("Verdict rules") is the same table
//! in prose; a change to one is a change to the other.
//!
//! The rule behind all of them: **"applied" only with proof that it was this create, "not applied"
//! only with proof that it can never apply; everything else is unknown, or candidates, with a reason.**

use std::time::Duration;

use time::OffsetDateTime;

use super::{Doubt, Evidence, Recovery};
use crate::currency::Currency;
use crate::error::{Delivery, Error, ErrorKind};
use crate::ids::RefundId;
use crate::model::{CreateRefund, Refund};
use crate::pending::PendingCreate;
use crate::provider::{MarkerField, Resent};

/// How long to wait before recovering again after an "in progress" answer that gave no `Retry-After`.
const IN_PROGRESS_PAUSE: Duration = Duration::from_secs(1);

/// The longest "recover again in" a verdict passes on from a server's `Retry-After`: no wait is driven
/// by a number a server sends.
pub(crate) const MAX_RECOVER_AGAIN: Duration = Duration::from_secs(15 * 60);

/// A second of timestamp precision: a provider that reports whole seconds truncates a creation time by
/// up to that much, on top of the clock-skew margin.
const TIMESTAMP_PRECISION: Duration = Duration::from_secs(1);

/// The delivery of a create that failed, and whether it carries a pending create.
///
/// - Any attempt that may have been applied makes the call `Ambiguous` (the transport's whole-call
///   verdict), with a pending create.
/// - A create refused with a 409 (the key in use, or in progress; or a conflict a provider without
///   keys does not explain), or a keyed create refused with a 429, may have been applied by the provider
///   before it answered: `Ambiguous`, with a pending create. Re-sending a keyed one under its key is how
///   it is resolved; an unkeyed one is looked up.
/// - Every other refusal (validation, over-refund, not found, authentication, permission) proves that
///   attempt did nothing: `Rejected`, no pending create. A provider without idempotency is taken at its
///   word on a 429 (its READMEs say so): nothing can detect that lie without a key.
pub(crate) fn failed_create(e: Error, keyed: bool) -> (Error, bool) {
    match e.delivery() {
        Delivery::Ambiguous => (e, true),
        Delivery::Rejected if refusal_may_hide_an_apply(&e, keyed) => (e.with_delivery(Delivery::Ambiguous), true),
        _ => (e, false),
    }
}

/// Whether one attempt of a call may have been applied: an ambiguous answer, or, for a create, a
/// refusal that does not prove the provider did nothing (a conflict, a 4xx whose body says the
/// provider failed, or a rate limit on a keyed create). Once one has, the whole call is ambiguous,
/// whatever later attempts answer.
pub fn attempt_may_have_applied(e: &Error, create: bool, keyed: bool) -> bool {
    e.delivery() == Delivery::Ambiguous
        || (create && e.delivery() == Delivery::Rejected && refusal_may_hide_an_apply(e, keyed))
}

/// A refusal of a create that does not prove the provider did nothing: a conflict (a key "in
/// progress" or "in use", or whatever a provider without keys means by one), a 4xx whose body says the
/// provider failed, and, for a keyed create, a rate limit. A provider without idempotency is taken at
/// its word on a 429 alone (each such provider's README says so): nothing without a key could tell.
fn refusal_may_hide_an_apply(e: &Error, keyed: bool) -> bool {
    let rate_limited = e.http_status() == Some(429) || e.kind() == &ErrorKind::RateLimited;
    e.http_status() == Some(409)
        || matches!(
            e.kind(),
            ErrorKind::IdempotencyConflict | ErrorKind::ProviderUnavailable | ErrorKind::Timeout | ErrorKind::Transport
        )
        || (keyed && rate_limited)
}

/// What differs between a create and the refund answered for it, if anything: the payment (where the
/// provider reports the same kind of reference), the amount (where one was asked), the currency (where
/// the request or the account says it), and the marker (where the refund carries another one).
pub(crate) fn answer_mismatch(
    request: &CreateRefund,
    account: Option<Currency>,
    marker: Option<(MarkerField, &str)>,
    refund: &Refund,
) -> Option<(&'static str, String)> {
    let asked = request.payment();
    if refund.payment.kind() == asked.kind() && refund.payment.id() != asked.id() {
        return Some((
            "payment",
            format!("asked to refund {asked}, answered for {}", refund.payment),
        ));
    }
    let currency = request.amount_requested().map(|a| a.currency()).or(account);
    if let Some(currency) = currency.filter(|c| *c != refund.amount.currency()) {
        return Some((
            "currency",
            format!(
                "asked in {}, answered {} ({})",
                currency.code(),
                refund.amount,
                refund.id
            ),
        ));
    }
    if let Some(amount) = request.amount_requested().filter(|a| **a != refund.amount) {
        return Some((
            "amount",
            format!("asked {amount}, answered {} ({})", refund.amount, refund.id),
        ));
    }
    if let Some((field, written)) = marker {
        if field.read(refund).is_some_and(|seen| seen != written) {
            return Some((
                "marker",
                format!("the refund {} carries another create's marker", refund.id),
            ));
        }
    }
    None
}

/// The error for a create answered with a refund that differs from it: the refund exists
/// (`Delivery::Applied`) and travels with the error.
pub(crate) fn mismatch_error(field: &'static str, message: String, refund: Refund) -> Error {
    Error::new(
        ErrorKind::AnswerMismatch {
            field: field.to_owned(),
        },
        Delivery::Applied,
        format!("{message}: the refund exists as answered; book it as such and have a person look"),
    )
    .with_provider(refund.provider.to_string())
    .with_refund(refund)
}

/// Whether a pending create may still be sent again under its key: only while the provider still keeps
/// the key (its retention, less the clock-skew margin). An older key may be forgotten, and the re-send
/// would then be a new refund.
pub(crate) fn key_still_kept(
    pending: &PendingCreate,
    retention: Duration,
    skew: Duration,
    now: OffsetDateTime,
) -> bool {
    resend_cutoff(pending, retention, skew).is_some_and(|cutoff| now < cutoff)
}

/// The last moment recovery re-sends a keyed pending create: the key's retention, less the clock-skew
/// margin, after the call started (`None` when that is before the start, or off the calendar). A
/// re-send made just before it may still be applied after it, so a look-up that follows counts its
/// settle window from here.
pub(crate) fn resend_cutoff(pending: &PendingCreate, retention: Duration, skew: Duration) -> Option<OffsetDateTime> {
    shift(pending.started_at, retention.checked_sub(skew)?, true)
}

/// What a re-send under the pending create's key proves.
pub(crate) fn resend_verdict(
    pending: &PendingCreate,
    marker: Option<MarkerField>,
    answer: Result<Resent, Error>,
) -> Recovery {
    let written = marker.zip(pending.marker.as_deref());
    match answer {
        Ok(resent) => match answer_mismatch(&pending.request, None, written, &resent.refund) {
            None => Recovery::Applied {
                refund: Box::new(resent.refund),
                evidence: Evidence::SameKey {
                    replayed: resent.replayed,
                },
            },
            Some((_, message)) => Recovery::Candidates {
                refunds: vec![resent.refund],
                reason: format!("the provider answered the create's key with a refund that differs from it: {message}"),
            },
        },
        Err(e) => refused_resend(e),
    }
}

fn refused_resend(e: Error) -> Recovery {
    if let Some(refund) = e.refund() {
        return Recovery::Candidates {
            refunds: vec![refund.clone()],
            reason: format!("the provider answered the create's key with a refund that differs from it: {e}"),
        };
    }
    let wait = e.retry_after().map(|w| w.min(MAX_RECOVER_AGAIN));
    let detail = e.to_string();
    if e.delivery() == Delivery::NotSent {
        return Recovery::unknown(Doubt::NotSent, detail, None);
    }
    let doubt = match (e.kind(), e.http_status()) {
        (ErrorKind::IdempotencyConflict, _) | (_, Some(409)) => {
            return Recovery::unknown(Doubt::InProgress, detail, Some(wait.unwrap_or(IN_PROGRESS_PAUSE)));
        }
        (ErrorKind::RateLimited, _) | (_, Some(429)) => Doubt::RateLimited,
        (ErrorKind::Authentication | ErrorKind::PermissionDenied, _) | (_, Some(401 | 403)) => Doubt::NotAuthorized,
        (ErrorKind::NotFound, _) | (_, Some(404)) => Doubt::NotFound,
        (ErrorKind::AmountExceedsRefundable | ErrorKind::AlreadyRefunded, _) => Doubt::RefusedOnState,
        // A refusal of the request's form names the field at fault; a 400 that names none may be about
        // the account's state (a payment "not refundable", an unmapped code) and proves nothing.
        (ErrorKind::Validation | ErrorKind::InvalidRequest { .. }, Some(400 | 422))
            if e.delivery() == Delivery::Rejected && e.field().is_some() =>
        {
            return Recovery::NotApplied {
                evidence: Evidence::Malformed {
                    status: e.http_status(),
                    code: e.provider_code().map(str::to_owned),
                },
            };
        }
        _ if e.delivery() == Delivery::Ambiguous => Doubt::ResendAmbiguous,
        _ => Doubt::Refused,
    };
    Recovery::unknown(doubt, detail, wait)
}

/// How a listed refund stands against a pending create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seen {
    /// It carries the create's marker and matches the request: it is the create's refund.
    Proof,
    /// It may be (or, carrying the create's marker, is) the create's refund, but differs from the
    /// request (its amount, or its currency): never "applied", only a candidate.
    Differs,
    /// It could be the create's refund.
    Plausible,
    /// It cannot be the create's refund.
    Excluded,
    /// It names another kind of payment reference: it can be neither matched nor ruled out.
    Unlinkable,
}

/// How a look-up walk ended.
#[derive(Debug, Clone)]
pub(crate) enum WalkEnd {
    /// The whole list (of the payment) was read.
    Complete,
    /// The provider lists one page only.
    SinglePage,
    /// The walk stopped at its bound.
    Bounded(String),
    /// A page could not be read.
    Unreadable(String),
}

/// The facts a look-up is judged by: the pending create, where its marker is, the clock, the windows,
/// and what the caller declared.
#[derive(Debug)]
pub(crate) struct Judge<'a> {
    pub pending: &'a PendingCreate,
    /// The latest moment an attempt of the create can have been sent: its last attempt's end, or,
    /// for a keyed create recovery no longer re-sends, the last moment it would have re-sent it.
    pub ended: OffsetDateTime,
    pub marker: Option<MarkerField>,
    pub now: OffsetDateTime,
    pub settle: Duration,
    pub skew: Duration,
    pub booked: &'a [RefundId],
    pub exclusive: bool,
}

impl Judge<'_> {
    /// How `refund` stands: the rules a match must pass, in order.
    pub fn classify(&self, refund: &Refund) -> Seen {
        let request = &self.pending.request;
        if refund.payment.kind() != request.payment().kind() {
            return Seen::Unlinkable;
        }
        if refund.payment.id() != request.payment().id() || self.booked.contains(&refund.id) {
            return Seen::Excluded;
        }
        // An amount in the request's currency that differs is another refund. Another currency proves
        // nothing: a provider that takes no currency on a create applies the minor units in the
        // payment's currency (units may even be converted), so such a refund may be this create's.
        let asked = request.amount_requested();
        let other_amount = asked.is_some_and(|a| a.currency() == refund.amount.currency() && *a != refund.amount);
        let other_currency = asked.is_some_and(|a| a.currency() != refund.amount.currency());
        if let (Some(field), Some(written)) = (self.marker, self.pending.marker.as_deref()) {
            match field.read(refund) {
                Some(seen) if seen == written && (other_amount || other_currency) => return Seen::Differs,
                Some(seen) if seen == written => return Seen::Proof,
                // Another create's marker: the provider echoes the field, so this one is not ours.
                Some(_) => return Seen::Excluded,
                None => {}
            }
        }
        if other_amount {
            return Seen::Excluded;
        }
        if let (Some(sent), Some(seen)) = (request.merchant_reference_given(), refund.merchant_reference.as_deref()) {
            if sent != seen {
                return Seen::Excluded;
            }
        }
        if refund.created_at.is_some_and(|at| !self.in_window(at)) {
            return Seen::Excluded;
        }
        if other_currency { Seen::Differs } else { Seen::Plausible }
    }

    /// Whether a refund created at `at` (the provider's clock) can be this create's: from the call's
    /// start to the end of the settle window after its last attempt, each widened by the skew margin.
    fn in_window(&self, at: OffsetDateTime) -> bool {
        let margin = self.skew.saturating_add(TIMESTAMP_PRECISION);
        let earliest = shift(self.pending.started_at, margin, false);
        let latest = self.settle.checked_add(margin).and_then(|d| shift(self.ended, d, true));
        earliest.is_none_or(|e| at >= e) && latest.is_none_or(|l| at <= l)
    }

    /// `Ok` once the settle window after the last attempt has passed, else how much of it is left.
    fn settled(&self) -> Result<(), Duration> {
        let Some(end) = shift(self.ended, self.settle, true) else {
            return Err(self.settle);
        };
        if self.now >= end {
            return Ok(());
        }
        Err(Duration::try_from(end - self.now).unwrap_or(self.settle))
    }

    /// The verdict of a walk that found no proof: `plausible` refunds, `unlinkable` ones, and how it ended.
    pub fn decide(
        &self,
        mut plausible: Vec<Refund>,
        marked_but_differs: Vec<Refund>,
        unlinkable: usize,
        end: WalkEnd,
    ) -> Recovery {
        if !marked_but_differs.is_empty() {
            return Recovery::Candidates {
                refunds: marked_but_differs,
                reason: "a refund carries this create's marker but differs from its request (amount or currency)"
                    .to_owned(),
            };
        }
        if self.exclusive && plausible.len() == 1 {
            if let Some(refund) = plausible.pop() {
                return Recovery::Applied {
                    refund: Box::new(refund),
                    evidence: Evidence::Exclusive,
                };
            }
        }
        if !plausible.is_empty() {
            let reason = if self.exclusive {
                "several unbooked refunds match although the payment was declared exclusive".to_owned()
            } else {
                "refunds of the same payment and amount made since the call started cannot be told apart from \
                 other actors' (no marker proves one is this create's, and the payment was not declared exclusive)"
                    .to_owned()
            };
            return Recovery::Candidates {
                refunds: plausible,
                reason,
            };
        }
        match end {
            WalkEnd::Complete => {}
            WalkEnd::SinglePage => {
                return Recovery::unknown(
                    Doubt::SinglePage,
                    "a refund not on the one page listed cannot be ruled out",
                    None,
                );
            }
            WalkEnd::Bounded(detail) => return Recovery::unknown(Doubt::WalkBounded, detail, None),
            WalkEnd::Unreadable(detail) => return Recovery::unknown(Doubt::ListUnreadable, detail, None),
        }
        if unlinkable > 0 {
            return Recovery::unknown(
                Doubt::Unlinkable,
                format!(
                    "{unlinkable} refunds name another kind of payment reference than the create's {}",
                    self.pending.request.payment().kind().as_str()
                ),
                None,
            );
        }
        if let Err(left) = self.settled() {
            return Recovery::unknown(
                Doubt::NotSettled,
                format!(
                    "not found yet, and the provider may still be applying it (settle window {} s from the last attempt)",
                    self.settle.as_secs()
                ),
                Some(left),
            );
        }
        Recovery::NotApplied {
            evidence: Evidence::CompleteWalk,
        }
    }
}

/// `at` moved by `by`, forward or back; `None` when that leaves the calendar.
pub(crate) fn shift(at: OffsetDateTime, by: Duration, forward: bool) -> Option<OffsetDateTime> {
    let by = time::Duration::try_from(by).ok()?;
    if forward {
        at.checked_add(by)
    } else {
        at.checked_sub(by)
    }
}
