//! Red team (issue 28): the journal resumes every intent with one `RecoveryOptions`, and never adds
//! the refunds it booked for *other* intents of the same payment to `booked`. With `exclusive`
//! declared (the application alone refunds its payments: the only way a 4Geeks or Bias look-up proves
//! "applied"), an intent whose create was lost is "applied" by the refund of another intent of the same
//! payment and amount: one refund booked twice, the second never made.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use refunds::{CreateRefund, Currency, Money, PaymentRef, PendingCreate, RecoveryOptions, Refund, RefundProvider};
use refunds_journal::{Account, Accounts, IntentId, Journal, JournalOptions, NewIntent, ResumeOptions};

/// A worker that dies while its create is on the wire: the create never returns.
struct Dies(Arc<dyn RefundProvider>);

#[async_trait]
impl Account for Dies {
    fn provider(&self) -> &dyn RefundProvider {
        self.0.as_ref()
    }
    async fn create(&self, _: &PendingCreate) -> refunds::Result<Refund> {
        std::future::pending().await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn red_exclusive_resume_books_another_intents_refund() {
    let mut serve = Command::new(env!("CARGO_BIN_EXE_refunds"))
        .args(["sandbox", "serve", "-p", "fourgeeks", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let mut line = String::new();
    BufReader::new(serve.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let info: serde_json::Value = serde_json::from_str(&line).unwrap();
    let env = info["sandboxes"][0]["env"].as_object().unwrap().clone();
    let registry = refunds_registry::Registry::from_lookup(|name| {
        if name == "REFUNDS_PROVIDERS" {
            return Some("fourgeeks".into());
        }
        env.get(name).and_then(|v| v.as_str()).map(str::to_owned)
    })
    .expect("registry");
    let fourgeeks = registry.get("fourgeeks").unwrap().clone();

    let dir = std::env::temp_dir().join(format!("red28-exclusive-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("j.db");
    let journal = Journal::open_with(
        path.to_str().unwrap(),
        JournalOptions::new().lease(Duration::from_millis(300)),
    )
    .await
    .unwrap();
    let request = || {
        CreateRefund::new(PaymentRef::payment("pay_7g8h9i0j1k2l").unwrap())
            .amount(Money::from_major_str("10.00", Currency::USD).unwrap())
    };
    // Two order lines of the same payment, 10.00 each.
    let a = journal
        .submit(
            &fourgeeks,
            NewIntent::new(IntentId::new("line-a").unwrap(), "fourgeeks", request()),
        )
        .await
        .unwrap();
    assert_eq!(a.state.as_str(), "applied");
    let refund_a = a.refund_id.clone().unwrap();
    // line-b: its worker dies with the create on the wire (nothing reached the provider).
    let dies = Dies(fourgeeks.clone());
    let _ = tokio::time::timeout(
        Duration::from_millis(100),
        journal.submit(
            &dies,
            NewIntent::new(IntentId::new("line-b").unwrap(), "fourgeeks", request()),
        ),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let accounts: Arc<dyn Accounts> = Arc::new({
        let fourgeeks = fourgeeks.clone();
        move |name: &str| (name == "fourgeeks").then(|| Arc::new(fourgeeks.clone()) as Arc<dyn Account>)
    });
    let report = journal
        .resume(
            accounts,
            ResumeOptions::new()
                .recovery(RecoveryOptions::new().exclusive(true).settle(Duration::ZERO))
                .wait(Duration::from_secs(5)),
        )
        .await
        .unwrap();
    let b = journal.get(&IntentId::new("line-b").unwrap()).await.unwrap().unwrap();
    eprintln!(
        "report {report:?}\nline-a {refund_a}, line-b {} {:?}",
        b.state, b.refund_id
    );
    let _ = serve.kill();
    let _ = serve.wait();
    assert_ne!(
        b.refund_id.as_deref(),
        Some(refund_a.as_str()),
        "line-b is booked with line-a's refund: one refund for two intents, line-b's never made"
    );
}
