//! Per-call settings: a deadline, a retry budget and the idempotency key of one call, without
//! building another client.

use std::time::Duration;

use crate::ids::IdempotencyKey;
use crate::retry::RetryPolicy;

/// Overrides for one call; what is not set comes from the client.
///
/// ```
/// use std::time::Duration;
/// use refunds::{CallOptions, IdempotencyKey};
/// let options = CallOptions::new()
///     .timeout(Duration::from_secs(5))
///     .max_retries(0)
///     .idempotency_key(IdempotencyKey::new("order-42-refund-1")?);
/// assert_eq!(options.retry.unwrap().max_retries, 0);
/// # Ok::<(), refunds::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallOptions {
    /// The deadline of the whole call, retries and waits included.
    pub timeout: Option<Duration>,
    /// The retry policy of this call.
    pub retry: Option<RetryPolicy>,
    /// The idempotency key of a create (where the provider honours keys; refused elsewhere).
    pub idempotency_key: Option<IdempotencyKey>,
}

impl CallOptions {
    /// No overrides.
    pub const fn new() -> CallOptions {
        CallOptions {
            timeout: None,
            retry: None,
            idempotency_key: None,
        }
    }
    /// Sets the deadline of the whole call.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
    /// Sets the retry policy.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = Some(retry);
        self
    }
    /// Sets the retry budget, keeping the client's other retry settings where none were set here.
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.retry = Some(self.retry.take().unwrap_or_default().max_retries(retries));
        self
    }
    /// Sets the idempotency key of a create.
    pub fn idempotency_key(mut self, key: IdempotencyKey) -> Self {
        self.idempotency_key = Some(key);
        self
    }
    /// True when nothing is overridden.
    pub fn is_empty(&self) -> bool {
        self == &CallOptions::default()
    }
}
