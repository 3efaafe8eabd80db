//! Red team (issue 28): three `refunds bulk` processes share one PostgreSQL journal and one standalone
//! sandbox (`refunds sandbox serve`). Needs `RED28_PG_URL` (a database the test may write to, e.g. a
//! throwaway cluster: `initdb` + `pg_ctl` as the `postgres` user); fails without it.
//!
//! The lease is stamped at the claim, before the create waits in the account's rate limiter; a queue
//! longer than the lease lets another process (or the same one) recover the intent while its create is
//! still waiting to go out, and on 4Geeks (a complete walk proves "not applied") a second attempt is
//! made: two refunds for one intent.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

// fix-28: without RED28_PG_URL the test starts a throwaway cluster as the journal's tests do (CI runs
// `cargo test --workspace`, and a missing variable must not fail it; a missing server still does).
#[path = "../../journal/tests/support/postgres.rs"]
mod postgres;

mod support;

use support::{BULK_HEADER, queue_outlasts_lease};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_refunds"))
}

#[test]
fn red_fleet_lease_expires_in_rate_limit_queue_two_refunds() {
    let cluster;
    let pg = match std::env::var("RED28_PG_URL") {
        Ok(url) => url,
        Err(_) => {
            let Some(started) = postgres::Cluster::start() else {
                return;
            };
            cluster = started;
            cluster.database("red28_fleet")
        }
    };
    let dir = std::env::temp_dir().join(format!("red28-fleet-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let mut serve = bin()
        .args(["sandbox", "serve", "-p", "fourgeeks", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("sandbox serve");
    let mut line = String::new();
    BufReader::new(serve.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("serve line");
    let info: serde_json::Value = serde_json::from_str(&line).expect("serve json");
    let env = info["sandboxes"][0]["env"].as_object().expect("env").clone();

    let tag = std::process::id();
    let file = format!("rows-{tag}.csv");
    let mut csv = format!("{BULK_HEADER}\n");
    for i in 1..=24 {
        csv.push_str(&format!(
            "fleet-{tag}-{i:03},fourgeeks,pay_7g8h9i0j1k2l,0.{i:02},USD,,\n"
        ));
    }
    std::fs::write(dir.join(&file), csv).expect("csv");
    let with_env = |c: &mut Command| {
        c.current_dir(&dir)
            .env("HOME", &dir)
            .env("REFUNDS_PROVIDERS", "fourgeeks");
        for (k, v) in &env {
            c.env(k, v.as_str().unwrap_or_default());
        }
    };
    let workers: Vec<_> = (0..3)
        .map(|_| {
            let mut c = bin();
            with_env(&mut c);
            c.args(["bulk", "--journal", &pg, &file])
                .args(queue_outlasts_lease("2"))
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("bulk")
        })
        .collect();
    for w in workers {
        let out = w.wait_with_output().expect("wait");
        eprintln!("worker: {}", String::from_utf8_lossy(&out.stdout));
    }
    let mut export = bin();
    with_env(&mut export);
    let out = export
        .args(["export", "-p", "fourgeeks", "--format", "csv"])
        .output()
        .expect("export");
    let _ = serve.kill();
    let _ = serve.wait();
    let mut by_amount: BTreeMap<String, usize> = BTreeMap::new();
    for row in String::from_utf8_lossy(&out.stdout).lines().skip(1) {
        let f: Vec<&str> = row.split(',').collect();
        *by_amount.entry(f[4].to_owned()).or_default() += 1;
    }
    let twice: Vec<_> = by_amount.iter().filter(|(_, n)| **n > 1).collect();
    eprintln!("refunds by amount: {by_amount:?}");
    assert!(twice.is_empty(), "{} intents refunded twice: {twice:?}", twice.len());
}
