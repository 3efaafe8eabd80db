//! The sandbox's event log, derived from the ledger: for every refund a `refund.created` at its
//! creation (the refund as it was then: `pending`), and once its status moved a `refund.updated` and,
//! for a final status, `refund.succeeded` or `refund.failed`, at its last change (the names are the
//! vendor client's `EventType`; which of them Bias sends for one change is an assumption). Ids are
//! `event_<refund id>_<action>`.
//!
//! `GET /v1/events` lists them newest first (`limit`, `starting_after`, `ending_before`, `filters`
//! on `created_at`, `for`, `object` and `type`); `GET /v1/events/{id}` reads one;
//! `GET /v1/events?stream=true` streams the events that happen after the connection opened (events
//! already in the log are for the list), one JSON object per line, a space as keep-alive, and ends
//! after `limit` events when given. Its `Date` header is the sandbox clock, so that a client's
//! catch-up floor and the events' `created_at` share one clock.

use std::collections::HashSet;
use std::time::Duration;

use refunds::RefundStatus;
use refunds::sandbox::{Call, Ledger, SandboxResponse};
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::{error, invalid, wire};
use crate::wire::{WireEventFilters, WireList, unix_millis};

/// How often a stream looks for new events.
const POLL: Duration = Duration::from_millis(20);

/// One event of the log, with what filters look at.
struct Event {
    id: String,
    created_ms: i64,
    event_type: &'static str,
    refund: String,
    body: Value,
}

/// Every event the ledger's refunds made, oldest first.
fn log(ledger: &Ledger) -> Vec<Event> {
    let mut events = Vec::new();
    for (n, record) in ledger.refunds().iter().enumerate() {
        let created = wire(record, &RefundStatus::Pending);
        let created_value = serde_json::to_value(&created).unwrap_or_default();
        let mut push = |action: &'static str, at: OffsetDateTime, state: Value, previous: Value| {
            let created_ms = unix_millis(at).unwrap_or_default();
            let id = format!("event_{}_{}", record.id, action.trim_start_matches("refund."));
            let body = json!({"object": "event", "live": false, "id": id, "created_at": created_ms,
                "previous_state": previous, "state": state, "request": null, "type": action, "context": null});
            events.push((
                created_ms,
                n,
                Event {
                    id,
                    created_ms,
                    event_type: action,
                    refund: record.id.clone(),
                    body,
                },
            ));
        };
        push("refund.created", record.created_at, created_value.clone(), Value::Null);
        if record.status != RefundStatus::Pending {
            let now = serde_json::to_value(wire(record, &record.status)).unwrap_or_default();
            push("refund.updated", record.updated_at, now.clone(), created_value.clone());
            let last = match record.status {
                RefundStatus::Succeeded => Some("refund.succeeded"),
                RefundStatus::Failed => Some("refund.failed"),
                _ => None,
            };
            if let Some(action) = last {
                push(action, record.updated_at, now, created_value);
            }
        }
    }
    events.sort_by_key(|(at, n, _)| (*at, *n));
    events.into_iter().map(|(_, _, event)| event).collect()
}

fn filters(call: &Call<'_>) -> Result<WireEventFilters, SandboxResponse> {
    match call.request.query_param("filters") {
        None => Ok(WireEventFilters::default()),
        Some(text) => serde_json::from_str(text)
            .map_err(|e| invalid("parameter_invalid", &format!("filters: {e}"), Some("filters"))),
    }
}

fn matches(filters: &WireEventFilters, event: &Event) -> bool {
    let object = "refund".to_owned();
    filters
        .created_at
        .as_ref()
        .is_none_or(|c| c.holds(Some(&event.created_ms)))
        && filters.object.as_ref().is_none_or(|c| c.holds(Some(&object)))
        && filters
            .event_type
            .as_ref()
            .is_none_or(|c| c.holds(Some(&event.event_type.to_owned())))
        && filters.for_object.as_ref().is_none_or(|c| c.holds(Some(&event.refund)))
}

fn limit(call: &Call<'_>, default: u32) -> Result<u32, SandboxResponse> {
    match call.request.query_param("limit") {
        None => Ok(default),
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| invalid("parameter_invalid", "limit must be from 1 to 1000", Some("limit"))),
    }
}

/// `GET /v1/events`: a page, newest first.
pub(super) fn list(call: &Call<'_>) -> SandboxResponse {
    let (filters, limit) = match (filters(call), limit(call, 50)) {
        (Ok(filters), Ok(limit)) => (filters, limit as usize),
        (Err(answer), _) | (_, Err(answer)) => return answer,
    };
    let mut all: Vec<Event> = log(call.ledger).into_iter().filter(|e| matches(&filters, e)).collect();
    all.reverse();
    let cursor = |name| call.request.query_param(name).map(|id| (name, id));
    let (start, end, backwards) = match cursor("starting_after").or_else(|| cursor("ending_before")) {
        None => (0, limit.min(all.len()), false),
        Some((name, id)) => {
            let Some(at) = all.iter().position(|e| e.id == id) else {
                return invalid("resource_missing", &format!("No such event: {id}"), Some(name));
            };
            match name {
                "starting_after" => (at + 1, (at + 1).saturating_add(limit).min(all.len()), false),
                _ => (at.saturating_sub(limit), at, true),
            }
        }
    };
    let has_more = if backwards { start > 0 } else { end < all.len() };
    let items: Vec<Value> = all.drain(start..end).map(|e| e.body).collect();
    SandboxResponse::json(
        200,
        &WireList {
            object: Some("list".to_owned()),
            has_more: Some(has_more),
            items,
        },
    )
}

/// `GET /v1/events/{id}`.
pub(super) fn one(call: &Call<'_>, id: &str) -> SandboxResponse {
    match log(call.ledger).into_iter().find(|e| e.id == id) {
        Some(event) => SandboxResponse::json(200, &event.body),
        None => error(
            404,
            "invalid_request_error",
            Some("resource_missing"),
            "No such event",
            Some("id"),
        ),
    }
}

/// An HTTP `Date` value (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn http_date(at: OffsetDateTime) -> String {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    at.to_offset(time::UtcOffset::UTC).format(format).unwrap_or_default()
}

/// `GET /v1/events?stream=true`: the events from now on, as they happen.
pub(super) fn stream(call: &Call<'_>, keep_alive: Duration) -> SandboxResponse {
    let (filters, limit) = match (filters(call), limit(call, u32::MAX)) {
        (Ok(filters), Ok(limit)) => (filters, limit),
        (Err(answer), _) | (_, Err(answer)) => return answer,
    };
    let ledger = call.ledger.clone();
    let mut sent: HashSet<String> = log(&ledger).into_iter().map(|e| e.id).collect();
    let (answer, writer) = SandboxResponse::streaming(200, "application/x-ndjson");
    let answer = answer.with_header("date", &http_date(ledger.now()));
    tokio::spawn(async move {
        let mut count = 0u32;
        let mut quiet = Duration::ZERO;
        if !writer.send(" ").await {
            return;
        }
        while count < limit && !writer.is_closed() {
            let fresh: Vec<Event> = log(&ledger).into_iter().filter(|e| !sent.contains(&e.id)).collect();
            for event in fresh {
                sent.insert(event.id.clone());
                if count >= limit || !matches(&filters, &event) {
                    continue;
                }
                if !writer.send(format!("{}\n", event.body)).await {
                    return;
                }
                count += 1;
                quiet = Duration::ZERO;
            }
            if count >= limit {
                break;
            }
            tokio::time::sleep(POLL).await;
            quiet += POLL;
            if quiet >= keep_alive {
                quiet = Duration::ZERO;
                if !writer.send(" ").await {
                    return;
                }
            }
        }
    });
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates() {
        let at = time::macros::datetime!(1994-11-06 08:49:37 UTC);
        assert_eq!(http_date(at), "Sun, 06 Nov 1994 08:49:37 GMT");
    }

    #[test]
    fn the_log_follows_the_ledger() {
        let ledger = Ledger::new("re_");
        ledger.seed_payment("pay_1", refunds::Money::from_minor(500, refunds::Currency::USD));
        let mut draft = refunds::sandbox::RefundDraft::new("pay_1");
        draft.amount_minor = Some(100);
        ledger.create_refund(draft).unwrap();
        assert_eq!(log(&ledger).len(), 1);
        ledger.advance(Duration::from_secs(5));
        ledger.settle_all();
        let events = log(&ledger);
        let kinds: Vec<&str> = events.iter().map(|e| e.event_type).collect();
        assert_eq!(kinds, ["refund.created", "refund.updated", "refund.succeeded"]);
        assert_eq!(events[1].body["previous_state"]["status"], "pending");
        assert_eq!(events[2].created_ms - events[0].created_ms, 5_000);
    }
}
