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

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use refunds::sandbox::{Sandbox, WebhookSender};
#[allow(unused_imports)] // unused when no provider feature is on
use refunds::{Currency, Delivery, Error, ErrorKind, Money, RefundProvider, Result};

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

type Starting = Pin<Box<dyn Future<Output = std::io::Result<Sandbox>> + Send>>;

/// How one provider's sandbox is made: its demo payment (five currencies among them, three-decimal
/// KWD and zero-decimal JPY), how it starts, the client pointed at it, and its signed webhooks.
#[allow(dead_code)] // parts unused when some provider features are off
pub(crate) struct Kit {
    pub provider: &'static str,
    pub name: &'static str,
    pub api_key: &'static str,
    pub payment_id: &'static str,
    pub captured: Money,
    /// The provider's refunds carry their currency: its payments may be in any currency.
    pub currency_on_wire: bool,
    pub start: fn(SocketAddr) -> Starting,
    pub client: fn(&Sandbox) -> Result<Arc<dyn RefundProvider>>,
    pub webhooks: Option<fn(&Sandbox, &str) -> Result<WebhookSender>>,
}

#[allow(dead_code)]
fn on_wire(currency: refunds::adapter::AccountCurrency) -> bool {
    matches!(currency, refunds::adapter::AccountCurrency::OnTheWire)
}

/// Every provider compiled in, in the registry's order.
pub(crate) fn kits() -> Vec<Kit> {
    #[allow(unused_imports)]
    use refunds::adapter::HttpProvider;
    #[allow(unused_mut)]
    let mut kits = Vec::new();
    #[cfg(feature = "fourgeeks")]
    kits.push(Kit {
        provider: refunds_fourgeeks::ID,
        name: refunds_fourgeeks::FourGeeks::SPEC.name,
        api_key: refunds_fourgeeks::sandbox::API_KEY,
        payment_id: "pay_7g8h9i0j1k2l",
        captured: Money::from_minor(10_000, Currency::USD),
        currency_on_wire: on_wire(refunds_fourgeeks::FourGeeks::SPEC.currency),
        start: |addr| Box::pin(refunds_fourgeeks::sandbox::start_at(addr)),
        client: |s| {
            Ok(Arc::new(
                refunds_fourgeeks::sandbox::builder_for(s)
                    .currency(Currency::USD)
                    .build()?,
            ))
        },
        webhooks: None,
    });
    #[cfg(feature = "xpay")]
    kits.push(Kit {
        provider: refunds_xpay::ID,
        name: refunds_xpay::XPay::SPEC.name,
        api_key: refunds_xpay::sandbox::API_KEY,
        payment_id: "ch_xyz789",
        captured: Money::from_minor(80_000, Currency::EGP),
        currency_on_wire: on_wire(refunds_xpay::XPay::SPEC.currency),
        start: |addr| Box::pin(refunds_xpay::sandbox::start_at(addr)),
        client: |s| Ok(Arc::new(refunds_xpay::sandbox::builder_for(s).build()?)),
        webhooks: Some(|s, secret| refunds_xpay::sandbox::enable_webhooks(s, secret)),
    });
    #[cfg(feature = "bias")]
    kits.push(Kit {
        provider: refunds_bias::ID,
        name: refunds_bias::Bias::SPEC.name,
        api_key: refunds_bias::sandbox::API_KEY,
        payment_id: "pay_bias_1",
        captured: Money::from_minor(12_345, Currency::KWD),
        currency_on_wire: on_wire(refunds_bias::Bias::SPEC.currency),
        start: |addr| Box::pin(refunds_bias::sandbox::start_at(addr, Currency::KWD)),
        client: |s| {
            Ok(Arc::new(
                refunds_bias::sandbox::builder_for(s).currency(Currency::KWD).build()?,
            ))
        },
        webhooks: None,
    });
    #[cfg(feature = "syncgram")]
    kits.push(Kit {
        provider: refunds_syncgram::ID,
        name: refunds_syncgram::Syncgram::SPEC.name,
        api_key: refunds_syncgram::sandbox::API_KEY,
        payment_id: "ch_a1b2c3d4e5f6",
        captured: Money::from_minor(10_000, Currency::JPY),
        currency_on_wire: on_wire(refunds_syncgram::Syncgram::SPEC.currency),
        start: |addr| Box::pin(refunds_syncgram::sandbox::start_at(addr)),
        client: |s| {
            Ok(Arc::new(
                refunds_syncgram::sandbox::builder_for(s)
                    .currency(Currency::JPY)
                    .build()?,
            ))
        },
        webhooks: Some(|s, secret| refunds_syncgram::sandbox::enable_webhooks(s, secret)),
    });
    #[cfg(feature = "wooshpay")]
    kits.push(Kit {
        provider: refunds_wooshpay::PROVIDER_ID,
        name: refunds_wooshpay::WooshPay::SPEC.name,
        api_key: refunds_wooshpay::sandbox::API_KEY,
        payment_id: "pi_1787730829493927936",
        captured: Money::from_minor(8_000, Currency::EUR),
        currency_on_wire: on_wire(refunds_wooshpay::WooshPay::SPEC.currency),
        start: |addr| Box::pin(refunds_wooshpay::sandbox::start_at(addr)),
        client: |s| Ok(Arc::new(refunds_wooshpay::sandbox::builder_for(s).build()?)),
        webhooks: Some(|s, secret| refunds_wooshpay::sandbox::enable_webhooks(s, secret)),
    });
    kits
}

impl Kit {
    /// Starts the sandbox on `addr` and seeds the demo payment.
    pub(crate) async fn start_on(&self, addr: SocketAddr) -> Result<Sandbox> {
        let sandbox = (self.start)(addr).await.map_err(|e| {
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
            let client = (kit.client)(&sandbox)?;
            registry.insert_account(Account::new(kit.provider, client, AccountMode::set(Mode::Test)));
            sandboxes.entries.push(DemoSandbox {
                provider: kit.provider,
                payment_id: kit.payment_id,
                captured: kit.captured,
                sandbox,
            });
        }
        Ok((registry, sandboxes))
    }
}
