//! The `refunds` binary, run as a user runs it: every subcommand on the sandbox, exit codes, bad
//! arguments (nothing sent), CSV and JSON lines checked field by field, an ambiguous create then
//! `recover` in a second process, and a saved webhook verified.

use std::net::TcpListener;

use hmac::{Hmac, Mac};
use sha2::Sha256;

mod support;

use support::*;

/// RFC 4180 lines of unquoted fields (the demo data needs no quoting; quoting has unit tests).
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    text.split("\r\n")
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect()
}

const HEADER: &str = "provider,id,payment_kind,payment_id,amount,currency,status,created_at,updated_at,completed_at,reason,merchant_reference,description,failure_reason,fee";

#[test]
fn export_csv_has_a_header_and_the_demo_refunds_of_all_five_providers() {
    let o = run(&["export", "--sandbox", "--format", "csv"]);
    assert_code(&o, 0);
    assert!(
        stderr(&o).is_empty(),
        "stderr is not a terminal: no progress bar: {}",
        stderr(&o)
    );
    let text = stdout(&o);
    assert!(text.ends_with("\r\n"));
    let rows = csv_rows(&text);
    assert_eq!(rows[0].join(","), HEADER);
    let rows = &rows[1..];
    assert_eq!(rows.len(), 10, "two demo refunds per provider:\n{text}");
    for row in rows {
        assert_eq!(row.len(), 15, "{row:?}");
        assert_eq!(row[6], "succeeded");
    }
    let providers: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        providers,
        [
            "fourgeeks",
            "fourgeeks",
            "xpay",
            "xpay",
            "bias",
            "bias",
            "syncgram",
            "syncgram",
            "wooshpay",
            "wooshpay"
        ]
    );
    // Field by field: id, payment kind and id, exact major units with the currency's precision.
    let expect = [
        (
            "fourgeeks",
            "ref_000001",
            "payment",
            "pay_7g8h9i0j1k2l",
            "25.00",
            "USD",
            "",
        ),
        (
            "xpay",
            "re_000001",
            "charge",
            "ch_xyz789",
            "500.00",
            "EGP",
            "2024-01-01T00:00:00Z",
        ),
        (
            "bias",
            "re_000002",
            "payment",
            "pay_bias_1",
            "0.500",
            "KWD",
            "2024-01-01T01:00:00Z",
        ),
        (
            "syncgram",
            "ref_000001",
            "charge",
            "ch_a1b2c3d4e5f6",
            "5000",
            "JPY",
            "2024-01-01T00:00:00Z",
        ),
        (
            "wooshpay",
            "re_000001",
            "payment_intent",
            "pi_1787730829493927936",
            "19.99",
            "EUR",
            "2024-01-01T00:00:00Z",
        ),
    ];
    for (provider, id, kind, payment, amount, currency, created) in expect {
        let row = rows
            .iter()
            .find(|r| r[0] == provider && r[1] == id)
            .unwrap_or_else(|| panic!("{provider} {id} missing"));
        assert_eq!(
            (&row[2][..], &row[3][..], &row[4][..], &row[5][..], &row[7][..]),
            (kind, payment, amount, currency, created),
            "{provider} {id}"
        );
    }
    let xpay = rows
        .iter()
        .find(|r| r[0] == "xpay" && r[1] == "re_000002")
        .expect("xpay 2");
    assert_eq!((&xpay[10][..], &xpay[11][..]), ("requested_by_customer", "demo-2"));
    let syncgram = rows
        .iter()
        .find(|r| r[0] == "syncgram" && r[1] == "ref_000001")
        .expect("syncgram 1");
    assert_eq!(syncgram[14], "50 JPY", "the fee, exact with its currency");
}

#[test]
fn export_jsonl_keeps_the_raw_json_and_exact_money() {
    let o = run(&["export", "--sandbox", "--format", "jsonl"]);
    assert_code(&o, 0);
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is a JSON object"))
        .collect();
    assert_eq!(lines.len(), 10);
    let xpay = lines
        .iter()
        .find(|l| l["provider"] == "xpay" && l["id"] == "re_000001")
        .expect("xpay re_000001");
    assert_eq!(xpay["amount"], "500.00");
    assert_eq!(xpay["currency"], "EGP");
    assert_eq!(xpay["status"], "succeeded");
    assert_eq!(xpay["payment"]["kind"], "charge");
    assert_eq!(xpay["payment"]["id"], "ch_xyz789");
    assert_eq!(xpay["merchant_reference"], "demo-1");
    assert_eq!(xpay["created_at"], "2024-01-01T00:00:00Z");
    // xpay's own object: minor units in a string, its own field names.
    assert_eq!(xpay["raw"]["amount"], "50000");
    assert_eq!(xpay["raw"]["chargeId"], "ch_xyz789");
    let bias = lines
        .iter()
        .find(|l| l["provider"] == "bias" && l["id"] == "re_000001")
        .expect("bias");
    assert_eq!(
        (bias["amount"].as_str(), bias["currency"].as_str()),
        (Some("1.234"), Some("KWD"))
    );
    let wooshpay = lines
        .iter()
        .find(|l| l["provider"] == "wooshpay" && l["id"] == "re_000002")
        .expect("wooshpay");
    assert_eq!(wooshpay["amount"], "10.00");
    assert_eq!(wooshpay["raw"]["amount"], 1000);
    assert_eq!(wooshpay["raw"]["currency"], "eur");
    // The raw object is the provider's bytes, not a re-serialization: it appears verbatim in the line.
    let text = stdout(&o);
    let line = text
        .lines()
        .find(|l| l.contains("\"id\":\"re_000001\"") && l.contains("\"xpay\""))
        .unwrap();
    let raw_start = line.find(",\"raw\":").unwrap() + 7;
    let raw = &line[raw_start..line.len() - 1];
    assert_eq!(serde_json::from_str::<serde_json::Value>(raw).unwrap(), xpay["raw"]);
}

#[test]
fn export_json_to_a_file_with_filters() {
    let dir = scratch("export-file");
    let o = run_in(
        &dir,
        &[
            "export",
            "--sandbox",
            "--format",
            "json",
            "--output",
            "out.json",
            "--provider",
            "xpay",
            "--provider",
            "syncgram",
            "--created-after",
            "2024-01-01T00:30:00Z",
        ],
    );
    assert_code(&o, 0);
    assert!(stdout(&o).is_empty());
    assert!(stderr(&o).contains("2 refunds written to out.json"), "{}", stderr(&o));
    assert!(!dir.join("out.json.partial").exists());
    let all: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("out.json")).unwrap()).unwrap();
    let ids: Vec<(String, String)> = all
        .iter()
        .map(|r| {
            (
                r["provider"].as_str().unwrap().to_owned(),
                r["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        ids,
        [
            ("xpay".to_owned(), "re_000002".to_owned()),
            ("syncgram".to_owned(), "ref_000002".to_owned())
        ]
    );
    // An unknown provider is refused before anything is written.
    let o = run_in(
        &dir,
        &["export", "--sandbox", "--provider", "stripe", "--output", "x.csv"],
    );
    assert_code(&o, 2);
    assert!(stderr(&o).contains("stripe"), "{}", stderr(&o));
    assert!(!dir.join("x.csv").exists() && !dir.join("x.csv.partial").exists());
}

#[test]
fn providers_lists_five_with_capabilities() {
    let o = run(&["providers", "--sandbox"]);
    assert_code(&o, 0);
    let text = stdout(&o);
    for id in ["fourgeeks", "xpay", "bias", "syncgram", "wooshpay"] {
        assert!(text.lines().any(|l| l.starts_with(id)), "{id} missing:\n{text}");
    }
    let o = run(&["providers", "--sandbox", "--format", "json"]);
    assert_code(&o, 0);
    let all: Vec<serde_json::Value> = serde_json::from_str(&stdout(&o)).unwrap();
    let wooshpay = all.iter().find(|p| p["id"] == "wooshpay").unwrap();
    assert_eq!(wooshpay["list"], serde_json::Value::Null);
    assert_eq!(wooshpay["idempotency"], "header");
    assert_eq!(wooshpay["payment_kinds"][0], "payment_intent");
}

#[test]
fn get_list_and_wait() {
    let o = run(&["get", "--sandbox", "-p", "xpay", "re_000001"]);
    assert_code(&o, 0);
    assert!(stdout(&o).contains("500.00 EGP"), "{}", stdout(&o));

    let o = run(&["get", "--sandbox", "-p", "xpay", "re_999999"]);
    assert_code(&o, 2);
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("xpay") && err.contains("request req_"),
        "provider and request id: {err}"
    );

    let o = run(&[
        "list",
        "--sandbox",
        "-p",
        "fourgeeks",
        "--limit",
        "1",
        "--format",
        "csv",
    ]);
    assert_code(&o, 0);
    let rows = csv_rows(&stdout(&o));
    assert_eq!(rows.len(), 2, "header and one refund");
    assert_eq!(rows[1][1], "ref_000001");
    assert!(stderr(&o).contains("--cursor"), "{}", stderr(&o));

    let o = run(&[
        "list",
        "--sandbox",
        "-p",
        "syncgram",
        "--status",
        "failed",
        "--format",
        "jsonl",
    ]);
    assert_code(&o, 0);
    assert!(stdout(&o).is_empty());

    // Polled through two 503s to the final status.
    let o = run(&[
        "wait",
        "--sandbox",
        "--sandbox-fault",
        "unavailable:2",
        "-p",
        "fourgeeks",
        "ref_000001",
    ]);
    assert_code(&o, 0);
    assert!(stdout(&o).contains("succeeded"));

    // A create, then polled until the sandbox settles it.
    let o = run(&create(
        "bias",
        "pay_bias_1",
        "0.011",
        "KWD",
        &["--sandbox", "--wait", "--format", "jsonl"],
    ));
    assert_code(&o, 0);
    let refund: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(
        (refund["amount"].as_str(), refund["status"].as_str()),
        (Some("0.011"), Some("succeeded"))
    );
    assert_eq!(refund["id"], "re_000003");
}

#[test]
fn unavailable_and_rejected_exit_codes() {
    let o = run(&[
        "get",
        "--sandbox",
        "--sandbox-fault",
        "unavailable:10",
        "-p",
        "xpay",
        "re_000001",
    ]);
    assert_code(&o, 4);
    assert!(stderr(&o).contains("request req_"), "{}", stderr(&o));

    // More than is left: the provider refuses (exit 2), nothing applied.
    let o = run(&create("xpay", "ch_xyz789", "300.00", "EGP", &["--sandbox"]));
    assert_code(&o, 2);
    assert!(stderr(&o).starts_with("refunds: xpay: "), "{}", stderr(&o));

    let o = run(&create("xpay", "ch_xyz789", "200.00", "EGP", &["--sandbox"]));
    assert_code(&o, 0);
    assert!(stdout(&o).contains("200.00 EGP"));
}

#[test]
fn an_ambiguous_create_then_recover_in_a_second_process() {
    for (provider, payment, amount, currency, faults) in [
        // No idempotency: never re-sent, so one lost answer is ambiguous; recover looks it up.
        ("xpay", "ch_xyz789", "50.00", "EGP", "response-lost"),
        // Idempotent: the SDK re-sends with its key; every answer lost; recover re-sends once more.
        ("wooshpay", "pi_1787730829493927936", "5.00", "EUR", "response-lost:10"),
    ] {
        let dir = scratch(&format!("recover-{provider}"));
        let o = run_in(
            &dir,
            &create(
                provider,
                payment,
                amount,
                currency,
                &[
                    "--sandbox",
                    "--sandbox-state",
                    "state.json",
                    "--sandbox-fault",
                    faults,
                    "--pending-file",
                    "pending.json",
                ],
            ),
        );
        assert_code(&o, 3);
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("pending create saved to pending.json"), "{err}");
        let pending: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("pending.json")).unwrap()).unwrap();
        assert_eq!(pending["provider"], provider);
        assert_eq!(pending["request"]["payment"]["id"], payment);

        // A second process: the state file replays what the sandbox applied.
        let o = run_in(
            &dir,
            &[
                "recover",
                "--sandbox",
                "--sandbox-state",
                "state.json",
                "pending.json",
                "--format",
                "json",
            ],
        );
        assert_code(&o, 0);
        let verdict: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
        assert_eq!(verdict["verdict"], "applied", "{provider}: {verdict}");
        assert_eq!(verdict["refunds"][0]["amount"], amount);
        assert_eq!(verdict["refunds"][0]["id"], "re_000003");

        // Never overwritten: a second ambiguous create needs another file.
        let o = run_in(
            &dir,
            &[
                "create",
                "--sandbox",
                "-p",
                provider,
                "--payment",
                payment,
                "--pending-file",
                "pending.json",
            ],
        );
        assert_code(&o, 2);
    }
    // Without the state, a fresh sandbox has no such refund, and xpay's one-page list cannot rule it
    // out: the verdict says so (exit 3), it does not guess.
    let dir = std::env::temp_dir().join(format!("refunds-cli-recover-xpay-{}", std::process::id()));
    let o = run_in(&dir, &["recover", "--sandbox", "pending.json"]);
    assert_code(&o, 3);
    assert!(stdout(&o).starts_with("unknown (single_page): "), "{}", stdout(&o));
}

#[test]
fn bad_arguments_exit_2_with_a_clear_message_and_send_nothing() {
    // A real configuration pointing at a listener this test owns: any request would connect to it.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let key = "sk_test_never_printed_4242";
    let cases: &[(&[&str], &str)] = &[
        (&create("xpay", "ch_1", "1.001", "EGP", &[]), "decimal places"),
        (
            &[
                "create",
                "-p",
                "xpay",
                "--payment",
                "ch_1",
                "--amount=-5",
                "--currency",
                "EGP",
            ],
            "amount",
        ),
        (&create("xpay", "ch_1", "5", "XYZ", &[]), "XYZ"),
        (
            &["create", "-p", "xpay", "--payment", "ch_1", "--amount", "5"],
            "--currency",
        ),
        (&create("xpay", "", "5", "EGP", &[]), "payment"),
        (
            &["create", "-p", "xpay", "--payment", "ch_1", "--payment-kind", "card"],
            "card",
        ),
        (&["create", "-p", "stripe", "--payment", "ch_1"], "stripe"),
        (&["list", "-p", "xpay", "--status", "done"], "done"),
        (&["list", "-p", "xpay", "--created-after", "yesterday"], "yesterday"),
        (&["list", "-p", "xpay", "--limit", "0"], "--limit"),
        (&["wait", "-p", "xpay", "re_1", "--timeout", "soon"], "soon"),
        (&["get", "-p", "xpay", "--sandbox-fault", "reset", "re_1"], "--sandbox"),
        (
            &["get", "--sandbox", "--sandbox-fault", "explode", "-p", "xpay", "re_1"],
            "explode",
        ),
        (&["recover", "missing-pending.json"], "missing-pending.json"),
        (&["frobnicate"], "frobnicate"),
    ];
    for (args, needle) in cases {
        let o = command(&std::env::temp_dir(), args)
            .env("REFUNDS_PROVIDERS", "xpay")
            .env("XPAY_API_KEY", key)
            .env("XPAY_BASE_URL", &url)
            .output()
            .unwrap();
        assert_code(&o, 2);
        let err = stderr(&o);
        assert!(err.contains(needle), "{args:?}: the message names {needle:?}: {err}");
        assert!(
            !err.contains(key) && !stdout(&o).contains(key),
            "{args:?}: a key was printed"
        );
        assert!(listener.accept().is_err(), "{args:?}: a request was sent");
    }
    // Missing configuration: exit 2, naming the variable.
    let o = run(&["get", "-p", "xpay", "re_1"]);
    assert_code(&o, 2);
    assert!(stderr(&o).contains("REFUNDS_PROVIDERS"), "{}", stderr(&o));
}

/// WooshPay's documented envelope, signed here with the documented recipe (not the SDK's signer).
const EVENT: &str = r#"{
  "id": "evt_3OaBcD2eZvKYlo2C1x2y3z4w",
  "object": "event",
  "created": 1704067195,
  "data": {
    "object": {"id": "re_3OaBcD2eZvKYlo2C0a1b2c3d", "object": "refund", "amount": 1999,
               "currency": "eur", "payment_intent": "pi_1787730829493927936", "status": "succeeded",
               "created": 1704067100, "metadata": {}, "reason": "requested_by_customer"}
  },
  "livemode": false,
  "type": "charge.refund.updated"
}"#;
const SECRET: &str = "whsec_test_cli_secret_value";
const SIGNED_AT: i64 = 1_704_067_200; // 2024-01-01T00:00:00Z

fn signature(secret: &str, t: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={t},v1={hex}")
}

#[test]
fn webhook_verify_prints_the_typed_event_or_rejects() {
    let dir = scratch("webhook");
    std::fs::write(dir.join("event.json"), EVENT).unwrap();
    std::fs::write(dir.join("tampered.json"), EVENT.replace("1999", "9999")).unwrap();
    let header = format!("Wooshpay-Signature: {}", signature(SECRET, SIGNED_AT, EVENT.as_bytes()));
    let verify = |file: &str, extra: &[&str]| {
        let mut args = vec![
            "webhook",
            "verify",
            "--provider",
            "wooshpay",
            "--secret-env",
            "CLI_TEST_WHSEC",
            "--header",
        ];
        args.push(&header);
        args.push(file);
        args.extend_from_slice(extra);
        command(&dir, &args).env("CLI_TEST_WHSEC", SECRET).output().unwrap()
    };
    let o = verify("event.json", &["--at", "2024-01-01T00:00:30Z"]);
    assert_code(&o, 0);
    let text = stdout(&o);
    for needle in [
        "evt_3OaBcD2eZvKYlo2C1x2y3z4w",
        "charge.refund.updated",
        "updated",
        "19.99 EUR",
        "succeeded",
    ] {
        assert!(text.contains(needle), "{needle}:\n{text}");
    }
    assert!(!text.contains(SECRET));

    let o = verify("event.json", &["--at", "2024-01-01T00:00:30Z", "--format", "json"]);
    assert_code(&o, 0);
    let event: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(event["kind"], "updated");
    assert_eq!(event["refund"]["amount"], "19.99");
    assert_eq!(event["refund"]["currency"], "EUR");
    assert_eq!(event["raw"]["data"]["object"]["amount"], 1999);

    // Altered body, stale timestamp (checked against now), wrong secret: rejected, exit 2.
    let o = verify("tampered.json", &["--at", "2024-01-01T00:00:30Z"]);
    assert_code(&o, 2);
    assert!(stderr(&o).contains("wooshpay: webhook rejected"), "{}", stderr(&o));
    let o = verify("event.json", &[]);
    assert_code(&o, 2);
    let o = command(
        &dir,
        &[
            "webhook",
            "verify",
            "--provider",
            "wooshpay",
            "--secret-env",
            "CLI_TEST_WHSEC",
            "--header",
            &header,
            "event.json",
            "--at",
            "2024-01-01T00:00:30Z",
        ],
    )
    .env("CLI_TEST_WHSEC", "whsec_another_secret")
    .output()
    .unwrap();
    assert_code(&o, 2);
    assert!(!stderr(&o).contains("whsec_another_secret"));
    // The variable is not set.
    let o = command(
        &dir,
        &[
            "webhook",
            "verify",
            "--provider",
            "wooshpay",
            "--secret-env",
            "CLI_TEST_UNSET_VAR",
            "--header",
            &header,
            "event.json",
        ],
    )
    .output()
    .unwrap();
    assert_code(&o, 2);
    assert!(stderr(&o).contains("CLI_TEST_UNSET_VAR"));
}

/// A one-file HTTP server on loopback that answers xpay's create with a refund and every other request
/// with `then` (status, body), for as long as the test runs. Returns its base URL.
fn xpay_that_creates_then(then: (u16, &'static str)) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let mut length = 0usize;
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).is_err() || header.trim().is_empty() {
                    break;
                }
                if let Some(v) = header.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0u8; length];
            let _ = reader.read_exact(&mut body);
            let (status, answer) = if line.starts_with("POST") {
                (
                    200,
                    r#"{"id":"re_created_1","chargeId":"ch_1","amount":"5000","currency":"EGP","status":"pending","createdAt":"2026-12-07T10:00:00Z"}"#,
                )
            } else {
                then
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    url
}

/// Safety review 3, finding 4: `create --wait` whose polls fail after the refund was created prints
/// the refund and exits 5 ("created, not yet final"), never the exit code of the failed poll (4 read as
/// "unavailable", 2 as "nothing was applied").
#[test]
fn create_wait_never_hides_the_created_refund() {
    let failing = [
        (
            503,
            r#"{"error":{"type":"api_error","code":"unavailable","message":"down"}}"#,
        ),
        (
            404,
            r#"{"error":{"type":"invalid_request_error","code":"resource_missing","message":"no such refund"}}"#,
        ),
    ];
    for then in failing {
        let url = xpay_that_creates_then(then);
        let dir = scratch(&format!("wait-{}", then.0));
        let o = command(
            &dir,
            &create(
                "xpay",
                "ch_1",
                "50.00",
                "EGP",
                &["--wait", "--wait-timeout", "2s", "--format", "json"],
            ),
        )
        .env("REFUNDS_PROVIDERS", "xpay")
        .env("XPAY_API_KEY", "sk_test_cli_0123456789")
        .env("XPAY_BASE_URL", &url)
        .output()
        .expect("runs");
        assert_code(&o, 5);
        assert!(
            stdout(&o).contains("\"re_created_1\""),
            "the refund is printed: {}",
            stdout(&o)
        );
        assert!(
            stderr(&o).contains("re_created_1"),
            "and named on stderr: {}",
            stderr(&o)
        );
        assert!(
            std::fs::read_dir(&dir).unwrap().next().is_none(),
            "no pending file: the refund exists"
        );
    }
}

/// The ecosystem review's problem 1: a definite refusal (over-refund, unknown payment) on a provider
/// that de-duplicates is exit 2 with no pending file, not "the refund may exist" (exit 3).
#[test]
fn a_definite_refusal_writes_no_pending_file() {
    let dir = scratch("definite");
    let over = run_in(
        &dir,
        &create("wooshpay", "pi_1787730829493927936", "500.00", "EUR", &["--sandbox"]),
    );
    assert_code(&over, 2);
    assert!(!stderr(&over).contains("may exist"), "{}", stderr(&over));
    let unknown = run_in(&dir, &create("syncgram", "ch_nope", "10", "JPY", &["--sandbox"]));
    assert_code(&unknown, 2);
    assert!(
        std::fs::read_dir(&dir).unwrap().next().is_none(),
        "no pending file was written"
    );
}

/// An ambiguous create's pending file is readable by its owner only, and `recover` says what its verdict
/// rests on, takes the booked refunds and exclusivity, and says when to try again for an unknown.
#[test]
fn pending_files_are_private_and_recover_states_its_evidence() {
    let dir = scratch("private");
    let state = dir.join("st.json");
    let state = state.to_str().unwrap();
    let o = run_in(
        &dir,
        &create(
            "wooshpay",
            "pi_1787730829493927936",
            "5.00",
            "EUR",
            &[
                "--sandbox",
                "--sandbox-state",
                state,
                "--sandbox-fault",
                "response-lost:10",
                "--pending-file",
                "p.json",
            ],
        ),
    );
    assert_code(&o, 3);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("p.json")).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{mode:o}");
    }
    let o = run_in(&dir, &["recover", "--sandbox", "--sandbox-state", state, "p.json"]);
    assert_code(&o, 0);
    assert!(
        stdout(&o).contains("evidence: the provider answered a re-send"),
        "{}",
        stdout(&o)
    );
    // A tampered file is refused before anything is sent.
    let text = std::fs::read_to_string(dir.join("p.json")).unwrap();
    std::fs::write(dir.join("bad.json"), text.replace("pi_1787730829493927936", "")).unwrap();
    let o = run_in(&dir, &["recover", "--sandbox", "bad.json"]);
    assert_code(&o, 2);
    assert!(stderr(&o).contains("not a pending create"), "{}", stderr(&o));
    // Booked and exclusive are taken; JSON says the verdict and, for an unknown, when to try again.
    let o = run_in(
        &dir,
        &[
            "recover",
            "--sandbox",
            "--booked",
            "re_000001",
            "--exclusive",
            "--format",
            "json",
            "p.json",
        ],
    );
    let verdict: serde_json::Value = serde_json::from_str(stdout(&o).trim()).expect("json");
    assert!(verdict["verdict"].is_string(), "{verdict}");
}
