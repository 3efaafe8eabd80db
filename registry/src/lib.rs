//! # refunds-registry
//!
//! Every provider of the [`refunds`] SDK behind one [`Registry`]: `Arc<dyn RefundProvider>` by provider
//! id, routed by [`Refund::provider`], built in one call from the environment or from a TOML file that
//! names the environment variables holding the keys (and never holds a key itself).
//!
//! ```no_run
//! use refunds::{CreateRefund, PaymentRef, RefundProvider};
//! use refunds_registry::Registry;
//!
//! # async fn run(stored: refunds::Refund) -> refunds::Result<()> {
//! // REFUNDS_PROVIDERS=bias,wooshpay BIAS_API_KEY=... WOOSHPAY_API_KEY=...
//! let registry = Registry::from_env()?;
//! let bias = registry.provider("bias")?;
//! bias.create_refund(&CreateRefund::new(PaymentRef::payment("pay_123")?)).await?;
//! // A refund read back (a webhook, a database row) goes to the provider that made it.
//! let fresh = registry.for_refund(&stored)?.get_refund(&stored.id).await?;
//! # let _ = fresh;
//! # Ok(())
//! # }
//! ```
//!
//! ## From the environment
//!
//! `REFUNDS_PROVIDERS` lists the providers, comma-separated, in the order [`Registry::providers`]
//! yields them; each reads its own variables as its client builder does: `<PREFIX>_API_KEY`
//! (required), `<PREFIX>_BASE_URL` and `<PREFIX>_CURRENCY` (required by 4Geeks and SyncgramPay, whose
//! refunds carry no currency).
//!
//! ```text
//! REFUNDS_PROVIDERS=bias,wooshpay
//! BIAS_API_KEY=sk_live_...
//! BIAS_CURRENCY=KWD
//! WOOSHPAY_API_KEY=sk_live_...
//! ```
//!
//! ## From a TOML file
//!
//! One table per provider under `[providers]`, in the order the registry keeps. Keys are never in the
//! file: `api_key_env` names the variable holding the key (default `<PREFIX>_API_KEY`), and a table
//! with a literal key (`api_key = "..."`) is refused. `base_url` and `currency` are literal settings,
//! or `base_url_env` and `currency_env` name variables holding them.
//!
//! ```toml
//! [providers.bias]
//! api_key_env = "BIAS_API_KEY"
//! currency = "KWD"
//!
//! [providers.fourgeeks]
//! api_key_env = "FOURGEEKS_KEY"
//! currency = "USD"
//! base_url_env = "FOURGEEKS_URL"
//! ```
//!
//! ## Errors
//!
//! Every error is a [`refunds::Error`] of kind `Configuration` (delivery `NotSent`) naming the provider
//! and the setting: `bias: BIAS_API_KEY is not set`, `fourgeeks: currency in [providers.fourgeeks] of
//! refunds.toml is not a currency code: ...`.
//!
//! ## Features
//!
//! One per provider (`fourgeeks`, `xpay`, `bias`, `syncgram`, `wooshpay`), all on by default; a
//! provider whose feature is off is reported as not compiled in. `sandbox` adds [`Registry::sandbox`]:
//! every enabled provider on its embedded sandbox, seeded with a demo payment, no credentials; and
//! `sandbox::serve`, the same sandboxes as a standalone server (`refunds sandbox serve`).

#![cfg_attr(docsrs, feature(doc_cfg))]

mod config;
mod kinds;
#[cfg(feature = "sandbox")]
pub mod sandbox;

use std::fmt;
use std::sync::Arc;

use refunds::{Error, Refund, RefundProvider, Result};

pub use config::Config;

/// The variable listing the providers [`Registry::from_env`] builds: `REFUNDS_PROVIDERS=bias,wooshpay`.
pub const PROVIDERS_VAR: &str = "REFUNDS_PROVIDERS";

/// Every provider id this crate knows, whether or not its feature is enabled.
pub const KNOWN_PROVIDERS: &[&str] = &["fourgeeks", "xpay", "bias", "syncgram", "wooshpay"];

/// The provider ids compiled into this build (one cargo feature each), in [`KNOWN_PROVIDERS`] order.
pub fn available() -> Vec<&'static str> {
    kinds::all().iter().map(|k| k.spec.id).collect()
}

/// Providers by id: `Arc<dyn RefundProvider>` each, in the order they were added. Cheap to clone.
#[derive(Clone, Default)]
pub struct Registry {
    providers: Vec<Arc<dyn RefundProvider>>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("providers", &self.ids().collect::<Vec<_>>())
            .finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Adds `provider` under its [`ProviderInfo::id`](refunds::ProviderInfo::id), replacing (and
    /// returning) one with the same id, which keeps its place.
    pub fn insert(&mut self, provider: Arc<dyn RefundProvider>) -> Option<Arc<dyn RefundProvider>> {
        let id = provider.info().id;
        match self.providers.iter_mut().find(|p| p.info().id == id) {
            Some(slot) => Some(std::mem::replace(slot, provider)),
            None => {
                self.providers.push(provider);
                None
            }
        }
    }

    /// [`Registry::insert`], by value.
    pub fn with(mut self, provider: Arc<dyn RefundProvider>) -> Registry {
        self.insert(provider);
        self
    }

    /// The provider with this id, if registered.
    pub fn get(&self, id: &str) -> Option<&Arc<dyn RefundProvider>> {
        self.providers.iter().find(|p| p.info().id == id)
    }

    /// The provider with this id, or a `Configuration` error naming it and the registered ids.
    pub fn provider(&self, id: &str) -> Result<&Arc<dyn RefundProvider>> {
        self.get(id).ok_or_else(|| {
            let known = self.ids().collect::<Vec<_>>();
            let known = if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            };
            Error::configuration(format!("{id}: provider is not in the registry (registered: {known})"))
                .with_provider(id.to_owned())
        })
    }

    /// The provider that made `refund` (by [`Refund::provider`]), or a `Configuration` error naming it.
    pub fn for_refund(&self, refund: &Refund) -> Result<&Arc<dyn RefundProvider>> {
        self.provider(&refund.provider)
    }

    /// Every provider, in the order they were added (the order `REFUNDS_PROVIDERS` or the config file
    /// lists them).
    pub fn providers(&self) -> std::slice::Iter<'_, Arc<dyn RefundProvider>> {
        self.providers.iter()
    }

    /// Every provider id, in order.
    pub fn ids(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.providers.iter().map(|p| p.info().id)
    }

    /// How many providers are registered.
    pub fn len(&self) -> usize {
        self.providers.len()
    }

    /// True when no provider is registered.
    pub fn is_empty(&self) -> bool {
        self.providers.is_empty()
    }

    /// The providers `REFUNDS_PROVIDERS` lists, each configured from its own variables
    /// (`<PREFIX>_API_KEY`, `<PREFIX>_BASE_URL`, `<PREFIX>_CURRENCY`).
    pub fn from_env() -> Result<Registry> {
        Registry::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`Registry::from_env`] with another source of variables (a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Registry> {
        let list = lookup(PROVIDERS_VAR).filter(|v| !v.trim().is_empty()).ok_or_else(|| {
            Error::configuration(format!(
                "{PROVIDERS_VAR} is not set (a comma-separated list of: {})",
                available().join(", ")
            ))
        })?;
        // Every id first, so that a typo is reported before a missing key of another provider.
        let mut kinds: Vec<kinds::Kind> = Vec::new();
        for id in list.split(',').map(str::trim) {
            if id.is_empty() {
                return Err(Error::configuration(format!(
                    "{PROVIDERS_VAR}: empty provider id in {list:?}"
                )));
            }
            let kind = kinds::find(id, PROVIDERS_VAR)?;
            if kinds.iter().any(|k| k.spec.id == kind.spec.id) {
                return Err(Error::configuration(format!("{PROVIDERS_VAR} names {id} twice")));
            }
            kinds.push(kind);
        }
        let mut registry = Registry::new();
        for kind in kinds {
            registry.insert(kind.build_from_env(&lookup)?);
        }
        Ok(registry)
    }

    /// The providers a TOML config file lists, their keys read from the variables it names.
    pub fn from_config_file(path: impl AsRef<std::path::Path>) -> Result<Registry> {
        Config::from_file(path)?.build()
    }
}

impl<'a> IntoIterator for &'a Registry {
    type Item = &'a Arc<dyn RefundProvider>;
    type IntoIter = std::slice::Iter<'a, Arc<dyn RefundProvider>>;

    fn into_iter(self) -> Self::IntoIter {
        self.providers.iter()
    }
}
