//! The shared sandbox suite against WooshPay's skin, plus what the suite does not cover: the
//! three-line user API, the exact Basic check, generated keys making every create replay-safe,
//! recovery of an ambiguous create, and the skin's answers to bad requests.

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, HeaderValue, Method};
use refunds::adapter::base64_encode;
use refunds::sandbox::{Fault, Ledger, SandboxRequest, SimulatedOutcome, Skin};
use refunds::testkit::sandbox_suite::{SandboxHarness, SandboxRun};
use refunds::testkit::{HarnessOptions, fast_retry};
use refunds::{
    CreateRefund, Currency, Delivery, ErrorKind, IdempotencyKey, ListRefunds, Money, PaymentRef, RefundId,
    RefundProvider, RefundReason, RefundStatus,
};
use refunds_wooshpay::sandbox::{self, API_KEY, WooshPaySkin, builder_for};
use serde_json::json;

struct Harness;

#[refunds::async_trait]
impl SandboxHarness for Harness {
    async fn start(&self, options: HarnessOptions) -> SandboxRun {
        let sandbox = sandbox::start().await.expect("bind 127.0.0.1");
        let configure = |builder: refunds_wooshpay::WooshPayClientBuilder| {
            builder
                .retry(fast_retry(options.max_retries))
                .timeout(options.timeout)
                .currency(options.currency)
                .build()
                .expect("client")
        };
        let client = configure(builder_for(&sandbox));
        let wrong = configure(builder_for(&sandbox).api_key("sk_test_wrong_key_000000"));
        SandboxRun::new(sandbox, Arc::new(client), Arc::new(wrong))
    }
}

refunds::sandbox_tests!(Harness);

fn usd(minor: i64) -> Money {
    Money::from_minor(minor, Currency::USD)
}

fn pi(id: &str) -> PaymentRef {
    PaymentRef::payment_intent(id).unwrap()
}

#[tokio::test]
async fn three_lines_give_a_working_client() {
    let sandbox = sandbox::start().await.unwrap();
    sandbox.ledger().seed_payment("pi_three", usd(5_000));
    let client = builder_for(&sandbox).build().unwrap();

    let refund = client
        .create_refund(
            &CreateRefund::new(pi("pi_three"))
                .amount(usd(1_250))
                .reason(RefundReason::RequestedByCustomer)
                .merchant_reference("order-7")
                .metadata("ticket", "T-1"),
        )
        .await
        .unwrap();
    assert!(refund.id.as_str().starts_with("re_"), "{}", refund.id);
    assert_eq!(refund.provider, "wooshpay");
    assert_eq!(refund.amount, usd(1_250));
    assert_eq!(refund.status, RefundStatus::Pending);
    assert_eq!(refund.reason, Some(RefundReason::RequestedByCustomer));
    assert_eq!(refund.merchant_reference.as_deref(), Some("order-7"));
    assert_eq!(refund.metadata["ticket"], "T-1");
    assert_eq!(refund.created_at, Some(sandbox.ledger().now()));
    // The skin answers Stripe-style JSON: integer amount, lower-case currency, unix seconds.
    let raw = refund.raw.to_value();
    assert_eq!(raw["amount"], json!(1250));
    assert_eq!(raw["currency"], json!("usd"));
    assert_eq!(raw["created"], json!(1_704_067_200));
    assert_eq!(raw["object"], json!("refund"));

    sandbox.ledger().settle_all();
    let got = client.get_refund(&refund.id).await.unwrap();
    assert_eq!(got.status, RefundStatus::Succeeded);
}

#[tokio::test]
async fn a_generated_key_makes_a_create_safe_to_retry() {
    let sandbox = sandbox::start().await.unwrap();
    sandbox.ledger().seed_payment("pi_retry", usd(5_000));
    let client = builder_for(&sandbox).retry(fast_retry(2)).build().unwrap();
    // Applied, then the answer is lost: the retry carries the same generated key and gets the
    // original refund back instead of refunding twice.
    sandbox.faults().push(Fault::ResponseLost, 1);
    let refund = client
        .create_refund(&CreateRefund::new(pi("pi_retry")).amount(usd(1_000)))
        .await
        .expect("retried with the same key");
    assert_eq!(sandbox.request_count(), 2);
    assert_eq!(sandbox.ledger().refund_count(), 1, "refunded once");
    let only = &sandbox.ledger().refunds()[0];
    assert_eq!(refund.id.as_str(), only.id);
    assert!(
        only.idempotency_key.as_deref().is_some_and(|k| k.starts_with("rfd_")),
        "{only:?}"
    );

    // 503 then the answer: also one refund.
    sandbox.faults().push(Fault::ServiceUnavailable, 1);
    client
        .create_refund(&CreateRefund::new(pi("pi_retry")).amount(usd(500)))
        .await
        .expect("retried after 503");
    assert_eq!(sandbox.ledger().refund_count(), 2);
}

#[tokio::test]
async fn an_ambiguous_create_is_recovered_with_the_same_key() {
    let sandbox = sandbox::start().await.unwrap();
    sandbox.ledger().seed_payment("pi_lost", usd(5_000));
    let client = builder_for(&sandbox).max_retries(0).build().unwrap();
    let request = CreateRefund::new(pi("pi_lost"))
        .amount(usd(700))
        .idempotency_key(IdempotencyKey::new("order-99-refund-1").unwrap());
    sandbox.faults().push(Fault::ResponseLost, 1);
    let e = client.create_refund(&request).await.expect_err("lost");
    assert_eq!(e.delivery(), Delivery::Ambiguous, "{e}");
    let pending = e.pending_create().expect("the request travels with the error");

    // No list to search...
    let lookup = client.find_created(pending).await.expect_err("no list");
    assert_eq!(lookup.kind(), &ErrorKind::Unsupported);
    assert!(lookup.message().contains("idempotency key"), "{lookup}");
    // ...so the same request is sent again, and the key returns the refund the first one made.
    let recovered = client.create_refund(pending).await.expect("replayed");
    assert_eq!(sandbox.ledger().refund_count(), 1);
    assert_eq!(recovered.id.as_str(), sandbox.ledger().refunds()[0].id);
    assert_eq!(recovered.amount, usd(700));
}

#[tokio::test]
async fn a_create_whose_retries_all_lost_their_answer_is_recovered_by_its_pending_create() {
    let sandbox = sandbox::start().await.unwrap();
    sandbox.ledger().seed_payment("pi_exhausted", usd(5_000));
    const RETRIES: u32 = 2;
    let client = builder_for(&sandbox).retry(fast_retry(RETRIES)).build().unwrap();
    let attempts = RETRIES as usize + 1;
    // No key of the caller's: the client generates one. Every attempt of the call is applied and its
    // answer lost, and so is the first attempt of the recovery below.
    let request = CreateRefund::new(pi("pi_exhausted")).amount(usd(900));
    sandbox.faults().push(Fault::ResponseLost, attempts + 1);
    let e = client.create_refund(&request).await.expect_err("every answer lost");
    assert_eq!(e.delivery(), Delivery::Ambiguous, "{e}");
    assert_eq!(sandbox.request_count(), attempts, "the whole retry budget was spent");
    assert_eq!(
        sandbox.ledger().refund_count(),
        1,
        "the same key made every attempt one refund"
    );
    let applied = sandbox.ledger().refunds()[0].clone();
    let pending = e.pending_create().expect("the request travels with the error");
    let key = pending
        .idempotency_key_given()
        .expect("the pending create carries the generated key");
    assert!(key.as_str().starts_with("rfd_"), "{key:?}");
    assert_eq!(applied.idempotency_key.as_deref(), Some(key.as_str()));
    assert_eq!(pending.payment(), request.payment());
    assert_eq!(pending.amount_requested(), request.amount_requested());

    // The caller's recovery: send the pending create again. Its first answer is lost too and retried
    // with the same key.
    let recovered = client.create_refund(pending).await.expect("replayed");
    assert_eq!(recovered.id.as_str(), applied.id, "the refund the first call made");
    assert_eq!(recovered.amount, usd(900));
    assert_eq!(sandbox.ledger().refund_count(), 1, "exactly one refund in the ledger");
    assert_eq!(sandbox.request_count(), attempts + 2);
    assert_eq!(sandbox.faults().counts().response_lost, attempts as u64 + 1);
}

#[tokio::test]
async fn list_is_unsupported_and_sends_nothing() {
    let sandbox = sandbox::start().await.unwrap();
    let client = builder_for(&sandbox).build().unwrap();
    let e = client.list_refunds(&ListRefunds::new()).await.expect_err("no list");
    assert_eq!(e.kind(), &ErrorKind::Unsupported);
    assert_eq!(e.delivery(), Delivery::NotSent);
    assert!(client.info().capabilities.list.is_none());
    assert_eq!(sandbox.request_count(), 0);
}

#[tokio::test]
async fn failed_and_undocumented_statuses_come_through() {
    let sandbox = sandbox::start().await.unwrap();
    let ledger = sandbox.ledger();
    ledger.seed_payment("pi_fail", usd(1_000));
    let client = builder_for(&sandbox).build().unwrap();
    let refund = client.create_refund(&CreateRefund::new(pi("pi_fail"))).await.unwrap();
    // The ledger's draft outcome is fixed at create; force the failure by record instead.
    let mut failing = refunds::sandbox::RefundRecord::new("re_failing", "pi_fail", usd(100), RefundStatus::Pending);
    failing.outcome = SimulatedOutcome::Fail;
    ledger.insert_refund(failing);
    ledger.settle_all();
    let failed = client.get_refund(&RefundId::new("re_failing").unwrap()).await.unwrap();
    assert_eq!(failed.status, RefundStatus::Failed);
    assert_eq!(
        failed.failure_reason.as_deref(),
        Some("unknown"),
        "the ledger's text is not a documented failure_reason"
    );

    ledger.set_status(refund.id.as_str(), RefundStatus::Unknown("in_review".into()));
    let odd = client.get_refund(&refund.id).await.unwrap();
    assert_eq!(odd.status, RefundStatus::Unknown("in_review".into()));
}

#[tokio::test]
async fn over_refund_and_unknown_payment_are_precise() {
    let sandbox = sandbox::start().await.unwrap();
    sandbox.ledger().seed_payment("pi_over", usd(1_000));
    let client = builder_for(&sandbox).build().unwrap();
    let e = client
        .create_refund(&CreateRefund::new(pi("pi_over")).amount(usd(1_001)))
        .await
        .expect_err("over");
    assert_eq!(e.kind(), &ErrorKind::AmountExceedsRefundable, "{e}");
    assert_eq!(e.field(), Some("amount"));
    assert_eq!(e.provider_code(), Some("amount_too_large"));
    client.create_refund(&CreateRefund::new(pi("pi_over"))).await.unwrap();
    let e = client
        .create_refund(&CreateRefund::new(pi("pi_over")))
        .await
        .expect_err("nothing left");
    assert_eq!(e.kind(), &ErrorKind::AlreadyRefunded, "{e}");

    let e = client
        .create_refund(&CreateRefund::new(pi("pi_missing")))
        .await
        .expect_err("unknown");
    assert_eq!(e.kind(), &ErrorKind::NotFound, "{e}");
    assert_eq!(e.http_status(), Some(404));
    assert_eq!(e.field(), Some("payment_intent"));

    let e = client
        .get_refund(&RefundId::new("re_nope").unwrap())
        .await
        .expect_err("no such refund");
    assert!(e.is_not_found());
}

#[tokio::test]
async fn idempotency_conflict_is_a_409_idempotency_error() {
    let sandbox = sandbox::start().await.unwrap();
    sandbox.ledger().seed_payment("pi_conflict", usd(5_000));
    let client = builder_for(&sandbox).build().unwrap();
    let key = IdempotencyKey::new("conflict-key").unwrap();
    client
        .create_refund(
            &CreateRefund::new(pi("pi_conflict"))
                .amount(usd(100))
                .idempotency_key(key.clone()),
        )
        .await
        .unwrap();
    let e = client
        .create_refund(
            &CreateRefund::new(pi("pi_conflict"))
                .amount(usd(200))
                .idempotency_key(key),
        )
        .await
        .expect_err("conflict");
    assert_eq!(e.kind(), &ErrorKind::IdempotencyConflict);
    assert_eq!(e.http_status(), Some(409));
    assert_eq!(e.provider_code(), Some("idempotency_error"));
    assert_eq!(e.delivery(), Delivery::Rejected);
}

fn request(method: Method, path: &str, headers: &[(&str, &str)], body: &str) -> SandboxRequest {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.insert(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    SandboxRequest::new(method, path, map, body.as_bytes().to_vec())
}

fn basic(user_and_password: &str) -> String {
    format!("Basic {}", base64_encode(user_and_password.as_bytes()))
}

#[test]
fn the_skin_checks_basic_auth_exactly() {
    let ledger = Ledger::new("re_");
    ledger.seed_payment("pi_auth", usd(1_000));
    let good = basic(&format!("{API_KEY}:"));
    let refused = [
        None,
        Some(format!("Bearer {API_KEY}")),
        Some(basic(API_KEY)),
        Some(basic(&format!("{API_KEY}:secret"))),
        Some(basic(&format!(":{API_KEY}"))),
        Some(basic("sk_test_other:")),
        Some(format!("Basic {API_KEY}")),
        Some(format!("Basic{}", base64_encode(format!("{API_KEY}:").as_bytes()))),
    ];
    for auth in refused {
        let mut headers = vec![("content-type", "application/json")];
        if let Some(a) = auth.as_deref() {
            headers.push(("authorization", a));
        }
        let answer = WooshPaySkin.handle(
            &request(Method::POST, "/v1/refunds", &headers, r#"{"payment_intent":"pi_auth"}"#),
            &ledger,
        );
        assert_eq!(answer.status, 401, "{auth:?}");
        let body = answer.json_body();
        assert_eq!(body["error"]["type"], "invalid_request_error");
        assert!(!String::from_utf8_lossy(&answer.body).contains(API_KEY));
    }
    assert_eq!(ledger.refund_count(), 0);
    let answer = WooshPaySkin.handle(
        &request(
            Method::POST,
            "/v1/refunds",
            &[("authorization", &good), ("content-type", "application/json")],
            r#"{"payment_intent":"pi_auth"}"#,
        ),
        &ledger,
    );
    assert_eq!(answer.status, 200);
    assert_eq!(ledger.refund_count(), 1);
    // The scheme name is case-insensitive in HTTP.
    let lower = good.replacen("Basic", "basic", 1);
    let answer = WooshPaySkin.handle(
        &request(Method::GET, "/v1/refunds/re_000001", &[("authorization", &lower)], ""),
        &ledger,
    );
    assert_eq!(answer.status, 200);
}

/// A request the skin must refuse, and the answer it must give.
struct Refusal {
    content_type: &'static str,
    method: Method,
    path: &'static str,
    body: &'static str,
    status: u16,
    code: Option<&'static str>,
    param: Option<&'static str>,
}

impl Refusal {
    fn post(body: &'static str, code: &'static str, param: Option<&'static str>) -> Refusal {
        Refusal {
            content_type: "application/json",
            method: Method::POST,
            path: "/v1/refunds",
            body,
            status: 400,
            code: Some(code),
            param,
        }
    }
}

#[test]
fn the_skin_refuses_what_wooshpay_refuses() {
    let ledger = Ledger::new("re_");
    ledger.seed_payment("pi_skin", usd(1_000));
    let auth = basic(&format!("{API_KEY}:"));
    let cases = [
        // A reason a create cannot carry.
        Refusal::post(
            r#"{"payment_intent":"pi_skin","reason":"expired_uncaptured_charge"}"#,
            "parameter_invalid",
            None,
        ),
        // The amount is a string of minor units; decimals are not.
        Refusal::post(
            r#"{"payment_intent":"pi_skin","amount":"12.50"}"#,
            "parameter_invalid_integer",
            Some("amount"),
        ),
        Refusal::post(
            r#"{"payment_intent":"pi_skin","amount":"0"}"#,
            "parameter_invalid_integer",
            Some("amount"),
        ),
        Refusal::post(r#"{"amount":"100"}"#, "parameter_missing", Some("payment_intent")),
        // Form encoding is not what the refund pages document.
        Refusal {
            content_type: "application/x-www-form-urlencoded",
            ..Refusal::post("payment_intent=pi_skin", "parameter_invalid", None)
        },
        // No list route.
        Refusal {
            method: Method::GET,
            status: 404,
            code: None,
            ..Refusal::post("", "", None)
        },
        Refusal {
            method: Method::GET,
            path: "/v1/refunds/re_none",
            status: 404,
            ..Refusal::post("", "resource_missing", Some("id"))
        },
    ];
    for case in cases {
        let headers = [("authorization", auth.as_str()), ("content-type", case.content_type)];
        let answer = WooshPaySkin.handle(&request(case.method.clone(), case.path, &headers, case.body), &ledger);
        let what = format!("{} {} {}", case.method, case.path, case.body);
        assert_eq!(answer.status, case.status, "{what}");
        let error = &answer.json_body()["error"];
        assert_eq!(error["code"].as_str(), case.code, "{what}");
        assert_eq!(error["param"].as_str(), case.param, "{what}");
        assert!(error["message"].is_string(), "{what}");
    }
    assert_eq!(ledger.refund_count(), 0);
}

#[test]
fn the_skin_answers_faults_in_wooshpay_shape() {
    let rate = WooshPaySkin.error_response(429, "slow down");
    assert_eq!(rate.status, 429);
    assert_eq!(rate.json_body()["error"]["code"], "rate_limit");
    let down = WooshPaySkin.error_response(503, "down");
    assert_eq!(down.json_body()["error"]["type"], "api_error");
}

#[tokio::test]
async fn a_slow_answer_is_a_timeout_and_the_key_still_protects_the_retry() {
    let sandbox = sandbox::start().await.unwrap();
    sandbox.ledger().seed_payment("pi_slow", usd(5_000));
    let client = builder_for(&sandbox)
        .timeout(Duration::from_millis(300))
        .retry(fast_retry(1))
        .build()
        .unwrap();
    sandbox.faults().push(Fault::Delay(Duration::from_secs(1)), 1);
    let refund = client
        .create_refund(&CreateRefund::new(pi("pi_slow")).amount(usd(300)))
        .await
        .expect("the retry replays the applied create");
    assert_eq!(sandbox.ledger().refund_count(), 1);
    assert_eq!(refund.id.as_str(), sandbox.ledger().refunds()[0].id);
}
