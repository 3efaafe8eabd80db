//! A provider's sandbox, described once ([`SandboxKit`]): what the registry's demo, `refunds sandbox
//! serve`, `refunds webhook trigger` and the shared test suite start, without naming the provider.

use std::fmt;
use std::net::SocketAddr;

use crate::adapter::Secret;
use crate::currency::Currency;
use crate::error::Result;
use crate::ledger::{Ledger, RefundRecord};
use crate::money::Money;

use super::{Sandbox, SandboxRequest, SandboxResponse, Skin, WebhookSender};

/// A provider's sandbox: its skin, the key it accepts, the prefix of its refund ids, a demo payment,
/// and (where the provider signs webhooks) how it sends them.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct SandboxKit {
    /// The key the sandbox accepts.
    pub api_key: &'static str,
    /// The prefix of the refund ids its ledger makes (`re_`).
    pub refund_id_prefix: &'static str,
    /// A payment id in the provider's own form, seeded by the demo.
    pub demo_payment: &'static str,
    /// What the demo payment captured (its currency is the demo account's).
    pub demo_captured: Money,
    /// Two partial refunds of the demo payment a demo makes (in its minor units), leaving a balance.
    pub demo_refunds: [i64; 2],
    /// How the sandbox sends signed webhooks, where the provider signs them.
    pub webhooks: Option<SandboxWebhooks>,
    skin: fn(Currency) -> Box<dyn Skin>,
}

impl fmt::Debug for SandboxKit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxKit")
            .field("refund_id_prefix", &self.refund_id_prefix)
            .field("demo_payment", &self.demo_payment)
            .field("demo_captured", &self.demo_captured)
            .finish_non_exhaustive()
    }
}

/// How a sandbox sends a provider's signed webhooks.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct SandboxWebhooks {
    /// Makes the sandbox sign every refund change with the secret and send it to the sender's URLs.
    pub enable: fn(&Sandbox, Secret) -> Result<WebhookSender>,
    /// The provider's event of a type about a refund record, with an event id: the bytes it sends.
    pub event_body: fn(&RefundRecord, &str, &str) -> Option<Vec<u8>>,
    /// The prefixes of a made-up event id, refund id and payment id in the provider's own form.
    pub id_prefixes: (&'static str, &'static str, &'static str),
}

impl SandboxWebhooks {
    /// How a sandbox enables webhooks, writes one event, and the prefixes of made-up ids.
    pub const fn new(
        enable: fn(&Sandbox, Secret) -> Result<WebhookSender>,
        event_body: fn(&RefundRecord, &str, &str) -> Option<Vec<u8>>,
        id_prefixes: (&'static str, &'static str, &'static str),
    ) -> Self {
        SandboxWebhooks {
            enable,
            event_body,
            id_prefixes,
        }
    }
}

impl SandboxKit {
    /// A kit: the key the sandbox accepts, its refund id prefix, and its skin for an account in a
    /// currency. The demo payment is `pay_demo`, 100.00 USD, refunded 25.00 and 10.00, until
    /// [`SandboxKit::demo`].
    pub const fn new(
        api_key: &'static str,
        refund_id_prefix: &'static str,
        skin: fn(Currency) -> Box<dyn Skin>,
    ) -> Self {
        SandboxKit {
            api_key,
            refund_id_prefix,
            demo_payment: "pay_demo",
            demo_captured: Money::from_minor(10_000, Currency::USD),
            demo_refunds: [2_500, 1_000],
            webhooks: None,
            skin,
        }
    }

    /// The demo payment: its id and what it captured; the demo refunds a quarter and a tenth of it.
    pub const fn demo(mut self, payment: &'static str, captured: Money) -> Self {
        self.demo_payment = payment;
        self.demo_captured = captured;
        self.demo_refunds = [captured.minor() / 4, captured.minor() / 10];
        self
    }

    /// The two partial refunds the demo makes, in minor units of the demo payment's currency.
    pub const fn demo_refunds(mut self, first: i64, second: i64) -> Self {
        self.demo_refunds = [first, second];
        self
    }

    /// How the sandbox sends signed webhooks.
    pub const fn webhooks(mut self, webhooks: SandboxWebhooks) -> Self {
        self.webhooks = Some(webhooks);
        self
    }

    /// The skin of an account in `currency`.
    pub fn skin(&self, currency: Currency) -> Box<dyn Skin> {
        (self.skin)(currency)
    }

    /// An empty ledger with the provider's refund id prefix.
    pub fn ledger(&self) -> Ledger {
        Ledger::new(self.refund_id_prefix)
    }

    /// Starts the sandbox of an account in `currency` on `addr` (a loopback address; port 0: an
    /// ephemeral one), its ledger empty.
    pub async fn start_at(&self, addr: SocketAddr, currency: Currency) -> std::io::Result<Sandbox> {
        Sandbox::start_at(addr, self.skin(currency), self.ledger()).await
    }
}

impl Skin for Box<dyn Skin> {
    fn provider(&self) -> &'static str {
        (**self).provider()
    }

    fn handle(&self, request: &SandboxRequest, ledger: &Ledger) -> SandboxResponse {
        (**self).handle(request, ledger)
    }

    fn error_response(&self, status: u16, message: &str) -> SandboxResponse {
        (**self).error_response(status, message)
    }

    fn idempotency_key(&self, request: &SandboxRequest) -> Option<String> {
        (**self).idempotency_key(request)
    }

    fn bookkeeping_read(&self, request: &SandboxRequest) -> bool {
        (**self).bookkeeping_read(request)
    }

    fn in_progress_response(&self) -> SandboxResponse {
        (**self).in_progress_response()
    }
}
