//! After a sequence: what the ledger holds, set against what the application was told, call by call.
//!
//! Each refund the application's creates made is named by the call that made it: by the tag the
//! create carried (a metadata entry or the reason), or by its idempotency key where nothing else is
//! carried (the key of a pending create, or of a refund a create or recovery answered with). So a
//! wrong verdict is seen exactly, not inferred from counts.

use std::collections::{HashMap, HashSet};

use refunds::sandbox::RefundRecord;

use super::report::PropertyReport;
use super::world::{CallEnd, CallId, CallRecord, OTHER_PREFIX, tag_of};

/// Sets `calls` (every intent's creates) against the ledger's `records`; counts into `report`.
pub(crate) fn reconcile(records: &[RefundRecord], calls: &[CallRecord], report: &mut PropertyReport) {
    let by_id: HashMap<&str, &RefundRecord> = records.iter().map(|r| (r.id.as_str(), r)).collect();
    let owners = key_owners(&by_id, calls, report);
    let mut made: HashMap<CallId, Vec<&str>> = HashMap::new();
    for record in records {
        if record.id.starts_with(OTHER_PREFIX) {
            continue;
        }
        let origin = tag_of(record).or_else(|| record.idempotency_key.as_deref().and_then(|k| owners.get(k).copied()));
        match origin {
            Some(call) => made.entry(call).or_default().push(record.id.as_str()),
            // A refund no create the application knows of made: it will never book it.
            None => report.silent_losses += 1,
        }
    }
    let mut claimed: HashSet<&str> = HashSet::new();
    let mut per_intent: HashMap<usize, usize> = HashMap::new();
    for call in calls {
        let own = made.get(&call.id).map(Vec::as_slice).unwrap_or_default();
        *per_intent.entry(call.id.intent).or_default() += own.len();
        match &call.end {
            CallEnd::Booked(r) | CallEnd::Mismatched(r) | CallEnd::Applied(r) => {
                let id = r.id.as_str();
                if !own.contains(&id) || !claimed.insert(id) {
                    eprintln!("wrong verdict: {:?} claims {id}, made by it: {own:?}", call.id);
                    report.wrong_verdicts += 1;
                }
            }
            CallEnd::Refused | CallEnd::NotApplied => {
                if !own.is_empty() {
                    eprintln!("silent loss: {:?} ended {:?}, yet made {own:?}", call.id, call.end);
                    report.silent_losses += own.len();
                }
            }
            CallEnd::Escalated => {}
        }
    }
    for (intent, n) in per_intent {
        if n > 1 {
            eprintln!("duplicate: intent {intent} made {n} refunds");
            report.duplicates += n - 1;
        }
    }
}

/// Which call each known idempotency key belongs to: pending creates' keys, and the keys of the
/// refunds the application was answered with. A key claimed by two calls is a wrong verdict.
fn key_owners<'a>(
    by_id: &HashMap<&str, &'a RefundRecord>,
    calls: &[CallRecord],
    report: &mut PropertyReport,
) -> HashMap<&'a str, CallId> {
    let mut owners: HashMap<&'a str, CallId> = HashMap::new();
    for call in calls {
        let learned = match &call.end {
            CallEnd::Booked(r) | CallEnd::Mismatched(r) | CallEnd::Applied(r) => by_id
                .get(r.id.as_str())
                .and_then(|record| record.idempotency_key.as_deref()),
            _ => None,
        };
        let pending = call.key.as_deref().and_then(|k| {
            by_id
                .values()
                .find_map(|r| r.idempotency_key.as_deref().filter(|rk| *rk == k))
        });
        for key in [learned, pending].into_iter().flatten() {
            if let Some(other) = owners.insert(key, call.id).filter(|o| *o != call.id) {
                eprintln!("wrong verdict: key {key} belongs to {other:?} and {:?}", call.id);
                report.wrong_verdicts += 1;
            }
        }
    }
    owners
}
