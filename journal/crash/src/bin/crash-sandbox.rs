//! A provider sandbox in a process of its own, so that killing a worker never touches the ledger:
//! `crash-sandbox --provider wooshpay|xpay --payments N [--faults PER_MILLE] [--rate-limit PER_SECOND]`.
//! Prints `ready <base url>`, then answers lines on stdin: `dump` (the ledger's refunds as a JSON
//! array of `[id, payment]`), `requests` (requests received, and how many were answered 429). Exits
//! at the end of stdin.

use std::io::{BufRead, Write};
use std::time::Duration;

use std::sync::Arc;

use refunds::sandbox::{Fault, Ledger, RateLimitCount, RateLimited, Sandbox, Skin};
use refunds::{Money, RefundStatus};
use refunds_journal_crash::{currency, payment_id};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let provider = arg(&args, "--provider").unwrap_or_else(|| "wooshpay".into());
    let payments: usize = arg(&args, "--payments").and_then(|n| n.parse().ok()).unwrap_or(1000);
    let rate: Option<u32> = arg(&args, "--rate-limit").and_then(|n| n.parse().ok());
    let (sandbox, limited) = start(&provider, rate).await;
    for i in 0..payments {
        let id = payment_id(&provider, i);
        sandbox
            .ledger()
            .seed_payment(&id, Money::from_minor(10_000, currency(&provider)));
    }
    if let Some(per_mille) = arg(&args, "--faults").and_then(|n| n.parse().ok()) {
        // Answers lost after the refund was applied, outages and resets: the ambiguity a journal
        // meets besides its own crashes.
        let kinds = vec![Fault::ResponseLost, Fault::ServiceUnavailable, Fault::ConnectionReset];
        sandbox
            .faults()
            .random(per_mille, refunds::adapter::random_u64(), kinds);
    }
    println!("ready {}", sandbox.base_url());
    let _ = std::io::stdout().flush();
    let sandbox = Arc::new(sandbox);
    let server = sandbox.clone();
    let answered = tokio::task::spawn_blocking(move || {
        let stdin = std::io::stdin();
        for line in stdin.lock().lines() {
            let Ok(line) = line else { break };
            let answer = match line.trim() {
                "dump" => dump(server.ledger()),
                "requests" => {
                    let limited = limited.as_ref().map_or(0, |l| l.refused());
                    format!("{} {limited}", server.request_count())
                }
                other => format!("unknown command {other:?}"),
            };
            println!("{answer}");
            let _ = std::io::stdout().flush();
        }
    });
    let _ = answered.await;
    // The server stops with the process; give in-flight answers a moment.
    tokio::time::sleep(Duration::from_millis(10)).await;
    drop(sandbox);
}

/// The sandbox of `provider`, behind a server-side rate limit where asked.
async fn start(provider: &str, rate: Option<u32>) -> (Sandbox, Option<RateLimitCount>) {
    async fn run<S: Skin>(skin: S, prefix: &str, rate: Option<u32>) -> (Sandbox, Option<RateLimitCount>) {
        let ledger = Ledger::new(prefix);
        let started = match rate {
            Some(per_second) => {
                let (limited, count) = RateLimited::new(skin, per_second);
                Sandbox::start(limited, ledger).await.map(|s| (s, Some(count)))
            }
            None => Sandbox::start(skin, ledger).await.map(|s| (s, None)),
        };
        started.expect("start the sandbox")
    }
    match provider {
        "xpay" => {
            run(
                refunds_xpay::sandbox::XPaySkin::default(),
                refunds_xpay::sandbox::REFUND_ID_PREFIX,
                rate,
            )
            .await
        }
        _ => run(refunds_wooshpay::sandbox::WooshPaySkin, "re_", rate).await,
    }
}

fn dump(ledger: &Ledger) -> String {
    let refunds: Vec<(String, String)> = ledger
        .refunds()
        .into_iter()
        .filter(|r| r.status != RefundStatus::Canceled)
        .map(|r| (r.id, r.payment_id))
        .collect();
    serde_json::to_string(&refunds).unwrap_or_else(|_| "[]".into())
}
