//! What the crash and fleet tests share: the world they refund in (intent `i` refunds 25.00 of
//! payment `i`, seeded with 100.00), the two processes' command lines, and the check of a journal
//! against the sandbox's ledger.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;

use refunds::{CreateRefund, Currency, Money, PaymentRef, RefundProvider};
use refunds_journal::{IntentId, Journal, State};

/// The providers the tests run against: one that de-duplicates creates by key, one that does not
/// (the journal's marker is what links its refunds to intents).
pub const PROVIDERS: [&str; 2] = ["wooshpay", "xpay"];

/// The intent id of intent `i`.
pub fn intent_id(i: usize) -> IntentId {
    IntentId::new(format!("intent-{i:05}")).expect("intent id")
}

/// The payment intent `i` refunds.
pub fn payment_id(provider: &str, i: usize) -> String {
    match provider {
        "xpay" => format!("ch_{i:05}"),
        _ => format!("pi_{i:05}"),
    }
}

/// The account currency of `provider`'s sandbox.
pub fn currency(provider: &str) -> Currency {
    match provider {
        "xpay" => Currency::EGP,
        _ => Currency::EUR,
    }
}

/// Intent `i`'s request: 25.00 of its payment.
pub fn request(provider: &str, i: usize) -> CreateRefund {
    let id = payment_id(provider, i);
    let payment = match provider {
        "xpay" => PaymentRef::charge(id),
        _ => PaymentRef::payment_intent(id),
    };
    CreateRefund::new(payment.expect("payment")).amount(Money::from_minor(2_500, currency(provider)))
}

/// A client of `provider` at a sandbox's base URL.
pub fn client(provider: &str, base_url: &str) -> Arc<dyn RefundProvider> {
    match provider {
        "xpay" => Arc::new(
            refunds_xpay::XPayClient::builder()
                .api_key(refunds_xpay::sandbox::API_KEY)
                .base_url(base_url)
                .currency(Currency::EGP)
                .build()
                .expect("xpay client"),
        ),
        _ => Arc::new(
            refunds_wooshpay::WooshPayClient::builder()
                .api_key(refunds_wooshpay::sandbox::API_KEY)
                .base_url(base_url)
                .build()
                .expect("wooshpay client"),
        ),
    }
}

/// One refund of the ledger, as the sandbox process dumps it: its id and the payment it refunds.
pub type Dumped = (String, String);

/// The sandbox process: started with its payments seeded, driven over stdin (`dump`, `requests`).
pub struct SandboxProcess {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    /// Its base URL.
    pub base_url: String,
}

impl SandboxProcess {
    /// Starts `binary` (the `crash-sandbox` binary) for `provider` with `payments` payments and the
    /// extra arguments given.
    pub fn start(binary: &str, provider: &str, payments: usize, extra: &[&str]) -> SandboxProcess {
        let mut child = Command::new(binary)
            .args(["--provider", provider, "--payments", &payments.to_string()])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the sandbox process");
        let stdin = child.stdin.take().expect("stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("the sandbox's first line");
        let base_url = line.trim().strip_prefix("ready ").expect("ready <url>").to_owned();
        SandboxProcess {
            child,
            stdin,
            stdout,
            base_url,
        }
    }

    fn ask(&mut self, command: &str) -> String {
        writeln!(self.stdin, "{command}").expect("ask the sandbox");
        self.stdin.flush().expect("flush");
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("the sandbox's answer");
        line.trim().to_owned()
    }

    /// Every refund in the ledger.
    pub fn refunds(&mut self) -> Vec<Dumped> {
        let answer = self.ask("dump");
        serde_json::from_str(&answer).expect("a ledger dump")
    }

    /// How many requests reached the sandbox, and how many it answered 429.
    pub fn requests(&mut self) -> (u64, u64) {
        let answer = self.ask("requests");
        let (all, limited) = answer.split_once(' ').expect("two counts");
        (all.parse().expect("count"), limited.parse().expect("count"))
    }
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a journal says against what the ledger holds, intent by intent.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Check {
    /// Intents checked.
    pub intents: usize,
    /// Intents per state.
    pub states: BTreeMap<String, usize>,
    /// Intents with more than one refund in the ledger.
    pub duplicates: usize,
    /// Refunds the journal does not account for, and intents booked as applied without their refund
    /// in the ledger (or with another): answers inconsistent with the ledger.
    pub losses: usize,
    /// Intents not settled.
    pub unsettled: usize,
    /// The reasons of unknown and candidate answers, counted.
    pub doubts: BTreeMap<String, usize>,
    /// Intents with more than one `recorded` or more than one `applied` event (resolved twice).
    pub resolved_twice: usize,
    /// `late` events (answers that arrived after another worker took the intent over).
    pub late: usize,
    /// Applied intents whose refund was proven by recovery (a re-send under the key, a marker), not by
    /// the create's own answer: the creates a kill or a lost answer left in doubt.
    pub recovered: usize,
    /// `Unknown` or `Candidates` intents whose payment has a refund in the ledger (the rest have none):
    /// what a person finds when they look.
    pub doubts_in_ledger: usize,
}

/// Checks `intents` intents of `journal` against `ledger`.
pub async fn check(journal: &Journal, provider: &str, intents: usize, ledger: &[Dumped]) -> Check {
    let mut by_payment: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (id, payment) in ledger {
        by_payment.entry(payment.as_str()).or_default().push(id.as_str());
    }
    let mut check = Check {
        intents,
        ..Check::default()
    };
    for i in 0..intents {
        let payment = payment_id(provider, i);
        let refunds = by_payment.remove(payment.as_str()).unwrap_or_default();
        if refunds.len() > 1 {
            check.duplicates += 1;
        }
        let Some(intent) = journal.get(&intent_id(i)).await.expect("journal read") else {
            check.losses += usize::from(!refunds.is_empty());
            *check.states.entry("never recorded".into()).or_default() += 1;
            continue;
        };
        *check.states.entry(intent.state.to_string()).or_default() += 1;
        let events = journal.events(&intent.id).await.expect("events");
        let count = |kind: &str| events.iter().filter(|e| e.kind == kind).count();
        if count("recorded") != 1 || count("applied") > 1 {
            check.resolved_twice += 1;
        }
        check.late += count("late");
        match intent.state {
            State::Applied | State::Differs => {
                let evidence = intent
                    .answer
                    .as_ref()
                    .and_then(|a| a["evidence"].as_str().map(str::to_owned));
                check.recovered += usize::from(evidence.as_deref().is_some_and(|e| e != "answer"));
                let booked = intent.refund_id.as_deref();
                if refunds.len() != 1 || booked != refunds.first().copied() {
                    check.losses += 1;
                }
            }
            State::Failed => check.losses += usize::from(!refunds.is_empty()),
            State::Unknown | State::Candidates => {
                let answer = intent.answer.unwrap_or_default();
                let because = answer["because"].as_str().or(answer["reason"].as_str()).unwrap_or("");
                let doubt = because.split(')').next().unwrap_or(because).to_owned();
                *check.doubts.entry(format!("{}: {doubt})", intent.state)).or_default() += 1;
                check.doubts_in_ledger += refunds.len();
            }
            _ => check.unsettled += 1,
        }
    }
    // A refund of a payment no intent refunds would be one nobody accounts for.
    check.losses += by_payment.values().map(Vec::len).sum::<usize>();
    check
}

/// A random number below `n` (the OS's source; the tests' kill points need no seed to be fair).
pub fn below(n: u64) -> u64 {
    refunds::adapter::random_u64() % n.max(1)
}
