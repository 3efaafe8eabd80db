//! The providers compiled in, and how one is built from settings checked here first, so that every
//! error names the provider and the setting as the user wrote it (a variable, or a key of the config).

use std::sync::Arc;

use refunds::adapter::{AccountCurrency, ClientBuilder, HttpProvider, ProviderSpec, check_base_url};
use refunds::{Currency, Error, RefundProvider, Result};

use crate::KNOWN_PROVIDERS;

/// A source of variables: `std::env::var`, a map, or a config file's mapping.
pub(crate) type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// One provider this build can construct.
pub(crate) struct Kind {
    /// The provider's spec (id, env prefix, currency rule).
    pub spec: ProviderSpec,
    build: fn(Lookup<'_>) -> Result<Arc<dyn RefundProvider>>,
}

fn build<P: HttpProvider>(lookup: Lookup<'_>) -> Result<Arc<dyn RefundProvider>> {
    Ok(Arc::new(ClientBuilder::<P>::from_lookup(lookup).build()?))
}

impl Kind {
    #[allow(dead_code)] // unused when every provider feature is off
    fn of<P: HttpProvider>() -> Kind {
        Kind {
            spec: P::SPEC,
            build: build::<P>,
        }
    }

    /// Builds from `<PREFIX>_API_KEY`, `<PREFIX>_BASE_URL` and `<PREFIX>_CURRENCY` in `lookup`.
    pub fn build_from_env(&self, lookup: Lookup<'_>) -> Result<Arc<dyn RefundProvider>> {
        let var = |name: &str| {
            let name = self.spec.env_var(name);
            Setting::optional(lookup(&name), name)
        };
        let allow_any_host = lookup(&self.spec.env_var("ALLOW_ANY_HOST")).is_some_and(|v| v.trim() == "true");
        self.build(var("API_KEY"), var("BASE_URL"), var("CURRENCY"), allow_any_host)
    }

    /// Checks the three settings, then builds the client through the engine's `from_lookup`.
    pub fn build(
        &self,
        key: Setting,
        base_url: Setting,
        currency: Setting,
        allow_any_host: bool,
    ) -> Result<Arc<dyn RefundProvider>> {
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
        let (key_var, url_var, currency_var) = (
            spec.env_var("API_KEY"),
            spec.env_var("BASE_URL"),
            spec.env_var("CURRENCY"),
        );
        let lookup = |name: &str| {
            if name == key_var {
                Some(key.clone())
            } else if name == url_var {
                base_url.clone()
            } else if name == currency_var {
                currency.clone()
            } else {
                None
            }
        };
        (self.build)(&lookup).map_err(|e| e.with_provider(spec.id))
    }
}

/// The hosts the provider documents, for its test and live keys.
fn documented_hosts(spec: &ProviderSpec) -> Vec<String> {
    let mut hosts: Vec<String> = [spec.hosts.test, spec.hosts.live]
        .iter()
        .filter_map(|url| check_base_url(url).ok()?.host_str().map(str::to_ascii_lowercase))
        .collect();
    hosts.dedup();
    hosts
}

/// Whether a key may go to `host` without the operator's explicit leave.
fn documented_or_loopback(spec: &ProviderSpec, host: &str) -> bool {
    let host = host.to_ascii_lowercase();
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

/// Every provider compiled in, in [`KNOWN_PROVIDERS`] order.
#[allow(clippy::vec_init_then_push)] // one push per feature
pub(crate) fn all() -> Vec<Kind> {
    #[allow(unused_mut)]
    let mut kinds = Vec::new();
    #[cfg(feature = "fourgeeks")]
    kinds.push(Kind::of::<refunds_fourgeeks::FourGeeks>());
    #[cfg(feature = "xpay")]
    kinds.push(Kind::of::<refunds_xpay::XPay>());
    #[cfg(feature = "bias")]
    kinds.push(Kind::of::<refunds_bias::Bias>());
    #[cfg(feature = "syncgram")]
    kinds.push(Kind::of::<refunds_syncgram::Syncgram>());
    #[cfg(feature = "wooshpay")]
    kinds.push(Kind::of::<refunds_wooshpay::WooshPay>());
    kinds
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
