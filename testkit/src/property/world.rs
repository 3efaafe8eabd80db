//! One sequence's world: the sandbox, the other actors, and the application, which follows the
//! verdicts as the README tells it to.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use refunds::sandbox::{RefundRecord, Sandbox};
use refunds::{
    CreateRefund, Currency, Error, MarkerField, Money, OffsetDateTime, PaymentRef, PendingCreate, RecoverExt, Recovery,
    RecoveryOptions, Refund, RefundId, RefundReason, RefundStatus,
};

use super::plan::{IntentPlan, OtherPlan, OtherWhen, RecoverWhen, Sequence};
use super::{Mode, SETTLE, Subject};

/// The two amounts (minor units): shared amounts make creates indistinguishable by content.
pub(crate) const AMOUNTS: [i64; 2] = [1_000, 2_000];

/// What each payment is worth (minor units).
pub(crate) const CAPTURED: i64 = 1_000_000;

/// The metadata key, or the reason prefix, that tags a create with the call that made it.
pub(crate) const TAG_KEY: &str = "test_call";

/// Another actor's refunds have ids starting with this.
pub(crate) const OTHER_PREFIX: &str = "re_other_";

/// Where a create's call tag travels, so that the ledger says exactly which call made each refund.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tagging {
    /// A metadata entry (a Stripe-style provider).
    Metadata,
    /// The reason, free text (4Geeks, SyncgramPay, the reference provider).
    Reason,
    /// Nowhere: the idempotency key says it (Bias).
    Key,
}

/// One create of an intent: the intent, and which create of it (0, then again after "not applied").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct CallId {
    pub intent: usize,
    pub round: usize,
}

impl CallId {
    fn tag(&self) -> String {
        format!("i{}r{}", self.intent, self.round)
    }

    pub(crate) fn parse(tag: &str) -> Option<CallId> {
        let (intent, round) = tag.strip_prefix('i')?.split_once('r')?;
        Some(CallId {
            intent: intent.parse().ok()?,
            round: round.parse().ok()?,
        })
    }
}

/// How a create ended for the application, after recovery.
#[derive(Debug, Clone)]
pub(crate) enum CallEnd {
    /// The create answered with its refund: booked.
    Booked(Refund),
    /// The create answered with a refund that differs from it: booked as answered, flagged.
    Mismatched(Refund),
    /// Refused: nothing applied, nothing to recover.
    Refused,
    /// Recovery said applied: booked.
    Applied(Refund),
    /// Recovery said not applied: the application created again.
    NotApplied,
    /// Recovery could not tell after its bounded tries: left to a person.
    Escalated,
}

/// One create as the application saw it.
#[derive(Debug, Clone)]
pub(crate) struct CallRecord {
    pub id: CallId,
    /// Its idempotency key, where the application learned it (a pending create carries it).
    pub key: Option<String>,
    pub end: CallEnd,
    /// The recovery verdicts met, as `name: evidence or doubt`.
    pub verdicts: Vec<String>,
}

/// What the application keeps per payment (declared mode): the refunds booked, and how many of its
/// creates of the payment are unresolved.
#[derive(Debug, Default)]
struct Books {
    booked: HashMap<usize, Vec<RefundId>>,
    unresolved: HashMap<usize, usize>,
}

/// One sequence's world.
pub(crate) struct World<'a> {
    pub sandbox: &'a Sandbox,
    pub subject: &'a Subject,
    pub currency: Currency,
    pub payments: Vec<PaymentRef>,
    pub tagging: Tagging,
    pub mode: Mode,
    pub plan: &'a Sequence,
    pub kinds: Vec<refunds::sandbox::Fault>,
    books: Mutex<Books>,
    /// Intents whose first create has not returned yet: the fault rate changes when none is left.
    first_creates: std::sync::atomic::AtomicUsize,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl<'a> World<'a> {
    pub(crate) fn new(
        sandbox: &'a Sandbox,
        subject: &'a Subject,
        currency: Currency,
        plan: &'a Sequence,
        mode: Mode,
        kinds: Vec<refunds::sandbox::Fault>,
    ) -> Self {
        let info = subject.provider.info();
        let caps = &info.capabilities;
        let payment_kinds = &caps.payment_kinds;
        let payments = (0..2)
            .map(|i| {
                let kind = payment_kinds[i % payment_kinds.len()];
                PaymentRef::new(kind, format!("pay_prop_{i}")).expect("payment id")
            })
            .collect();
        let tagging = if caps.carries.metadata {
            Tagging::Metadata
        } else if caps.carries.reason {
            Tagging::Reason
        } else {
            Tagging::Key
        };
        World {
            sandbox,
            subject,
            currency,
            payments,
            tagging,
            mode,
            plan,
            kinds,
            // Every create the application plans is unresolved from the start: an intent that has
            // not begun yet may begin during another's recovery, so only the last unresolved
            // create of a payment may declare it exclusive (a real application that declares
            // exclusivity makes no other refund of the payment meanwhile).
            books: Mutex::new(Books {
                booked: HashMap::new(),
                unresolved: plan.intents.iter().fold(HashMap::new(), |mut n, intent| {
                    *n.entry(intent.payment).or_default() += 1;
                    n
                }),
            }),
            first_creates: std::sync::atomic::AtomicUsize::new(plan.intents.len()),
        }
    }

    /// Seeds the payments and the refunds made before the creates; returns the ids of refunds the
    /// application made itself earlier (declared mode), which it has booked.
    pub(crate) fn seed(&self) -> Vec<String> {
        let ledger = self.sandbox.ledger();
        ledger.follow_system_clock();
        for p in &self.payments {
            ledger.seed_payment(p.id(), Money::from_minor(CAPTURED, self.currency));
        }
        let mut own = Vec::new();
        let now = OffsetDateTime::now_utc();
        for (n, other) in self.plan.others.iter().enumerate() {
            let back = match other.when {
                OtherWhen::LongBefore => Duration::from_secs(3_600),
                OtherWhen::WithinSkew => Duration::from_secs(120),
                _ => continue,
            };
            let id = self.insert_other(n, other, now - back);
            if self.mode == Mode::Declared {
                lock(&self.books)
                    .booked
                    .entry(other.payment)
                    .or_default()
                    .push(RefundId::new(id.clone()).expect("id"));
                own.push(id);
            }
        }
        ledger.set_clock_skew_secs(self.plan.skew_secs);
        let plan = self.plan;
        self.sandbox
            .faults()
            .random(plan.per_mille, plan.seed, self.kinds.clone());
        own
    }

    /// Inserts another actor's refund at `at`; its id.
    fn insert_other(&self, n: usize, other: &OtherPlan, at: OffsetDateTime) -> String {
        let id = format!("{OTHER_PREFIX}{n}");
        let payment = self.payments[other.payment].id();
        let mut record = RefundRecord::new(
            id.clone(),
            payment,
            Money::from_minor(AMOUNTS[other.amount], self.currency),
            RefundStatus::Succeeded,
        );
        if other.marked && self.mode == Mode::Busy {
            match self.subject.provider.info().capabilities.marker {
                Some(MarkerField::Metadata(key)) => {
                    record.metadata.insert(key.to_owned(), format!("rfm_other_{n}"));
                }
                Some(MarkerField::MerchantReference) => record.reference = Some(format!("rfm_other_{n}")),
                _ => {}
            }
        }
        self.sandbox.ledger().insert_refund_at(record, at);
        id
    }

    /// The other actors acting during and after the creates (busy mode only).
    pub(crate) async fn act_later(&self) {
        if self.mode != Mode::Busy {
            return;
        }
        let started = tokio::time::Instant::now();
        let mut later: Vec<(u16, usize, &OtherPlan)> = self
            .plan
            .others
            .iter()
            .enumerate()
            .filter_map(|(n, o)| match o.when {
                OtherWhen::During(ms) | OtherWhen::After(ms) => Some((ms, n, o)),
                _ => None,
            })
            .collect();
        later.sort_by_key(|(ms, _, _)| *ms);
        for (ms, n, other) in later {
            tokio::time::sleep_until(started + Duration::from_millis(u64::from(ms))).await;
            self.insert_other(n, other, OffsetDateTime::now_utc());
        }
    }

    /// The application's work for one intent: create; follow the verdicts.
    pub(crate) async fn intent(&self, index: usize) -> Vec<CallRecord> {
        let intent = self.plan.intents[index];
        let mut calls = Vec::new();
        for round in 0..3 {
            let id = CallId { intent: index, round };
            let created = self.create(&intent, id).await;
            if round == 0 && self.first_creates.fetch_sub(1, std::sync::atomic::Ordering::SeqCst) == 1 {
                let plan = self.plan;
                let seed = plan.seed.rotate_left(17);
                self.sandbox
                    .faults()
                    .random(plan.recovery_per_mille, seed, self.kinds.clone());
            }
            let record = match created {
                Ok(refund) => self.call(id, None, CallEnd::Booked(refund), Vec::new()),
                Err(e) => match (e.refund(), e.pending()) {
                    (Some(refund), _) => self.call(id, None, CallEnd::Mismatched(refund.clone()), Vec::new()),
                    (None, Some(pending)) => self.recover(id, pending.clone(), &intent).await,
                    (None, None) => self.call(id, None, CallEnd::Refused, Vec::new()),
                },
            };
            let again = matches!(record.end, CallEnd::NotApplied);
            self.settle_books(&intent, &record.end);
            calls.push(record);
            if !again {
                break;
            }
        }
        calls
    }

    fn call(&self, id: CallId, key: Option<String>, end: CallEnd, verdicts: Vec<String>) -> CallRecord {
        CallRecord { id, key, end, verdicts }
    }

    fn settle_books(&self, intent: &IntentPlan, end: &CallEnd) {
        let mut books = lock(&self.books);
        let refund = match end {
            CallEnd::Booked(r) | CallEnd::Mismatched(r) | CallEnd::Applied(r) => Some(r.id.clone()),
            CallEnd::Refused => None,
            CallEnd::NotApplied | CallEnd::Escalated => return,
        };
        if let Some(id) = refund {
            books.booked.entry(intent.payment).or_default().push(id);
        }
        if let Some(n) = books.unresolved.get_mut(&intent.payment) {
            *n = n.saturating_sub(1);
        }
    }

    /// One create of `intent`, tagged with its call.
    async fn create(&self, intent: &IntentPlan, id: CallId) -> Result<Refund, Error> {
        let mut request = CreateRefund::new(self.payments[intent.payment].clone());
        if let Some(amount) = intent.amount {
            let currency = if intent.other_currency {
                other_currency(self.currency)
            } else {
                self.currency
            };
            request = request.amount(Money::from_minor(AMOUNTS[amount], currency));
        }
        request = match self.tagging {
            Tagging::Metadata => request.metadata(TAG_KEY, id.tag()),
            Tagging::Reason => request.reason(RefundReason::Other(format!("{TAG_KEY} {}", id.tag()))),
            Tagging::Key => request,
        };
        match (&self.subject.create_with_options, intent.options) {
            (Some(with_options), true) => with_options(request).await,
            _ => self.subject.provider.create_refund(&request).await,
        }
    }

    /// Recovers `pending` at the plan's times, at most three times, and follows the verdict.
    async fn recover(&self, id: CallId, pending: PendingCreate, intent: &IntentPlan) -> CallRecord {
        let key = pending.request.idempotency_key_given().map(|k| k.as_str().to_owned());
        let mut verdicts = Vec::new();
        // Time only moves forward: once the provider forgot the key, every later recovery knows it.
        let mut forgotten = false;
        // A re-send of an earlier recovery is an attempt too: "after the settle window" counts from
        // the latest of them.
        let mut last_sent = pending.ended_at;
        for when in self.plan.recover_at {
            forgotten |= when == RecoverWhen::AfterKeyForgotten;
            let mut options = self.wait(when, last_sent, key.as_deref()).await;
            if forgotten {
                options = options.key_retention(Duration::ZERO);
            }
            let options = self.declare(options, intent);
            let verdict = self.subject.provider.recover_with(&pending, options).await;
            last_sent = OffsetDateTime::now_utc();
            verdicts.push(verdict_key(&verdict));
            let end = match verdict {
                Recovery::Applied { refund, .. } => CallEnd::Applied(*refund),
                Recovery::NotApplied { .. } => CallEnd::NotApplied,
                _ => continue,
            };
            return self.call(id, key, end, verdicts);
        }
        self.call(id, key, CallEnd::Escalated, verdicts)
    }

    /// Waits until `when` and returns the recovery options that say the truth about the world then.
    async fn wait(&self, when: RecoverWhen, last_sent: OffsetDateTime, key: Option<&str>) -> RecoveryOptions {
        let options = RecoveryOptions::new().settle(SETTLE);
        match when {
            RecoverWhen::AtOnce => options,
            RecoverWhen::InsideSettle => {
                tokio::time::sleep(SETTLE / 4).await;
                options
            }
            RecoverWhen::AfterSettle => {
                sleep_past(last_sent, SETTLE).await;
                options
            }
            RecoverWhen::AfterKeyForgotten => {
                sleep_past(last_sent, SETTLE).await;
                if let Some(key) = key {
                    self.sandbox.ledger().forget_idempotency_key(key);
                }
                options.key_retention(Duration::ZERO)
            }
        }
    }

    /// In declared mode, what the application knows: the refunds it booked for the payment, and, when
    /// no other create of it is unresolved, that the payment is exclusive.
    fn declare(&self, options: RecoveryOptions, intent: &IntentPlan) -> RecoveryOptions {
        if self.mode != Mode::Declared {
            return options;
        }
        let books = lock(&self.books);
        let booked = books.booked.get(&intent.payment).cloned().unwrap_or_default();
        let alone = books.unresolved.get(&intent.payment).copied().unwrap_or(0) <= 1;
        options.booked(booked).exclusive(alone)
    }
}

/// Sleeps until `window` past `from` (this machine's clock), plus a little.
async fn sleep_past(from: OffsetDateTime, window: Duration) {
    let target = from + window + Duration::from_millis(50);
    let left = target - OffsetDateTime::now_utc();
    if let Ok(left) = Duration::try_from(left) {
        tokio::time::sleep(left).await;
    }
}

/// Another currency of the same precision.
fn other_currency(currency: Currency) -> Currency {
    if currency == Currency::USD {
        Currency::EUR
    } else {
        Currency::USD
    }
}

/// A verdict as counted: its name and evidence or doubt.
pub(crate) fn verdict_key(verdict: &Recovery) -> String {
    match verdict {
        Recovery::Applied { evidence, .. } | Recovery::NotApplied { evidence } => {
            format!("{}: {}", verdict.name(), evidence_name(evidence))
        }
        Recovery::Unknown { doubt, .. } => format!("unknown: {doubt}"),
        _ => verdict.name().to_owned(),
    }
}

fn evidence_name(evidence: &refunds::Evidence) -> &'static str {
    match evidence {
        refunds::Evidence::SameKey { .. } => "same_key",
        refunds::Evidence::Marker => "marker",
        refunds::Evidence::Exclusive => "exclusive",
        refunds::Evidence::CompleteWalk => "complete_walk",
        refunds::Evidence::Malformed { .. } => "malformed",
        _ => "other",
    }
}

/// The tag of the call that made `record`, where it carries one; the other actors' refunds carry none.
pub(crate) fn tag_of(record: &RefundRecord) -> Option<CallId> {
    if let Some(tag) = record.metadata.get(TAG_KEY) {
        return CallId::parse(tag);
    }
    let reason = record.reason.as_deref()?;
    CallId::parse(reason.strip_prefix(TAG_KEY)?.trim_start())
}
