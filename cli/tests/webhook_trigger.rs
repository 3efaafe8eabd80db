//! `refunds webhook trigger`, run as a user runs it: one event per signing provider, signed in its
//! scheme and POSTed to a plain receiver, which the provider's own verifier (and `refunds webhook
//! verify`) then accepts; SyncgramPay's legacy pair; a body from a file; the exit code of each answer;
//! and the refusals made before anything is sent.

use std::path::PathBuf;
use std::process::{Command, Output};

use refunds::webhook::Clock;
use refunds::{Currency, EventKind, RefundStatus, WebhookVerifier};
use refunds_testkit::webhooks::{Received, Receiver};

const BIN: &str = env!("CARGO_BIN_EXE_refunds");
const SECRET: &str = "whsec_trigger_test_secret";
/// 2024-01-01T00:00:00Z.
const AT: i64 = 1_704_067_200;

fn trigger(args: &[&str]) -> Output {
    trigger_with(Some(SECRET), args)
}

/// `refunds webhook trigger ARGS` with the secret variable set to `secret` (or unset).
fn trigger_with(secret: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(BIN);
    command
        .args(["webhook", "trigger", "--secret-env", "TRIGGER_TEST_SECRET"])
        .args(args)
        .env_remove("SYNCGRAM_CURRENCY")
        .env_remove("TRIGGER_TEST_SECRET");
    if let Some(secret) = secret {
        command.env("TRIGGER_TEST_SECRET", secret);
    }
    command.output().expect("the binary runs")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Triggers `args` at [`AT`] to a receiver answering 200, and returns what it received.
fn received(args: &[&str]) -> (Output, Received) {
    let receiver = Receiver::start(0);
    let mut all = vec!["--url", &receiver.url, "--at", "2024-01-01T00:00:00Z"];
    all.extend_from_slice(args);
    let o = trigger(&all);
    assert_eq!(code(&o), 0, "{}{}", text(&o.stdout), text(&o.stderr));
    let mut log = receiver.take();
    assert_eq!(log.len(), 1, "one delivery");
    (o, log.remove(0))
}

#[test]
fn each_provider_s_event_verifies_with_its_own_verifier() {
    let clock = || Clock::fixed_unix(AT + 5);
    let (o, wooshpay) = received(&["--provider", "wooshpay"]);
    assert!(text(&o.stdout).contains("charge.refund.updated"), "{}", text(&o.stdout));
    let verifier = refunds_wooshpay::webhooks::builder(SECRET)
        .clock(clock())
        .build()
        .unwrap();
    let event = verifier.verify_and_parse(&wooshpay.headers, &wooshpay.body).unwrap();
    assert_eq!(event.event_type, "charge.refund.updated");
    assert_eq!(event.refund.unwrap().status, RefundStatus::Succeeded);

    let (_, xpay) = received(&["--provider", "xpay", "refund.created", "--currency", "EGP"]);
    let verifier = refunds_xpay::webhooks::builder(SECRET).clock(clock()).build().unwrap();
    let event = verifier.verify_and_parse(&xpay.headers, &xpay.body).unwrap();
    assert!(event.id.starts_with("evt_test_"), "{}", event.id);
    let refund = event.refund.unwrap();
    assert_eq!(
        (refund.status, refund.amount.currency()),
        (RefundStatus::Pending, Currency::EGP)
    );

    let (_, syncgram) = received(&["--provider", "syncgram", "refund.failed"]);
    assert!(syncgram.headers.contains_key("x-bachs-signature-v2"));
    let verifier = refunds_syncgram::webhooks::builder(SECRET, Currency::USD)
        .clock(clock())
        .build()
        .unwrap();
    let event = verifier.verify_and_parse(&syncgram.headers, &syncgram.body).unwrap();
    assert_eq!(
        (event.kind, event.refund.unwrap().status),
        (EventKind::Failed, RefundStatus::Failed)
    );
    assert_eq!(event.created_at.unwrap().unix_timestamp(), AT);
}

#[test]
fn syncgram_can_sign_with_the_legacy_pair() {
    let (_, delivery) = received(&["--provider", "syncgram", "--legacy", "refund.created"]);
    assert!(!delivery.headers.contains_key("x-bachs-signature-v2"));
    assert_eq!(delivery.headers["x-bachs-timestamp"], AT.to_string().as_str());
    let verifier = refunds_syncgram::webhooks::builder(SECRET, Currency::USD)
        .clock(Clock::fixed_unix(AT))
        .build()
        .unwrap();
    let event = verifier.verify_and_parse(&delivery.headers, &delivery.body).unwrap();
    assert_eq!(event.kind, EventKind::Created);
}

/// The delivery trigger sent, saved, passes `refunds webhook verify`: the two commands agree.
#[test]
fn a_triggered_delivery_passes_webhook_verify() {
    let (_, delivery) = received(&["--provider", "xpay"]);
    let dir = std::env::temp_dir().join(format!("refunds-trigger-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file: PathBuf = dir.join("delivery.json");
    std::fs::write(&file, &delivery.body).unwrap();
    let header = format!(
        "XPay-Signature: {}",
        delivery.headers["xpay-signature"].to_str().unwrap()
    );
    let o = Command::new(BIN)
        .args([
            "webhook",
            "verify",
            "--provider",
            "xpay",
            "--secret-env",
            "TRIGGER_TEST_SECRET",
        ])
        .args(["--header", &header, "--at", "2024-01-01T00:00:10Z", "--format", "json"])
        .arg(&file)
        .env("TRIGGER_TEST_SECRET", SECRET)
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let event: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (&event["type"], &event["kind"]),
        (&"charge.refunded".into(), &"succeeded".into())
    );
}

#[test]
fn a_body_file_is_signed_and_sent_byte_for_byte() {
    let dir = std::env::temp_dir().join(format!("refunds-trigger-body-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("event.json");
    let body = "{ \"id\": \"evt_mine\", \"object\": \"event\", \"type\": \"payout.paid\", \"created\": 1704067200, \"data\": {\"object\": {\"id\": \"po_1\"}} }";
    std::fs::write(&file, body).unwrap();
    let (o, delivery) = received(&[
        "--provider",
        "wooshpay",
        "--body",
        file.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(delivery.body, body.as_bytes());
    let printed: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (&printed["status"], &printed["event"]),
        (&200.into(), &serde_json::Value::Null)
    );
    let verifier = refunds_wooshpay::webhooks::builder(SECRET)
        .clock(Clock::fixed_unix(AT))
        .build()
        .unwrap();
    let event = verifier.verify_and_parse(&delivery.headers, &delivery.body).unwrap();
    assert!(event.kind.is_unknown());
}

#[test]
fn the_receiver_s_answer_decides_the_exit_code() {
    // A 500 (not retried: one event, one attempt) is exit 4; nobody listening is exit 4 too.
    let failing = Receiver::start(1);
    let o = trigger(&["--provider", "xpay", "--url", &failing.url]);
    assert_eq!(code(&o), 4, "{}", text(&o.stdout));
    assert_eq!(failing.take().len(), 1, "one attempt");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", closed.local_addr().unwrap());
    drop(closed);
    let o = trigger(&["--provider", "xpay", "--url", &url]);
    assert_eq!(code(&o), 4, "{}", text(&o.stdout));
    assert!(text(&o.stdout).contains("answer      none"), "{}", text(&o.stdout));
}

#[test]
fn refusals_are_made_before_anything_is_sent() {
    let receiver = Receiver::start(0);
    let url = receiver.url.clone();
    for (args, needle) in [
        (vec!["--provider", "bias", "--url", &url], "no signed webhooks"),
        (vec!["--provider", "fourgeeks", "--url", &url], "no signed webhooks"),
        (vec!["--provider", "nope", "--url", &url], "unknown provider"),
        (
            vec!["--provider", "xpay", "--url", &url, "refund.paid"],
            "no event \"refund.paid\"",
        ),
        (vec!["--provider", "xpay", "--url", &url, "--legacy"], "--legacy"),
        (
            vec!["--provider", "xpay", "--url", "http://example.com/hook"],
            "loopback",
        ),
        (
            vec!["--provider", "syncgram", "--url", &url, "--currency", "XXX"],
            "XXX",
        ),
    ] {
        let o = trigger(&args);
        assert_eq!(code(&o), 2, "{args:?}: {}", text(&o.stderr));
        assert!(text(&o.stderr).contains(needle), "{args:?}: {}", text(&o.stderr));
        assert!(!text(&o.stderr).contains(SECRET));
    }
    let unset = trigger_with(None, &["--provider", "xpay", "--url", &url]);
    assert_eq!(code(&unset), 2);
    assert!(text(&unset.stderr).contains("TRIGGER_TEST_SECRET"));
    // A secret the provider refuses (xpay's are whsec_...) is refused, and not printed.
    let o = trigger_with(Some("sk_not_a_webhook_secret"), &["--provider", "xpay", "--url", &url]);
    assert_eq!(code(&o), 2, "{}", text(&o.stderr));
    assert!(!text(&o.stderr).contains("sk_not_a_webhook_secret"));
    assert!(receiver.take().is_empty(), "nothing was sent");
}
