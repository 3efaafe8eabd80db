//! Raw HTTP/1.1 requests to a provider's sandbox, for what the SDK's own clients never send (a form
//! body, a missing field, a wrong auth scheme): the skin must still answer them in the provider's
//! shape. The requests go over a plain socket, independent of the SDK's transport.
//!
//! A table is a JSON list; each row names its `case` and holds `request` (`"POST /v1/refunds"`),
//! optional `headers` (a name to a value), optional `body` (a string sent verbatim, anything else as
//! compact JSON), the expected `status`, and optional `expect`: JSON pointers into the answer's body
//! (`""` for the whole body) with their expected values. In a header value, `{key}` stands for the
//! sandbox key and `{basic}` for the Basic credentials of the key with an empty password.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use refunds::adapter::base64_encode;
use refunds::sandbox::Sandbox;
use serde_json::Value;

/// Sends `head` (the request line and headers, without the framing headers) and `body` to `addr`
/// in one connection; the status and the body as JSON (`null` when it is not JSON).
pub async fn send(addr: SocketAddr, head: String, body: String) -> (u16, Value) {
    let exchange = move || {
        let mut stream = TcpStream::connect(addr).expect("connect to the sandbox");
        let request = format!(
            "{head}\r\nhost: {addr}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).expect("send");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("an answer");
        answer
    };
    let answer = tokio::task::spawn_blocking(exchange).await.expect("the exchange");
    let status = answer.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let json = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, serde_json::from_str(json).unwrap_or_default())
}

/// Runs every row of `table` against `sandbox`, whose skin takes `key`; fails once, naming each row
/// whose answer differs.
pub async fn assert_answers(sandbox: &Sandbox, key: &str, table: &Value) {
    let rows = table.as_array().expect("a list of rows");
    assert!(!rows.is_empty(), "the table is empty");
    let basic = base64_encode(format!("{key}:").as_bytes());
    let mut failures = Vec::new();
    for row in rows {
        let case = row["case"].as_str().unwrap_or("(unnamed row)");
        let mut head = row["request"].as_str().expect("a request line").to_owned() + " HTTP/1.1";
        for (name, value) in row["headers"].as_object().into_iter().flatten() {
            let value = value.as_str().expect("a header value");
            head += &format!("\r\n{name}: {}", value.replace("{key}", key).replace("{basic}", &basic));
        }
        let body = match &row["body"] {
            Value::Null => String::new(),
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        let (status, answer) = send(sandbox.addr(), head, body).await;
        if Some(u64::from(status)) != row["status"].as_u64() {
            failures.push(format!("{case}: status {status}, expected {}: {answer}", row["status"]));
        }
        for (pointer, expected) in row["expect"].as_object().into_iter().flatten() {
            let got = answer.pointer(pointer).unwrap_or(&Value::Null);
            if got != expected {
                failures.push(format!("{case}: {pointer:?} is {got}, expected {expected}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
