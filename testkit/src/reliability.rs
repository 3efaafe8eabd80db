//! Reliability scenarios over a provider's sandbox: a fault storm reconciled against the ledger, and a
//! search of everything the SDK logs for the API key.

use std::collections::HashMap;
use std::fmt;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;

use crate::harness::HarnessOptions;
use crate::sandbox_suite::{SandboxHarness, SandboxRun};
use refunds::Currency;
use refunds::Error;
use refunds::Money;
use refunds::RefundId;
use refunds::RefundProviderExt;
use refunds::sandbox::{Fault, FaultCounts};
use refunds::{CreateRefund, ListRefunds, Refund};
use refunds::{RecoverExt, Recovery, RecoveryOptions};

/// What a fault storm did, reconciled against the sandbox ledger.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SoakReport {
    /// The provider.
    pub provider: String,
    /// Create calls made (each a distinct intended refund).
    pub calls: usize,
    /// Faults the sandbox injected.
    pub faults: FaultCounts,
    /// HTTP requests the sandbox received during the storm.
    pub requests: usize,
    /// Requests beyond one per call: the retries the SDK made.
    pub retries: usize,
    /// Creates that returned a refund.
    pub succeeded: usize,
    /// Creates refused by the provider or not sent.
    pub refused: usize,
    /// Creates whose outcome was ambiguous.
    pub ambiguous: usize,
    /// Ambiguous creates resolved by recovery (found, or proven not applied).
    pub ambiguous_resolved: usize,
    /// Ambiguous creates recovery could not resolve (unknown, or several candidates): reported as
    /// such, never guessed.
    pub ambiguous_unknown: usize,
    /// Intended refunds applied more than once.
    pub duplicates: usize,
    /// Calls whose final answer disagrees with the ledger (a refund the caller was not told about,
    /// or a claimed refund that does not exist).
    pub silent_losses: usize,
    /// Retrieves and list walks that failed during the storm (within the retry budget).
    pub read_failures: usize,
}

impl fmt::Display for SoakReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: calls {}, faults injected {} (503 {}, 429 {}, reset {}, delay {}, lost {}), requests {}, retries {}, \
             succeeded {}, refused {}, ambiguous {}, ambiguous resolved {}, ambiguous unknown {}, duplicates {}, \
             silent losses {}, read failures {}",
            self.provider,
            self.calls,
            self.faults.total(),
            self.faults.service_unavailable,
            self.faults.rate_limited,
            self.faults.connection_reset,
            self.faults.delayed,
            self.faults.response_lost,
            self.requests,
            self.retries,
            self.succeeded,
            self.refused,
            self.ambiguous,
            self.ambiguous_resolved,
            self.ambiguous_unknown,
            self.duplicates,
            self.silent_losses,
            self.read_failures,
        )
    }
}

fn storm() -> Vec<Fault> {
    vec![
        Fault::ServiceUnavailable,
        Fault::RateLimited {
            retry_after: Duration::from_secs(1),
        },
        Fault::ConnectionReset,
        Fault::Delay(Duration::from_millis(2_500)),
        Fault::ResponseLost,
    ]
}

enum Final {
    Applied(RefundId),
    NotApplied,
    Unresolved,
}

/// `calls` creates, each a distinct intended refund, while `per_mille`/1000 of requests meet a fault
/// (503, 429 with `Retry-After`, reset, delay past the timeout, applied-but-lost). Then retrieves and
/// list walks under the same storm, then recovery of every ambiguous create with
/// [`RecoverExt::recover_with`](refunds::RecoverExt) (providers with native idempotency re-send with
/// the pending key; the others look the refund up), then reconciliation with the ledger.
///
/// The client is the one an application gets by default: 2 retries (the default count; the backoff is
/// shortened to keep the run fast), no caller idempotency key or merchant reference on any create.
/// Recovery runs on the ledger's clock (the sandbox's is virtual; see [`crate::property`]) once the
/// storm is over and every delayed answer has landed, i.e. after the settle window.
pub async fn fault_soak(h: &dyn SandboxHarness, calls: usize, per_mille: u32) -> SoakReport {
    let currency = Currency::USD;
    // The default retry count. A read that fails within it is asked again below, as an application
    // would. The timeout leaves room for a loaded two-core CI machine; the injected delay is past it.
    let run: SandboxRun = h
        .start(HarnessOptions::new(currency, 2).timeout(Duration::from_millis(1_500)))
        .await;
    let client = run.client.clone();
    let ledger = run.sandbox.ledger().clone();
    let requests: Vec<CreateRefund> = (0..calls)
        .map(|i| {
            let payment = format!("pay_soak_{i:05}");
            ledger.seed_payment(&payment, Money::from_minor(100_000, currency));
            let kind = client.info().capabilities.payment_kinds[0];
            // No caller key, no merchant reference: the SDK's defaults only.
            CreateRefund::new(refunds::PaymentRef::new(kind, payment).expect("id"))
                .amount(Money::from_minor(1_000 + i as i64, currency))
        })
        .collect();

    let faults = run.sandbox.faults();
    faults.random(per_mille, 0x5eed_0001, storm());
    // Unordered, so that a call waiting out a `Retry-After` does not hold the others back.
    let mut indexed: Vec<(usize, Result<Refund, Error>)> = futures_util::stream::iter(requests.iter().enumerate())
        .map(|(i, r)| {
            let client = client.clone();
            async move { (i, client.create_refund(r).await) }
        })
        .buffer_unordered(48)
        .collect()
        .await;
    indexed.sort_by_key(|(i, _)| *i);
    let outcomes: Vec<Result<Refund, Error>> = indexed.into_iter().map(|(_, o)| o).collect();
    let storm_requests = run.sandbox.request_count();
    let mut report = SoakReport {
        provider: client.info().id.to_owned(),
        calls,
        requests: storm_requests,
        retries: storm_requests.saturating_sub(calls),
        ..SoakReport::default()
    };

    // Reads under the same storm must succeed. The client's timeout bounds a whole call, retries
    // included, and a delay fault outlasts it; an application re-asks a read that failed, and so does
    // this check (a read is always safe to repeat): a retrieve up to eight calls, a list walk (ten
    // pages, each of which a delay fault can end) up to twenty.
    let created: Vec<RefundId> = outcomes
        .iter()
        .filter_map(|o| o.as_ref().ok().map(|r| r.id.clone()))
        .collect();
    if client.info().capabilities.retrieve {
        let reads: Vec<bool> = futures_util::stream::iter(created.iter().take(200))
            .map(|id| {
                let client = client.clone();
                async move {
                    let mut got = client.get_refund(id).await;
                    for _ in 0..7 {
                        if got.is_ok() {
                            break;
                        }
                        got = client.get_refund(id).await;
                    }
                    if let Err(e) = &got {
                        eprintln!("read failure (retrieve): {e:?}");
                    }
                    got.is_ok()
                }
            })
            .buffer_unordered(32)
            .collect()
            .await;
        report.read_failures += reads.iter().filter(|ok| !**ok).count();
    }
    if client.info().capabilities.list.is_some() {
        // Large pages where the provider takes them; its default page size otherwise.
        let mut walked = Err(refunds::Error::unsupported("not walked"));
        for _ in 0..20 {
            walked = match client.all_refunds(ListRefunds::new().limit(100)).await {
                Err(e) if matches!(e.kind(), refunds::ErrorKind::InvalidRequest { .. }) => {
                    client.all_refunds(ListRefunds::new()).await
                }
                other => other,
            };
            if walked.is_ok() {
                break;
            }
        }
        if let Err(e) = walked {
            eprintln!("read failure (list walk): {e:?}");
            report.read_failures += 1;
        }
    }
    report.faults = faults.counts();
    faults.clear();
    // Every delayed answer lands before recovery (the provider has settled).
    tokio::time::sleep(Duration::from_millis(2_600)).await;

    // Recovery of ambiguous outcomes, then the final answer of every call.
    let now = ledger.now();
    let mut finals = Vec::with_capacity(calls);
    for outcome in outcomes {
        let answer = match outcome {
            Ok(refund) => {
                report.succeeded += 1;
                Final::Applied(refund.id)
            }
            Err(e) => match e.pending() {
                None => {
                    report.refused += 1;
                    Final::NotApplied
                }
                Some(pending) => {
                    report.ambiguous += 1;
                    let mut pending = pending.clone();
                    pending.started_at = now;
                    let options = RecoveryOptions::new().now(now + RecoveryOptions::new().settle);
                    match client.recover_with(&pending, options).await {
                        Recovery::Applied { refund, .. } => {
                            report.ambiguous_resolved += 1;
                            Final::Applied(refund.id)
                        }
                        Recovery::NotApplied { .. } => {
                            report.ambiguous_resolved += 1;
                            Final::NotApplied
                        }
                        _ => {
                            report.ambiguous_unknown += 1;
                            Final::Unresolved
                        }
                    }
                }
            },
        };
        finals.push(answer);
    }

    let mut by_payment: HashMap<String, Vec<String>> = HashMap::new();
    for r in ledger.refunds() {
        by_payment.entry(r.payment_id).or_default().push(r.id);
    }
    for (request, answer) in requests.iter().zip(finals) {
        let applied = by_payment.get(request.payment().id()).cloned().unwrap_or_default();
        if applied.len() > 1 {
            report.duplicates += 1;
        }
        let consistent = match answer {
            Final::Applied(id) => applied.len() == 1 && applied[0] == id.as_str(),
            Final::NotApplied => applied.is_empty(),
            // Reported as such: the caller was told it could not be resolved.
            Final::Unresolved => true,
        };
        if !consistent {
            report.silent_losses += 1;
        }
    }
    report
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs a create / get / list / error cycle with every `tracing` event at TRACE level captured, and
/// returns the captured text. The caller asserts its keys are absent.
pub fn traced_cycle(h: &dyn SandboxHarness) -> String {
    // One process-wide subscriber writing into one buffer: a scoped (thread-local) subscriber can miss
    // events whose callsites other test threads registered first, which made this test flaky.
    static CAPTURED: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    let captured = CAPTURED
        .get_or_init(|| {
            let captured = Captured::default();
            let writer = captured.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .finish();
            // Fails only when the test binary installed its own global subscriber; then nothing is captured
            // and the caller's "was traced" assertion says so.
            let _ = tracing::subscriber::set_global_default(subscriber);
            captured
        })
        .clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    {
        runtime.block_on(async {
            let run = h.start(HarnessOptions::new(Currency::USD, 1)).await;
            run.sandbox
                .ledger()
                .seed_payment("pay_trace", Money::from_minor(5_000, Currency::USD));
            let kind = run.client.info().capabilities.payment_kinds[0];
            let payment = refunds::PaymentRef::new(kind, "pay_trace").expect("id");
            let refund = run
                .client
                .create_refund(&CreateRefund::new(payment.clone()).amount(Money::from_minor(1_000, Currency::USD)))
                .await
                .expect("create");
            if run.client.info().capabilities.retrieve {
                run.client.get_refund(&refund.id).await.expect("get");
            }
            if run.client.info().capabilities.list.is_some() {
                run.client.all_refunds(ListRefunds::new()).await.expect("list");
            }
            let denied = run.wrong_key_client.create_refund(&CreateRefund::new(payment)).await;
            let e = denied.expect_err("wrong key");
            tracing::error!(error = %e, debug = ?e, "refund failed");
            run.sandbox.faults().push(Fault::ServiceUnavailable, 1);
            let _ = run.client.get_refund(&refund.id).await;
        });
    }
    let bytes = captured.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The fault storm and the traced cycle as named tests, against a [`SandboxHarness`] expression;
/// `$keys` is an expression giving the keys that must never be logged (`&[&str]`).
#[macro_export]
macro_rules! reliability_tests {
    ($harness:expr, $keys:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn reliability_fault_storm_1000_creates_default_policy() {
            let report = $crate::reliability::fault_soak(&$harness, 1000, 300).await;
            println!("{report}");
            assert!(
                report.faults.total() >= 200,
                "the storm injected faults: {report}"
            );
            assert_eq!(report.duplicates, 0, "{report}");
            assert_eq!(report.silent_losses, 0, "{report}");
            assert_eq!(report.read_failures, 0, "{report}");
            assert_eq!(
                report.ambiguous,
                report.ambiguous_resolved + report.ambiguous_unknown,
                "every ambiguous create got a verdict: {report}"
            );
        }

        #[test]
        fn reliability_keys_never_logged() {
            let logged = $crate::reliability::traced_cycle(&$harness);
            assert!(logged.contains("refunds http"), "the cycle was traced: {logged}");
            let keys: &[&str] = $keys;
            for key in keys {
                assert!(!logged.contains(key), "a key was logged");
            }
        }
    };
}
