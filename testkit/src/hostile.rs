//! Hostile responses: arbitrary and mutated bodies fed to a provider's real response path.
//!
//! A tiny server on 127.0.0.1 answers every request with the body under test; the provider's client
//! (retries off) reads it. Whatever the body, the client must not panic, and a failure must be a typed
//! error that keeps the HTTP status and the request id.

use std::sync::{Arc, Mutex};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use refunds::ErrorKind;
use refunds::RefundId;
use refunds::RefundProvider;
use refunds::sandbox::{Ledger, Sandbox, SandboxRequest, SandboxResponse, Skin};
use refunds::{CreateRefund, ListRefunds};

/// The request id the hostile server sends on every answer.
pub const REQUEST_ID: &str = "req_hostile_1";

/// What a provider gives the hostile-response tests.
pub trait HostileTarget: Send + Sync {
    /// A client pointed at `base_url` with retries off.
    fn client(&self, base_url: &str) -> Arc<dyn RefundProvider>;
    /// Valid provider bodies (a refund object, a list page, an error body) to mutate.
    fn sample_bodies(&self) -> Vec<String>;
    /// A payment reference the client accepts, for targets that only create.
    fn payment(&self) -> refunds::PaymentRef;
}

#[derive(Clone, Default)]
struct Slot(Arc<Mutex<(u16, Vec<u8>)>>);

struct Echo(Slot);

impl Skin for Echo {
    fn provider(&self) -> &'static str {
        "hostile"
    }
    fn handle(&self, _request: &SandboxRequest, _ledger: &Ledger) -> SandboxResponse {
        let (status, body) = self.0.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        SandboxResponse::raw(status, "application/json", body).with_header("x-request-id", REQUEST_ID)
    }
    fn error_response(&self, status: u16, message: &str) -> SandboxResponse {
        SandboxResponse::raw(status, "text/plain", message.to_owned())
    }
}

/// Runs the provider's read path (retrieve, else list, else create) on one body.
async fn exercise(client: &dyn RefundProvider, payment: &refunds::PaymentRef) -> Result<(), refunds::Error> {
    let caps = &client.info().capabilities;
    if caps.retrieve {
        client
            .get_refund(&RefundId::new("re_hostile").expect("id"))
            .await
            .map(drop)
    } else if caps.list.is_some() {
        client.list_refunds(&ListRefunds::new()).await.map(drop)
    } else {
        client
            .create_refund(&CreateRefund::new(payment.clone()))
            .await
            .map(drop)
    }
}

fn check(status: u16, outcome: Result<(), refunds::Error>) -> Result<(), TestCaseError> {
    let Err(e) = outcome else { return Ok(()) };
    prop_assert!(
        !matches!(e.kind(), ErrorKind::InvalidRequest { .. } | ErrorKind::Configuration),
        "{e}"
    );
    prop_assert_eq!(e.http_status(), Some(status), "status kept: {:?}", e);
    // The header's id, or one the provider put in its error body (which it may prefer).
    prop_assert!(e.request_id().is_some(), "request id kept: {:?}", e);
    if (200..300).contains(&status) {
        prop_assert_eq!(e.request_id(), Some(REQUEST_ID), "request id kept: {:?}", e);
    }
    if (200..300).contains(&status) {
        prop_assert_eq!(
            e.kind(),
            &ErrorKind::Decode,
            "a bad 2xx body is a decode error: {:?}",
            e
        );
    }
    Ok(())
}

fn mutate(sample: &str, edits: &[(u8, usize, Vec<u8>)]) -> Vec<u8> {
    let mut bytes = sample.as_bytes().to_vec();
    for (op, at, data) in edits {
        let at = if bytes.is_empty() { 0 } else { at % (bytes.len() + 1) };
        match op % 6 {
            0 => bytes.truncate(at),
            1 => {
                let end = (at + data.len()).min(bytes.len());
                bytes.drain(at..end);
            }
            2 => {
                bytes.splice(at..at, data.iter().copied());
            }
            3 => {
                let huge = b"99999999999999999999999999";
                bytes.splice(at..at, huge.iter().copied());
            }
            4 => {
                bytes.splice(at..at, b"1e3".iter().copied());
            }
            _ => {
                if let Some(b) = bytes.get_mut(at) {
                    *b = data.first().copied().unwrap_or(b'"');
                }
            }
        }
    }
    bytes
}

fn deeply_nested(depth: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(depth * 2);
    v.extend(std::iter::repeat_n(b'[', depth));
    v.extend(std::iter::repeat_n(b']', depth));
    v
}

/// The fixed hostile bodies every provider meets: an HTML error page, an empty body, truncated JSON,
/// an over-large body, numbers too large for `i64`, exponents, deep nesting.
pub fn fixed_cases(samples: &[String]) -> Vec<(u16, Vec<u8>)> {
    let sample = samples.first().cloned().unwrap_or_else(|| "{}".into());
    let mut cases = vec![
        (200, b"<html><body><h1>502 Bad Gateway</h1></body></html>".to_vec()),
        (502, b"<html><body><h1>502 Bad Gateway</h1></body></html>".to_vec()),
        (200, Vec::new()),
        (500, Vec::new()),
        (200, sample.as_bytes()[..sample.len() / 2].to_vec()),
        (200, deeply_nested(100_000)),
        (
            200,
            format!("{{\"id\":\"re_1\",\"amount\":{}}}", "9".repeat(40)).into_bytes(),
        ),
        (
            200,
            b"{\"id\":\"re_1\",\"amount\":1e3,\"amount_received\":1E400}".to_vec(),
        ),
        (200, b"null".to_vec()),
        (200, b"[]".to_vec()),
        (404, b"{\"error\": null, \"detail\": [null, 1, {}]}".to_vec()),
        (
            422,
            b"{\"detail\": [{\"loc\": [1, null, {\"x\": []}], \"msg\": 5}]}".to_vec(),
        ),
    ];
    for s in samples {
        cases.push((200, s.replace(|c: char| c.is_ascii_digit(), "9").into_bytes()));
        cases.push((200, s.replacen(':', ":-", 3).into_bytes()));
    }
    let mut big = b"{\"id\":\"".to_vec();
    big.extend(std::iter::repeat_n(b'x', 11 * 1024 * 1024));
    big.extend_from_slice(b"\"}");
    cases.push((200, big));
    cases
}

/// Feeds the fixed cases and `cases` generated ones (arbitrary bytes, mutated samples, random statuses)
/// to the target. Panics with the failing input on a violation.
pub fn run(target: &dyn HostileTarget, cases: u32) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let slot = Slot::default();
    let sandbox = runtime
        .block_on(Sandbox::start(Echo(slot.clone()), Ledger::default()))
        .expect("bind");
    let client = target.client(&sandbox.base_url());
    let payment = target.payment();
    let samples = target.sample_bodies();

    for (status, body) in fixed_cases(&samples) {
        *slot.0.lock().unwrap_or_else(|p| p.into_inner()) = (status, body);
        let outcome = runtime.block_on(exercise(client.as_ref(), &payment));
        if let Err(e) = check(status, outcome) {
            panic!("fixed case with status {status}: {e}");
        }
    }

    let statuses = prop_oneof![
        Just(200u16),
        Just(201),
        Just(400),
        Just(401),
        Just(404),
        Just(409),
        Just(422),
        Just(429),
        Just(500),
        Just(503)
    ];
    let sample_count = samples.len().max(1);
    let edits = proptest::collection::vec(
        (
            any::<u8>(),
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 0..8),
        ),
        1..5,
    );
    let bodies = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..256),
        (0..sample_count, edits).prop_map({
            let samples = samples.clone();
            move |(i, edits)| mutate(samples.get(i).map_or("{}", |s| s.as_str()), &edits)
        }),
    ];
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&(statuses, bodies), |(status, body)| {
        *slot.0.lock().unwrap_or_else(|p| p.into_inner()) = (status, body);
        check(status, runtime.block_on(exercise(client.as_ref(), &payment)))
    });
    drop(sandbox);
    if let Err(e) = result {
        panic!("hostile body broke the client: {e}");
    }
}

/// One test feeding 10,000 generated bodies (plus the fixed ones) to a [`HostileTarget`] expression.
#[macro_export]
macro_rules! hostile_tests {
    ($target:expr) => {
        #[test]
        fn hostile_bodies_never_panic_and_stay_typed() {
            $crate::hostile::run(&$target, 10_000);
        }
    };
}
