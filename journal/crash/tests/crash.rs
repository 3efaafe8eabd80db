//! Crash and fleet tests with real processes. The sandbox runs in a process of its own (its ledger
//! survives every kill); journaled workers run in others and are killed with SIGKILL at random points,
//! many times; new processes resume. After settling, every intent has exactly one refund in the
//! ledger, or a recorded answer that says none was applied or that a person must decide, consistent
//! with the ledger: no duplicates, no losses.
//!
//! `REFUNDS_CRASH_INTENTS` and `REFUNDS_CRASH_KILLS` scale the runs (defaults: 1,000 intents and 40
//! kills for SQLite; 600 intents and 12 kills over four processes for PostgreSQL).

#[path = "../../tests/support/postgres.rs"]
mod postgres;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use refunds_journal::Journal;
use refunds_journal_crash::{Check, SandboxProcess, below, check};

const SANDBOX: &str = env!("CARGO_BIN_EXE_crash-sandbox");
const WORKER: &str = env!("CARGO_BIN_EXE_crash-worker");

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn worker(journal: &str, sandbox: &SandboxProcess, provider: &str, intents: usize, extra: &[&str]) -> Child {
    Command::new(WORKER)
        .args([
            "--journal",
            journal,
            "--sandbox",
            &sandbox.base_url,
            "--provider",
            provider,
        ])
        .args(["--intents", &intents.to_string(), "--lease-ms", "500"])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("start a worker")
}

/// Waits for `child` up to `limit`; panics past it.
fn finish(mut child: Child, limit: Duration) {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "a worker failed: {status}");
            return;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("a worker ran longer than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Kills `child` with SIGKILL after a random moment up to `within` ms, unless it finished first;
/// true when it was killed.
fn kill_at_random(child: &mut Child, within: u64) -> bool {
    std::thread::sleep(Duration::from_millis(20 + below(within)));
    if child.try_wait().expect("wait").is_some() {
        return false;
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    true
}

fn report(name: &str, kills: usize, runs: usize, result: &Check) {
    println!(
        "{name}: intents {} | kills {kills} | worker processes {runs} | states {:?} | duplicates {} | losses {} | \
         unsettled {} | resolved twice {} | late answers {} | applied by recovery {} | doubts {:?} ({} of them with a refund in the ledger)",
        result.intents,
        result.states,
        result.duplicates,
        result.losses,
        result.unsettled,
        result.resolved_twice,
        result.late,
        result.recovered,
        result.doubts,
        result.doubts_in_ledger
    );
    assert_eq!(result.duplicates, 0, "{name}: duplicates");
    assert_eq!(result.losses, 0, "{name}: losses");
    assert_eq!(result.unsettled, 0, "{name}: unsettled intents");
    assert_eq!(result.resolved_twice, 0, "{name}: intents recorded or resolved twice");
}

/// One process at a time on a SQLite journal, killed at random points, then a last run to the end.
async fn crash_sqlite(provider: &str, intents: usize, kills: usize) {
    let sandbox = SandboxProcess::start(SANDBOX, provider, intents, &["--faults", "20"]);
    let dir = std::env::temp_dir().join(format!("refunds-crash-{provider}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let location = dir.join("journal.db").to_string_lossy().into_owned();
    let (mut killed, mut runs) = (0, 0);
    while killed < kills {
        let mut child = worker(&location, &sandbox, provider, intents, &["--mode", "both"]);
        runs += 1;
        if kill_at_random(&mut child, 700) {
            killed += 1;
        }
    }
    runs += 1;
    finish(
        worker(&location, &sandbox, provider, intents, &["--mode", "both"]),
        Duration::from_secs(600),
    );
    let mut sandbox = sandbox;
    let ledger = sandbox.refunds();
    let journal = Journal::open(&location).await.expect("journal");
    let result = check(&journal, provider, intents, &ledger).await;
    let _ = std::fs::remove_dir_all(&dir);
    report(&format!("crash sqlite {provider}"), killed, runs, &result);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_sqlite_keyed_provider() {
    let intents = env_or("REFUNDS_CRASH_INTENTS", 1000);
    crash_sqlite("wooshpay", intents, env_or("REFUNDS_CRASH_KILLS", 40)).await;
}

/// Without idempotency (xpay) the journal's marker links a refund to its intent; what cannot be told
/// from xpay's one page is left unknown, for a person, never created again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_sqlite_provider_without_idempotency() {
    let intents = env_or("REFUNDS_CRASH_INTENTS", 1000) / 4;
    crash_sqlite("xpay", intents, env_or("REFUNDS_CRASH_KILLS", 40) / 4).await;
}

/// Four processes share one PostgreSQL journal, submit the same (overlapping) intent ids in their own
/// orders and resume at once, while some are killed and started again: every intent applied at most
/// once and resolved once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_postgres_four_processes() {
    let Some(cluster) = postgres::Cluster::start() else {
        return;
    };
    let location = cluster.database("fleet");
    let intents = env_or("REFUNDS_CRASH_INTENTS", 600);
    let kills = env_or("REFUNDS_CRASH_KILLS", 12);
    let provider = "wooshpay";
    let sandbox = SandboxProcess::start(SANDBOX, provider, intents, &["--faults", "20"]);
    let fleet = ["--mode", "both", "--shuffle", "--concurrency", "4"];
    let mut workers: Vec<Child> = (0..4)
        .map(|_| worker(&location, &sandbox, provider, intents, &fleet))
        .collect();
    let (mut killed, mut runs) = (0, 4);
    while killed < kills {
        let victim = usize::try_from(below(4)).unwrap_or(0);
        if kill_at_random(&mut workers[victim], 900) {
            killed += 1;
        }
        if workers[victim].try_wait().expect("wait").is_some() {
            workers[victim] = worker(&location, &sandbox, provider, intents, &fleet);
            runs += 1;
        }
    }
    for child in workers {
        finish(child, Duration::from_secs(600));
    }
    runs += 1;
    finish(
        worker(&location, &sandbox, provider, intents, &["--mode", "resume"]),
        Duration::from_secs(600),
    );
    let mut sandbox = sandbox;
    let ledger = sandbox.refunds();
    let journal = Journal::open(&location).await.expect("journal");
    let result = check(&journal, provider, intents, &ledger).await;
    report("fleet postgres wooshpay (4 processes)", killed, runs, &result);
}
