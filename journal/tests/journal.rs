//! The journal against real provider sandboxes, on SQLite and on a throwaway PostgreSQL cluster: a
//! create is recorded before it is sent, the same intent id never sends twice, and what a dead worker
//! left (before or after its request went out) is resolved once by another worker's resume.

#[path = "support/postgres.rs"]
mod postgres;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use refunds::sandbox::{Fault, Sandbox};
use refunds::{CreateRefund, Currency, Money, PaymentRef, RecoveryOptions, Refund, RefundProvider};
use refunds_journal::{Account, Accounts, IntentId, Journal, JournalOptions, NewIntent, ResumeOptions, State};
use tokio::sync::Notify;

struct World {
    sandbox: Sandbox,
    provider: Arc<dyn RefundProvider>,
    account: &'static str,
}

async fn wooshpay() -> World {
    let sandbox = refunds_wooshpay::sandbox::start().await.expect("sandbox");
    let client = refunds_wooshpay::sandbox::builder_for(&sandbox)
        .build()
        .expect("client");
    World {
        sandbox,
        provider: Arc::new(client),
        account: "wooshpay",
    }
}

async fn xpay() -> World {
    let sandbox = refunds_xpay::sandbox::start().await.expect("sandbox");
    let client = refunds_xpay::sandbox::builder_for(&sandbox)
        .currency(Currency::EGP)
        .build()
        .expect("client");
    World {
        sandbox,
        provider: Arc::new(client),
        account: "xpay",
    }
}

impl World {
    /// A payment of 100.00 and a request to refund 25.00 of it.
    fn request(&self, payment: &str) -> CreateRefund {
        let currency = if self.account == "xpay" {
            Currency::EGP
        } else {
            Currency::EUR
        };
        self.sandbox
            .ledger()
            .seed_payment(payment, Money::from_minor(10_000, currency));
        let payment = if self.account == "xpay" {
            PaymentRef::charge(payment)
        } else {
            PaymentRef::payment_intent(payment)
        };
        CreateRefund::new(payment.expect("payment")).amount(Money::from_minor(2_500, currency))
    }

    fn refunds_of(&self, payment: &str) -> usize {
        self.sandbox.ledger().refunds_for_payment(payment).len()
    }

    fn accounts(&self) -> Arc<dyn Accounts> {
        let mut map: HashMap<String, Arc<dyn Account>> = HashMap::new();
        map.insert(self.account.into(), Arc::new(self.provider.clone()));
        Arc::new(map)
    }
}

fn id(text: &str) -> IntentId {
    IntentId::new(text).expect("intent id")
}

/// A worker that dies while its create is on the wire: after sending it (`send`) or before.
struct Dies {
    inner: Arc<dyn RefundProvider>,
    send: bool,
    reached: Arc<Notify>,
}

#[async_trait]
impl Account for Dies {
    fn provider(&self) -> &dyn RefundProvider {
        self.inner.as_ref()
    }
    async fn create(&self, call: &refunds::PendingCreate) -> refunds::Result<Refund> {
        if self.send {
            let _ = self.inner.resend_pending(call).await;
        }
        self.reached.notify_one();
        std::future::pending().await
    }
}

fn fast() -> JournalOptions {
    JournalOptions::new()
        .lease(Duration::from_millis(200))
        .backoff(Duration::from_millis(20), Duration::from_millis(100))
        .max_tries(3)
}

fn resume_options() -> ResumeOptions {
    ResumeOptions::new()
        .recovery(RecoveryOptions::new().settle(Duration::ZERO))
        .wait(Duration::from_secs(10))
}

/// Kills a submitting worker at the point `send` says; returns once its task is gone.
async fn die_while_sending(journal: &Journal, world: &World, intent: NewIntent, send: bool) {
    let reached = Arc::new(Notify::new());
    let account = Dies {
        inner: world.provider.clone(),
        send,
        reached: reached.clone(),
    };
    let journal = journal.clone();
    let task = tokio::spawn(async move { journal.submit(&account, intent).await });
    reached.notified().await;
    task.abort();
    let _ = task.await;
}

async fn scenarios(location: &str) {
    let world = wooshpay().await;
    let journal = Journal::open_with(location, fast()).await.expect("journal");

    // Sent once, answered, booked; the same intent id again sends nothing.
    let intent = NewIntent::new(id("order-1"), world.account, world.request("pi_1"));
    let done = journal.submit(&world.provider, intent.clone()).await.expect("submit");
    assert_eq!(done.state, State::Applied);
    assert!(done.refund_id.is_some());
    assert!(
        done.sent.idempotency_key_given().is_some(),
        "the key is recorded before sending"
    );
    let again = journal.submit(&world.provider, intent).await.expect("submit again");
    assert_eq!((again.state, again.refund_id), (State::Applied, done.refund_id));
    assert_eq!(world.refunds_of("pi_1"), 1);
    assert_eq!(world.sandbox.request_count(), 1, "the second submit sent nothing");

    // Recorded only: resume sends it.
    let recorded = NewIntent::new(id("order-2"), world.account, world.request("pi_2"));
    let (held, fresh) = journal.record(&world.provider, recorded.clone()).await.expect("record");
    assert!(fresh && held.state == State::Recorded);
    assert!(!journal.record(&world.provider, recorded).await.expect("record again").1);
    assert_eq!(world.refunds_of("pi_2"), 0);

    // A worker died after its create went out, another before: both are `sending` with a lease.
    let after = NewIntent::new(id("order-3"), world.account, world.request("pi_3"));
    die_while_sending(&journal, &world, after, true).await;
    let before = NewIntent::new(id("order-4"), world.account, world.request("pi_4"));
    die_while_sending(&journal, &world, before, false).await;
    assert_eq!(
        journal.get(&id("order-3")).await.expect("get").expect("intent").state,
        State::Sending
    );

    // An answer lost on the wire: the create is pending.
    world.sandbox.faults().push(Fault::ResponseLost, 3);
    let lost = NewIntent::new(id("order-5"), world.account, world.request("pi_5"));
    let pending = journal.submit(&world.provider, lost).await.expect("submit");
    assert_eq!(pending.state, State::Pending);
    world.sandbox.faults().clear();

    // Another worker resumes everything once the dead worker's lease ran out.
    let other = Journal::open_with(location, fast().owner("other"))
        .await
        .expect("journal");
    let report = other.resume(world.accounts(), resume_options()).await.expect("resume");
    assert_eq!(report.unresolved(), 0, "{report:?}");
    assert_eq!(report.count(State::Applied), 5, "{report:?}");
    for (intent, payment) in [
        ("order-2", "pi_2"),
        ("order-3", "pi_3"),
        ("order-4", "pi_4"),
        ("order-5", "pi_5"),
    ] {
        assert_eq!(world.refunds_of(payment), 1, "{intent}");
        let stored = other.get(&id(intent)).await.expect("get").expect("intent");
        let refund = stored.refund_id.expect("refund id");
        assert_eq!(
            world.sandbox.ledger().refunds_for_payment(payment)[0].id,
            refund,
            "{intent}"
        );
    }
    let evidence = |intent: &'static str| {
        let other = other.clone();
        async move {
            let stored = other.get(&id(intent)).await.expect("get").expect("intent");
            stored.answer.expect("answer")["evidence"].as_str().map(str::to_owned)
        }
    };
    assert_eq!(evidence("order-2").await.as_deref(), Some("answer"));
    assert_eq!(evidence("order-3").await.as_deref(), Some("same_key"));
    assert_eq!(evidence("order-4").await.as_deref(), Some("same_key"));
    let kinds: Vec<String> = other
        .events(&id("order-5"))
        .await
        .expect("events")
        .into_iter()
        .map(|e| e.kind)
        .collect();
    // `sending`: the attempt marked sent (its start and lease) after the permit, before the create.
    assert_eq!(kinds, ["recorded", "sending", "ambiguous", "applied"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_records_before_sending_and_resumes_what_a_crash_left() {
    let dir = tempdir();
    scenarios(dir.join("journal.db").to_str().expect("path")).await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_records_before_sending_and_resumes_what_a_crash_left() {
    let Some(cluster) = postgres::Cluster::start() else {
        return;
    };
    let url = cluster.database("scenarios");
    scenarios(&url).await;
}

/// Without idempotency the marker links a refund to its intent: a dead worker's create that went out
/// is found by it; one that never went out cannot be ruled out on xpay's one page, and after its
/// bounded tries it waits for a person with the doubt recorded, never created twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_idempotency_the_marker_links_and_doubt_is_left_for_a_person() {
    let dir = tempdir();
    let location = dir.join("journal.db");
    let location = location.to_str().expect("path");
    let world = xpay().await;
    let journal = Journal::open_with(location, fast()).await.expect("journal");
    let after = NewIntent::new(id("x-1"), world.account, world.request("ch_1"));
    die_while_sending(&journal, &world, after, true).await;
    let before = NewIntent::new(id("x-2"), world.account, world.request("ch_2"));
    die_while_sending(&journal, &world, before, false).await;
    let marker = journal.get(&id("x-1")).await.expect("get").expect("intent").marker;
    assert!(marker.is_some(), "xpay echoes metadata: the journal writes a marker");

    let report = journal
        .resume(world.accounts(), resume_options())
        .await
        .expect("resume");
    assert_eq!(report.unresolved(), 0, "{report:?}");
    let found = journal.get(&id("x-1")).await.expect("get").expect("intent");
    assert_eq!(found.state, State::Applied);
    assert_eq!(found.answer.expect("answer")["evidence"], "marker");
    let doubt = journal.get(&id("x-2")).await.expect("get").expect("intent");
    assert_eq!(doubt.state, State::Unknown);
    assert!(doubt.state.needs_person());
    let because = doubt.answer.expect("answer")["because"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    assert!(because.contains("single_page"), "{because}");
    assert_eq!((world.refunds_of("ch_1"), world.refunds_of("ch_2")), (1, 0));
    let _ = std::fs::remove_dir_all(dir);
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "refunds-journal-test-{}-{:08x}",
        std::process::id(),
        refunds::adapter::random_u64() & 0xffff_ffff
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// No secret reaches the journal: the API key is in no byte of the SQLite file (nor its WAL), after
/// creates answered, lost, refused with 401 and recovered; the request is stored as sent, with its
/// idempotency key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_key_is_in_no_byte_of_the_database_file() {
    let dir = tempdir();
    let location = dir.join("journal.db");
    let world = wooshpay().await;
    let journal = Journal::open_with(location.to_str().expect("path"), fast())
        .await
        .expect("journal");
    journal
        .submit(
            &world.provider,
            NewIntent::new(id("s-1"), world.account, world.request("pi_1")),
        )
        .await
        .expect("submit");
    world.sandbox.faults().push(Fault::ResponseLost, 1);
    journal
        .submit(
            &world.provider,
            NewIntent::new(id("s-2"), world.account, world.request("pi_2")),
        )
        .await
        .expect("submit");
    journal
        .resume(world.accounts(), resume_options())
        .await
        .expect("resume");
    let wrong_key: Arc<dyn RefundProvider> = Arc::new(
        refunds_wooshpay::sandbox::builder_for(&world.sandbox)
            .api_key("sk_test_not_the_sandbox_key_7e1")
            .build()
            .expect("client"),
    );
    let refused = journal
        .submit(
            &wrong_key,
            NewIntent::new(id("s-3"), world.account, world.request("pi_3")),
        )
        .await
        .expect("submit");
    assert_eq!(refused.state, State::Failed, "{refused:?}");
    let stored = journal.get(&id("s-2")).await.expect("get").expect("intent");
    assert!(
        stored.sent.idempotency_key_given().is_some(),
        "the key the create was sent with is kept"
    );
    drop(journal);
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("dir").flatten() {
        bytes.extend(std::fs::read(entry.path()).expect("read"));
    }
    assert!(bytes.len() > 4096, "the journal holds something");
    for secret in [refunds_wooshpay::sandbox::API_KEY, "sk_test_not_the_sandbox_key_7e1"] {
        let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
        assert!(!found, "{secret} is in the journal's files");
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// Migrations: a new journal is at the newest version with one row per version applied; opening it
/// again applies nothing; a journal written by a newer build is refused, never written to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_are_numbered_applied_once_and_a_newer_schema_is_refused() {
    let dir = tempdir();
    let path = dir.join("journal.db");
    let location = path.to_str().expect("path");
    drop(Journal::open(location).await.expect("journal"));
    drop(Journal::open(location).await.expect("journal again"));
    let versions = |path: &std::path::Path| -> Vec<i64> {
        let db = rusqlite::Connection::open(path).expect("sqlite");
        let mut statement = db
            .prepare("SELECT version FROM journal_schema ORDER BY version")
            .expect("query");
        statement
            .query_map([], |row| row.get(0))
            .expect("rows")
            .map(|v| v.expect("version"))
            .collect()
    };
    let expected: Vec<i64> = (1..=refunds_journal::SCHEMA_VERSION).collect();
    assert_eq!(versions(&path), expected);
    rusqlite::Connection::open(&path)
        .expect("sqlite")
        .execute(
            "INSERT INTO journal_schema (version, applied_at) VALUES (?1, 0)",
            [refunds_journal::SCHEMA_VERSION + 1],
        )
        .expect("a newer version");
    let Err(refused) = Journal::open(location).await else {
        panic!("a newer schema is refused");
    };
    assert!(
        matches!(refused, refunds_journal::JournalError::SchemaTooNew { .. }),
        "{refused}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
