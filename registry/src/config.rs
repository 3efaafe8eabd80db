//! The TOML config file: which providers, and which environment variables hold their keys.

use std::path::Path;

use refunds::{Error, Result};

use crate::Registry;
use crate::kinds::{self, Setting};

/// The settings a `[providers.<id>]` table may hold.
const SETTINGS: &[&str] = &[
    "api_key_env",
    "base_url",
    "base_url_env",
    "currency",
    "currency_env",
    "allow_any_host",
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

/// Where a setting's value comes from.
#[derive(Debug, Clone)]
enum Source {
    /// Written in the file.
    Literal(String),
    /// In the environment variable the file names.
    Env(String),
}

/// One `[providers.<id>]` table.
#[derive(Debug, Clone)]
struct ProviderConfig {
    id: String,
    api_key_env: Option<String>,
    base_url: Option<Source>,
    currency: Option<Source>,
    /// The operator's explicit leave to send the key to a host the provider does not document.
    allow_any_host: bool,
}

/// A parsed config file: the providers in file order, each with the variable holding its key.
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
    providers: Vec<ProviderConfig>,
}

impl Config {
    /// Reads and parses a config file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Config> {
        let path = path.as_ref();
        let source = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::configuration(format!("{source}: cannot read the config file: {e}")).with_source(e))?;
        Config::parse_from(&text, source)
    }

    /// Parses config text (messages call it `config`).
    pub fn parse(text: &str) -> Result<Config> {
        Config::parse_from(text, "config".to_owned())
    }

    fn parse_from(text: &str, source: String) -> Result<Config> {
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
        let mut providers = Vec::new();
        for (key, value) in &table {
            if key != "providers" {
                return Err(Error::configuration(format!(
                    "{source}: unknown top-level key `{key}` (a config holds [providers.<id>] tables)"
                )));
            }
            let toml::Value::Table(tables) = value else {
                return Err(Error::configuration(format!(
                    "{source}: `providers` must be a table of [providers.<id>] tables"
                )));
            };
            for (id, value) in tables {
                providers.push(ProviderConfig::parse(id, value, &source)?);
            }
        }
        if providers.is_empty() {
            return Err(Error::configuration(format!(
                "{source}: no providers (add a [providers.<id>] table for one of: {})",
                crate::available().join(", ")
            )));
        }
        Ok(Config { source, providers })
    }

    /// The provider ids, in file order.
    pub fn provider_ids(&self) -> impl Iterator<Item = &str> {
        self.providers.iter().map(|p| p.id.as_str())
    }

    /// The registry, keys read from the environment.
    pub fn build(&self) -> Result<Registry> {
        self.build_with(|name| std::env::var(name).ok())
    }

    /// The registry, keys (and `*_env` settings) read from `lookup`.
    pub fn build_with(&self, lookup: impl Fn(&str) -> Option<String>) -> Result<Registry> {
        let mut registry = Registry::new();
        for provider in &self.providers {
            registry.insert(provider.build(&lookup, &self.source)?);
        }
        Ok(registry)
    }
}

/// True for a setting name that would hold a secret itself (`api_key`, `secret`, `token`, ...).
fn holds_a_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    !name.ends_with("_env")
        && ["key", "secret", "token", "password", "credential"]
            .iter()
            .any(|word| name.contains(word))
}

impl ProviderConfig {
    fn parse(id: &str, value: &toml::Value, source: &str) -> Result<ProviderConfig> {
        let table_name = format!("[providers.{id}] of {source}");
        let kind = kinds::find(id, &table_name)?;
        let fail = |message: String| Error::configuration(format!("{id}: {message}")).with_provider(kind.spec.id);
        let toml::Value::Table(table) = value else {
            return Err(fail(format!("providers.{id} in {source} must be a table")));
        };
        let mut config = ProviderConfig {
            id: kind.spec.id.to_owned(),
            api_key_env: None,
            base_url: None,
            currency: None,
            allow_any_host: false,
        };
        for (name, value) in table {
            if holds_a_secret(name) {
                return Err(fail(format!(
                    "{table_name} holds a literal `{name}`: a config file never holds a key; name the variable \
                     holding it instead (api_key_env = \"{}\")",
                    kind.spec.env_var("API_KEY")
                )));
            }
            if !SETTINGS.contains(&name.as_str()) {
                return Err(fail(format!(
                    "unknown setting `{name}` in {table_name} (known: {})",
                    SETTINGS.join(", ")
                )));
            }
            if name == "allow_any_host" {
                let toml::Value::Boolean(allow) = value else {
                    return Err(fail(format!("allow_any_host in {table_name} must be true or false")));
                };
                config.allow_any_host = *allow;
                continue;
            }
            let toml::Value::String(text) = value else {
                return Err(fail(format!("{name} in {table_name} must be a string")));
            };
            let text = text.clone();
            let suffix = match name.as_str() {
                "api_key_env" => Some("KEY"),
                "base_url_env" => Some("BASE_URL"),
                "currency_env" => Some("CURRENCY"),
                _ => None,
            };
            if let Some(suffix) = suffix.filter(|suffix| !names_the_setting(&text, kind.spec.env_prefix, suffix)) {
                // The rule, never the value: a key pasted here by mistake must not be printed.
                return Err(fail(format!(
                    "{name} in {table_name} is not a variable for {}'s {}: upper-case letters, digits and _, \
                     with {} as one of its words and ending in _{suffix} (such as {})",
                    kind.spec.name,
                    suffix.to_ascii_lowercase().replace('_', " "),
                    kind.spec.env_prefix,
                    kind.spec.env_var(if suffix == "KEY" { "API_KEY" } else { suffix }),
                )));
            }
            let (slot, source) = match name.as_str() {
                "api_key_env" => {
                    config.api_key_env = Some(text);
                    continue;
                }
                "base_url" => (&mut config.base_url, Source::Literal(text)),
                "base_url_env" => (&mut config.base_url, Source::Env(text)),
                "currency" => (&mut config.currency, Source::Literal(text)),
                _ => (&mut config.currency, Source::Env(text)),
            };
            if slot.is_some() {
                let setting = name.trim_end_matches("_env");
                return Err(fail(format!("{table_name} sets both {setting} and {setting}_env")));
            }
            *slot = Some(source);
        }
        Ok(config)
    }

    fn build(
        &self,
        lookup: &dyn Fn(&str) -> Option<String>,
        source: &str,
    ) -> Result<std::sync::Arc<dyn refunds::RefundProvider>> {
        let kind = kinds::find(&self.id, source)?;
        let table_name = format!("[providers.{}] of {source}", self.id);
        let key = match &self.api_key_env {
            Some(var) => Setting::required(lookup(var), var).context(format!("api_key_env in {table_name}")),
            None => {
                let var = kind.spec.env_var("API_KEY");
                Setting::required(lookup(&var), var).context(format!("no api_key_env in {table_name}: the default"))
            }
        };
        let setting = |name: &str, source: &Option<Source>| match source {
            Some(Source::Literal(value)) => Setting::optional(Some(value.clone()), format!("{name} in {table_name}")),
            Some(Source::Env(var)) => {
                Setting::required(lookup(var), var).context(format!("{name}_env in {table_name}"))
            }
            None => Setting::optional(None, format!("{name} in {table_name}")),
        };
        kind.build(
            key,
            setting("base_url", &self.base_url),
            setting("currency", &self.currency),
            self.allow_any_host,
        )
    }
}
