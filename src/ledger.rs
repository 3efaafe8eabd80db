//! A simulated refund ledger: payments, refunds, refundable balances, idempotency and a clock.
//!
//! It is the state behind the in-memory reference provider and behind every provider's sandbox, so
//! that all of them enforce the same rules: several partial refunds until nothing is left, then a
//! rejection; a repeated idempotency key returns the original refund, or a conflict when the request
//! differs; refunds start `pending` and settle to `succeeded` (or `failed`) on [`Ledger::settle_all`]
//! or when the clock passes the settle delay.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use time::OffsetDateTime;

use crate::model::RefundStatus;
use crate::money::Money;

mod records;

pub use records::{
    CreateOutcome, LedgerError, PaymentRecord, PaymentState, RefundDraft, RefundRecord, SimulatedOutcome,
};

#[derive(Debug)]
struct State {
    payments: BTreeMap<String, PaymentRecord>,
    refunds: Vec<RefundRecord>,
    index: HashMap<String, usize>,
    idempotency: HashMap<String, (String, String)>,
    next_id: u64,
    id_prefix: String,
    now: OffsetDateTime,
    settle_after: Option<Duration>,
    /// Seconds added to every time a record is reported with ([`Ledger::set_clock_skew_secs`]).
    clock_skew_secs: i64,
    /// The clock follows this machine's ([`Ledger::follow_system_clock`]).
    follow_system_clock: bool,
}

impl State {
    /// A record as the ledger reports it: its times shifted by the clock skew.
    fn reported(&self, mut record: RefundRecord) -> RefundRecord {
        if self.clock_skew_secs != 0 {
            let skew = time::Duration::seconds(self.clock_skew_secs);
            let shift = |t: OffsetDateTime| t.checked_add(skew).unwrap_or(t);
            record.created_at = shift(record.created_at);
            record.updated_at = shift(record.updated_at);
            record.completed_at = record.completed_at.map(shift);
        }
        record
    }
}

/// What changed, for the observers of [`Ledger::on_change`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChangeKind {
    /// A new refund ([`Ledger::create_refund`]; not an idempotent replay, not [`Ledger::insert_refund`]).
    Created,
    /// The refund's status changed: settled ([`Ledger::settle`], [`Ledger::settle_all`], the clock) or
    /// forced ([`Ledger::set_status`]). The record carries the new status.
    StatusChanged,
}

/// An observer of ledger changes (see [`Ledger::on_change`]).
pub type ChangeObserver = Arc<dyn Fn(&RefundRecord, ChangeKind) + Send + Sync>;

/// The registered observers; `Debug` shows how many.
#[derive(Default)]
struct Observers(Mutex<Vec<ChangeObserver>>);

impl std::fmt::Debug for Observers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0.lock().map_or(0, |o| o.len());
        write!(f, "Observers({n})")
    }
}

/// The shared simulated ledger. Cheap to clone; clones share state.
#[derive(Debug, Clone)]
pub struct Ledger {
    state: Arc<Mutex<State>>,
    observers: Arc<Observers>,
}

impl Default for Ledger {
    fn default() -> Self {
        Ledger::new("re_")
    }
}

impl Ledger {
    /// An empty ledger whose refund ids start with `id_prefix` (`"re_"`, `"ref_"`). The clock starts at
    /// 2024-01-01T00:00:00Z and moves only when told ([`Ledger::advance`]), so runs are repeatable.
    pub fn new(id_prefix: &str) -> Ledger {
        Ledger {
            state: Arc::new(Mutex::new(State {
                payments: BTreeMap::new(),
                refunds: Vec::new(),
                index: HashMap::new(),
                idempotency: HashMap::new(),
                next_id: 1,
                id_prefix: id_prefix.to_owned(),
                now: time::macros::datetime!(2024-01-01 00:00:00 UTC),
                settle_after: None,
                clock_skew_secs: 0,
                follow_system_clock: false,
            })),
            observers: Arc::default(),
        }
    }

    /// Calls `observer` after every create and every status change, with the record as reported
    /// (clock skew applied) and outside the ledger's lock (an observer may read the ledger). Observers
    /// are kept for the ledger's life; a sandbox uses this to send webhooks.
    pub fn on_change(&self, observer: ChangeObserver) {
        self.observers
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(observer);
    }

    fn notify(&self, changes: &[(RefundRecord, ChangeKind)]) {
        if changes.is_empty() {
            return;
        }
        let observers = self
            .observers
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        for (record, kind) in changes {
            for observer in &observers {
                observer(record, *kind);
            }
        }
    }

    /// Reports the given refunds as changed by `kind`, after the lock is released.
    fn notify_ids(&self, s: MutexGuard<'_, State>, ids: &[String], kind: ChangeKind) {
        let changes: Vec<(RefundRecord, ChangeKind)> = ids
            .iter()
            .filter_map(|id| s.index.get(id).map(|&i| (s.reported(s.refunds[i].clone()), kind)))
            .collect();
        drop(s);
        self.notify(&changes);
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves consistent data (every update is one step).
        let mut s = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if s.follow_system_clock {
            s.now = s.now.max(OffsetDateTime::now_utc());
        }
        s
    }

    /// From now on the clock follows this machine's (never moving back; [`Ledger::advance`] still moves
    /// it ahead), so that refunds carry real times and a test can compare them with the times an SDK
    /// call records (a pending create's start and end).
    pub fn follow_system_clock(&self) {
        self.lock().follow_system_clock = true;
    }

    /// Forgets the idempotency key `key` (a provider's key retention ran out): a create sent again with
    /// it is a new create. Returns whether the key was known.
    pub fn forget_idempotency_key(&self, key: &str) -> bool {
        self.lock().idempotency.remove(key).is_some()
    }

    /// Inserts an existing refund as is, created (and updated) at `at` rather than at the clock: another
    /// actor's refund made long ago, or just before a call.
    pub fn insert_refund_at(&self, mut record: RefundRecord, at: OffsetDateTime) {
        let mut s = self.lock();
        record.created_at = at;
        record.updated_at = at;
        let i = s.refunds.len();
        s.index.insert(record.id.clone(), i);
        s.refunds.push(record);
    }

    /// Adds a captured, refundable payment.
    pub fn seed_payment(&self, id: &str, captured: Money) {
        self.seed_payment_in_state(id, captured, PaymentState::Succeeded);
    }

    /// Adds a payment in a given state.
    pub fn seed_payment_in_state(&self, id: &str, captured: Money, state: PaymentState) {
        self.lock().payments.insert(
            id.to_owned(),
            PaymentRecord {
                id: id.to_owned(),
                captured,
                refunded: 0,
                state,
            },
        );
    }

    /// A payment.
    pub fn payment(&self, id: &str) -> Option<PaymentRecord> {
        self.lock().payments.get(id).cloned()
    }

    /// Inserts an existing refund as is (for seeding lists); its times are set to the clock.
    pub fn insert_refund(&self, record: RefundRecord) {
        let now = self.now();
        self.insert_refund_at(record, now);
    }

    /// Applies a create: idempotency first, then the payment's state and balance.
    pub fn create_refund(&self, draft: RefundDraft) -> Result<CreateOutcome, LedgerError> {
        let mut s = self.lock();
        if let Some(key) = &draft.idempotency_key {
            if let Some((fingerprint, id)) = s.idempotency.get(key) {
                if *fingerprint != draft.fingerprint {
                    return Err(LedgerError::IdempotencyConflict);
                }
                let record = s.reported(s.refunds[s.index[id]].clone());
                return Ok(CreateOutcome::Replayed(record));
            }
        }
        let payment = s
            .payments
            .get(&draft.payment_id)
            .ok_or_else(|| LedgerError::PaymentNotFound(draft.payment_id.clone()))?;
        if payment.state != PaymentState::Succeeded {
            return Err(LedgerError::PaymentNotRefundable(payment.id.clone()));
        }
        let currency = payment.captured.currency();
        if let Some(requested) = draft.currency {
            if requested != currency {
                return Err(LedgerError::CurrencyMismatch {
                    requested: requested.code().to_owned(),
                    payment: currency.code().to_owned(),
                });
            }
        }
        let available = payment.refundable();
        if available.minor() <= 0 {
            return Err(LedgerError::AlreadyRefunded(payment.id.clone()));
        }
        let amount = draft.amount_minor.unwrap_or(available.minor());
        if amount <= 0 {
            return Err(LedgerError::InvalidAmount);
        }
        if amount > available.minor() {
            return Err(LedgerError::AmountExceedsRefundable { available });
        }
        let id = format!("{}{:06}", s.id_prefix, s.next_id);
        s.next_id += 1;
        let now = s.now;
        let record = RefundRecord {
            id: id.clone(),
            payment_id: draft.payment_id.clone(),
            amount: Money::from_minor(amount, currency),
            status: RefundStatus::Pending,
            reason: draft.reason,
            reference: draft.reference,
            description: draft.description,
            metadata: draft.metadata,
            failure_reason: None,
            fee: draft.fee_minor.map(|f| Money::from_minor(f, currency)),
            idempotency_key: draft.idempotency_key.clone(),
            fingerprint: draft.fingerprint.clone(),
            outcome: draft.outcome,
            created_at: now,
            updated_at: now,
            completed_at: None,
        };
        if let Some(p) = s.payments.get_mut(&draft.payment_id) {
            p.refunded += amount;
        }
        if let Some(key) = draft.idempotency_key {
            s.idempotency.insert(key, (draft.fingerprint, id.clone()));
        }
        let i = s.refunds.len();
        s.index.insert(id, i);
        s.refunds.push(record.clone());
        let reported = s.reported(record);
        drop(s);
        self.notify(&[(reported.clone(), ChangeKind::Created)]);
        Ok(CreateOutcome::Created(reported))
    }

    /// A refund by id.
    pub fn refund(&self, id: &str) -> Option<RefundRecord> {
        let s = self.lock();
        s.index.get(id).map(|&i| s.reported(s.refunds[i].clone()))
    }

    /// All refunds in creation order.
    pub fn refunds(&self) -> Vec<RefundRecord> {
        let s = self.lock();
        s.refunds.iter().map(|r| s.reported(r.clone())).collect()
    }

    /// One page of the refunds that pass `filter`, in creation order, and how many pass in all. Clones
    /// only the page, so a sandbox with 100,000 refunds pages cheaply.
    pub fn refunds_page(
        &self,
        offset: usize,
        limit: usize,
        filter: impl Fn(&RefundRecord) -> bool,
    ) -> (Vec<RefundRecord>, usize) {
        let s = self.lock();
        let mut total = 0;
        let mut page = Vec::with_capacity(limit.min(1000));
        for r in s.refunds.iter().filter(|r| filter(r)) {
            if total >= offset && page.len() < limit {
                page.push(s.reported(r.clone()));
            }
            total += 1;
        }
        (page, total)
    }

    /// The refunds of one payment, in creation order.
    pub fn refunds_for_payment(&self, payment_id: &str) -> Vec<RefundRecord> {
        let s = self.lock();
        s.refunds
            .iter()
            .filter(|r| r.payment_id == payment_id)
            .map(|r| s.reported(r.clone()))
            .collect()
    }

    /// How many refunds exist.
    pub fn refund_count(&self) -> usize {
        self.lock().refunds.len()
    }

    /// Forces a status (for example an undocumented string) on a refund.
    pub fn set_status(&self, id: &str, status: RefundStatus) -> bool {
        let mut s = self.lock();
        let now = s.now;
        match s.index.get(id).copied() {
            Some(i) => {
                let changed = s.refunds[i].status != status;
                s.refunds[i].status = status;
                s.refunds[i].updated_at = now;
                if changed {
                    self.notify_ids(s, &[id.to_owned()], ChangeKind::StatusChanged);
                }
                true
            }
            None => false,
        }
    }

    /// Settles every pending refund now; returns how many changed.
    pub fn settle_all(&self) -> usize {
        let mut s = self.lock();
        let ids: Vec<String> = s
            .refunds
            .iter()
            .filter(|r| !r.status.is_terminal())
            .map(|r| r.id.clone())
            .collect();
        let settled: Vec<String> = ids.into_iter().filter(|id| settle_locked(&mut s, id)).collect();
        let count = settled.len();
        self.notify_ids(s, &settled, ChangeKind::StatusChanged);
        count
    }

    /// Settles one refund; false when it was not pending.
    pub fn settle(&self, id: &str) -> bool {
        let mut s = self.lock();
        let settled = settle_locked(&mut s, id);
        if settled {
            self.notify_ids(s, &[id.to_owned()], ChangeKind::StatusChanged);
        }
        settled
    }

    /// Refunds settle by themselves once the clock is `delay` past their creation.
    pub fn settle_after(&self, delay: Option<Duration>) {
        self.lock().settle_after = delay;
    }

    /// The ledger clock.
    pub fn now(&self) -> OffsetDateTime {
        self.lock().now
    }

    /// Clock skew: every refund the ledger reports from now on (the records [`Ledger::create_refund`],
    /// [`Ledger::refund`], [`Ledger::refunds`], [`Ledger::refunds_page`] and
    /// [`Ledger::refunds_for_payment`] return, hence what the skins put on the wire) has its creation,
    /// update and completion times shifted by `seconds` (positive: the provider's clock is ahead;
    /// negative: behind). The stored times, the ledger's clock ([`Ledger::now`], [`Ledger::advance`]),
    /// the order of refunds and the settle delay are unchanged. Applies to existing refunds too.
    pub fn set_clock_skew_secs(&self, seconds: i64) {
        self.lock().clock_skew_secs = seconds;
    }

    /// The clock skew set by [`Ledger::set_clock_skew_secs`] (0 by default).
    pub fn clock_skew_secs(&self) -> i64 {
        self.lock().clock_skew_secs
    }

    /// Moves the clock forward and settles what is due.
    pub fn advance(&self, by: Duration) {
        let mut s = self.lock();
        s.now += by;
        if let Some(delay) = s.settle_after {
            let due_before = s.now - delay;
            let due: Vec<String> = s
                .refunds
                .iter()
                .filter(|r| !r.status.is_terminal() && r.created_at <= due_before)
                .map(|r| r.id.clone())
                .collect();
            let settled: Vec<String> = due.into_iter().filter(|id| settle_locked(&mut s, id)).collect();
            self.notify_ids(s, &settled, ChangeKind::StatusChanged);
        }
    }
}

fn settle_locked(s: &mut State, id: &str) -> bool {
    let Some(&i) = s.index.get(id) else {
        return false;
    };
    let now = s.now;
    let record = &mut s.refunds[i];
    if record.status.is_terminal() {
        return false;
    }
    record.updated_at = now;
    record.completed_at = Some(now);
    match record.outcome {
        SimulatedOutcome::Succeed => record.status = RefundStatus::Succeeded,
        SimulatedOutcome::Fail => {
            record.status = RefundStatus::Failed;
            record.failure_reason = Some("simulated failure".to_owned());
            let (payment_id, amount) = (record.payment_id.clone(), record.amount.minor());
            if let Some(p) = s.payments.get_mut(&payment_id) {
                p.refunded -= amount;
            }
        }
    }
    true
}

#[cfg(test)]
mod tests;
