//! The settings every provider client builder shares: key, base URL, timeouts, retries.

use std::fmt;
use std::time::Duration;

use crate::adapter::secret::Secret;
use crate::adapter::transport::{RetryPolicy, TransportConfig, TrustStore};
use crate::currency::Currency;
use crate::error::{Error, Result};

/// What every client builder holds. Provider builders embed it and get its setters from
/// [`client_settings_setters!`](crate::client_settings_setters), so the five builders read the same.
#[derive(Clone)]
#[non_exhaustive]
pub struct ClientSettings {
    /// The API key.
    pub api_key: Option<Secret>,
    /// A base URL overriding the provider's default.
    pub base_url: Option<String>,
    /// Deadline of a whole call, retries and waits included (default 60 s).
    pub timeout: Duration,
    /// Timeout of one attempt (default: only the call's deadline).
    pub attempt_timeout: Option<Duration>,
    /// Connect timeout (default 10 s).
    pub connect_timeout: Duration,
    /// Retry policy (default: 2 retries, 0.5 s base, 8 s cap).
    pub retry: RetryPolicy,
    /// Response size cap (default 8 MiB).
    pub max_response_bytes: usize,
    /// The account currency, for providers whose refunds carry none (set with [`ClientSettings::set_currency`]
    /// or read from `<PREFIX>_CURRENCY`).
    pub currency: Option<Currency>,
    /// A `<PREFIX>_CURRENCY` that is not a currency code, reported by [`ClientSettings::account_currency`].
    pub currency_env_error: Option<String>,
    /// An explicit proxy URL (never used for loopback targets).
    pub proxy: Option<String>,
    /// Extra trusted root certificates (PEM).
    pub root_certificates_pem: Vec<Vec<u8>>,
    /// The trust store beside those roots (default: the web roots compiled in).
    pub trust_store: TrustStore,
}

impl Default for ClientSettings {
    fn default() -> Self {
        ClientSettings {
            api_key: None,
            base_url: None,
            timeout: Duration::from_secs(60),
            attempt_timeout: None,
            connect_timeout: Duration::from_secs(10),
            retry: RetryPolicy::new(),
            max_response_bytes: 8 * 1024 * 1024,
            currency: None,
            currency_env_error: None,
            proxy: None,
            root_certificates_pem: Vec::new(),
            trust_store: TrustStore::default(),
        }
    }
}

impl fmt::Debug for ClientSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSettings")
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("retry", &self.retry)
            .field("currency", &self.currency)
            .field("proxy", &self.proxy.as_ref().map(|_| "[set]"))
            .field("root_certificates", &self.root_certificates_pem.len())
            .field("trust_store", &self.trust_store)
            .finish()
    }
}

impl ClientSettings {
    /// Defaults, no key.
    pub fn new() -> ClientSettings {
        ClientSettings::default()
    }

    /// Reads `<PREFIX>_API_KEY`, `<PREFIX>_BASE_URL` and `<PREFIX>_CURRENCY` (all optional here; `build`
    /// checks what its provider requires).
    pub fn from_env(prefix: &str) -> ClientSettings {
        ClientSettings::from_lookup(prefix, |name| std::env::var(name).ok())
    }

    /// Like [`ClientSettings::from_env`] with another source of variables (a map in tests, a config
    /// file): `lookup` gets the full variable name, `<PREFIX>_API_KEY`.
    pub fn from_lookup(prefix: &str, lookup: impl Fn(&str) -> Option<String>) -> ClientSettings {
        let var = |name: &str| lookup(&format!("{prefix}_{name}")).filter(|v| !v.trim().is_empty());
        let mut settings = ClientSettings {
            api_key: var("API_KEY").map(Secret::new),
            base_url: var("BASE_URL"),
            ..ClientSettings::default()
        };
        if let Some(code) = var("CURRENCY") {
            match Currency::from_code(code.trim()) {
                Ok(currency) => settings.currency = Some(currency),
                Err(e) => settings.currency_env_error = Some(format!("{prefix}_CURRENCY: {}", e.message())),
            }
        }
        settings
    }

    /// Sets the account currency (and forgets a malformed one read from the environment).
    pub fn set_currency(&mut self, currency: Currency) {
        self.currency = Some(currency);
        self.currency_env_error = None;
    }

    /// The account currency: a `Configuration` error for a malformed `<PREFIX>_CURRENCY`, else the
    /// currency set, else a `Configuration` error with `missing` (which should say where to set it).
    pub fn account_currency(&self, missing: impl FnOnce() -> String) -> Result<Currency> {
        if let Some(message) = &self.currency_env_error {
            return Err(Error::configuration(message.clone()));
        }
        self.currency.ok_or_else(|| Error::configuration(missing()))
    }

    /// The key, or a `Configuration` error naming `env_var` as where to put it.
    pub fn require_api_key(&self, provider: &str, env_var: &str) -> Result<&Secret> {
        self.api_key.as_ref().filter(|k| !k.is_empty()).ok_or_else(|| {
            Error::configuration(format!(
                "{provider}: api key missing (set it on the builder or in {env_var})"
            ))
        })
    }

    /// The transport configuration, with the base URL set or `default_base_url`.
    pub fn transport_config(&self, default_base_url: &str) -> Result<TransportConfig> {
        let base = self.base_url.as_deref().unwrap_or(default_base_url);
        let mut config = TransportConfig::new(base)?;
        if let Some(proxy) = &self.proxy {
            config = config.proxy(proxy)?;
        }
        for pem in &self.root_certificates_pem {
            config = config.add_root_certificate_pem(pem)?;
        }
        Ok(config
            .trust_store(self.trust_store)
            .timeout(self.timeout)
            .attempt_timeout(self.attempt_timeout)
            .connect_timeout(self.connect_timeout)
            .retry(self.retry.clone())
            .max_response_bytes(self.max_response_bytes))
    }
}

/// Generates the shared setters (`api_key`, `base_url`, `timeout`, `connect_timeout`, `retry`,
/// `max_retries`, `max_response_bytes`) on a builder that has a [`ClientSettings`] field.
///
/// ```
/// use refunds::adapter::ClientSettings;
/// #[derive(Debug, Default)]
/// pub struct MyBuilder { settings: ClientSettings }
/// impl MyBuilder { refunds::client_settings_setters!(settings); }
/// let b = MyBuilder::default().api_key("sk_test_1").max_retries(0);
/// assert_eq!(b.settings.retry.max_retries, 0);
/// let env = ClientSettings::from_lookup("ACME", |name| (name == "ACME_CURRENCY").then(|| " kwd ".to_owned()));
/// assert_eq!(env.account_currency(|| "missing".into()).unwrap(), refunds::Currency::KWD);
/// let bad = ClientSettings::from_lookup("ACME", |_| Some("dollars".to_owned()));
/// assert!(bad.account_currency(|| "missing".into()).unwrap_err().message().contains("ACME_CURRENCY"));
/// assert!(ClientSettings::new().account_currency(|| "no currency".into()).is_err());
/// ```
#[macro_export]
macro_rules! client_settings_setters {
    ($field:ident) => {
        /// Sets the API key (held as a redacted secret).
        pub fn api_key(mut self, key: impl Into<$crate::adapter::Secret>) -> Self {
            self.$field.api_key = Some(key.into());
            self
        }
        /// Overrides the base URL (`https://`, or `http://` to loopback only, e.g. a sandbox).
        pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
            self.$field.base_url = Some(base_url.into());
            self
        }
        /// Sets the deadline of a whole call, retries and `Retry-After` waits included (default 60 s).
        pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
            self.$field.timeout = timeout;
            self
        }
        /// Sets the timeout of one attempt (default: only the call's deadline bounds it).
        pub fn attempt_timeout(mut self, timeout: std::time::Duration) -> Self {
            self.$field.attempt_timeout = Some(timeout);
            self
        }
        /// Sets the connect timeout (default 10 s).
        pub fn connect_timeout(mut self, timeout: std::time::Duration) -> Self {
            self.$field.connect_timeout = timeout;
            self
        }
        /// Sets the retry policy.
        pub fn retry(mut self, policy: $crate::adapter::RetryPolicy) -> Self {
            self.$field.retry = policy;
            self
        }
        /// Sets the number of retries, keeping the rest of the policy.
        pub fn max_retries(mut self, retries: u32) -> Self {
            self.$field.retry = self.$field.retry.clone().max_retries(retries);
            self
        }
        /// Sets the response size cap.
        pub fn max_response_bytes(mut self, bytes: usize) -> Self {
            self.$field.max_response_bytes = bytes;
            self
        }
        /// Sends requests through an HTTP(S) proxy (checked at `build`; never used for loopback targets,
        /// where a proxy could read the key in the clear). Without it the system proxy variables apply.
        pub fn proxy(mut self, url: impl Into<String>) -> Self {
            self.$field.proxy = Some(url.into());
            self
        }
        /// Trusts one more root certificate, in PEM (checked at `build`).
        pub fn add_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
            self.$field.root_certificates_pem.push(pem.into());
            self
        }
        /// Chooses the trust store beside the added roots (default: the web roots compiled in;
        /// `TrustStore::Os` needs the `os-trust-store` feature).
        pub fn trust_store(mut self, store: $crate::adapter::TrustStore) -> Self {
            self.$field.trust_store = store;
            self
        }
    };
}
