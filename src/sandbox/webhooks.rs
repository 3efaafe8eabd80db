//! The sandbox's webhook sender: signed POSTs to the endpoints an application registers, with bounded
//! retries, to loopback only, so an application can test its webhook endpoint offline end to end.
//!
//! A provider's skin writes the event in its own envelope (for example with
//! [`Envelope::encode`](crate::webhook::Envelope::encode)) and signs it with its own scheme
//! ([`SignatureScheme::sign_headers`](crate::adapter::signature::SignatureScheme::sign_headers)):
//!
//! ```text
//! let body = Envelope::ISO_CREATED.encode(&event_id, "refund.created", ledger.now(), false, &refund_json);
//! let scheme = scheme.clone();
//! sender.deliver_in_background(body, move |b| scheme.sign_headers(b)); // from a sync Skin::handle
//! sender.deliver(body, |b| scheme.sign_headers(b)).await;             // or awaited
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use http::HeaderName;
use http::header::{CONTENT_TYPE, USER_AGENT};
use tokio::sync::Notify;
use url::Url;

use crate::error::{Error, Result};

/// Retries after the first attempt by default.
pub const DEFAULT_WEBHOOK_RETRIES: u32 = 3;
/// The first retry's delay by default; it doubles each retry.
pub const DEFAULT_WEBHOOK_RETRY_DELAY: Duration = Duration::from_millis(50);
/// Most retries a sender may be configured with.
pub const MAX_WEBHOOK_RETRIES: u32 = 10;
/// Longest wait between two attempts.
const MAX_DELAY: Duration = Duration::from_secs(2);
/// How long one attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// Delivery records kept for [`WebhookSender::deliveries`].
const LOG_LEN: usize = 1000;
/// Registered endpoints at most.
const MAX_ENDPOINTS: usize = 64;

/// What happened to one event at one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeliveryRecord {
    /// The endpoint.
    pub url: String,
    /// Attempts made (1 + retries).
    pub attempts: u32,
    /// The last HTTP status received (`None` when the last attempt got no answer).
    pub last_status: Option<u16>,
    /// Whether an attempt got a 2xx.
    pub delivered: bool,
}

/// Counts over a sender's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct WebhookStats {
    /// HTTP attempts made (first tries and retries).
    pub attempts: usize,
    /// Event deliveries that got a 2xx.
    pub delivered: usize,
    /// Event deliveries that ran out of retries.
    pub failed: usize,
}

struct Inner {
    client: reqwest::Client,
    endpoints: Mutex<Vec<Url>>,
    retries: u32,
    base_delay: Duration,
    attempts: AtomicUsize,
    delivered: AtomicUsize,
    failed: AtomicUsize,
    in_flight: AtomicUsize,
    idle: Notify,
    log: Mutex<VecDeque<DeliveryRecord>>,
}

/// Sends signed webhooks to registered loopback endpoints, retrying a non-2xx answer (or no answer) a
/// bounded number of times with a doubling delay. Cheap to clone; clones share endpoints and counts.
///
/// The HTTP client never uses a proxy and never follows a redirect; only `http(s)://` URLs to
/// `localhost`, `127.0.0.0/8` or `[::1]` can be registered.
#[derive(Clone)]
pub struct WebhookSender {
    inner: Arc<Inner>,
}

impl fmt::Debug for WebhookSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookSender")
            .field("endpoints", &self.endpoints())
            .field("retries", &self.inner.retries)
            .field("stats", &self.stats())
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Decrements the in-flight count when a delivery ends, however it ends.
struct InFlight(Arc<Inner>);

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl WebhookSender {
    /// A sender with the default retries ([`DEFAULT_WEBHOOK_RETRIES`] after the first attempt,
    /// [`DEFAULT_WEBHOOK_RETRY_DELAY`] doubling).
    pub fn new() -> Result<WebhookSender> {
        WebhookSender::with_retries(DEFAULT_WEBHOOK_RETRIES, DEFAULT_WEBHOOK_RETRY_DELAY)
    }

    /// A sender that retries `retries` times (at most [`MAX_WEBHOOK_RETRIES`]) after the first attempt,
    /// waiting `base_delay`, then twice that, and so on (each wait at most 2 s).
    pub fn with_retries(retries: u32, base_delay: Duration) -> Result<WebhookSender> {
        if retries > MAX_WEBHOOK_RETRIES {
            return Err(Error::configuration(format!(
                "webhook retries must be at most {MAX_WEBHOOK_RETRIES}"
            )));
        }
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(ATTEMPT_TIMEOUT)
            .timeout(ATTEMPT_TIMEOUT)
            .build()
            .map_err(|e| Error::configuration(format!("webhook http client: {e}")))?;
        Ok(WebhookSender {
            inner: Arc::new(Inner {
                client,
                endpoints: Mutex::new(Vec::new()),
                retries,
                base_delay: base_delay.min(MAX_DELAY),
                attempts: AtomicUsize::new(0),
                delivered: AtomicUsize::new(0),
                failed: AtomicUsize::new(0),
                in_flight: AtomicUsize::new(0),
                idle: Notify::new(),
                log: Mutex::new(VecDeque::new()),
            }),
        })
    }

    /// Registers an endpoint: an `http://` or `https://` URL to a loopback host, without credentials.
    /// Registering the same URL twice keeps one.
    pub fn register(&self, url: &str) -> Result<()> {
        let parsed = Url::parse(url).map_err(|e| Error::invalid_request("url", format!("invalid url: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error::invalid_request("url", "webhook urls must be http or https"));
        }
        if !is_loopback(&parsed) {
            return Err(Error::invalid_request(
                "url",
                "the sandbox sends webhooks to loopback hosts only (localhost, 127.0.0.0/8, [::1])",
            ));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(Error::invalid_request("url", "webhook urls must not carry credentials"));
        }
        let mut endpoints = lock(&self.inner.endpoints);
        if endpoints.contains(&parsed) {
            return Ok(());
        }
        if endpoints.len() >= MAX_ENDPOINTS {
            return Err(Error::invalid_request(
                "url",
                format!("at most {MAX_ENDPOINTS} webhook endpoints"),
            ));
        }
        endpoints.push(parsed);
        Ok(())
    }

    /// Removes an endpoint; true when it was registered.
    pub fn unregister(&self, url: &str) -> bool {
        let Ok(parsed) = Url::parse(url) else { return false };
        let mut endpoints = lock(&self.inner.endpoints);
        let before = endpoints.len();
        endpoints.retain(|u| *u != parsed);
        endpoints.len() != before
    }

    /// The registered endpoints.
    pub fn endpoints(&self) -> Vec<String> {
        lock(&self.inner.endpoints).iter().map(Url::to_string).collect()
    }

    /// Counts so far.
    pub fn stats(&self) -> WebhookStats {
        WebhookStats {
            attempts: self.inner.attempts.load(Ordering::SeqCst),
            delivered: self.inner.delivered.load(Ordering::SeqCst),
            failed: self.inner.failed.load(Ordering::SeqCst),
        }
    }

    /// The latest delivery records (at most 1,000), oldest first.
    pub fn deliveries(&self) -> Vec<DeliveryRecord> {
        lock(&self.inner.log).iter().cloned().collect()
    }

    /// POSTs `body` to every registered endpoint, concurrently, and waits for the outcome. Each attempt
    /// (first try and retry) is signed afresh by `sign`, which returns the signature headers (a
    /// timestamped scheme then signs each retry at its own time, as providers do).
    pub async fn deliver<F>(&self, body: Vec<u8>, sign: F) -> Vec<DeliveryRecord>
    where
        F: Fn(&[u8]) -> Vec<(HeaderName, String)>,
    {
        self.inner.in_flight.fetch_add(1, Ordering::SeqCst);
        let _guard = InFlight(self.inner.clone());
        let body = Bytes::from(body);
        let endpoints: Vec<Url> = lock(&self.inner.endpoints).clone();
        let sends = endpoints
            .into_iter()
            .map(|url| self.deliver_one(url, body.clone(), &sign));
        futures_util::future::join_all(sends).await
    }

    /// [`WebhookSender::deliver`] on a spawned task, for code that is not async (a skin's
    /// `handle`). Returns false, sending nothing, when called outside a tokio runtime.
    /// [`WebhookSender::wait_idle`] waits for it.
    pub fn deliver_in_background<F>(&self, body: Vec<u8>, sign: F) -> bool
    where
        F: Fn(&[u8]) -> Vec<(HeaderName, String)> + Send + Sync + 'static,
    {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return false;
        };
        // Counted before the spawn, so that `wait_idle` right after this call waits for it.
        self.inner.in_flight.fetch_add(1, Ordering::SeqCst);
        let guard = InFlight(self.inner.clone());
        let sender = self.clone();
        handle.spawn(async move {
            let _guard = guard;
            sender.deliver(body, sign).await;
        });
        true
    }

    /// Waits until no delivery is in progress.
    pub async fn wait_idle(&self) {
        loop {
            let notified = self.inner.idle.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.inner.in_flight.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }

    async fn deliver_one<F>(&self, url: Url, body: Bytes, sign: &F) -> DeliveryRecord
    where
        F: Fn(&[u8]) -> Vec<(HeaderName, String)>,
    {
        let inner = &self.inner;
        let mut attempts = 0u32;
        let mut last_status: Option<u16>;
        let mut delivered = false;
        let mut delay = inner.base_delay;
        loop {
            attempts += 1;
            inner.attempts.fetch_add(1, Ordering::SeqCst);
            let mut request = inner
                .client
                .post(url.clone())
                .header(CONTENT_TYPE, "application/json")
                .header(
                    USER_AGENT,
                    concat!("refunds-sandbox-webhooks/", env!("CARGO_PKG_VERSION")),
                )
                .body(body.clone());
            for (name, value) in sign(&body) {
                request = request.header(name, value);
            }
            last_status = match request.send().await {
                Ok(response) => Some(response.status().as_u16()),
                Err(e) => e.status().map(|s| s.as_u16()),
            };
            if last_status.is_some_and(|s| (200..300).contains(&s)) {
                delivered = true;
                break;
            }
            if attempts > inner.retries {
                break;
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(MAX_DELAY);
        }
        if delivered {
            inner.delivered.fetch_add(1, Ordering::SeqCst);
        } else {
            inner.failed.fetch_add(1, Ordering::SeqCst);
        }
        let record = DeliveryRecord {
            url: url.to_string(),
            attempts,
            last_status,
            delivered,
        };
        let mut log = lock(&inner.log);
        if log.len() >= LOG_LEN {
            log.pop_front();
        }
        log.push_back(record.clone());
        record
    }
}

#[cfg(test)]
mod webhook_sender_tests {
    use super::*;

    #[test]
    fn registers_loopback_only() {
        let s = WebhookSender::new().unwrap();
        for ok in [
            "http://127.0.0.1:9/hook",
            "http://localhost:1/",
            "https://[::1]:8443/x",
            "http://127.8.0.1/",
        ] {
            s.register(ok).unwrap();
        }
        s.register("http://127.0.0.1:9/hook").unwrap();
        assert_eq!(s.endpoints().len(), 4);
        for bad in [
            "http://example.com/hook",
            "http://10.0.0.1/",
            "ftp://127.0.0.1/",
            "http://user:pw@127.0.0.1/",
            "not a url",
            "http://127.0.0.1.example.com/",
        ] {
            assert!(s.register(bad).is_err(), "{bad}");
        }
        assert!(s.unregister("http://localhost:1/"));
        assert!(!s.unregister("http://localhost:1/"));
        assert!(WebhookSender::with_retries(MAX_WEBHOOK_RETRIES + 1, Duration::ZERO).is_err());
    }
}
