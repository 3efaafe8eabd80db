//! The fault plan: what the next requests meet instead of a clean answer.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One injected fault.
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
}

impl FaultCounts {
    /// All faults.
    pub fn total(&self) -> u64 {
        self.service_unavailable + self.rate_limited + self.connection_reset + self.delayed + self.response_lost
    }
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

    /// The next `times` requests meet `fault`.
    pub fn push(&self, fault: Fault, times: usize) {
        self.lock().queued.extend(std::iter::repeat_n(fault, times));
    }

    /// After the queue, each request meets one of `kinds` (chosen evenly) with probability
    /// `per_mille`/1000, from a generator seeded with `seed` so runs repeat.
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

    /// The fault the next request meets, if any (called once per request by the server).
    pub(crate) fn take(&self) -> Option<Fault> {
        let mut p = self.lock();
        let fault = match p.queued.pop_front() {
            Some(f) => Some(f),
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
                }
                None => None,
            },
        };
        if let Some(f) = &fault {
            let c = &mut p.counts;
            match f {
                Fault::ServiceUnavailable => c.service_unavailable += 1,
                Fault::RateLimited { .. } => c.rate_limited += 1,
                Fault::ConnectionReset => c.connection_reset += 1,
                Fault::Delay(_) => c.delayed += 1,
                Fault::ResponseLost => c.response_lost += 1,
            }
        }
        fault
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
}
