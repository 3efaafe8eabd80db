//! One account of the config file: an `[accounts.<name>]` table, or a `[providers.<id>]` table (an
//! account named `<id>`). Parsed whole when the file is read; its key, variables and CA roots are read
//! only when the account is built (or, for the key, when its mode needs it).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use refunds::adapter::TrustStore;
use refunds::{Error, RefundProvider, Result};

use crate::kinds::{self, Kind, Setting, Settings, Transport};
use crate::mode::{Account, AccountMode, Mode};
use crate::values;

/// The settings an account table may hold (`provider` only under `[accounts]`).
pub(crate) const SETTINGS: &[&str] = &[
    "provider",
    "api_key_env",
    "base_url",
    "base_url_env",
    "currency",
    "currency_env",
    "allow_any_host",
    "mode",
    "timeout",
    "connect_timeout",
    "attempt_timeout",
    "proxy",
    "allow_http_proxy",
    "ca_roots",
    "trust_store",
];

/// Whether `name` may hold the setting `suffix` (`KEY`, `BASE_URL`, `CURRENCY`) of the provider whose
/// variables start with `prefix`: upper-case letters, digits and `_`, naming the provider and ending
/// in the setting, such as `SHOP_FOURGEEKS_KEY` or `BIAS_EU_API_KEY`. A config file is untrusted
/// input: without the rule, `api_key_env = "AWS_SECRET_ACCESS_KEY"` would send another secret to
/// the provider's host.
fn names_the_setting(name: &str, prefix: &str, suffix: &str) -> bool {
    let words: Vec<&str> = name.split('_').collect();
    name.bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        && words.contains(&prefix)
        && name.ends_with(&format!("_{suffix}"))
}

/// True for a setting name that would hold a secret itself (`api_key`, `secret`, `token`, ...).
fn holds_a_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    !name.ends_with("_env")
        && ["key", "secret", "token", "password", "credential"]
            .iter()
            .any(|word| name.contains(word))
}

/// Whether `name` is a usable account name: lower-case ASCII letters, digits, `-` and `_`, starting
/// with a letter, at most 64 bytes (it is printed in messages and typed after `--account`).
fn valid_name(name: &str) -> bool {
    name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// Where a setting's value comes from.
#[derive(Debug, Clone)]
enum Source {
    /// Written in the file.
    Literal(String),
    /// In the environment variable the file names.
    Env(String),
}

/// One account of a [`Config`](crate::Config): which provider, the variables holding its key and
/// settings, its mode and its transport settings. Building it reads only its own variables and files.
///
/// ```
/// use refunds_registry::{Config, Mode};
///
/// let config = Config::parse(
///     r#"
///     [accounts.bias-eu]
///     provider = "bias"
///     api_key_env = "BIAS_EU_API_KEY"
///
///     [accounts.bias-us]
///     provider = "bias"
///     api_key_env = "BIAS_US_API_KEY"
///     mode = "test"
///     "#,
/// )?;
/// let us = config.account("bias-us")?;
/// // Stated in the file: no variable is read.
/// assert_eq!(us.mode_with(|_| None)?.mode, Mode::Test);
/// // Only bias-us's key is set, and only bias-us is built.
/// let provider = us.build_with(|name| (name == "BIAS_US_API_KEY").then(|| "sk_test_1".to_owned()))?;
/// assert_eq!(provider.info().id, "bias");
/// # Ok::<(), refunds::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct AccountConfig {
    name: String,
    /// `[accounts.<name>] of <file>` or `[providers.<id>] of <file>`, for messages.
    table: String,
    provider: &'static str,
    api_key_env: Option<String>,
    base_url: Option<Source>,
    currency: Option<Source>,
    allow_any_host: bool,
    mode: Option<Mode>,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    attempt_timeout: Option<Duration>,
    proxy: Option<String>,
    ca_roots: Vec<PathBuf>,
    trust_store: TrustStore,
}

impl AccountConfig {
    /// Parses one table: `section` is `accounts` or `providers`; relative `ca_roots` are taken from
    /// `dir`, the config file's folder.
    pub(crate) fn parse(
        section: &str,
        name: &str,
        value: &toml::Value,
        source: &str,
        dir: &Path,
    ) -> Result<AccountConfig> {
        let kind = kind_of(section, name, value, source)?;
        let table = format!("[{section}.{name}] of {source}");
        let fail = |message: String| Error::configuration(format!("{name}: {message}")).with_provider(kind.spec.id);
        let toml::Value::Table(entries) = value else {
            return Err(fail(format!("{section}.{name} in {source} must be a table")));
        };
        let mut config = AccountConfig {
            name: name.to_owned(),
            table: table.clone(),
            provider: kind.spec.id,
            api_key_env: None,
            base_url: None,
            currency: None,
            allow_any_host: false,
            mode: None,
            timeout: None,
            connect_timeout: None,
            attempt_timeout: None,
            proxy: None,
            ca_roots: Vec::new(),
            trust_store: TrustStore::default(),
        };
        let mut allow_http_proxy = false;
        let mut proxy_text = None;
        for (setting, value) in entries {
            if holds_a_secret(setting) {
                return Err(fail(format!(
                    "{table} holds a literal `{setting}`: a config file never holds a key; name the variable \
                     holding it instead (api_key_env = \"{}\")",
                    kind.spec.env_var("API_KEY")
                )));
            }
            let known = SETTINGS.iter().skip(usize::from(section != "accounts"));
            if !known.clone().any(|known| known == setting) {
                let known: Vec<&str> = known.copied().collect();
                return Err(fail(format!(
                    "unknown setting `{setting}` in {table} (known: {})",
                    known.join(", ")
                )));
            }
            let in_table = |problem: String| fail(format!("{problem} (in {table})"));
            match setting.as_str() {
                "provider" => {} // read by kind_of
                "allow_any_host" | "allow_http_proxy" => {
                    let toml::Value::Boolean(allow) = value else {
                        return Err(fail(format!("{setting} in {table} must be true or false")));
                    };
                    *(if setting == "allow_any_host" {
                        &mut config.allow_any_host
                    } else {
                        &mut allow_http_proxy
                    }) = *allow;
                }
                "timeout" | "connect_timeout" | "attempt_timeout" => {
                    let duration = Some(values::duration(value, setting).map_err(in_table)?);
                    match setting.as_str() {
                        "timeout" => config.timeout = duration,
                        "connect_timeout" => config.connect_timeout = duration,
                        _ => config.attempt_timeout = duration,
                    }
                }
                "ca_roots" => config.ca_roots = values::ca_roots(value, dir).map_err(in_table)?,
                "trust_store" => config.trust_store = values::trust_store(value).map_err(in_table)?,
                "mode" => {
                    config.mode = Some(match value.as_str() {
                        Some("test") => Mode::Test,
                        Some("live") => Mode::Live,
                        _ => return Err(in_table("mode must be \"test\" or \"live\"".to_owned())),
                    })
                }
                _ => {
                    let toml::Value::String(text) = value else {
                        return Err(fail(format!("{setting} in {table} must be a string")));
                    };
                    if setting == "proxy" {
                        proxy_text = Some(text.clone());
                    } else {
                        config.string_setting(&kind, setting, text.clone(), &table, &fail)?;
                    }
                }
            }
        }
        if let Some(text) = proxy_text {
            config.proxy = Some(values::proxy(&text, allow_http_proxy).map_err(|e| fail(format!("{e} (in {table})")))?);
        }
        config.check_timeouts().map_err(|e| fail(format!("{e} (in {table})")))?;
        if config.api_key_env.is_none() && name != kind.spec.id {
            // Two accounts of one provider must not share the provider's default variable unnoticed.
            return Err(fail(format!(
                "{table} names no api_key_env: an account not named after its provider names the variable \
                 holding its key (such as api_key_env = \"{}\")",
                suggested_key_var(kind.spec.env_prefix, name)
            )));
        }
        Ok(config)
    }

    /// `api_key_env`, `base_url(_env)`, `currency(_env)`.
    fn string_setting(
        &mut self,
        kind: &Kind,
        setting: &str,
        text: String,
        table: &str,
        fail: &dyn Fn(String) -> Error,
    ) -> Result<()> {
        let suffix = match setting {
            "api_key_env" => Some("KEY"),
            "base_url_env" => Some("BASE_URL"),
            "currency_env" => Some("CURRENCY"),
            _ => None,
        };
        if let Some(suffix) = suffix.filter(|suffix| !names_the_setting(&text, kind.spec.env_prefix, suffix)) {
            // The rule, never the value: a key pasted here by mistake must not be printed.
            return Err(fail(format!(
                "{setting} in {table} is not a variable for {}'s {}: upper-case letters, digits and _, \
                 with {} as one of its words and ending in _{suffix} (such as {})",
                kind.spec.name,
                suffix.to_ascii_lowercase().replace('_', " "),
                kind.spec.env_prefix,
                kind.spec.env_var(if suffix == "KEY" { "API_KEY" } else { suffix }),
            )));
        }
        let (slot, source) = match setting {
            "api_key_env" => {
                self.api_key_env = Some(text);
                return Ok(());
            }
            "base_url" => (&mut self.base_url, Source::Literal(text)),
            "base_url_env" => (&mut self.base_url, Source::Env(text)),
            "currency" => (&mut self.currency, Source::Literal(text)),
            _ => (&mut self.currency, Source::Env(text)),
        };
        if slot.is_some() {
            let setting = setting.trim_end_matches("_env");
            return Err(fail(format!("{table} sets both {setting} and {setting}_env")));
        }
        *slot = Some(source);
        Ok(())
    }

    /// An attempt longer than the call's deadline could never run out: a mistake worth saying.
    fn check_timeouts(&self) -> std::result::Result<(), String> {
        let timeout = self.timeout.unwrap_or(Duration::from_secs(60));
        match self.attempt_timeout {
            Some(attempt) if attempt > timeout => Err(format!(
                "attempt_timeout is longer than timeout ({}): the call's deadline bounds every attempt",
                if self.timeout.is_some() {
                    "as set"
                } else {
                    "60s by default"
                }
            )),
            _ => Ok(()),
        }
    }

    /// The account's name: `bias-eu` for `[accounts.bias-eu]`, `bias` for `[providers.bias]`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The provider's id (`bias`).
    pub fn provider_id(&self) -> &'static str {
        self.provider
    }

    /// The variable holding the key: `api_key_env`, else the provider's default (`BIAS_API_KEY`).
    pub fn api_key_env(&self) -> String {
        self.api_key_env
            .clone()
            .unwrap_or_else(|| self.kind().map(|k| k.spec.env_var("API_KEY")).unwrap_or_default())
    }

    fn kind(&self) -> Result<Kind> {
        kinds::find(self.provider, &self.table)
    }

    /// The mode from the environment: see [`AccountConfig::mode_with`].
    pub fn mode(&self) -> Result<AccountMode> {
        self.mode_with(|name| std::env::var(name).ok())
    }

    /// Test or live, without building the client: `mode = ` when the table says (nothing is read),
    /// else the key's prefix (`sk_live_`, `sk_test_`) where the provider's keys tell (the key is read,
    /// never shown), else the host where the provider's test and live hosts differ, else
    /// [`Mode::Live`], assumed. An error only when a variable the table names for the base URL is
    /// unset.
    pub fn mode_with(&self, lookup: impl Fn(&str) -> Option<String>) -> Result<AccountMode> {
        if let Some(mode) = self.mode {
            return Ok(AccountMode::set(mode));
        }
        let kind = self.kind()?;
        let key = lookup(&self.api_key_env());
        let base_url = self.base_url_setting(&lookup).value(&kind.spec)?;
        Ok(kind.mode(None, key.as_deref(), base_url.as_deref()))
    }

    /// The client from the environment: see [`AccountConfig::build_with`].
    pub fn build(&self) -> Result<Arc<dyn RefundProvider>> {
        self.build_with(|name| std::env::var(name).ok())
    }

    /// The client: reads this account's key and `*_env` variables from `lookup` and its `ca_roots`
    /// files, nothing of any other account. A `mode` that the key or the host contradicts is an error.
    pub fn build_with(&self, lookup: impl Fn(&str) -> Option<String>) -> Result<Arc<dyn RefundProvider>> {
        Ok(self.account_with(lookup)?.provider().clone())
    }

    /// The client with its name and mode, for a [`Registry`](crate::Registry).
    pub fn account_with(&self, lookup: impl Fn(&str) -> Option<String>) -> Result<Account> {
        let kind = self.kind()?;
        let spec = &kind.spec;
        let table = &self.table;
        let key_var = self.api_key_env();
        let key = match &self.api_key_env {
            Some(var) => Setting::required(lookup(var), var).context(format!("api_key_env in {table}")),
            None => Setting::required(lookup(&key_var), key_var.clone())
                .context(format!("no api_key_env in {table}: the default")),
        };
        let mut base_url = self.base_url_setting(&lookup);
        let key_text = key.require(spec)?;
        let url_text = base_url.value(spec)?;
        let mode = kind.mode(self.mode, Some(&key_text), url_text.as_deref());
        if let Some(stated) = self.mode {
            let fail = |what: &str| {
                Error::configuration(format!(
                    "{}: mode = \"{stated}\" in {table}, but {what} is {} (the mode must match)",
                    self.name,
                    match stated {
                        Mode::Test => "live",
                        Mode::Live => "test",
                    }
                ))
                .with_provider(spec.id)
            };
            if kind.key_mode(&key_text).is_some_and(|mode| mode != stated) {
                return Err(fail(&format!("the key in {key_var}")));
            }
            match (&url_text, kind.host_of_mode(stated)) {
                (Some(url), Some(_)) if kind.host_mode(Some(url)).is_some_and(|mode| mode != stated) => {
                    return Err(fail("the base url's host"));
                }
                // Stated and not otherwise told: requests go to the stated mode's host.
                (None, Some(host)) => {
                    base_url = Setting::optional(Some(host.to_owned()), format!("the {stated} host of {}", spec.name));
                }
                _ => {}
            }
        }
        let transport = self.transport()?;
        let settings = Settings {
            key,
            base_url,
            currency: self.source_setting("currency", &self.currency, &lookup),
            allow_any_host: self.allow_any_host,
        };
        let provider = kind.build(settings, &transport)?;
        Ok(Account::new(self.name.clone(), provider, mode))
    }

    fn base_url_setting(&self, lookup: &dyn Fn(&str) -> Option<String>) -> Setting {
        self.source_setting("base_url", &self.base_url, lookup)
    }

    fn source_setting(&self, name: &str, source: &Option<Source>, lookup: &dyn Fn(&str) -> Option<String>) -> Setting {
        let table = &self.table;
        match source {
            Some(Source::Literal(value)) => Setting::optional(Some(value.clone()), format!("{name} in {table}")),
            Some(Source::Env(var)) => Setting::required(lookup(var), var).context(format!("{name}_env in {table}")),
            None => Setting::optional(None, format!("{name} in {table}")),
        }
    }

    /// The transport settings, CA roots files read and checked now.
    fn transport(&self) -> Result<Transport> {
        let setting = format!("ca_roots in {}", self.table);
        // Extra roots let whoever holds them stand in for the provider's host (a proxy the file also
        // names, say) and read the key: the same leave as a foreign host, asked for the same way.
        if !self.ca_roots.is_empty() && !self.allow_any_host {
            return Err(Error::configuration(format!(
                "{}: {setting}: extra trust roots let whoever holds them read the key in transit; to mean it \
                 (a corporate TLS proxy), set allow_any_host = true in the table",
                self.provider
            ))
            .with_provider(self.provider));
        }
        let roots = self
            .ca_roots
            .iter()
            .map(|path| values::read_roots(path, &setting).map_err(|e| e.with_provider(self.provider)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Transport {
            timeout: self.timeout,
            connect_timeout: self.connect_timeout,
            attempt_timeout: self.attempt_timeout,
            proxy: self.proxy.clone(),
            roots,
            trust_store: self.trust_store,
        })
    }
}

/// The provider of a table: `provider = ` under `[accounts]` (or the account's name when it is a
/// provider id), the table's name under `[providers]`. Checks the account's name.
fn kind_of(section: &str, name: &str, value: &toml::Value, source: &str) -> Result<Kind> {
    let table = format!("[{section}.{name}] of {source}");
    if section == "providers" {
        return kinds::find(name, &table);
    }
    if !valid_name(name) {
        return Err(Error::configuration(format!(
            "{source}: account name {name:?} is not usable: lower-case letters, digits, - and _, starting \
             with a letter, at most 64 characters"
        )));
    }
    match value.get("provider") {
        Some(toml::Value::String(id)) => kinds::find(id, &format!("provider in {table}")),
        Some(_) => Err(Error::configuration(format!(
            "provider in {table} must be a provider id (one of: {})",
            crate::available().join(", ")
        ))),
        None if crate::available().contains(&name) => kinds::find(name, &table),
        None => Err(Error::configuration(format!(
            "{table} names no provider: add provider = \"<id>\" (one of: {})",
            crate::available().join(", ")
        ))),
    }
}

/// `BIAS_EU_API_KEY` for account `bias-eu` of Bias, `WOOSHPAY_SHOP_API_KEY` for account `shop`.
fn suggested_key_var(prefix: &str, name: &str) -> String {
    let upper = name.to_ascii_uppercase().replace('-', "_");
    if upper.split('_').any(|word| word == prefix) {
        format!("{upper}_API_KEY")
    } else {
        format!("{prefix}_{upper}_API_KEY")
    }
}
