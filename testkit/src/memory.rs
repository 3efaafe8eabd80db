//! The in-memory reference provider: a `RefundProvider` over the simulated [`Ledger`], with
//! injectable failures, that passes the conformance suite without any HTTP.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;

use crate::harness::{Backend, Harness, HarnessOptions, Situation};
use refunds::RawJson;
use refunds::adapter::paging::{check_limit, offset};
use refunds::adapter::{RetryPolicy, Secret};
use refunds::sandbox::{Ledger, LedgerError, RefundDraft, RefundRecord};
use refunds::{Capabilities, IdempotencySupport, PagingStyle, ProviderInfo, RefundProvider};
use refunds::{CreateRefund, ListRefunds, Page, Refund};
use refunds::{Delivery, Error, ErrorKind, FieldError, Result};
use refunds::{PaymentRef, PaymentRefKind, RefundId};

/// A failure the next call meets, as a real provider would answer it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Fault {
    RateLimited(u64),
    ServerError,
    Validation,
}

/// An in-memory provider over a [`Ledger`]: keeps payments and refunds, enforces the refundable
/// balance, honours idempotency keys, and retries like the HTTP transport does.
pub struct MemoryProvider {
    info: ProviderInfo,
    ledger: Ledger,
    api_key: Secret,
    retry: RetryPolicy,
    faults: Mutex<VecDeque<Fault>>,
    unauthorized: AtomicBool,
    malformed: Mutex<HashSet<String>>,
    calls: AtomicUsize,
    last_create: Mutex<Option<CreateRefund>>,
    latency: Mutex<Duration>,
}

impl fmt::Debug for MemoryProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryProvider")
            .field("api_key", &self.api_key)
            .field("refunds", &self.ledger.refund_count())
            .finish_non_exhaustive()
    }
}

impl MemoryProvider {
    /// Provider id written into refunds.
    pub const ID: &'static str = "memory";

    /// A provider over `ledger`, making up to `max_retries` retries.
    pub fn new(ledger: Ledger, max_retries: u32) -> MemoryProvider {
        let capabilities = Capabilities::new()
            .list(Some(PagingStyle::Offset))
            .list_status_filter(true)
            .idempotency(IdempotencySupport::Header)
            .payment_kinds(&[PaymentRefKind::Payment]);
        MemoryProvider {
            info: ProviderInfo::new(Self::ID, "In-memory reference", capabilities),
            ledger,
            api_key: Secret::new("sk_test_memory_0123456789"),
            retry: RetryPolicy::new()
                .max_retries(max_retries)
                .base_delay(Duration::from_millis(1))
                .max_delay(Duration::from_millis(5)),
            faults: Mutex::new(VecDeque::new()),
            unauthorized: AtomicBool::new(false),
            malformed: Mutex::new(HashSet::new()),
            calls: AtomicUsize::new(0),
            last_create: Mutex::new(None),
            latency: Mutex::new(Duration::ZERO),
        }
    }

    /// Every call waits this long before answering, like a network round trip (for benchmarks).
    pub fn set_latency(&self, latency: Duration) {
        *self.latency.lock().unwrap_or_else(|p| p.into_inner()) = latency;
    }

    /// The ledger behind it.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    fn error(&self, kind: ErrorKind, status: u16, message: impl Into<String>) -> Error {
        let delivery = if status >= 500 {
            Delivery::Ambiguous
        } else {
            Delivery::Rejected
        };
        Error::new(kind, delivery, message)
            .with_provider(Self::ID)
            .with_http_status(status)
    }

    /// One simulated round trip: counts the call, applies planned failures, then `op`.
    fn round_trip<T>(&self, replay_safe: bool, op: &dyn Fn() -> Result<T>) -> Result<T> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.unauthorized.load(Ordering::SeqCst) {
            return Err(self.error(ErrorKind::Authentication, 401, "invalid api key"));
        }
        let fault = self.faults.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
        let result = match fault {
            Some(Fault::RateLimited(secs)) => Err(self
                .error(ErrorKind::RateLimited, 429, "too many requests")
                .with_retry_after(Some(Duration::from_secs(secs)))),
            Some(Fault::ServerError) => Err(self.error(ErrorKind::ProviderUnavailable, 500, "internal error")),
            Some(Fault::Validation) => Err(self
                .error(ErrorKind::Validation, 422, "invalid amount")
                .with_field_errors(vec![FieldError::new("amount", "invalid amount", None)])),
            None => op(),
        };
        result.map_err(|e| e.with_replay_safe(replay_safe))
    }

    async fn call<T>(&self, replay_safe: bool, op: &(dyn Fn() -> Result<T> + Sync)) -> Result<T> {
        let mut retry = 0;
        loop {
            let latency = *self.latency.lock().unwrap_or_else(|p| p.into_inner());
            if !latency.is_zero() {
                tokio::time::sleep(latency).await;
            }
            match self.round_trip(replay_safe, op) {
                Ok(v) => return Ok(v),
                Err(e) => match self.retry.next_retry(retry, &e, replay_safe) {
                    Some(wait) => {
                        tokio::time::sleep(wait).await;
                        retry += 1;
                    }
                    None => return Err(e),
                },
            }
        }
    }

    fn to_refund(record: &RefundRecord) -> Result<Refund> {
        let raw = serde_json::json!({
            "id": record.id,
            "payment": record.payment_id,
            "amount": record.amount.minor(),
            "currency": record.amount.currency().code(),
            "status": record.status.as_str(),
            "reason": record.reason,
            "reference": record.reference,
        });
        let refund = Refund::new(
            RefundId::new(record.id.clone())?,
            Self::ID,
            PaymentRef::payment(record.payment_id.clone())?,
            record.amount,
            record.status.clone(),
            RawJson::from_value(&raw),
        )
        .with_reason(record.reason.as_deref().map(refunds::RefundReason::from_name))
        .with_merchant_reference(record.reference.clone())
        .with_description(record.description.clone())
        .with_fee(record.fee)
        .with_created_at(Some(record.created_at))
        .with_updated_at(Some(record.updated_at))
        .with_completed_at(record.completed_at)
        .with_livemode(Some(false))
        .with_metadata(record.metadata.clone());
        Ok(refund)
    }

    fn ledger_error(&self, e: LedgerError) -> Error {
        let (kind, status) = match &e {
            LedgerError::PaymentNotFound(_) => (ErrorKind::NotFound, 404),
            LedgerError::AmountExceedsRefundable { .. } => (ErrorKind::AmountExceedsRefundable, 400),
            LedgerError::AlreadyRefunded(_) => (ErrorKind::AlreadyRefunded, 400),
            LedgerError::IdempotencyConflict => (ErrorKind::IdempotencyConflict, 409),
            _ => (ErrorKind::Validation, 400),
        };
        self.error(kind, status, e.to_string())
    }
}

#[async_trait]
impl RefundProvider for MemoryProvider {
    fn info(&self) -> &ProviderInfo {
        &self.info
    }

    async fn create_refund(&self, request: &CreateRefund) -> Result<Refund> {
        request.validate()?;
        let payment_id = request
            .payment()
            .expect_kind(self.info.name, &self.info.capabilities.payment_kinds)?;
        *self.last_create.lock().unwrap_or_else(|p| p.into_inner()) = Some(request.clone());
        let mut draft = RefundDraft::new(payment_id);
        draft.amount_minor = request.amount_requested().map(|m| m.minor());
        draft.currency = request.amount_requested().map(|m| m.currency());
        draft.reason = request.reason_given().map(|r| r.as_str().to_owned());
        draft.reference = request.merchant_reference_given().map(str::to_owned);
        draft.description = request.description_given().map(str::to_owned);
        draft.metadata = request.metadata_given().clone();
        draft.idempotency_key = request.idempotency_key_given().map(|k| k.as_str().to_owned());
        draft.fingerprint = serde_json::to_string(request).unwrap_or_default();
        let replay_safe = draft.idempotency_key.is_some();
        let op = || {
            let outcome = self
                .ledger
                .create_refund(draft.clone())
                .map_err(|e| self.ledger_error(e))?;
            Self::to_refund(outcome.record())
        };
        self.call(replay_safe, &op).await.map_err(|e| {
            if e.is_ambiguous() {
                let pending =
                    refunds::PendingCreate::new(request.clone(), "memory", refunds::OffsetDateTime::now_utc());
                e.with_pending(pending)
            } else {
                e
            }
        })
    }

    async fn get_refund(&self, id: &RefundId) -> Result<Refund> {
        let op = || {
            if self
                .malformed
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .contains(id.as_str())
            {
                return Err(Error::decode("response body: expected value at line 1 column 1")
                    .with_provider(Self::ID)
                    .with_http_status(200)
                    .with_body(b"<html>oops</html>"));
            }
            match self.ledger.refund(id.as_str()) {
                Some(record) => Self::to_refund(&record),
                None => Err(self.error(ErrorKind::NotFound, 404, format!("no refund {id}"))),
            }
        };
        self.call(true, &op).await
    }

    async fn list_refunds(&self, request: &ListRefunds) -> Result<Page<Refund>> {
        let limit = check_limit(request.limit_requested(), 1..=100, 10)?;
        let start = offset::from_cursor(Self::ID, request.cursor_given())?;
        let status = request.status_filter().cloned();
        let op = || {
            let skip = usize::try_from(start).unwrap_or(usize::MAX);
            let (records, total) = self
                .ledger
                .refunds_page(skip, limit as usize, |r| status.as_ref().is_none_or(|s| &r.status == s));
            let items = records.iter().map(Self::to_refund).collect::<Result<Vec<_>>>()?;
            let total = total as u64;
            Ok(offset::page(Self::ID, items, start, Some(total), limit))
        };
        self.call(true, &op).await
    }
}

/// The conformance harness for [`MemoryProvider`]: the suite's reference run.
#[derive(Debug, Clone, Copy, Default)]
pub struct MemoryHarness;

/// A [`MemoryProvider`] arranged by the conformance suite.
#[derive(Debug)]
pub struct MemoryBackend {
    provider: Arc<MemoryProvider>,
}

impl MemoryBackend {
    /// The provider.
    pub fn provider(&self) -> &Arc<MemoryProvider> {
        &self.provider
    }
}

#[async_trait]
impl Harness for MemoryHarness {
    async fn start(&self, options: HarnessOptions) -> Box<dyn Backend> {
        Box::new(MemoryBackend {
            provider: Arc::new(MemoryProvider::new(Ledger::new("re_"), options.max_retries)),
        })
    }
}

#[async_trait]
impl Backend for MemoryBackend {
    fn client(&self) -> Arc<dyn RefundProvider> {
        self.provider.clone()
    }

    fn api_key(&self) -> String {
        self.provider.api_key.expose().to_owned()
    }

    fn debug_strings(&self) -> Vec<String> {
        vec![format!("{:?}", self.provider), format!("{:?}", self.provider.api_key)]
    }

    fn payment_ref(&self, id: &str) -> PaymentRef {
        PaymentRef::payment(id).expect("valid id")
    }

    fn foreign_payment_ref(&self, id: &str) -> Option<PaymentRef> {
        PaymentRef::charge(id).ok()
    }

    fn has_configured_currency(&self) -> bool {
        false
    }

    async fn arrange(&self, situation: Situation) {
        let p = &self.provider;
        let ledger = &p.ledger;
        match situation {
            Situation::Refundable {
                payment_id, captured, ..
            } => ledger.seed_payment(&payment_id, captured),
            Situation::Existing { refunds } => {
                for f in refunds {
                    ledger.insert_refund(RefundRecord::new(f.id, f.payment_id, f.amount, f.status));
                }
            }
            Situation::OverRefund { payment_id, refundable } => ledger.seed_payment(&payment_id, refundable),
            Situation::UnknownPayment { .. } | Situation::NotFound { .. } => {}
            Situation::Unauthorized => p.unauthorized.store(true, Ordering::SeqCst),
            Situation::ValidationError => p
                .faults
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push_back(Fault::Validation),
            Situation::RateLimited {
                times,
                retry_after_secs,
            } => {
                let mut faults = p.faults.lock().unwrap_or_else(|e| e.into_inner());
                faults.extend(std::iter::repeat_n(Fault::RateLimited(retry_after_secs), times));
            }
            Situation::ServerError { times } => {
                let mut faults = p.faults.lock().unwrap_or_else(|e| e.into_inner());
                faults.extend(std::iter::repeat_n(Fault::ServerError, times));
            }
            Situation::MalformedBody { id } => {
                p.malformed.lock().unwrap_or_else(|e| e.into_inner()).insert(id);
            }
        }
    }

    async fn request_count(&self) -> usize {
        self.provider.calls.load(Ordering::SeqCst)
    }

    async fn check_last_create(&self, request: &CreateRefund) {
        let last = self
            .provider
            .last_create
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        assert_eq!(
            last.as_ref(),
            Some(request),
            "the provider received the request as built"
        );
    }
}
