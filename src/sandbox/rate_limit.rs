//! A server-side rate limit in front of any skin, as providers enforce one: at most `per_second`
//! requests a second with a burst of one second's worth (GCRA, integer nanoseconds), every request
//! over it answered 429 in the provider's own error shape with `Retry-After` in whole seconds.
//! Nothing is applied for a refused request.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{Ledger, SandboxRequest, SandboxResponse, Skin};

/// How many requests a [`RateLimited`] skin let through and refused.
#[derive(Debug, Clone, Default)]
pub struct RateLimitCount {
    passed: Arc<AtomicU64>,
    refused: Arc<AtomicU64>,
}

impl RateLimitCount {
    /// Requests let through.
    pub fn passed(&self) -> u64 {
        self.passed.load(Ordering::SeqCst)
    }
    /// Requests answered 429.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::SeqCst)
    }
}

/// `inner` behind a limit of `per_second` requests a second.
pub struct RateLimited<S: Skin> {
    inner: S,
    interval: u64,
    tolerance: u64,
    start: Instant,
    /// The theoretical arrival time of the next request, in nanoseconds since `start`.
    next: Mutex<u64>,
    count: RateLimitCount,
}

impl<S: Skin> RateLimited<S> {
    /// Limits `inner` to `per_second` requests a second (at least 1), allowing a burst of that many.
    pub fn new(inner: S, per_second: u32) -> (RateLimited<S>, RateLimitCount) {
        let per_second = u64::from(per_second.max(1));
        let interval = 1_000_000_000 / per_second;
        let count = RateLimitCount::default();
        let skin = RateLimited {
            inner,
            interval,
            tolerance: interval.saturating_mul(per_second - 1),
            start: Instant::now(),
            next: Mutex::new(0),
            count: count.clone(),
        };
        (skin, count)
    }

    /// `None` when the request may pass now, else how long until one may.
    fn admit(&self) -> Option<Duration> {
        let now = u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
        let earliest = next.saturating_sub(self.tolerance);
        if earliest > now {
            return Some(Duration::from_nanos(earliest - now));
        }
        *next = (*next).max(now).saturating_add(self.interval);
        None
    }
}

impl<S: Skin> Skin for RateLimited<S> {
    fn provider(&self) -> &'static str {
        self.inner.provider()
    }

    fn handle(&self, request: &SandboxRequest, ledger: &Ledger) -> SandboxResponse {
        match self.admit() {
            None => {
                self.count.passed.fetch_add(1, Ordering::SeqCst);
                self.inner.handle(request, ledger)
            }
            Some(wait) => {
                self.count.refused.fetch_add(1, Ordering::SeqCst);
                let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                self.inner
                    .error_response(429, "rate limited: too many requests")
                    .with_header("Retry-After", &seconds.max(1).to_string())
            }
        }
    }

    fn error_response(&self, status: u16, message: &str) -> SandboxResponse {
        self.inner.error_response(status, message)
    }

    fn idempotency_key(&self, request: &SandboxRequest) -> Option<String> {
        self.inner.idempotency_key(request)
    }

    fn bookkeeping_read(&self, request: &SandboxRequest) -> bool {
        self.inner.bookkeeping_read(request)
    }

    fn in_progress_response(&self) -> SandboxResponse {
        self.inner.in_progress_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Echo;

    impl Skin for Echo {
        fn provider(&self) -> &'static str {
            "echo"
        }
        fn handle(&self, _: &SandboxRequest, _: &Ledger) -> SandboxResponse {
            SandboxResponse::raw(200, "text/plain", "ok")
        }
        fn error_response(&self, status: u16, message: &str) -> SandboxResponse {
            SandboxResponse::raw(status, "text/plain", message)
        }
    }

    #[test]
    fn a_burst_passes_then_the_excess_is_answered_429_with_retry_after() {
        let (skin, count) = RateLimited::new(Echo, 5);
        let request = SandboxRequest::new(http::Method::GET, "/", http::HeaderMap::new(), Vec::new());
        let ledger = Ledger::new("re_");
        let statuses: Vec<u16> = (0..7).map(|_| skin.handle(&request, &ledger).status).collect();
        assert_eq!(statuses, [200, 200, 200, 200, 200, 429, 429]);
        assert_eq!((count.passed(), count.refused()), (5, 2));
        let refused = skin.handle(&request, &ledger);
        assert!(refused.headers.iter().any(|(n, v)| n == "Retry-After" && v == "1"));
        std::thread::sleep(Duration::from_millis(250));
        assert_eq!(
            skin.handle(&request, &ledger).status,
            200,
            "a token came back after 200 ms"
        );
    }
}
