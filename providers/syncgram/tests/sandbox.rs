//! The sandbox suite over SyncgramPay's skin, and SyncgramPay's own capabilities on the sandbox.

use std::sync::Arc;

use http::{HeaderMap, HeaderValue, Method};
use refunds::sandbox::{Fault, Ledger, Sandbox, SandboxRequest, Skin};
use refunds::testkit::HarnessOptions;
use refunds::testkit::fast_retry;
use refunds::testkit::sandbox_suite::{SandboxHarness, SandboxRun};
use refunds::{
    CreateRefund, Currency, ErrorKind, IdempotencyKey, ListRefunds, Money, PaymentRef, RefundProvider,
    RefundProviderExt, RefundReason, RefundStatus,
};
use refunds_syncgram::sandbox::{self, API_KEY, LIVE_API_KEY, SyncgramSkin};
use refunds_syncgram::{FeeBearer, SimulatedOutcome, SyncgramClient, SyncgramOptions};

struct Harness;

fn client_for(sandbox: &Sandbox, key: &str, options: &HarnessOptions) -> SyncgramClient {
    sandbox::builder_for(sandbox)
        .api_key(key)
        .currency(options.currency)
        .retry(fast_retry(options.max_retries))
        .timeout(options.timeout)
        .build()
        .expect("client builds")
}

#[refunds::async_trait]
impl SandboxHarness for Harness {
    async fn start(&self, options: HarnessOptions) -> SandboxRun {
        let sandbox = sandbox::start().await.expect("bind 127.0.0.1");
        let client = client_for(&sandbox, API_KEY, &options);
        let wrong = client_for(&sandbox, "sk_test_wrong_key_000000", &options);
        SandboxRun::new(sandbox, Arc::new(client), Arc::new(wrong))
    }
}

refunds::sandbox_tests!(Harness);

fn usd(minor: i64) -> Money {
    Money::from_minor(minor, Currency::USD)
}

fn charge(id: &str) -> PaymentRef {
    PaymentRef::charge(id).unwrap()
}

async fn sandbox_with(payment: &str, captured: Money) -> (Sandbox, SyncgramClient) {
    let sandbox = sandbox::start().await.unwrap();
    sandbox.ledger().seed_payment(payment, captured);
    let client = sandbox::builder_for(&sandbox)
        .currency(captured.currency())
        .max_retries(0)
        .build()
        .unwrap();
    (sandbox, client)
}

#[tokio::test]
async fn three_line_usage_with_ref_ids_fee_and_fee_bearer() {
    let sandbox = sandbox::start().await.unwrap();
    sandbox.ledger().seed_payment("ch_1", usd(5_000));
    let client = sandbox::builder_for(&sandbox).build().unwrap();

    let refund = client
        .create_refund(&CreateRefund::new(charge("ch_1")).amount(usd(2_000)))
        .await
        .unwrap();
    assert!(refund.id.as_str().starts_with("ref_"), "{}", refund.id);
    assert_eq!(refund.provider, "syncgram");
    assert_eq!(refund.status, RefundStatus::Pending);
    assert_eq!(refund.fee, Some(usd(20)), "1% fee");
    assert_eq!(refund.raw.field("fee_bearer").unwrap(), "ORG");
    assert_eq!(refund.raw.field("requested_amount").unwrap(), "20.00");
    assert_eq!(refund.raw.field("refunded_amount").unwrap(), serde_json::Value::Null);
    assert!(refund.merchant_reference.is_some(), "a generated reference");

    let options = SyncgramOptions::new().fee_bearer(FeeBearer::Customer);
    let full = client
        .create_refund_with(&CreateRefund::new(charge("ch_1")), &options)
        .await
        .unwrap();
    assert_eq!(full.amount, usd(3_000));
    assert_eq!(full.fee, Some(usd(30)));
    assert_eq!(full.raw.field("fee_bearer").unwrap(), "CUSTOMER");
}

#[tokio::test]
async fn settled_refund_reports_refunded_amount_and_completion() {
    let (sandbox, client) = sandbox_with("ch_settle", usd(1_000)).await;
    let refund = client
        .create_refund(&CreateRefund::new(charge("ch_settle")).reason(RefundReason::Other("Customer request".into())))
        .await
        .unwrap();
    assert_eq!(refund.completed_at, None);
    sandbox.ledger().advance(std::time::Duration::from_secs(300));
    sandbox.ledger().settle_all();
    let settled = client.get_refund(&refund.id).await.unwrap();
    assert_eq!(settled.status, RefundStatus::Succeeded);
    assert_eq!(settled.amount, usd(1_000));
    assert_eq!(settled.raw.field("refunded_amount").unwrap(), "10.00");
    assert_eq!(
        settled.completed_at.unwrap().unix_timestamp(),
        sandbox.ledger().now().unix_timestamp()
    );
    assert_eq!(settled.reason, Some(RefundReason::Other("Customer request".into())));
}

#[tokio::test]
async fn simulated_failure_fails_on_settlement_and_frees_the_balance() {
    let (sandbox, client) = sandbox_with("ch_fail", usd(1_000)).await;
    let options = SyncgramOptions::new().simulated_outcome(SimulatedOutcome::Failed);
    let refund = client
        .create_refund_with(&CreateRefund::new(charge("ch_fail")), &options)
        .await
        .unwrap();
    assert_eq!(refund.status, RefundStatus::Pending);
    sandbox.ledger().settle_all();
    let failed = client.get_refund(&refund.id).await.unwrap();
    assert_eq!(failed.status, RefundStatus::Failed);
    assert!(failed.completed_at.is_some());
    assert_eq!(failed.amount, usd(1_000), "requested amount while nothing went back");
    assert_eq!(sandbox.ledger().payment("ch_fail").unwrap().refundable(), usd(1_000));
    let success = SyncgramOptions::new().simulated_outcome(SimulatedOutcome::Success);
    let again = client
        .create_refund_with(&CreateRefund::new(charge("ch_fail")), &success)
        .await
        .unwrap();
    sandbox.ledger().settle_all();
    assert_eq!(
        client.get_refund(&again.id).await.unwrap().status,
        RefundStatus::Succeeded
    );
}

#[tokio::test]
async fn simulated_outcome_is_test_mode_only() {
    let (sandbox, _) = sandbox_with("ch_live", usd(1_000)).await;
    let live = sandbox::builder_for(&sandbox).api_key(LIVE_API_KEY).build().unwrap();
    let options = SyncgramOptions::new().simulated_outcome(SimulatedOutcome::Failed);
    let e = live
        .create_refund_with(&CreateRefund::new(charge("ch_live")), &options)
        .await
        .expect_err("refused before sending");
    assert_eq!(e.field(), Some("simulated_outcome"));
    assert_eq!(sandbox.request_count(), 0);
    // Live mode itself works without it.
    live.create_refund(&CreateRefund::new(charge("ch_live")).amount(usd(100)))
        .await
        .unwrap();

    // The skin answers a live-mode simulated_outcome as SyncgramPay does: 400.
    let ledger = Ledger::new("ref_");
    ledger.seed_payment("ch_raw", usd(1_000));
    let answer = SyncgramSkin::new().handle(
        &post(
            LIVE_API_KEY,
            r#"{"charge_id":"ch_raw","reference":"r1","simulated_outcome":"failed"}"#,
        ),
        &ledger,
    );
    assert_eq!(answer.status, 400);
    assert!(answer.json_body()["detail"].as_str().unwrap().contains("test mode"));
    assert_eq!(ledger.refund_count(), 0);
}

#[tokio::test]
async fn refund_by_charge_inherent_and_through_the_trait() {
    let (sandbox, client) = sandbox_with("ch_by", usd(10_000)).await;
    sandbox.ledger().seed_payment("ch_none", usd(500));
    let first = client
        .create_refund(&CreateRefund::new(charge("ch_by")).amount(usd(1_000)))
        .await
        .unwrap();
    assert_eq!(client.get_refund_by_charge("ch_by").await.unwrap().id, first.id);
    let second = client
        .create_refund(&CreateRefund::new(charge("ch_by")).amount(usd(2_000)))
        .await
        .unwrap();
    let provider: &dyn RefundProvider = &client;
    assert!(provider.info().capabilities.retrieve_by_payment);
    let latest = provider.get_refund_by_payment(&charge("ch_by")).await.unwrap();
    assert_eq!(latest.id, second.id, "the most recent refund");
    assert_eq!(latest.amount, usd(2_000));

    let none = client.get_refund_by_charge("ch_none").await.unwrap_err();
    assert_eq!(none.kind(), &ErrorKind::NotFound);
    let missing = client.get_refund_by_charge("ch_missing").await.unwrap_err();
    assert_eq!(missing.kind(), &ErrorKind::NotFound);
    assert_eq!(missing.message(), "Charge not found");
}

#[tokio::test]
async fn list_filters_by_status_and_pages_by_offset() {
    let (sandbox, client) = sandbox_with("ch_list", usd(10_000)).await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        let r = client
            .create_refund(&CreateRefund::new(charge("ch_list")).amount(usd(100)))
            .await
            .unwrap();
        ids.push(r.id);
    }
    sandbox.ledger().settle(ids[1].as_str());
    sandbox.ledger().settle(ids[3].as_str());
    let succeeded = client
        .list_refunds(&ListRefunds::new().status(RefundStatus::Succeeded))
        .await
        .unwrap();
    assert_eq!(succeeded.total, Some(2));
    let got: Vec<_> = succeeded.items.iter().map(|r| r.id.clone()).collect();
    assert_eq!(got, vec![ids[1].clone(), ids[3].clone()]);
    assert!(succeeded.items.iter().all(|r| r.status == RefundStatus::Succeeded));

    let pending = client
        .all_refunds(ListRefunds::new().status(RefundStatus::Pending).limit(1))
        .await
        .unwrap();
    assert_eq!(pending.len(), 3);

    let page = client.list_refunds(&ListRefunds::new().limit(2)).await.unwrap();
    assert_eq!((page.items.len(), page.total), (2, Some(5)));
    let all = client.all_refunds(ListRefunds::new().limit(2)).await.unwrap();
    let all_ids: Vec<_> = all.into_iter().map(|r| r.id).collect();
    assert_eq!(all_ids, ids, "each once, in order");
}

#[tokio::test]
async fn merchant_reference_is_the_idempotency_input_without_a_key() {
    let (sandbox, client) = sandbox_with("ch_ref", usd(5_000)).await;
    let request = CreateRefund::new(charge("ch_ref"))
        .amount(usd(1_000))
        .merchant_reference("refund_ord_12345");
    let first = client.create_refund(&request).await.unwrap();
    let again = client.create_refund(&request).await.unwrap();
    assert_eq!(first.id, again.id);
    assert_eq!(first.merchant_reference.as_deref(), Some("refund_ord_12345"));
    assert_eq!(sandbox.ledger().refund_count(), 1);
    let other = CreateRefund::new(charge("ch_ref"))
        .amount(usd(2_000))
        .merchant_reference("refund_ord_12345");
    let e = client.create_refund(&other).await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::IdempotencyConflict, "{e}");
    assert_eq!(e.http_status(), Some(409));
    assert_eq!(sandbox.ledger().refund_count(), 1);
}

#[tokio::test]
async fn every_create_is_retried_safely_even_without_a_key() {
    let sandbox = sandbox::start().await.unwrap();
    sandbox.ledger().seed_payment("ch_retry", usd(5_000));
    let client = sandbox::builder_for(&sandbox).retry(fast_retry(2)).build().unwrap();
    // The first attempt is applied but its answer is lost; the retry carries the same generated
    // reference, so SyncgramPay answers with the original refund instead of making a second one.
    sandbox.faults().push(Fault::ResponseLost, 1);
    let refund = client
        .create_refund(&CreateRefund::new(charge("ch_retry")).amount(usd(700)))
        .await
        .expect("retried");
    assert_eq!(sandbox.request_count(), 2);
    assert_eq!(sandbox.ledger().refund_count(), 1, "one refund");
    assert_eq!(refund.amount, usd(700));

    sandbox.faults().push(Fault::ServiceUnavailable, 1);
    client
        .create_refund(&CreateRefund::new(charge("ch_retry")).amount(usd(300)))
        .await
        .expect("retried after 503");
    assert_eq!(sandbox.ledger().refund_count(), 2);

    // Separate creates get separate references, so they are separate refunds.
    let a = client
        .create_refund(&CreateRefund::new(charge("ch_retry")).amount(usd(100)))
        .await
        .unwrap();
    let b = client
        .create_refund(&CreateRefund::new(charge("ch_retry")).amount(usd(100)))
        .await
        .unwrap();
    assert_ne!(a.id, b.id);
    assert_ne!(a.merchant_reference, b.merchant_reference);
}

#[tokio::test]
async fn an_ambiguous_create_carries_its_generated_reference_so_a_resend_is_safe() {
    let sandbox = sandbox::start().await.unwrap();
    sandbox.ledger().seed_payment("ch_lost", usd(5_000));
    let retries = 2;
    let client = sandbox::builder_for(&sandbox)
        .retry(fast_retry(retries))
        .build()
        .unwrap();
    // Every attempt is applied (the first makes the refund, the retries replay it) and every answer
    // is lost: one more lost answer than the retry budget.
    sandbox.faults().push(Fault::ResponseLost, retries as usize + 1);
    let request = CreateRefund::new(charge("ch_lost")).amount(usd(700));
    let e = client.create_refund(&request).await.unwrap_err();
    assert_eq!(e.delivery(), refunds::Delivery::Ambiguous, "{e}");
    assert_eq!(sandbox.faults().counts().response_lost, u64::from(retries) + 1);
    assert_eq!(sandbox.ledger().refund_count(), 1, "applied once, its answer lost");

    let pending = e.pending_create().expect("the create travels with the error").clone();
    let generated = pending
        .merchant_reference_given()
        .expect("the generated reference travels as the merchant reference")
        .to_owned();
    assert_eq!(pending.payment(), request.payment());
    assert_eq!(pending.amount_requested(), request.amount_requested());
    assert_eq!(pending.idempotency_key_given(), None);

    let refund = client.create_refund(&pending).await.expect("the re-send answers");
    assert_eq!(refund.merchant_reference.as_deref(), Some(generated.as_str()));
    assert_eq!(refund.amount, usd(700));
    assert_eq!(
        sandbox.ledger().refund_count(),
        1,
        "the original refund, not a second one"
    );
    assert_eq!(sandbox.ledger().refunds()[0].id, refund.id.as_str());

    // A merchant reference or an idempotency key already fixes the reference across calls: the
    // pending create is the request as given.
    for given in [
        CreateRefund::new(charge("ch_lost"))
            .amount(usd(100))
            .merchant_reference("ord_9"),
        CreateRefund::new(charge("ch_lost"))
            .amount(usd(200))
            .idempotency_key(IdempotencyKey::new("key_9").unwrap()),
    ] {
        sandbox.faults().push(Fault::ResponseLost, retries as usize + 1);
        let e = client.create_refund(&given).await.unwrap_err();
        assert_eq!(e.pending_create(), Some(&given));
        let again = client.create_refund(e.pending_create().unwrap()).await.unwrap();
        assert_eq!(Some(&again.amount), given.amount_requested());
    }
    assert_eq!(sandbox.ledger().refund_count(), 3, "one refund per create");
}

#[tokio::test]
async fn long_idempotency_key_replays_through_its_derived_reference() {
    let (sandbox, client) = sandbox_with("ch_long", usd(5_000)).await;
    let key = IdempotencyKey::new("k".repeat(255)).unwrap();
    let request = CreateRefund::new(charge("ch_long"))
        .amount(usd(100))
        .idempotency_key(key);
    let first = client.create_refund(&request).await.unwrap();
    let again = client.create_refund(&request).await.unwrap();
    assert_eq!(first.id, again.id);
    let reference = first.merchant_reference.unwrap();
    assert_eq!(reference.len(), 128);
    assert_eq!(sandbox.ledger().refund_count(), 1);
}

#[tokio::test]
async fn three_decimal_settlement_currency_is_exact() {
    let (_sandbox, client) = sandbox_with("ch_kwd", Money::from_minor(10_000, Currency::KWD)).await;
    let refund = client
        .create_refund(&CreateRefund::new(charge("ch_kwd")).amount(Money::from_minor(1_234, Currency::KWD)))
        .await
        .unwrap();
    assert_eq!(refund.amount, Money::from_minor(1_234, Currency::KWD));
    assert_eq!(refund.raw.field("requested_amount").unwrap(), "1.234");
    assert_eq!(refund.fee, Some(Money::from_minor(12, Currency::KWD)));
    assert_eq!(refund.raw.field("refund_fee_amount").unwrap(), "0.012");
}

#[tokio::test]
async fn unknown_status_is_kept() {
    let (sandbox, client) = sandbox_with("ch_odd", usd(1_000)).await;
    let refund = client
        .create_refund(&CreateRefund::new(charge("ch_odd")))
        .await
        .unwrap();
    sandbox
        .ledger()
        .set_status(refund.id.as_str(), RefundStatus::Unknown("reversed".into()));
    let odd = client.get_refund(&refund.id).await.unwrap();
    assert_eq!(odd.status, RefundStatus::Unknown("reversed".into()));
}

#[tokio::test]
async fn not_refundable_and_unknown_charges() {
    let (sandbox, client) = sandbox_with("ch_ok", usd(1_000)).await;
    sandbox
        .ledger()
        .seed_payment_in_state("ch_pending", usd(1_000), refunds::sandbox::PaymentState::Pending);
    let e = client
        .create_refund(&CreateRefund::new(charge("ch_pending")))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Validation, "{e}");
    assert_eq!(e.message(), "Charge is not refundable");
    let e = client
        .create_refund(&CreateRefund::new(charge("ch_nope")))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::NotFound, "{e}");
    client.create_refund(&CreateRefund::new(charge("ch_ok"))).await.unwrap();
    let e = client
        .create_refund(&CreateRefund::new(charge("ch_ok")))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::AlreadyRefunded, "{e}");
}

fn headers(key: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {key}")).unwrap(),
    );
    h
}

fn post(key: &str, body: &str) -> SandboxRequest {
    SandboxRequest::new(
        Method::POST,
        "/api/v1/payments/refunds",
        headers(key),
        body.as_bytes().to_vec(),
    )
}

#[test]
fn skin_answers_like_a_fastapi_service() {
    let skin = SyncgramSkin::new();
    let ledger = Ledger::new("ref_");
    ledger.seed_payment("ch_1", usd(1_000));

    let unauthorized = skin.handle(&post("sk_test_nope", "{}"), &ledger);
    assert_eq!(unauthorized.status, 401);
    assert_eq!(
        unauthorized.json_body(),
        serde_json::json!({"detail": "Invalid or missing API key"})
    );

    let too_long = format!(r#"{{"charge_id":"ch_1","reference":"{}"}}"#, "r".repeat(129));
    let answer = skin.handle(&post(API_KEY, &too_long), &ledger);
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.json_body()["detail"][0]["loc"],
        serde_json::json!(["body", "reference"])
    );

    let precise = r#"{"charge_id":"ch_1","reference":"r","amount":1.005}"#;
    let answer = skin.handle(&post(API_KEY, precise), &ledger);
    assert_eq!(answer.status, 400);
    assert_eq!(answer.json_body()["detail"][0]["loc"][1], "amount");

    let list = SandboxRequest::new(
        Method::GET,
        "/api/v1/payments/refunds?limit=101",
        headers(API_KEY),
        vec![],
    );
    let answer = skin.handle(&list, &ledger);
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.json_body()["detail"][0]["loc"],
        serde_json::json!(["query", "limit"])
    );

    let ok = skin.handle(
        &post(API_KEY, r#"{"charge_id":"ch_1","reference":"r","amount":2.50}"#),
        &ledger,
    );
    assert_eq!(ok.status, 200);
    let body = ok.json_body();
    assert_eq!(body["requested_amount"], "2.50");
    assert_eq!(body["refund_fee_amount"], "0.02");
    assert_eq!(body["reference"], "r");
    assert_eq!(body["created_at"], "2024-01-01T00:00:00Z");
    assert_eq!(ledger.refund_count(), 1);

    let unknown_route = SandboxRequest::new(Method::GET, "/api/v2/refunds", headers(API_KEY), vec![]);
    assert_eq!(skin.handle(&unknown_route, &ledger).status, 404);
}
