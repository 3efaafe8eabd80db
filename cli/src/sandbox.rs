//! `--sandbox`: every provider on its embedded sandbox, seeded with demo payments and refunds, a
//! clock that runs with the machine's, injected faults, and an optional state file so that what one
//! command did is there for the next.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use refunds::sandbox::Fault;
use refunds::{CreateRefund, IdempotencyKey, Money, PaymentRef, RefundReason, RefundStatus};
use refunds_registry::Registry;
use refunds_registry::sandbox::{Sandboxes, follow_machine_clock as sync_clock, follow_machine_clocks};
use serde::{Deserialize, Serialize};

use crate::exit::Failure;

/// How long after its creation a refund made on the sandbox settles (to `succeeded`).
pub const SETTLE_DELAY: Duration = Duration::from_secs(1);

/// The demo refunds of each provider, in minor units of its demo payment's currency: two settled
/// partial refunds, leaving a balance to refund.
fn demo_amounts(provider: &str) -> [i64; 2] {
    match provider {
        "fourgeeks" => [2_500, 1_000], // 25.00 and 10.00 of 100.00 USD
        "xpay" => [50_000, 10_000],    // 500.00 and 100.00 of 800.00 EGP
        "bias" => [1_234, 500],        // 1.234 and 0.500 of 12.345 KWD
        "syncgram" => [5_000, 1_000],  // 5000 and 1000 of 10000 JPY
        _ => [1_999, 1_000],           // 19.99 and 10.00 of 80.00 EUR
    }
}

/// A fault injected into every sandbox: `KIND[=ARG][:TIMES]`, the kinds of
/// [`refunds::sandbox::parse_fault`].
#[derive(Debug, Clone)]
pub struct FaultSpec {
    pub(crate) fault: Fault,
    pub(crate) times: usize,
}

impl std::str::FromStr for FaultSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<FaultSpec, String> {
        let (kind, times) = match text.split_once(':') {
            Some((kind, n)) => (
                kind,
                n.parse::<usize>()
                    .ok()
                    .filter(|n| (1..=10_000).contains(n))
                    .ok_or_else(|| format!("{n:?} is not a count from 1 to 10000"))?,
            ),
            None => (text, 1),
        };
        let fault = refunds::sandbox::parse_fault(kind).map_err(|e| format!("{e}; add :N to repeat"))?;
        Ok(FaultSpec { fault, times })
    }
}

/// One create the sandbox applied, as the state file keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    provider: String,
    /// The request as sent, with the idempotency key the ledger recorded.
    request: CreateRefund,
    /// The refund id the sandbox gave it (ids are sequential, so a replay gives the same).
    refund_id: String,
    /// Its status when the command ended.
    status: RefundStatus,
}

/// The state file: the creates applied on top of the demo world, replayed at the next start.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Journal {
    creates: Vec<Entry>,
}

/// The running sandboxes and what the command line needs of them.
pub struct World {
    sandboxes: Sandboxes,
    state: Option<PathBuf>,
    journal: Journal,
    /// Refunds in each ledger once the demo and the state file were applied.
    baseline: Vec<(&'static str, usize)>,
    /// Creates this command sent (it may have sent them again: recover).
    sent: Arc<Mutex<Vec<(String, CreateRefund)>>>,
    ticker: tokio::task::JoinHandle<()>,
}

fn failure(message: impl Into<String>) -> Failure {
    Failure::other(message)
}

impl World {
    /// Starts the sandboxes, seeds the demo refunds (at the sandbox's fixed clock, 2024-01-01, so they
    /// are the same on every run), moves the clocks to the machine's, replays the state file, then
    /// queues the faults.
    pub async fn start(state: Option<PathBuf>, faults: &[FaultSpec]) -> Result<(Registry, World), Failure> {
        let (registry, sandboxes) = Registry::sandbox().await.map_err(Failure::from)?;
        for demo in &sandboxes {
            let provider = registry.provider(demo.provider).map_err(Failure::from)?;
            let info = provider.info();
            let payment = PaymentRef::new(info.capabilities.payment_kinds[0], demo.payment_id)?;
            let ledger = demo.sandbox.ledger();
            for (n, minor) in demo_amounts(demo.provider).into_iter().enumerate() {
                let mut request =
                    CreateRefund::new(payment.clone()).amount(Money::from_minor(minor, demo.captured.currency()));
                if info.capabilities.carries.reason {
                    request = request.reason(RefundReason::RequestedByCustomer);
                }
                if info.capabilities.carries.merchant_reference {
                    request = request.merchant_reference(format!("demo-{}", n + 1));
                }
                if info.capabilities.idempotency.is_native() {
                    request =
                        request.idempotency_key(IdempotencyKey::new(format!("demo-{}-{}", demo.provider, n + 1))?);
                }
                provider
                    .create_refund(&request)
                    .await
                    .map_err(|e| failure(format!("the demo refunds could not be seeded: {e}")))?;
                ledger.settle_all();
                ledger.advance(Duration::from_secs(3_600));
            }
            sync_clock(ledger);
            ledger.settle_after(Some(SETTLE_DELAY));
        }

        let journal = match &state {
            Some(path) if path.exists() => read_journal(path)?,
            _ => Journal::default(),
        };
        for entry in &journal.creates {
            replay(&registry, &sandboxes, entry).await?;
        }
        let baseline = sandboxes
            .iter()
            .map(|d| (d.provider, d.sandbox.ledger().refund_count()))
            .collect();
        for spec in faults {
            for demo in &sandboxes {
                demo.sandbox.faults().push(spec.fault.clone(), spec.times);
            }
        }
        let ticker = follow_machine_clocks(sandboxes.iter().map(|d| d.sandbox.ledger().clone()).collect());
        let world = World {
            sandboxes,
            state,
            journal,
            baseline,
            sent: Arc::default(),
            ticker,
        };
        Ok((registry, world))
    }

    /// Notes a create this command sends, so that the state file can replay it.
    pub fn note_create(&self, provider: &str, request: &CreateRefund) {
        if let Ok(mut sent) = self.sent.lock() {
            sent.push((provider.to_owned(), request.clone()));
        }
    }

    /// The ids of every refund the sandbox of `provider` holds, in creation order (the sandbox's
    /// ledger stands in for a list endpoint the provider does not have).
    pub fn refund_ids(&self, provider: &str) -> Vec<String> {
        self.sandboxes
            .get(provider)
            .map(|d| d.sandbox.ledger().refunds().into_iter().map(|r| r.id).collect())
            .unwrap_or_default()
    }

    /// Writes the state file (when one was given): the creates replayed at start, and those this
    /// command applied.
    pub fn save(self) -> Result<(), Failure> {
        self.ticker.abort();
        let Some(path) = &self.state else {
            return Ok(());
        };
        let mut journal = self.journal.clone();
        let sent = self.sent.lock().map(|s| s.clone()).unwrap_or_default();
        for (provider, before) in &self.baseline {
            let Some(demo) = self.sandboxes.get(provider) else {
                continue;
            };
            for record in demo.sandbox.ledger().refunds().into_iter().skip(*before) {
                let Some((_, request)) = sent.iter().find(|(p, r)| {
                    p == provider
                        && r.payment().id() == record.payment_id
                        && r.amount_requested().is_none_or(|a| *a == record.amount)
                }) else {
                    return Err(failure(format!(
                        "{provider}: sandbox refund {} was made by no create of this command",
                        record.id
                    )));
                };
                let mut request = request.clone();
                if request.idempotency_key_given().is_none() {
                    if let Some(key) = &record.idempotency_key {
                        request = request.idempotency_key(IdempotencyKey::new(key.clone())?);
                    }
                }
                journal.creates.push(Entry {
                    provider: (*provider).to_owned(),
                    request,
                    refund_id: record.id,
                    status: record.status,
                });
            }
        }
        let text = serde_json::to_string_pretty(&journal).map_err(|e| failure(e.to_string()))?;
        std::fs::write(path, text + "\n")
            .map_err(|e| failure(format!("{}: cannot write the sandbox state: {e}", path.display())))
    }
}

fn read_journal(path: &Path) -> Result<Journal, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::invalid(format!("{}: cannot read the sandbox state: {e}", path.display())))?;
    serde_json::from_str(&text)
        .map_err(|e| Failure::invalid(format!("{}: not a sandbox state file: {e}", path.display())))
}

/// Sends a recorded create again (through the client, so the sandbox sees the same request) and
/// checks that it made the same refund.
async fn replay(registry: &Registry, sandboxes: &Sandboxes, entry: &Entry) -> Result<(), Failure> {
    let out_of_step = |why: String| {
        failure(format!(
            "the sandbox state is out of step at {} {}: {why}",
            entry.provider, entry.refund_id
        ))
    };
    let provider = registry.provider(&entry.provider).map_err(Failure::from)?;
    let refund = provider
        .create_refund(&entry.request)
        .await
        .map_err(|e| out_of_step(e.to_string()))?;
    if refund.id.as_str() != entry.refund_id {
        return Err(out_of_step(format!("the replay made {}", refund.id)));
    }
    if entry.status.is_terminal() {
        if let Some(demo) = sandboxes.get(&entry.provider) {
            demo.sandbox.ledger().set_status(&entry.refund_id, entry.status.clone());
        }
    }
    Ok(())
}
