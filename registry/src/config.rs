//! The TOML config file: named accounts (and `[providers.<id>]` tables, each an account named after
//! its provider), the environment variables holding their keys, their modes and transport settings.

use std::path::{Path, PathBuf};

use refunds::{Error, Result};

use crate::Registry;
use crate::account::AccountConfig;

/// A parsed config file: the accounts in file order, each with the variable holding its key.
///
/// Parsing checks every table (names, settings, the variables they may name, durations, proxies);
/// nothing is read from the environment or disk until an account is built, and building one account
/// ([`Config::account`], then [`AccountConfig::build_with`]) reads only its own variables and files.
///
/// ```
/// use refunds_registry::Config;
///
/// let config = Config::parse(
///     r#"
///     [providers.wooshpay]
///     api_key_env = "SHOP_WOOSHPAY_KEY"
///
///     [providers.bias]
///     currency = "KWD"
///     "#,
/// )?;
/// assert_eq!(config.provider_ids().collect::<Vec<_>>(), ["wooshpay", "bias"]);
///
/// let vars = |name: &str| match name {
///     "SHOP_WOOSHPAY_KEY" => Some("sk_test_1".to_owned()),
///     "BIAS_API_KEY" => Some("sk_test_2".to_owned()),
///     _ => None,
/// };
/// let registry = config.build_with(vars)?;
/// assert_eq!(registry.ids().collect::<Vec<_>>(), ["wooshpay", "bias"]);
///
/// // A key written in the file is refused, and the message never repeats it.
/// let literal = Config::parse("[providers.bias]\napi_key = \"sk_live_secret\"").unwrap_err();
/// assert!(literal.to_string().contains("api_key_env"));
/// assert!(!literal.to_string().contains("sk_live_secret"));
/// # Ok::<(), refunds::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    /// The file's name, for messages.
    source: String,
    accounts: Vec<AccountConfig>,
}

impl Config {
    /// Reads and parses a config file; relative `ca_roots` paths are taken from the file's folder.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Config> {
        let path = path.as_ref();
        let source = path.display().to_string();
        // Untrusted input: a FIFO or a device would block or never end, a huge file would take the
        // memory; a config is a few kilobytes.
        const MAX_CONFIG_BYTES: u64 = 1024 * 1024;
        let unreadable = |e: std::io::Error| {
            Error::configuration(format!("{source}: cannot read the config file: {e}")).with_source(e)
        };
        let meta = std::fs::metadata(path).map_err(unreadable)?;
        if !meta.is_file() {
            return Err(Error::configuration(format!(
                "{source}: the config is not a regular file"
            )));
        }
        if meta.len() > MAX_CONFIG_BYTES {
            return Err(Error::configuration(format!(
                "{source}: the config file is larger than {MAX_CONFIG_BYTES} bytes"
            )));
        }
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut std::io::Read::take(std::fs::File::open(path).map_err(unreadable)?, MAX_CONFIG_BYTES + 1),
            &mut text,
        )
        .map_err(unreadable)?;
        if text.len() as u64 > MAX_CONFIG_BYTES {
            return Err(Error::configuration(format!(
                "{source}: the config file is larger than {MAX_CONFIG_BYTES} bytes"
            )));
        }
        let dir = path.parent().map_or_else(PathBuf::new, Path::to_path_buf);
        Config::parse_from(&text, source, &dir)
    }

    /// Parses config text (messages call it `config`); relative `ca_roots` paths are taken from the
    /// current directory.
    pub fn parse(text: &str) -> Result<Config> {
        Config::parse_from(text, "config".to_owned(), Path::new(""))
    }

    fn parse_from(text: &str, source: String, dir: &Path) -> Result<Config> {
        // The message and line only: the file's own text is not quoted back (a key pasted in by
        // mistake would be, by the parser's snippet).
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            let line = e.span().map_or(String::new(), |span| {
                let before = &text.as_bytes()[..span.start.min(text.len())];
                let line = before.iter().filter(|b| **b == b'\n').count() + 1;
                format!(" at line {line}")
            });
            Error::configuration(format!("{source}: not valid TOML{line}: {}", e.message().trim()))
        })?;
        let mut accounts: Vec<AccountConfig> = Vec::new();
        for (key, value) in &table {
            if key != "providers" && key != "accounts" {
                return Err(Error::configuration(format!(
                    "{source}: unknown top-level key `{key}` (a config holds [accounts.<name>] and \
                     [providers.<id>] tables)"
                )));
            }
            let toml::Value::Table(tables) = value else {
                return Err(Error::configuration(format!(
                    "{source}: `{key}` must be a table of [{key}.<name>] tables"
                )));
            };
            for (name, value) in tables {
                let account = AccountConfig::parse(key, name, value, &source, dir)?;
                if accounts.iter().any(|a| a.name() == account.name()) {
                    return Err(Error::configuration(format!(
                        "{source}: account {name} is defined twice ([providers.{name}] is the account {name})"
                    )));
                }
                accounts.push(account);
            }
        }
        if accounts.is_empty() {
            return Err(Error::configuration(format!(
                "{source}: no providers (add an [accounts.<name>] or [providers.<id>] table for one of: {})",
                crate::available().join(", ")
            )));
        }
        Ok(Config { source, accounts })
    }

    /// The account names, in file order.
    pub fn account_names(&self) -> impl Iterator<Item = &str> {
        self.accounts.iter().map(AccountConfig::name)
    }

    /// The provider id of each account, in file order (an id repeats when it has several accounts).
    pub fn provider_ids(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.accounts.iter().map(AccountConfig::provider_id)
    }

    /// Every account, in file order.
    pub fn accounts(&self) -> std::slice::Iter<'_, AccountConfig> {
        self.accounts.iter()
    }

    /// The account `name`; else, when `name` is a provider id, that provider's only account. An
    /// error names the accounts there are, or the candidates when the provider has several (never a
    /// silent pick).
    pub fn account(&self, name: &str) -> Result<&AccountConfig> {
        if let Some(account) = self.accounts.iter().find(|a| a.name() == name) {
            return Ok(account);
        }
        let names: Vec<&str> = self.account_names().collect();
        let of_provider = self.accounts.iter().filter(|a| a.provider_id() == name).collect();
        crate::pick(name, &names, of_provider, AccountConfig::name, &self.source)
    }

    /// Every account's client, keys read from the environment.
    pub fn build(&self) -> Result<Registry> {
        self.build_with(|name| std::env::var(name).ok())
    }

    /// Every account's client, keys (and `*_env` settings) read from `lookup`. To need only the keys
    /// of the accounts a command touches, use [`Config::build_accounts_with`] or
    /// [`AccountConfig::build_with`].
    pub fn build_with(&self, lookup: impl Fn(&str) -> Option<String>) -> Result<Registry> {
        let mut registry = Registry::new();
        for account in &self.accounts {
            registry.insert_account(account.account_with(&lookup)?);
        }
        Ok(registry)
    }

    /// A registry of the accounts `names` only (each resolved as [`Config::account`] does), in the
    /// order given: the other accounts' variables and files are not read.
    pub fn build_accounts_with<S: AsRef<str>>(
        &self,
        names: &[S],
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Registry> {
        let mut registry = Registry::new();
        for name in names {
            registry.insert_account(self.account(name.as_ref())?.account_with(&lookup)?);
        }
        Ok(registry)
    }
}
