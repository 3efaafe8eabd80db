//! The harness every test of the binary shares: a hermetic command (no provider variables from the
//! environment, the default journal in the test's own directory), its output, and scratch folders.
#![allow(dead_code)] // each test file uses its own part

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};

use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_refunds");

/// Variables that would configure providers from the environment: removed so runs are hermetic.
pub const PROVIDER_VARS: &[&str] = &[
    "REFUNDS_PROVIDERS",
    "FOURGEEKS_API_KEY",
    "XPAY_API_KEY",
    "BIAS_API_KEY",
    "SYNCGRAM_API_KEY",
    "WOOSHPAY_API_KEY",
    "XPAY_BASE_URL",
    "SYNCGRAM_CURRENCY",
];

/// The binary with `args`, run in `dir`.
pub fn command(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args).current_dir(dir);
    for var in PROVIDER_VARS {
        c.env_remove(var);
    }
    // The default journal lives in the state directory: each test gets its own.
    c.env("XDG_STATE_HOME", dir.join("state"));
    c
}

pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    command(dir, args).output().expect("the binary runs")
}

pub fn run(args: &[&str]) -> Output {
    run_in(&std::env::temp_dir(), args)
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 stdout")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("utf-8 stderr")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn code(o: &Output) -> i32 {
    o.status.code().expect("exited")
}

pub fn assert_code(o: &Output, expected: i32) {
    assert_eq!(
        o.status.code(),
        Some(expected),
        "stdout:\n{}\nstderr:\n{}",
        stdout(o),
        stderr(o)
    );
}

/// A fresh directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("refunds-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// A successful run's stdout, one JSON value a line.
pub fn json_lines(o: &Output) -> Vec<serde_json::Value> {
    assert_code(o, 0);
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// Waits for `child` up to `limit`, killing it past that (the test then fails on its code).
pub fn wait(mut child: Child, limit: Duration) -> Output {
    let start = Instant::now();
    while start.elapsed() < limit {
        if child.try_wait().expect("try_wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    child.wait_with_output().expect("output")
}

/// Runs the `sh` block of the CLI README's section whose heading starts with `heading` (the `refunds`
/// binary first on PATH, in a scratch folder, exit 0 required) and returns its stdout and the
/// section's first `text` block.
pub fn run_readme_section(heading: &str, name: &str) -> (String, String) {
    let readme = include_str!("../../README.md");
    let start = readme
        .find(&format!("# {heading}"))
        .unwrap_or_else(|| panic!("a section {heading:?} in cli/README.md"));
    let rest = &readme[start..];
    // To the next top-level section: a subsection's example may sit under a later `###`.
    let section = &rest[..rest.find("\n## ").unwrap_or(rest.len())];
    let blocks: Vec<(&str, &str)> = section
        .split("```")
        .skip(1)
        .step_by(2)
        .map(|b| b.split_once('\n').expect("a fenced block"))
        .collect();
    let script = blocks.iter().find(|(lang, _)| *lang == "sh").expect("an sh block").1;
    let expected = blocks.iter().find(|(lang, _)| *lang == "text").expect("a text block").1;
    let dir = scratch(name);
    let bin_dir = Path::new(BIN).parent().expect("the binary's directory");
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let mut c = Command::new("sh");
    c.arg("-ec").arg(script).current_dir(&dir).env("PATH", path);
    for var in PROVIDER_VARS {
        c.env_remove(var);
    }
    c.env("XDG_STATE_HOME", dir.join("state"));
    let o = c.output().expect("sh runs");
    assert_code(&o, 0);
    let _ = std::fs::remove_dir_all(&dir);
    (stdout(&o), expected.to_owned())
}

/// A sandbox provider whose creates carry an idempotency key, for tests that need one but are not
/// about a provider: WooshPay (Stripe-style `Idempotency-Key` header), with its demo payment.
pub const KEYED: &str = "wooshpay";
pub const KEYED_PAYMENT: &str = "pi_1787730829493927936";

/// The header line of a `bulk` file.
pub const BULK_HEADER: &str = "intent_id,account,payment,amount,currency,reason,reference";

/// The sandboxes with their state in `st.jsonl` (what one run applied is there for the next).
pub const SANDBOX_STATE: [&str; 3] = ["--sandbox", "--sandbox-state", "st.jsonl"];

/// `bulk` of `rows.csv` on the sandboxes (state `st.jsonl`), journal `j.db`, JSON out (its first six:
/// the command, the sandboxes and the journal).
pub const BULK_ROWS: [&str; 9] = [
    "bulk",
    "--sandbox",
    "--sandbox-state",
    "st.jsonl",
    "--journal",
    "j.db",
    "--format",
    "json",
    "rows.csv",
];

/// `journal resume` on the sandboxes (state `st.jsonl`).
pub const RESUME: [&str; 5] = ["journal", "resume", "--sandbox", "--sandbox-state", "st.jsonl"];

/// `journal list` of `j.db`, JSON out.
pub const LIST_J_DB: [&str; 6] = ["journal", "list", "--journal", "j.db", "--format", "json"];

/// `create` of `amount` `currency` on `provider`'s `payment`, then `extra` arguments.
pub fn create<'a>(
    provider: &'a str,
    payment: &'a str,
    amount: &'a str,
    currency: &'a str,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "create",
        "-p",
        provider,
        "--payment",
        payment,
        "--amount",
        amount,
        "--currency",
        currency,
    ];
    args.extend_from_slice(extra);
    args
}

/// `journal show id` of `journal`, JSON out.
pub fn show_json<'a>(id: &'a str, journal: &'a str) -> [&'a str; 7] {
    ["journal", "show", id, "--journal", journal, "--format", "json"]
}

/// Writes `rows.csv` in `dir`: the header, then each row a line.
pub fn write_rows(dir: &Path, rows: &[&str]) {
    let mut csv = format!("{BULK_HEADER}\n");
    for row in rows {
        csv.push_str(row);
        csv.push('\n');
    }
    std::fs::write(dir.join("rows.csv"), csv).expect("rows.csv");
}

/// The binary with `args` in `dir` (its home too), the run written to stderr for the test's log.
pub fn run_logged(dir: &Path, args: &[&str]) -> Output {
    let out = command(dir, args).env("HOME", dir).output().expect("run");
    eprintln!(
        "$ refunds {}\nexit {:?}\n--- stdout\n{}--- stderr\n{}",
        args.join(" "),
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

/// A run's stdout, one JSON value.
pub fn json_of(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).expect("json")
}

/// `callers` tasks call `get_refund` through `limited` again and again from `start` for `window`,
/// then are stopped.
pub async fn get_refunds_for(
    limited: &std::sync::Arc<refunds_ratelimit::RateLimited>,
    callers: usize,
    start: Instant,
    window: Duration,
) {
    use refunds::RefundProvider;
    let mut tasks = Vec::new();
    for _ in 0..callers {
        let limited = limited.clone();
        tasks.push(tokio::spawn(async move {
            while start.elapsed() < window {
                let _ = limited.get_refund(&refunds::RefundId::new("re_1").unwrap()).await;
            }
        }));
    }
    tokio::time::sleep(window).await;
    for t in tasks {
        t.abort();
    }
}

/// `bulk`'s options for a queue longer than the lease: `rate` requests a second, 48 at once, a
/// lease of 3 s, settle 1 s, JSON out.
pub fn queue_outlasts_lease(rate: &str) -> [&str; 12] {
    [
        "--rate-limit",
        rate,
        "--concurrency",
        "48",
        "--lease",
        "3s",
        "--settle",
        "1s",
        "--wait",
        "60s",
        "--format",
        "json",
    ]
}
