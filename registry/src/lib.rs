//! # refunds-registry
//!
//! Every provider of the [`refunds`] SDK behind one [`Registry`]: `Arc<dyn RefundProvider>` by account
//! name (several accounts of one provider, each test or live), routed by [`Refund::provider`], built
//! from the environment or from a TOML file that names the environment variables holding the keys
//! (and never holds a key itself), one account at a time if you like.
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
//! ## From a TOML file: accounts
//!
//! Each `[accounts.<name>]` table is an account: a provider, the variable holding its key, its
//! [`Mode`] and its transport settings (`timeout`, `connect_timeout`, `attempt_timeout` as `"30s"` or
//! `"500ms"`, `proxy`, `ca_roots`, `trust_store`). A `[providers.<id>]` table is the account named
//! `<id>`. Keys are never in the file: `api_key_env` names the variable holding the key, and a table
//! with a literal key (`api_key = "..."`) is refused. The crate's README has the full example (parsed
//! by a test) and the rules for each setting.
//!
//! ```toml
//! [accounts.bias-eu]
//! provider = "bias"
//! api_key_env = "BIAS_EU_API_KEY"
//! currency = "KWD"
//! mode = "live"
//! timeout = "30s"
//!
//! [accounts.bias-us]
//! provider = "bias"
//! api_key_env = "BIAS_US_API_KEY"
//! currency = "USD"
//! proxy = "https://proxy.corp.example:3128"
//! trust_store = "os"
//! ca_roots = ["corp-root.pem"]
//! allow_any_host = true
//!
//! [providers.fourgeeks]
//! api_key_env = "FOURGEEKS_KEY"
//! currency = "USD"
//! base_url_env = "FOURGEEKS_URL"
//! ```
//!
//! Building is per account: [`Config::account`] then [`AccountConfig::build_with`] (or
//! [`Config::build_accounts_with`]) read only that account's key, variables and files, and
//! [`AccountConfig::mode_with`] tells test from live without building. [`Registry::for_refund`]
//! routes by [`Refund::provider`] and is an error naming the candidates when that provider has
//! several accounts.
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
//! provider whose feature is off is reported as not compiled in. `os-trust-store` allows
//! `trust_store = "os"`. `sandbox` adds [`Registry::sandbox`]:
//! every enabled provider on its embedded sandbox, seeded with a demo payment, no credentials; and
//! `sandbox::serve`, the same sandboxes as a standalone server (`refunds sandbox serve`).

#![cfg_attr(docsrs, feature(doc_cfg))]

mod account;
mod config;
mod kinds;
mod mode;
#[cfg(feature = "sandbox")]
pub mod sandbox;
mod values;

use std::fmt;
use std::sync::Arc;

use refunds::{Error, Refund, RefundProvider, Result};

pub use account::AccountConfig;
pub use config::Config;
pub use mode::{Account, AccountMode, Mode, ModeSource};

/// The variable listing the providers [`Registry::from_env`] builds: `REFUNDS_PROVIDERS=bias,wooshpay`.
pub const PROVIDERS_VAR: &str = "REFUNDS_PROVIDERS";

/// Every provider id this crate knows, whether or not its feature is enabled.
pub const KNOWN_PROVIDERS: &[&str] = &["fourgeeks", "xpay", "bias", "syncgram", "wooshpay"];

/// The provider ids this registry can build: those compiled in (one cargo feature each), in
/// [`KNOWN_PROVIDERS`] order, then those [`register`]ed at run time.
pub fn available() -> Vec<&'static str> {
    kinds::all().iter().map(|k| k.spec.id).collect()
}

/// The descriptor of provider `id`, compiled in or registered.
pub fn descriptor(id: &str) -> Option<refunds::adapter::Descriptor> {
    kinds::all().into_iter().find(|k| k.spec.id == id).map(|k| k.descriptor)
}

/// Every descriptor this registry knows, in [`available`] order.
pub fn descriptors() -> Vec<refunds::adapter::Descriptor> {
    kinds::all().into_iter().map(|k| k.descriptor).collect()
}

/// Makes a provider written outside this crate known to every registry and config built after, in
/// this process, as if it were compiled in: `REFUNDS_PROVIDERS`, `provider = "..."` in a config file,
/// [`Registry::sandbox`] (when the descriptor has a sandbox kit). An id already known, or not of
/// lower-case letters, digits, `-` and `_`, is a `Configuration` error. `examples/custom_provider.rs`
/// in the repository shows a whole provider written this way.
pub fn register(descriptor: refunds::adapter::Descriptor) -> Result<()> {
    kinds::register(descriptor)
}

/// Accounts by name, each a provider's client with its mode, in the order they were added. Cheap to
/// clone.
///
/// A name resolves to the account of that name, else to the only account of the provider with that
/// id: `provider("bias")` finds `[providers.bias]`, or `[accounts.bias-eu]` when it is Bias' only
/// account, and is an error naming both when Bias has two.
#[derive(Clone, Default)]
pub struct Registry {
    accounts: Vec<Account>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry").field("accounts", &self.accounts).finish()
    }
}

/// The one candidate for `name`, or an error naming the accounts there are (`place`: "the registry",
/// a file), or the candidates when several accounts of the provider `name` exist.
pub(crate) fn pick<'a, T>(
    name: &str,
    all: &[&str],
    of_provider: Vec<&'a T>,
    name_of: impl Fn(&T) -> &str,
    place: &str,
) -> Result<&'a T> {
    let tag = |error: Error| match available().into_iter().find(|id| *id == name) {
        Some(id) => error.with_provider(id),
        None => error,
    };
    match of_provider.as_slice() {
        [one] => Ok(one),
        [] => {
            let known = if all.is_empty() {
                "none".to_owned()
            } else {
                all.join(", ")
            };
            Err(tag(Error::configuration(format!(
                "{name}: no account or provider of that name is in {place} (registered: {known})"
            ))))
        }
        many => {
            let names: Vec<&str> = many.iter().map(|t| name_of(t)).collect();
            Err(tag(Error::configuration(format!(
                "{name}: {} accounts of this provider are in {place} ({}): name the account",
                names.len(),
                names.join(", ")
            ))))
        }
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Adds `provider` as an account named after its [`ProviderInfo::id`](refunds::ProviderInfo::id)
    /// whose mode is not known (live, assumed), replacing (and returning) one with the same name,
    /// which keeps its place.
    pub fn insert(&mut self, provider: Arc<dyn RefundProvider>) -> Option<Arc<dyn RefundProvider>> {
        let name = provider.info().id;
        self.insert_account(Account::new(name, provider, AccountMode::assumed()))
            .map(|old| old.provider().clone())
    }

    /// Adds an account, replacing (and returning) one with the same name, which keeps its place.
    pub fn insert_account(&mut self, account: Account) -> Option<Account> {
        match self.accounts.iter_mut().find(|a| a.name() == account.name()) {
            Some(slot) => Some(std::mem::replace(slot, account)),
            None => {
                self.accounts.push(account);
                None
            }
        }
    }

    /// [`Registry::insert`], by value.
    pub fn with(mut self, provider: Arc<dyn RefundProvider>) -> Registry {
        self.insert(provider);
        self
    }

    /// The account `name`, else the only account of the provider `name` (see [`Registry`]); an
    /// error names the accounts there are, or the candidates.
    pub fn account(&self, name: &str) -> Result<&Account> {
        if let Some(account) = self.accounts.iter().find(|a| a.name() == name) {
            return Ok(account);
        }
        let names: Vec<&str> = self.names().collect();
        let of_provider = self.accounts.iter().filter(|a| a.provider_id() == name).collect();
        pick(name, &names, of_provider, Account::name, "the registry")
    }

    /// The client of [`Registry::account`], if there is exactly one.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn RefundProvider>> {
        self.account(name).ok().map(Account::provider)
    }

    /// The client of [`Registry::account`], or a `Configuration` error naming the accounts there
    /// are, or the candidates.
    pub fn provider(&self, name: &str) -> Result<&Arc<dyn RefundProvider>> {
        self.account(name).map(Account::provider)
    }

    /// The account of the provider that made `refund` (by [`Refund::provider`]); an error naming the
    /// candidates when that provider has several accounts (a refund does not say which: look it up
    /// by the account name you stored with it).
    pub fn account_for_refund(&self, refund: &Refund) -> Result<&Account> {
        let names: Vec<&str> = self.names().collect();
        let of_provider = self
            .accounts
            .iter()
            .filter(|a| a.provider_id() == refund.provider)
            .collect();
        pick(&refund.provider, &names, of_provider, Account::name, "the registry")
    }

    /// The client of [`Registry::account_for_refund`].
    pub fn for_refund(&self, refund: &Refund) -> Result<&Arc<dyn RefundProvider>> {
        self.account_for_refund(refund).map(Account::provider)
    }

    /// Every account, in the order they were added.
    pub fn accounts(&self) -> std::slice::Iter<'_, Account> {
        self.accounts.iter()
    }

    /// Every account's client, in the order they were added (the order `REFUNDS_PROVIDERS` or the
    /// config file lists them).
    pub fn providers(&self) -> Providers<'_> {
        self.accounts.iter().map(Account::provider)
    }

    /// Every account's provider id, in order (an id repeats when it has several accounts).
    pub fn ids(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.accounts.iter().map(Account::provider_id)
    }

    /// Every account name, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> + '_ {
        self.accounts.iter().map(Account::name)
    }

    /// How many accounts are registered.
    pub fn len(&self) -> usize {
        self.accounts.len()
    }

    /// True when no account is registered.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
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
            let (provider, mode) = kind.build_from_env(&lookup)?;
            registry.insert_account(Account::new(kind.spec.id, provider, mode));
        }
        Ok(registry)
    }

    /// The providers a TOML config file lists, their keys read from the variables it names.
    pub fn from_config_file(path: impl AsRef<std::path::Path>) -> Result<Registry> {
        Config::from_file(path)?.build()
    }
}

/// The clients of a [`Registry`]'s accounts, in order.
pub type Providers<'a> = std::iter::Map<std::slice::Iter<'a, Account>, fn(&Account) -> &Arc<dyn RefundProvider>>;

impl<'a> IntoIterator for &'a Registry {
    type Item = &'a Arc<dyn RefundProvider>;
    type IntoIter = Providers<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.providers()
    }
}
