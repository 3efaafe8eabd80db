//! The model-based recovery property: random fault sequences against a stateful sandbox, with the
//! default retry policy, creates without caller keys and concurrent creates on one payment. After
//! recovery, the SDK's account of every call must agree with the ledger: never a duplicate, never a
//! silent loss, never a wrong verdict; "unknown" is allowed and counted.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use refunds::sandbox::{Fault, FaultCounts, Sandbox};
use refunds::{
    CreateRefund, Currency, Money, PaymentRef, RecoverExt, Recovery, RecoveryOptions, Refund, RefundProvider,
};

/// One create of a sequence: which payment, which of two amounts (shared amounts make concurrent
/// creates indistinguishable by content).
#[derive(Debug, Clone, Copy)]
pub struct Call {
    payment: usize,
    amount: usize,
}

/// One random sequence: a fault rate and seed for the sandbox's plan, and creates sent at once.
#[derive(Debug, Clone)]
pub struct Sequence {
    per_mille: u32,
    seed: u64,
    calls: Vec<Call>,
}

fn sequences() -> impl Strategy<Value = Sequence> {
    let call = (0usize..2, 0usize..2).prop_map(|(payment, amount)| Call { payment, amount });
    (0u32..700, any::<u64>(), prop::collection::vec(call, 1..5)).prop_map(|(per_mille, seed, calls)| Sequence {
        per_mille,
        seed,
        calls,
    })
}

/// The faults drawn. A provider without idempotency takes a 429 at its word (nothing applied) and is
/// never sent faults that lie about that; with idempotency, a 429 after applying is survivable (the
/// retry replays under the same key).
pub fn fault_kinds(keyed: bool) -> Vec<Fault> {
    let mut kinds = vec![
        Fault::ServiceUnavailable,
        Fault::RateLimited {
            retry_after: Duration::ZERO,
        },
        Fault::ConnectionReset,
        Fault::Delay(Duration::from_millis(400)),
        Fault::ResponseLost,
        Fault::SlowCommit(Duration::from_millis(300)),
    ];
    if keyed {
        kinds.push(Fault::AppliedThen(429));
    }
    kinds
}

/// What the property found.
#[derive(Debug, Default)]
pub struct PropertyReport {
    /// Sequences run.
    pub sequences: usize,
    /// Creates sent.
    pub calls: usize,
    /// Faults injected, by kind.
    pub faults: FaultCounts,
    /// Calls that ended in success.
    pub succeeded: usize,
    /// Calls refused (nothing applied, no pending create).
    pub refused: usize,
    /// Calls resolved by recovery: applied, not applied.
    pub recovered_applied: usize,
    /// Calls recovery said were not applied.
    pub recovered_not_applied: usize,
    /// Recovery verdicts that were unknown or candidates, by reason.
    pub unknown: BTreeMap<String, usize>,
    /// Refunds in the ledger beyond what the SDK's answers allow (a duplicate or a wrong "not applied").
    pub duplicates: usize,
    /// Refunds the SDK claimed that the ledger does not have (a silent loss or a wrong "applied").
    pub silent_losses: usize,
    /// Claims of one refund by two calls.
    pub wrong_verdicts: usize,
}

impl PropertyReport {
    /// Unknown verdicts in all.
    pub fn unknowns(&self) -> usize {
        self.unknown.values().sum()
    }
}

impl std::fmt::Display for PropertyReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = &self.faults;
        write!(
            f,
            "sequences {}, calls {}, faults {} (503 {}, 429 {}, reset {}, delay {}, lost {}, slow commit {}, \
             applied-then-429 {}, in-progress answers {}), succeeded {}, refused {}, recovered applied {}, \
             recovered not applied {}, unknown {} {:?}, duplicates {}, silent losses {}, wrong verdicts {}",
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
            self.succeeded,
            self.refused,
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
    total.in_progress_answers += c.in_progress_answers;
}

/// How many sequences to run: `REFUNDS_PROPERTY_SEQUENCES`, else `default`.
pub fn sequence_count(default: usize) -> usize {
    std::env::var("REFUNDS_PROPERTY_SEQUENCES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `count` random sequences, each on a fresh sandbox from `start` (a sandbox and a client of it
/// with the default retry policy and a short attempt timeout), `in_flight` sequences at a time.
pub async fn run<F, Fut>(start: F, kinds: Vec<Fault>, count: usize, seed: u64, in_flight: usize) -> PropertyReport
where
    F: Fn() -> Fut + Send + Sync,
    Fut: Future<Output = (Sandbox, Arc<dyn RefundProvider>)> + Send,
{
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes));
    let strategy = sequences();
    let plans: Vec<Sequence> = (0..count)
        .map(|_| strategy.new_tree(&mut runner).expect("a sequence").current())
        .collect();
    let outcomes: Vec<(Sequence, PropertyReport)> = futures_util::stream::iter(plans)
        .map(|plan| {
            let start = &start;
            let kinds = kinds.clone();
            async move {
                let (sandbox, client) = start().await;
                let report = run_one(&sandbox, client.as_ref(), &plan, kinds).await;
                (plan, report)
            }
        })
        .buffer_unordered(in_flight.max(1))
        .collect()
        .await;
    let mut total = PropertyReport::default();
    for (plan, r) in outcomes {
        if r.duplicates + r.silent_losses + r.wrong_verdicts > 0 {
            eprintln!("failing sequence: {plan:?}\n  {r}");
        }
        total.sequences += 1;
        total.calls += r.calls;
        add_counts(&mut total.faults, r.faults);
        total.succeeded += r.succeeded;
        total.refused += r.refused;
        total.recovered_applied += r.recovered_applied;
        total.recovered_not_applied += r.recovered_not_applied;
        for (reason, n) in r.unknown {
            *total.unknown.entry(reason).or_default() += n;
        }
        total.duplicates += r.duplicates;
        total.silent_losses += r.silent_losses;
        total.wrong_verdicts += r.wrong_verdicts;
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

async fn run_one(sandbox: &Sandbox, client: &dyn RefundProvider, plan: &Sequence, kinds: Vec<Fault>) -> PropertyReport {
    let mut report = PropertyReport {
        calls: plan.calls.len(),
        ..PropertyReport::default()
    };
    let currency = Currency::USD;
    let kind = client.info().capabilities.payment_kinds[0];
    let payments: Vec<String> = (0..2).map(|i| format!("pay_prop_{i}")).collect();
    for p in &payments {
        sandbox.ledger().seed_payment(p, Money::from_minor(1_000_000, currency));
    }
    sandbox.faults().random(plan.per_mille, plan.seed, kinds);
    let requests: Vec<CreateRefund> = plan
        .calls
        .iter()
        .map(|c| {
            CreateRefund::new(PaymentRef::new(kind, payments[c.payment].clone()).expect("id"))
                .amount(Money::from_minor(AMOUNTS[c.amount], currency))
        })
        .collect();
    let outcomes = futures_util::future::join_all(requests.iter().map(|r| client.create_refund(r))).await;
    // The provider settles: delayed and slow commits land, faults stop.
    report.faults = sandbox.faults().counts();
    sandbox.faults().clear();
    tokio::time::sleep(Duration::from_millis(450)).await;

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
                Some(p) => pending.push((i, p.clone())),
                None => report.refused += 1,
            },
        }
    }
    for (_, refund) in &claims {
        if !claimed.insert(refund.id.as_str().to_owned()) {
            report.wrong_verdicts += 1;
        }
    }
    for (i, p) in pending {
        let call = plan.calls[i];
        let booked = claims.iter().map(|(_, r)| r.id.clone());
        let options = RecoveryOptions::new().settle(Duration::ZERO).booked(booked);
        let group = groups.entry((call.payment, call.amount)).or_default();
        match client.recover_with(&p, options).await {
            Recovery::Applied(refund) => {
                group.applied += 1;
                report.recovered_applied += 1;
                if !claimed.insert(refund.id.as_str().to_owned()) {
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
                let reason = reason.split(':').next().unwrap_or_default().to_owned();
                *report.unknown.entry(reason).or_default() += 1;
            }
            _ => report.wrong_verdicts += 1,
        }
    }
    // Every claimed refund is in the ledger, with the call's payment and amount.
    let ledger = sandbox.ledger();
    for (i, refund) in &claims {
        let call = plan.calls[*i];
        match ledger.refund(refund.id.as_str()) {
            Some(record)
                if record.payment_id == payments[call.payment] && record.amount.minor() == AMOUNTS[call.amount] => {}
            _ => report.silent_losses += 1,
        }
    }
    // Per payment and amount, the ledger holds no more refunds than the answers allow.
    for ((payment, amount), group) in &groups {
        let held = ledger
            .refunds_for_payment(&payments[*payment])
            .iter()
            .filter(|r| r.amount.minor() == AMOUNTS[*amount])
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
