//! Every enabled provider on its embedded sandbox, one demo payment seeded in each, no credentials:
//! what the quickstart runs on, and a registry to try an application against.
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

use std::sync::Arc;

use refunds::sandbox::Sandbox;
use refunds::{Currency, Delivery, Error, ErrorKind, Money, RefundProvider, Result};

use crate::Registry;

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

/// The demo payment of each provider: five currencies, among them three-decimal KWD and
/// zero-decimal JPY.
#[allow(dead_code)] // parts unused when some provider features are off
struct Demo {
    payment_id: &'static str,
    captured: Money,
}

#[allow(dead_code)]
fn demo(payment_id: &'static str, minor: i64, currency: Currency) -> Demo {
    Demo {
        payment_id,
        captured: Money::from_minor(minor, currency),
    }
}

#[allow(dead_code)]
fn started(provider: &'static str) -> impl Fn(std::io::Error) -> Error {
    move |e| {
        Error::new(
            ErrorKind::Transport,
            Delivery::NotSent,
            format!("{provider}: the sandbox did not start: {e}"),
        )
        .with_provider(provider)
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
        #[allow(unused_mut)]
        let mut registry = Registry::new();
        #[allow(unused_mut)]
        let mut sandboxes = Sandboxes::default();
        #[allow(unused_mut, unused_variables)]
        let mut add = |provider: &'static str, client: Arc<dyn RefundProvider>, sandbox: Sandbox, demo: Demo| {
            sandbox.ledger().seed_payment(demo.payment_id, demo.captured);
            registry.insert(client);
            sandboxes.entries.push(DemoSandbox {
                provider,
                payment_id: demo.payment_id,
                captured: demo.captured,
                sandbox,
            });
        };

        #[cfg(feature = "fourgeeks")]
        {
            use refunds_fourgeeks::{ID, sandbox};
            let usd = demo("pay_7g8h9i0j1k2l", 10_000, Currency::USD);
            let server = sandbox::start().await.map_err(started(ID))?;
            let client = sandbox::builder_for(&server)
                .currency(usd.captured.currency())
                .build()?;
            add(ID, Arc::new(client), server, usd);
        }
        #[cfg(feature = "xpay")]
        {
            use refunds_xpay::{ID, sandbox};
            let egp = demo("ch_xyz789", 80_000, Currency::EGP);
            let server = sandbox::start().await.map_err(started(ID))?;
            let client = sandbox::builder_for(&server).build()?;
            add(ID, Arc::new(client), server, egp);
        }
        #[cfg(feature = "bias")]
        {
            use refunds_bias::{ID, sandbox};
            let kwd = demo("pay_bias_1", 12_345, Currency::KWD);
            let server = sandbox::start_with_currency(Currency::KWD).await.map_err(started(ID))?;
            let client = sandbox::builder_for(&server).currency(Currency::KWD).build()?;
            add(ID, Arc::new(client), server, kwd);
        }
        #[cfg(feature = "syncgram")]
        {
            use refunds_syncgram::{ID, sandbox};
            let jpy = demo("ch_a1b2c3d4e5f6", 10_000, Currency::JPY);
            let server = sandbox::start().await.map_err(started(ID))?;
            let client = sandbox::builder_for(&server).currency(Currency::JPY).build()?;
            add(ID, Arc::new(client), server, jpy);
        }
        #[cfg(feature = "wooshpay")]
        {
            use refunds_wooshpay::{PROVIDER_ID as ID, sandbox};
            let eur = demo("pi_1787730829493927936", 8_000, Currency::EUR);
            let server = sandbox::start().await.map_err(started(ID))?;
            let client = sandbox::builder_for(&server).build()?;
            add(ID, Arc::new(client), server, eur);
        }
        Ok((registry, sandboxes))
    }
}
