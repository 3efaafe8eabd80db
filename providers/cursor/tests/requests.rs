//! Request facts on the wire (method, path, auth header, content type, body fields, amount encoding,
//! query parameters, no idempotency key), configuration checks, and bad input refused before
//! anything is sent.

use refunds::adapter::base64_encode;
use refunds::testkit::bad_input::Row;
use refunds::{
    CreateRefund, Currency, Delivery, ErrorKind, IdempotencyKey, ListRefunds, Money, PageCursor, PaymentRef, RefundId,
    RefundProvider, RefundReason, RefundStatus,
};
use refunds_cursor::{AuthScheme, CursorClient, CursorClientBuilder, ExpandStyle};
use serde_json::{Value, json};
use wiremock::matchers::{any, body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const KEY: &str = "sk_test_cursor_requests_91b3";

fn usd(minor: i64) -> Money {
    Money::from_minor(minor, Currency::USD)
}

fn pay(id: &str) -> PaymentRef {
    PaymentRef::payment(id).unwrap()
}

fn refund_json(id: &str, payment: &str, amount: i64) -> Value {
    json!({
        "object": "refund", "id": id, "live": false, "created_at": 1_717_171_717_171_i64,
        "amount": amount, "failed_reason": null, "payment": payment, "status": "pending",
    })
}

fn builder(server: &MockServer) -> CursorClientBuilder {
    CursorClient::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .currency(Currency::USD)
        .max_retries(0)
}

fn client(server: &MockServer) -> CursorClient {
    builder(server).build().unwrap()
}

async fn only_request(server: &MockServer) -> Request {
    let mut received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 1, "{received:?}");
    received.remove(0)
}

#[tokio::test]
async fn a_partial_create_sends_payment_and_integer_minor_units_only() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/refunds"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .and(header("content-type", "application/json"))
        .and(header("accept", "application/json"))
        .and(body_json(json!({"payment": "pay_1", "amount": 1250})))
        .respond_with(ResponseTemplate::new(200).set_body_json(refund_json("re_1", "pay_1", 1250)))
        .expect(1)
        .mount(&server)
        .await;
    // Fields the document does not list are not sent, nor is the key (no idempotency documented).
    let request = CreateRefund::new(pay("pay_1"))
        .amount(Money::from_major_str("12.50", Currency::USD).unwrap())
        .reason(RefundReason::Duplicate)
        .merchant_reference("order-1")
        .description("a description")
        .metadata("k", "v")
        .idempotency_key(IdempotencyKey::new("key-1").unwrap());
    let refund = client(&server).create_refund(&request).await.unwrap();
    assert_eq!(refund.amount, usd(1250));
    let received = only_request(&server).await;
    assert!(received.headers.get("idempotency-key").is_none());
    assert_eq!(
        std::str::from_utf8(&received.body).unwrap(),
        r#"{"payment":"pay_1","amount":1250}"#
    );
}

#[tokio::test]
async fn a_full_create_omits_the_amount() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/refunds"))
        .and(body_json(json!({"payment": "pay_full"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(refund_json("re_2", "pay_full", 9900)))
        .expect(1)
        .mount(&server)
        .await;
    let refund = client(&server)
        .create_refund(&CreateRefund::new(pay("pay_full")))
        .await
        .unwrap();
    assert_eq!(refund.amount, usd(9900));
}

#[tokio::test]
async fn each_auth_scheme_sends_its_header() {
    let server = MockServer::start().await;
    let id = RefundId::new("re_a").unwrap();
    let basic = format!("Basic {}", base64_encode(format!("{KEY}:").as_bytes()));
    let cases = [
        (AuthScheme::Bearer, "authorization", format!("Bearer {KEY}")),
        (AuthScheme::Basic, "authorization", basic),
        (AuthScheme::Header("X-Api-Key".into()), "x-api-key", KEY.to_owned()),
    ];
    for (scheme, name, value) in cases {
        server.reset().await;
        Mock::given(method("GET"))
            .and(header(name, value.as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(refund_json("re_a", "pay_a", 1)))
            .expect(1)
            .mount(&server)
            .await;
        let client = builder(&server).auth(scheme.clone()).build().unwrap();
        client.get_refund(&id).await.unwrap();
        let received = only_request(&server).await;
        if name != "authorization" {
            assert!(received.headers.get("authorization").is_none(), "{scheme:?}");
        }
        assert!(!format!("{client:?}").contains(KEY));
        server.verify().await;
    }
}

#[tokio::test]
async fn paths_are_configurable_and_ids_stay_one_segment() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v2/refund-requests"))
        .respond_with(ResponseTemplate::new(200).set_body_json(refund_json("re/1?x", "pay_1", 5)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/refund-requests/re%2F1%3Fx/detail"))
        .respond_with(ResponseTemplate::new(200).set_body_json(refund_json("re/1?x", "pay_1", 5)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/refund-list"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [], "has_more": false})))
        .expect(1)
        .mount(&server)
        .await;
    let client = builder(&server)
        .base_url(format!("{}/api", server.uri()))
        .create_path("/v2/refund-requests")
        .retrieve_path("/v2/refund-requests/{id}/detail")
        .list_path("/v2/refund-list")
        .build()
        .unwrap();
    let created = client.create_refund(&CreateRefund::new(pay("pay_1"))).await.unwrap();
    let got = client.get_refund(&created.id).await.unwrap();
    assert_eq!(got.id.as_str(), "re/1?x");
    assert!(client.list_refunds(&ListRefunds::new()).await.unwrap().items.is_empty());
}

#[tokio::test]
async fn bad_paths_and_missing_settings_fail_to_build() {
    let base = || {
        CursorClient::builder()
            .api_key(KEY)
            .base_url("https://api.example.com/v1")
            .currency(Currency::USD)
    };
    assert!(base().build().is_ok());
    let configuration = |b: CursorClientBuilder| {
        let e = b.build().expect_err("refused");
        assert_eq!(e.kind(), &ErrorKind::Configuration, "{e}");
        assert_eq!(e.delivery(), Delivery::NotSent);
        assert!(!e.to_string().contains(KEY));
        e
    };
    configuration(base().create_path("refunds"));
    configuration(base().create_path("/refunds/{id}"));
    configuration(base().retrieve_path("/refunds"));
    configuration(base().retrieve_path("/refunds/{id}/../x"));
    configuration(base().list_path("/refunds?limit=5"));
    configuration(base().auth(AuthScheme::Header("bad header".into())));
    configuration(base().base_url("http://api.example.com"));

    let e = configuration(CursorClient::builder().api_key(KEY).currency(Currency::USD));
    assert!(e.message().contains("CURSOR_REFUNDS_BASE_URL"), "{e}");
    let e = configuration(CursorClient::builder().api_key(KEY).base_url("https://api.example.com"));
    assert!(e.message().contains("CURSOR_REFUNDS_CURRENCY"), "{e}");
    let e = configuration(
        CursorClient::builder()
            .base_url("https://api.example.com")
            .currency(Currency::USD),
    );
    assert!(e.message().contains("CURSOR_REFUNDS_API_KEY"), "{e}");
}

#[tokio::test]
async fn expand_is_sent_on_retrieve_and_list_only_when_asked() {
    let server = MockServer::start().await;
    let id = RefundId::new("re_x").unwrap();
    let cases = [
        (None, None),
        (Some(ExpandStyle::Object), Some(("expand[payment]", "true"))),
        (Some(ExpandStyle::List), Some(("expand[]", "payment"))),
    ];
    for (style, expected) in cases {
        server.reset().await;
        Mock::given(any())
            .respond_with(ResponseTemplate::new(200).set_body_json(refund_json("re_x", "pay_x", 1)))
            .mount(&server)
            .await;
        let mut b = builder(&server);
        if let Some(style) = style {
            b = b.expand_payment(true).expand_style(style);
        }
        let client = b.build().unwrap();
        client.get_refund(&id).await.unwrap();
        // The list answer is a refund object here: only the query matters, so ignore the result.
        let _ = client.list_refunds(&ListRefunds::new()).await;
        client.create_refund(&CreateRefund::new(pay("pay_x"))).await.unwrap();
        let received = server.received_requests().await.unwrap();
        assert_eq!(received.len(), 3);
        for (i, request) in received.iter().enumerate() {
            let pairs: Vec<(String, String)> = request.url.query_pairs().into_owned().collect();
            let expand: Vec<_> = pairs.iter().filter(|(k, _)| k.starts_with("expand")).collect();
            let is_create = i == 2;
            match expected {
                Some((k, v)) if !is_create => {
                    assert_eq!(expand, [&(k.to_owned(), v.to_owned())], "{style:?} {i}")
                }
                _ => assert!(expand.is_empty(), "{style:?} {i}: {pairs:?}"),
            }
        }
    }
}

#[tokio::test]
async fn list_sends_limit_and_id_cursors() {
    let server = MockServer::start().await;
    let page = json!({"object": "list", "data": [refund_json("re_9", "pay_9", 9)], "has_more": false});
    Mock::given(method("GET"))
        .and(path("/refunds"))
        .and(query_param("limit", "50"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page.clone()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/refunds"))
        .and(query_param("limit", "1000"))
        .and(query_param("starting_after", "re_5"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page.clone()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/refunds"))
        .and(query_param("limit", "1"))
        .and(query_param("ending_before", "re_5"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let re5 = RefundId::new("re_5").unwrap();
    let first = client.list_refunds(&ListRefunds::new()).await.unwrap();
    assert_eq!(first.items[0].id.as_str(), "re_9");
    assert_eq!(first.next, None);
    client
        .list_refunds(&ListRefunds::new().limit(1000).cursor(CursorClient::cursor_after(&re5)))
        .await
        .unwrap();
    client
        .list_refunds(&ListRefunds::new().limit(1).cursor(CursorClient::cursor_before(&re5)))
        .await
        .unwrap();
    for request in server.received_requests().await.unwrap() {
        let pairs: Vec<(String, String)> = request.url.query_pairs().into_owned().collect();
        let names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
        assert!(names.len() <= 2 && names[0] == "limit", "{names:?}");
    }
}

#[tokio::test]
async fn list_envelopes_are_read_tolerantly() {
    let cases = [
        // `items` and no `has_more`: a full page means there may be more.
        (
            json!({"items": [refund_json("re_1", "p", 1), refund_json("re_2", "p", 2)]}),
            Some("re_2"),
        ),
        // A short page without `has_more` is the last.
        (json!({"items": [refund_json("re_1", "p", 1)]}), None),
        // `has_more` decides when present, even on a full page.
        (
            json!({"data": [refund_json("re_1", "p", 1), refund_json("re_2", "p", 2)], "has_more": false}),
            None,
        ),
        (
            json!({"data": [refund_json("re_1", "p", 1)], "has_more": true}),
            Some("re_1"),
        ),
        // A bare array.
        (
            json!([refund_json("re_1", "p", 1), refund_json("re_2", "p", 2)]),
            Some("re_2"),
        ),
        (json!({"data": [], "has_more": true}), None),
    ];
    for (body, next_after) in cases {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/refunds"))
            .and(query_param("limit", "2"))
            .respond_with(ResponseTemplate::new(200).set_body_json(body.clone()))
            .mount(&server)
            .await;
        let page = client(&server)
            .list_refunds(&ListRefunds::new().limit(2))
            .await
            .unwrap();
        let expected = next_after.map(|id| CursorClient::cursor_after(&RefundId::new(id).unwrap()));
        assert_eq!(page.next, expected, "{body}");
        assert_eq!(page.total, None);
        let sent = body.get("data").or(body.get("items")).unwrap_or(&body);
        let sent = sent.as_array().unwrap();
        assert_eq!(page.items.len(), sent.len());
        for (refund, object) in page.items.iter().zip(sent) {
            assert_eq!(&refund.raw.to_value(), object, "raw is the object as received");
        }
    }
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"results": []})))
        .mount(&server)
        .await;
    let e = client(&server)
        .list_refunds(&ListRefunds::new())
        .await
        .expect_err("no array");
    assert_eq!(e.kind(), &ErrorKind::Decode, "{e}");
    assert_eq!(e.http_status(), Some(200));
    assert!(e.body().is_some_and(|b| b.contains("results")));
}

/// This provider's own bad-input rows: the ones the core's generic table
/// (`refunds::bad_input_tests!` in `tests/conformance.rs`) does not try. Each must be refused naming
/// its field, with nothing sent.
async fn provider_specific_rows(client: &CursorClient) -> Vec<Row> {
    let create = |request: CreateRefund| async move { client.create_refund(&request).await.map(drop) };
    let list = |request: ListRefunds| async move { client.list_refunds(&request).await.map(drop) };
    let cursor = |token: String| ListRefunds::new().cursor(PageCursor::from_token(token));
    let row = |case: &str, field: &'static str, outcome| Row {
        case: case.to_owned(),
        field,
        outcome,
    };
    vec![
        row(
            "amount in KWD (three decimals) on a USD account",
            "amount",
            create(CreateRefund::new(pay("pay_bad")).amount(Money::from_minor(1234, Currency::KWD))).await,
        ),
        row(
            "payment reference of kind payment_intent",
            "payment",
            create(CreateRefund::new(PaymentRef::payment_intent("pi_1").unwrap())).await,
        ),
        row(
            "list limit 1001 (documented maximum 1000)",
            "limit",
            list(ListRefunds::new().limit(1001)).await,
        ),
        row(
            "list limit u32::MAX",
            "limit",
            list(ListRefunds::new().limit(u32::MAX)).await,
        ),
        row(
            "an id cursor of another provider",
            "cursor",
            list(cursor("xpay:a:re_1".into())).await,
        ),
        row(
            "a cursor of this provider in offset form",
            "cursor",
            list(cursor("cursor:o:5".into())).await,
        ),
        row(
            "a cursor with an empty id",
            "cursor",
            list(cursor("cursor:a:".into())).await,
        ),
        row(
            "a cursor of an unknown direction",
            "cursor",
            list(cursor("cursor:z:re_1".into())).await,
        ),
        row(
            "a cursor whose id carries a header injection",
            "cursor",
            list(cursor("cursor:a:re_1\r\nX-Injected: 1".into())).await,
        ),
        row(
            "a backward cursor whose id is `..`",
            "cursor",
            list(cursor("cursor:b:..".into())).await,
        ),
        row(
            "a cursor whose id has 256 chars",
            "cursor",
            list(cursor(format!("cursor:a:{}", "r".repeat(256)))).await,
        ),
    ]
}

#[tokio::test]
async fn provider_specific_bad_input_is_refused_before_sending() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let client = client(&server);
    let rows = provider_specific_rows(&client).await;
    refunds::testkit::bad_input::assert_refused(&rows);
    server.verify().await;
    assert!(server.received_requests().await.unwrap().is_empty());
    println!(
        "cursor: {} provider-specific bad-input rows, 0 requests sent",
        rows.len()
    );
}

#[tokio::test]
async fn what_the_api_cannot_do_is_refused_before_sending() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let client = client(&server);
    // `filters` exists but its shape is not documented.
    let e = client
        .list_refunds(&ListRefunds::new().status(RefundStatus::Succeeded))
        .await
        .expect_err("no status filter");
    assert_eq!(e.kind(), &ErrorKind::Unsupported);
    assert_eq!(e.delivery(), Delivery::NotSent);
    let e = client
        .cancel_refund(&RefundId::new("re_1").unwrap())
        .await
        .expect_err("no cancel");
    assert_eq!(e.kind(), &ErrorKind::Unsupported);
    // Amounts with more decimals than the currency has, and over-long ids, cannot even be built.
    let e: refunds::Error = Money::from_major_str("12.345", Currency::USD).unwrap_err().into();
    assert_eq!(e.field(), Some("amount"));
    assert!(PaymentRef::payment("p".repeat(256)).is_err());
    server.verify().await;
}

#[tokio::test]
async fn a_create_is_sent_once_even_with_retries() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(502).set_body_string("bad gateway"))
        .expect(1)
        .mount(&server)
        .await;
    let client = builder(&server).retry(refunds::testkit::fast_retry(3)).build().unwrap();
    let request = CreateRefund::new(pay("pay_once"))
        .amount(usd(100))
        .idempotency_key(IdempotencyKey::new("ignored-key").unwrap());
    let e = client.create_refund(&request).await.expect_err("502");
    assert_eq!(e.kind(), &ErrorKind::ProviderUnavailable);
    assert_eq!(e.delivery(), Delivery::Ambiguous);
    assert!(!e.is_retryable());
    assert_eq!(e.pending_create(), Some(&request));
    assert_eq!(e.body(), Some("bad gateway"));
    server.verify().await;
}

#[tokio::test]
async fn reads_are_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(refund_json("re_r", "pay_r", 3)))
        .mount(&server)
        .await;
    let client = builder(&server).retry(refunds::testkit::fast_retry(2)).build().unwrap();
    let refund = client.get_refund(&RefundId::new("re_r").unwrap()).await.unwrap();
    assert_eq!(refund.amount, usd(3));
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[test]
fn debug_output_never_shows_the_key() {
    for scheme in [
        AuthScheme::Bearer,
        AuthScheme::Basic,
        AuthScheme::Header("X-Api-Key".into()),
    ] {
        let builder = CursorClient::builder()
            .api_key(KEY)
            .base_url("https://api.example.com")
            .currency(Currency::USD)
            .auth(scheme);
        assert!(!format!("{builder:?}").contains(KEY));
        let client = builder.build().unwrap();
        assert!(!format!("{client:?}").contains(KEY));
        assert_eq!(client.info().id, "cursor");
    }
}

/// Set in a child process of `from_env_reads_every_variable` to the scenario it runs.
const CHILD_SCENARIO: &str = "CURSOR_REFUNDS_TEST_SCENARIO";
const ENV_VARS: [&str; 4] = [
    "CURSOR_REFUNDS_API_KEY",
    "CURSOR_REFUNDS_BASE_URL",
    "CURSOR_REFUNDS_CURRENCY",
    "CURSOR_REFUNDS_AUTH",
];

/// What a child process checks, with the environment its parent gave it.
async fn env_scenario(scenario: &str) {
    match scenario {
        "complete" => {
            let client = CursorClient::from_env().expect("from env");
            assert_eq!(client.currency(), Currency::JPY);
            let refund = client.get_refund(&RefundId::new("re_env").unwrap()).await.unwrap();
            assert_eq!(refund.amount, Money::from_minor(1500, Currency::JPY));
        }
        "bad_currency" | "bad_auth" | "nothing" => {
            let e = CursorClient::from_env().expect_err("refused");
            assert_eq!(e.kind(), &ErrorKind::Configuration, "{e}");
            let named = match scenario {
                "bad_currency" => "CURSOR_REFUNDS_CURRENCY",
                "bad_auth" => "CURSOR_REFUNDS_AUTH",
                _ => "CURSOR_REFUNDS_API_KEY",
            };
            assert!(e.message().contains(named), "{e}");
        }
        other => panic!("unknown scenario {other}"),
    }
}

// Environment variables are process-wide (and setting them is `unsafe` in Rust 2024), so each
// scenario runs this same test in a child process with its own environment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_env_reads_every_variable() {
    if let Ok(scenario) = std::env::var(CHILD_SCENARIO) {
        return env_scenario(&scenario).await;
    }
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/refunds/re_env"))
        .and(header("x-api-key", KEY))
        .respond_with(ResponseTemplate::new(200).set_body_json(refund_json("re_env", "pay_env", 1500)))
        .expect(1)
        .mount(&server)
        .await;
    let base_url = format!("{}/api", server.uri());
    let complete = [
        ("CURSOR_REFUNDS_API_KEY", KEY),
        ("CURSOR_REFUNDS_BASE_URL", base_url.as_str()),
        ("CURSOR_REFUNDS_CURRENCY", " jpy "),
        ("CURSOR_REFUNDS_AUTH", "header:X-Api-Key"),
    ];
    let with = |name: &str, value: &'static str| {
        complete
            .iter()
            .map(|(k, v)| (*k, if *k == name { value } else { *v }))
            .collect::<Vec<_>>()
    };
    let scenarios: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("complete", complete.to_vec()),
        ("bad_currency", with("CURSOR_REFUNDS_CURRENCY", "dollars")),
        ("bad_auth", with("CURSOR_REFUNDS_AUTH", "token")),
        ("nothing", vec![]),
    ];
    for (scenario, vars) in scenarios {
        let mut command = std::process::Command::new(std::env::current_exe().unwrap());
        command
            .args(["--exact", "from_env_reads_every_variable", "--test-threads=1"])
            .env(CHILD_SCENARIO, scenario);
        for name in ENV_VARS {
            command.env_remove(name);
        }
        command.envs(vars.iter().map(|(k, v)| (*k, *v)));
        let output = tokio::task::spawn_blocking(move || command.output().unwrap())
            .await
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains("1 passed"),
            "scenario {scenario}: {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    server.verify().await;
}
