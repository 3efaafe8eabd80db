//! What a transport is built from (base URL, proxy, roots, timeouts, the response cap) and the URL
//! policy: plain `http://` only to loopback.

use std::time::Duration;

use http::header::{HeaderName, HeaderValue};
use url::Url;

use crate::error::{Error, Result};

use super::RetryPolicy;

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
    /// Extra trusted root certificates (PEM), beside the trust store's (a corporate TLS proxy, a
    /// private test host).
    pub root_certificates_pem: Vec<Vec<u8>>,
    /// Which roots are trusted besides [`TransportConfig::root_certificates_pem`] (default: the web
    /// roots compiled in).
    pub trust_store: TrustStore,
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
            trust_store: TrustStore::default(),
            default_headers: Vec::new(),
        })
    }
    /// Adds a header to every request.
    pub fn default_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.default_headers.push((name, value));
        self
    }
    /// Sends every request through `proxy` (`http://` or `https://`; never used for loopback targets).
    /// A proxy URL carrying credentials (`http://user:password@proxy`) is refused: the URL is kept
    /// and shown in `Debug`, where a password must never be.
    pub fn proxy(mut self, proxy: &str) -> Result<Self> {
        self.proxy = Some(check_proxy_url(proxy)?);
        Ok(self)
    }
    /// Trusts one more root certificate (PEM).
    pub fn add_root_certificate_pem(mut self, pem: &[u8]) -> Result<Self> {
        check_root_certificates_pem(pem)?;
        self.root_certificates_pem.push(pem.to_vec());
        Ok(self)
    }
    /// Chooses the trust store ([`TrustStore::Os`] needs the `os-trust-store` feature, checked when
    /// the transport is built).
    pub fn trust_store(mut self, store: TrustStore) -> Self {
        self.trust_store = store;
        self
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

/// Which root certificates a transport trusts, besides those added one by one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TrustStore {
    /// The Mozilla roots compiled into the binary (`webpki-roots`): the same on every machine.
    #[default]
    WebPki,
    /// The operating system's store, read when the transport is built (`rustls-native-certs`:
    /// `SSL_CERT_FILE`/`SSL_CERT_DIR` or the distribution's bundle on Linux, the keychain on macOS,
    /// the system store on Windows), where a corporate TLS proxy's root is usually installed.
    /// Needs the `os-trust-store` cargo feature.
    ///
    /// Chosen over `rustls-platform-verifier` by measurement (a release build of one reqwest 0.12
    /// client, Linux x86_64, stripped): the web roots alone, 132 crates in the lock file and 3,437,608
    /// bytes; with reqwest's `rustls-tls-native-roots` (this feature), 139 crates of which 2 build on
    /// Linux (rustls-native-certs, openssl-probe), 3,479,376 bytes (+41 KB, +1.2%); with the platform
    /// verifier through `use_preconfigured_tls`, 163 crates, 3,532,952 bytes (+95 KB, +2.8%), and its
    /// own rustls config replaces reqwest's root handling (the account's `ca_roots` would need a
    /// second path). Build CPU time: 175 s, 208 s and 207 s, within the noise of a shared machine.
    /// Behaviour on Linux is the same (the platform verifier reads the same bundle through
    /// rustls-native-certs and verifies with webpki); building a client reads the store, 10-22 ms for
    /// 292 roots, against 0.2 ms for the compiled-in ones. On macOS and Windows the platform verifier
    /// would also apply the OS's revocation and policy checks: a reason to revisit when reqwest takes
    /// it directly (0.13 does).
    Os,
}

/// Checks a proxy URL: `http://` or `https://` with a host, and no credentials. The message never
/// quotes the URL (it may hold a password).
pub fn check_proxy_url(proxy: &str) -> Result<Url> {
    let url = Url::parse(proxy).map_err(|e| Error::configuration(format!("invalid proxy url: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(Error::configuration(
            "a proxy url must be http:// or https:// with a host",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::configuration(
            "a proxy url must not carry credentials (user:password@)",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() || !matches!(url.path(), "" | "/") {
        return Err(Error::configuration(
            "a proxy url is a scheme, host and port only (no path, query or fragment)",
        ));
    }
    Ok(url)
}

/// Checks PEM text holding root certificates: at least one, each a certificate a TLS client can
/// trust. Returns how many. The message never quotes the text.
pub fn check_root_certificates_pem(pem: &[u8]) -> Result<usize> {
    let certificates =
        reqwest::Certificate::from_pem_bundle(pem).map_err(|_| Error::configuration("root certificate is not PEM"))?;
    if certificates.is_empty() {
        return Err(Error::configuration(
            "no PEM certificate found in the root certificate given",
        ));
    }
    let count = certificates.len();
    // Parsing PEM only checks the base64: a client holding only these roots checks each is X.509.
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false);
    for certificate in certificates {
        builder = builder.add_root_certificate(certificate);
    }
    builder
        .build()
        .map_err(|_| Error::configuration("root certificate is not a usable X.509 certificate"))?;
    Ok(count)
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
