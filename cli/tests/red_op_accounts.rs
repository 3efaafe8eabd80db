//! Red team, issue 25: accounts, the live guard and untrusted config, driven through the real binary.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod support;

use support::create;

fn dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("red25-op-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A raw HTTP server on 127.0.0.1: records every request head; `drop` closes without answering
/// (the create may have been applied), else answers 404.
fn server(drop: bool) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen_in = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let seen = seen_in.clone();
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut head = String::new();
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    head.push_str(&line);
                    if line == "\r\n" {
                        break;
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                seen.lock().unwrap().push(head);
                if drop {
                    return;
                }
                let body = br#"{"error":{"type":"invalid_request_error","message":"nope"}}"#;
                let _ = write!(
                    stream,
                    "HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(body);
            });
        }
    });
    (port, seen)
}

/// `refunds.toml` in `dir`: provider bias on `port_bias` in `mode`, and account bias-eu (test mode,
/// its own key) on `port_eu`.
fn config(dir: &std::path::Path, port_bias: u16, mode: &str, port_eu: u16) {
    std::fs::write(
        dir.join("refunds.toml"),
        format!(
            "[providers.bias]\nbase_url = \"http://127.0.0.1:{port_bias}\"\nmode = \"{mode}\"\n\n\
             [accounts.bias-eu]\nprovider = \"bias\"\napi_key_env = \"BIAS_EU_API_KEY\"\n\
             base_url = \"http://127.0.0.1:{port_eu}\"\nmode = \"test\"\n"
        ),
    )
    .unwrap();
}

fn refunds(dir: &PathBuf, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_refunds"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("BIAS_API_KEY", "sk_test_key_of_account_bias")
        .env("BIAS_EU_API_KEY", "sk_test_key_of_account_bias_eu")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// A pending create made through account `bias-eu` is re-sent by `recover` through account `bias`
/// (another key, another host): the pending file records the provider id only, and the id resolves to
/// the account named after the provider. Guarantee: an account never re-sends (recover) without
/// being the one the create used; a command needs only the keys of the accounts it touches.
/// Expected: recover re-sends only to bias-eu's host with bias-eu's key (or refuses to pick);
/// observed: see the assertion.
#[test]
fn recover_resends_a_pending_create_through_another_account() {
    let dir = dir("recover");
    let (port_bias, seen_bias) = server(false);
    let (port_eu, seen_eu) = server(true);
    config(&dir, port_bias, "test", port_eu);
    let created = refunds(
        &dir,
        &[
            &["--config", "refunds.toml"][..],
            &create("bias-eu", "pay_1", "1.00", "USD", &["--pending-file", "pending.json"]),
        ]
        .concat(),
    );
    assert!(
        dir.join("pending.json").exists(),
        "no pending file: {}",
        String::from_utf8_lossy(&created.stderr)
    );
    assert!(seen_bias.lock().unwrap().is_empty());
    let _ = refunds(&dir, &["--config", "refunds.toml", "recover", "pending.json"]);
    let to_bias = seen_bias.lock().unwrap().clone();
    assert!(
        to_bias.is_empty(),
        "recover of bias-eu's create sent {} request(s) to account bias's host, e.g.:\n{}",
        to_bias.len(),
        to_bias.first().cloned().unwrap_or_default()
    );
    assert!(!seen_eu.lock().unwrap().is_empty());
}

/// Guarantee: a config file can never make the CLI read a FIFO forever. `--config` naming a FIFO
/// (a file a checkout can carry) blocks on open. Expected: a configuration error at once.
#[test]
fn config_file_that_is_a_fifo_hangs_the_cli() {
    let dir = dir("fifo");
    let fifo = dir.join("refunds.toml");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let mut child = Command::new(env!("CARGO_BIN_EXE_refunds"))
        .args(["--config", "refunds.toml", "providers"])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let mut ended = None;
    while start.elapsed() < Duration::from_secs(5) {
        if let Some(status) = child.try_wait().unwrap() {
            ended = Some(status);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // Reaped either way (a kill after it ended does nothing).
    let _ = child.kill();
    let _ = child.wait();
    assert!(ended.is_some(), "refunds --config <fifo> still running after 5 s");
}

/// An intent created through account `bias-eu` (test mode, no `--live` needed) is resumed through
/// account `bias` (live mode): the journal records the provider id, and resume maps the id to the
/// account named after the provider. With `--live` (which resume asks for because the config holds a
/// live account) a test create is sent with the live key. Guarantee: an account in live mode never
/// resumes a create that was not made on it; the mode shown is the mode used. Expected: resume sends
/// the intent only to bias-eu's host; observed: see the assertion.
// Not reproduced by this test as written (bias in live mode, --journal FILE, --live: resume ends in
// ~10 s with 0 recoveries). Reproduced by hand (see the red-25 report): both accounts mode = "test",
// the default journal (XDG_STATE_HOME), no --live, resume left to run ~2 min: account bias's host got
// POST /v1/refunds with BIAS_API_KEY for bias-eu's intent.
// Fixed: the journal records the account's name (bias-eu), and resume sends through that account;
// the recorded account is checked directly below, whatever the resume's timing.
#[test]
fn journal_resume_sends_an_intent_through_another_account() {
    let dir = dir("journal");
    let (port_live, seen_live) = server(false);
    let (port_eu, _seen_eu) = server(true);
    config(&dir, port_live, "live", port_eu);
    let created = refunds(
        &dir,
        &[
            &["--config", "refunds.toml"][..],
            &create(
                "bias-eu",
                "pay_1",
                "1.00",
                "USD",
                &["--intent", "order-1", "--journal", "journal.db"],
            ),
        ]
        .concat(),
    );
    assert!(
        String::from_utf8_lossy(&created.stderr).contains("journal resume"),
        "the intent is not left pending: {}",
        String::from_utf8_lossy(&created.stderr)
    );
    assert!(seen_live.lock().unwrap().is_empty());
    let shown = refunds(
        &dir,
        &[
            "journal",
            "show",
            "order-1",
            "--journal",
            "journal.db",
            "--format",
            "json",
        ],
    );
    let shown: serde_json::Value =
        serde_json::from_slice(&shown.stdout).unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&shown.stderr)));
    assert_eq!(shown["account"], "bias-eu", "{shown}");
    let _ = refunds(
        &dir,
        &[
            "--config",
            "refunds.toml",
            "--live",
            "journal",
            "resume",
            "--journal",
            "journal.db",
            "--wait",
            "10s",
            "--settle",
            "1s",
        ],
    );
    let to_live = seen_live.lock().unwrap().clone();
    assert!(
        to_live.is_empty(),
        "resume sent bias-eu's (test) intent {} time(s) through the live account bias, e.g.:\n{}",
        to_live.len(),
        to_live.first().cloned().unwrap_or_default()
    );
}
