//! The limiter's behaviour on tokio's paused clock (no wall-clock timing): a 429 pauses every call of
//! the account for its `Retry-After`, capped; without one the pause doubles; calls in flight are
//! bounded; a create goes through the limiter to the real client unchanged.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use refunds::{
    Capabilities, CreateRefund, Currency, Delivery, Error, ErrorKind, ListRefunds, Money, Page, PaymentRef,
    ProviderInfo, Refund, RefundId, RefundProvider, Result,
};
use refunds_ratelimit::{Limits, RateLimited};
use tokio::time::Instant;

/// A provider whose gets answer from a script (then "not found"), each taking 10 ms.
#[derive(Debug)]
struct Scripted {
    info: ProviderInfo,
    answers: Mutex<VecDeque<Error>>,
    in_flight: AtomicUsize,
    most: AtomicUsize,
}

impl Scripted {
    fn new(answers: Vec<Error>) -> Arc<Scripted> {
        Arc::new(Scripted {
            info: ProviderInfo::new("scripted", "Scripted", Capabilities::new()),
            answers: Mutex::new(answers.into()),
            in_flight: AtomicUsize::new(0),
            most: AtomicUsize::new(0),
        })
    }
}

fn rate_limited(retry_after: Option<Duration>) -> Error {
    Error::new(ErrorKind::RateLimited, Delivery::Rejected, "slow down")
        .with_http_status(429)
        .with_retry_after(retry_after)
}

#[async_trait]
impl RefundProvider for Scripted {
    fn info(&self) -> &ProviderInfo {
        &self.info
    }
    async fn create_refund(&self, _: &CreateRefund) -> Result<Refund> {
        Err(Error::unsupported("no creates"))
    }
    async fn get_refund(&self, _: &RefundId) -> Result<Refund> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(10)).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        let next = self.answers.lock().expect("answers").pop_front();
        Err(next.unwrap_or_else(|| Error::new(ErrorKind::NotFound, Delivery::Rejected, "no such refund")))
    }
    async fn list_refunds(&self, _: &ListRefunds) -> Result<Page<Refund>> {
        Err(Error::unsupported("no lists"))
    }
}

fn id() -> RefundId {
    RefundId::new("re_1").expect("id")
}

#[tokio::test(start_paused = true)]
async fn a_429_pauses_the_account_for_its_retry_after_never_longer_than_the_cap() {
    let inner = Scripted::new(vec![rate_limited(Some(Duration::from_secs(3600)))]);
    let limited = RateLimited::new(inner, Limits::per_second(1000).max_pause(Duration::from_secs(60)));
    let start = Instant::now();
    assert_eq!(
        limited.get_refund(&id()).await.unwrap_err().kind(),
        &ErrorKind::RateLimited
    );
    assert_eq!(
        limited.get_refund(&id()).await.unwrap_err().kind(),
        &ErrorKind::NotFound
    );
    let waited = start.elapsed();
    assert!(waited >= Duration::from_secs(60), "{waited:?}");
    assert!(
        waited < Duration::from_secs(61),
        "capped, not the server's hour: {waited:?}"
    );
    let stats = limited.stats();
    assert_eq!((stats.calls, stats.rate_limited, stats.paused_ms), (2, 1, 60_000));
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_honoured_and_without_one_the_pause_doubles() {
    let inner = Scripted::new(vec![
        rate_limited(Some(Duration::from_secs(5))),
        rate_limited(None),
        rate_limited(None),
    ]);
    let limited = RateLimited::new(inner, Limits::per_second(1000).first_pause(Duration::from_secs(1)));
    for _ in 0..4 {
        let _ = limited.get_refund(&id()).await;
    }
    // 5 s asked, then 2 s and 4 s (the second and third 429 in a row, no wait named).
    assert_eq!(limited.stats().paused_ms, 11_000);
}

#[tokio::test(start_paused = true)]
async fn calls_in_flight_are_bounded() {
    let inner = Scripted::new(Vec::new());
    let limited = Arc::new(RateLimited::new(
        inner.clone(),
        Limits::per_second(1000).burst(1000).concurrency(3),
    ));
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let limited = limited.clone();
        calls.spawn(async move { limited.get_refund(&id()).await });
    }
    while calls.join_next().await.is_some() {}
    assert_eq!(inner.most.load(Ordering::SeqCst), 3);
    assert_eq!(limited.stats().calls, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_goes_through_to_the_client_unchanged() {
    let sandbox = refunds_wooshpay::sandbox::start().await.expect("sandbox");
    sandbox
        .ledger()
        .seed_payment("pi_1", Money::from_minor(10_000, Currency::EUR));
    let client = refunds_wooshpay::sandbox::builder_for(&sandbox)
        .build()
        .expect("client");
    let limited = RateLimited::new(Arc::new(client), Limits::per_second(50));
    let request = CreateRefund::new(PaymentRef::payment_intent("pi_1").expect("payment"))
        .amount(Money::from_minor(2_500, Currency::EUR));
    let refund = limited.create_refund(&request).await.expect("create");
    assert_eq!(refund.amount, Money::from_minor(2_500, Currency::EUR));
    assert_eq!(limited.get_refund(&refund.id).await.expect("get").id, refund.id);
    assert_eq!(sandbox.request_count(), 2);
    assert_eq!(limited.info().id, "wooshpay");
}
