//! The journal: record before sending, send, record the answer; resume what a crash left.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use refunds::{CreateRefund, OffsetDateTime, RecoverExt, RecoveryOptions};
use serde_json::json;

use crate::account::{Account, Accounts};
use crate::resolve::{self, Step};
use crate::store::{Claim, EventRow, Row, Store};
use crate::{Event, Intent, IntentId, JournalError, Location, NewIntent, Result, State};

/// Unix milliseconds now.
pub(crate) fn now_ms() -> i64 {
    let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
    i64::try_from(nanos).unwrap_or(i64::MAX)
}

/// A time from unix milliseconds (the epoch where out of range).
pub(crate) fn from_ms(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// The instant `after` from now; a lease past what the clock holds is as good as a year.
fn instant_after(after: Duration) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    now.checked_add(after.min(Duration::from_secs(365 * 86_400)))
        .unwrap_or(now)
}

fn ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// How the journal works.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct JournalOptions {
    /// How long a claim holds an intent (default 5 min), renewed while its worker waits for the
    /// account's rate limit and stamped again when the create is sent. A create or a recovery is
    /// given the lease less a margin for clocks (a fifth of it, at most 10 s): one still running then
    /// is abandoned (nothing more of it is sent) and the intent recovered, so no request of a worker
    /// leaves after its lease. A worker that dies holds its intents this long; then another resumes
    /// them. The machines of a fleet keep their clocks within the margin.
    pub lease: Duration,
    /// Attempts per intent (default 3): after a verdict of "not applied", a new attempt (a new key and
    /// marker) is made while attempts remain.
    pub max_attempts: u32,
    /// Tries per state (default 8): transient refusals of a create, or `Unknown` verdicts, before the
    /// intent is settled as failed or unknown for a person.
    pub max_tries: u32,
    /// The first wait after a transient refusal or an unknown verdict (default 2 s), doubled each try.
    pub backoff: Duration,
    /// The longest wait (default 10 min), whatever a provider's `Retry-After` asks.
    pub backoff_cap: Duration,
    /// Connections to a PostgreSQL journal (default 4).
    pub connections: usize,
    /// This worker's name in leases and events (default: `w<pid>-<random>`).
    pub owner: Option<String>,
}

impl JournalOptions {
    /// The defaults.
    pub fn new() -> JournalOptions {
        JournalOptions {
            lease: Duration::from_secs(300),
            max_attempts: 3,
            max_tries: 8,
            backoff: Duration::from_secs(2),
            backoff_cap: Duration::from_secs(600),
            connections: 4,
            owner: None,
        }
    }
    /// Sets the lease.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }
    /// Sets the attempts per intent (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }
    /// Sets the tries per state (at least 1).
    pub fn max_tries(mut self, tries: u32) -> Self {
        self.max_tries = tries.max(1);
        self
    }
    /// Sets the backoff's first wait and its cap.
    pub fn backoff(mut self, first: Duration, cap: Duration) -> Self {
        self.backoff = first;
        self.backoff_cap = cap.max(first);
        self
    }
    /// Sets the PostgreSQL connections.
    pub fn connections(mut self, connections: usize) -> Self {
        self.connections = connections.max(1);
        self
    }
    /// Sets this worker's name.
    pub fn owner(mut self, owner: impl Into<String>) -> Self {
        self.owner = Some(owner.into());
        self
    }
}

impl Default for JournalOptions {
    fn default() -> Self {
        JournalOptions::new()
    }
}

/// What [`Journal::resume`] works on and how long it waits.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ResumeOptions {
    /// Recovery's options (settle window, walk bounds). The journal adds to `booked` the refunds it
    /// recorded for the account's other intents of the same payment. `exclusive` is this run's
    /// explicit declaration that nobody outside this journal refunds the payments it resumes; the
    /// journal still drops it for an intent while another intent of the same payment is unresolved.
    pub recovery: RecoveryOptions,
    /// Intents worked on at once (default 4).
    pub concurrency: usize,
    /// Only this batch.
    pub batch: Option<String>,
    /// How long to wait for intents that are not due yet (a backoff, another worker's lease) before
    /// returning (default: zero, return once nothing is due).
    pub wait: Duration,
    /// Set to stop: no intent is claimed after it is set; the ones in flight finish and record
    /// their answers (an operator's Ctrl-C).
    pub stop: Option<Arc<AtomicBool>>,
}

impl ResumeOptions {
    /// The defaults.
    pub fn new() -> ResumeOptions {
        ResumeOptions {
            recovery: RecoveryOptions::new(),
            concurrency: 4,
            batch: None,
            wait: Duration::ZERO,
            stop: None,
        }
    }
    /// Sets recovery's options.
    pub fn recovery(mut self, recovery: RecoveryOptions) -> Self {
        self.recovery = recovery;
        self
    }
    /// Sets the concurrency (at least 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }
    /// Works on one batch only.
    pub fn batch(mut self, batch: impl Into<String>) -> Self {
        self.batch = Some(batch.into());
        self
    }
    /// Waits up to `wait` for intents not due yet.
    pub fn wait(mut self, wait: Duration) -> Self {
        self.wait = wait;
        self
    }
    /// Stops claiming once `flag` is set.
    pub fn stop(mut self, flag: Arc<AtomicBool>) -> Self {
        self.stop = Some(flag);
        self
    }

    fn stopped(&self) -> bool {
        self.stop.as_ref().is_some_and(|f| f.load(Ordering::SeqCst))
    }
}

impl Default for ResumeOptions {
    fn default() -> Self {
        ResumeOptions::new()
    }
}

/// What one [`Journal::resume`] did, and what is left.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResumeReport {
    /// Creates sent (first sends and re-tries of recorded intents).
    pub sent: u64,
    /// Recoveries run.
    pub recovered: u64,
    /// Intents whose account this process does not have (left for another).
    pub skipped: u64,
    /// Answers that arrived after another worker took the intent over (recorded as `late` events).
    pub late: u64,
    /// Intents per state after the run (of the batch, where one was given).
    pub states: BTreeMap<String, i64>,
}

impl ResumeReport {
    /// How many intents are in `state` after the run.
    pub fn count(&self, state: State) -> i64 {
        self.states.get(state.as_str()).copied().unwrap_or(0)
    }
    /// How many intents are still unresolved.
    pub fn unresolved(&self) -> i64 {
        State::ALL
            .iter()
            .filter(|s| !s.is_settled())
            .map(|s| self.count(*s))
            .sum()
    }
}

/// A refund journal over SQLite or PostgreSQL. Cheap to clone.
#[derive(Clone)]
pub struct Journal {
    store: Arc<dyn Store>,
    options: Arc<JournalOptions>,
    owner: Arc<str>,
}

impl fmt::Debug for Journal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the location: a PostgreSQL URL may hold a password.
        f.debug_struct("Journal")
            .field("backend", &self.store.backend())
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

impl Journal {
    /// Opens a journal with the default options: `postgres://...` (or `postgresql://`) is a
    /// PostgreSQL journal; `sqlite:PATH` or a plain path is a SQLite file (created `0600`). The schema
    /// is migrated to this build's version.
    pub async fn open(location: &str) -> Result<Journal> {
        Journal::open_with(location, JournalOptions::new()).await
    }

    /// [`Journal::open`] with options.
    pub async fn open_with(location: &str, options: JournalOptions) -> Result<Journal> {
        let store = Journal::store(location, &options, crate::SCHEMA_VERSION).await?;
        Ok(Journal::over(store, options))
    }

    pub(crate) async fn store(location: &str, options: &JournalOptions, version: i64) -> Result<Arc<dyn Store>> {
        match Location::parse(location)? {
            Location::Postgres(url) => {
                #[cfg(feature = "postgres")]
                {
                    let store = crate::store::postgres::Postgres::connect(&url, options.connections).await?;
                    store.migrate_to(version).await?;
                    Ok(Arc::new(store))
                }
                #[cfg(not(feature = "postgres"))]
                {
                    let _ = (url, options, version);
                    Err(JournalError::Invalid(
                        "a PostgreSQL journal needs refunds-journal's `postgres` feature".into(),
                    ))
                }
            }
            Location::Sqlite(path) => {
                #[cfg(feature = "sqlite")]
                {
                    let _ = options;
                    let store = crate::store::sqlite::Sqlite::open(&path).await?;
                    store.migrate_to(version).await?;
                    Ok(Arc::new(store))
                }
                #[cfg(not(feature = "sqlite"))]
                {
                    let _ = (path, options, version);
                    Err(JournalError::Invalid(
                        "a SQLite journal needs refunds-journal's `sqlite` feature".into(),
                    ))
                }
            }
        }
    }

    fn over(store: Arc<dyn Store>, options: JournalOptions) -> Journal {
        let owner = options.owner.clone().unwrap_or_else(|| {
            let bits = refunds::adapter::random_u64() & 0xffff_ffff;
            format!("w{}-{bits:08x}", std::process::id())
        });
        Journal {
            store,
            options: Arc::new(options),
            owner: owner.into(),
        }
    }

    /// This worker's name.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        self.store.backend()
    }

    fn new_row(&self, account: &dyn Account, new: &NewIntent, now: i64, claimed: bool) -> Result<(Row, EventRow)> {
        if new.account.trim().is_empty() {
            return Err(JournalError::Invalid("an intent names its account".into()));
        }
        if new.provider_options.is_some() && !account.takes_options() {
            return Err(JournalError::Invalid(format!(
                "intent {}: this account sends its client's own options; journal it as a Typed account to pass others",
                new.id
            )));
        }
        if let Some(options) = &new.provider_options {
            account
                .check_options(options)
                .map_err(|e| JournalError::Invalid(format!("intent {}: refused before it is recorded: {e}", new.id)))?;
        }
        let info = account.provider().info();
        resolve::check_request(account.provider(), &new.request)
            .map_err(|e| JournalError::Invalid(format!("intent {}: refused before it is recorded: {e}", new.id)))?;
        let (sent, marker) = resolve::attempt_request(&new.request, &info.capabilities)?;
        let sent_json = serde_json::to_string(&sent)?;
        let row = Row {
            id: new.id.as_str().to_owned(),
            account: new.account.clone(),
            provider: info.id.to_owned(),
            batch: new.batch.clone(),
            request: serde_json::to_string(&new.request)?,
            provider_options: new.provider_options.as_ref().map(|v| v.to_string()),
            // Held by this worker where `claimed`, but `recorded` until the send is marked.
            state: State::Recorded.as_str().into(),
            attempt: 1,
            tries: 0,
            sent: sent_json,
            marker,
            started_at: None,
            pending: None,
            not_before: now,
            lease_owner: claimed.then(|| self.owner.to_string()),
            lease_until: claimed.then(|| now.saturating_add(ms(self.options.lease))),
            fence: 1,
            answer: None,
            refund_id: None,
            created_at: now,
            updated_at: now,
        };
        let event = self.event(&row, "recorded", json!({ "sent": sent, "provider": info.id }), now);
        Ok((row, event))
    }

    fn event(&self, row: &Row, kind: &str, detail: serde_json::Value, now: i64) -> EventRow {
        EventRow {
            seq: 0,
            intent_id: row.id.clone(),
            attempt: row.attempt,
            at: now,
            owner: self.owner.to_string(),
            kind: kind.into(),
            detail: detail.to_string(),
        }
    }

    /// Records `new` durably without sending it; the same intent id again returns the existing intent
    /// (`false`), whatever its request: compare with [`Intent::same_request`].
    pub async fn record(&self, account: &dyn Account, new: NewIntent) -> Result<(Intent, bool)> {
        let (row, event) = self.new_row(account, &new, now_ms(), false)?;
        let (stored, fresh) = self.store.insert(&row, &event).await?;
        Ok((intent_of(&stored)?, fresh))
    }

    /// Records `new` durably, then sends it and records the answer. An intent id recorded before is
    /// never sent again from here: its intent comes back as it is (a `recorded` one that nobody holds
    /// is sent). The same id recorded with another account, request or provider options is refused
    /// ([`JournalError::Conflict`]), nothing sent. An ambiguous answer leaves the intent `pending`
    /// for [`Journal::resume`].
    pub async fn submit(&self, account: &dyn Account, new: NewIntent) -> Result<Intent> {
        let now = now_ms();
        let (row, event) = self.new_row(account, &new, now, true)?;
        let (stored, fresh) = self.store.insert(&row, &event).await?;
        if fresh {
            return Ok(self.send(account, stored).await?.intent);
        }
        let existing = intent_of(&stored)?;
        if let Some(what) = differs(&existing, &new) {
            return Err(JournalError::Conflict {
                id: existing.id.to_string(),
                what,
            });
        }
        if stored.state != State::Recorded.as_str() {
            return Ok(existing);
        }
        let claim = self.claim_now(now);
        match self.store.claim(claim, 1, Some(&stored.id), None).await?.pop() {
            Some(old) => {
                let row = claimed(old, claim);
                Ok(self.send(account, row).await?.intent)
            }
            None => self.get_required(&stored.id).await,
        }
    }

    fn claim_now(&self, now: i64) -> Claim<'_> {
        Claim {
            owner: &self.owner,
            now,
            lease_until: now.saturating_add(ms(self.options.lease)),
        }
    }

    async fn get_required(&self, id: &str) -> Result<Intent> {
        let row = self
            .store
            .get(id)
            .await?
            .ok_or_else(|| JournalError::Store(format!("intent {id} vanished")))?;
        intent_of(&row)
    }

    /// Sends a `recorded` row this worker holds and records the answer. The account's permit (its
    /// rate limit) is taken first, the lease renewed while it waits; then, in one commit, the row is
    /// checked to be still this worker's and marked `sending` with its start and a fresh lease; only
    /// then is the create sent, and abandoned (ambiguous) if it outruns the lease. A worker that lost
    /// the row sends nothing.
    async fn send(&self, account: &dyn Account, row: Row) -> Result<Sent> {
        let sent: CreateRefund = serde_json::from_str(&row.sent)?;
        let options: Option<serde_json::Value> =
            row.provider_options.as_deref().map(serde_json::from_str).transpose()?;
        let Some(ready) = self.holding(&row, account.ready()).await? else {
            return self.lost(&row).await;
        };
        let now = now_ms();
        let deadline = instant_after(self.window());
        let started = Row {
            state: State::Sending.as_str().into(),
            started_at: Some(now),
            lease_until: Some(now.saturating_add(ms(self.options.lease))),
            updated_at: now,
            ..row.clone()
        };
        let event = self.event(&started, "sending", json!({ "lease_until": started.lease_until }), now);
        if !self.store.start(&started, row.fence, &event).await? {
            drop(ready);
            return self.lost(&row).await;
        }
        let provider = account.provider().info().id;
        let call = refunds::PendingCreate::new(sent, provider, from_ms(now))
            .provider_options(options)
            .marker(row.marker.clone());
        let result = match tokio::time::timeout_at(deadline, account.create_on(ready, &call)).await {
            Ok(result) => result,
            Err(_) => Err(resolve::abandoned(provider, "the create")),
        };
        let step = resolve::after_create(&started, &call, &result, &self.options, now_ms());
        let (intent, written) = self.write(&started, step).await?;
        Ok(Sent {
            intent,
            sent: true,
            written,
        })
    }

    /// The create or recovery time a lease leaves: the lease less a margin for clocks (a fifth of
    /// it, at most 10 s).
    fn window(&self) -> Duration {
        let lease = self.options.lease;
        lease.saturating_sub((lease / 5).min(Duration::from_secs(10)))
    }

    /// Runs `work` while renewing the lease of `row` (held under its fence) every third of it; `None`
    /// once the row is no longer this worker's.
    async fn holding<T>(&self, row: &Row, work: impl std::future::Future<Output = T>) -> Result<Option<T>> {
        let every = (self.options.lease / 3).max(Duration::from_millis(10));
        let mut work = std::pin::pin!(work);
        loop {
            if let Ok(done) = tokio::time::timeout(every, &mut work).await {
                return Ok(Some(done));
            }
            let until = now_ms().saturating_add(ms(self.options.lease));
            if !self.store.renew(&row.id, row.fence, until).await? {
                return Ok(None);
            }
        }
    }

    /// The answer for a row another worker took over before this one sent anything.
    async fn lost(&self, row: &Row) -> Result<Sent> {
        Ok(Sent {
            intent: self.get_required(&row.id).await?,
            sent: false,
            written: false,
        })
    }

    /// Records a step; false when another worker had taken the intent over (the answer is kept as a
    /// `late` event).
    async fn write(&self, held: &Row, step: Step) -> Result<(Intent, bool)> {
        let event = self.event(&step.row, step.kind, step.detail, step.row.updated_at);
        let written = self.store.update(&step.row, held.fence, &event).await?;
        Ok((self.get_required(&held.id).await?, written))
    }

    /// Recovers a row this worker holds (state `sending` or `pending`; `was` is the row as the claim
    /// found it) and records the verdict. The refunds the journal booked for the account's other
    /// intents of the payment are `booked`; `exclusive` holds only while none of them is unresolved.
    /// A recovery that outruns the lease is abandoned (nothing more of it is sent): `unknown` for now.
    async fn recover(
        &self,
        account: &dyn Account,
        was: &Row,
        row: Row,
        options: &RecoveryOptions,
        deadline: tokio::time::Instant,
    ) -> Result<(Intent, bool)> {
        let provider = account.provider();
        let pending = resolve::pending_of(was, provider.info().id, now_ms())?;
        let mut options = options.clone();
        let (booked, shared) = self.siblings(&row, &pending).await?;
        options.booked.extend(booked);
        if shared {
            options.exclusive = false;
        }
        let verdict = tokio::time::timeout_at(deadline, provider.recover_with(&pending, options)).await;
        let step = match verdict {
            Ok(verdict) => resolve::after_recovery(
                &row,
                &pending,
                &verdict,
                &provider.info().capabilities,
                &self.options,
                now_ms(),
            )?,
            Err(_) => resolve::after_abandoned_recovery(&row, &pending, &self.options, now_ms())?,
        };
        self.write(&row, step).await
    }

    /// The refunds recorded for the account's other intents of `pending`'s payment, and whether one
    /// of those intents is unresolved (its create may still apply).
    async fn siblings(&self, row: &Row, pending: &refunds::PendingCreate) -> Result<(Vec<refunds::RefundId>, bool)> {
        let payment = pending.request.payment();
        let (mut booked, mut shared) = (Vec::new(), false);
        for other in self.store.siblings(&row.account, &row.id).await? {
            // A row that does not read back names no payment: it cannot be told apart, so it counts
            // as unresolved (no `exclusive`).
            let Ok(request) = serde_json::from_str::<CreateRefund>(&other.request) else {
                shared = true;
                continue;
            };
            if request.payment() != payment {
                continue;
            }
            match other.refund_id.as_deref().map(refunds::RefundId::new) {
                Some(Ok(id)) => booked.push(id),
                Some(Err(_)) => shared = true,
                None => {}
            }
            if State::from_name(&other.state).is_none_or(|s| !s.is_settled()) {
                shared = true;
            }
        }
        Ok((booked, shared))
    }

    /// Works on every unresolved intent that is due: sends the recorded ones, recovers the ones a
    /// crash left `sending` (their lease run out) and the `pending` ones, and records every answer;
    /// waits up to [`ResumeOptions::wait`] for the ones not due yet. Several processes may resume one
    /// PostgreSQL journal at once: each intent is worked on by one of them at a time.
    pub async fn resume(&self, accounts: Arc<dyn Accounts>, options: ResumeOptions) -> Result<ResumeReport> {
        // The wait is configuration: capped at a day, and the addition checked, so no setting can
        // overflow the clock.
        let now = tokio::time::Instant::now();
        let deadline = now
            .checked_add(options.wait.min(Duration::from_secs(86_400)))
            .unwrap_or(now);
        let options = Arc::new(options);
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..options.concurrency {
            let (journal, accounts, options) = (self.clone(), accounts.clone(), options.clone());
            workers.spawn(async move { journal.work(accounts.as_ref(), &options, deadline).await });
        }
        let mut report = ResumeReport::default();
        while let Some(done) = workers.join_next().await {
            let part = done.map_err(|e| JournalError::Store(format!("a resume worker failed: {e}")))??;
            report.sent += part.sent;
            report.recovered += part.recovered;
            report.skipped += part.skipped;
            report.late += part.late;
        }
        report.states = self.counts(options.batch.as_deref()).await?;
        Ok(report)
    }

    async fn work(
        &self,
        accounts: &dyn Accounts,
        options: &ResumeOptions,
        deadline: tokio::time::Instant,
    ) -> Result<ResumeReport> {
        let mut report = ResumeReport::default();
        loop {
            if options.stopped() {
                return Ok(report);
            }
            let held_until = instant_after(self.window());
            let claim = self.claim_now(now_ms());
            let Some(old) = self.store.claim(claim, 1, None, options.batch.as_deref()).await?.pop() else {
                let Some(due) = self.store.next_due(options.batch.as_deref()).await? else {
                    return Ok(report);
                };
                let now = tokio::time::Instant::now();
                if now >= deadline {
                    return Ok(report);
                }
                // Poll at least every second: another worker may finish, or release, sooner.
                let wait = Duration::from_millis(u64::try_from(due.saturating_sub(now_ms())).unwrap_or(0))
                    .clamp(Duration::from_millis(20), Duration::from_secs(1));
                tokio::time::sleep_until(now.checked_add(wait).unwrap_or(deadline).min(deadline)).await;
                continue;
            };
            let was = old.clone();
            let row = claimed(old, claim);
            let Some(account) = accounts.account(&row.account) else {
                report.skipped += 1;
                self.skip(&row).await?;
                continue;
            };
            if was.state == State::Recorded.as_str() {
                let sent = self.send(account.as_ref(), row).await?;
                report.sent += u64::from(sent.sent);
                report.late += u64::from(sent.sent && !sent.written);
            } else {
                report.recovered += 1;
                let (_, written) = self
                    .recover(account.as_ref(), &was, row, &options.recovery, held_until)
                    .await?;
                report.late += u64::from(!written);
            }
        }
    }

    /// Leaves an intent whose account this process lacks for another worker, after the backoff cap.
    async fn skip(&self, row: &Row) -> Result<()> {
        let now = now_ms();
        let next = Row {
            lease_owner: None,
            lease_until: None,
            not_before: now.saturating_add(ms(self.options.backoff_cap)),
            updated_at: now,
            ..row.clone()
        };
        let event = self.event(
            &next,
            "skipped",
            json!({ "account": row.account, "reason": "this process has no such account" }),
            now,
        );
        self.store.update(&next, row.fence, &event).await?;
        Ok(())
    }

    /// One intent.
    pub async fn get(&self, id: &IntentId) -> Result<Option<Intent>> {
        self.store.get(id.as_str()).await?.as_ref().map(intent_of).transpose()
    }

    /// Intents in id order (of one state and batch where given), after `after`, at most `limit`. A
    /// row that does not read back is left out: [`Journal::entries`] names it.
    pub async fn list(
        &self,
        state: Option<State>,
        batch: Option<&str>,
        after: Option<&IntentId>,
        limit: u32,
    ) -> Result<Vec<Intent>> {
        let entries = self.entries(state, batch, after, limit).await?;
        Ok(entries.into_iter().filter_map(|e| e.ok()).collect())
    }

    /// [`Journal::list`] with the rows that do not read back as this build writes them (a state it
    /// does not know, a hand-edited value), each by its id and why: one odd row never hides the
    /// others.
    pub async fn entries(
        &self,
        state: Option<State>,
        batch: Option<&str>,
        after: Option<&IntentId>,
        limit: u32,
    ) -> Result<Vec<std::result::Result<Intent, Unreadable>>> {
        let rows = self
            .store
            .list(state.map(|s| s.as_str()), batch, after.map(IntentId::as_str), limit)
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let row = row.map_err(|u| Unreadable {
                    id: u.id,
                    reason: u.reason,
                })?;
                intent_of(&row).map_err(|e| Unreadable {
                    id: row.id.clone(),
                    reason: e.to_string(),
                })
            })
            .collect())
    }

    /// An intent's events, in order.
    pub async fn events(&self, id: &IntentId) -> Result<Vec<Event>> {
        let rows = self.store.events(id.as_str()).await?;
        rows.into_iter()
            .map(|e| {
                Ok(Event {
                    seq: e.seq,
                    attempt: u32::try_from(e.attempt).unwrap_or(0),
                    at: from_ms(e.at),
                    owner: e.owner,
                    kind: e.kind,
                    detail: serde_json::from_str(&e.detail)?,
                })
            })
            .collect()
    }

    /// How many intents are in each state (of one batch, where given).
    pub async fn counts(&self, batch: Option<&str>) -> Result<BTreeMap<String, i64>> {
        Ok(self.store.counts(batch).await?.into_iter().collect())
    }
}

/// A row as the claim left it: the lease stamped, the fence raised (a claim never takes a row whose
/// fence is used up, so this never saturates).
fn claimed(old: Row, claim: Claim<'_>) -> Row {
    Row {
        lease_owner: Some(claim.owner.to_owned()),
        lease_until: Some(claim.lease_until),
        fence: old.fence.saturating_add(1),
        updated_at: claim.now,
        ..old
    }
}

/// What differs between an intent as recorded and the same id given again, if anything.
fn differs(existing: &Intent, new: &NewIntent) -> Option<String> {
    if existing.account != new.account {
        return Some(format!("account {} (given: {})", existing.account, new.account));
    }
    if !existing.same_request(&new.request) {
        return Some("another request".into());
    }
    if existing.provider_options != new.provider_options {
        return Some("other provider options".into());
    }
    None
}

/// What [`Journal::send`] did.
struct Sent {
    intent: Intent,
    /// The create went out (false: another worker had taken the row, nothing sent).
    sent: bool,
    /// Its answer was recorded as the intent's (false: kept as a `late` event).
    written: bool,
}

/// A row the journal cannot read back: its id (as stored) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Unreadable {
    /// The id as stored.
    pub id: String,
    /// Why it does not read back.
    pub reason: String,
}

fn intent_of(row: &Row) -> Result<Intent> {
    let parse_state =
        || State::from_name(&row.state).ok_or_else(|| JournalError::Store(format!("unknown state {:?}", row.state)));
    Ok(Intent {
        id: IntentId::new(row.id.clone())?,
        account: row.account.clone(),
        provider: row.provider.clone(),
        request: serde_json::from_str(&row.request)?,
        provider_options: row.provider_options.as_deref().map(serde_json::from_str).transpose()?,
        batch: row.batch.clone(),
        state: parse_state()?,
        attempt: u32::try_from(row.attempt).unwrap_or(0),
        tries: u32::try_from(row.tries).unwrap_or(0),
        sent: serde_json::from_str(&row.sent)?,
        marker: row.marker.clone(),
        started_at: row.started_at.map(from_ms),
        not_before: from_ms(row.not_before),
        answer: row.answer.as_deref().map(serde_json::from_str).transpose()?,
        refund_id: row.refund_id.clone(),
        created_at: from_ms(row.created_at),
        updated_at: from_ms(row.updated_at),
    })
}
