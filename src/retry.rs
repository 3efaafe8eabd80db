//! When to try again: the retry schedule (full-jitter backoff, `Retry-After` up to a cap) and which
//! failures are worth another attempt. A leaf beside the data types, so that per-call options can
//! carry a schedule without reaching into the transport.

use std::time::Duration;

use crate::error::{Delivery, Error, ErrorKind};

/// Retry schedule: exponential backoff with full jitter, honouring `Retry-After` up to a cap.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Retries after the first attempt (default 2).
    pub max_retries: u32,
    /// First backoff ceiling (default 500 ms); doubles each retry.
    pub base_delay: Duration,
    /// Largest backoff ceiling (default 8 s).
    pub max_delay: Duration,
    /// Longest `Retry-After` the transport waits for (default 30 s); a longer one is returned to the
    /// caller as a `RateLimited` error with [`Error::retry_after`] set.
    pub max_retry_after: Duration,
}

impl RetryPolicy {
    /// The defaults: 2 retries, 0.5 s base, 8 s cap, `Retry-After` up to 30 s.
    pub fn new() -> RetryPolicy {
        RetryPolicy {
            max_retries: 2,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(30),
        }
    }
    /// No retries at all.
    pub fn none() -> RetryPolicy {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::new()
        }
    }
    /// Sets the number of retries.
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }
    /// Sets the base delay.
    pub fn base_delay(mut self, d: Duration) -> Self {
        self.base_delay = d;
        self
    }
    /// Sets the largest backoff.
    pub fn max_delay(mut self, d: Duration) -> Self {
        self.max_delay = d;
        self
    }
    /// Sets the longest `Retry-After` honoured.
    pub fn max_retry_after(mut self, d: Duration) -> Self {
        self.max_retry_after = d;
        self
    }

    /// Whether to retry after `error` on retry number `retry` (0-based), and how long to wait first.
    ///
    /// Retried: 408, 429 and 5xx answers and connection failures, but a request that may have reached the
    /// provider (`Delivery::Ambiguous`) only when it is replay-safe. A `Retry-After` longer than
    /// [`RetryPolicy::max_retry_after`] ends the retries and is left to the caller.
    pub fn next_retry(&self, retry: u32, error: &Error, replay_safe: bool) -> Option<Duration> {
        let may_retry = retry < self.max_retries
            && is_retryable_failure(error)
            && (replay_safe || error.delivery() != Delivery::Ambiguous);
        if !may_retry {
            return None;
        }
        match error.retry_after() {
            Some(wait) if wait > self.max_retry_after => None,
            Some(wait) => Some(wait),
            None => Some(self.backoff(retry)),
        }
    }

    /// Full-jitter backoff before retry number `retry` (0-based): uniform in `[0, min(cap, base·2^retry)]`.
    pub fn backoff(&self, retry: u32) -> Duration {
        let ceiling = self
            .base_delay
            .saturating_mul(1u32 << retry.min(16))
            .min(self.max_delay);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        if nanos == 0 {
            return Duration::ZERO;
        }
        let random = crate::random::random_u64();
        Duration::from_nanos(nanos.checked_add(1).map_or(random, |span| random % span))
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::new()
    }
}

fn is_retryable_failure(error: &Error) -> bool {
    // A broken or stalled connection is worth another attempt even after a 200 status line (the body
    // read failed); whether the request may be re-sent at all is decided by its delivery. A refusal
    // the provider's body calls a rate limit or an outage (whatever its status) passes too.
    if matches!(
        error.kind(),
        ErrorKind::Transport | ErrorKind::Timeout | ErrorKind::RateLimited | ErrorKind::ProviderUnavailable
    ) {
        return true;
    }
    match error.http_status() {
        Some(status) => matches!(status, 408 | 429 | 500..=599) && error.kind() != &ErrorKind::Decode,
        None => false,
    }
}
