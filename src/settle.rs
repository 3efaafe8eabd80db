//! Waiting for a refund to finish: polling with backoff and jitter until a final status or a deadline.

use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use crate::error::{Delivery, Error, ErrorKind, Result};
use crate::ids::RefundId;
use crate::model::Refund;
use crate::provider::RefundProvider;

/// How [`SettleExt::wait_until_final`] polls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct WaitOptions {
    /// How long to wait in all (default 5 min).
    pub deadline: Duration,
    /// The first pause between polls (default 1 s); it doubles up to `max_interval`.
    pub first_interval: Duration,
    /// The longest pause between polls (default 30 s).
    pub max_interval: Duration,
}

impl WaitOptions {
    /// The defaults: 5 min in all, polls from 1 s apart up to 30 s apart.
    pub fn new() -> WaitOptions {
        WaitOptions {
            deadline: Duration::from_secs(300),
            first_interval: Duration::from_secs(1),
            max_interval: Duration::from_secs(30),
        }
    }
    /// Sets the deadline.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }
    /// Sets the first pause.
    pub fn first_interval(mut self, interval: Duration) -> Self {
        self.first_interval = interval;
        self
    }
    /// Sets the longest pause.
    pub fn max_interval(mut self, interval: Duration) -> Self {
        self.max_interval = interval;
        self
    }
}

impl Default for WaitOptions {
    fn default() -> Self {
        WaitOptions::new()
    }
}

/// Settlement for every [`RefundProvider`] that retrieves refunds.
#[async_trait]
pub trait SettleExt: RefundProvider {
    /// Polls the refund until its status is final or `options.deadline` passes, and returns the last
    /// refund seen (check [`crate::RefundStatus::is_terminal`]: at the deadline it may still be pending).
    ///
    /// Pauses double from `first_interval` to `max_interval` with jitter (half to all of the pause),
    /// a `Retry-After` from the provider is honoured, transient failures are polled through, and a
    /// permanent one (not found, unauthorized) is returned at once. If the deadline passes before any
    /// refund was read, the last failure is returned (a `Timeout` if there was none).
    async fn wait_until_final(&self, id: &RefundId, options: WaitOptions) -> Result<Refund> {
        let deadline = Instant::from_std(crate::adapter::instant_after(options.deadline));
        let mut interval = options.first_interval;
        let mut last: Option<Refund> = None;
        let mut failure: Option<Error> = None;
        loop {
            let mut pause = jittered(interval);
            match self.get_refund(id).await {
                Ok(refund) if refund.status.is_terminal() => return Ok(refund),
                Ok(refund) => last = Some(refund),
                Err(e) if e.kind().is_transient() => {
                    // A `Retry-After` is honoured, but never past the longest pause asked for: no
                    // wait is driven by a number the server sends.
                    if let Some(wait) = e.retry_after() {
                        pause = pause.max(wait.min(options.max_interval));
                    }
                    failure = Some(e);
                }
                Err(e) => return Err(e),
            }
            let now = Instant::now();
            if now.checked_add(pause).is_none_or(|end| end >= deadline) {
                if now < deadline {
                    tokio::time::sleep_until(deadline).await;
                    if let Ok(refund) = self.get_refund(id).await {
                        return Ok(refund);
                    }
                }
                return match (last, failure) {
                    (Some(refund), _) => Ok(refund),
                    (None, Some(e)) => Err(e),
                    (None, None) => Err(Error::new(ErrorKind::Timeout, Delivery::NotSent, "deadline passed")
                        .with_provider(self.info().id)),
                };
            }
            tokio::time::sleep(pause).await;
            interval = interval.saturating_mul(2).min(options.max_interval);
        }
    }
}

impl<P: RefundProvider + ?Sized> SettleExt for P {}

fn jittered(interval: Duration) -> Duration {
    let nanos = u64::try_from(interval.as_nanos()).unwrap_or(u64::MAX);
    let half = nanos / 2;
    Duration::from_nanos(half + crate::random::random_u64() % (nanos - half + 1))
}
