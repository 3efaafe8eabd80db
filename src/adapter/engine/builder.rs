//! The builder: settings, currency, key mode, auth and the provider's state, checked once into a `Client`.

use std::fmt;
use std::sync::Arc;

use super::payment_currency::PaymentCurrencies;
use crate::adapter::auth::Auth;
use crate::adapter::secret::Secret;
use crate::adapter::settings::ClientSettings;
use crate::adapter::spec::{AccountCurrency, AuthStyle, Idempotency, ProviderSpec};
use crate::adapter::transport::{ApiRequest, Transport};
use crate::currency::Currency;
use crate::error::{Error, Result};
use crate::provider::ProviderInfo;

use super::{Client, HttpProvider, Setup, Shared, capabilities_of};

/// Builds a [`Client`]: the API key is required; the base URL, timeouts, retries and (for providers
/// whose refunds carry no currency) the account currency have defaults or come from the environment.
pub struct ClientBuilder<P: HttpProvider> {
    settings: ClientSettings,
    options: P::Options,
}

impl<P: HttpProvider> fmt::Debug for ClientBuilder<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("provider", &P::SPEC.id)
            .field("settings", &self.settings)
            .field("options", &self.options)
            .finish()
    }
}

impl<P: HttpProvider> Clone for ClientBuilder<P> {
    fn clone(&self) -> Self {
        ClientBuilder {
            settings: self.settings.clone(),
            options: self.options.clone(),
        }
    }
}

impl<P: HttpProvider> Default for ClientBuilder<P> {
    fn default() -> Self {
        ClientBuilder::new()
    }
}

impl<P: HttpProvider> ClientBuilder<P> {
    crate::client_settings_setters!(settings);

    /// Defaults and no key.
    pub fn new() -> ClientBuilder<P> {
        ClientBuilder {
            settings: ClientSettings::new(),
            options: P::Options::default(),
        }
    }

    /// Settings from `<PREFIX>_API_KEY`, `<PREFIX>_BASE_URL` and `<PREFIX>_CURRENCY` (each optional
    /// here; `build` reports what is missing or malformed, naming the variable).
    pub fn from_env() -> ClientBuilder<P> {
        ClientBuilder::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`ClientBuilder::from_env`] with another source of variables (a map, a config file).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> ClientBuilder<P> {
        ClientBuilder {
            settings: ClientSettings::from_lookup(P::SPEC.env_prefix, lookup),
            options: P::Options::default(),
        }
    }

    /// From typed settings (what a registry has read and checked), no provider options.
    pub fn from_settings(settings: ClientSettings) -> ClientBuilder<P> {
        ClientBuilder {
            settings,
            options: P::Options::default(),
        }
    }

    /// The account currency: required where refunds carry none, a check on creates elsewhere.
    pub fn currency(mut self, currency: Currency) -> Self {
        self.settings.set_currency(currency);
        self
    }

    /// The provider's own options.
    pub fn options(mut self, options: P::Options) -> Self {
        self.options = options;
        self
    }

    /// The settings so far.
    pub fn settings(&self) -> &ClientSettings {
        &self.settings
    }

    /// Whether a key of this provider is live (`Some(true)`), test (`Some(false)`) or does not say
    /// (`None`, also for every key where [`ProviderSpec::key_modes`] is false): the rule `build` uses
    /// to pick the default host, for a caller that must know the mode without building a client.
    pub fn livemode_of_key(key: &str) -> Option<bool> {
        livemode_of_key(&P::SPEC, key)
    }

    /// The client, or a `Configuration` error naming the provider and what is missing or malformed.
    pub fn build(self) -> Result<Client<P>> {
        let spec = &P::SPEC;
        let tag = |e: Error| e.with_provider(spec.id);
        let key_var = spec.env_var("API_KEY");
        let key = self.settings.require_api_key(spec.id, &key_var).map_err(tag)?.clone();
        let currency = self.account_currency().map_err(tag)?;
        let livemode = key_mode(spec, &key);
        let auth = auth_for(spec, key).map_err(tag)?;
        let default_url = if livemode == Some(true) {
            spec.hosts.live
        } else {
            spec.hosts.test
        };
        let idempotency_header = idempotency_header(spec).map_err(tag)?;
        let provider = P::new(Setup {
            settings: &self.settings,
            currency,
            livemode,
            options: &self.options,
        })
        .map_err(tag)?;
        let mut config = self.settings.transport_config(default_url).map_err(tag)?;
        config.default_headers.extend(provider.default_headers());
        let transport = Transport::new(spec.id, config, auth, P::read_error).map_err(tag)?;
        let refunds_url = transport.url(&ApiRequest::get(spec.refunds_path)).map_err(|e| {
            tag(Error::configuration(format!(
                "the spec's refunds path: {}",
                e.message()
            )))
        })?;
        Ok(Client {
            shared: Arc::new(Shared {
                provider,
                options: self.options.clone(),
                transport,
                info: ProviderInfo::new(spec.id, spec.name, capabilities_of::<P>()),
                currency,
                livemode,
                idempotency_header,
                refunds_url: Arc::new(refunds_url),
                payment_currencies: PaymentCurrencies::default(),
            }),
        })
    }

    /// The account currency the spec asks for: required, defaulted, or only a check (a malformed
    /// `<PREFIX>_CURRENCY` is an error even where a default exists, rather than silently replaced).
    fn account_currency(&self) -> Result<Option<Currency>> {
        let spec = &P::SPEC;
        match spec.currency {
            AccountCurrency::Required => Ok(Some(self.settings.account_currency(|| {
                format!(
                    "{}: account currency missing ({} refunds carry none; set it with .currency(..) or in {})",
                    spec.id,
                    spec.name,
                    spec.env_var("CURRENCY")
                )
            })?)),
            AccountCurrency::Default(default) => {
                if let Some(message) = &self.settings.currency_env_error {
                    return Err(Error::configuration(message.clone()));
                }
                Ok(Some(self.settings.currency.unwrap_or(default)))
            }
            AccountCurrency::OnTheWire | AccountCurrency::FromPayment => {
                if let Some(message) = &self.settings.currency_env_error {
                    return Err(Error::configuration(message.clone()));
                }
                Ok(self.settings.currency)
            }
        }
    }
}

/// Live or test, where the spec says the key's prefix tells; `None` where it does not.
fn key_mode(spec: &ProviderSpec, key: &Secret) -> Option<bool> {
    livemode_of_key(spec, key.expose())
}

fn livemode_of_key(spec: &ProviderSpec, key: &str) -> Option<bool> {
    if !spec.key_modes {
        None
    } else if key.starts_with("sk_live_") {
        Some(true)
    } else if key.starts_with("sk_test_") || key.starts_with("sk_sandbox_") {
        Some(false)
    } else {
        None
    }
}

fn auth_for(spec: &ProviderSpec, key: Secret) -> Result<Auth> {
    match spec.auth {
        AuthStyle::Bearer => Auth::bearer(key),
        AuthStyle::Header(name) => Auth::api_key_header(name, key),
        AuthStyle::BasicKeyAsUser => Auth::basic(key, ""),
    }
}

/// The spec's idempotency header, checked once here so that no create fails on a bad name.
fn idempotency_header(spec: &ProviderSpec) -> Result<Option<http::HeaderName>> {
    match spec.idempotency {
        Idempotency::Header(name) => http::HeaderName::from_bytes(name.as_bytes())
            .map(Some)
            .map_err(|_| Error::configuration(format!("invalid idempotency header name {name:?}"))),
        _ => Ok(None),
    }
}
