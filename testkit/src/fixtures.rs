//! The documented-body oracle: a provider's own fixtures (request bodies, refund and list bodies,
//! error bodies taken from its docs and seeds) run against its real client over wiremock, never
//! against its sandbox, so that the sandbox and the client cannot share a mistake.
//!
//! A provider keeps one JSON file (usually `tests/fixtures/documented.json`) and calls
//! [`fixture_tests!`](crate::fixture_tests) from one of its own test files:
//!
//! ```text
//! refunds_testkit::fixture_tests!(include_str!("fixtures/documented.json"), |base| {
//!     XPayClient::builder().api_key("sk_test_1").base_url(base).currency(Currency::EGP)
//! });
//! ```
//!
//! The file is an object with three lists, each case named by `case`:
//!
//! - `requests`: `request` is a [`CreateRefund`] (serde form) and either `wire`, the exact JSON body
//!   expected on the wire (compared as JSON values), with optional `path` and `headers` (a name to a
//!   value, or `null` for "absent"), or `refused`, the field named by the `InvalidRequest` error
//!   raised before anything is sent. The server answers `answer` (the case's, else the file's, else
//!   `{}`); the create's own outcome is not judged.
//! - `responses`: `body` (a string kept verbatim, or JSON written compactly) answered with `status`
//!   (200) to `op`: `get` (default), `list` or `parse` (`refund_from_json`, offline). `expect` is
//!   matched against the serialized [`Refund`](refunds::Refund) (only the keys given; see below);
//!   for a list, `items` is a list of such expectations and `total` / `next` are compared when
//!   given. `raw` must be the body byte for byte (an item's raw, a slice of the page). `refused`
//!   (an error kind) expects that error instead, with the body kept.
//! - `errors`: `status` and `body` answered to `op` (`get` by default, `create` with a `request`),
//!   without retries: `kind` (the [`ErrorKind`] variant's name), and when given `code` (provider
//!   code), `field`, `request_id`, `message`, `delivery` (`Rejected`...), `retryable`, and `fields`
//!   (each field error's `field`, `message`, `code`, as far as given). The error
//!   keeps its HTTP status, names the provider, and keeps the body unless `body_kept` is `false`.
//!
//! Any case may name an `account_currency` the client is built with. The marker the engine writes
//! into a create's metadata (where the provider echoes metadata) is checked to be there and left out
//! of the comparison: it is fresh per create.
//!
//! Shorthands in `request` and `expect`: a money `{"minor": 2500, "currency": "USD"}` takes the ISO
//! exponent; in `expect`, `"payment": "pay_1"` compares the payment's id, `"amount": 2500` the
//! minor units and `"currency": "USD"` the amount's currency code.

use std::future::Future;

use refunds::adapter::{AccountCurrency, Client, ClientBuilder, HttpProvider, MARKER_KEY};
use refunds::{CreateRefund, Currency, Delivery, ErrorKind, ListRefunds, MarkerField, RefundId, RefundProvider};
use serde_json::Value;
use wiremock::matchers::{any, method, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// One `#[tokio::test]` per fixture list (`documented_requests`, `documented_responses`,
/// `documented_errors`), for the fixture text and the builder function given (a base URL to a
/// [`ClientBuilder`] with the key and account settings; the runner sets the retries).
#[macro_export]
macro_rules! fixture_tests {
    ($fixtures:expr, $builder:expr $(,)?) => {
        $crate::fixture_tests!(@one documented_requests, requests, $fixtures, $builder);
        $crate::fixture_tests!(@one documented_responses, responses, $fixtures, $builder);
        $crate::fixture_tests!(@one documented_errors, errors, $fixtures, $builder);
    };
    (@one $name:ident, $list:ident, $fixtures:expr, $builder:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            $crate::fixtures::$list($fixtures, $builder).await;
        }
    };
}

/// The answers' and error bodies of a fixture file, as sent: what the hostile run mutates.
pub fn bodies(fixtures: &str) -> Vec<String> {
    let fixtures = parse(fixtures);
    let answers = cases(&fixtures, "responses").iter().chain(cases(&fixtures, "errors"));
    answers
        .map(|case| body_text(&case["body"]))
        .filter(|b| !b.is_empty())
        .collect()
}

/// A client builder pointed at `base_url` with the key of `P`'s sandbox: the documented-fixtures
/// runner's builder for a provider described once.
pub fn builder<P: refunds::adapter::Described>(base_url: &str) -> ClientBuilder<P> {
    ClientBuilder::new()
        .api_key(crate::sandbox_kit::<P>().api_key)
        .base_url(base_url)
}

/// The fixture text, parsed, with the money shorthands expanded.
/// A top-level `api_key` or `account_currency` is every case's where the case gives none (the
/// documented auth headers are made with the key).
fn parse(fixtures: &str) -> Value {
    let mut value: Value = serde_json::from_str(fixtures).expect("the fixture file is JSON");
    expand_money(&mut value);
    for setting in ["api_key", "account_currency"] {
        let Some(key) = value.get(setting).cloned() else {
            continue;
        };
        for list in ["requests", "responses", "errors"] {
            let cases = value.get_mut(list).and_then(Value::as_array_mut).into_iter().flatten();
            cases.filter_map(Value::as_object_mut).for_each(|case| {
                case.entry(setting).or_insert_with(|| key.clone());
            });
        }
    }
    value
}

/// `{"minor": n, "currency": "USD"}` becomes the serde form of [`refunds::Money`].
fn expand_money(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.contains_key("minor")
                && let Some(code) = map.get("currency").and_then(Value::as_str)
            {
                let currency = Currency::from_code(code).unwrap_or_else(|e| panic!("{code}: {e}"));
                map.insert("currency".into(), serde_json::to_value(currency).expect("currency"));
            }
            map.values_mut().for_each(expand_money);
        }
        Value::Array(items) => items.iter_mut().for_each(expand_money),
        _ => {}
    }
}

fn cases<'a>(fixtures: &'a Value, list: &str) -> &'a [Value] {
    fixtures
        .get(list)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn name(case: &Value) -> String {
    case["case"].as_str().unwrap_or("(unnamed case)").to_owned()
}

/// A body as sent: a string verbatim, anything else as compact JSON.
fn body_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A server answering every call with the case's answer; for a provider whose refunds take their
/// currency from their payment, a payment's GET answers the case's `account_currency` (USD if none),
/// so that the documented refund reads as documented.
async fn server<P: HttpProvider>(status: u16, body: &str, case: &Value) -> MockServer {
    let server = MockServer::start().await;
    if P::SPEC.currency == AccountCurrency::FromPayment {
        let code = case.get("account_currency").and_then(Value::as_str).unwrap_or("USD");
        let payment = ResponseTemplate::new(200).set_body_json(serde_json::json!({ "currency": code }));
        Mock::given(method("GET"))
            .and(path_regex(r"/payments/[^/]+/?$"))
            .respond_with(payment)
            .with_priority(1)
            .mount(&server)
            .await;
    }
    let answer = ResponseTemplate::new(status).set_body_raw(body.to_owned(), "application/json");
    Mock::given(any()).respond_with(answer).mount(&server).await;
    server
}

/// The requests the case's call made, its reads of payments left out.
async fn received(server: &MockServer) -> Vec<Request> {
    let all = server.received_requests().await.unwrap_or_default();
    all.into_iter()
        .filter(|r| !(r.method.as_str() == "GET" && r.url.path().contains("/payments/")))
        .collect()
}

/// The client for a case: no retries, and the case's `account_currency` and `api_key` when it gives
/// them.
fn build<P: HttpProvider>(mut builder: ClientBuilder<P>, case: &Value) -> Result<Client<P>, String> {
    if let Some(key) = case.get("api_key").and_then(Value::as_str) {
        builder = builder.api_key(key);
    }
    if let Some(code) = case.get("account_currency").and_then(Value::as_str) {
        builder = builder.currency(Currency::from_code(code).map_err(|e| e.to_string())?);
    }
    builder.max_retries(0).build().map_err(|e| format!("build: {e}"))
}

fn request(case: &Value) -> CreateRefund {
    let mut request = case["request"].clone();
    if let Some(map) = request.as_object_mut() {
        map.entry("metadata").or_insert_with(|| serde_json::json!({}));
    }
    serde_json::from_value(request).unwrap_or_else(|e| panic!("{}: request: {e}", name(case)))
}

/// Runs every case, then fails once naming all the failing cases.
async fn run_all<F: Future<Output = Result<(), String>>>(cases: &[Value], run: impl Fn(Value) -> F) {
    assert!(!cases.is_empty(), "the fixture list is empty");
    let mut failures = Vec::new();
    for case in cases {
        if let Err(why) = run(case.clone()).await {
            failures.push(format!("{}: {why}", name(case)));
        }
    }
    assert!(
        failures.is_empty(),
        "{} fixture(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn check(ok: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if ok { Ok(()) } else { Err(what()) }
}

/// Removes the engine's marker from a create body's metadata (an emptied `metadata` goes too): a
/// fresh value per create, which a documented body cannot hold. Whether there was one.
fn take_marker(body: &mut Value) -> bool {
    let Some(metadata) = body.get_mut("metadata").and_then(Value::as_object_mut) else {
        return false;
    };
    let taken = metadata
        .remove(MARKER_KEY)
        .is_some_and(|v| v.as_str().is_some_and(|m| !m.is_empty()));
    if metadata.is_empty() {
        if let Some(object) = body.as_object_mut() {
            object.remove("metadata");
        }
    }
    taken
}

/// The `requests` list: create bodies on the wire, and refusals before sending.
pub async fn requests<P: HttpProvider>(fixtures: &str, builder: impl Fn(&str) -> ClientBuilder<P>) {
    let fixtures = parse(fixtures);
    let default_answer = fixtures.get("answer").map(body_text).unwrap_or_else(|| "{}".into());
    run_all(cases(&fixtures, "requests"), |case| {
        let client = &builder;
        let default_answer = default_answer.clone();
        async move {
            let answer = case.get("answer").map(body_text).unwrap_or(default_answer);
            let server = server::<P>(200, &answer, &case).await;
            let client = build(client(&server.uri()), &case)?;
            let outcome = client.create_refund(&request(&case)).await;
            let received = received(&server).await;
            if let Some(field) = case.get("refused") {
                let e = outcome.err().ok_or("accepted, expected a refusal")?;
                check(e.field() == field.as_str(), || {
                    format!("refused naming {:?}: {e}", e.field())
                })?;
                check(matches!(e.kind(), ErrorKind::InvalidRequest { .. }), || {
                    format!("kind: {e}")
                })?;
                check(e.delivery() == Delivery::NotSent && e.pending().is_none(), || {
                    format!("delivery {:?}", e.delivery())
                })?;
                return check(received.is_empty(), || format!("{} request(s) sent", received.len()));
            }
            check(received.len() == 1, || {
                format!("{} requests sent, expected 1", received.len())
            })?;
            let sent = &received[0];
            check(sent.method.as_str() == "POST", || format!("method {}", sent.method))?;
            if let Some(path) = case.get("path").and_then(Value::as_str) {
                check(sent.url.path() == path, || format!("path {}", sent.url.path()))?;
            }
            let mut body: Value = serde_json::from_slice(&sent.body).map_err(|e| format!("body is not JSON: {e}"))?;
            let marked = take_marker(&mut body);
            let wants_marker = matches!(P::SPEC.marker, Some(MarkerField::Metadata(_))) && P::SPEC.carries.metadata;
            check(marked == wants_marker, || {
                format!("marker written: {marked}, expected {wants_marker}")
            })?;
            check(body == case["wire"], || {
                format!("body on the wire:\n  {body}\nexpected\n  {}", case["wire"])
            })?;
            for (header, expected) in case.get("headers").and_then(Value::as_object).into_iter().flatten() {
                let got = sent.headers.get(header.as_str()).and_then(|v| v.to_str().ok());
                check(got == expected.as_str(), || {
                    format!("header {header}: {got:?}, expected {expected}")
                })?;
            }
            Ok(())
        }
    })
    .await;
}

/// The `responses` list: documented refund and list bodies, normalized.
pub async fn responses<P: HttpProvider>(fixtures: &str, builder: impl Fn(&str) -> ClientBuilder<P>) {
    let fixtures = parse(fixtures);
    run_all(cases(&fixtures, "responses"), |case| {
        let client = &builder;
        async move {
            let body = body_text(&case["body"]);
            let status = case.get("status").and_then(Value::as_u64).unwrap_or(200) as u16;
            let server = server::<P>(status, &body, &case).await;
            let client = build(client(&server.uri()), &case)?;
            let id = RefundId::new(case.get("id").and_then(Value::as_str).unwrap_or("re_fixture")).expect("id");
            let op = case.get("op").and_then(Value::as_str).unwrap_or("get");
            let outcome = match op {
                "get" => client.get_refund(&id).await.map(|r| vec![r]).map(|r| (r, None, None)),
                "parse" => client.refund_from_json(body.as_bytes()).map(|r| (vec![r], None, None)),
                "list" => client
                    .list_refunds(&ListRefunds::new())
                    .await
                    .map(|page| (page.items, page.next.map(|n| n.as_str().to_owned()), page.total)),
                other => panic!("unknown op {other:?}"),
            };
            if let Some(kind) = case.get("refused").and_then(Value::as_str) {
                let e = outcome.err().ok_or("read, expected a refusal")?;
                check(kind_name(e.kind()) == kind, || format!("kind {:?}: {e}", e.kind()))?;
                check(e.provider() == Some(P::SPEC.id), || {
                    format!("provider {:?}", e.provider())
                })?;
                return check(e.body() == Some(body.as_str()), || format!("body kept: {:?}", e.body()));
            }
            let (refunds, next, total) = outcome.map_err(|e| format!("{e} ({e:?})"))?;
            let expected: Vec<&Value> = match op {
                "list" => case["items"]
                    .as_array()
                    .map(|items| items.iter().collect())
                    .unwrap_or_default(),
                _ => vec![&case["expect"]],
            };
            check(refunds.len() == expected.len(), || {
                format!("{} refunds read", refunds.len())
            })?;
            for (index, (refund, expect)) in refunds.iter().zip(expected).enumerate() {
                let raw = refund.raw.get();
                let kept = if op == "list" { body.contains(raw) } else { raw == body };
                check(kept, || format!("item {index}: raw not kept byte for byte: {raw}"))?;
                check(refund.provider == P::SPEC.id, || {
                    format!("item {index}: provider {}", refund.provider)
                })?;
                let got = serde_json::to_value(refund).expect("a refund serializes");
                matches(&got, expect).map_err(|why| format!("item {index}: {why}"))?;
            }
            if let Some(expected) = case.get("next") {
                check(next.as_deref() == expected.as_str(), || format!("next {next:?}"))?;
            }
            if let Some(expected) = case.get("total") {
                check(total == expected.as_u64(), || format!("total {total:?}"))?;
            }
            Ok(())
        }
    })
    .await;
}

/// The `errors` list: documented error bodies, each answered once without retries.
pub async fn errors<P: HttpProvider>(fixtures: &str, builder: impl Fn(&str) -> ClientBuilder<P>) {
    let fixtures = parse(fixtures);
    run_all(cases(&fixtures, "errors"), |case| {
        let client = &builder;
        async move {
            let body = body_text(&case["body"]);
            let status = case["status"].as_u64().ok_or("no status")? as u16;
            let server = server::<P>(status, &body, &case).await;
            let client = build(client(&server.uri()), &case)?;
            let outcome = match case.get("op").and_then(Value::as_str).unwrap_or("get") {
                "create" => client.create_refund(&request(&case)).await,
                _ => client.get_refund(&RefundId::new("re_fixture").expect("id")).await,
            };
            let e = outcome.err().ok_or("read as a refund, expected an error")?;
            let kind = case["kind"].as_str().unwrap_or_default();
            check(kind_name(e.kind()) == kind, || format!("kind {:?}: {e}", e.kind()))?;
            check(e.http_status() == Some(status), || {
                format!("status {:?}", e.http_status())
            })?;
            check(e.provider() == Some(P::SPEC.id), || {
                format!("provider {:?}", e.provider())
            })?;
            for (key, got) in [
                ("code", e.provider_code()),
                ("field", e.field()),
                ("request_id", e.request_id()),
                ("message", Some(e.message())),
            ] {
                if let Some(expected) = case.get(key) {
                    check(got == expected.as_str(), || {
                        format!("{key}: {got:?}, expected {expected}")
                    })?;
                }
            }
            if let Some(fields) = case.get("fields").and_then(Value::as_array) {
                let got: Vec<Value> = e
                    .field_errors()
                    .iter()
                    .map(|f| serde_json::json!({"field": f.field, "message": f.message, "code": f.code}))
                    .collect();
                check(got.len() == fields.len(), || format!("field errors {got:?}"))?;
                for (got, expected) in got.iter().zip(fields) {
                    subset(got, expected).map_err(|why| format!("field error{why}"))?;
                }
            }
            if let Some(delivery) = case.get("delivery").and_then(Value::as_str) {
                check(format!("{:?}", e.delivery()) == delivery, || {
                    format!("delivery {:?}", e.delivery())
                })?;
            }
            if let Some(retryable) = case.get("retryable").and_then(Value::as_bool) {
                check(e.is_retryable() == retryable, || {
                    format!("retryable {}", e.is_retryable())
                })?;
            }
            if case.get("body_kept").and_then(Value::as_bool) != Some(false) {
                check(e.body() == Some(body.as_str()), || format!("body kept: {:?}", e.body()))?;
            }
            Ok(())
        }
    })
    .await;
}

/// The variant's name: `InvalidRequest` for `InvalidRequest { field }`.
pub fn kind_name(kind: &ErrorKind) -> String {
    let debug = format!("{kind:?}");
    debug.split([' ', '{', '(']).next().unwrap_or_default().to_owned()
}

/// `got` (a serialized refund) has every key of `expect`, with the shorthands of the module docs.
fn matches(got: &Value, expect: &Value) -> Result<(), String> {
    let Some(expect) = expect.as_object() else {
        return Ok(());
    };
    for (key, expected) in expect {
        let got_value = match (key.as_str(), expected) {
            ("payment", Value::String(_)) => got["payment"]["id"].clone(),
            ("amount", Value::Number(_)) => got["amount"]["minor"].clone(),
            ("currency", _) => got["amount"]["currency"]["code"].clone(),
            ("fee", Value::Number(_)) => got["fee"]["minor"].clone(),
            _ => got.get(key).cloned().unwrap_or(Value::Null),
        };
        subset(&got_value, expected).map_err(|why| format!("{key}{why}"))?;
    }
    Ok(())
}

fn subset(got: &Value, expected: &Value) -> Result<(), String> {
    match (got, expected) {
        (Value::Object(got), Value::Object(expected)) if !expected.is_empty() => {
            for (key, value) in expected {
                let inner = got.get(key).unwrap_or(&Value::Null);
                subset(inner, value).map_err(|why| format!(".{key}{why}"))?;
            }
            Ok(())
        }
        _ => check(got == expected, || format!(": {got}, expected {expected}")),
    }
}
