//! The model-based recovery property, for every provider, in a world that is hostile *and* busy.
//!
//! Each random sequence runs on a fresh sandbox whose clock is this machine's. The application wants a
//! few refunds of two payments and two amounts (some full refunds, some in another currency than the
//! payment's, some with the provider's own options) and creates them at once, with the default retry
//! policy and no caller keys. Meanwhile:
//!
//! - **other actors** refund the same payments and amounts: an hour before, inside the clock-skew
//!   margin, during the creates and after them (some carrying another SDK's marker);
//! - the provider **misbehaves** on any request, creates, re-sends and list pages alike: 503s, 429s
//!   (`Retry-After` 0 or two minutes), resets, late answers, lost answers, slow commits (the key "in
//!   progress" meanwhile), 401, 403, 404, "in progress" 409s, and applied-then-429 where it keeps keys;
//! - its reported clock is **skewed** by up to four minutes;
//! - the application **recovers** a pending create at once, inside the settle window, after it, or
//!   after the provider forgot the create's key, up to three times, and **follows the verdicts**:
//!   `Applied` is booked, `NotApplied` is created again (a new create), `Unknown` and `Candidates` are
//!   recovered again and, after the third try, left to a person.
//!
//! Afterwards every refund in the ledger is named by the call that made it (the `check` module), and:
//! no intent has two refunds (duplicates), no refund exists that the application was told does not
//! (silent losses), no verdict names a refund its create did not make (wrong verdicts), and no re-send
//! under a key differs from the first create sent with it.
//!
//! [`Mode::Busy`] is the default world; [`Mode::Declared`] has no other actors, and the application
//! passes the refunds it booked and declares the payment exclusive when no other create of it is
//! unresolved.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use refunds::adapter::{AccountCurrency, Client, HttpProvider, Idempotency, RetryPolicy};
use refunds::sandbox::{Fault, Sandbox};
use refunds::{CallOptions, CreateRefund, Currency, Refund, RefundProvider};

use crate::suite::ProviderUnderTest;

mod check;
pub mod plan;
mod report;
mod world;

pub use plan::Sequence;
pub use report::PropertyReport;

/// Sequences run per provider and mode by default (CI); `REFUNDS_PROPERTY_SEQUENCES` overrides it.
pub const DEFAULT_SEQUENCES: usize = 2_000;

/// Sequences of the declared mode by default (CI), beside the busy ones.
pub const DEFAULT_DECLARED_SEQUENCES: usize = 500;

/// Sequences in flight at once (each on its own sandbox); `REFUNDS_PROPERTY_IN_FLIGHT` overrides it
/// (a soak mostly waits on settle windows, so it runs more at once).
pub const IN_FLIGHT: usize = 128;

fn in_flight() -> usize {
    std::env::var("REFUNDS_PROPERTY_IN_FLIGHT")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(IN_FLIGHT)
}

/// The client's per-attempt timeout: the injected delays and slow commits outlast it.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(150);

/// The longest injected delay (a late answer, after the request was applied).
const LONGEST_DELAY: Duration = Duration::from_millis(400);

/// The settle window the application passes to recovery. It is the truth about the sandbox: every
/// create it will apply lands within the longest injected delay (`LONGEST_DELAY`) of its last attempt.
pub const SETTLE: Duration = Duration::from_millis(600);

/// The world of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Other actors refund the same payments; the application declares nothing.
    Busy,
    /// No other actor; the application passes its booked refunds and declares exclusivity when it can.
    Declared,
}

/// A create with the provider's own options.
pub type CreateWithOptions = Arc<dyn Fn(CreateRefund) -> BoxFuture<'static, refunds::Result<Refund>> + Send + Sync>;

/// What the property drives: the provider, and (where it has options) a create with them.
#[derive(Clone)]
pub struct Subject {
    /// The client.
    pub provider: Arc<dyn RefundProvider>,
    /// A create with the provider's own options.
    pub create_with_options: Option<CreateWithOptions>,
}

impl Subject {
    /// A subject of a client of `P`, with `options` for the creates that carry some.
    pub fn of<P: HttpProvider>(client: Client<P>, options: Option<P::Options>) -> Subject {
        let create_with_options = options.map(|options| {
            let client = client.clone();
            let f: CreateWithOptions = Arc::new(move |request: CreateRefund| {
                let (client, options) = (client.clone(), options.clone());
                Box::pin(async move {
                    client
                        .create_refund_with_provider_options(&request, &CallOptions::new(), &options)
                        .await
                })
            });
            f
        });
        Subject {
            provider: Arc::new(client),
            create_with_options,
        }
    }
}

/// The faults drawn. A provider without idempotency takes a 429 at its word (nothing applied: the
/// SDK re-sends a create only when the provider says it did nothing) and is never sent a 429 that lies
/// about that; with idempotency, a 429 after applying is survivable (the re-send replays the key).
pub fn fault_kinds(keyed: bool) -> Vec<Fault> {
    let mut kinds = vec![
        Fault::ServiceUnavailable,
        Fault::RateLimited {
            retry_after: Duration::ZERO,
        },
        Fault::RateLimited {
            retry_after: Duration::from_secs(120),
        },
        Fault::ConnectionReset,
        Fault::Delay(LONGEST_DELAY),
        Fault::ResponseLost,
        Fault::SlowCommit(Duration::from_millis(300)),
        Fault::Refuse(401),
        Fault::Refuse(403),
        Fault::Refuse(404),
        Fault::InProgress,
    ];
    if keyed {
        kinds.push(Fault::AppliedThen(429));
    }
    kinds
}

/// How many sequences to run: `REFUNDS_PROPERTY_SEQUENCES`, else `default`.
pub fn sequence_count(default: usize) -> usize {
    std::env::var("REFUNDS_PROPERTY_SEQUENCES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// The seed of the sequence generator: `REFUNDS_PROPERTY_SEED` (decimal, or hex with `0x`), else
/// `default`. A soak split over several runs gives each run its own seed, so no sequence repeats.
pub fn sequence_seed(default: u64) -> u64 {
    std::env::var("REFUNDS_PROPERTY_SEED")
        .ok()
        .and_then(|v| {
            let v = v.trim();
            match v.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16).ok(),
                None => v.parse().ok(),
            }
        })
        .unwrap_or(default)
}

/// The first of USD, EUR, EGP the provider takes.
fn currency_for<T: ProviderUnderTest>() -> Currency {
    [Currency::USD, Currency::EUR, Currency::EGP]
        .into_iter()
        .find(|c| T::supports_currency(*c))
        .unwrap_or(Currency::USD)
}

/// The property on a [`ProviderUnderTest`]'s sandbox in `mode`: `count` sequences from
/// [`sequence_seed`]`(seed)`, a client with the default retry policy and a [`ATTEMPT_TIMEOUT`] per
/// attempt. Where refunds carry their currency on the wire, the client has no account currency, so an
/// answer in another currency than asked reaches the answer check.
pub async fn run_provider<T: ProviderUnderTest>(seed: u64, mode: Mode, count: usize) -> PropertyReport {
    let keyed = T::Provider::SPEC.idempotency != Idempotency::None;
    let currency = currency_for::<T>();
    let start = move || async move {
        let sandbox = Sandbox::start(T::skin(currency), T::ledger())
            .await
            .expect("bind 127.0.0.1");
        let mut builder = T::builder(&sandbox.base_url())
            .retry(RetryPolicy::new())
            .attempt_timeout(ATTEMPT_TIMEOUT);
        if T::Provider::SPEC.currency != AccountCurrency::OnTheWire {
            builder = builder.currency(currency);
        }
        let client = builder.build().expect("client");
        (sandbox, Subject::of(client, T::sample_options()))
    };
    run(start, currency, fault_kinds(keyed), count, sequence_seed(seed), mode).await
}

/// Runs `count` random sequences, each on a fresh sandbox and subject from `start` (an account in
/// `currency`), [`IN_FLIGHT`] at a time.
pub async fn run<F, Fut>(
    start: F,
    currency: Currency,
    kinds: Vec<Fault>,
    count: usize,
    seed: u64,
    mode: Mode,
) -> PropertyReport
where
    F: Fn() -> Fut + Send + Sync,
    Fut: Future<Output = (Sandbox, Subject)> + Send,
{
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes));
    let strategy = plan::sequences();
    let plans = (0..count).map(move |_| strategy.new_tree(&mut runner).expect("a sequence").current());
    let mut total = PropertyReport::default();
    let mut outcomes = futures_util::stream::iter(plans)
        .map(|plan| {
            let (start, kinds) = (&start, kinds.clone());
            async move {
                let (sandbox, subject) = start().await;
                let report = run_one(&sandbox, &subject, currency, &plan, kinds, mode).await;
                (plan, report)
            }
        })
        .buffer_unordered(in_flight());
    while let Some((plan, r)) = outcomes.next().await {
        if r.duplicates + r.silent_losses + r.wrong_verdicts > 0 || r.changed_resends > 0 {
            eprintln!("failing sequence: {plan:?}\n  {r}");
        }
        total.add(r);
    }
    total
}

async fn run_one(
    sandbox: &Sandbox,
    subject: &Subject,
    currency: Currency,
    plan: &Sequence,
    kinds: Vec<Fault>,
    mode: Mode,
) -> PropertyReport {
    let info = subject.provider.info();
    let keeps_keys = info.capabilities.idempotency.is_native();
    let world = world::World::new(sandbox, subject, currency, plan, mode, kinds);
    world.seed();
    let intents = futures_util::future::join_all((0..plan.intents.len()).map(|i| world.intent(i)));
    let (calls, ()) = futures_util::future::join(intents, world.act_later()).await;
    let calls: Vec<world::CallRecord> = calls.into_iter().flatten().collect();
    // The provider settles: faults stop, late and slow commits land.
    sandbox.faults().clear();
    tokio::time::sleep(LONGEST_DELAY + Duration::from_millis(100)).await;
    let mut report = PropertyReport {
        provider: info.id.to_owned(),
        strategy: if keeps_keys { "re-send" } else { "look-up" },
        mode: match mode {
            Mode::Busy => "busy",
            Mode::Declared => "declared",
        },
        sequences: 1,
        intents: plan.intents.len(),
        faults: sandbox.faults().counts(),
        other_refunds: if mode == Mode::Busy { plan.others.len() } else { 0 },
        clock_skewed: usize::from(plan.skew_secs != 0),
        changed_resends: sandbox.changed_resends(),
        ..PropertyReport::default()
    };
    count_calls(&calls, &mut report);
    check::reconcile(&sandbox.ledger().refunds(), &calls, &mut report);
    report
}

fn count_calls(calls: &[world::CallRecord], report: &mut PropertyReport) {
    use world::CallEnd;
    for call in calls {
        report.creates += 1;
        for verdict in &call.verdicts {
            report.note_verdict(verdict.clone());
        }
        match call.end {
            CallEnd::Booked(_) => report.succeeded += 1,
            CallEnd::Mismatched(_) => report.mismatched += 1,
            CallEnd::Refused => report.refused += 1,
            CallEnd::Applied(_) => report.ambiguous += 1,
            CallEnd::NotApplied => {
                report.ambiguous += 1;
                report.recreated += 1;
            }
            CallEnd::Escalated => {
                report.ambiguous += 1;
                report.escalated += 1;
            }
        }
    }
}

/// The recovery property as two named tests for a [`ProviderUnderTest`]: `recovery_property` (the
/// busy world, [`DEFAULT_SEQUENCES`]) and `recovery_property_declared` (booked refunds and
/// exclusivity declared, [`DEFAULT_DECLARED_SEQUENCES`]); `REFUNDS_PROPERTY_SEQUENCES` sets both.
#[macro_export]
macro_rules! property_tests {
    ($under:ty) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn recovery_property() {
            let count = $crate::property::sequence_count($crate::property::DEFAULT_SEQUENCES);
            let report =
                $crate::property::run_provider::<$under>(0x5eed_2024, $crate::property::Mode::Busy, count).await;
            println!("{report}");
            report.assert_held();
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn recovery_property_declared() {
            let count = $crate::property::sequence_count($crate::property::DEFAULT_DECLARED_SEQUENCES);
            let report =
                $crate::property::run_provider::<$under>(0x5eed_2025, $crate::property::Mode::Declared, count).await;
            println!("{report}");
            report.assert_held();
        }
    };
}
