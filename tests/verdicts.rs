//! The verdict rules (RELIABILITY.md, "Verdict rules"), one test per finding of the third safety
//! review (`safety-review-3.md`, findings 1–8 and 11) and the ecosystem review's problem 1. Each
//! asserts the opposite of what the code at `1e2c1c2` did in the review's scenario.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::listed::Listed;
use common::reference::{Reference, ReferenceClient};
use common::reference_skin::{KEY, ReferenceSkin};
use refunds::adapter::{Client, RetryPolicy};
use refunds::sandbox::{Fault, Ledger, Sandbox};
use refunds::{
    Capabilities, CreateRefund, Currency, Delivery, Doubt, ErrorKind, Evidence, IdempotencyKey, ListRefunds, Money,
    Page, PageCursor, PagingStyle, PaymentRef, PendingCreate, ProviderInfo, RawJson, RecoverExt, Recovery,
    RecoveryOptions, Refund, RefundId, RefundProvider, RefundStatus, async_trait,
};
use serde_json::json;
use time::OffsetDateTime;
use time::macros::datetime;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn usd(minor: i64) -> Money {
    Money::from_minor(minor, Currency::USD)
}

fn pay() -> PaymentRef {
    PaymentRef::payment("pay_1").unwrap()
}

fn retry(n: u32) -> RetryPolicy {
    RetryPolicy::new()
        .max_retries(n)
        .base_delay(Duration::from_millis(1))
        .max_delay(Duration::from_millis(5))
}

fn keyed_client(base_url: &str) -> ReferenceClient {
    Client::<Reference>::builder()
        .api_key(KEY)
        .base_url(base_url)
        .retry(retry(2))
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

async fn reference_sandbox() -> (Sandbox, ReferenceClient) {
    let sandbox = Sandbox::start(ReferenceSkin, Ledger::new("re_")).await.unwrap();
    sandbox.ledger().seed_payment("pay_1", usd(100_000));
    let client = keyed_client(&sandbox.base_url());
    (sandbox, client)
}

/// A keyed create that never reached the ledger (three 503s): ambiguous, nothing applied.
async fn unapplied_pending(sandbox: &Sandbox, client: &ReferenceClient) -> PendingCreate {
    sandbox.faults().push(Fault::ServiceUnavailable, 3);
    let e = client
        .create_refund(&CreateRefund::new(pay()).amount(usd(1_000)))
        .await
        .expect_err("three 503s");
    assert_eq!(sandbox.ledger().refund_count(), 0);
    e.pending().expect("a 503 may hide an apply").clone()
}

fn settled_now() -> RecoveryOptions {
    RecoveryOptions::new().settle(Duration::ZERO)
}

/// Finding 1: a re-send refused for a reason that proves nothing (the key in progress, a long
/// rate limit, a rotated or wrong key, another account) is `Unknown` with its reason, never
/// `NotApplied` (at `1e2c1c2` every such refusal was `NotApplied`, and the application refunded again).
#[tokio::test]
async fn finding_1_a_refused_re_send_proves_nothing() {
    let (sandbox, client) = reference_sandbox().await;
    let pending = unapplied_pending(&sandbox, &client).await;
    let refusals = [
        (Fault::InProgress, Doubt::InProgress),
        (
            Fault::RateLimited {
                retry_after: Duration::from_secs(120),
            },
            Doubt::RateLimited,
        ),
        (Fault::Refuse(401), Doubt::NotAuthorized),
        (Fault::Refuse(403), Doubt::NotAuthorized),
        (Fault::Refuse(404), Doubt::NotFound),
    ];
    for (fault, doubt) in refusals {
        sandbox.faults().push(fault.clone(), 3);
        let verdict = client.recover_with(&pending, settled_now()).await;
        sandbox.faults().clear();
        match &verdict {
            Recovery::Unknown { doubt: seen, .. } => assert_eq!(*seen, doubt, "{fault:?}: {verdict}"),
            other => panic!("{fault:?}: {other}"),
        }
        if fault == Fault::InProgress || matches!(fault, Fault::RateLimited { .. }) {
            assert!(
                verdict.retry_after().is_some(),
                "{fault:?} says when to try again: {verdict}"
            );
        }
    }
    // Nothing was applied meanwhile; the re-send that gets through applies it once.
    assert_eq!(sandbox.ledger().refund_count(), 0);
    let verdict = client.recover_with(&pending, settled_now()).await;
    assert!(
        matches!(
            &verdict,
            Recovery::Applied {
                evidence: Evidence::SameKey { .. },
                ..
            }
        ),
        "{verdict}"
    );
    assert_eq!(sandbox.ledger().refund_count(), 1);
}

/// Only a refusal of the request's form proves the identical request can never apply.
#[tokio::test]
async fn only_a_malformed_request_is_not_applied_by_re_send() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"error": {"code": "invalid", "message": "bad", "field": "amount"}})),
        )
        .mount(&server)
        .await;
    let client = keyed_client(&server.uri());
    let pending = PendingCreate::new(
        CreateRefund::new(pay())
            .amount(usd(1_000))
            .idempotency_key(IdempotencyKey::new("key-1").unwrap()),
        "reference",
        OffsetDateTime::now_utc(),
    );
    let verdict = client.recover_with(&pending, settled_now()).await;
    assert!(
        matches!(
            &verdict,
            Recovery::NotApplied {
                evidence: Evidence::Malformed { status: Some(400), .. }
            }
        ),
        "{verdict}"
    );
    // An over-refund depends on the account's state: the original may have used the balance.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"error": {"code": "amount_too_large", "message": "too much"}})),
        )
        .mount(&server)
        .await;
    let verdict = keyed_client(&server.uri()).recover_with(&pending, settled_now()).await;
    assert!(
        matches!(
            &verdict,
            Recovery::Unknown {
                doubt: Doubt::RefusedOnState,
                ..
            }
        ),
        "{verdict}"
    );
}

const STARTED: OffsetDateTime = datetime!(2026-11-30 12:00 UTC);

fn listed_refund(id: &str, payment: PaymentRef, minor: i64, created: OffsetDateTime) -> Refund {
    Refund::new(
        RefundId::new(id).unwrap(),
        "listed",
        payment,
        usd(minor),
        RefundStatus::Succeeded,
        RawJson::parse(&format!("{{\"id\":\"{id}\"}}")).unwrap(),
    )
    .with_created_at(Some(created))
}

fn listed_pending(request: CreateRefund) -> PendingCreate {
    PendingCreate::new(request, "listed", STARTED).ended_at(STARTED + Duration::from_secs(2))
}

/// Finding 3: look-up with the default options took another actor's refund (made two minutes
/// earlier, inside the skew margin) for this create's; two pending creates both claimed it; a
/// full-refund pending create claimed a partial refund. Without a marker or a declaration, matches are
/// candidates.
#[tokio::test]
async fn finding_3_look_up_never_takes_another_actors_refund() {
    let earlier = listed_refund("re_earlier", pay(), 1_000, STARTED - Duration::from_secs(120));
    let listed = Listed::new(PagingStyle::SinglePage, vec![earlier]);
    let options = || RecoveryOptions::new().now(STARTED + Duration::from_secs(120));
    let first = listed_pending(CreateRefund::new(pay()).amount(usd(1_000)));
    let second = listed_pending(CreateRefund::new(pay()).amount(usd(1_000)));
    for pending in [&first, &second] {
        let verdict = listed.recover_with(pending, options()).await;
        assert!(
            matches!(&verdict, Recovery::Candidates { refunds, .. } if refunds.len() == 1),
            "{verdict}"
        );
    }
    let partial = listed_refund("re_partial", pay(), 400, STARTED + Duration::from_secs(1));
    let listed = Listed::new(PagingStyle::Offset, vec![partial]);
    let full = listed_pending(CreateRefund::new(pay()));
    let verdict = listed.recover_with(&full, options()).await;
    assert!(
        !verdict.is_applied(),
        "a full-refund pending create is never matched to a refund: {verdict}"
    );
}

/// Finding 5: the settle window counts from when the last attempt ended, not from the call's start: a
/// create that used its whole 60 s deadline is not "settled" the moment it fails.
#[tokio::test]
async fn finding_5_the_settle_window_counts_from_the_last_attempt() {
    let listed = Listed::new(PagingStyle::Offset, vec![]);
    let pending = PendingCreate::new(CreateRefund::new(pay()).amount(usd(1_000)), "listed", STARTED)
        .ended_at(STARTED + Duration::from_secs(60));
    let right_after = RecoveryOptions::new().now(STARTED + Duration::from_secs(61));
    match listed.recover_with(&pending, right_after).await {
        Recovery::Unknown {
            doubt: Doubt::NotSettled,
            retry_after: Some(left),
            ..
        } => assert_eq!(left, Duration::from_secs(59)),
        other => panic!("{other}"),
    }
    let later = RecoveryOptions::new().now(STARTED + Duration::from_secs(121));
    assert!(listed.recover_with(&pending, later).await.is_not_applied());
}

/// Finding 6: a pending create older than the provider keeps keys is never sent again (the re-send
/// would be a new refund once the key is forgotten); recovery looks up instead.
#[tokio::test]
async fn finding_6_an_old_pending_create_is_never_sent_again() {
    let (sandbox, client) = reference_sandbox().await;
    let key = IdempotencyKey::new("order-77-refund").unwrap();
    let request = CreateRefund::new(pay()).amount(usd(1_000)).idempotency_key(key.clone());
    client.create_refund(&request).await.expect("applied");
    sandbox.ledger().forget_idempotency_key(key.as_str());
    let yesterday = OffsetDateTime::now_utc() - Duration::from_secs(25 * 3600);
    let pending = PendingCreate::new(request, "reference", yesterday).ended_at(yesterday + Duration::from_secs(1));
    let posts_before = posts(&sandbox);
    let verdict = client.recover(&pending).await;
    assert_eq!(posts(&sandbox), posts_before, "no create was sent: {verdict}");
    assert_eq!(sandbox.ledger().refund_count(), 1, "{verdict}");
    assert!(!verdict.is_not_applied(), "the refund exists: {verdict}");
}

fn posts(sandbox: &Sandbox) -> usize {
    sandbox
        .recent_requests()
        .iter()
        .filter(|r| r.method == http::Method::POST)
        .count()
}

/// Finding 7: the answer to a create is compared with the request: asked USD 10.00 and answered
/// 1000.00 EGP (or another payment's refund) is an error carrying the refund, never `Ok`.
#[tokio::test]
async fn finding_7_an_answer_that_differs_from_the_request_is_never_ok() {
    let answers = [
        (
            "currency",
            json!({"id": "re_1", "payment": "pay_1", "amount": 100_000, "currency": "EGP", "status": "pending"}),
        ),
        (
            "payment",
            json!({"id": "re_1", "payment": "pay_2", "amount": 1_000, "currency": "USD", "status": "pending"}),
        ),
        (
            "amount",
            json!({"id": "re_1", "payment": "pay_1", "amount": 999, "currency": "USD", "status": "pending"}),
        ),
    ];
    for (field, answer) in answers {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(answer))
            .mount(&server)
            .await;
        let e = keyed_client(&server.uri())
            .create_refund(&CreateRefund::new(pay()).amount(usd(1_000)))
            .await
            .expect_err(field);
        assert_eq!(e.kind(), &ErrorKind::AnswerMismatch { field: field.into() }, "{e}");
        assert_eq!(e.delivery(), Delivery::Applied);
        assert_eq!(e.refund().expect("the refund travels").id.as_str(), "re_1");
        assert!(e.pending().is_none() && !e.is_retryable() && !e.is_ambiguous());
    }
}

/// Finding 8 and problem 1 of the ecosystem review: a keyed create refused with a 429 may hide an
/// apply: `Ambiguous`, with a pending create, and never retryable; a definite refusal (over-refund,
/// unknown payment) is `Rejected` with no pending create.
#[tokio::test]
async fn finding_8_and_problem_1_what_a_refusal_proves() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "120")
                .set_body_json(json!({"error": {"code": "rate_limited", "message": "slow down"}})),
        )
        .mount(&server)
        .await;
    let e = keyed_client(&server.uri())
        .create_refund(&CreateRefund::new(pay()).amount(usd(1_000)))
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.delivery()), (&ErrorKind::RateLimited, Delivery::Ambiguous));
    assert!(e.pending().is_some() && !e.is_retryable(), "{e:?}");

    let (sandbox, client) = reference_sandbox().await;
    let over = client
        .create_refund(&CreateRefund::new(pay()).amount(usd(1_000_000)))
        .await
        .unwrap_err();
    assert_eq!(
        (over.kind(), over.delivery()),
        (&ErrorKind::AmountExceedsRefundable, Delivery::Rejected)
    );
    assert!(over.pending().is_none(), "a definite refusal carries no pending create");
    let unknown = client
        .create_refund(&CreateRefund::new(PaymentRef::payment("pay_nope").unwrap()).amount(usd(1)))
        .await
        .unwrap_err();
    assert_eq!(unknown.delivery(), Delivery::Rejected);
    assert!(unknown.pending().is_none(), "{unknown}");
    assert_eq!(sandbox.ledger().refund_count(), 0);
}

/// A provider whose list never ends: every page holds new refunds (of another payment) and a next
/// cursor. It counts the pages it served.
#[derive(Debug)]
struct Endless {
    info: ProviderInfo,
    served: Arc<AtomicUsize>,
}

#[async_trait]
impl RefundProvider for Endless {
    fn info(&self) -> &ProviderInfo {
        &self.info
    }
    async fn create_refund(&self, _: &CreateRefund) -> refunds::Result<Refund> {
        unreachable!("look-up only")
    }
    async fn get_refund(&self, _: &RefundId) -> refunds::Result<Refund> {
        unreachable!()
    }
    async fn list_refunds(&self, _: &ListRefunds) -> refunds::Result<Page<Refund>> {
        let n = self.served.fetch_add(1, Ordering::SeqCst);
        let items = (0..10)
            .map(|i| {
                let id = format!("re_{n}_{i}");
                listed_refund(&id, PaymentRef::payment("pay_other").unwrap(), 1_000, STARTED)
            })
            .collect();
        Ok(Page::new(items, Some(PageCursor::from_token(format!("c{n}"))), None))
    }
}

/// Finding 11: recovery's walk is bounded (pages and time): a server that keeps inventing pages gets
/// `Unknown` after the bound, not an endless walk.
#[tokio::test]
async fn finding_11_the_look_up_walk_is_bounded() {
    let served = Arc::new(AtomicUsize::new(0));
    let endless = Endless {
        info: ProviderInfo::new("listed", "Listed", Capabilities::new().list(Some(PagingStyle::Cursor))),
        served: served.clone(),
    };
    let pending = listed_pending(CreateRefund::new(pay()).amount(usd(1_000)));
    let options = RecoveryOptions::new()
        .now(STARTED + Duration::from_secs(600))
        .walk_bounds(25, Duration::from_secs(30));
    let verdict = tokio::time::timeout(Duration::from_secs(10), endless.recover_with(&pending, options))
        .await
        .expect("the walk ends");
    assert!(
        matches!(
            &verdict,
            Recovery::Unknown {
                doubt: Doubt::WalkBounded,
                ..
            }
        ),
        "{verdict}"
    );
    assert!(
        served.load(Ordering::SeqCst) <= 25,
        "{} pages",
        served.load(Ordering::SeqCst)
    );
}
