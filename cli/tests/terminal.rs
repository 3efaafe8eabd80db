//! The `refunds` binary as an operator meets it in a shell: a reader that goes away (`| head`), Ctrl-C
//! in the middle of an export, an export that fails before its first refund, a filter one provider
//! cannot apply. Each drives the real binary. (Server text made safe for the terminal is checked
//! against the real binary in interop/test_cli_terminal_control.py.)

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod support;

use support::*;

#[test]
fn a_reader_that_goes_away_ends_the_export_quietly_with_exit_0() {
    let dir = scratch("pipe");
    let mut child = command(&dir, &["--sandbox", "export", "--format", "jsonl"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // `| head -c 0`: the reader closes before the first line is written.
    drop(child.stdout.take());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("stderr");
    let status = child.wait().expect("exit");
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
    assert!(
        !stderr.contains("Broken pipe") && !stderr.contains("panicked"),
        "{stderr}"
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_during_an_export_removes_the_partial_file_and_exits_130() {
    let dir = scratch("interrupt");
    let out = dir.join("out.csv");
    let partial = dir.join("out.csv.partial");
    // Every list request of the export waits 30 s: Ctrl-C arrives while it waits.
    let child = command(
        &dir,
        &[
            "--sandbox",
            "--sandbox-fault",
            "delay=30000:100",
            "export",
            "-o",
            out.to_str().unwrap(),
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("spawn");
    let start = Instant::now();
    while !partial.exists() {
        assert!(start.elapsed() < Duration::from_secs(20), "the export never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
    let output = wait(child, Duration::from_secs(20));
    assert_eq!(output.status.code(), Some(130), "stderr: {}", text(&output.stderr));
    assert!(!partial.exists(), "the .partial file is left behind");
    assert!(!out.exists(), "an interrupted export wrote its file");
    assert!(text(&output.stderr).contains("interrupted"), "{}", text(&output.stderr));
}

#[test]
fn an_export_that_fails_before_its_first_refund_prints_no_header() {
    let dir = scratch("no-header");
    for format in ["csv", "table", "json"] {
        let output = command(
            &dir,
            &[
                "--sandbox",
                "--sandbox-fault",
                "unavailable:100",
                "export",
                "-p",
                "bias",
                "--format",
                format,
            ],
        )
        .output()
        .expect("runs");
        assert_eq!(output.status.code(), Some(4), "{}", text(&output.stderr));
        assert!(output.stdout.is_empty(), "{format}: {}", text(&output.stdout));
        assert!(text(&output.stderr).contains("bias"), "{}", text(&output.stderr));
    }
}

#[test]
fn a_filter_one_provider_cannot_apply_skips_it_with_a_note_unless_it_was_named() {
    let dir = scratch("skip");
    let across = [
        "--sandbox",
        "export",
        "--created-after",
        "2020-01-01T00:00:00Z",
        "--format",
        "csv",
    ];
    let output = command(&dir, &across).output().expect("runs");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("fourgeeks: skipped") && stderr.contains("creation"),
        "{stderr}"
    );
    let stdout = text(&output.stdout);
    assert!(!stdout.contains("fourgeeks,") && stdout.contains("bias,"), "{stdout}");

    let named = [
        "--sandbox",
        "export",
        "-p",
        "fourgeeks",
        "--created-after",
        "2020-01-01T00:00:00Z",
    ];
    let output = command(&dir, &named).output().expect("runs");
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(output.stdout.is_empty());
}
