//! What each answer does to an intent: one place turns a create's result or a recovery verdict into
//! the intent's next state and the event that records the answer. No I/O here.

use std::time::Duration;

use refunds::adapter::try_random_u128;
use refunds::{
    Capabilities, CreateRefund, Delivery, Error, ErrorKind, Evidence, IdempotencyKey, MarkerField, PendingCreate,
    Recovery, Refund, RefundProvider,
};
use serde_json::{Value, json};

use crate::journal::JournalOptions;
use crate::store::Row;
use crate::{JournalError, Result, State};

/// The next row and the event recording why.
pub(crate) struct Step {
    pub row: Row,
    pub kind: &'static str,
    pub detail: Value,
}

/// The request of a new attempt as it will be sent: the caller's key, or a fresh one where the
/// provider de-duplicates; and a marker where the provider echoes a field, so a refund can be linked
/// to the intent by looking it up even when no key can (a provider without idempotency, a key the
/// provider forgot). The engine keeps a marker it finds in the request, so what is recorded here is
/// exactly what goes on the wire.
pub(crate) fn attempt_request(request: &CreateRefund, caps: &Capabilities) -> Result<(CreateRefund, Option<String>)> {
    request.validate()?;
    // A marker is the journal's, never the caller's: one copied from another refund would prove
    // that refund this intent's.
    if let Some(MarkerField::Metadata(entry)) = caps.marker {
        if request.metadata_given().contains_key(entry) {
            return Err(JournalError::Invalid(format!(
                "metadata `{entry}` is the create marker the SDK writes: a request never brings its own (copied from \
                 another refund, it would prove that refund this one's)"
            )));
        }
    }
    let mut sent = request.clone();
    if caps.idempotency.is_native() && sent.idempotency_key_given().is_none() {
        sent = sent.idempotency_key(IdempotencyKey::random()?);
    }
    let fresh = || {
        try_random_u128()
            .map(|bits| format!("rfm_{bits:032x}"))
            .ok_or_else(|| JournalError::Invalid("the operating system gave no random bytes for a marker".into()))
    };
    let marker = match caps.marker {
        // The engine's rule, the same constant: a marked request is the one the preview checked.
        Some(MarkerField::Metadata(entry)) if sent.metadata_given().len() <= refunds::adapter::MARKER_ROOM => {
            let marker = fresh()?;
            sent = sent.metadata(entry, marker.clone());
            Some(marker)
        }
        Some(MarkerField::MerchantReference) if sent.merchant_reference_given().is_none() => {
            let marker = fresh()?;
            sent = sent.merchant_reference(marker.clone());
            Some(marker)
        }
        _ => None,
    };
    Ok((sent, marker))
}

/// Every check a create of `request` makes before sending, nothing sent
/// ([`RefundProvider::preview_create`]); a provider that cannot preview (a hand-written one) is
/// checked by the create itself.
pub(crate) fn check_request(provider: &dyn RefundProvider, request: &CreateRefund) -> refunds::Result<()> {
    match provider.preview_create(request) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == &ErrorKind::Unsupported => Ok(()),
        Err(e) => Err(e),
    }
}

/// The answer of a create or a recovery the journal abandoned at its lease's end: it may have been
/// on the wire.
pub(crate) fn abandoned(provider: &str, what: &str) -> Error {
    Error::new(
        ErrorKind::Timeout,
        Delivery::Ambiguous,
        format!("{what} outran the journal's lease and was abandoned (nothing more of it is sent)"),
    )
    .with_provider(provider)
}

/// The pending create to recover `row` (as the claim found it) with: the one the create's ambiguous
/// answer carried, or, for an attempt whose worker died while it was on the wire, one made from the
/// stored request. Its last attempt ended by the end of the lease it was sent under (the journal
/// abandons a create before then), and no later than now.
pub(crate) fn pending_of(row: &Row, provider: &str, now: i64) -> Result<PendingCreate> {
    if let Some(stored) = &row.pending {
        return Ok(serde_json::from_str(stored)?);
    }
    let sent: CreateRefund = serde_json::from_str(&row.sent)?;
    let started = crate::journal::from_ms(row.started_at.unwrap_or(row.updated_at));
    let ended = crate::journal::from_ms(row.lease_until.map_or(now, |until| until.min(now))).max(started);
    let options = row.provider_options.as_deref().map(serde_json::from_str).transpose()?;
    Ok(PendingCreate::new(sent, provider, started)
        .ended_at(ended)
        .provider_options(options)
        .marker(row.marker.clone()))
}

fn released(row: &Row, now: i64) -> Row {
    Row {
        lease_owner: None,
        lease_until: None,
        updated_at: now,
        ..row.clone()
    }
}

fn settle(row: &Row, now: i64, state: State, answer: &Value) -> Row {
    Row {
        state: state.as_str().into(),
        answer: Some(answer.to_string()),
        ..released(row, now)
    }
}

/// The error as recorded: what the SDK says of it (already scrubbed of the key), never its source.
pub(crate) fn error_json(e: &Error) -> Value {
    json!({
        "error": e.to_string(),
        "kind": format!("{:?}", e.kind()),
        "delivery": format!("{:?}", e.delivery()),
        "http_status": e.http_status(),
        "provider_code": e.provider_code(),
        "request_id": e.request_id(),
    })
}

fn refund_json(refund: &Refund) -> Value {
    serde_json::to_value(refund).unwrap_or_else(|_| json!({ "id": refund.id.as_str() }))
}

fn applied(row: &Row, now: i64, refund: &Refund, evidence: &str, because: String) -> Step {
    let answer = json!({ "refund": refund_json(refund), "evidence": evidence, "because": because });
    Step {
        row: Row {
            refund_id: Some(refund.id.as_str().to_owned()),
            pending: None,
            ..settle(row, now, State::Applied, &answer)
        },
        kind: "applied",
        detail: answer,
    }
}

/// Waits `tries` (1-based) earn: doubling from the base, capped, and never shorter than what the
/// provider asked, itself capped (a server's number never drives a longer wait than the cap).
pub(crate) fn backoff(options: &JournalOptions, tries: u32, asked: Option<Duration>) -> Duration {
    let doubled = options
        .backoff
        .checked_mul(1 << tries.saturating_sub(1).min(16))
        .unwrap_or(options.backoff_cap);
    doubled.max(asked.unwrap_or_default()).min(options.backoff_cap)
}

fn later(now: i64, wait: Duration) -> i64 {
    now.saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX))
}

/// The intent after its create answered.
pub(crate) fn after_create(
    row: &Row,
    call: &PendingCreate,
    result: &refunds::Result<Refund>,
    options: &JournalOptions,
    now: i64,
) -> Step {
    let e = match result {
        Ok(refund) => return applied(row, now, refund, "answer", "the provider answered the create".into()),
        Err(e) => e,
    };
    let detail = error_json(e);
    if let Some(refund) = e.refund() {
        let answer = json!({ "refund": refund_json(refund), "differs": detail });
        return Step {
            row: Row {
                refund_id: Some(refund.id.as_str().to_owned()),
                ..settle(row, now, State::Differs, &answer)
            },
            kind: "differs",
            detail: answer,
        };
    }
    if e.is_ambiguous() {
        // The error's pending create where it carries one, else the call as recorded, ended now. The
        // marker the journal wrote is the create's, whatever the engine could see of it.
        let pending = e
            .pending()
            .cloned()
            .unwrap_or_else(|| call.clone().ended_at(crate::journal::from_ms(now).max(call.started_at)));
        let pending = pending.clone().marker(row.marker.clone().or(pending.marker.clone()));
        let stored = serde_json::to_string(&pending).ok();
        return Step {
            row: Row {
                state: State::Pending.as_str().into(),
                pending: stored,
                tries: 0,
                not_before: later(now, backoff(options, 1, e.retry_after())),
                answer: Some(detail.to_string()),
                ..released(row, now)
            },
            kind: "ambiguous",
            detail,
        };
    }
    let tries = u32::try_from(row.tries).unwrap_or(u32::MAX).saturating_add(1);
    if e.is_retryable() && tries < options.max_tries {
        return Step {
            row: Row {
                state: State::Recorded.as_str().into(),
                tries: i64::from(tries),
                not_before: later(now, backoff(options, tries, e.retry_after())),
                answer: Some(detail.to_string()),
                ..released(row, now)
            },
            kind: "retry",
            detail,
        };
    }
    Step {
        row: settle(row, now, State::Failed, &detail),
        kind: "refused",
        detail,
    }
}

/// The name of a verdict's evidence.
fn evidence_name(evidence: &Evidence) -> &'static str {
    match evidence {
        Evidence::SameKey { .. } => "same_key",
        Evidence::Marker => "marker",
        Evidence::Exclusive => "exclusive",
        Evidence::CompleteWalk => "complete_walk",
        Evidence::Malformed { .. } => "malformed",
        _ => "other",
    }
}

/// The intent after recovery answered about `pending`. "Not applied" opens a new attempt (a new key
/// and marker, recorded before it is sent) while attempts remain, as the recovery recipe says: create
/// it again; a request the provider calls malformed is failed instead, since it would be refused again.
pub(crate) fn after_recovery(
    row: &Row,
    pending: &PendingCreate,
    verdict: &Recovery,
    caps: &Capabilities,
    options: &JournalOptions,
    now: i64,
) -> Result<Step> {
    let step = match verdict {
        Recovery::Applied { refund, evidence } => {
            applied(row, now, refund, evidence_name(evidence), evidence.to_string())
        }
        Recovery::NotApplied { evidence } => {
            let detail = json!({ "verdict": "not_applied", "evidence": evidence_name(evidence), "because": evidence.to_string() });
            let attempt = row.attempt.saturating_add(1);
            if matches!(evidence, Evidence::Malformed { .. }) || attempt > i64::from(options.max_attempts) {
                Step {
                    row: Row {
                        pending: None,
                        ..settle(row, now, State::Failed, &detail)
                    },
                    kind: "verdict",
                    detail,
                }
            } else {
                let request: CreateRefund = serde_json::from_str(&row.request)?;
                let (sent, marker) = attempt_request(&request, caps)?;
                let detail = json!({ "verdict": detail, "attempt": attempt, "sent": sent });
                Step {
                    row: Row {
                        state: State::Recorded.as_str().into(),
                        attempt,
                        tries: 0,
                        sent: serde_json::to_string(&sent)?,
                        marker,
                        started_at: None,
                        pending: None,
                        not_before: now,
                        answer: Some(detail.to_string()),
                        ..released(row, now)
                    },
                    kind: "attempt",
                    detail,
                }
            }
        }
        Recovery::Candidates { refunds, reason } => {
            let ids: Vec<&str> = refunds.iter().map(|r| r.id.as_str()).collect();
            let answer = json!({ "verdict": "candidates", "candidates": ids, "reason": reason });
            Step {
                row: settle(row, now, State::Candidates, &answer),
                kind: "verdict",
                detail: answer,
            }
        }
        _ => {
            let tries = u32::try_from(row.tries).unwrap_or(u32::MAX).saturating_add(1);
            let stored = serde_json::to_string(pending)?;
            let detail = json!({ "verdict": verdict.name(), "because": verdict.to_string(), "tries": tries });
            if tries >= options.max_tries {
                Step {
                    row: Row {
                        pending: Some(stored),
                        tries: i64::from(tries),
                        ..settle(row, now, State::Unknown, &detail)
                    },
                    kind: "verdict",
                    detail,
                }
            } else {
                Step {
                    row: Row {
                        state: State::Pending.as_str().into(),
                        pending: Some(stored),
                        tries: i64::from(tries),
                        not_before: later(now, backoff(options, tries, verdict.retry_after())),
                        answer: Some(detail.to_string()),
                        ..released(row, now)
                    },
                    kind: "verdict",
                    detail,
                }
            }
        }
    };
    Ok(step)
}

/// The intent after a recovery the journal abandoned at its lease's end: unknown for now, tried
/// again after a backoff (a person decides once the tries are used up).
pub(crate) fn after_abandoned_recovery(
    row: &Row,
    pending: &PendingCreate,
    options: &JournalOptions,
    now: i64,
) -> Result<Step> {
    let tries = u32::try_from(row.tries).unwrap_or(u32::MAX).saturating_add(1);
    let stored = serde_json::to_string(pending)?;
    let detail = json!({
        "verdict": "unknown",
        "because": "the recovery outran the journal's lease and was abandoned (nothing more of it is sent)",
        "tries": tries,
    });
    let state = if tries >= options.max_tries {
        State::Unknown
    } else {
        State::Pending
    };
    Ok(Step {
        row: Row {
            state: state.as_str().into(),
            pending: Some(stored),
            tries: i64::from(tries),
            not_before: later(now, backoff(options, tries, None)),
            answer: Some(detail.to_string()),
            ..released(row, now)
        },
        kind: "verdict",
        detail,
    })
}
