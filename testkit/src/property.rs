//! The model-based recovery property, for every provider: random fault sequences (proptest
//! strategies) against a fresh sandbox each, with the default retry policy, creates without caller
//! keys and concurrent creates on one payment. After recovery, the SDK's account of every call must
//! agree with the ledger, per (payment, amount): never a duplicate, never a silent loss, never a wrong
//! verdict; "unknown" (or several candidates) is allowed and counted by reason.
//!
//! The strategy comes from the provider's capabilities, as in [`refunds::RecoverExt`]: a provider that
//! de-duplicates creates (WooshPay, SyncgramPay, Bias, the reference) is resolved by re-sending the
//! pending create under its key; the others (4Geeks, xpay) by looking the refund up.
//!
//! **Clocks.** The sandbox ledger's clock is virtual (it starts at 2024-01-01 and moves only when
//! told), while [`PendingCreate::started_at`](refunds::PendingCreate) is this machine's clock. Recovery
//! compares a refund's reported creation time with the time the call started, so for providers that
//! report creation times the two clocks must be one: the harness sets the pending create's
//! `started_at` to the ledger clock, and [`RecoveryOptions::now`] to the ledger clock plus the settle
//! window. The latter is true in substance: before recovery, the harness stops injecting faults and
//! waits past the longest injected delay, so every create that will ever land has landed.
//!
//! Each sequence also seeds "earlier" refunds of the same payments and amounts an hour (ledger time)
//! before the creates, and may skew the provider's reported clock by up to 4 minutes either way
//! (within recovery's 5-minute margin): an earlier refund must never be reported as a pending create's
//! refund (finding 4 of the safety review).

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use refunds::adapter::{HttpProvider, RetryPolicy};
use refunds::sandbox::{Fault, FaultCounts, RefundRecord, Sandbox};
use refunds::{
    CreateRefund, Currency, Money, PaymentRef, RecoverExt, Recovery, RecoveryOptions, Refund, RefundProvider,
    RefundStatus,
};

use crate::suite::ProviderUnderTest;

/// Sequences run per provider by default (CI); `REFUNDS_PROPERTY_SEQUENCES` overrides it.
pub const DEFAULT_SEQUENCES: usize = 2_000;

/// Sequences in flight at once (each on its own sandbox).
pub const IN_FLIGHT: usize = 128;

/// The client's per-attempt timeout: the injected delays and slow commits outlast it.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(150);

/// The longest injected delay; the harness waits a little longer before recovery.
const LONGEST_DELAY: Duration = Duration::from_millis(400);

/// One create of a sequence: which payment, which of two amounts (shared amounts make concurrent
/// creates indistinguishable by content).
#[derive(Debug, Clone, Copy)]
pub struct Call {
    payment: usize,
    amount: usize,
}

/// One random sequence: a fault rate and seed for the sandbox's plan, earlier refunds, a clock skew,
/// and creates sent at once.
#[derive(Debug, Clone)]
pub struct Sequence {
    per_mille: u32,
    seed: u64,
    earlier: Vec<Call>,
    skew_secs: i64,
    calls: Vec<Call>,
}

fn sequences() -> impl Strategy<Value = Sequence> {
    let call = || (0usize..2, 0usize..2).prop_map(|(payment, amount)| Call { payment, amount });
    (
        0u32..700,
        any::<u64>(),
        prop::collection::vec(call(), 0..3),
        -240i64..=240,
        prop::collection::vec(call(), 1..5),
    )
        .prop_map(|(per_mille, seed, earlier, skew_secs, calls)| Sequence {
            per_mille,
            seed,
            earlier,
            skew_secs,
            calls,
        })
}

/// The faults drawn. A provider without idempotency takes a 429 at its word (nothing applied: the
/// SDK re-sends a create only when the provider says it did nothing) and is never sent a 429 that lies
/// about that; with idempotency, a 429 after applying is survivable (the retry replays the key).
pub fn fault_kinds(keyed: bool) -> Vec<Fault> {
    let mut kinds = vec![
        Fault::ServiceUnavailable,
        Fault::RateLimited {
            retry_after: Duration::ZERO,
        },
        Fault::ConnectionReset,
        Fault::Delay(LONGEST_DELAY),
        Fault::ResponseLost,
        Fault::SlowCommit(Duration::from_millis(300)),
    ];
    if keyed {
        kinds.push(Fault::AppliedThen(429));
    }
    kinds
}

/// What the property found.
#[derive(Debug, Default, Clone)]
#[non_exhaustive]
pub struct PropertyReport {
    /// The provider.
    pub provider: String,
    /// How ambiguous creates were resolved: `"re-send"` or `"look-up"`.
    pub strategy: &'static str,
    /// Sequences run.
    pub sequences: usize,
    /// Creates sent.
    pub calls: usize,
    /// Faults injected, by kind.
    pub faults: FaultCounts,
    /// Sequences whose provider clock was skewed (non-zero skew on reported creation times).
    pub clock_skewed: usize,
    /// Earlier refunds of the same payments and amounts seeded before the creates.
    pub earlier_refunds: usize,
    /// Calls that ended in success.
    pub succeeded: usize,
    /// Calls refused (nothing applied, no pending create).
    pub refused: usize,
    /// Calls that ended `Ambiguous` (with a pending create).
    pub ambiguous: usize,
    /// Ambiguous calls recovery found applied.
    pub recovered_applied: usize,
    /// Ambiguous calls recovery said were not applied.
    pub recovered_not_applied: usize,
    /// Recovery verdicts that were unknown or candidates, by reason.
    pub unknown: BTreeMap<String, usize>,
    /// Refunds in the ledger beyond what the SDK's answers allow (a duplicate, or a wrong "not
    /// applied" that an application would re-send).
    pub duplicates: usize,
    /// Refunds the SDK claimed that the ledger does not have, or has for another payment or amount.
    pub silent_losses: usize,
    /// One refund claimed by two calls, or an earlier refund reported as a pending create's.
    pub wrong_verdicts: usize,
}

impl PropertyReport {
    /// Unknown verdicts (and candidate lists) in all.
    pub fn unknowns(&self) -> usize {
        self.unknown.values().sum()
    }

    fn add(&mut self, r: PropertyReport) {
        self.sequences += r.sequences;
        self.calls += r.calls;
        add_counts(&mut self.faults, r.faults);
        self.clock_skewed += r.clock_skewed;
        self.earlier_refunds += r.earlier_refunds;
        self.succeeded += r.succeeded;
        self.refused += r.refused;
        self.ambiguous += r.ambiguous;
        self.recovered_applied += r.recovered_applied;
        self.recovered_not_applied += r.recovered_not_applied;
        for (reason, n) in r.unknown {
            *self.unknown.entry(reason).or_default() += n;
        }
        self.duplicates += r.duplicates;
        self.silent_losses += r.silent_losses;
        self.wrong_verdicts += r.wrong_verdicts;
    }

    /// Panics unless the property held: no duplicate, no silent loss, no wrong verdict, faults were
    /// injected, and every ambiguous call got a verdict (applied, not applied or unknown).
    pub fn assert_held(&self) {
        assert_eq!(self.duplicates, 0, "{self}");
        assert_eq!(self.silent_losses, 0, "{self}");
        assert_eq!(self.wrong_verdicts, 0, "{self}");
        assert!(self.faults.total() > 0, "faults were injected: {self}");
        assert_eq!(
            self.ambiguous,
            self.recovered_applied + self.recovered_not_applied + self.unknowns(),
            "every ambiguous call got a verdict: {self}"
        );
        assert_eq!(
            self.calls,
            self.succeeded + self.refused + self.ambiguous,
            "every call was accounted for: {self}"
        );
    }
}

impl fmt::Display for PropertyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.faults;
        write!(
            f,
            "{} ({}): sequences {}, calls {}, faults {} (503 {}, 429 {}, reset {}, delay {}, lost {}, slow commit {}, \
             applied-then-429 {}; in-progress answers {}), clock-skewed sequences {}, earlier refunds {}, \
             succeeded {}, refused {}, ambiguous {}, recovered applied {}, recovered not applied {}, unknown {} {:?}, \
             duplicates {}, silent losses {}, wrong verdicts {}",
            self.provider,
            self.strategy,
            self.sequences,
            self.calls,
            c.total(),
            c.service_unavailable,
            c.rate_limited,
            c.connection_reset,
            c.delayed,
            c.response_lost,
            c.slow_commit,
            c.applied_then_429,
            c.in_progress_answers,
            self.clock_skewed,
            self.earlier_refunds,
            self.succeeded,
            self.refused,
            self.ambiguous,
            self.recovered_applied,
            self.recovered_not_applied,
            self.unknowns(),
            self.unknown,
            self.duplicates,
            self.silent_losses,
            self.wrong_verdicts,
        )
    }
}

fn add_counts(total: &mut FaultCounts, c: FaultCounts) {
    total.service_unavailable += c.service_unavailable;
    total.rate_limited += c.rate_limited;
    total.connection_reset += c.connection_reset;
    total.delayed += c.delayed;
    total.response_lost += c.response_lost;
    total.slow_commit += c.slow_commit;
    total.applied_then_429 += c.applied_then_429;
    total.applied_then_409 += c.applied_then_409;
    total.applied_then_other += c.applied_then_other;
    total.list_total_overstated += c.list_total_overstated;
    total.list_repeat_cursor += c.list_repeat_cursor;
    total.list_short_page += c.list_short_page;
    total.list_repeat_item += c.list_repeat_item;
    total.in_progress_answers += c.in_progress_answers;
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

/// The property on a [`ProviderUnderTest`]'s sandbox: [`sequence_count`]`(DEFAULT_SEQUENCES)`
/// sequences from [`sequence_seed`]`(seed)`, faults by [`fault_kinds`] of its idempotency, a client
/// with the default retry policy and a [`ATTEMPT_TIMEOUT`] per attempt.
pub async fn run_provider<T: ProviderUnderTest>(seed: u64) -> PropertyReport {
    let keyed = T::Provider::SPEC.idempotency != refunds::adapter::Idempotency::None;
    let currency = currency_for::<T>();
    let start = move || async move {
        let sandbox = Sandbox::start(T::skin(currency), T::ledger())
            .await
            .expect("bind 127.0.0.1");
        let client = T::builder(&sandbox.base_url())
            .currency(currency)
            .retry(RetryPolicy::new())
            .attempt_timeout(ATTEMPT_TIMEOUT)
            .build()
            .expect("client");
        let client: Arc<dyn RefundProvider> = Arc::new(client);
        (sandbox, client)
    };
    run(
        start,
        currency,
        fault_kinds(keyed),
        sequence_count(DEFAULT_SEQUENCES),
        sequence_seed(seed),
        IN_FLIGHT,
    )
    .await
}

/// Runs `count` random sequences, each on a fresh sandbox from `start` (a sandbox and a client of it
/// with the default retry policy and a short attempt timeout, an account in `currency`), `in_flight`
/// sequences at a time.
pub async fn run<F, Fut>(
    start: F,
    currency: Currency,
    kinds: Vec<Fault>,
    count: usize,
    seed: u64,
    in_flight: usize,
) -> PropertyReport
where
    F: Fn() -> Fut + Send + Sync,
    Fut: Future<Output = (Sandbox, Arc<dyn RefundProvider>)> + Send,
{
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes));
    let strategy = sequences();
    let plans = (0..count).map(move |_| strategy.new_tree(&mut runner).expect("a sequence").current());
    let mut total = PropertyReport::default();
    let mut outcomes = futures_util::stream::iter(plans)
        .map(|plan| {
            let start = &start;
            let kinds = kinds.clone();
            async move {
                let (sandbox, client) = start().await;
                let report = run_one(&sandbox, client.as_ref(), currency, &plan, kinds).await;
                (plan, report)
            }
        })
        .buffer_unordered(in_flight.max(1));
    while let Some((plan, r)) = outcomes.next().await {
        if r.duplicates + r.silent_losses + r.wrong_verdicts > 0 {
            eprintln!("failing sequence: {plan:?}\n  {r}");
        }
        if total.provider.is_empty() {
            total.provider = r.provider.clone();
            total.strategy = r.strategy;
        }
        total.add(r);
    }
    total
}

const AMOUNTS: [i64; 2] = [1_000, 2_000];

#[derive(Default)]
struct Group {
    succeeded: usize,
    applied: usize,
    unknown: usize,
}

async fn run_one(
    sandbox: &Sandbox,
    client: &dyn RefundProvider,
    currency: Currency,
    plan: &Sequence,
    kinds: Vec<Fault>,
) -> PropertyReport {
    let info = client.info();
    let mut report = PropertyReport {
        provider: info.id.to_owned(),
        strategy: if info.capabilities.idempotency.is_native() {
            "re-send"
        } else {
            "look-up"
        },
        sequences: 1,
        calls: plan.calls.len(),
        earlier_refunds: plan.earlier.len(),
        clock_skewed: usize::from(plan.skew_secs != 0),
        ..PropertyReport::default()
    };
    let payment_kinds = &info.capabilities.payment_kinds;
    let payments: Vec<PaymentRef> = (0..2)
        .map(|i| PaymentRef::new(payment_kinds[i % payment_kinds.len()], format!("pay_prop_{i}")).expect("id"))
        .collect();
    let ledger = sandbox.ledger();
    for p in &payments {
        ledger.seed_payment(p.id(), Money::from_minor(1_000_000, currency));
    }
    // Earlier refunds of the same payments and amounts, an hour (ledger time) before the creates.
    let mut earlier: HashSet<String> = HashSet::new();
    for (n, e) in plan.earlier.iter().enumerate() {
        let id = format!("re_earlier_{n}");
        ledger.insert_refund(RefundRecord::new(
            id.clone(),
            payments[e.payment].id(),
            Money::from_minor(AMOUNTS[e.amount], currency),
            RefundStatus::Succeeded,
        ));
        earlier.insert(id);
    }
    ledger.advance(Duration::from_secs(3_600));
    ledger.set_clock_skew_secs(plan.skew_secs);
    let started = ledger.now();

    sandbox.faults().random(plan.per_mille, plan.seed, kinds);
    let requests: Vec<CreateRefund> = plan
        .calls
        .iter()
        .map(|c| CreateRefund::new(payments[c.payment].clone()).amount(Money::from_minor(AMOUNTS[c.amount], currency)))
        .collect();
    let outcomes = futures_util::future::join_all(requests.iter().map(|r| client.create_refund(r))).await;
    // The provider settles: faults stop, delayed and slow commits land.
    report.faults = sandbox.faults().counts();
    sandbox.faults().clear();
    tokio::time::sleep(LONGEST_DELAY + Duration::from_millis(50)).await;

    let mut groups: BTreeMap<(usize, usize), Group> = BTreeMap::new();
    let mut claimed: HashSet<String> = HashSet::new();
    let mut claims: Vec<(usize, Refund)> = Vec::new();
    let mut pending = Vec::new();
    for (i, outcome) in outcomes.into_iter().enumerate() {
        let call = plan.calls[i];
        let group = groups.entry((call.payment, call.amount)).or_default();
        match outcome {
            Ok(refund) => {
                group.succeeded += 1;
                report.succeeded += 1;
                claims.push((i, refund));
            }
            Err(e) => match e.pending() {
                Some(p) => {
                    report.ambiguous += 1;
                    pending.push((i, p.clone()));
                }
                None => report.refused += 1,
            },
        }
    }
    for (_, refund) in &claims {
        if !claimed.insert(refund.id.as_str().to_owned()) || earlier.contains(refund.id.as_str()) {
            report.wrong_verdicts += 1;
        }
    }
    for (i, mut p) in pending {
        let call = plan.calls[i];
        // One clock: the ledger's (see the module documentation).
        p.started_at = started;
        let settle = RecoveryOptions::new().settle;
        let booked = claims.iter().map(|(_, r)| r.id.clone());
        let options = RecoveryOptions::new().now(started + settle).booked(booked);
        let group = groups.entry((call.payment, call.amount)).or_default();
        match client.recover_with(&p, options).await {
            Recovery::Applied(refund) => {
                group.applied += 1;
                report.recovered_applied += 1;
                if !claimed.insert(refund.id.as_str().to_owned()) || earlier.contains(refund.id.as_str()) {
                    report.wrong_verdicts += 1;
                }
                claims.push((i, *refund));
            }
            Recovery::NotApplied => report.recovered_not_applied += 1,
            Recovery::Candidates(_) => {
                group.unknown += 1;
                *report
                    .unknown
                    .entry("candidates: refunds that cannot be told apart".into())
                    .or_default() += 1;
            }
            Recovery::Unknown(reason) => {
                group.unknown += 1;
                *report.unknown.entry(reason_kind(&reason)).or_default() += 1;
            }
            _ => report.wrong_verdicts += 1,
        }
    }
    // Every claimed refund is in the ledger, with the call's payment and amount.
    for (i, refund) in &claims {
        let call = plan.calls[*i];
        match ledger.refund(refund.id.as_str()) {
            Some(record)
                if record.payment_id == payments[call.payment].id()
                    && record.amount.minor() == AMOUNTS[call.amount] => {}
            _ => report.silent_losses += 1,
        }
    }
    // Per payment and amount, the ledger holds (besides the earlier refunds) no more refunds than the
    // answers allow, and no fewer than they claim.
    for ((payment, amount), group) in &groups {
        let held = ledger
            .refunds_for_payment(payments[*payment].id())
            .iter()
            .filter(|r| r.amount.minor() == AMOUNTS[*amount] && !earlier.contains(&r.id))
            .count();
        let claimed = group.succeeded + group.applied;
        if held > claimed + group.unknown {
            report.duplicates += held - claimed - group.unknown;
        }
        if held < claimed {
            report.silent_losses += claimed - held;
        }
    }
    report
}

/// The reason of an unknown verdict without its details (the text before the first colon, with
/// digits and provider-specific error text dropped), for counting.
fn reason_kind(reason: &str) -> String {
    reason.split(':').next().unwrap_or_default().trim().to_owned()
}

/// The recovery property as one named test, `recovery_property`, for a [`ProviderUnderTest`]:
/// [`DEFAULT_SEQUENCES`] sequences (`REFUNDS_PROPERTY_SEQUENCES` scales it), re-sending or looking up
/// by the provider's capabilities.
#[macro_export]
macro_rules! property_tests {
    ($under:ty) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn recovery_property() {
            let report = $crate::property::run_provider::<$under>(0x5eed_2024).await;
            println!("{report}");
            report.assert_held();
        }
    };
}
