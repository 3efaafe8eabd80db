//! A journaled worker the tests kill: `crash-worker --journal LOCATION --sandbox URL --provider P
//! --intents N --mode submit|resume|both [--shuffle] [--concurrency C] [--lease-ms L]`.
//! `submit` journals and sends intents 0..N (each recorded before it is sent; one recorded before
//! is not sent again); `resume` resolves what the journal holds, waiting for what is not due yet;
//! `both` does one, then the other. Prints the resume report's states as JSON on its last line.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use refunds::RecoveryOptions;
use refunds_journal::{Account, Journal, JournalOptions, NewIntent, ResumeOptions};
use refunds_journal_crash::{below, client, intent_id, request};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let location = arg(&args, "--journal").expect("--journal");
    let base_url = arg(&args, "--sandbox").expect("--sandbox");
    let provider = arg(&args, "--provider").unwrap_or_else(|| "wooshpay".into());
    let intents: usize = arg(&args, "--intents").and_then(|n| n.parse().ok()).unwrap_or(1000);
    let mode = arg(&args, "--mode").unwrap_or_else(|| "submit".into());
    let concurrency: usize = arg(&args, "--concurrency").and_then(|n| n.parse().ok()).unwrap_or(8);
    let lease = Duration::from_millis(arg(&args, "--lease-ms").and_then(|n| n.parse().ok()).unwrap_or(1000));
    let options = JournalOptions::new()
        .lease(lease)
        .backoff(Duration::from_millis(50), Duration::from_secs(1))
        .connections(2);
    let journal = Journal::open_with(&location, options).await.expect("open the journal");
    let account: Arc<dyn Account> = Arc::new(client(&provider, &base_url));

    if mode == "submit" || mode == "both" {
        let mut order: Vec<usize> = (0..intents).collect();
        if args.iter().any(|a| a == "--shuffle") {
            for i in (1..order.len()).rev() {
                let j = usize::try_from(below(i as u64 + 1)).unwrap_or(0);
                order.swap(i, j);
            }
        }
        let order = Arc::new(order);
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..concurrency.max(1) {
            let (journal, account, order, next, provider) = (
                journal.clone(),
                account.clone(),
                order.clone(),
                next.clone(),
                provider.clone(),
            );
            workers.spawn(async move {
                loop {
                    let n = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(&i) = order.get(n) else { return };
                    let intent = NewIntent::new(intent_id(i), provider.as_str(), request(&provider, i));
                    journal.submit(account.as_ref(), intent).await.expect("submit");
                }
            });
        }
        while let Some(done) = workers.join_next().await {
            done.expect("a submit task");
        }
    }
    if mode == "resume" || mode == "both" {
        let mut accounts: HashMap<String, Arc<dyn Account>> = HashMap::new();
        accounts.insert(provider.clone(), account.clone());
        let options = ResumeOptions::new()
            .recovery(RecoveryOptions::new().settle(Duration::from_secs(1)))
            .concurrency(concurrency)
            .wait(Duration::from_secs(120));
        let report = journal.resume(Arc::new(accounts), options).await.expect("resume");
        println!("{}", serde_json::to_string(&report.states).unwrap_or_default());
    }
}
