//! The transport's side of trying again: `Retry-After` read, deadlines as instants, and the verdict
//! of a call once any attempt may have been applied (the schedule itself is `crate::retry`).

use std::time::{Duration, Instant};

use crate::error::{Delivery, Error};

/// Parses `Retry-After` in seconds (`"2"`) or HTTP-date (`"Wed, 21 Oct 2015 07:28:00 GMT"`) form.
pub fn parse_retry_after(value: &str, now: time::OffsetDateTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let at = time::PrimitiveDateTime::parse(value, format).ok()?.assume_utc();
    let wait = at - now;
    Some(if wait.is_negative() {
        Duration::ZERO
    } else {
        wait.unsigned_abs()
    })
}

/// The instant `after` from now; a duration past what the clock can hold (a configured timeout of
/// `u64::MAX` seconds, say) is as good as a century.
pub(crate) fn instant_after(after: Duration) -> Instant {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
    let now = Instant::now();
    now.checked_add(after)
        .or_else(|| now.checked_add(CENTURY))
        .unwrap_or(now)
}

/// Once any attempt may have been applied, so may the call: later answers (a 429, a 409, a refused
/// connection, a 400) do not undo it.
pub fn whole_call_verdict(error: Error, may_be_applied: bool) -> Error {
    if may_be_applied && error.delivery() != Delivery::Ambiguous {
        error.with_delivery(Delivery::Ambiguous)
    } else {
        error
    }
}
