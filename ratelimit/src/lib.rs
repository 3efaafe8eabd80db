//! # refunds-ratelimit
//!
//! A per-account rate limit for any [`RefundProvider`]: wrap one client, and every call made through
//! the wrapper (creates, gets, list pages, recovery's re-sends and look-ups) shares one limiter.
//!
//! - **A steady rate**: at most `per_second` calls a second (GCRA, [governor]), evenly spaced by
//!   default (a burst of one), so a provider that counts over short windows never sees more.
//! - **A pause on 429**: a call answered "rate limited" (after the client's own retries) pauses every
//!   call of the account for the provider's `Retry-After`, capped by [`Limits::max_pause`] (a server's
//!   number never drives a longer wait), or for a doubling backoff where it names none; and until a
//!   call succeeds again each call waits one more interval per 429 seen: the account slows down.
//! - **Calls in flight bounded** by [`Limits::concurrency`].
//!
//! ```no_run
//! # fn wrap(client: std::sync::Arc<dyn refunds::RefundProvider>) {
//! use refunds_ratelimit::{Limits, RateLimited};
//! let limited = std::sync::Arc::new(RateLimited::new(client, Limits::per_second(50)));
//! // Use `limited` wherever the client was used: it is a RefundProvider.
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use refunds::{
    CallOptions, CreateRefund, ErrorKind, ListRefunds, Page, PaymentRef, PendingCreate, ProviderInfo, Refund, RefundId,
    RefundProvider, Resent, Result,
};
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// An account's limits.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Calls a second.
    pub per_second: NonZeroU32,
    /// Calls that may go at once after a quiet spell (default 1: evenly spaced).
    pub burst: NonZeroU32,
    /// Calls in flight at once (default 8).
    pub concurrency: usize,
    /// The longest pause after a 429, whatever `Retry-After` says (default 60 s).
    pub max_pause: Duration,
    /// The first pause after a 429 that names no wait (default 1 s), doubled each 429 in a row.
    pub first_pause: Duration,
}

impl Limits {
    /// `per_second` calls a second (at least 1), evenly spaced, 8 in flight.
    pub fn per_second(per_second: u32) -> Limits {
        Limits {
            per_second: NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN),
            burst: NonZeroU32::MIN,
            concurrency: 8,
            max_pause: Duration::from_secs(60),
            first_pause: Duration::from_secs(1),
        }
    }
    /// Sets the burst (at least 1).
    pub fn burst(mut self, burst: u32) -> Self {
        self.burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        self
    }
    /// Sets the calls in flight (at least 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }
    /// Sets the longest pause after a 429.
    pub fn max_pause(mut self, cap: Duration) -> Self {
        self.max_pause = cap;
        self
    }
    /// Sets the first pause after a 429 that names no wait.
    pub fn first_pause(mut self, first: Duration) -> Self {
        self.first_pause = first;
        self
    }
}

/// What the limiter saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateStats {
    /// Calls made.
    pub calls: u64,
    /// Calls answered "rate limited".
    pub rate_limited: u64,
    /// Time spent paused after 429s, in milliseconds (summed over the pauses set).
    pub paused_ms: u64,
}

#[derive(Debug, Default)]
struct Backoff {
    until: Option<Instant>,
    strikes: u32,
}

/// A [`RefundProvider`] behind an account's [`Limits`].
pub struct RateLimited {
    inner: Arc<dyn RefundProvider>,
    limits: Limits,
    limiter: DefaultDirectRateLimiter,
    in_flight: Semaphore,
    backoff: Mutex<Backoff>,
    calls: AtomicU64,
    rate_limited: AtomicU64,
    paused_ms: AtomicU64,
}

impl fmt::Debug for RateLimited {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimited")
            .field("inner", &self.inner)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl RateLimited {
    /// `inner` behind `limits`.
    pub fn new(inner: Arc<dyn RefundProvider>, limits: Limits) -> RateLimited {
        let quota = Quota::per_second(limits.per_second).allow_burst(limits.burst);
        RateLimited {
            inner,
            limiter: RateLimiter::direct(quota),
            in_flight: Semaphore::new(limits.concurrency.max(1)),
            limits,
            backoff: Mutex::default(),
            calls: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
            paused_ms: AtomicU64::new(0),
        }
    }

    /// The client behind the limit.
    pub fn inner(&self) -> &Arc<dyn RefundProvider> {
        &self.inner
    }

    /// What the limiter saw so far.
    pub fn stats(&self) -> RateStats {
        RateStats {
            calls: self.calls.load(Ordering::Relaxed),
            rate_limited: self.rate_limited.load(Ordering::Relaxed),
            paused_ms: self.paused_ms.load(Ordering::Relaxed),
        }
    }

    fn backoff(&self) -> std::sync::MutexGuard<'_, Backoff> {
        self.backoff.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One interval of the steady rate.
    fn interval(&self) -> Duration {
        Duration::from_secs(1) / self.limits.per_second.get()
    }

    /// Runs `call` once a slot in flight, the end of any pause and the rate allow it, and learns from
    /// its answer.
    async fn call<T>(&self, call: impl Future<Output = Result<T>>) -> Result<T> {
        let _slot = self.in_flight.acquire().await;
        loop {
            let until = self.backoff().until;
            match until {
                Some(until) if until > Instant::now() => tokio::time::sleep_until(until).await,
                _ => break,
            }
        }
        self.limiter.until_ready().await;
        let strikes = self.backoff().strikes.min(8);
        if strikes > 0 {
            tokio::time::sleep(self.interval() * strikes).await;
        }
        self.calls.fetch_add(1, Ordering::Relaxed);
        let result = call.await;
        self.learn(&result);
        result
    }

    fn learn<T>(&self, result: &Result<T>) {
        let e = match result {
            Ok(_) => {
                self.backoff().strikes = 0;
                return;
            }
            Err(e) if e.kind() == &ErrorKind::RateLimited || e.http_status() == Some(429) => e,
            Err(_) => return,
        };
        self.rate_limited.fetch_add(1, Ordering::Relaxed);
        let mut backoff = self.backoff();
        backoff.strikes = backoff.strikes.saturating_add(1);
        let doubled = self
            .limits
            .first_pause
            .checked_mul(1 << (backoff.strikes - 1).min(16))
            .unwrap_or(self.limits.max_pause);
        // `max_pause` is configuration: capped at a day too, and the addition checked.
        let pause = e
            .retry_after()
            .unwrap_or(doubled)
            .min(self.limits.max_pause)
            .min(Duration::from_secs(86_400));
        let now = Instant::now();
        let until = now.checked_add(pause).unwrap_or(now);
        if backoff.until.is_none_or(|current| current < until) {
            backoff.until = Some(until);
            let ms = u64::try_from(pause.as_millis()).unwrap_or(u64::MAX);
            self.paused_ms.fetch_add(ms, Ordering::Relaxed);
        }
    }
}

#[async_trait]
impl RefundProvider for RateLimited {
    fn info(&self) -> &ProviderInfo {
        self.inner.info()
    }

    async fn create_refund(&self, request: &CreateRefund) -> Result<Refund> {
        self.call(self.inner.create_refund(request)).await
    }

    async fn get_refund(&self, id: &RefundId) -> Result<Refund> {
        self.call(self.inner.get_refund(id)).await
    }

    async fn list_refunds(&self, request: &ListRefunds) -> Result<Page<Refund>> {
        self.call(self.inner.list_refunds(request)).await
    }

    async fn create_refund_with(&self, request: &CreateRefund, options: &CallOptions) -> Result<Refund> {
        self.call(self.inner.create_refund_with(request, options)).await
    }

    async fn get_refund_with(&self, id: &RefundId, options: &CallOptions) -> Result<Refund> {
        self.call(self.inner.get_refund_with(id, options)).await
    }

    async fn list_refunds_with(&self, request: &ListRefunds, options: &CallOptions) -> Result<Page<Refund>> {
        self.call(self.inner.list_refunds_with(request, options)).await
    }

    async fn get_refund_by_payment(&self, payment: &PaymentRef) -> Result<Refund> {
        self.call(self.inner.get_refund_by_payment(payment)).await
    }

    async fn resend_pending(&self, pending: &PendingCreate) -> Result<Resent> {
        self.call(self.inner.resend_pending(pending)).await
    }

    async fn cancel_refund(&self, id: &RefundId) -> Result<Refund> {
        self.call(self.inner.cancel_refund(id)).await
    }

    // Nothing is sent, so nothing is limited.
    fn preview_create(&self, request: &CreateRefund) -> Result<refunds::RequestPreview> {
        self.inner.preview_create(request)
    }

    async fn update_refund_metadata(
        &self,
        id: &RefundId,
        metadata: &std::collections::BTreeMap<String, String>,
    ) -> Result<Refund> {
        self.call(self.inner.update_refund_metadata(id, metadata)).await
    }
}
