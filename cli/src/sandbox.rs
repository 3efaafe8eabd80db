//! `--sandbox`: every provider on its embedded sandbox, seeded with demo payments and refunds, a
//! clock that runs with the machine's, injected faults, and an optional state file so that what one
//! command did is there for the next.

use std::path::PathBuf;
use std::time::Duration;

use refunds::sandbox::{Fault, Journal};
use refunds::{CreateRefund, IdempotencyKey, Money, PaymentRef, RefundReason};
use refunds_registry::Registry;
use refunds_registry::sandbox::{Sandboxes, follow_machine_clock as sync_clock, follow_machine_clocks};

use crate::exit::Failure;

/// How long after its creation a refund made on the sandbox settles (to `succeeded`).
pub const SETTLE_DELAY: Duration = Duration::from_secs(1);

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
/// The running sandboxes and what the command line needs of them.
pub struct World {
    sandboxes: Sandboxes,
    /// The state file's journal, when one was given: every change this command made is in it.
    journal: Option<Journal>,
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
            for (n, minor) in demo.demo_refunds.into_iter().enumerate() {
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

        // The state file is the sandbox's own journal (the one `refunds sandbox serve --state` keeps):
        // what earlier commands changed is replayed through the skins, wire request by wire request,
        // so a pending create's re-send under its key is still a replay of the same refund.
        let journal = match &state {
            Some(path) => {
                let (journal, entries) = Journal::open(path).map_err(Failure::invalid)?;
                for demo in &sandboxes {
                    demo.sandbox.replay(&entries).map_err(failure)?;
                    demo.sandbox.record_to(journal.clone());
                }
                Some(journal)
            }
            None => None,
        };
        for spec in faults {
            for demo in &sandboxes {
                demo.sandbox.faults().push(spec.fault.clone(), spec.times);
            }
        }
        let ticker = follow_machine_clocks(sandboxes.iter().map(|d| d.sandbox.ledger().clone()).collect());
        let world = World {
            sandboxes,
            journal,
            ticker,
        };
        Ok((registry, world))
    }

    /// The ids of every refund the sandbox of `provider` holds, in creation order (the sandbox's
    /// ledger stands in for a list endpoint the provider does not have).
    pub fn refund_ids(&self, provider: &str) -> Vec<String> {
        self.sandboxes
            .get(provider)
            .map(|d| d.sandbox.ledger().refunds().into_iter().map(|r| r.id).collect())
            .unwrap_or_default()
    }

    /// Stops the clocks; a change the state file could not take is an error (the next command would
    /// start from another world).
    pub fn save(self) -> Result<(), Failure> {
        self.ticker.abort();
        match self.journal.and_then(|j| j.error()) {
            Some(error) => Err(failure(error)),
            None => Ok(()),
        }
    }
}
