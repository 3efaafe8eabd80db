//! The accounts a command works with: the sandboxes' (`--sandbox`), a config file's, or the
//! environment's. Each is built the first time the command touches it, so a command needs the key of
//! no other account; and an account in live mode moves money only with `--live`.

use std::sync::{Arc, Mutex};

use refunds::RefundProvider;
use refunds_registry::{Account, Config, PROVIDERS_VAR, Registry};

use crate::args::Cli;
use crate::exit::Failure;
use crate::output;
use crate::sandbox::World;

/// Where the accounts come from.
enum Source {
    /// `--sandbox`: every account built at the start.
    Sandbox,
    /// `--config FILE`.
    Config(Config),
    /// `REFUNDS_PROVIDERS`, in its order.
    Env(Vec<String>),
}

/// The accounts, built as they are touched, and the sandboxes behind them with `--sandbox`.
pub(crate) struct Context {
    source: Source,
    built: Mutex<Registry>,
    live: bool,
    pub(crate) world: Option<World>,
}

impl Context {
    pub(crate) async fn open(cli: &Cli) -> Result<Context, Failure> {
        let source = &cli.source;
        if !source.sandbox && (!source.sandbox_fault.is_empty() || source.sandbox_state.is_some()) {
            return Err(Failure::invalid("--sandbox-fault and --sandbox-state need --sandbox"));
        }
        let (source, built, world) = if source.sandbox {
            let (registry, world) = World::start(source.sandbox_state.clone(), &source.sandbox_fault).await?;
            (Source::Sandbox, registry, Some(world))
        } else if let Some(path) = &source.config {
            (Source::Config(Config::from_file(path)?), Registry::new(), None)
        } else {
            (Source::Env(listed_in_env()?), Registry::new(), None)
        };
        Ok(Context {
            source,
            built: Mutex::new(built),
            live: cli.live,
            world,
        })
    }

    /// Every account name, in the order the source lists them.
    pub(crate) fn names(&self) -> Vec<String> {
        match &self.source {
            Source::Sandbox => self.registry().names().map(str::to_owned).collect(),
            Source::Config(config) => config.account_names().map(str::to_owned).collect(),
            Source::Env(names) => names.clone(),
        }
    }

    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.built.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The account `name` (or the one account of the provider `name`), built now if it was not.
    pub(crate) fn account(&self, name: &str) -> Result<Account, Failure> {
        if let Ok(account) = self.registry().account(name) {
            return Ok(account.clone());
        }
        let names = self.names();
        let account = match &self.source {
            // A provider's id stands for its one account; with several, the error names them.
            Source::Config(config) if names.iter().any(|n| n == name) || config.provider_ids().any(|id| id == name) => {
                config.account(name)?.account_with(|var| std::env::var(var).ok())?
            }
            Source::Env(_) if names.iter().any(|n| n == name) => {
                // Only this provider's variables are read: the others' keys may be absent.
                let registry = Registry::from_lookup(|var| {
                    if var == PROVIDERS_VAR {
                        Some(name.to_owned())
                    } else {
                        std::env::var(var).ok()
                    }
                })?;
                registry
                    .accounts()
                    .next()
                    .cloned()
                    .ok_or_else(|| Failure::invalid(unknown(name, &names)))?
            }
            _ => return Err(Failure::invalid(unknown(name, &names))),
        };
        self.registry().insert_account(account.clone());
        Ok(account)
    }

    /// The one account of the provider `id`; an error naming them where there are several (a
    /// pending create names its provider only: never a silent pick of one of its accounts).
    pub(crate) fn sole_account_of(&self, id: &str) -> Result<Account, Failure> {
        let of_provider: Vec<String> = match &self.source {
            Source::Sandbox => self
                .registry()
                .accounts()
                .filter(|a| a.provider_id() == id)
                .map(|a| a.name().to_owned())
                .collect(),
            Source::Config(config) => config
                .accounts()
                .filter(|a| a.provider_id() == id)
                .map(|a| a.name().to_owned())
                .collect(),
            Source::Env(names) => names.iter().filter(|n| *n == id).cloned().collect(),
        };
        match of_provider.as_slice() {
            [only] => self.account(only),
            [] => Err(Failure::invalid(unknown(id, &self.names()))),
            several => Err(Failure::invalid(format!(
                "{} has several accounts ({}): name the one the create went through with --account",
                output::shown(id),
                several.join(", ")
            ))),
        }
    }

    /// The provider behind the account `name`.
    pub(crate) fn provider(&self, name: &str) -> Result<Arc<dyn RefundProvider>, Failure> {
        Ok(self.account(name)?.provider().clone())
    }

    /// Every account, each built now; the first that cannot be is an error naming it.
    pub(crate) fn accounts(&self) -> Result<Vec<Account>, Failure> {
        self.names().iter().map(|name| self.account(name)).collect()
    }

    /// The live-money guard, for a command that may create a refund (a create, a re-sent pending
    /// create, a bulk file, a resumed journal): an account in live mode needs `--live`, and says so.
    pub(crate) fn may_move_money(&self, account: &Account) -> Result<(), Failure> {
        let mode = account.mode();
        if !mode.is_live() {
            return Ok(());
        }
        let what = format!(
            "account {} ({}), {mode}",
            output::shown(account.name()),
            account.provider_id()
        );
        if !self.live {
            return Err(Failure::invalid(format!(
                "{what}: this command can move real money; run it again with --live to go ahead"
            )));
        }
        eprintln!("refunds: {what}: going ahead (--live)");
        Ok(())
    }

    /// Saves the sandbox state (with `--sandbox-state`); the command's own outcome comes first.
    pub(crate) fn close(self, outcome: Result<u8, Failure>) -> Result<u8, Failure> {
        let saved = match self.world {
            Some(world) => world.save(),
            None => Ok(()),
        };
        let code = outcome?;
        saved.map(|()| code)
    }
}

/// The ids `REFUNDS_PROVIDERS` lists (checked when each is built).
fn listed_in_env() -> Result<Vec<String>, Failure> {
    let list = std::env::var(PROVIDERS_VAR).unwrap_or_default();
    let names: Vec<String> = list
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect();
    if names.is_empty() {
        return Err(Failure::invalid(format!(
            "{PROVIDERS_VAR} is not set (a comma-separated list of: {}), and neither --config nor --sandbox is given",
            refunds_registry::available().join(", ")
        )));
    }
    Ok(names)
}

/// "unknown provider", the configured ones, and the nearest as a suggestion when one is near.
fn unknown(name: &str, known: &[String]) -> String {
    let nearest = known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(&name.to_ascii_lowercase(), k), k))
        .filter(|(distance, k)| *distance <= 2.max(k.len() / 3))
        .min();
    let listed = if known.is_empty() {
        "none".to_owned()
    } else {
        known.join(", ")
    };
    let shown = output::shown(name);
    match nearest {
        Some((_, k)) => format!("unknown provider `{shown}`: did you mean {k}? (configured: {listed})"),
        None => format!("unknown provider `{shown}` (configured: {listed})"),
    }
}
