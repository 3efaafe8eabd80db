//! The fault plan: what the next requests meet instead of a clean answer.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One injected fault.
///
/// The first five kinds are transport-level and apply to any request. The others model a provider
/// that lies or answers out of step with its own state:
///
/// - [`Fault::SlowCommit`] and [`Fault::AppliedThen`] apply to any request (they matter for creates);
/// - the `List*` kinds ("list lies") rewrite a 2xx `GET` answer whose body is a JSON list (a top-level
///   array, or an object with a top-level array field such as `data`, `items` or `refunds`). A queued
///   list lie waits for such an answer: a request that is not a `GET` leaves it queued, and a `GET` whose
///   answer is not a list puts it back at the head of the queue. A randomly drawn list lie that meets
///   anything else is dropped. List lies are counted only when the body was actually changed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// HTTP 503 in the provider's error shape; nothing applied.
    ServiceUnavailable,
    /// HTTP 429 with `Retry-After` (whole seconds); nothing applied.
    RateLimited {
        /// The wait announced.
        retry_after: Duration,
    },
    /// The connection is closed before anything is applied or answered.
    ConnectionReset,
    /// The request is applied, and the answer is sent only after this delay (longer than the client's
    /// timeout to simulate a timeout).
    Delay(Duration),
    /// The request is applied and the connection is closed without an answer.
    ResponseLost,
    /// The request is applied only after this delay, then answered normally (the client has usually
    /// timed out by then; the commit happens anyway). Until it is applied, a request carrying the same
    /// idempotency key (as [`Skin::idempotency_key`](super::Skin::idempotency_key) reads it) gets the
    /// provider's "in progress" answer ([`Skin::in_progress_response`](super::Skin::in_progress_response))
    /// and nothing else happens.
    SlowCommit(Duration),
    /// The request is applied, and the answer is replaced by this HTTP status in the provider's error
    /// shape ([`Skin::error_response`](super::Skin::error_response)); a 429 carries `Retry-After: 1`.
    /// `AppliedThen(429)` and `AppliedThen(409)` are the provider refusing what it has just done.
    AppliedThen(u16),
    /// Nothing is applied, and the answer is this HTTP status in the provider's error shape
    /// ([`Skin::error_response`](super::Skin::error_response)): a 401 or 403 after a key rotation, a
    /// 404 from another account, any refusal that says nothing about the request itself.
    Refuse(u16),
    /// Nothing is applied, and the answer is the provider's "in progress" answer
    /// ([`Skin::in_progress_response`](super::Skin::in_progress_response)), as if another request with
    /// the same idempotency key were still running.
    InProgress,
    /// List lie: the list's numeric total field (`total`, `total_items`, `total_count`, `count`, and
    /// their camel-case forms) is reported this much higher, and a boolean `has_more`/`hasMore` is
    /// reported `true`.
    ListTotalOverstated(u64),
    /// List lie: the previous list answer on the same path is sent again, unchanged, instead of this
    /// one, so whatever cursor the client derives (a `next` field, or the last item's id) does not
    /// advance. Queued several times, the walk meets the same page over and over.
    ListRepeatCursor,
    /// List lie: the page's last item is left out; every other field (total, cursor, `has_more`) is
    /// kept, so the page is short although more items follow.
    ListShortPage,
    /// List lie: the last item of the previous list answer on the same path is repeated at the head of
    /// this page (when there was none, the page's own first item is doubled).
    ListRepeatItem,
}

impl Fault {
    /// True for the `List*` kinds, which rewrite list answers.
    pub fn is_list_lie(&self) -> bool {
        matches!(
            self,
            Fault::ListTotalOverstated(_) | Fault::ListRepeatCursor | Fault::ListShortPage | Fault::ListRepeatItem
        )
    }
}

/// How many faults of each kind were injected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FaultCounts {
    /// 503s.
    pub service_unavailable: u64,
    /// 429s.
    pub rate_limited: u64,
    /// Resets.
    pub connection_reset: u64,
    /// Delays.
    pub delayed: u64,
    /// Lost responses.
    pub response_lost: u64,
    /// Slow commits ([`Fault::SlowCommit`]).
    pub slow_commit: u64,
    /// Requests applied then answered 429 ([`Fault::AppliedThen`]).
    pub applied_then_429: u64,
    /// Requests applied then answered 409.
    pub applied_then_409: u64,
    /// Requests applied then answered another status.
    pub applied_then_other: u64,
    /// Requests refused with a status ([`Fault::Refuse`]), nothing applied.
    pub refused: u64,
    /// Requests answered "in progress" by the fault plan ([`Fault::InProgress`]), nothing applied.
    pub in_progress: u64,
    /// List answers whose total (or `has_more`) was overstated.
    pub list_total_overstated: u64,
    /// List answers replaced by the previous page (a cursor that does not advance).
    pub list_repeat_cursor: u64,
    /// List answers cut short.
    pub list_short_page: u64,
    /// List answers repeating an item of the previous page.
    pub list_repeat_item: u64,
    /// "In progress" answers sent to a request whose idempotency key belonged to a pending slow
    /// commit. A consequence of [`Fault::SlowCommit`], not a fault of its own: not in [`FaultCounts::total`].
    pub in_progress_answers: u64,
}

impl FaultCounts {
    /// All faults injected (the "in progress" answers are not counted: they follow from slow commits).
    pub fn total(&self) -> u64 {
        self.service_unavailable
            + self.rate_limited
            + self.connection_reset
            + self.delayed
            + self.response_lost
            + self.slow_commit
            + self.applied_then_429
            + self.applied_then_409
            + self.applied_then_other
            + self.refused
            + self.in_progress
            + self.list_lies()
    }

    /// The list lies told.
    pub fn list_lies(&self) -> u64 {
        self.list_total_overstated + self.list_repeat_cursor + self.list_short_page + self.list_repeat_item
    }

    fn count(&mut self, fault: &Fault) {
        match fault {
            Fault::ServiceUnavailable => self.service_unavailable += 1,
            Fault::RateLimited { .. } => self.rate_limited += 1,
            Fault::ConnectionReset => self.connection_reset += 1,
            Fault::Delay(_) => self.delayed += 1,
            Fault::ResponseLost => self.response_lost += 1,
            Fault::SlowCommit(_) => self.slow_commit += 1,
            Fault::AppliedThen(429) => self.applied_then_429 += 1,
            Fault::AppliedThen(409) => self.applied_then_409 += 1,
            Fault::AppliedThen(_) => self.applied_then_other += 1,
            Fault::Refuse(_) => self.refused += 1,
            Fault::InProgress => self.in_progress += 1,
            Fault::ListTotalOverstated(_) => self.list_total_overstated += 1,
            Fault::ListRepeatCursor => self.list_repeat_cursor += 1,
            Fault::ListShortPage => self.list_short_page += 1,
            Fault::ListRepeatItem => self.list_repeat_item += 1,
        }
    }
}

/// A fault the server took for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Taken {
    /// The fault.
    pub(crate) fault: Fault,
    /// It came from the queue (a list lie that found no list goes back there).
    pub(crate) queued: bool,
}

#[derive(Debug, Default)]
struct Plan {
    queued: VecDeque<Fault>,
    random: Option<(u32, Vec<Fault>)>,
    counts: FaultCounts,
}

/// The faults planned for the next requests: a queue first, then an optional random rate.
/// Cheap to clone; clones share the plan.
#[derive(Debug, Clone, Default)]
pub struct FaultPlan {
    plan: Arc<Mutex<Plan>>,
    rng: Arc<AtomicU64>,
}

impl FaultPlan {
    /// No faults.
    pub fn new() -> FaultPlan {
        FaultPlan::default()
    }

    /// The next `times` requests meet `fault` (list lies: the next `times` list answers, see [`Fault`]).
    pub fn push(&self, fault: Fault, times: usize) {
        self.lock().queued.extend(std::iter::repeat_n(fault, times));
    }

    /// After the queue, each request meets one of `kinds` (chosen evenly) with probability
    /// `per_mille`/1000, from a generator seeded with `seed` so runs repeat. Any kind can be drawn; a
    /// list lie drawn for a request whose answer is not a list is dropped (and not counted).
    pub fn random(&self, per_mille: u32, seed: u64, kinds: Vec<Fault>) {
        self.rng.store(seed | 1, Ordering::SeqCst);
        self.lock().random = if kinds.is_empty() {
            None
        } else {
            Some((per_mille.min(1000), kinds))
        };
    }

    /// Removes all planned faults (counts are kept).
    pub fn clear(&self) {
        let mut p = self.lock();
        p.queued.clear();
        p.random = None;
    }

    /// How many faults were injected so far.
    pub fn counts(&self) -> FaultCounts {
        self.lock().counts
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Plan> {
        self.plan.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn next_random(&self) -> u64 {
        // xorshift64*: repeatable, good enough to spread faults.
        let mut x = self.rng.load(Ordering::SeqCst);
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng.store(x, Ordering::SeqCst);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// The fault the next request meets, if any, as if it were a `GET` (for tests of the plan).
    #[cfg(test)]
    pub(crate) fn take(&self) -> Option<Fault> {
        let taken = self.take_for(true)?;
        if taken.fault.is_list_lie() {
            self.count(&taken.fault);
        }
        Some(taken.fault)
    }

    /// The fault the next request meets, if any (called once per request by the server). `is_get`
    /// says whether the request is a `GET`: a queued list lie stays queued for anything else, a drawn
    /// one is dropped. Every kind but the list lies is counted here; the server counts a list lie
    /// with [`FaultPlan::count`] once it changed an answer.
    pub(crate) fn take_for(&self, is_get: bool) -> Option<Taken> {
        let mut p = self.lock();
        let taken = match p.queued.front() {
            Some(f) if f.is_list_lie() && !is_get => None,
            Some(_) => p.queued.pop_front().map(|fault| Taken { fault, queued: true }),
            None => match &p.random {
                Some((per_mille, kinds)) => {
                    let (per_mille, kinds) = (*per_mille, kinds.clone());
                    drop(p);
                    let roll = self.next_random();
                    // The high bits of xorshift64* are the well-mixed ones.
                    let hit = ((roll >> 40) % 1000) < u64::from(per_mille);
                    let pick = ((roll >> 20) & 0xfffff) as usize % kinds.len();
                    p = self.lock();
                    hit.then(|| kinds[pick].clone())
                        .filter(|f| is_get || !f.is_list_lie())
                        .map(|fault| Taken { fault, queued: false })
                }
                None => None,
            },
        };
        if let Some(t) = &taken {
            if !t.fault.is_list_lie() {
                p.counts.count(&t.fault);
            }
        }
        taken
    }

    /// Counts a fault that took effect (the server calls it for list lies).
    pub(crate) fn count(&self, fault: &Fault) {
        self.lock().counts.count(fault);
    }

    /// Counts an "in progress" answer (a request meeting a pending slow commit's key).
    pub(crate) fn count_in_progress(&self) {
        self.lock().counts.in_progress_answers += 1;
    }

    /// Puts a queued list lie that found no list back at the head of the queue.
    pub(crate) fn requeue(&self, fault: Fault) {
        self.lock().queued.push_front(fault);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_then_seeded_random_rate() {
        let plan = FaultPlan::new();
        plan.push(Fault::ServiceUnavailable, 2);
        assert_eq!(plan.take(), Some(Fault::ServiceUnavailable));
        assert_eq!(plan.take(), Some(Fault::ServiceUnavailable));
        assert_eq!(plan.take(), None);
        plan.random(300, 42, vec![Fault::ConnectionReset, Fault::ResponseLost]);
        let hits = (0..10_000).filter(|_| plan.take().is_some()).count();
        assert!((2_700..3_300).contains(&hits), "about 30%: {hits}");
        assert_eq!(plan.counts().total(), 2 + hits as u64);
        plan.clear();
        assert_eq!(plan.take(), None);
    }

    #[test]
    fn queued_list_lies_wait_for_a_get() {
        let plan = FaultPlan::new();
        plan.push(Fault::ListShortPage, 1);
        plan.push(Fault::AppliedThen(429), 1);
        assert_eq!(plan.take_for(false), None, "a POST leaves the list lie queued");
        let taken = plan.take_for(true).expect("a GET takes it");
        assert_eq!(
            taken,
            Taken {
                fault: Fault::ListShortPage,
                queued: true
            }
        );
        assert_eq!(plan.counts().total(), 0, "a list lie counts only once told");
        plan.requeue(taken.fault);
        assert_eq!(plan.take_for(true).map(|t| t.fault), Some(Fault::ListShortPage));
        plan.count(&Fault::ListShortPage);
        assert_eq!(plan.take_for(false).map(|t| t.fault), Some(Fault::AppliedThen(429)));
        let c = plan.counts();
        assert_eq!((c.list_short_page, c.applied_then_429, c.total()), (1, 1, 2));
    }

    #[test]
    fn random_plans_draw_the_new_kinds() {
        let plan = FaultPlan::new();
        plan.random(
            1000,
            7,
            vec![
                Fault::SlowCommit(Duration::from_millis(1)),
                Fault::AppliedThen(429),
                Fault::AppliedThen(409),
                Fault::AppliedThen(500),
                Fault::ListRepeatCursor,
            ],
        );
        let mut lies = 0;
        for _ in 0..1_000 {
            match plan.take_for(false) {
                Some(t) => assert!(!t.fault.is_list_lie() && !t.queued),
                None => lies += 1,
            }
        }
        let c = plan.counts();
        assert!(c.slow_commit > 150 && c.applied_then_429 > 150, "{c:?}");
        assert!(c.applied_then_409 > 150 && c.applied_then_other > 150, "{c:?}");
        assert!(lies > 150, "list lies drawn for a POST are dropped: {lies}");
        assert_eq!(c.total(), 1_000 - lies);
        let drawn = (0..1_000)
            .filter_map(|_| plan.take_for(true))
            .filter(|t| t.fault.is_list_lie())
            .count();
        assert!(drawn > 150, "{drawn}");
    }
}
