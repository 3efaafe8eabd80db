//! Every enabled provider on its embedded sandbox, one demo payment seeded in each, no credentials:
//! what the quickstart runs on, and a registry to try an application against. [`serve`] runs the
//! same sandboxes as a standalone server for tests in any language (`refunds sandbox serve`).
//!
//! ```no_run
//! # async fn demo() -> refunds::Result<()> {
//! use refunds::{CreateRefund, PaymentRef, RefundProvider};
//! use refunds_registry::Registry;
//!
//! let (registry, sandboxes) = Registry::sandbox().await?; // keep `sandboxes` alive: dropping stops them
//! for demo in sandboxes.iter() {
//!     let provider = registry.provider(demo.provider)?;
//!     let kind = provider.info().capabilities.payment_kinds[0];
//!     let payment = PaymentRef::new(kind, demo.payment_id)?;
//!     let refund = provider.create_refund(&CreateRefund::new(payment)).await?;
//!     assert_eq!(refund.amount, demo.captured);
//! }
//! sandboxes.settle_all();
//! # Ok(()) }
//! ```

use std::net::SocketAddr;
use std::sync::Arc;

use refunds::adapter::{AccountCurrency, ClientSettings, Descriptor};
use refunds::sandbox::{Sandbox, SandboxKit, WebhookSender};
use refunds::{Delivery, Error, ErrorKind, Money, RefundProvider, Result};

use crate::{Account, AccountMode, Mode, Registry};

mod serve;

pub use serve::{ServeOptions, Served, ServedSandbox, follow_machine_clock, follow_machine_clocks, serve};

/// One provider's running sandbox and the payment seeded in it.
#[derive(Debug)]
pub struct DemoSandbox {
    /// The provider id.
    pub provider: &'static str,
    /// The payment seeded (its id as the provider's create takes it).
    pub payment_id: &'static str,
    /// What the payment captured, in the account's currency.
    pub captured: Money,
    /// Two partial refunds a demo makes of it (minor units), leaving a balance.
    pub demo_refunds: [i64; 2],
    /// The running sandbox: its ledger (settle, advance the clock, inspect) and fault plan.
    pub sandbox: Sandbox,
}

/// The running sandboxes behind [`Registry::sandbox`], in the registry's order. They stop when this
/// is dropped.
#[derive(Debug, Default)]
pub struct Sandboxes {
    entries: Vec<DemoSandbox>,
}

impl Sandboxes {
    /// Every sandbox, in the registry's order.
    pub fn iter(&self) -> std::slice::Iter<'_, DemoSandbox> {
        self.entries.iter()
    }

    /// The sandbox of provider `id`.
    pub fn get(&self, id: &str) -> Option<&DemoSandbox> {
        self.entries.iter().find(|e| e.provider == id)
    }

    /// How many sandboxes run.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when none runs (no provider feature enabled).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Settles every pending refund of every sandbox; returns how many moved.
    pub fn settle_all(&self) -> usize {
        self.entries.iter().map(|e| e.sandbox.ledger().settle_all()).sum()
    }
}

impl<'a> IntoIterator for &'a Sandboxes {
    type Item = &'a DemoSandbox;
    type IntoIter = std::slice::Iter<'a, DemoSandbox>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter()
    }
}

/// How one provider's sandbox is made, from its descriptor: its demo payment (five currencies among
/// the built-in ones, three-decimal KWD and zero-decimal JPY), how it starts, the client pointed at
/// it, and its signed webhooks.
pub(crate) struct Kit {
    pub provider: &'static str,
    pub name: &'static str,
    pub api_key: &'static str,
    pub payment_id: &'static str,
    pub captured: Money,
    /// The provider's refunds carry their currency: its payments may be in any currency.
    pub currency_on_wire: bool,
    pub webhooks: Option<fn(&Sandbox, refunds::adapter::Secret) -> Result<WebhookSender>>,
    descriptor: Descriptor,
    kit: SandboxKit,
}

/// Every provider of the registry with a sandbox, in the registry's order.
pub(crate) fn kits() -> Vec<Kit> {
    crate::kinds::all()
        .into_iter()
        .filter_map(|kind| {
            let descriptor = kind.descriptor;
            let kit = descriptor.sandbox?;
            Some(Kit {
                provider: descriptor.spec.id,
                name: descriptor.spec.name,
                api_key: kit.api_key,
                payment_id: kit.demo_payment,
                captured: kit.demo_captured,
                currency_on_wire: descriptor.spec.currency == AccountCurrency::OnTheWire,
                webhooks: kit.webhooks.map(|w| w.enable),
                descriptor,
                kit,
            })
        })
        .collect()
}

impl Kit {
    /// Starts the sandbox on `addr` and seeds the demo payment.
    pub(crate) async fn start_on(&self, addr: SocketAddr) -> Result<Sandbox> {
        let sandbox = self.kit.start_at(addr, self.captured.currency()).await.map_err(|e| {
            Error::new(
                ErrorKind::Transport,
                Delivery::NotSent,
                format!("{}: the sandbox did not start on {addr}: {e}", self.provider),
            )
            .with_provider(self.provider)
        })?;
        sandbox.ledger().seed_payment(self.payment_id, self.captured);
        Ok(sandbox)
    }

    /// A client of the demo account pointed at `sandbox` (its currency set where refunds carry none).
    pub(crate) fn client(&self, sandbox: &Sandbox) -> Result<Arc<dyn RefundProvider>> {
        let mut settings = ClientSettings::new();
        settings.api_key = Some(self.api_key.into());
        settings.base_url = Some(sandbox.base_url());
        if !self.currency_on_wire {
            settings.set_currency(self.captured.currency());
        }
        self.descriptor.build(settings)
    }
}

impl Registry {
    /// Every provider compiled in, each on its own embedded sandbox (127.0.0.1, ephemeral port) with
    /// one demo payment seeded: 4Geeks `pay_7g8h9i0j1k2l` 100.00 USD, xpay `ch_xyz789` 800.00 EGP,
    /// Bias `pay_bias_1` 12.345 KWD, SyncgramPay `ch_a1b2c3d4e5f6` 10000 JPY, WooshPay
    /// `pi_1787730829493927936` 80.00 EUR. Keep the [`Sandboxes`]: dropping them stops the servers.
    ///
    /// Needs a Tokio runtime (the sandboxes are tasks on it).
    pub async fn sandbox() -> Result<(Registry, Sandboxes)> {
        let mut registry = Registry::new();
        let mut sandboxes = Sandboxes::default();
        for kit in kits() {
            let sandbox = kit.start_on(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
            let client = kit.client(&sandbox)?;
            registry.insert_account(Account::new(kit.provider, client, AccountMode::set(Mode::Test)));
            sandboxes.entries.push(DemoSandbox {
                provider: kit.provider,
                payment_id: kit.payment_id,
                captured: kit.captured,
                demo_refunds: kit.kit.demo_refunds,
                sandbox,
            });
        }
        Ok((registry, sandboxes))
    }
}
