//! The sandboxes as a standalone server (`refunds sandbox serve`): every provider (or those named) on
//! a fixed or chosen loopback port, its demo payment and the payments of a fixtures file seeded, its
//! clock following the machine's, faults queued, signed webhooks sent to the URLs given, the world
//! kept in a state file across restarts, and each sandbox's control API (`/_sandbox/`) for tests in
//! any language.
//!
//! ```no_run
//! # async fn demo() -> refunds::Result<()> {
//! use refunds_registry::sandbox::{ServeOptions, serve};
//!
//! let served = serve(ServeOptions::new().provider("bias").base_port(12111)).await?;
//! println!("{}", served.to_json()); // base URLs, test keys, demo payments
//! // ... tests run against the printed URLs ...
//! served.stop().await?;
//! # Ok(()) }
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use refunds::sandbox::{Fault, Journal, Ledger, Sandbox, WebhookSender};
use refunds::{Currency, Error, Money, OffsetDateTime, Result};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Kit, kits};

/// What [`serve`] starts.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ServeOptions {
    /// The providers to serve, by id; empty: every provider compiled in.
    pub providers: Vec<String>,
    /// A port per provider (`("bias", 12111)`); the others follow `base_port`.
    pub ports: Vec<(String, u16)>,
    /// The first port: the served providers take it and the next ones in the registry's order.
    /// `None`: ephemeral ports.
    pub base_port: Option<u16>,
    /// The state file: the world's changes are appended to it and replayed at the next start.
    pub state: Option<PathBuf>,
    /// A JSON file of payments to seed (see [`serve`]).
    pub fixtures: Option<PathBuf>,
    /// Faults queued on every sandbox: the next `n` requests of each meet the fault.
    pub faults: Vec<(Fault, usize)>,
    /// Loopback URLs that receive each provider's signed webhooks (providers that sign them).
    pub webhook_urls: Vec<String>,
    /// Refunds settle by themselves this long after their creation (by the sandbox clock).
    pub settle_after: Option<Duration>,
}

impl ServeOptions {
    /// Every provider, ephemeral ports, nothing else.
    pub fn new() -> ServeOptions {
        ServeOptions::default()
    }
    /// Serves `id` (repeatable; without any, every provider).
    pub fn provider(mut self, id: impl Into<String>) -> Self {
        self.providers.push(id.into());
        self
    }
    /// Serves `id` on `port`.
    pub fn port(mut self, id: impl Into<String>, port: u16) -> Self {
        self.ports.push((id.into(), port));
        self
    }
    /// The first port of the providers without one of their own.
    pub fn base_port(mut self, port: u16) -> Self {
        self.base_port = Some(port);
        self
    }
    /// Keeps the world in `path`.
    pub fn state(mut self, path: impl Into<PathBuf>) -> Self {
        self.state = Some(path.into());
        self
    }
    /// Seeds the payments of `path`.
    pub fn fixtures(mut self, path: impl Into<PathBuf>) -> Self {
        self.fixtures = Some(path.into());
        self
    }
    /// Queues `fault` on the next `times` requests of every sandbox.
    pub fn fault(mut self, fault: Fault, times: usize) -> Self {
        self.faults.push((fault, times));
        self
    }
    /// Sends signed webhooks to `url` (a loopback URL).
    pub fn webhook_url(mut self, url: impl Into<String>) -> Self {
        self.webhook_urls.push(url.into());
        self
    }
    /// Settles refunds `delay` after their creation.
    pub fn settle_after(mut self, delay: Duration) -> Self {
        self.settle_after = Some(delay);
        self
    }
}

/// One provider's sandbox as [`serve`] runs it.
#[derive(Debug)]
#[non_exhaustive]
pub struct ServedSandbox {
    /// The provider id.
    pub provider: &'static str,
    /// Its display name.
    pub name: &'static str,
    /// `http://127.0.0.1:<port>`: the base URL for the SDK (`<PREFIX>_BASE_URL`) and for the vendor's
    /// own client, with the control API under `/_sandbox/`.
    pub url: String,
    /// The test key the sandbox accepts.
    pub api_key: &'static str,
    /// The account currency (for providers whose refunds carry none: `<PREFIX>_CURRENCY`).
    pub currency: Currency,
    /// The demo payment seeded.
    pub demo_payment: (&'static str, Money),
    /// The secret its webhooks are signed with, when it sends them.
    pub webhook_secret: Option<String>,
    /// The running sandbox.
    pub sandbox: Sandbox,
    webhooks: Option<WebhookSender>,
}

/// The running sandboxes of [`serve`]; [`Served::stop`] ends them.
#[derive(Debug)]
pub struct Served {
    entries: Vec<ServedSandbox>,
    journal: Option<Journal>,
    state: Option<PathBuf>,
    clock: tokio::task::JoinHandle<()>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixtures {
    payments: Vec<FixturePayment>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FixturePayment {
    provider: String,
    id: String,
    amount: String,
    currency: String,
    #[serde(default)]
    state: Option<String>,
}

fn invalid(message: impl Into<String>) -> Error {
    Error::configuration(message)
}

/// Moves a ledger's clock to the machine's (it only goes forward).
pub fn follow_machine_clock(ledger: &Ledger) {
    let now = OffsetDateTime::now_utc();
    if let Ok(by) = Duration::try_from(now - ledger.now()) {
        ledger.advance(by);
    }
}

/// Keeps moving the ledgers' clocks to the machine's (every 50 ms) until the task is aborted.
pub fn follow_machine_clocks(ledgers: Vec<Ledger>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_millis(50));
        loop {
            every.tick().await;
            ledgers.iter().for_each(follow_machine_clock);
        }
    })
}

fn read_fixtures(path: &Path) -> Result<Vec<FixturePayment>> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| invalid(format!("{shown}: cannot read the fixtures: {e}")))?;
    let fixtures: Fixtures =
        serde_json::from_str(&text).map_err(|e| invalid(format!("{shown}: not a fixtures file: {e}")))?;
    Ok(fixtures.payments)
}

/// Seeds the fixtures' payments of `kit` (payments of providers not served are left out).
fn seed_fixtures(kit: &Kit, sandbox: &Sandbox, fixtures: &[FixturePayment]) -> Result<()> {
    for payment in fixtures.iter().filter(|p| p.provider == kit.provider) {
        let at = |why: String| invalid(format!("fixtures: {} payment {:?}: {why}", kit.provider, payment.id));
        let currency = Currency::from_code(&payment.currency).map_err(|e| at(e.message().to_owned()))?;
        let money = Money::from_major_str(&payment.amount, currency).map_err(|e| at(e.to_string()))?;
        if !kit.currency_on_wire && currency != kit.captured.currency() {
            return Err(at(format!(
                "the sandbox account is in {} ({} refunds carry no currency)",
                kit.captured.currency().code(),
                kit.name
            )));
        }
        let state = match payment.state.as_deref().unwrap_or("succeeded") {
            "succeeded" => refunds::sandbox::PaymentState::Succeeded,
            "pending" => refunds::sandbox::PaymentState::Pending,
            "failed" => refunds::sandbox::PaymentState::Failed,
            other => return Err(at(format!("state {other:?}: succeeded, pending or failed"))),
        };
        if payment.id.is_empty() || payment.id.len() > 255 || !money.is_positive() {
            return Err(at("an id of 1 to 255 characters and a positive amount".to_owned()));
        }
        sandbox.ledger().seed_payment_in_state(&payment.id, money, state);
    }
    Ok(())
}

/// Starts the sandboxes of `options`: each on its port of 127.0.0.1, with its demo payment and the
/// fixtures' payments seeded, the state file replayed (then recorded into), the clock following the
/// machine's, the faults queued, and webhooks enabled where URLs are given.
///
/// The fixtures file is JSON: `{"payments": [{"provider": "bias", "id": "pay_1", "amount": "50.000",
/// "currency": "KWD", "state": "succeeded"}]}` (`state` optional); a provider whose refunds carry no
/// currency takes payments in its account currency only. Needs a Tokio runtime.
pub async fn serve(options: ServeOptions) -> Result<Served> {
    let all = kits();
    for id in options.providers.iter().chain(options.ports.iter().map(|(id, _)| id)) {
        if !all.iter().any(|k| k.provider == id) {
            let known: Vec<&str> = all.iter().map(|k| k.provider).collect();
            return Err(invalid(format!(
                "no sandbox for {id:?} (compiled in: {})",
                known.join(", ")
            )));
        }
    }
    let chosen: Vec<Kit> = all
        .into_iter()
        .filter(|k| options.providers.is_empty() || options.providers.iter().any(|p| p == k.provider))
        .collect();
    let fixtures = match &options.fixtures {
        Some(path) => read_fixtures(path)?,
        None => Vec::new(),
    };
    let (journal, entries) = match &options.state {
        Some(path) => {
            let (journal, entries) = Journal::open(path).map_err(invalid)?;
            (Some(journal), entries)
        }
        None => (None, Vec::new()),
    };
    let mut served = Vec::new();
    for (n, kit) in chosen.iter().enumerate() {
        let port = match options.ports.iter().find(|(id, _)| id == kit.provider) {
            Some((_, port)) => *port,
            None => match options.base_port {
                Some(base) => u16::try_from(n)
                    .ok()
                    .and_then(|n| base.checked_add(n))
                    .ok_or_else(|| invalid(format!("no port after {base} for {}", kit.provider)))?,
                None => 0,
            },
        };
        let sandbox = kit.start_on(SocketAddr::from(([127, 0, 0, 1], port))).await?;
        seed_fixtures(kit, &sandbox, &fixtures)?;
        sandbox.replay(&entries).map_err(invalid)?;
        let ledger = sandbox.ledger();
        follow_machine_clock(ledger);
        ledger.settle_after(options.settle_after);
        if let Some(journal) = &journal {
            sandbox.record_to(journal.clone());
        }
        for (fault, times) in &options.faults {
            sandbox.faults().push(fault.clone(), *times);
        }
        let (webhook_secret, webhooks) = match (kit.webhooks, options.webhook_urls.is_empty()) {
            (Some(enable), false) => {
                let secret = format!("whsec_refunds_sandbox_{}", kit.provider);
                let sender = enable(&sandbox, secret.as_str().into()).map_err(|e| e.with_provider(kit.provider))?;
                for url in &options.webhook_urls {
                    sender.register(url).map_err(|e| e.with_provider(kit.provider))?;
                }
                (Some(secret), Some(sender))
            }
            _ => (None, None),
        };
        served.push(ServedSandbox {
            provider: kit.provider,
            name: kit.name,
            url: sandbox.base_url(),
            api_key: kit.api_key,
            currency: kit.captured.currency(),
            demo_payment: (kit.payment_id, kit.captured),
            webhook_secret,
            sandbox,
            webhooks,
        });
    }
    let clock = follow_machine_clocks(served.iter().map(|s| s.sandbox.ledger().clone()).collect());
    Ok(Served {
        entries: served,
        journal,
        state: options.state.clone(),
        clock,
    })
}

/// How long [`Served::stop`] waits for webhook deliveries still under way.
const WEBHOOK_DRAIN: Duration = Duration::from_secs(5);

impl Served {
    /// The sandboxes, in the registry's order.
    pub fn iter(&self) -> std::slice::Iter<'_, ServedSandbox> {
        self.entries.iter()
    }

    /// The sandbox of provider `id`.
    pub fn get(&self, id: &str) -> Option<&ServedSandbox> {
        self.entries.iter().find(|e| e.provider == id)
    }

    /// What a test needs to reach the sandboxes, machine-readable: per provider its URL, test key,
    /// the environment variables the SDK reads, its account currency, demo payment, control API and
    /// webhook secret.
    pub fn to_json(&self) -> Value {
        let sandboxes: Vec<Value> = self
            .entries
            .iter()
            .map(|s| {
                let prefix = s.provider.to_ascii_uppercase();
                let (payment, captured) = s.demo_payment;
                json!({"provider": s.provider, "name": s.name, "url": s.url, "api_key": s.api_key,
                    "currency": s.currency.code(), "control": format!("{}/_sandbox", s.url),
                    "env": {format!("{prefix}_BASE_URL"): s.url, format!("{prefix}_API_KEY"): s.api_key,
                        format!("{prefix}_CURRENCY"): s.currency.code()},
                    "demo_payment": {"id": payment, "amount": captured.to_major_string(),
                        "currency": captured.currency().code()},
                    "webhook_secret": s.webhook_secret})
            })
            .collect();
        let state = self.state.as_ref().map(|p| p.display().to_string());
        json!({"sandboxes": sandboxes, "state": state})
    }

    /// Stops every sandbox after the webhook deliveries under way (5 s at most); an error says the
    /// state file could not be written.
    pub async fn stop(self) -> Result<()> {
        self.clock.abort();
        for entry in &self.entries {
            if let Some(sender) = &entry.webhooks {
                let _ = tokio::time::timeout(WEBHOOK_DRAIN, sender.wait_idle()).await;
            }
        }
        for entry in self.entries {
            entry.sandbox.stop().await;
        }
        match self.journal.and_then(|j| j.error()) {
            Some(e) => Err(invalid(e)),
            None => Ok(()),
        }
    }
}
