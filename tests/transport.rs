//! The transport against a local server: path encoding, retries, redirects, size cap, redaction.

use std::time::Duration;

use refunds::adapter::{ApiRequest, Auth, RetryPolicy, Transport, TransportConfig};
use refunds::{Delivery, Error, ErrorKind};
use wiremock::matchers::{any, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk_test_transport_secret_42";

fn decode(response: &refunds::adapter::ApiResponse) -> Error {
    Error::new(
        refunds::adapter::kind_for_status(response.status),
        Delivery::Rejected,
        String::from_utf8_lossy(&response.body),
    )
}

fn transport(server: &MockServer, retries: u32) -> Transport {
    let config = TransportConfig::new(&server.uri())
        .unwrap()
        .retry(
            RetryPolicy::new()
                .max_retries(retries)
                .base_delay(Duration::from_millis(1))
                .max_delay(Duration::from_millis(2)),
        )
        .max_response_bytes(64 * 1024);
    Transport::new("test", config, Auth::api_key_header("X-Api-Key", KEY).unwrap(), decode).unwrap()
}

#[tokio::test]
async fn an_id_with_path_syntax_is_one_encoded_segment() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/refunds/..%2F..%2Fadmin%3Fx=1"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .expect(1)
        .mount(&server)
        .await;
    let t = transport(&server, 0);
    let response = t
        .send(&ApiRequest::get(&["v1", "refunds", "../../admin?x=1"]))
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    let received = &server.received_requests().await.unwrap()[0];
    assert_eq!(received.url.query(), None, "the id added no query");
}

#[tokio::test]
async fn gets_are_retried_on_503_and_creates_are_not() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .mount(&server)
        .await;
    let t = transport(&server, 2);
    assert!(t.send(&ApiRequest::get(&["r"])).await.is_ok());
    assert_eq!(server.received_requests().await.unwrap().len(), 2);

    server.reset().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let create = ApiRequest::post(&["r"])
        .json(&serde_json::json!({"amount": 1}))
        .unwrap();
    let e = t.send(&create).await.unwrap_err();
    assert_eq!(e.delivery(), Delivery::Ambiguous);
    assert!(!e.is_retryable(), "a create without an honoured key is never re-sent");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);

    let keyed = create.replay_safe(true);
    let e = t.send(&keyed).await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::ProviderUnavailable);
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1 + 3,
        "a replay-safe create: 1 + 2 retries"
    );
}

#[tokio::test]
async fn retry_after_is_honoured_and_capped() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .mount(&server)
        .await;
    let t = transport(&server, 2);
    let started = std::time::Instant::now();
    t.send(&ApiRequest::get(&["r"])).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "waited for Retry-After"
    );

    server.reset().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "3600"))
        .mount(&server)
        .await;
    let e = t.send(&ApiRequest::get(&["r"])).await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::RateLimited);
    assert_eq!(e.retry_after(), Some(Duration::from_secs(3600)));
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "an hour is past the cap: left to the caller"
    );
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let server = MockServer::start().await;
    Mock::given(path("/start"))
        .respond_with(
            ResponseTemplate::new(302).insert_header("Location", format!("{}/elsewhere", server.uri()).as_str()),
        )
        .mount(&server)
        .await;
    Mock::given(path("/elsewhere"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let e = transport(&server, 0)
        .send(&ApiRequest::get(&["start"]))
        .await
        .unwrap_err();
    assert_eq!(e.http_status(), Some(302));
}

#[tokio::test]
async fn oversized_bodies_are_cut_off() {
    let server = MockServer::start().await;
    let huge = "x".repeat(10 * 1024 * 1024 + 1);
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_string(huge))
        .mount(&server)
        .await;
    let e = transport(&server, 0)
        .send(&ApiRequest::get(&["big"]))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Decode);
    assert!(e.message().contains("larger than"), "{e}");
}

#[tokio::test]
async fn an_echoed_key_is_redacted_from_errors() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(401).set_body_string(format!("{{\"detail\":\"bad key {KEY}\"}}")))
        .mount(&server)
        .await;
    let e = transport(&server, 0).send(&ApiRequest::get(&["r"])).await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Authentication);
    let shown = format!("{e} {e:?}");
    assert!(!shown.contains(KEY), "{shown}");
    assert!(shown.contains("[redacted]"));
    let sent = &server.received_requests().await.unwrap()[0];
    assert_eq!(
        sent.headers.get("x-api-key").unwrap(),
        KEY,
        "the key does go on the wire"
    );
}

#[tokio::test]
async fn connection_refused_is_not_sent_and_retryable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let config = TransportConfig::new(&format!("http://{addr}"))
        .unwrap()
        .retry(RetryPolicy::none());
    let t = Transport::new("test", config, Auth::bearer(KEY).unwrap(), decode).unwrap();
    let e = t.send(&ApiRequest::post(&["r"])).await.unwrap_err();
    assert_eq!(e.delivery(), Delivery::NotSent, "{e:?}");
    assert!(e.is_retryable());
}

#[test]
fn plain_http_is_refused_off_loopback() {
    let e = TransportConfig::new("http://api.example.com").unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Configuration);
}

/// A one-connection HTTP/1.1 server that writes `head`, then each of `pieces` after a pause, so the
/// client reads the body in several chunks.
async fn piecewise_server(head: String, pieces: Vec<Vec<u8>>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = [0u8; 4096];
        let _ = socket.read(&mut request).await;
        socket.write_all(head.as_bytes()).await.unwrap();
        for piece in pieces {
            socket.flush().await.unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
            if socket.write_all(&piece).await.is_err() {
                return;
            }
        }
        let _ = socket.flush().await;
    });
    base
}

fn plain_transport(base: &str) -> Transport {
    let config = TransportConfig::new(base)
        .unwrap()
        .retry(RetryPolicy::none())
        .max_response_bytes(64 * 1024);
    Transport::new("test", config, Auth::api_key_header("X-Api-Key", KEY).unwrap(), decode).unwrap()
}

fn chunked(pieces: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut framed: Vec<Vec<u8>> = pieces
        .iter()
        .map(|p| [format!("{:x}\r\n", p.len()).into_bytes(), p.to_vec(), b"\r\n".to_vec()].concat())
        .collect();
    framed.push(b"0\r\n\r\n".to_vec());
    framed
}

#[tokio::test]
async fn a_body_in_several_chunks_is_read_whole_and_in_order() {
    let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
    let base = piecewise_server(head.into(), chunked(&[b"{\"id\":", b"\"re_1\",", b"\"n\":2}"])).await;
    let response = plain_transport(&base).send(&ApiRequest::get(&["r"])).await.unwrap();
    assert_eq!(&response.body[..], b"{\"id\":\"re_1\",\"n\":2}");

    let body = b"{\"id\":\"re_2\"}";
    let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len());
    let base = piecewise_server(head, vec![body[..5].to_vec(), body[5..].to_vec()]).await;
    let response = plain_transport(&base).send(&ApiRequest::get(&["r"])).await.unwrap();
    assert_eq!(&response.body[..], body, "a declared length arriving in two pieces");
}

#[tokio::test]
async fn a_chunked_body_without_a_length_is_cut_off_at_the_cap() {
    let head = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n";
    let piece = vec![b'x'; 40 * 1024];
    let base = piecewise_server(head.into(), chunked(&[&piece, &piece])).await;
    let e = plain_transport(&base).send(&ApiRequest::get(&["r"])).await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Decode);
    assert!(e.message().contains("larger than"), "{e}");
}
