//! `refunds bulk`, `refunds journal` and `create --intent`, run as a user runs them against the
//! embedded sandboxes (`--sandbox --sandbox-state`, so what one run applied is there for the next):
//! a file recorded then sent, a re-run that changes nothing, a bad row that stops the whole file, a
//! Ctrl-C in the middle then the same command again, 429s slowed down for, an ambiguous create
//! resolved by `journal resume`, and the CLI README's bulk example run line by line.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod support;

use support::*;

const HEADER: &str = "intent_id,account,payment,amount,currency,reason,reference";

/// `journal list` of `journal.db` with `extra`, JSON out.
fn list_journal_db<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    [
        &["journal", "list", "--journal", "journal.db"][..],
        extra,
        &["--format", "json"],
    ]
    .concat()
}

/// The journal's intents, by id, as `journal list --format json` prints them.
fn intents(dir: &Path) -> BTreeMap<String, serde_json::Value> {
    let o = run_in(dir, &list_journal_db(&["--limit", "10000"]));
    json_lines(&o)
        .into_iter()
        .map(|v| (v["id"].as_str().expect("id").to_owned(), v))
        .collect()
}

/// The refunds the sandbox of `provider` holds (the demo's two and what the state file replays),
/// as (id, merchant reference).
fn ledger(dir: &Path, provider: &str) -> Vec<(String, String)> {
    let o = run_in(
        dir,
        &[&["export"][..], &SANDBOX_STATE, &["-p", provider, "--format", "jsonl"]].concat(),
    );
    json_lines(&o)
        .into_iter()
        .map(|v| {
            (
                v["id"].as_str().unwrap_or_default().to_owned(),
                v["merchant_reference"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// Every intent applied, each to its own refund, and each of those refunds in the ledger exactly
/// once under the intent's reference.
fn assert_each_applied_once(dir: &Path, provider: &str, ids: &[String]) {
    let journal = intents(dir);
    let ledger = ledger(dir, provider);
    for id in ids {
        let intent = &journal[id];
        assert_eq!(intent["state"], "applied", "{intent}");
        let refund = intent["refund_id"].as_str().expect("a refund id");
        let in_ledger: Vec<_> = ledger.iter().filter(|(_, reference)| reference == id).collect();
        assert_eq!(in_ledger.len(), 1, "{id}: {in_ledger:?}");
        assert_eq!(in_ledger[0].0, refund, "{id}");
    }
    let refunds: HashSet<_> = ids.iter().map(|id| journal[id]["refund_id"].clone()).collect();
    assert_eq!(refunds.len(), ids.len(), "two intents share a refund");
}

/// A bulk file of `n` rows refunding the WooshPay sandbox's demo payment, row i i cents.
fn cents_file(dir: &Path, n: usize) -> Vec<String> {
    let ids: Vec<String> = (1..=n).map(|i| format!("order-{i:04}")).collect();
    let mut text = format!("{HEADER}\n");
    for (i, id) in ids.iter().enumerate() {
        let cents = i + 1;
        text.push_str(&format!(
            "{id},wooshpay,pi_1787730829493927936,0.{cents:02},EUR,requested_by_customer,{id}\n"
        ));
    }
    std::fs::write(dir.join("refunds.csv"), text).expect("write the file");
    ids
}

/// A line of the summary table.
fn count_line(state: &str, n: usize) -> String {
    format!("{state:<12} {n:>8}\n")
}

/// `bulk` on the sandbox, one create at a time: the sandbox's state file appends each request after
/// the ledger numbered its refund, so two creates at once may be numbered the other way round when
/// the next run replays the file (a sandbox matter, reported); one at a time keeps the ids the
/// journal recorded the ids the next run's ledger has.
fn bulk_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "bulk",
        "--sandbox",
        "--sandbox-state",
        "st.jsonl",
        "--journal",
        "journal.db",
        "--concurrency",
        "1",
    ];
    args.extend_from_slice(extra);
    args.push("refunds.csv");
    args
}

#[test]
fn bulk_records_and_sends_every_row_and_running_it_again_changes_nothing() {
    let dir = scratch("rerun");
    std::fs::write(
        dir.join("refunds.csv"),
        format!(
            "{HEADER}\n\
             order-1001,xpay,ch_xyz789,10.00,EGP,requested_by_customer,order-1001\n\
             order-1002,xpay,ch_xyz789,15.00,EGP,,order-1002\n\
             \"order-1003\",wooshpay,pi_1787730829493927936,5.00,EUR,duplicate,\"order-1003\"\n\
             order-1004,syncgram,ch_a1b2c3d4e5f6,100,JPY,,order-1004\n"
        ),
    )
    .expect("write");
    let first = run_in(&dir, &bulk_args(&[]));
    assert_code(&first, 0);
    assert!(stderr(&first).contains("4 new rows recorded"), "{}", stderr(&first));
    let summary = stdout(&first);
    assert!(summary.contains(&count_line("applied", 4)), "{summary}");
    assert!(summary.contains("sent 4 creates"), "{summary}");
    // Not a terminal: no progress bar drawn.
    assert!(!stderr(&first).contains('\u{1b}'), "{}", stderr(&first));

    let before: Vec<_> = ["xpay", "wooshpay", "syncgram"]
        .iter()
        .map(|p| ledger(&dir, p))
        .collect();
    assert_eq!(before.iter().map(Vec::len).collect::<Vec<_>>(), [4, 3, 3]);
    let journal_before = intents(&dir);

    let again = run_in(&dir, &bulk_args(&[]));
    assert_code(&again, 0);
    assert!(stderr(&again).contains("0 new rows recorded"), "{}", stderr(&again));
    assert!(
        stdout(&again).contains("sent 0 creates, ran 0 recoveries"),
        "{}",
        stdout(&again)
    );
    let after: Vec<_> = ["xpay", "wooshpay", "syncgram"]
        .iter()
        .map(|p| ledger(&dir, p))
        .collect();
    assert_eq!(before, after, "a re-run changed the ledger");
    let journal_after = intents(&dir);
    for (id, intent) in &journal_before {
        assert_eq!(intent["state"], journal_after[id]["state"], "{id}");
        assert_eq!(intent["refund_id"], journal_after[id]["refund_id"], "{id}");
        assert_eq!(
            intent["updated_at"], journal_after[id]["updated_at"],
            "{id} was touched"
        );
    }
    assert_each_applied_once(&dir, "xpay", &["order-1001".into(), "order-1002".into()]);

    // The same intent id with another request in the file: left as it is, said so.
    let text = std::fs::read_to_string(dir.join("refunds.csv")).expect("read");
    std::fs::write(dir.join("refunds.csv"), text.replace("10.00,EGP", "11.00,EGP")).expect("write");
    let changed = run_in(&dir, &bulk_args(&[]));
    assert_code(&changed, 0);
    assert!(
        stdout(&changed).contains("order-1001 was recorded earlier with another request"),
        "{}",
        stdout(&changed)
    );
    assert_eq!(ledger(&dir, "xpay"), before[0]);

    // show: the request as sent and the answer; exit 0 for applied.
    let show = run_in(&dir, &["journal", "show", "--journal", "journal.db", "order-1003"]);
    assert_code(&show, 0);
    let text = stdout(&show);
    assert!(text.contains("state       applied"), "{text}");
    assert!(text.contains("amount      5.00 EUR"), "{text}");
    let show = run_in(
        &dir,
        &[
            "journal",
            "show",
            "--journal",
            "journal.db",
            "order-1003",
            "--format",
            "json",
        ],
    );
    let value: serde_json::Value = serde_json::from_str(&stdout(&show)).expect("json");
    assert_eq!(value["events"][0]["kind"], "recorded");
    assert_eq!(value["sent"]["amount"]["minor"], 500);
    // list by state; a journal that does not exist is not created by reading it.
    let list = run_in(
        &dir,
        &["journal", "list", "--journal", "journal.db", "--state", "applied"],
    );
    assert_code(&list, 0);
    assert_eq!(stdout(&list).lines().count(), 5, "{}", stdout(&list));
    let missing = run_in(&dir, &["journal", "list", "--journal", "nowhere.db"]);
    assert_code(&missing, 2);
    assert!(!dir.join("nowhere.db").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_file_with_one_bad_row_records_and_sends_nothing() {
    let dir = scratch("bad-row");
    std::fs::write(
        dir.join("refunds.csv"),
        format!(
            "{HEADER}\n\
             order-1,xpay,ch_xyz789,10.00,EGP,,\n\
             order-2,xpay,ch_xyz789,10.00,XXX,,\n"
        ),
    )
    .expect("write");
    let o = run_in(&dir, &bulk_args(&[]));
    assert_code(&o, 2);
    assert!(stderr(&o).contains("line 3"), "{}", stderr(&o));
    assert!(!dir.join("journal.db").exists(), "a journal was written for a bad file");
    assert_eq!(ledger(&dir, "xpay").len(), 2);

    for (rows, says) in [
        (
            "order-1,xpay,ch_xyz789,1.00,EGP,,\norder-1,xpay,ch_xyz789,2.00,EGP,,\n",
            "appears twice",
        ),
        ("order-1,nopay,ch_xyz789,1.00,EGP,,\n", "line 2"),
        ("order-1,xpay,ch_xyz789,1.00,,,\n", "amount and currency go together"),
    ] {
        std::fs::write(dir.join("refunds.csv"), format!("{HEADER}\n{rows}")).expect("write");
        let o = run_in(&dir, &bulk_args(&[]));
        assert_code(&o, 2);
        assert!(stderr(&o).contains(says), "{says}: {}", stderr(&o));
    }
    std::fs::write(dir.join("refunds.csv"), "id,account\norder-1,xpay\n").expect("write");
    let o = run_in(&dir, &bulk_args(&[]));
    assert_code(&o, 2);
    assert!(stderr(&o).contains("the header must be"), "{}", stderr(&o));
    assert!(!dir.join("journal.db").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn create_with_an_intent_is_journaled_in_the_state_directory_and_never_sent_twice() {
    let dir = scratch("create");
    let create = |extra: &[&str]| {
        let mut args = vec![
            "create",
            "--sandbox",
            "--sandbox-state",
            "st.jsonl",
            "-p",
            "xpay",
            "--payment",
            "ch_xyz789",
            "--amount",
            "5.00",
            "--currency",
            "EGP",
            "--merchant-reference",
            "ord-9",
            "--intent",
            "ord-9",
        ];
        args.extend_from_slice(extra);
        run_in(&dir, &args)
    };
    // The answer is lost: the intent is pending in the journal, exit 3.
    let lost = create(&["--sandbox-fault", "response-lost"]);
    assert_code(&lost, 3);
    assert!(stdout(&lost).contains("state       pending"), "{}", stdout(&lost));
    assert!(stderr(&lost).contains("refunds journal resume"), "{}", stderr(&lost));
    let journal = dir.join("state/refunds/journal.db");
    assert!(journal.exists(), "no journal in the state directory");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("state/refunds"))
            .expect("dir")
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the state directory is readable by others: {mode:o}");
    }
    // The application's retry: the same intent id sends nothing.
    let retry = create(&[]);
    assert_code(&retry, 3);
    assert!(stdout(&retry).contains("state       pending"), "{}", stdout(&retry));
    assert_eq!(ledger(&dir, "xpay").len(), 3, "the retry created a second refund");

    // resume resolves it from the marker the create carried.
    let resume = run_in(
        &dir,
        &[
            "journal",
            "resume",
            "--sandbox",
            "--sandbox-state",
            "st.jsonl",
            "--settle",
            "0s",
        ],
    );
    assert_code(&resume, 0);
    assert!(stdout(&resume).contains("ran 1 recoveries"), "{}", stdout(&resume));
    let show = run_in(&dir, &["journal", "show", "ord-9"]);
    assert_code(&show, 0);
    assert!(
        stdout(&show).contains("the refund carries the marker"),
        "{}",
        stdout(&show)
    );
    let refund_line = stdout(&show)
        .lines()
        .find(|l| l.starts_with("refund "))
        .map(str::to_owned);
    let ledger = ledger(&dir, "xpay");
    assert_eq!(ledger.len(), 3);
    assert_eq!(refund_line, Some(format!("refund      {}", ledger[2].0)));

    // --journal names another journal; --intent is needed for it.
    let other = create(&["--journal", "other.db"]);
    assert_code(&other, 0);
    assert!(dir.join("other.db").exists());
    let o = run_in(
        &dir,
        &[
            "create",
            "--sandbox",
            "-p",
            "xpay",
            "--payment",
            "ch_xyz789",
            "--journal",
            "x.db",
        ],
    );
    assert_code(&o, 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ctrl_c_stops_a_bulk_run_and_the_same_command_finishes_it_each_row_once() {
    let dir = scratch("ctrl-c");
    let ids = cents_file(&dir, 24);
    let child = spawn_until_applied(&dir, &bulk_args(&["--rate-limit", "6"]), 3);
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(kill.success());
    let stopped = child.wait_with_output().expect("wait");
    // Rows are left: ambiguous, exit 3, the summary says so.
    assert_code(&stopped, 3);
    assert!(
        stderr(&stopped).contains("stopping after the creates in flight"),
        "{}",
        stderr(&stopped)
    );
    let left = intents(&dir).values().filter(|i| i["state"] != "applied").count();
    assert!(left > 0 && left < ids.len(), "{left} rows left");
    assert!(
        stdout(&stopped).contains(&count_line("recorded", left)),
        "{}",
        stdout(&stopped)
    );

    let rest = run_in(&dir, &bulk_args(&["--rate-limit", "50"]));
    assert_code(&rest, 0);
    assert!(
        stdout(&rest).contains(&format!("sent {left} creates")),
        "{}",
        stdout(&rest)
    );
    assert_each_applied_once(&dir, "wooshpay", &ids);
    assert_eq!(ledger(&dir, "wooshpay").len(), 2 + ids.len());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `args` until `applied` rows are applied in the journal, then returns the child (the caller
/// waits for it); one that applies nothing in 30 s is killed.
#[allow(clippy::zombie_processes)] // returned to the caller, which waits
fn spawn_until_applied(dir: &Path, args: &[&str], applied: usize) -> std::process::Child {
    let mut child = command(dir, args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(200));
        if dir.join("journal.db").exists() {
            let o = run_in(dir, &list_journal_db(&["--state", "applied"]));
            if stdout(&o).lines().count() >= applied {
                return child;
            }
        }
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("no row applied in 30 s");
        }
    }
}

/// SIGKILL in the middle (the sandbox's state file is appended as requests are applied, so the world
/// outlives the process): the same command again, once the dead run's leases expired, sends what was
/// never sent, recovers what was in flight, and each row has exactly one refund.
#[test]
fn a_bulk_run_killed_with_sigkill_is_finished_by_the_same_command_each_row_once() {
    let dir = scratch("sigkill");
    let ids = cents_file(&dir, 24);
    let mut child = spawn_until_applied(&dir, &bulk_args(&["--rate-limit", "8", "--lease", "2s"]), 4);
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    let left = intents(&dir).values().filter(|i| i["state"] != "applied").count();
    assert!(left > 0, "the run finished before the kill");
    let rest = run_in(
        &dir,
        &bulk_args(&["--rate-limit", "50", "--lease", "2s", "--settle", "1s"]),
    );
    assert_code(&rest, 0);
    assert_each_applied_once(&dir, "wooshpay", &ids);
    assert_eq!(ledger(&dir, "wooshpay").len(), 2 + ids.len());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn answers_of_429_are_waited_out_and_every_row_applied_once() {
    let dir = scratch("429");
    let ids = cents_file(&dir, 10);
    let start = Instant::now();
    let o = run_in(&dir, &bulk_args(&["--sandbox-fault", "rate-limited:3"]));
    assert_code(&o, 0);
    // Each 429 says Retry-After: 1: the account paused, never failed.
    assert!(start.elapsed() >= Duration::from_secs(1), "{:?}", start.elapsed());
    assert_each_applied_once(&dir, "wooshpay", &ids);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The CLI README's bulk example: its `sh` block under "Bulk refunds" is run line by line (the
/// `refunds` binary first on PATH), and its `text` block is what the first `bulk` prints.
#[test]
fn the_readme_bulk_example_runs_as_written() {
    let (out, expected) = run_readme_section("Bulk refunds", "readme");
    assert!(
        out.starts_with(&expected),
        "the README's output is not what the example prints:\n{out}\nexpected first:\n{expected}"
    );
}
