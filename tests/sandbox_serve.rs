//! The sandbox as a server for any language: the control API under `/_sandbox/`, streaming answers
//! cut on demand, a chosen address, and the journal that keeps a world across restarts; over a
//! minimal JSON skin.

use std::net::SocketAddr;
use std::time::Duration;

use refunds::sandbox::{Journal, Ledger, LedgerError, RefundDraft, Sandbox, SandboxRequest, SandboxResponse, Skin};
use serde_json::{Value, json};

/// `POST /refunds` (`{"payment","amount"}`, `Idempotency-Key`), `GET /refunds/{id}`, and
/// `GET /ticks`, a stream of `tick` lines every 10 ms.
struct TestSkin;

impl Skin for TestSkin {
    fn provider(&self) -> &'static str {
        "test"
    }

    fn handle(&self, request: &SandboxRequest, ledger: &Ledger) -> SandboxResponse {
        if request.header("authorization") != Some("Bearer sk_test_serve") {
            return SandboxResponse::json(401, &json!({"error": "key"}));
        }
        if request.is("POST", &["refunds"]) {
            let body: Value = request.json().unwrap_or_default();
            let mut draft = RefundDraft::new(body["payment"].as_str().unwrap_or_default());
            draft.amount_minor = body["amount"].as_i64();
            draft.idempotency_key = self.idempotency_key(request);
            draft.fingerprint = String::from_utf8_lossy(&request.body).into_owned();
            return match ledger.create_refund(draft) {
                Ok(outcome) => SandboxResponse::json(200, &json!({"id": outcome.record().id})),
                Err(LedgerError::IdempotencyConflict) => SandboxResponse::json(409, &json!({"error": "key"})),
                Err(e) => SandboxResponse::json(400, &json!({"error": e.to_string()})),
            };
        }
        if request.is("GET", &["ticks"]) {
            let (answer, writer) = SandboxResponse::streaming(200, "text/plain");
            tokio::spawn(async move {
                while writer.send("tick\n").await {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            });
            return answer;
        }
        SandboxResponse::json(404, &json!({"error": "route"}))
    }

    fn error_response(&self, status: u16, message: &str) -> SandboxResponse {
        SandboxResponse::json(status, &json!({"error": message}))
    }

    fn idempotency_key(&self, request: &SandboxRequest) -> Option<String> {
        request.header("idempotency-key").map(str::to_owned)
    }
}

async fn call(method: &str, url: String, body: Option<Value>) -> (u16, Value) {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut request = client
        .request(method.parse().unwrap(), url)
        .header("authorization", "Bearer sk_test_serve")
        .header("idempotency-key", "key-1");
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn start() -> Sandbox {
    Sandbox::start(TestSkin, Ledger::new("re_")).await.unwrap()
}

#[tokio::test]
async fn the_control_api_seeds_settles_faults_and_reads_the_ledger() {
    let sandbox = start().await;
    let base = sandbox.base_url();
    let control = |path: &str| format!("{base}/_sandbox{path}");
    let (status, info) = call("GET", control(""), None).await;
    assert_eq!((status, info["provider"].as_str()), (200, Some("test")));
    let seed = json!({"id": "pay_1", "amount": "12.50", "currency": "USD"});
    let (status, payment) = call("POST", control("/payments"), Some(seed)).await;
    assert_eq!((status, payment["amount_minor"].as_i64()), (201, Some(1250)));
    for bad in [
        json!({"id": "pay_2", "amount": "1.234", "currency": "USD"}),
        json!({"id": "pay_2", "amount": "1", "currency": "ZZZ"}),
        json!({"id": "", "amount": "1", "currency": "USD"}),
        json!({"id": "pay_2", "amount": "1", "currency": "USD", "extra": 1}),
    ] {
        assert_eq!(
            call("POST", control("/payments"), Some(bad.clone())).await.0,
            400,
            "{bad}"
        );
    }

    let (status, created) = call(
        "POST",
        format!("{base}/refunds"),
        Some(json!({"payment": "pay_1", "amount": 250})),
    )
    .await;
    assert_eq!(status, 200);
    let id = created["id"].as_str().unwrap().to_owned();
    let (_, refunds) = call("GET", control("/refunds"), None).await;
    assert_eq!(
        (refunds[0]["status"].as_str(), refunds[0]["amount"].as_str()),
        (Some("pending"), Some("2.50"))
    );
    let (_, settled) = call("POST", control(&format!("/refunds/{id}/settle")), None).await;
    assert_eq!(settled["status"], "succeeded");
    let (_, forced) = call(
        "POST",
        control(&format!("/refunds/{id}/status")),
        Some(json!({"status": "reversed"})),
    )
    .await;
    assert_eq!(forced["status"], "reversed");
    let (_, paid) = call("GET", control("/payments/pay_1"), None).await;
    assert_eq!(paid["refundable"], "10.00");

    let fault = json!({"fault": "unavailable", "times": 1});
    assert_eq!(call("POST", control("/faults"), Some(fault)).await.0, 200);
    assert_eq!(
        call("GET", control(""), None).await.0,
        200,
        "control requests meet no fault"
    );
    assert_eq!(call("GET", format!("{base}/refunds/{id}"), None).await.0, 503);
    assert_eq!(call("GET", control("/faults"), None).await.1["service_unavailable"], 1);
    let bad_fault = call("POST", control("/faults"), Some(json!({"fault": "teleport"}))).await;
    assert_eq!(bad_fault.0, 400);
    assert!(bad_fault.1["error"]["message"].as_str().unwrap().contains("known:"));

    let before = sandbox.ledger().now();
    let (_, clock) = call("POST", control("/clock"), Some(json!({"advance_secs": 3600}))).await;
    assert_eq!(sandbox.ledger().now() - before, time::Duration::hours(1), "{clock}");
    let (_, requests) = call("GET", control("/requests"), None).await;
    let first = &requests[0];
    assert_eq!(
        (first["method"].as_str(), first["path"].as_str()),
        (Some("POST"), Some("/refunds"))
    );
    assert_eq!(first["headers"]["authorization"], "[redacted]");
    assert_eq!(first["headers"]["idempotency-key"], "key-1");
    assert_eq!(call("GET", control("/nowhere"), None).await.0, 404);
    assert_eq!(call("DELETE", control("/refunds"), None).await.0, 405);
}

#[tokio::test]
async fn streaming_answers_flow_until_cut() {
    let sandbox = start().await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut response = client
        .get(format!("{}/ticks", sandbox.base_url()))
        .header("authorization", "Bearer sk_test_serve")
        .send()
        .await
        .unwrap();
    let mut got = Vec::new();
    while got.len() < 3 {
        got.extend(response.chunk().await.unwrap().unwrap());
    }
    assert!(got.starts_with(b"tick\n"));
    assert_eq!(sandbox.cut_streams(), 1);
    let cut = async {
        loop {
            match response.chunk().await {
                Ok(Some(_)) => continue,
                other => return other.is_err(),
            }
        }
    };
    let failed = tokio::time::timeout(Duration::from_secs(5), cut).await.unwrap();
    assert!(failed, "a cut stream ends without its final chunk");
    assert_eq!(sandbox.cut_streams(), 0);
}

#[tokio::test]
async fn a_sandbox_listens_on_a_chosen_loopback_address_only() {
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let sandbox = Sandbox::start_at(free, TestSkin, Ledger::new("re_")).await.unwrap();
    assert_eq!(sandbox.addr(), free);
    let outside: SocketAddr = "0.0.0.0:0".parse().unwrap();
    let e = Sandbox::start_at(outside, TestSkin, Ledger::new("re_"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
}

#[tokio::test]
async fn the_journal_rebuilds_the_world_on_the_next_start() {
    let dir = std::env::temp_dir().join(format!("refunds-serve-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("state.jsonl");
    let _ = std::fs::remove_file(&path);

    let (journal, earlier) = Journal::open(&path).unwrap();
    assert!(earlier.is_empty());
    let first = start().await;
    first.record_to(journal.clone());
    let base = first.base_url();
    let seed = json!({"id": "pay_1", "amount": "100.00", "currency": "EUR"});
    call("POST", format!("{base}/_sandbox/payments"), Some(seed)).await;
    let body = json!({"payment": "pay_1", "amount": 2500});
    let (_, created) = call("POST", format!("{base}/refunds"), Some(body.clone())).await;
    call(
        "POST",
        format!("{base}/_sandbox/clock"),
        Some(json!({"advance_secs": 60})),
    )
    .await;
    first.ledger().settle_all();
    let before = first.ledger().refunds();
    drop(first);
    assert_eq!(journal.error(), None);

    let (journal, entries) = Journal::open(&path).unwrap();
    assert_eq!(entries.len(), 4, "{entries:?}");
    let second = start().await;
    assert_eq!(second.replay(&entries).unwrap(), 4);
    second.record_to(journal);
    assert_eq!(second.ledger().refunds(), before);
    assert_eq!(second.ledger().payment("pay_1").unwrap().refunded, 2500);
    let (status, again) = call("POST", format!("{}/refunds", second.base_url()), Some(body)).await;
    assert_eq!(
        (status, &again["id"]),
        (200, &created["id"]),
        "the same key is still a replay"
    );
    let (status, _) = call(
        "POST",
        format!("{}/refunds", second.base_url()),
        Some(json!({"payment": "pay_1"})),
    )
    .await;
    assert_eq!(status, 409, "and with another body, still a conflict");

    let third = start().await;
    third
        .ledger()
        .seed_payment("pay_1", refunds::Money::from_minor(100, refunds::Currency::EUR));
    let (_, entries) = Journal::open(&path).unwrap();
    let e = Sandbox::replay(&third, &entries[1..]).unwrap_err();
    assert!(e.contains("out of step"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}
