//! Verdicts and the evidence they rest on.
//!
//! Every answer about whether a create was applied is decided in [`rules`], by the table in
//! RELIABILITY.md ("Verdict rules"): the delivery of a failed create, the check of a create's answer
//! against its request, and what recovery concludes from a re-send or a look-up. Nothing else in the
//! SDK decides one, and no provider crate does.

use std::fmt;
use std::time::Duration;

use crate::model::Refund;

pub(crate) mod rules;

/// What recovery found out about a pending create, with the evidence or the doubt.
///
/// What an application does with each:
/// - `Applied`: book the refund; it is this create's.
/// - `NotApplied`: the create was not applied and never will be: create the refund again.
/// - `Candidates`: refunds that may be this create's but cannot be told apart from others' (another
///   process, a person in the dashboard, an earlier refund of the same amount): a person, or the
///   application's own records, decide; never create again on a candidate list.
/// - `Unknown`: nothing can be concluded yet: keep the pending create and recover again later
///   (after `retry_after` where given); escalate after a bounded number of tries. Never create again.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Recovery {
    /// The refund exists and is this create's.
    Applied {
        /// The refund.
        refund: Box<Refund>,
        /// Why it is this create's.
        evidence: Evidence,
    },
    /// The create was not applied, and can never be.
    NotApplied {
        /// Why it can never apply.
        evidence: Evidence,
    },
    /// Refunds that may be this create's; none is proven to be.
    Candidates {
        /// The plausible refunds.
        refunds: Vec<Refund>,
        /// Why they cannot be told apart.
        reason: String,
    },
    /// Nothing can be concluded now.
    Unknown {
        /// Why not.
        doubt: Doubt,
        /// The details (the provider's error, what was walked).
        detail: String,
        /// When trying again is worth it, where the provider or the settle window says.
        retry_after: Option<Duration>,
    },
}

impl Recovery {
    /// True for [`Recovery::Applied`].
    pub fn is_applied(&self) -> bool {
        matches!(self, Recovery::Applied { .. })
    }
    /// True for [`Recovery::NotApplied`].
    pub fn is_not_applied(&self) -> bool {
        matches!(self, Recovery::NotApplied { .. })
    }
    /// True for [`Recovery::Unknown`].
    pub fn is_unknown(&self) -> bool {
        matches!(self, Recovery::Unknown { .. })
    }
    /// The evidence of a definite verdict.
    pub fn evidence(&self) -> Option<&Evidence> {
        match self {
            Recovery::Applied { evidence, .. } | Recovery::NotApplied { evidence } => Some(evidence),
            _ => None,
        }
    }
    /// When to recover again, for an `Unknown` verdict where it is known.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Recovery::Unknown { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
    /// The verdict's name: `applied`, `not_applied`, `candidates` or `unknown`.
    pub fn name(&self) -> &'static str {
        match self {
            Recovery::Applied { .. } => "applied",
            Recovery::NotApplied { .. } => "not_applied",
            Recovery::Candidates { .. } => "candidates",
            Recovery::Unknown { .. } => "unknown",
        }
    }

    pub(crate) fn unknown(doubt: Doubt, detail: impl Into<String>, retry_after: Option<Duration>) -> Recovery {
        Recovery::Unknown {
            doubt,
            detail: detail.into(),
            retry_after,
        }
    }
}

impl fmt::Display for Recovery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Recovery::Applied { refund, evidence } => write!(f, "applied ({}): {evidence}", refund.id),
            Recovery::NotApplied { evidence } => write!(f, "not applied: {evidence}"),
            Recovery::Candidates { refunds, reason } => write!(f, "{} candidates: {reason}", refunds.len()),
            Recovery::Unknown {
                doubt,
                detail,
                retry_after,
            } => {
                write!(f, "unknown ({doubt})")?;
                if !detail.is_empty() {
                    write!(f, ": {detail}")?;
                }
                match retry_after {
                    Some(wait) => write!(f, "; recover again in {} s", wait.as_secs().max(1)),
                    None => Ok(()),
                }
            }
        }
    }
}

/// What a definite verdict rests on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Evidence {
    /// A re-send under the create's own key was answered with the refund, and its payment, amount and
    /// currency match the request.
    SameKey {
        /// The provider said the answer was replayed (applied before the re-send: `Some(true)`) or
        /// fresh (`Some(false)`), where it says.
        replayed: Option<bool>,
    },
    /// The refund carries the marker this create wrote (a field the provider echoes).
    Marker,
    /// The caller declared the payment exclusive (every other refund of it booked, no other create of
    /// it unresolved), and this is its only unbooked matching refund since the call started.
    Exclusive,
    /// A complete walk of the provider's refunds of the payment, after the settle window counted from
    /// the call's last attempt, found no refund that could be this create's.
    CompleteWalk,
    /// The identical request, sent again under the same key, was refused as malformed: an answer that
    /// does not depend on the account's state, so the original can never have applied.
    Malformed {
        /// The HTTP status of the refusal.
        status: Option<u16>,
        /// The provider's code.
        code: Option<String>,
    },
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Evidence::SameKey { replayed } => {
                f.write_str("the provider answered a re-send under the create's own key with this refund")?;
                match replayed {
                    Some(true) => f.write_str(" (replayed: it was applied before the re-send)"),
                    Some(false) => f.write_str(" (applied by the re-send)"),
                    None => Ok(()),
                }
            }
            Evidence::Marker => f.write_str("the refund carries the marker this create wrote"),
            Evidence::Exclusive => f.write_str(
                "the payment was declared exclusive and this is its only unbooked matching refund since the call started",
            ),
            Evidence::CompleteWalk => f.write_str(
                "a complete walk of the payment's refunds, after the settle window from the last attempt, found none that could be this create's",
            ),
            Evidence::Malformed { status, code } => {
                f.write_str("the identical request was refused as malformed")?;
                if let Some(status) = status {
                    write!(f, " (http {status}")?;
                    if let Some(code) = code {
                        write!(f, ", code {code}")?;
                    }
                    f.write_str(")")?;
                }
                f.write_str(": it can never apply")
            }
        }
    }
}

/// Why recovery could not conclude.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Doubt {
    /// The pending create belongs to another provider, or cannot be sent as stored.
    NotThisProvider,
    /// The re-send met the provider's "in progress" (or another key conflict): the original may
    /// still be running.
    InProgress,
    /// The re-send was rate limited.
    RateLimited,
    /// The re-send was refused for its key (401/403): a rotated or wrong key proves nothing.
    NotAuthorized,
    /// The re-send was answered 404: another account or mode proves nothing.
    NotFound,
    /// The re-send was refused for the account's state (over-refund, already refunded): the original
    /// may have used the balance.
    RefusedOnState,
    /// The re-send was refused in a way that proves nothing either way.
    Refused,
    /// The re-send itself may or may not have been applied (lost, timed out, 5xx).
    ResendAmbiguous,
    /// The re-send could not be sent.
    NotSent,
    /// The pending create is older than the provider keeps keys, and its refunds cannot be listed.
    KeyExpired,
    /// The provider has no list to look the refund up in.
    NoList,
    /// The provider lists one page only: a refund not on it cannot be ruled out.
    SinglePage,
    /// Some refunds name another kind of payment reference than the create's: they cannot be linked.
    Unlinkable,
    /// Nothing found yet, but the provider may still be applying the create (settle window).
    NotSettled,
    /// The list could not be read.
    ListUnreadable,
    /// The walk reached its bound (pages or time) before the list ended.
    WalkBounded,
}

impl Doubt {
    /// A stable snake-case name (`in_progress`, `not_settled`, …).
    pub fn as_str(&self) -> &'static str {
        match self {
            Doubt::NotThisProvider => "not_this_provider",
            Doubt::InProgress => "in_progress",
            Doubt::RateLimited => "rate_limited",
            Doubt::NotAuthorized => "not_authorized",
            Doubt::NotFound => "not_found",
            Doubt::RefusedOnState => "refused_on_state",
            Doubt::Refused => "refused",
            Doubt::ResendAmbiguous => "resend_ambiguous",
            Doubt::NotSent => "not_sent",
            Doubt::KeyExpired => "key_expired",
            Doubt::NoList => "no_list",
            Doubt::SinglePage => "single_page",
            Doubt::Unlinkable => "unlinkable",
            Doubt::NotSettled => "not_settled",
            Doubt::ListUnreadable => "list_unreadable",
            Doubt::WalkBounded => "walk_bounded",
        }
    }
}

impl fmt::Display for Doubt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
