//! The HTTP transport every provider sends through: auth, JSON, safe paths, timeouts, a response
//! size cap, request ids, and retries that never re-send a create the provider cannot de-duplicate.

use std::fmt;
use std::time::{Duration, Instant};

use http::Method;
use http::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER, USER_AGENT};
use url::Url;

use crate::adapter::auth::Auth;
use crate::error::{Delivery, Error, ErrorKind, Result};

mod config;
mod request;
mod response;
mod retry;
mod stream;
#[cfg(test)]
mod tests;

pub use crate::retry::RetryPolicy;
pub use config::{
    TransportConfig, TrustStore, check_base_url, check_proxy_url, check_root_certificates_pem, is_loopback,
};
pub use request::ApiRequest;
pub use response::{ApiResponse, delivery_of_status, request_id_from_headers};
pub(crate) use retry::instant_after;
pub use retry::{parse_retry_after, whole_call_verdict};
pub use stream::StreamBody;

/// Trusts the roots of `store` (and, with the `os-trust-store` feature on, only those: reqwest would
/// otherwise add the OS roots to every client, read from disk at each build).
fn trust_store(builder: reqwest::ClientBuilder, store: TrustStore) -> Result<reqwest::ClientBuilder> {
    let builder = builder.use_rustls_tls();
    #[cfg(feature = "os-trust-store")]
    let builder = builder
        .tls_built_in_webpki_certs(store == TrustStore::WebPki)
        .tls_built_in_native_certs(store == TrustStore::Os);
    #[cfg(not(feature = "os-trust-store"))]
    if store == TrustStore::Os {
        return Err(Error::configuration(
            "the OS trust store needs the `os-trust-store` feature of refunds (refunds-registry forwards it)",
        ));
    }
    Ok(builder)
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

/// The `User-Agent` of every request to `provider`.
pub(crate) fn user_agent(provider: &str) -> String {
    format!("refunds-rust/{} ({provider})", env!("CARGO_PKG_VERSION"))
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
        let user_agent =
            HeaderValue::from_str(&user_agent(provider)).unwrap_or_else(|_| HeaderValue::from_static("refunds-rust"));
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
        builder = trust_store(builder, config.trust_store).map_err(|e| e.with_provider(provider))?;
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
