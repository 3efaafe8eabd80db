//! # refunds-ratelimit
//!
//! A per-account rate limit for any [`RefundProvider`]: wrap one client, and every HTTP request made
//! through the wrapper (creates, gets, list pages, recovery's re-sends and look-ups) shares one limiter.
//!
//! - **Requests, not calls**: the wrapper calls the client with its own retries switched off
//!   (`CallOptions` with a retry policy of zero retries) and retries itself, one permit per attempt,
//!   so a call the client would have sent three times counts three times, and a 429 inside it pauses
//!   the account. It retries what the client would have retried ([`refunds::Error::is_retryable`]:
//!   never an error that carries a pending create, which is recovery's to resolve), as often as the
//!   call's retry policy allows (the client's default where the call names none). A client that
//!   cannot take per-call overrides (a hand-written `RefundProvider`) is called as it is, its own
//!   retries inside one permit.
//! - **A steady rate**: at most `per_second` requests a second (GCRA, [governor]), evenly spaced by
//!   default (a burst of one), so a provider that counts over short windows never sees more.
//! - **A pause on 429**: a request answered "rate limited" pauses every request of the account for the
//!   provider's `Retry-After`, capped by [`Limits::max_pause`] (a server's number never drives a longer
//!   wait), or for a doubling backoff where it names none; and until a request succeeds again each
//!   one waits one more interval per 429 seen: the account slows down.
//! - **Requests in flight bounded** by [`Limits::concurrency`].
//! - **A permit taken ahead** ([`RateLimited::permit`]): a caller that must not spend time in the
//!   queue after a decision (the journal, which stamps a lease before it sends) waits for its permit
//!   first, then sends on it with [`RateLimited::resend_pending_on`].
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
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use refunds::adapter::{attempt_may_have_applied, whole_call_verdict};
use refunds::{
    CallOptions, CreateRefund, Error, ErrorKind, IdempotencySupport, ListRefunds, Page, PaymentRef, PendingCreate,
    ProviderInfo, Refund, RefundId, RefundProvider, Resent, Result, RetryPolicy,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
/// An account's limits.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Requests a second.
    pub per_second: NonZeroU32,
    /// Requests that may go at once after a quiet spell (default 1: evenly spaced).
    pub burst: NonZeroU32,
    /// Requests in flight at once (default 8).
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
    /// Requests sent (every attempt, the wrapper's retries included).
    pub calls: u64,
    /// Requests answered "rate limited".
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
    in_flight: Arc<Semaphore>,
    /// Set once the client refused a per-call retry override: it is called as it is from then on.
    plain: AtomicBool,
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
            in_flight: Arc::new(Semaphore::new(limits.concurrency.max(1))),
            plain: AtomicBool::new(false),
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

    /// Waits until one request of the account may go now: a slot in flight, the end of any pause, the
    /// rate (and one more interval per 429 in a row). The permit holds the slot until it is dropped or
    /// spent; the rate's token is taken.
    pub async fn permit(&self) -> Permit {
        let slot = self.in_flight.clone().acquire_owned().await.ok();
        // The pause is checked again after the rate's token: a 429 answered while this request
        // waited for its token holds it back too.
        loop {
            self.limiter.until_ready().await;
            let until = self.backoff().until;
            match until {
                Some(until) if until > Instant::now() => tokio::time::sleep_until(until).await,
                _ => break,
            }
        }
        let strikes = self.backoff().strikes.min(8);
        if strikes > 0 {
            tokio::time::sleep(self.interval() * strikes).await;
        }
        Permit { _slot: slot }
    }

    /// Sends a pending create again (as [`RefundProvider::resend_pending`]), its first request on
    /// `permit` (taken earlier with [`RateLimited::permit`]): it leaves at once.
    pub async fn resend_pending_on(&self, permit: Permit, pending: &PendingCreate) -> Result<Resent> {
        let inner = &self.inner;
        self.call(Some(permit), None, true, move |o| async move {
            inner.resend_pending_with(pending, &o).await
        })
        .await
    }

    /// Runs one call as requests: each attempt on a permit (the first on `first`, where given), with
    /// the client's own retries off; retries what the client would have retried, as often as the
    /// call's policy allows, after a 429's pause (learnt) or the policy's backoff. A client that
    /// refuses the override is called as it is from then on (its retries inside one permit).
    async fn call<T, F, Fut>(
        &self,
        first: Option<Permit>,
        given: Option<&CallOptions>,
        create: bool,
        op: F,
    ) -> Result<T>
    where
        F: Fn(CallOptions) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let given = given.cloned().unwrap_or_default();
        let policy = given.retry.clone().unwrap_or_default();
        let once = given.clone().retry(RetryPolicy::none());
        let mut permit = first;
        let mut retry = 0;
        // The verdict rule the client's own loop keeps: once an attempt of a create may have been
        // applied, so may the call, whatever the later attempts answer (a 400, a refused connection).
        let keyed = self.inner.info().capabilities.idempotency != IdempotencySupport::None;
        let mut may_be_applied = false;
        loop {
            let held = match permit.take() {
                Some(permit) => permit,
                None => self.permit().await,
            };
            if self.plain.load(Ordering::Relaxed) {
                return self.sent(op(given).await, held);
            }
            let result = op(once.clone()).await;
            if result.as_ref().is_err_and(refused_override) {
                // Nothing was sent: the same permit carries the call as the client makes it.
                self.plain.store(true, Ordering::Relaxed);
                return self.sent(op(given).await, held);
            }
            let result = self.sent(result, held);
            let Err(e) = &result else { return result };
            may_be_applied |= create && attempt_may_have_applied(e, create, keyed);
            let result = result.map_err(|e| whole_call_verdict(e, may_be_applied));
            let Err(e) = &result else { return result };
            if retry >= policy.max_retries || !e.is_retryable() {
                return result;
            }
            if is_rate_limited(e) {
                // The pause learnt from it holds every next permit back; a wait longer than either cap
                // is the caller's to make.
                if e.retry_after()
                    .is_some_and(|w| w > policy.max_retry_after || w > self.limits.max_pause)
                {
                    return result;
                }
            } else {
                tokio::time::sleep(policy.backoff(retry)).await;
            }
            retry += 1;
        }
    }

    /// Counts a request that was sent and learns from its answer.
    fn sent<T>(&self, result: Result<T>, permit: Permit) -> Result<T> {
        drop(permit);
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.learn(&result);
        result
    }

    fn learn<T>(&self, result: &Result<T>) {
        let e = match result {
            Ok(_) => {
                self.backoff().strikes = 0;
                return;
            }
            Err(e) if is_rate_limited(e) => e,
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

/// The right to send one request now ([`RateLimited::permit`]): a slot in flight, held until spent
/// or dropped.
#[derive(Debug)]
pub struct Permit {
    _slot: Option<OwnedSemaphorePermit>,
}

fn is_rate_limited(e: &Error) -> bool {
    e.kind() == &ErrorKind::RateLimited || e.http_status() == Some(429)
}

/// A client that cannot change its retries per call refuses the override, sending nothing.
fn refused_override(e: &Error) -> bool {
    matches!(e.kind(), ErrorKind::InvalidRequest { .. }) && e.field() == Some("retry")
}

#[async_trait]
impl RefundProvider for RateLimited {
    fn info(&self) -> &ProviderInfo {
        self.inner.info()
    }

    async fn create_refund(&self, request: &CreateRefund) -> Result<Refund> {
        self.create_refund_with(request, &CallOptions::new()).await
    }

    async fn get_refund(&self, id: &RefundId) -> Result<Refund> {
        self.get_refund_with(id, &CallOptions::new()).await
    }

    async fn list_refunds(&self, request: &ListRefunds) -> Result<Page<Refund>> {
        self.list_refunds_with(request, &CallOptions::new()).await
    }

    async fn create_refund_with(&self, request: &CreateRefund, options: &CallOptions) -> Result<Refund> {
        let inner = &self.inner;
        self.call(None, Some(options), true, move |o| async move {
            inner.create_refund_with(request, &o).await
        })
        .await
    }

    async fn get_refund_with(&self, id: &RefundId, options: &CallOptions) -> Result<Refund> {
        let inner = &self.inner;
        self.call(None, Some(options), false, move |o| async move {
            inner.get_refund_with(id, &o).await
        })
        .await
    }

    async fn list_refunds_with(&self, request: &ListRefunds, options: &CallOptions) -> Result<Page<Refund>> {
        let inner = &self.inner;
        self.call(None, Some(options), false, move |o| async move {
            inner.list_refunds_with(request, &o).await
        })
        .await
    }

    // The calls below have no per-call options: one permit each, the client's retries inside it.
    async fn get_refund_by_payment(&self, payment: &PaymentRef) -> Result<Refund> {
        let permit = self.permit().await;
        self.sent(self.inner.get_refund_by_payment(payment).await, permit)
    }

    async fn resend_pending(&self, pending: &PendingCreate) -> Result<Resent> {
        self.resend_pending_with(pending, &CallOptions::new()).await
    }

    async fn resend_pending_with(&self, pending: &PendingCreate, options: &CallOptions) -> Result<Resent> {
        let inner = &self.inner;
        self.call(None, Some(options), true, move |o| async move {
            inner.resend_pending_with(pending, &o).await
        })
        .await
    }

    async fn cancel_refund(&self, id: &RefundId) -> Result<Refund> {
        let permit = self.permit().await;
        self.sent(self.inner.cancel_refund(id).await, permit)
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
        let permit = self.permit().await;
        self.sent(self.inner.update_refund_metadata(id, metadata).await, permit)
    }
}
