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
