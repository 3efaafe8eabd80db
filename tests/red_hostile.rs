//! Red-team attacks with hostile servers and hostile inputs: waits, panics and secrets.

mod common;

use std::time::Duration;

use common::reference::ReferenceClient;
use common::reference_skin::KEY;
use futures_util::StreamExt;
use refunds::adapter::RetryPolicy;
use refunds::{
    CreateRefund, Currency, ListRefunds, Money, OffsetDateTime, PaymentRef, PendingCreate, RecoverExt, Recovery,
    RecoveryOptions, RefundProvider, RefundProviderExt,
};
use refunds_testkit::fast_retry;
use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client(uri: &str) -> ReferenceClient {
    ReferenceClient::builder()
        .api_key(KEY)
        .base_url(uri)
        .retry(fast_retry(0))
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn ten_dollars() -> CreateRefund {
    CreateRefund::new(PaymentRef::payment("pay_1").unwrap()).amount(Money::from_minor(1_000, Currency::USD))
}

/// A pending create as `create` leaves it after a 503 (nothing else needed to recover it).
async fn pending_from_503(server: &MockServer, c: &ReferenceClient) -> PendingCreate {
    let guard = Mock::given(method("POST"))
        .and(path("/refunds"))
        .respond_with(ResponseTemplate::new(503))
        .mount_as_scoped(server)
        .await;
    let e = c.create_refund(&ten_dollars()).await.unwrap_err();
    drop(guard);
    e.pending().expect("pending").clone()
}

/// H1. "No wait driven by a number a server sends": the transport caps `Retry-After`, but recovery
/// hands the server's number to the application unchanged as `Recovery::Unknown::retry_after`, and
/// the recipe says "recover again after `retry_after`". A re-send answered 429 (or 409 "in progress")
/// with `Retry-After: 3153600000000` (100,000 years) parks the pending create for that long: it is
/// never resolved.
#[tokio::test]
async fn red_recovery_retry_after_is_the_servers_number() {
    let server = MockServer::start().await;
    let c = client(&server.uri());
    let pending = pending_from_503(&server, &c).await;
    let mut failures = Vec::new();
    for (status, value) in [
        (429, "3153600000000"),
        (409, "3153600000000"),
        (429, "Fri, 31 Dec 9999 23:59:59 GMT"),
    ] {
        let guard = Mock::given(method("POST"))
            .and(path("/refunds"))
            .respond_with(
                ResponseTemplate::new(status)
                    .insert_header("retry-after", value)
                    .set_body_json(json!({"error": {"code": "busy", "message": "later"}})),
            )
            .mount_as_scoped(&server)
            .await;
        let verdict = c.recover(&pending).await;
        drop(guard);
        eprintln!("{status} Retry-After {value}: {verdict}");
        let wait = verdict.retry_after().unwrap_or_default();
        if wait > Duration::from_secs(24 * 3600) {
            failures.push(format!(
                "{status} {value}: recover again in {} years: {verdict}",
                wait.as_secs() / (365 * 24 * 3600)
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// H2. Every error the client builds from what a server sent is scrubbed of the key (`Client::finish`),
/// except the stream's "the provider lies" errors (`stream.rs`, `lie`), which name a refund id the
/// server chose. A server that reflects the bearer token into a refund id, twice, puts the API key in
/// the stream's error, and through recovery in `Recovery::Unknown::detail` (which the CLI prints).
#[tokio::test]
async fn red_stream_lie_error_carries_the_api_key() {
    let server = MockServer::start().await;
    let item = json!({"id": KEY, "payment": "pay_other", "amount": 500, "currency": "USD", "status": "succeeded"});
    Mock::given(method("GET"))
        .and(path("/refunds"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [item], "total": 5})))
        .mount(&server)
        .await;
    let c = client(&server.uri());
    let mut stream = c.refunds_stream(ListRefunds::new());
    let mut texts = Vec::new();
    while let Some(item) = stream.next().await {
        if let Err(e) = item {
            texts.push(format!("{e} / {e:?}"));
        }
    }
    drop(stream);
    let pending = PendingCreate::new(
        ten_dollars(),
        "reference",
        OffsetDateTime::now_utc() - Duration::from_secs(3 * 86400),
    );
    let verdict = c.recover(&pending).await;
    texts.push(verdict.to_string());
    for text in &texts {
        eprintln!("{text}");
    }
    assert!(
        texts.iter().all(|t| !t.contains(KEY)),
        "the API key is in an error / a verdict: {texts:?}"
    );
}

/// H3. Configuration is untrusted input: a retry policy with a huge backoff panics the call (the
/// jitter's `nanos + 1` overflows, then `% 0`) instead of refusing the setting or saturating.
#[tokio::test]
async fn red_huge_backoff_panics_the_create() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let c = ReferenceClient::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .retry(
            RetryPolicy::new()
                .max_retries(1)
                .base_delay(Duration::MAX)
                .max_delay(Duration::MAX),
        )
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let joined = tokio::spawn(async move { c.create_refund(&ten_dollars()).await.map(|_| ()) }).await;
    assert!(
        !joined.as_ref().is_err_and(|e| e.is_panic()),
        "the create panicked on a retry policy: {joined:?}"
    );
}

/// H4 (no break expected): hostile but valid pending-create times must not panic or answer
/// `NotApplied` against a list that holds the create's refund.
#[tokio::test]
async fn red_hostile_pending_times() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/refunds"))
        .and(query_param("offset", "0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [{"id": "re_1", "payment": "pay_1", "amount": 1000, "currency": "USD", "status": "succeeded"}],
            "total": 1
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let c = client(&server.uri());
    let base = {
        let e = c.create_refund(&ten_dollars()).await.unwrap_err();
        e.pending().expect("pending").clone()
    };
    let times = [
        "0000-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999999Z",
        "2000-01-01T00:00:00Z",
    ];
    for started in times {
        for ended in times {
            let mut value = serde_json::to_value(&base).unwrap();
            value["started_at"] = json!(started);
            value["ended_at"] = json!(ended);
            let text = value.to_string();
            let Ok(pending) = serde_json::from_str::<PendingCreate>(&text) else {
                continue;
            };
            for options in [
                RecoveryOptions::new(),
                RecoveryOptions::new().settle(Duration::MAX).clock_skew(Duration::MAX),
                RecoveryOptions::new().key_retention(Duration::MAX),
            ] {
                let verdict = c.recover_with(&pending, options).await;
                eprintln!("{started} .. {ended}: {verdict}");
                assert!(!matches!(verdict, Recovery::NotApplied { .. }), "{verdict}");
            }
        }
    }
}

/// H5 (needs a provider whose list total lags by one). The stream's documentation says "the total is
/// a hint", yet `offset::page` ends the walk as soon as a page reaches the total, and recovery calls
/// that walk "complete". A count that lags the list by one refund (a cached or separately queried
/// count) hides the newest refund of an oldest-first list whenever the list length is a multiple of
/// the page size: the create's own refund, on the page after, is never read, and the verdict is
/// `NotApplied` (evidence `CompleteWalk`).
#[tokio::test]
async fn red_stale_total_ends_the_walk_before_the_creates_refund() {
    let server = MockServer::start().await;
    let others: Vec<_> = (0..100)
        .map(|i| json!({"id": format!("re_other_{i}"), "payment": "pay_other", "amount": 1000, "currency": "USD", "status": "succeeded"}))
        .collect();
    Mock::given(method("GET"))
        .and(path("/refunds"))
        .and(query_param("offset", "0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": others, "total": 100})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/refunds"))
        .and(query_param("offset", "100"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [{"id": "re_ours", "payment": "pay_1", "amount": 1000, "currency": "USD", "status": "succeeded"}],
            "total": 101
        })))
        .mount(&server)
        .await;
    let c = client(&server.uri());
    // A create made two days ago (its key may be forgotten): recovery looks it up.
    let pending = PendingCreate::new(
        ten_dollars(),
        "reference",
        OffsetDateTime::now_utc() - Duration::from_secs(2 * 86400),
    )
    .marker(None);
    let pending = {
        let mut value = serde_json::to_value(&pending).unwrap();
        value["request"]["idempotency_key"] = json!("rfd_red_stale_total_key_0001");
        serde_json::from_value::<PendingCreate>(value).unwrap()
    };
    let verdict = c.recover(&pending).await;
    let asked: Vec<_> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.query().unwrap_or_default().to_owned())
        .collect();
    eprintln!("list requests: {asked:?}\nverdict: {verdict}");
    assert!(
        !verdict.is_not_applied(),
        "the create's refund is on the next page: {verdict}"
    );
}

/// H6 (measurement). A look-up keeps every plausible refund, raw JSON included, until the walk ends:
/// what it holds is bounded only by `max_pages` (200) × the response cap (8 MiB), about 1.6 GB, all of
/// it chosen by the server. Here 200 pages of 100 plausible refunds with a 4 KiB field each (≈ 0.4 MiB
/// a page): the verdict carries 20,000 candidates and the process holds what the server sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn red_lookup_holds_whatever_the_server_sends() {
    struct Pages;
    impl wiremock::Respond for Pages {
        fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
            let offset: usize = request
                .url
                .query_pairs()
                .find(|(k, _)| k == "offset")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0);
            let pad = "x".repeat(4096);
            let data: Vec<_> = (offset..offset + 100)
                .map(|i| json!({"id": format!("re_{i}"), "payment": "pay_1", "amount": 1000, "currency": "USD", "status": "succeeded", "pad": pad}))
                .collect();
            ResponseTemplate::new(200).set_body_json(json!({"data": data, "total": 1_000_000}))
        }
    }
    fn hwm_kib() -> u64 {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
            })
            .unwrap_or(0)
    }
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/refunds"))
        .respond_with(Pages)
        .mount(&server)
        .await;
    let c = client(&server.uri());
    let before = hwm_kib();
    let pending = PendingCreate::new(
        ten_dollars(),
        "reference",
        OffsetDateTime::now_utc() - Duration::from_secs(60),
    );
    let verdict = c.recover(&pending).await;
    let held = match &verdict {
        Recovery::Candidates { refunds, .. } => refunds.iter().map(|r| r.raw.get().len()).sum::<usize>(),
        _ => 0,
    };
    eprintln!(
        "verdict {} with {} refunds, {} KiB of raw JSON held; peak RSS {} -> {} KiB",
        verdict.name(),
        match &verdict {
            Recovery::Candidates { refunds, .. } => refunds.len(),
            _ => 0,
        },
        held / 1024,
        before,
        hwm_kib()
    );
}
