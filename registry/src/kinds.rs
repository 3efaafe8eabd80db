//! The providers compiled in, and how one is built from settings checked here first, so that every
//! error names the provider and the setting as the user wrote it (a variable, or a key of the config).

use std::sync::{Arc, RwLock};
use std::time::Duration;

use refunds::adapter::{AccountCurrency, ClientSettings, Descriptor, ProviderSpec, Secret, TrustStore, check_base_url};
use refunds::{Currency, Error, RefundProvider, Result};

use crate::KNOWN_PROVIDERS;
use crate::mode::{AccountMode, Mode, ModeSource};

/// A source of variables: `std::env::var`, a map, or a config file's mapping.
pub(crate) type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// One provider this registry can construct: a descriptor, compiled in or registered at run time.
#[derive(Clone, Copy)]
pub(crate) struct Kind {
    /// The provider's spec (id, env prefix, currency rule).
    pub spec: ProviderSpec,
    pub descriptor: Descriptor,
}

/// The transport settings an account may set; `None` keeps the client builder's default.
#[derive(Debug, Clone, Default)]
pub(crate) struct Transport {
    pub timeout: Option<Duration>,
    pub connect_timeout: Option<Duration>,
    pub attempt_timeout: Option<Duration>,
    pub proxy: Option<String>,
    /// PEM files already read and checked.
    pub roots: Vec<Vec<u8>>,
    pub trust_store: TrustStore,
}

impl Transport {
    /// Sets what the account set; the rest keeps the client's defaults.
    fn apply(&self, client: &mut ClientSettings) {
        if let Some(timeout) = self.timeout {
            client.timeout = timeout;
        }
        if let Some(timeout) = self.connect_timeout {
            client.connect_timeout = timeout;
        }
        if self.attempt_timeout.is_some() {
            client.attempt_timeout = self.attempt_timeout;
        }
        client.proxy.clone_from(&self.proxy);
        client.root_certificates_pem.clone_from(&self.roots);
        client.trust_store = self.trust_store;
    }
}

impl Kind {
    fn of(descriptor: Descriptor) -> Kind {
        Kind {
            spec: descriptor.spec,
            descriptor,
        }
    }

    /// The mode the key's prefix says, where this provider's keys say.
    pub fn key_mode(&self, key: &str) -> Option<Mode> {
        self.descriptor
            .livemode_of_key(key.trim())
            .map(|live| if live { Mode::Live } else { Mode::Test })
    }

    /// The mode the host says, where the provider has separate test and live hosts: `base_url`'s
    /// host, else the default host (the test host unless the key is live, as the client picks it).
    pub fn host_mode(&self, base_url: Option<&str>) -> Option<Mode> {
        let hosts = &self.spec.hosts;
        if host_of(hosts.test) == host_of(hosts.live) {
            return None;
        }
        let host = host_of(base_url.unwrap_or(hosts.test))?;
        if Some(&host) == host_of(hosts.live).as_ref() {
            Some(Mode::Live)
        } else if Some(&host) == host_of(hosts.test).as_ref() {
            Some(Mode::Test)
        } else {
            None
        }
    }

    /// The default base URL of `mode` where the provider has separate test and live hosts.
    pub fn host_of_mode(&self, mode: Mode) -> Option<&'static str> {
        let hosts = &self.spec.hosts;
        (host_of(hosts.test) != host_of(hosts.live)).then_some(match mode {
            Mode::Test => hosts.test,
            Mode::Live => hosts.live,
        })
    }

    /// The mode: stated, else the key's, else the host's, else live assumed.
    pub fn mode(&self, stated: Option<Mode>, key: Option<&str>, base_url: Option<&str>) -> AccountMode {
        if let Some(mode) = stated {
            return AccountMode::set(mode);
        }
        // A base url on the live host is live whatever the key says: money moves at the host.
        if base_url.is_some() && self.host_mode(base_url) == Some(Mode::Live) {
            return AccountMode {
                mode: Mode::Live,
                source: ModeSource::Host,
            };
        }
        if let Some(mode) = key.and_then(|key| self.key_mode(key)) {
            return AccountMode {
                mode,
                source: ModeSource::Key,
            };
        }
        match self.host_mode(base_url) {
            Some(mode) => AccountMode {
                mode,
                source: ModeSource::Host,
            },
            None => AccountMode::assumed(),
        }
    }

    /// Builds from `<PREFIX>_API_KEY`, `<PREFIX>_BASE_URL` and `<PREFIX>_CURRENCY` in `lookup`.
    /// The mode from the key's prefix or the host (no mode variable is read).
    pub fn build_from_env(&self, lookup: Lookup<'_>) -> Result<(Arc<dyn RefundProvider>, AccountMode)> {
        let var = |name: &str| {
            let name = self.spec.env_var(name);
            Setting::optional(lookup(&name), name)
        };
        let allow_any_host = lookup(&self.spec.env_var("ALLOW_ANY_HOST")).is_some_and(|v| v.trim() == "true");
        let settings = Settings {
            key: var("API_KEY"),
            base_url: var("BASE_URL"),
            currency: var("CURRENCY"),
            allow_any_host,
        };
        let mode = self.mode(
            None,
            settings.key.value(&self.spec)?.as_deref(),
            settings.base_url.value(&self.spec)?.as_deref(),
        );
        Ok((self.build(settings, &Transport::default())?, mode))
    }

    /// Checks the settings, then builds the client from them, typed, through the descriptor.
    pub fn build(&self, settings: Settings, transport: &Transport) -> Result<Arc<dyn RefundProvider>> {
        let Settings {
            key,
            base_url,
            currency,
            allow_any_host,
        } = settings;
        let spec = &self.spec;
        let key = key.require(spec)?;
        let url_setting = base_url.clone();
        let base_url = base_url.value(spec)?;
        if let Some(url) = &base_url {
            // The rule, never the value: a `*_env` may name the variable holding a key, and the
            // parser's message would quote it.
            let url = check_base_url(url).map_err(|_| {
                url_setting.error(
                    spec,
                    "is not a usable base url: an https url, or plain http to a loopback host, without \
                     credentials, query or fragment",
                )
            })?;
            if !allow_any_host && !documented_or_loopback(spec, url.host_str().unwrap_or_default()) {
                return Err(url_setting.error(
                    spec,
                    &format!(
                        "names a host that is neither {}'s ({}) nor loopback: the key would go there. To mean \
                         it, set allow_any_host = true in the provider's table (or {}=true)",
                        spec.name,
                        documented_hosts(spec).join(", "),
                        spec.env_var("ALLOW_ANY_HOST")
                    ),
                ));
            }
        }
        let currency_setting = currency.clone();
        let currency = currency.value(spec)?;
        if let Some(code) = &currency {
            Currency::from_code(code).map_err(|_| {
                currency_setting.error(
                    spec,
                    "is not a currency code: an ISO 4217 code of three letters, such as USD",
                )
            })?;
        } else if spec.currency == AccountCurrency::Required {
            return Err(currency_setting.error(
                spec,
                &format!(
                    "is not set ({} refunds carry no currency: the account currency is required)",
                    spec.name
                ),
            ));
        }
        let mut client = ClientSettings::new();
        client.api_key = Some(Secret::new(key));
        client.base_url = base_url;
        if let Some(code) = &currency {
            client.set_currency(Currency::from_code(code)?);
        }
        transport.apply(&mut client);
        self.descriptor.build(client).map_err(|e| e.with_provider(spec.id))
    }
}

/// The settings every provider has, as the user wrote them.
pub(crate) struct Settings {
    pub key: Setting,
    pub base_url: Setting,
    pub currency: Setting,
    /// The operator's explicit leave to send the key to a host the provider does not document.
    pub allow_any_host: bool,
}

/// The lower-case host of a URL, if it is a usable base URL.
fn host_of(url: &str) -> Option<String> {
    check_base_url(url.trim()).ok()?.host_str().map(canonical_host)
}

/// A host as DNS reads it: lower case, without the root's trailing dot (`api.wooshpay.com.` is
/// `api.wooshpay.com`: a comparison of the two strings must not tell them apart).
fn canonical_host(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// The hosts the provider documents, for its test and live keys.
fn documented_hosts(spec: &ProviderSpec) -> Vec<String> {
    let mut hosts: Vec<String> = [spec.hosts.test, spec.hosts.live]
        .iter()
        .filter_map(|url| check_base_url(url).ok()?.host_str().map(canonical_host))
        .collect();
    hosts.dedup();
    hosts
}

/// Whether a key may go to `host` without the operator's explicit leave.
fn documented_or_loopback(spec: &ProviderSpec, host: &str) -> bool {
    let host = canonical_host(host);
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    documented_hosts(spec).contains(&host)
        || host == "localhost"
        || bare.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// One setting: its value, what the user calls it (a variable, or a key of the config file), and
/// whether naming it made it required.
#[derive(Debug, Clone)]
pub(crate) struct Setting {
    value: Option<String>,
    name: String,
    context: String,
    required: bool,
}

impl Setting {
    /// A setting that may be absent.
    pub fn optional(value: Option<String>, name: impl Into<String>) -> Setting {
        Setting {
            value,
            name: name.into(),
            context: String::new(),
            required: false,
        }
    }

    /// A setting that must be present (a variable the config file names).
    pub fn required(value: Option<String>, name: impl Into<String>) -> Setting {
        Setting {
            required: true,
            ..Setting::optional(value, name)
        }
    }

    /// Adds where the name comes from, shown after it in parentheses.
    pub fn context(mut self, context: impl Into<String>) -> Setting {
        self.context = context.into();
        self
    }

    /// `"<provider>: <name> <problem> (<context>)"`.
    pub fn error(&self, spec: &ProviderSpec, problem: &str) -> Error {
        let context = if self.context.is_empty() {
            String::new()
        } else {
            format!(" ({})", self.context)
        };
        Error::configuration(format!("{}: {} {problem}{context}", spec.id, self.name)).with_provider(spec.id)
    }

    fn trimmed(&self) -> Option<String> {
        self.value
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }

    /// The value, trimmed; an error when it is required and absent or blank.
    pub fn value(&self, spec: &ProviderSpec) -> Result<Option<String>> {
        match self.trimmed() {
            None if self.required => Err(self.error(spec, "is not set")),
            value => Ok(value),
        }
    }

    /// The value, which must be present.
    pub fn require(&self, spec: &ProviderSpec) -> Result<String> {
        self.trimmed().ok_or_else(|| self.error(spec, "is not set"))
    }
}

/// The descriptors compiled in, one line per provider (and its feature), in [`KNOWN_PROVIDERS`] order.
const BUILT_IN: &[Descriptor] = &[
    #[cfg(feature = "fourgeeks")]
    refunds_fourgeeks::DESCRIPTOR,
    #[cfg(feature = "xpay")]
    refunds_xpay::DESCRIPTOR,
    #[cfg(feature = "bias")]
    refunds_bias::DESCRIPTOR,
    #[cfg(feature = "syncgram")]
    refunds_syncgram::DESCRIPTOR,
    #[cfg(feature = "wooshpay")]
    refunds_wooshpay::DESCRIPTOR,
];

/// Descriptors given at run time ([`crate::register`]), after the built-in ones.
static REGISTERED: RwLock<Vec<Descriptor>> = RwLock::new(Vec::new());

/// Adds a provider written elsewhere; an id already known is refused.
pub(crate) fn register(descriptor: Descriptor) -> Result<()> {
    let id = descriptor.spec.id;
    let mut registered = REGISTERED.write().unwrap_or_else(|p| p.into_inner());
    if BUILT_IN.iter().chain(registered.iter()).any(|d| d.spec.id == id) {
        return Err(Error::configuration(format!("{id}: a provider with this id is already known")).with_provider(id));
    }
    if id.is_empty()
        || !id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        return Err(Error::configuration(format!(
            "{id:?}: a provider id is lower-case letters, digits, '-' and '_'"
        )));
    }
    registered.push(descriptor);
    Ok(())
}

/// Every provider this registry knows: the built-in ones, then those registered at run time.
pub(crate) fn all() -> Vec<Kind> {
    let registered = REGISTERED.read().unwrap_or_else(|p| p.into_inner());
    BUILT_IN
        .iter()
        .chain(registered.iter())
        .copied()
        .map(Kind::of)
        .collect()
}

/// The provider `id`, or an error saying, in `source`, that it is unknown or not compiled in.
pub(crate) fn find(id: &str, source: &str) -> Result<Kind> {
    if let Some(kind) = all().into_iter().find(|k| k.spec.id == id) {
        return Ok(kind);
    }
    let message = if KNOWN_PROVIDERS.contains(&id) {
        format!("{source}: provider {id} is not compiled in (enable the `{id}` feature of refunds-registry)")
    } else {
        format!(
            "{source}: unknown provider {id:?} (known: {})",
            crate::available().join(", ")
        )
    };
    Err(Error::configuration(message))
}
