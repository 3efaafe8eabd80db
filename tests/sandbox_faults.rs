//! The adversarial sandbox faults on the wire: slow commits answered "in progress", requests applied
//! then refused, lying lists and clock skew, against a minimal JSON skin over the ledger.

use std::time::Duration;

use refunds::sandbox::{
    Fault, Ledger, LedgerError, RefundDraft, RefundRecord, Sandbox, SandboxRequest, SandboxResponse, Skin,
};
use refunds::{Currency, Money};
use serde_json::{Value, json};

/// A minimal refunds API: `POST /refunds` (`{"payment","amount"}`, optional `Idempotency-Key`),
/// `GET /refunds/{id}`, `GET /refunds?offset&limit` answering `{"total","items"}`.
struct TestSkin;

fn refund_json(r: &RefundRecord) -> Value {
    json!({
        "id": r.id,
        "payment": r.payment_id,
        "amount": r.amount.minor(),
        "created": r.created_at.unix_timestamp(),
    })
}

fn error(status: u16, message: &str) -> SandboxResponse {
    SandboxResponse::json(status, &json!({"error": {"status": status, "message": message}}))
}

impl Skin for TestSkin {
    fn provider(&self) -> &'static str {
        "test"
    }

    fn handle(&self, request: &SandboxRequest, ledger: &Ledger) -> SandboxResponse {
        if request.is("POST", &["refunds"]) {
            let Ok(body) = request.json::<Value>() else {
                return error(400, "bad body");
            };
            let mut draft = RefundDraft::new(body["payment"].as_str().unwrap_or_default());
            draft.amount_minor = body["amount"].as_i64();
            draft.idempotency_key = self.idempotency_key(request);
            draft.fingerprint = String::from_utf8_lossy(&request.body).into_owned();
            return match ledger.create_refund(draft) {
                Ok(outcome) => SandboxResponse::json(200, &refund_json(outcome.record())),
                Err(LedgerError::IdempotencyConflict) => error(409, "key reused"),
                Err(e) => error(400, &e.to_string()),
            };
        }
        if request.is("GET", &["refunds", "*"]) {
            return match ledger.refund(&request.segments[1]) {
                Some(r) => SandboxResponse::json(200, &refund_json(&r)),
                None => error(404, "no such refund"),
            };
        }
        if request.is("GET", &["refunds"]) {
            let number = |name: &str, default: usize| {
                request
                    .query_param(name)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(default)
            };
            let (page, total) = ledger.refunds_page(number("offset", 0), number("limit", 10), |_| true);
            let items: Vec<Value> = page.iter().map(refund_json).collect();
            return SandboxResponse::json(200, &json!({"total": total, "items": items}));
        }
        error(404, "no such route")
    }

    fn error_response(&self, status: u16, message: &str) -> SandboxResponse {
        error(status, message)
    }

    fn idempotency_key(&self, request: &SandboxRequest) -> Option<String> {
        request.header("idempotency-key").map(str::to_owned)
    }
}

async fn start() -> Sandbox {
    let sandbox = Sandbox::start(TestSkin, Ledger::new("re_"))
        .await
        .expect("bind 127.0.0.1");
    sandbox
        .ledger()
        .seed_payment("pay_1", Money::from_minor(100_000, Currency::USD));
    sandbox
}

fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(timeout)
        .build()
        .expect("client")
}

async fn create(
    http: &reqwest::Client,
    sandbox: &Sandbox,
    key: Option<&str>,
    amount: i64,
) -> reqwest::Result<(u16, Option<String>, Value)> {
    let mut request = http
        .post(format!("{}/refunds", sandbox.base_url()))
        .json(&json!({"payment": "pay_1", "amount": amount}));
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response.json().await.unwrap_or(Value::Null);
    Ok((status, retry_after, body))
}

async fn get(http: &reqwest::Client, sandbox: &Sandbox, path_and_query: &str) -> (u16, Value) {
    let response = http
        .get(format!("{}{path_and_query}", sandbox.base_url()))
        .send()
        .await
        .expect("get");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| item["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn slow_commit_answers_in_progress_then_applies_once() {
    let sandbox = start().await;
    let commit = Duration::from_millis(1_500);
    sandbox.faults().push(Fault::SlowCommit(commit), 1);

    let impatient = client(Duration::from_millis(300));
    let e = create(&impatient, &sandbox, Some("key-1"), 100)
        .await
        .expect_err("the client times out before the commit");
    assert!(e.is_timeout(), "{e}");
    assert_eq!(sandbox.ledger().refund_count(), 0, "not applied before the delay");

    let http = client(Duration::from_secs(5));
    let (status, _, body) = create(&http, &sandbox, Some("key-1"), 100).await.unwrap();
    assert_eq!(status, 409, "same key while the first is in progress: {body}");
    assert_eq!(body["error"]["code"], "idempotency_key_in_use", "{body}");
    assert_eq!(
        sandbox.ledger().refund_count(),
        0,
        "the in-progress answer applies nothing"
    );

    // Another key is not held up (and takes no fault).
    let (status, _, other) = create(&http, &sandbox, Some("key-2"), 7).await.unwrap();
    assert_eq!(status, 200, "{other}");
    assert_eq!(sandbox.ledger().refund_count(), 1);

    tokio::time::sleep(commit).await;
    let refunds = sandbox.ledger().refunds();
    assert_eq!(refunds.len(), 2, "the slow commit applied although the client gave up");
    let slow = refunds
        .iter()
        .find(|r| r.idempotency_key.as_deref() == Some("key-1"))
        .expect("the slow commit");
    assert_eq!(slow.amount.minor(), 100);

    let (status, _, replay) = create(&http, &sandbox, Some("key-1"), 100).await.unwrap();
    assert_eq!(status, 200, "after the commit the key replays: {replay}");
    assert_eq!(replay["id"], slow.id.as_str());
    assert_eq!(sandbox.ledger().refund_count(), 2, "exactly one refund for key-1");

    let counts = sandbox.faults().counts();
    assert_eq!(
        (counts.slow_commit, counts.in_progress_answers, counts.total()),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn slow_commit_answers_a_patient_client_normally() {
    let sandbox = start().await;
    sandbox.faults().push(Fault::SlowCommit(Duration::from_millis(200)), 1);
    let http = client(Duration::from_secs(5));
    let (status, _, body) = create(&http, &sandbox, None, 100).await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        sandbox
            .ledger()
            .refund(body["id"].as_str().unwrap())
            .unwrap()
            .amount
            .minor(),
        100
    );
}

#[tokio::test]
async fn applied_then_429_and_409() {
    let sandbox = start().await;
    let http = client(Duration::from_secs(5));

    sandbox.faults().push(Fault::AppliedThen(429), 1);
    let (status, retry_after, body) = create(&http, &sandbox, None, 100).await.unwrap();
    assert_eq!(status, 429, "{body}");
    assert_eq!(retry_after.as_deref(), Some("1"));
    assert_eq!(body["error"]["status"], 429, "the skin's error shape: {body}");
    assert_eq!(
        sandbox.ledger().refund_count(),
        1,
        "applied although the client saw 429"
    );

    sandbox.faults().push(Fault::AppliedThen(409), 1);
    let (status, retry_after, body) = create(&http, &sandbox, Some("k"), 200).await.unwrap();
    assert_eq!((status, retry_after), (409, None), "{body}");
    assert_eq!(body["error"]["status"], 409, "{body}");
    let refunds = sandbox.ledger().refunds();
    assert_eq!(refunds.len(), 2, "applied although the client saw 409");
    assert_eq!(refunds[1].idempotency_key.as_deref(), Some("k"));

    let counts = sandbox.faults().counts();
    assert_eq!(
        (counts.applied_then_429, counts.applied_then_409, counts.total()),
        (1, 1, 2)
    );
}

async fn five_refunds() -> (Sandbox, reqwest::Client) {
    let sandbox = start().await;
    let http = client(Duration::from_secs(5));
    for amount in 1..=5 {
        let (status, _, body) = create(&http, &sandbox, None, amount).await.unwrap();
        assert_eq!(status, 200, "{body}");
    }
    (sandbox, http)
}

#[tokio::test]
async fn list_total_overstated() {
    let (sandbox, http) = five_refunds().await;
    sandbox
        .faults()
        .push(Fault::ListTotalOverstated(1_000_000_000_000_000), 1);
    let (status, page) = get(&http, &sandbox, "/refunds?offset=0&limit=2").await;
    assert_eq!(status, 200);
    assert_eq!(page["total"], 1_000_000_000_000_005_u64, "{page}");
    assert_eq!(ids(&page), ["re_000001", "re_000002"], "the items are true");
    let (_, honest) = get(&http, &sandbox, "/refunds?offset=0&limit=2").await;
    assert_eq!(honest["total"], 5, "one lie per fault");
    assert_eq!(sandbox.faults().counts().list_total_overstated, 1);
}

#[tokio::test]
async fn list_short_page() {
    let (sandbox, http) = five_refunds().await;
    sandbox.faults().push(Fault::ListShortPage, 1);
    let (_, page) = get(&http, &sandbox, "/refunds?offset=0&limit=2").await;
    assert_eq!(ids(&page), ["re_000001"], "short although more follow: {page}");
    assert_eq!(page["total"], 5);
    let (_, next) = get(&http, &sandbox, "/refunds?offset=2&limit=2").await;
    assert_eq!(
        ids(&next),
        ["re_000003", "re_000004"],
        "offset paging by the limit skips re_000002"
    );
    assert_eq!(sandbox.faults().counts().list_short_page, 1);
}

#[tokio::test]
async fn list_repeat_item() {
    let (sandbox, http) = five_refunds().await;
    let (_, first) = get(&http, &sandbox, "/refunds?offset=0&limit=2").await;
    assert_eq!(ids(&first), ["re_000001", "re_000002"]);
    sandbox.faults().push(Fault::ListRepeatItem, 1);
    let (_, second) = get(&http, &sandbox, "/refunds?offset=2&limit=2").await;
    assert_eq!(
        ids(&second),
        ["re_000002", "re_000003", "re_000004"],
        "the previous page's last item again: {second}"
    );
    assert_eq!(sandbox.faults().counts().list_repeat_item, 1);
}

#[tokio::test]
async fn list_repeat_cursor() {
    let (sandbox, http) = five_refunds().await;
    let (_, first) = get(&http, &sandbox, "/refunds?offset=0&limit=2").await;
    sandbox.faults().push(Fault::ListRepeatCursor, 3);
    for _ in 0..3 {
        let (status, page) = get(&http, &sandbox, "/refunds?offset=2&limit=2").await;
        assert_eq!(status, 200);
        assert_eq!(page, first, "the walk does not advance");
    }
    let (_, second) = get(&http, &sandbox, "/refunds?offset=2&limit=2").await;
    assert_eq!(ids(&second), ["re_000003", "re_000004"], "then the truth again");
    assert_eq!(sandbox.faults().counts().list_repeat_cursor, 3);
}

#[tokio::test]
async fn queued_list_lies_wait_for_a_list_answer() {
    let (sandbox, http) = five_refunds().await;
    sandbox.faults().push(Fault::ListShortPage, 1);
    sandbox.faults().push(Fault::ServiceUnavailable, 1);
    let (status, _, _) = create(&http, &sandbox, None, 1).await.unwrap();
    assert_eq!(
        status, 200,
        "a create does not take a list lie (nor what is queued behind it)"
    );
    let (status, one) = get(&http, &sandbox, "/refunds/re_000001").await;
    assert_eq!(status, 200, "a retrieve is not a list: {one}");
    assert_eq!(one["id"], "re_000001");
    assert_eq!(sandbox.faults().counts().total(), 0);
    let (_, page) = get(&http, &sandbox, "/refunds?offset=0&limit=3").await;
    assert_eq!(ids(&page).len(), 2, "the list answer takes it");
    let (status, _) = get(&http, &sandbox, "/refunds").await;
    assert_eq!(status, 503, "then the next queued fault");
    let counts = sandbox.faults().counts();
    assert_eq!((counts.list_short_page, counts.service_unavailable), (1, 1));
}

#[tokio::test]
async fn clock_skew_shifts_reported_creation_times() {
    let sandbox = start().await;
    let http = client(Duration::from_secs(5));
    let (_, _, before) = create(&http, &sandbox, None, 1).await.unwrap();
    let true_now = sandbox.ledger().now().unix_timestamp();
    assert_eq!(before["created"], true_now);

    sandbox.set_clock_skew(Duration::from_secs(300), false);
    let (_, _, behind) = create(&http, &sandbox, None, 2).await.unwrap();
    assert_eq!(behind["created"], true_now - 300, "{behind}");
    let (_, page) = get(&http, &sandbox, "/refunds").await;
    assert_eq!(ids(&page), ["re_000001", "re_000002"], "order unchanged");
    assert!(
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["created"] == true_now - 300)
    );

    sandbox.set_clock_skew(Duration::from_secs(3_600), true);
    let (_, one) = get(&http, &sandbox, "/refunds/re_000001").await;
    assert_eq!(one["created"], true_now + 3_600);
    assert_eq!(
        sandbox.ledger().now().unix_timestamp(),
        true_now,
        "the ledger clock is not moved"
    );
    assert_eq!(sandbox.ledger().clock_skew_secs(), 3_600);
}

#[tokio::test]
async fn random_plan_with_the_new_kinds_keeps_one_refund_per_key() {
    let sandbox = start().await;
    sandbox.faults().random(
        500,
        11,
        vec![
            Fault::SlowCommit(Duration::from_millis(50)),
            Fault::AppliedThen(429),
            Fault::AppliedThen(409),
            Fault::ListShortPage,
        ],
    );
    let http = client(Duration::from_secs(5));
    for i in 0..40 {
        let key = format!("key-{i}");
        let mut attempts = 0;
        loop {
            attempts += 1;
            let (status, _, body) = create(&http, &sandbox, Some(&key), 10).await.unwrap();
            if status == 200 {
                assert_eq!(body["amount"], 10);
                break;
            }
            assert!(matches!(status, 409 | 429), "{status} {body}");
            assert!(attempts < 50, "{key} never answered 200");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    let refunds = sandbox.ledger().refunds();
    assert_eq!(refunds.len(), 40, "one refund per key, whatever the answers were");
    let counts = sandbox.faults().counts();
    assert!(
        counts.slow_commit + counts.applied_then_429 + counts.applied_then_409 > 0,
        "{counts:?}"
    );
    assert_eq!(counts.list_lies(), 0, "no list was asked for");
}
