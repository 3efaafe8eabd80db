//! The whole-call delivery rules of the engine (issue "Engine" §3), on the wire, for a provider that
//! honours idempotency keys (`Reference`) and one that documents none (`ReferenceOnce`).
//!
//! Each rule failed on the pre-engine transport, which judged a call by its last attempt.

mod common;

use std::time::{Duration, Instant};

use common::reference::{Reference, ReferenceClient, ReferenceOnce, reference_variant};
use refunds::adapter::{Client, HttpProvider, Idempotency, RetryPolicy};
use refunds::{CreateRefund, Currency, Delivery, Error, ErrorKind, IdempotencyKey, Money, PaymentRef, RefundProvider};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk_test_delivery_0123456789";

fn retry(n: u32) -> RetryPolicy {
    RetryPolicy::new()
        .max_retries(n)
        .base_delay(Duration::from_millis(1))
        .max_delay(Duration::from_millis(5))
}

fn keyed(server: &MockServer) -> ReferenceClient {
    Client::<Reference>::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .retry(retry(3))
        .attempt_timeout(Duration::from_millis(300))
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

fn once(server: &MockServer) -> Client<ReferenceOnce> {
    Client::<ReferenceOnce>::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .retry(retry(3))
        .attempt_timeout(Duration::from_millis(300))
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

fn create() -> CreateRefund {
    CreateRefund::new(PaymentRef::payment("pay_1").unwrap()).amount(Money::from_minor(500, Currency::USD))
}

fn refund_body() -> serde_json::Value {
    json!({"id": "re_1", "payment": "pay_1", "amount": 500, "currency": "USD", "status": "pending"})
}

fn error_body(code: &str) -> serde_json::Value {
    json!({"error": {"code": code, "message": code}})
}

/// A first attempt that the client gives up on (it may have been applied), then `then` for the rest.
async fn lost_then(server: &MockServer, then: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path("/refunds"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(refund_body())
                .set_delay(Duration::from_secs(2)),
        )
        .up_to_n_times(1)
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/refunds"))
        .respond_with(then)
        .mount(server)
        .await;
}

async fn keys_sent(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter_map(|r| r.headers.get("idempotency-key").map(|v| v.to_str().unwrap().to_owned()))
        .collect()
}

#[tokio::test]
async fn a_lost_attempt_keeps_the_call_ambiguous_whatever_follows() {
    let later = [
        ResponseTemplate::new(429)
            .insert_header("retry-after", "120")
            .set_body_json(error_body("rate_limited")),
        ResponseTemplate::new(400).set_body_json(error_body("bad")),
        ResponseTemplate::new(401).set_body_json(error_body("unauthorized")),
    ];
    for then in later {
        let server = MockServer::start().await;
        lost_then(&server, then).await;
        let e = keyed(&server)
            .create_refund(&create())
            .await
            .expect_err("not a success");
        assert_eq!(e.delivery(), Delivery::Ambiguous, "{e}");
        assert!(!e.is_retryable(), "the original request would carry a fresh key: {e}");
        let pending = e.pending().expect("pending create");
        let keys = keys_sent(&server).await;
        assert!(keys.len() >= 2, "{keys:?}");
        assert!(
            keys.iter().all(|k| k == &keys[0]),
            "one key for every attempt: {keys:?}"
        );
        assert_eq!(
            pending.request.idempotency_key_given().map(|k| k.as_str()),
            Some(keys[0].as_str())
        );
        assert_eq!(pending.provider, "reference");
    }
}

#[tokio::test]
async fn a_same_key_409_after_a_lost_attempt_is_retried_then_ambiguous() {
    let server = MockServer::start().await;
    lost_then(
        &server,
        ResponseTemplate::new(409).set_body_json(error_body("idempotency_conflict")),
    )
    .await;
    let e = keyed(&server)
        .create_refund(&create())
        .await
        .expect_err("still in progress");
    assert_eq!(e.delivery(), Delivery::Ambiguous, "never Rejected: {e}");
    assert_eq!(e.kind(), &ErrorKind::IdempotencyConflict);
    assert!(e.pending().is_some());
    assert_eq!(
        keys_sent(&server).await.len(),
        4,
        "the first attempt and every retry of the budget"
    );

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/refunds"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(refund_body())
                .set_delay(Duration::from_secs(2)),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/refunds"))
        .respond_with(ResponseTemplate::new(409).set_body_json(error_body("idempotency_conflict")))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/refunds"))
        .respond_with(ResponseTemplate::new(200).set_body_json(refund_body()))
        .mount(&server)
        .await;
    let refund = keyed(&server)
        .create_refund(&create())
        .await
        .expect("the replay answers");
    assert_eq!(refund.id.as_str(), "re_1");
}

/// The verdict rules: a 409 to a keyed create says the key is in use (another request with it may be
/// running, or applied): it does not prove nothing was applied. It is waited out within the retry
/// budget like any "in progress" answer, and a call that ends on it is ambiguous and carries its
/// pending create.
#[tokio::test]
async fn a_409_on_a_first_attempt_may_hide_an_apply() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(409).set_body_json(error_body("idempotency_conflict")))
        .mount(&server)
        .await;
    let e = keyed(&server).create_refund(&create()).await.unwrap_err();
    assert_eq!(e.delivery(), Delivery::Ambiguous);
    assert_eq!(e.kind(), &ErrorKind::IdempotencyConflict);
    assert!(e.pending().is_some() && !e.is_retryable());
    let keys = keys_sent(&server).await;
    assert_eq!(keys.len(), 4, "the first attempt and three retries");
    assert!(keys.iter().all(|k| *k == keys[0]), "under one key: {keys:?}");
}

#[tokio::test]
async fn without_idempotency_a_create_that_may_have_been_processed_is_sent_once() {
    let answers = [
        ResponseTemplate::new(408),
        ResponseTemplate::new(500).set_body_json(error_body("boom")),
        ResponseTemplate::new(503),
        ResponseTemplate::new(302).insert_header("location", "/elsewhere"),
        ResponseTemplate::new(303).insert_header("location", "/refunds/re_1"),
        ResponseTemplate::new(200)
            .set_body_json(refund_body())
            .set_delay(Duration::from_secs(2)),
    ];
    for answer in answers {
        let server = MockServer::start().await;
        Mock::given(method("POST")).respond_with(answer).mount(&server).await;
        let e = once(&server)
            .create_refund(&create())
            .await
            .expect_err("no answer to trust");
        assert_eq!(e.delivery(), Delivery::Ambiguous, "{e}");
        assert_eq!(server.received_requests().await.unwrap().len(), 1, "sent once: {e}");
        assert!(e.pending().is_some());
        assert_eq!(e.provider(), Some("reference-once"));
    }
}

#[tokio::test]
async fn without_idempotency_only_a_429_is_sent_again() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).set_body_json(error_body("rate_limited")))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(refund_body()))
        .mount(&server)
        .await;
    once(&server).create_refund(&create()).await.expect("re-sent after 429");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_3xx_answer_to_a_keyed_create_is_ambiguous() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(303).insert_header("location", "/refunds/re_1"))
        .mount(&server)
        .await;
    let e = keyed(&server).create_refund(&create()).await.unwrap_err();
    assert_eq!(e.delivery(), Delivery::Ambiguous, "{e}");
}

#[tokio::test]
async fn the_timeout_bounds_the_whole_call_waits_included() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(503)
                .insert_header("retry-after", "6")
                .set_body_json(error_body("down")),
        )
        .mount(&server)
        .await;
    let client = Client::<Reference>::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .retry(retry(5))
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let started = Instant::now();
    let e = client
        .get_refund(&refunds::RefundId::new("re_1").unwrap())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::ProviderUnavailable);
    // A 6 s Retry-After does not fit in a 0.5 s call: it is not waited for.
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn every_error_names_its_provider_and_never_shows_the_key() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(400)
                .insert_header("request-id", format!("req_{KEY}"))
                .set_body_json(
                    json!({"error": {"code": format!("bad_{KEY}"), "message": format!("Bearer {KEY}"), "param": KEY}}),
                ),
        )
        .mount(&server)
        .await;
    let client = keyed(&server);
    let e = client
        .get_refund(&refunds::RefundId::new("re_1").unwrap())
        .await
        .unwrap_err();
    let shown = format!(
        "{e} {e:?} {:?} {:?} {:?} {:?}",
        e.body(),
        e.provider_code(),
        e.request_id(),
        e.field_errors()
    );
    assert!(!shown.contains(KEY), "{shown}");
    assert_eq!(e.provider(), Some("reference"));

    // A 2xx that does not decode, and an offline parse, also name the provider.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string(format!("{{\"echo\":\"{KEY}\"")))
        .mount(&server)
        .await;
    let e = keyed(&server)
        .get_refund(&refunds::RefundId::new("re_1").unwrap())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Decode);
    assert_eq!(e.provider(), Some("reference"));
    assert!(!format!("{e:?} {:?}", e.body()).contains(KEY));

    let e = client.refund_from_json(b"{\"id\": 1}").unwrap_err();
    assert_eq!(e.delivery(), Delivery::NotSent);
    assert_eq!(e.provider(), Some("reference"));
    assert_eq!(e.body(), Some("{\"id\": 1}"));
}

#[tokio::test]
async fn basic_auth_secrets_are_scrubbed_in_every_spelling() {
    let auth = refunds::adapter::Auth::basic("user_id_1234", "pw_secret_5678").unwrap();
    let forms = auth.secret_forms();
    let header = refunds::adapter::base64_encode(b"user_id_1234:pw_secret_5678");
    let e = Error::new(
        ErrorKind::Other,
        Delivery::Rejected,
        format!("Basic {header} pw_secret_5678"),
    )
    .with_provider_code(Some("pw_secret_5678".into()))
    .redact_all(&forms);
    let shown = format!("{e} {e:?}");
    assert!(!shown.contains("pw_secret_5678") && !shown.contains(&header), "{shown}");
}

/// With a system proxy configured, a loopback target is still reached directly (run in a child
/// process, since the proxy comes from the environment).
#[test]
fn loopback_targets_bypass_system_proxies() {
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["loopback_child_through_dead_proxy", "--exact", "--test-threads=1"])
        .env("REFUNDS_PROXY_CHILD", "1")
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .env("http_proxy", "http://127.0.0.1:9")
        .env("ALL_PROXY", "http://127.0.0.1:9")
        .env("all_proxy", "http://127.0.0.1:9")
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn loopback_child_through_dead_proxy() {
    if std::env::var("REFUNDS_PROXY_CHILD").is_err() {
        return;
    }
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(refund_body()))
        .mount(&server)
        .await;
    let refund = keyed(&server)
        .get_refund(&refunds::RefundId::new("re_1").unwrap())
        .await;
    assert!(refund.is_ok(), "{refund:?}");
}

#[tokio::test]
async fn per_call_options_override_the_client_defaults() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503).set_body_json(error_body("down")))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(refund_body()))
        .mount(&server)
        .await;
    let client = keyed(&server);
    let id = refunds::RefundId::new("re_1").unwrap();
    let options = refunds::CallOptions::new().max_retries(0);
    client.get_refund_with(&id, &options).await.unwrap_err();
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "no retry for this call"
    );
    client.get_refund(&id).await.unwrap_err();
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        5,
        "the client's three retries"
    );

    let key = IdempotencyKey::new("order-42-refund-1").unwrap();
    let options = refunds::CallOptions::new().idempotency_key(key.clone());
    client.create_refund_with(&create(), &options).await.unwrap();
    assert_eq!(keys_sent(&server).await, vec![key.as_str().to_owned()]);

    // A provider without idempotency refuses a per-call key like any other.
    let e = once(&server).create_refund_with(&create(), &options).await.unwrap_err();
    assert_eq!(e.field(), Some("idempotency_key"));
    assert_eq!(e.delivery(), Delivery::NotSent);
}

#[tokio::test]
async fn proxies_and_root_certificates_are_checked_and_never_used_for_loopback() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(refund_body()))
        .mount(&server)
        .await;
    let builder = || Client::<Reference>::builder().api_key(KEY).base_url(server.uri());
    let e = builder().proxy("socks5://127.0.0.1:9").build().unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Configuration, "{e}");
    assert_eq!(e.provider(), Some("reference"));
    let e = builder()
        .add_root_certificate_pem("not a certificate")
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Configuration, "{e}");
    // A dead proxy: the loopback target is reached directly.
    let client = builder().proxy("http://127.0.0.1:9").build().unwrap();
    client
        .get_refund(&refunds::RefundId::new("re_1").unwrap())
        .await
        .unwrap();
}

// Providers whose spec only a mistake could write, otherwise the reference provider.
reference_variant!(BadHeaderName, "misdescribed", idempotency: Idempotency::Header("idempotency key"));
reference_variant!(BadRefundsPath, "misdescribed", refunds_path: &["v1", ".."]);

fn build<P: HttpProvider>() -> Result<Client<P>, Error> {
    Client::<P>::builder()
        .api_key(KEY)
        .base_url("http://127.0.0.1:9")
        .build()
}

/// The idempotency header and the refunds path are checked once, when the client is built: a spec
/// that gets either wrong fails `build()`, never a create halfway through a call.
#[test]
fn a_spec_with_a_bad_header_name_or_path_fails_when_the_client_is_built() {
    let refusals = [
        (build::<BadHeaderName>().err(), "idempotency header"),
        (build::<BadRefundsPath>().err(), "refunds path"),
    ];
    for (refusal, what) in refusals {
        let e = refusal.unwrap_or_else(|| panic!("a bad {what} is refused"));
        assert_eq!(e.kind(), &ErrorKind::Configuration, "{e}");
        assert_eq!(e.provider(), Some("misdescribed"));
        assert!(e.message().contains(what), "{e}");
    }
    build::<Reference>().expect("the same builder with the reference spec");
}

/// Finding 13: a read whose body stalls after the status line is retried like a reset one.
#[tokio::test]
async fn a_read_whose_body_stalls_after_200_is_retried() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let body = refund_body().to_string();
    let server = tokio::spawn(async move {
        let mut connections = 0;
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            connections += 1;
            let mut buf = vec![0u8; 4096];
            let _ = socket.read(&mut buf).await;
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                body.len()
            );
            if connections == 1 {
                // The status line and half the body, then nothing (the connection stays open).
                socket.write_all(head.as_bytes()).await.unwrap();
                socket.write_all(&body.as_bytes()[..body.len() / 2]).await.unwrap();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_secs(10)).await;
                    drop(socket);
                });
            } else {
                socket.write_all(format!("{head}{body}").as_bytes()).await.unwrap();
                return connections;
            }
        }
    });
    let client = Client::<Reference>::builder()
        .api_key(KEY)
        .base_url(format!("http://{addr}"))
        .retry(retry(2))
        .attempt_timeout(Duration::from_millis(300))
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let refund = client
        .get_refund(&refunds::RefundId::new("re_1").unwrap())
        .await
        .unwrap();
    assert_eq!(refund.id.as_str(), "re_1");
    assert_eq!(server.await.unwrap(), 2, "retried on a new connection");
}
