//! The journal's `cargo bench` rows, written into BENCHMARKS.md between the `journal-bench` markers
//! (the SDK's bench, `benches/refunds.rs`, keeps that section when it rewrites the file):
//!
//! 1. bulk: 5,000 journaled refunds (SQLite, durable) against a WooshPay sandbox that enforces 50
//!    requests a second (429 with `Retry-After` over it), the client's limiter set to the same rate:
//!    achieved rate, share of 429s, duplicates;
//! 2. the journal's cost per create: the same creates one after another with no journal, with a SQLite
//!    journal (WAL, `synchronous=FULL`) and with a PostgreSQL journal on this machine, rounds
//!    interleaved;
//! 3. throughput of four workers (four journals, each its own connections and owner) resuming one
//!    PostgreSQL journal at once, against one worker.
//!
//! `cargo bench -p refunds-journal-crash --bench journal [-- --quick]` (quick: 500 refunds at 50/s and
//! fewer creates; the targets are judged on the full run). PostgreSQL's server binaries must be
//! installed (see journal/README.md); nothing runs against a server of yours.

#![allow(clippy::float_arithmetic)] // timings and rates, not money

#[path = "../../tests/support/postgres.rs"]
mod postgres;

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use refunds::sandbox::{Ledger, RateLimitCount, RateLimited, Sandbox};
use refunds::{Money, RecoveryOptions, RefundProvider, RefundStatus};
use refunds_journal::{Account, Accounts, Journal, JournalOptions, NewIntent, ResumeOptions};
use refunds_journal_crash::{client, currency, intent_id, payment_id, request};
use refunds_ratelimit::Limits;

const PROVIDER: &str = "wooshpay";
const START: &str = "<!-- journal-bench:start -->";
const END: &str = "<!-- journal-bench:end -->";

struct Row {
    name: String,
    measured: String,
    against: String,
    target: String,
    met: Option<bool>,
}

/// A WooshPay sandbox with `payments` payments of 100.00 EUR, behind `rate` requests a second.
async fn sandbox(payments: usize, rate: Option<u32>) -> (Sandbox, Option<RateLimitCount>) {
    let skin = refunds_wooshpay::sandbox::WooshPaySkin;
    let ledger = Ledger::new("re_");
    let (sandbox, count) = match rate {
        Some(rate) => {
            let (limited, count) = RateLimited::new(skin, rate);
            (Sandbox::start(limited, ledger).await.expect("sandbox"), Some(count))
        }
        None => (Sandbox::start(skin, ledger).await.expect("sandbox"), None),
    };
    for i in 0..payments {
        sandbox
            .ledger()
            .seed_payment(&payment_id(PROVIDER, i), Money::from_minor(10_000, currency(PROVIDER)));
    }
    (sandbox, count)
}

/// Payments with more than one refund in the ledger.
fn duplicates(sandbox: &Sandbox) -> usize {
    let mut per_payment: BTreeMap<String, usize> = BTreeMap::new();
    for refund in sandbox.ledger().refunds() {
        if refund.status != RefundStatus::Canceled {
            *per_payment.entry(refund.payment_id).or_default() += 1;
        }
    }
    per_payment.values().filter(|n| **n > 1).count()
}

fn accounts(provider: Arc<dyn RefundProvider>) -> Arc<dyn Accounts> {
    let mut map: HashMap<String, Arc<dyn Account>> = HashMap::new();
    map.insert(PROVIDER.into(), Arc::new(provider));
    Arc::new(map)
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("refunds-journal-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// The client limiter's burst: a tenth of a second's worth, so a request that left a little late (a
/// timer's overshoot, a busy machine) is made up for instead of lost, far inside the server's burst of
/// a second's worth. With a burst of 1 the same run reached 43.8 req/s of 50.
fn burst(rate: u32) -> u32 {
    (rate / 10).max(1)
}

/// Row 1: a bulk run at the sandbox's limit.
async fn bulk(n: usize, rate: u32, rows: &mut Vec<Row>) {
    let (sandbox, count) = sandbox(n, Some(rate)).await;
    let count = count.expect("a rate-limited sandbox");
    let dir = scratch("bulk");
    let journal = Journal::open(&dir.join("journal.db").to_string_lossy())
        .await
        .expect("journal");
    let provider = client(PROVIDER, &sandbox.base_url());
    let recording = Instant::now();
    for i in 0..n {
        let (_, fresh) = journal
            .record(
                &provider,
                NewIntent::new(intent_id(i), PROVIDER, request(PROVIDER, i)).batch("bench"),
            )
            .await
            .expect("record");
        assert!(fresh);
    }
    let recorded = recording.elapsed();
    // As `refunds bulk` runs it: the permit taken before a create is marked sent.
    let limited = Arc::new(refunds_ratelimit::RateLimited::new(
        provider,
        Limits::per_second(rate).burst(burst(rate)).concurrency(8),
    ));
    let mut limited_accounts: HashMap<String, Arc<dyn Account>> = HashMap::new();
    limited_accounts.insert(PROVIDER.into(), Arc::new(refunds_journal::Limited::new(limited)));
    let sending = Instant::now();
    let report = journal
        .resume(
            Arc::new(limited_accounts),
            ResumeOptions::new()
                .concurrency(8)
                .batch("bench")
                .recovery(RecoveryOptions::new().settle(Duration::from_secs(1)))
                .wait(Duration::from_secs(30)),
        )
        .await
        .expect("resume");
    let sent = sending.elapsed();
    let applied = report.count(refunds_journal::State::Applied);
    let (passed, refused) = (count.passed(), count.refused());
    let requests = passed + refused;
    let achieved = passed as f64 / sent.as_secs_f64();
    let share_429 = refused as f64 / requests.max(1) as f64;
    let dups = duplicates(&sandbox);
    let target_rate = 0.9 * f64::from(rate);
    println!(
        "bulk: {n} intents recorded in {recorded:?}, sent in {sent:?}: {achieved:.1}/s, {requests} requests, \
         {refused} answered 429, {applied} applied, {dups} duplicates"
    );
    rows.push(Row {
        name: format!("bulk: {n} refunds, sandbox limit {rate} req/s (429 + Retry-After over it), SQLite journal"),
        measured: format!(
            "{achieved:.1} req/s over {:.1} s; {refused} of {requests} requests answered 429 ({:.2}%); \
             {applied} applied; {dups} duplicates (recording the {n} rows first: {:.1} s)",
            sent.as_secs_f64(),
            share_429 * 100.0,
            recorded.as_secs_f64()
        ),
        against: format!("client limiter at {rate}/s (burst {}), 8 in flight", burst(rate)),
        target: format!("≥ {target_rate:.0} req/s, ≤ 1% 429, 0 duplicates"),
        met: Some(achieved >= target_rate && share_429 <= 0.01 && dups == 0 && usize::try_from(applied) == Ok(n)),
    });
    drop(journal);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Row 2: the journal's cost per create, one create after another.
async fn cost(per_round: usize, rounds: usize, postgres_url: &str, rows: &mut Vec<Row>) {
    let total = per_round * rounds * 3;
    let (sandbox, _) = sandbox(total, None).await;
    let provider = client(PROVIDER, &sandbox.base_url());
    let dir = scratch("cost");
    let sqlite = Journal::open(&dir.join("journal.db").to_string_lossy())
        .await
        .expect("sqlite");
    let pg = Journal::open(postgres_url).await.expect("postgres");
    let mut next = 0usize;
    let mut one = |journal: Option<&Journal>| {
        let i = next;
        next += 1;
        let (provider, journal) = (provider.clone(), journal.cloned());
        async move {
            match journal {
                None => {
                    provider.create_refund(&request(PROVIDER, i)).await.expect("create");
                }
                Some(journal) => {
                    let intent = journal
                        .submit(&provider, NewIntent::new(intent_id(i), PROVIDER, request(PROVIDER, i)))
                        .await
                        .expect("submit");
                    assert_eq!(intent.state, refunds_journal::State::Applied);
                }
            }
        }
    };
    let mut times = [Duration::ZERO; 3];
    let mut counts = [0u32; 3];
    for round in 0..rounds {
        // Turn by turn, the order rotated each round: a slow spell of the machine falls on all three.
        for turn in 0..3 {
            let slot = (turn + round) % 3;
            let journal = [None, Some(&sqlite), Some(&pg)][slot];
            let start = Instant::now();
            for _ in 0..per_round {
                one(journal).await;
            }
            // Round 0 warms each path up (connections, the first answers).
            if round > 0 {
                times[slot] += start.elapsed();
                counts[slot] += u32::try_from(per_round).unwrap_or(u32::MAX);
            }
        }
    }
    let per = |slot: usize| times[slot].as_secs_f64() * 1e6 / f64::from(counts[slot].max(1));
    let (none, sq, pgs) = (per(0), per(1), per(2));
    println!("cost per create: no journal {none:.0} µs, SQLite {sq:.0} µs, PostgreSQL {pgs:.0} µs");
    let dups = duplicates(&sandbox);
    for (name, with, backend) in [
        (
            "SQLite (WAL, synchronous=FULL: fsync before the create is sent)",
            sq,
            "sqlite",
        ),
        ("PostgreSQL on this machine (synchronous_commit on)", pgs, "postgres"),
    ] {
        rows.push(Row {
            name: format!("journal cost per create: {name}"),
            measured: format!(
                "{with:.0} µs/create, {:.0} µs more than without ({backend}, {dups} duplicates)",
                with - none
            ),
            against: format!("{none:.0} µs/create without a journal"),
            target: "measured (no target)".into(),
            met: None,
        });
    }
    drop((sqlite, pg));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Row 3: four workers resuming one PostgreSQL journal at once, against one.
async fn workers(n: usize, cluster: &postgres::Cluster, rows: &mut Vec<Row>) {
    let mut rates = Vec::new();
    for (count, database) in [(1usize, "one_worker"), (4, "four_workers")] {
        let (sandbox, _) = sandbox(n, None).await;
        let provider = client(PROVIDER, &sandbox.base_url());
        let url = cluster.database(database);
        let first = Journal::open(&url).await.expect("postgres");
        for i in 0..n {
            first
                .record(&provider, NewIntent::new(intent_id(i), PROVIDER, request(PROVIDER, i)))
                .await
                .expect("record");
        }
        let mut journals = Vec::new();
        for w in 0..count {
            journals.push(
                Journal::open_with(&url, JournalOptions::new().owner(format!("bench-{w}")))
                    .await
                    .expect("postgres"),
            );
        }
        let start = Instant::now();
        let runs: Vec<_> = journals
            .into_iter()
            .map(|journal| {
                let accounts = accounts(provider.clone());
                tokio::spawn(async move { journal.resume(accounts, ResumeOptions::new().concurrency(4)).await })
            })
            .collect();
        let mut sent = 0;
        for run in runs {
            sent += run.await.expect("join").expect("resume").sent;
        }
        let took = start.elapsed();
        let applied = first
            .counts(None)
            .await
            .expect("counts")
            .get("applied")
            .copied()
            .unwrap_or(0);
        let dups = duplicates(&sandbox);
        let rate = n as f64 / took.as_secs_f64();
        println!(
            "{count} worker(s) on PostgreSQL: {n} intents in {took:?} ({rate:.0}/s), sent {sent}, applied {applied}, {dups} duplicates"
        );
        rates.push((rate, took, applied, dups, sent));
    }
    let (one, four) = (rates[0], rates[1]);
    rows.push(Row {
        name: format!(
            "{n} journaled refunds, 4 workers (own connections and owners) on one PostgreSQL journal, 4 in flight each"
        ),
        measured: format!(
            "{:.0} refunds/s ({:.1} s; {} creates sent, {} applied, {} duplicates)",
            four.0,
            four.1.as_secs_f64(),
            four.4,
            four.2,
            four.3
        ),
        against: format!("1 worker: {:.0} refunds/s ({:.1} s)", one.0, one.1.as_secs_f64()),
        target: "each intent applied once, 0 duplicates".into(),
        met: Some(four.3 == 0 && usize::try_from(four.2) == Ok(n) && usize::try_from(four.4) == Ok(n)),
    });
}

fn today() -> String {
    let now = refunds::OffsetDateTime::now_utc();
    format!("{:04}-{:02}-{:02}", now.year(), u8::from(now.month()), now.day())
}

fn write_report(rows: &[Row], quick: bool) {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mut md = format!("{START}\n## The journal and bulk refunds\n\n");
    let _ = writeln!(
        md,
        "Written by `cargo bench -p refunds-journal-crash --bench journal` ({}) on {}, {cores} cores, shared \
         with other builds. The sandbox (WooshPay's skin, its ledger in memory), the journal and PostgreSQL \
         (a throwaway cluster, default settings) all run on this machine; the client goes over 127.0.0.1.\n",
        if quick { "quick mode" } else { "full" },
        today()
    );
    let _ = writeln!(md, "| measure | journal | against | target | met |");
    let _ = writeln!(md, "| --- | --- | --- | --- | --- |");
    for r in rows {
        let met = match r.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "-",
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {met} |",
            r.name, r.measured, r.against, r.target
        );
    }
    md.push_str(
        "\nHow to read them: a journaled create commits twice before it is done (the intent, durably, before \
         the request goes out; then the answer), so its cost is two durable commits on this machine's disk \
         (a shared virtual disk: an fsync takes milliseconds), not CPU; PostgreSQL adds a round trip per \
         statement and its own WAL flush. At a provider's rate limit (tens of requests a second) that cost \
         is hidden by the calls in flight: the bulk row sends at the limit with the journal on. The client \
         limiter's burst of a tenth of a second's worth makes up for calls that left late; with a burst of \
         1 the same bulk run reached 43.8 req/s. Four workers share the claims through `FOR UPDATE SKIP \
         LOCKED`: each intent is sent by one of them, never twice.\n",
    );
    md.push_str(END);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../BENCHMARKS.md")
        .canonicalize()
        .expect("BENCHMARKS.md");
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    let new = match (old.find(START), old.find(END)) {
        (Some(start), Some(end)) if end > start => format!("{}{md}{}", &old[..start], &old[end + END.len()..]),
        _ => format!("{}\n\n{md}\n", old.trim_end()),
    };
    std::fs::write(&path, new).expect("write BENCHMARKS.md");
    println!("wrote {}", path.display());
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    // `cargo bench` passes --bench; any other filter argument runs nothing (as `cargo test`'s would).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let cluster = postgres::Cluster::start().expect("PostgreSQL for the bench (see journal/README.md)");
    let mut rows = Vec::new();
    runtime.block_on(async {
        println!("bulk at the sandbox's rate limit ...");
        bulk(if quick { 500 } else { 5_000 }, 50, &mut rows).await;
        println!("cost per create ...");
        cost(
            if quick { 50 } else { 200 },
            if quick { 3 } else { 6 },
            &cluster.database("cost"),
            &mut rows,
        )
        .await;
        println!("four workers on PostgreSQL ...");
        workers(if quick { 400 } else { 2_000 }, &cluster, &mut rows).await;
    });
    write_report(&rows, quick);
}
