//! An account's mode: test or live money, and how that is known.

use std::fmt;
use std::sync::Arc;

use refunds::RefundProvider;

/// Test or live money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// A sandbox or test account: no real money moves.
    Test,
    /// Real money.
    Live,
}

impl Mode {
    /// `"test"` or `"live"`, as the config file spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Test => "test",
            Mode::Live => "live",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an account's [`Mode`] is known, first match wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ModeSource {
    /// `mode = "test" | "live"` in the account's table (or the registry that made it says so, as the
    /// sandbox registry does).
    Setting,
    /// The key's prefix (`sk_live_`, `sk_test_`), where the provider's keys say.
    Key,
    /// The host requests go to, where the provider has separate test and live hosts.
    Host,
    /// Nothing tells: treated as live, so that a guard before live money asks rather than assumes.
    Assumed,
}

/// An account's mode and how it is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AccountMode {
    /// Test or live ([`Mode::Live`] when nothing tells).
    pub mode: Mode,
    /// How the mode is known.
    pub source: ModeSource,
}

impl AccountMode {
    /// A mode a setting states.
    pub fn set(mode: Mode) -> AccountMode {
        AccountMode {
            mode,
            source: ModeSource::Setting,
        }
    }

    /// Nothing tells: live, assumed.
    pub fn assumed() -> AccountMode {
        AccountMode {
            mode: Mode::Live,
            source: ModeSource::Assumed,
        }
    }

    /// True for live money, stated or assumed.
    pub fn is_live(&self) -> bool {
        self.mode == Mode::Live
    }
}

impl fmt::Display for AccountMode {
    /// `live (from the key)`, `test (set in the config)`, `live (assumed: ...)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let how = match self.source {
            ModeSource::Setting => "set in the config",
            ModeSource::Key => "from the key",
            ModeSource::Host => "from the host",
            ModeSource::Assumed => "assumed: neither a mode setting, the key nor the host tells",
        };
        write!(f, "{} ({how})", self.mode)
    }
}

/// A provider in a [`Registry`](crate::Registry) under an account name, with its mode.
#[derive(Clone)]
pub struct Account {
    name: String,
    provider: Arc<dyn RefundProvider>,
    mode: AccountMode,
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("name", &self.name)
            .field("provider", &self.provider_id())
            .field("mode", &self.mode.mode)
            .finish()
    }
}

impl Account {
    /// `provider` under `name`, in `mode`.
    pub fn new(name: impl Into<String>, provider: Arc<dyn RefundProvider>, mode: AccountMode) -> Account {
        Account {
            name: name.into(),
            provider,
            mode,
        }
    }

    /// The account's name (`bias-eu`; a provider's id for a `[providers.<id>]` table or a provider
    /// inserted without one).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The provider's id (`bias`), the one [`Refund::provider`](refunds::Refund::provider) holds.
    pub fn provider_id(&self) -> &'static str {
        self.provider.info().id
    }

    /// Test or live, and how that is known.
    pub fn mode(&self) -> AccountMode {
        self.mode
    }

    /// The client.
    pub fn provider(&self) -> &Arc<dyn RefundProvider> {
        &self.provider
    }
}
