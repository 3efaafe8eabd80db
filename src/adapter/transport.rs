//! The HTTP transport every provider sends through: auth, JSON, safe paths, timeouts, a response
//! size cap, request ids, and retries that never re-send a create the provider cannot de-duplicate.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::Method;
use http::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER, USER_AGENT};
use serde::Serialize;
use url::Url;

use crate::adapter::auth::Auth;
use crate::error::{Delivery, Error, ErrorKind, Result};

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
        let random = crate::adapter::random_u64();
        Duration::from_nanos(nanos.checked_add(1).map_or(random, |span| random % span))
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::new()
    }
}

/// Transport settings a provider builder exposes to its users.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TransportConfig {
    /// The provider's base URL; `http://` only to loopback.
    pub base_url: Url,
    /// TCP + TLS connect timeout (default 10 s).
    pub connect_timeout: Duration,
    /// Deadline of the whole call (default 60 s): every attempt, every backoff and every honoured
    /// `Retry-After` wait fit inside it.
    pub timeout: Duration,
    /// Timeout of one attempt (default: none beyond the call's deadline).
    pub attempt_timeout: Option<Duration>,
    /// How long an idle pooled connection is kept (default 60 s).
    pub pool_idle_timeout: Duration,
    /// Largest response body read (default 8 MiB); larger is a `Decode` error.
    pub max_response_bytes: usize,
    /// Retry schedule.
    pub retry: RetryPolicy,
    /// An explicit HTTP(S) proxy for every request (never used for a loopback target). Without one,
    /// the system's proxy variables apply, again never to loopback.
    pub proxy: Option<Url>,
    /// Extra trusted root certificates (PEM), beside the built-in web roots (a corporate TLS proxy,
    /// a private test host).
    pub root_certificates_pem: Vec<Vec<u8>>,
    /// Headers sent with every request beside the key, `Accept` and `User-Agent` (an API version the
    /// provider pins, say).
    pub default_headers: Vec<(HeaderName, HeaderValue)>,
}

impl TransportConfig {
    /// Defaults for `base_url`, which is checked: `https`, or `http` to a loopback host only.
    pub fn new(base_url: &str) -> Result<TransportConfig> {
        Ok(TransportConfig {
            base_url: check_base_url(base_url)?,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            attempt_timeout: None,
            pool_idle_timeout: Duration::from_secs(60),
            max_response_bytes: 8 * 1024 * 1024,
            retry: RetryPolicy::new(),
            proxy: None,
            root_certificates_pem: Vec::new(),
            default_headers: Vec::new(),
        })
    }
    /// Adds a header to every request.
    pub fn default_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.default_headers.push((name, value));
        self
    }
    /// Sends every request through `proxy` (`http://` or `https://`; never used for loopback targets).
    pub fn proxy(mut self, proxy: &str) -> Result<Self> {
        let url = Url::parse(proxy).map_err(|e| Error::configuration(format!("invalid proxy url: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(Error::configuration(
                "a proxy url must be http:// or https:// with a host",
            ));
        }
        self.proxy = Some(url);
        Ok(self)
    }
    /// Trusts one more root certificate (PEM).
    pub fn add_root_certificate_pem(mut self, pem: &[u8]) -> Result<Self> {
        let found = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|e| Error::configuration(format!("root certificate is not PEM: {e}")))?;
        if found.is_empty() {
            return Err(Error::configuration(
                "no PEM certificate found in the root certificate given",
            ));
        }
        self.root_certificates_pem.push(pem.to_vec());
        Ok(self)
    }
    /// Sets the base URL (checked).
    pub fn base_url(mut self, base_url: &str) -> Result<Self> {
        self.base_url = check_base_url(base_url)?;
        Ok(self)
    }
    /// Sets the connect timeout.
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }
    /// Sets the deadline of the whole call, retries and waits included.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }
    /// Sets the timeout of one attempt (bounded by the call's deadline).
    pub fn attempt_timeout(mut self, d: Option<Duration>) -> Self {
        self.attempt_timeout = d;
        self
    }
    /// Sets the retry policy.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }
    /// Sets the response size cap.
    pub fn max_response_bytes(mut self, n: usize) -> Self {
        self.max_response_bytes = n;
        self
    }
}

/// Parses a base URL and refuses plain `http://` unless the host is loopback (`localhost`,
/// `127.0.0.0/8`, `[::1]`): an API key must never cross a network in the clear.
pub fn check_base_url(base_url: &str) -> Result<Url> {
    let url = Url::parse(base_url).map_err(|e| Error::configuration(format!("invalid base url {base_url:?}: {e}")))?;
    if url.cannot_be_a_base() || url.query().is_some() || url.fragment().is_some() {
        return Err(Error::configuration(format!(
            "base url {base_url:?} must be a plain http(s) url"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::configuration("base url must not carry credentials"));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(Error::configuration(format!(
            "plain http is allowed only to loopback hosts, not {}",
            url.host_str().unwrap_or("")
        ))),
        other => Err(Error::configuration(format!("unsupported url scheme {other:?}"))),
    }
}

/// True for `localhost`, `127.0.0.0/8` and `[::1]`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// One API call: method, path segments (each percent-encoded into exactly one segment), query, body.
#[derive(Clone)]
pub struct ApiRequest {
    method: Method,
    /// Where the segments go: the transport's base URL when `None`. Shared: every call of a client
    /// starts from the same one.
    base: Option<Arc<Url>>,
    segments: Vec<String>,
    query: Vec<(String, String)>,
    headers: Vec<(HeaderName, HeaderValue)>,
    // `Bytes`: a retry re-sends the same buffer without copying it.
    body: Option<bytes::Bytes>,
    replay_safe: bool,
    trailing_slash: bool,
}

impl ApiRequest {
    /// A request with `method` to the base URL plus `segments`.
    pub fn new<S: AsRef<str>>(method: Method, segments: &[S]) -> ApiRequest {
        let replay_safe = method == Method::GET || method == Method::HEAD;
        ApiRequest {
            method,
            base: None,
            segments: segments.iter().map(|s| s.as_ref().to_owned()).collect(),
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
            replay_safe,
            trailing_slash: false,
        }
    }
    /// A request with `method` to `base` (a URL the transport built, see [`Transport::url`]) plus
    /// `segments`.
    pub(crate) fn under(method: Method, base: Arc<Url>, segments: &[&str]) -> ApiRequest {
        ApiRequest {
            base: Some(base),
            ..ApiRequest::new(method, segments)
        }
    }
    /// A GET (replay-safe).
    pub fn get<S: AsRef<str>>(segments: &[S]) -> ApiRequest {
        ApiRequest::new(Method::GET, segments)
    }
    /// A POST (not replay-safe unless marked with [`ApiRequest::replay_safe`]).
    pub fn post<S: AsRef<str>>(segments: &[S]) -> ApiRequest {
        ApiRequest::new(Method::POST, segments)
    }
    /// Adds a query parameter.
    pub fn query(mut self, name: &str, value: impl ToString) -> ApiRequest {
        self.query.push((name.to_owned(), value.to_string()));
        self
    }
    /// Adds a header.
    pub fn header(mut self, name: HeaderName, value: &str) -> Result<ApiRequest> {
        let value = HeaderValue::from_str(value)
            .map_err(|_| Error::invalid_request(name.as_str(), "not a valid header value"))?;
        self.headers.push((name, value));
        Ok(self)
    }
    /// Sets a JSON body.
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Result<ApiRequest> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| Error::configuration(format!("request body did not serialize: {e}")))?;
        self.body = Some(bytes::Bytes::from(bytes));
        Ok(self)
    }
    /// Sets a body that is already JSON text.
    pub fn json_text(mut self, text: &str) -> ApiRequest {
        self.body = Some(bytes::Bytes::copy_from_slice(text.as_bytes()));
        self
    }
    /// Sets a body that is already JSON text, taking the text without a copy.
    pub(crate) fn json_string(mut self, text: String) -> ApiRequest {
        self.body = Some(bytes::Bytes::from(text));
        self
    }
    /// Ends the path with `/` (`GET /v1/refunds/{id}/`), for routes documented that way: a framework
    /// that redirects the form without it would answer a 3xx, which is never followed.
    pub fn trailing_slash(mut self) -> ApiRequest {
        self.trailing_slash = true;
        self
    }
    /// Declares whether sending this request twice is harmless (a GET, or a create whose idempotency key
    /// the provider honours). Only replay-safe requests are retried after they may have been received.
    pub fn replay_safe(mut self, yes: bool) -> ApiRequest {
        self.replay_safe = yes;
        self
    }
    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }
    /// The JSON body, if any.
    pub fn body(&self) -> Option<&[u8]> {
        self.body.as_deref()
    }
    /// Whether it may be sent twice.
    pub fn is_replay_safe(&self) -> bool {
        self.replay_safe
    }
}

impl fmt::Debug for ApiRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiRequest")
            .field("method", &self.method)
            .field("base", &self.base.as_ref().map(|base| base.path()))
            .field("segments", &self.segments)
            .field("query", &self.query)
            .field("replay_safe", &self.replay_safe)
            .finish_non_exhaustive()
    }
}

/// A response as read by the transport (body capped).
#[derive(Debug, Clone)]
pub struct ApiResponse {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// Body bytes (at most the configured cap). `Bytes`: a body that arrives in one piece, as most
    /// answers do, is kept as it came off the connection instead of copied.
    pub body: bytes::Bytes,
    /// Request id from the usual headers (`request-id`, `x-request-id`, ...).
    pub request_id: Option<String>,
}

impl ApiResponse {
    /// True for 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// A `Decode` error for this response, keeping status, request id and the start of the body.
    pub fn decode_error(&self, message: impl Into<String>) -> Error {
        Error::decode(message)
            .with_http_status(self.status)
            .with_request_id(self.request_id.clone())
            .with_body(&self.body)
    }

    /// Parses the body as `T`, or a `Decode` error that says where it failed.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| self.decode_error(format!("response body: {e}")))
    }

    /// Parses the body as one provider object `T` in a single pass ([`crate::adapter::parse_object`]),
    /// keeping the body as its raw JSON, and converts it with `convert`; failures as in
    /// [`ApiResponse::decode`].
    pub fn decode_object<T: serde::de::DeserializeOwned, R>(
        &self,
        convert: impl FnOnce(crate::adapter::WithRaw<T>) -> Result<R>,
    ) -> Result<R> {
        let wire = crate::adapter::parse_object::<T>(&self.body)
            .map_err(|e| self.decode_error(format!("response body: {e}")))?;
        convert(wire).map_err(|e| {
            let message = if e.kind() == &ErrorKind::Decode {
                e.message().to_owned()
            } else {
                e.to_string()
            };
            self.decode_error(message)
        })
    }

    /// Parses the body as `T` and converts it with `convert` (wire struct into model). Any failure,
    /// of the parse or of the conversion (a bad currency, an empty id, an amount that does not fit), is
    /// a `Decode` error keeping the HTTP status, the request id and the start of the body.
    pub fn decode<T: serde::de::DeserializeOwned, R>(&self, convert: impl FnOnce(T) -> Result<R>) -> Result<R> {
        let wire = self.json::<T>()?;
        convert(wire).map_err(|e| {
            let message = if e.kind() == &ErrorKind::Decode {
                e.message().to_owned()
            } else {
                e.to_string()
            };
            self.decode_error(message)
        })
    }
}

// Names, not strings: a lookup by `&str` parses the name again on every call.
const REQUEST_ID_HEADERS: [HeaderName; 5] = [
    HeaderName::from_static("request-id"),
    HeaderName::from_static("x-request-id"),
    HeaderName::from_static("x-correlation-id"),
    HeaderName::from_static("x-trace-id"),
    HeaderName::from_static("cf-ray"),
];

/// Reads a request id from the usual headers.
pub fn request_id_from_headers(headers: &HeaderMap) -> Option<String> {
    REQUEST_ID_HEADERS
        .iter()
        .find_map(|name| headers.get(name))
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

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

/// Turns a non-2xx response into the provider's error (kind, code, message, field errors). The
/// transport then adds the provider id, HTTP status, request id, `Retry-After` and delivery.
pub type ErrorDecoder = fn(&ApiResponse) -> Error;

/// The HTTP client a provider crate sends through. Cheap to share (`reqwest::Client` is pooled).
#[derive(Clone)]
pub struct Transport {
    client: reqwest::Client,
    config: TransportConfig,
    auth: Auth,
    provider: &'static str,
    decode_error: ErrorDecoder,
    secret_forms: Vec<String>,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("provider", &self.provider)
            .field("base_url", &self.config.base_url.as_str())
            .field("auth", &self.auth)
            .field("timeout", &self.config.timeout)
            .field("retry", &self.config.retry)
            .finish()
    }
}

impl Transport {
    /// Builds the transport: redirects are never followed (a redirect could carry a non-`Authorization`
    /// key header to another host), timeouts and the idle-pool timeout are set explicitly.
    pub fn new(
        provider: &'static str,
        config: TransportConfig,
        auth: Auth,
        decode_error: ErrorDecoder,
    ) -> Result<Transport> {
        let user_agent = HeaderValue::from_str(&format!("refunds-rust/{} ({provider})", env!("CARGO_PKG_VERSION")))
            .unwrap_or_else(|_| HeaderValue::from_static("refunds-rust"));
        let mut default_headers = HeaderMap::new();
        let (auth_name, auth_value) = auth.header();
        default_headers.insert(auth_name, auth_value);
        default_headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        default_headers.insert(USER_AGENT, user_agent);
        for (name, value) in &config.default_headers {
            default_headers.insert(name.clone(), value.clone());
        }
        let mut builder = reqwest::Client::builder()
            .default_headers(default_headers)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout)
            .pool_idle_timeout(config.pool_idle_timeout)
            .tcp_nodelay(true);
        // Plain http is allowed only to loopback, and a system proxy there would carry the key in the
        // clear to another process or host.
        if is_loopback(&config.base_url) {
            builder = builder.no_proxy();
        } else if let Some(proxy) = &config.proxy {
            let proxy = reqwest::Proxy::all(proxy.as_str())
                .map_err(|e| Error::configuration(format!("proxy: {e}")).with_provider(provider))?;
            builder = builder.proxy(proxy);
        }
        for pem in &config.root_certificates_pem {
            let certificates = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| Error::configuration(format!("root certificate: {e}")).with_provider(provider))?;
            for certificate in certificates {
                builder = builder.add_root_certificate(certificate);
            }
        }
        let client = builder
            .build()
            .map_err(|e| Error::configuration(format!("http client: {e}")).with_provider(provider))?;
        let secret_forms = auth.secret_forms();
        Ok(Transport {
            client,
            config,
            secret_forms,
            auth,
            provider,
            decode_error,
        })
    }

    /// The provider id errors are tagged with.
    pub fn provider(&self) -> &'static str {
        self.provider
    }

    /// The configuration.
    pub fn config(&self) -> &TransportConfig {
        &self.config
    }

    /// The URL a request goes to: every segment percent-encoded into exactly one path segment, so an
    /// id like `../../admin?x=1` cannot change the path or add a query.
    pub fn url(&self, request: &ApiRequest) -> Result<Url> {
        let mut url = request.base.as_deref().unwrap_or(&self.config.base_url).clone();
        // A base the transport built is already a finished path; the configured one may end in `/`.
        if request.base.is_none() || !request.segments.is_empty() || request.trailing_slash {
            let mut path = url
                .path_segments_mut()
                .map_err(|_| Error::configuration("base url cannot take a path"))?;
            path.pop_if_empty();
            for segment in &request.segments {
                if segment.is_empty() || segment == "." || segment == ".." {
                    return Err(Error::invalid_request(
                        "id",
                        format!("{segment:?} is not a valid path segment"),
                    ));
                }
                path.push(segment);
            }
            if request.trailing_slash {
                path.push("");
            }
        }
        if !request.query.is_empty() {
            url.query_pairs_mut().extend_pairs(request.query.iter());
        }
        Ok(url)
    }

    /// Sends `request`, retrying what is safe to retry, and returns the 2xx response or the error.
    ///
    /// The verdict covers the whole call: once any attempt may have been applied, the call's error is
    /// `Ambiguous` whatever later attempts answered. A replay-safe request that meets a 409 after such
    /// an attempt (the provider still working on the first one under the same key) is retried within
    /// the budget. Everything, waits included, fits inside [`TransportConfig::timeout`].
    pub async fn send(&self, request: &ApiRequest) -> Result<ApiResponse> {
        self.send_with(request, None, None).await
    }

    /// [`Transport::send`] with this call's deadline and retry policy instead of the configured ones.
    pub async fn send_with(
        &self,
        request: &ApiRequest,
        timeout: Option<Duration>,
        retry: Option<&RetryPolicy>,
    ) -> Result<ApiResponse> {
        let url = self.url(request)?;
        let policy = retry.unwrap_or(&self.config.retry);
        let deadline = instant_after(timeout.unwrap_or(self.config.timeout));
        let mut retry = 0u32;
        let mut may_be_applied = false;
        loop {
            let started = Instant::now();
            let remaining = deadline.saturating_duration_since(started);
            let attempt_timeout = self.config.attempt_timeout.map_or(remaining, |t| t.min(remaining));
            let outcome = self.attempt(&url, request, attempt_timeout).await;
            let error = match outcome {
                Ok(response) if response.is_success() => {
                    tracing::debug!(provider = self.provider, method = %request.method, path = url.path(),
                        status = response.status, retry, elapsed_ms = started.elapsed().as_millis() as u64, "refunds http");
                    return Ok(response);
                }
                Ok(response) => self.response_error(&response, request),
                Err(error) => error,
            };
            tracing::debug!(provider = self.provider, method = %request.method, path = url.path(),
                status = error.http_status(), kind = ?error.kind(), retry, "refunds http failed");
            let create = request.method == Method::POST;
            may_be_applied |= crate::verdict::rules::attempt_may_have_applied(&error, create, request.replay_safe);
            let in_progress_elsewhere = may_be_applied && request.replay_safe && error.http_status() == Some(409);
            // A server's `Retry-After` is capped by the policy here too: no wait is driven by a number
            // the server sends.
            let wait = if in_progress_elsewhere && retry < policy.max_retries {
                Some(
                    error
                        .retry_after()
                        .unwrap_or_else(|| policy.backoff(retry))
                        .min(policy.max_retry_after),
                )
            } else {
                policy.next_retry(retry, &error, request.replay_safe)
            };
            let fits = |w: &Duration| Instant::now().checked_add(*w).is_some_and(|end| end < deadline);
            let Some(wait) = wait.filter(fits) else {
                return Err(whole_call_verdict(error, may_be_applied));
            };
            tokio::time::sleep(wait).await;
            retry += 1;
        }
    }

    /// Opens a long-lived response (an event stream): one attempt, never retried (a stream read halfway
    /// cannot be replayed), the configured timeout bounding only the wait for the status line. A non-2xx
    /// answer is read (capped) and returned as the provider's error.
    pub async fn open_stream(&self, request: &ApiRequest) -> Result<StreamBody> {
        let url = self.url(request)?;
        let mut builder = self.client.request(request.method.clone(), url);
        for (name, value) in &request.headers {
            builder = builder.header(name.clone(), value.clone());
        }
        let sent = tokio::time::timeout(self.config.timeout, builder.send()).await;
        let response = match sent {
            Err(_) => {
                return Err(Error::new(ErrorKind::Timeout, Delivery::Ambiguous, "no answer in time")
                    .with_provider(self.provider));
            }
            Ok(Err(e)) => return Err(self.transport_error(&e, request)),
            Ok(Ok(response)) => response,
        };
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(StreamBody {
                response,
                transport: self.clone(),
                request: request.clone(),
            });
        }
        let headers = response.headers().clone();
        let request_id = request_id_from_headers(&headers);
        let mut body = Vec::new();
        let mut response = response;
        while let Ok(Some(chunk)) = response.chunk().await {
            if body.len() + chunk.len() > self.config.max_response_bytes {
                break;
            }
            body.extend_from_slice(&chunk);
        }
        let answer = ApiResponse {
            status,
            headers,
            body: body.into(),
            request_id,
        };
        Err(self.response_error(&answer, request))
    }

    async fn attempt(&self, url: &Url, request: &ApiRequest, timeout: Duration) -> Result<ApiResponse> {
        // Auth, Accept and User-Agent are the client's default headers, set once at construction.
        let mut builder = self
            .client
            .request(request.method.clone(), url.clone())
            .timeout(timeout);
        for (name, value) in &request.headers {
            builder = builder.header(name.clone(), value.clone());
        }
        if let Some(body) = &request.body {
            builder = builder
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(body.clone());
        }
        let mut response = builder.send().await.map_err(|e| self.transport_error(&e, request))?;
        let status = response.status().as_u16();
        let headers = std::mem::take(response.headers_mut());
        let request_id = request_id_from_headers(&headers);
        let cap = self.config.max_response_bytes;
        if response.content_length().is_some_and(|n| n > cap as u64) {
            return Err(self.oversized(status, request_id, request));
        }
        // An answer that arrives whole in one chunk, as most do, is kept as it came. Any other is
        // copied chunk by chunk, so that no chunk holds the connection's read buffer while the next
        // one is read (which would make the connection allocate another).
        let declared = response.content_length().map_or(0, |n| n as usize);
        let mut whole: Option<bytes::Bytes> = None;
        let mut copied: Vec<u8> = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let held = whole.as_ref().map_or(copied.len(), |first| first.len());
                    if held + chunk.len() > cap {
                        return Err(self.oversized(status, request_id, request));
                    }
                    if whole.is_none() && copied.is_empty() && chunk.len() == declared {
                        whole = Some(chunk);
                        continue;
                    }
                    if copied.is_empty() {
                        copied.reserve_exact(declared.max(chunk.len()));
                    }
                    if let Some(first) = whole.take() {
                        copied.extend_from_slice(&first);
                    }
                    copied.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    return Err(self
                        .transport_error(&e, request)
                        .with_http_status(status)
                        .with_request_id(request_id));
                }
            }
        }
        let body = whole.unwrap_or_else(|| copied.into());
        Ok(ApiResponse {
            status,
            headers,
            body,
            request_id,
        })
    }

    fn oversized(&self, status: u16, request_id: Option<String>, request: &ApiRequest) -> Error {
        Error::decode(format!("response larger than {} bytes", self.config.max_response_bytes))
            .with_provider(self.provider)
            .with_http_status(status)
            .with_request_id(request_id)
            .with_replay_safe(request.replay_safe)
    }

    fn transport_error(&self, e: &reqwest::Error, request: &ApiRequest) -> Error {
        let message = error_chain(e);
        let (kind, delivery) = if e.is_connect() {
            (ErrorKind::Transport, Delivery::NotSent)
        } else if e.is_timeout() {
            (ErrorKind::Timeout, Delivery::Ambiguous)
        } else if e.is_builder() {
            (ErrorKind::Configuration, Delivery::NotSent)
        } else {
            (ErrorKind::Transport, Delivery::Ambiguous)
        };
        Error::new(kind, delivery, message)
            .with_provider(self.provider)
            .with_replay_safe(request.replay_safe)
            .redact_all(&self.secret_forms)
    }

    fn response_error(&self, response: &ApiResponse, request: &ApiRequest) -> Error {
        let decoded = (self.decode_error)(response);
        let delivery = delivery_of_status(response.status);
        let now = time::OffsetDateTime::now_utc();
        let retry_after = response
            .headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, now));
        let request_id = decoded
            .request_id()
            .map(str::to_owned)
            .or_else(|| response.request_id.clone());
        let mut error = decoded
            .with_provider(self.provider)
            .with_http_status(response.status)
            .with_request_id(request_id)
            .with_delivery(delivery)
            .with_replay_safe(request.replay_safe);
        if retry_after.is_some() {
            error = error.with_retry_after(retry_after);
        }
        // The provider's own words are kept (capped, scrubbed): nothing it said is lost.
        if error.body().is_none() {
            error = error.with_body(&response.body);
        }
        error.redact_all(&self.secret_forms)
    }

    /// Every spelling of the key errors are scrubbed of.
    pub fn secret_forms(&self) -> &[String] {
        &self.secret_forms
    }
}

/// The body of a long-lived 2xx response, read chunk by chunk ([`Transport::open_stream`]).
pub struct StreamBody {
    response: reqwest::Response,
    transport: Transport,
    request: ApiRequest,
}

impl fmt::Debug for StreamBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamBody")
            .field("status", &self.response.status().as_u16())
            .finish_non_exhaustive()
    }
}

impl StreamBody {
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.response.status().as_u16()
    }

    /// A response header as text (`date`, say).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.response.headers().get(name).and_then(|v| v.to_str().ok())
    }

    /// The next chunk as it arrives; `None` when the server closed the stream. A broken connection is
    /// a `Transport` error, tagged and scrubbed like any other.
    pub async fn chunk(&mut self) -> Result<Option<bytes::Bytes>> {
        self.response
            .chunk()
            .await
            .map_err(|e| self.transport.transport_error(&e, &self.request))
    }
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

/// What an HTTP status says about whether the request was applied: a 4xx refusal (but 408) was not;
/// a 5xx, a 408 (some gateways time out after the upstream started work) and anything that is not
/// a plain answer (a 3xx such as "303 See Other" after a processed POST, a 1xx) may have been.
pub fn delivery_of_status(status: u16) -> Delivery {
    match status {
        408 => Delivery::Ambiguous,
        400..=499 => Delivery::Rejected,
        _ => Delivery::Ambiguous,
    }
}

/// Once any attempt may have been applied, so may the call: later answers (a 429, a 409, a refused
/// connection, a 400) do not undo it.
fn whole_call_verdict(error: Error, may_be_applied: bool) -> Error {
    if may_be_applied && error.delivery() != Delivery::Ambiguous {
        error.with_delivery(Delivery::Ambiguous)
    } else {
        error
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

fn error_chain(e: &reqwest::Error) -> String {
    // reqwest's message names the URL, which carries ids but never the key (keys go in headers).
    let mut parts = vec![e.to_string()];
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transport(base: &str) -> Transport {
        Transport::new(
            "test",
            TransportConfig::new(base).unwrap(),
            Auth::bearer("sk_test_x").unwrap(),
            |r| Error::new(ErrorKind::Other, Delivery::Rejected, format!("status {}", r.status)),
        )
        .unwrap()
    }

    #[test]
    fn ids_are_one_path_segment() {
        let t = transport("https://api.example.com/v1/");
        let url = t.url(&ApiRequest::get(&["refunds", "../../admin?x=1"])).unwrap();
        assert_eq!(url.as_str(), "https://api.example.com/v1/refunds/..%2F..%2Fadmin%3Fx=1");
        assert_eq!(url.path_segments().unwrap().count(), 3);
        assert!(url.query().is_none());
        let url = t.url(&ApiRequest::get(&["refunds", "a/b#c d%2F"])).unwrap();
        assert_eq!(url.path(), "/v1/refunds/a%2Fb%23c%20d%252F");
        assert!(t.url(&ApiRequest::get(&["refunds", ".."])).is_err());
        assert!(t.url(&ApiRequest::get(&["refunds", ""])).is_err());
        let url = t
            .url(&ApiRequest::get(&["refunds"]).query("starting_after", "a&b=c"))
            .unwrap();
        assert_eq!(url.query(), Some("starting_after=a%26b%3Dc"));
        // Under a URL the transport built once, a call adds only its own segments, encoded the same.
        let refunds = t.url(&ApiRequest::get(&["refunds"])).unwrap();
        let refunds = Arc::new(refunds);
        let under = |segments: &[&str]| t.url(&ApiRequest::under(Method::GET, refunds.clone(), segments));
        assert_eq!(under(&[]).unwrap().as_str(), "https://api.example.com/v1/refunds");
        assert_eq!(
            under(&["../x?y"]).unwrap().as_str(),
            "https://api.example.com/v1/refunds/..%2Fx%3Fy"
        );
        assert!(under(&[".."]).is_err());
        let slash = |segments: &[&str]| {
            let call = ApiRequest::under(Method::GET, refunds.clone(), segments).trailing_slash();
            t.url(&call).unwrap().to_string()
        };
        assert_eq!(slash(&["re_1"]), "https://api.example.com/v1/refunds/re_1/");
        assert_eq!(slash(&[]), "https://api.example.com/v1/refunds/");
        let with_query = ApiRequest::get(&["refunds", "re/1"]).trailing_slash().query("a", "b");
        assert_eq!(
            t.url(&with_query).unwrap().as_str(),
            "https://api.example.com/v1/refunds/re%2F1/?a=b"
        );
    }

    #[test]
    fn plain_http_only_to_loopback() {
        assert!(check_base_url("http://127.0.0.1:8080").is_ok());
        assert!(check_base_url("http://127.5.6.7").is_ok());
        assert!(check_base_url("http://localhost:1").is_ok());
        assert!(check_base_url("http://[::1]:1").is_ok());
        assert!(check_base_url("https://api.example.com").is_ok());
        for bad in [
            "http://api.example.com",
            "http://10.0.0.1",
            "http://localhost.evil.com",
            "ftp://x",
            "https://user:pw@api.example.com",
            "https://api.example.com/?a=1",
            "not a url",
        ] {
            let err = check_base_url(bad).unwrap_err();
            assert_eq!(err.kind(), &ErrorKind::Configuration, "{bad}");
        }
    }

    #[test]
    fn retry_after_both_forms() {
        let now = time::macros::datetime!(2015-10-21 07:27:58 UTC);
        assert_eq!(parse_retry_after("2", now), Some(Duration::from_secs(2)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn backoff_is_bounded_full_jitter() {
        let p = RetryPolicy::new();
        for retry in 0..20 {
            let ceiling = Duration::from_millis(500)
                .saturating_mul(1 << retry.min(16))
                .min(Duration::from_secs(8));
            assert!(p.backoff(retry) <= ceiling);
        }
        let samples: std::collections::HashSet<_> = (0..50).map(|_| p.backoff(3)).collect();
        assert!(samples.len() > 1, "jittered");
    }

    #[test]
    fn debug_hides_the_key() {
        assert!(!format!("{:?}", transport("https://a.example")).contains("sk_test_x"));
    }
}
