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
use crate::{Event, Intent, IntentId, JournalError, NewIntent, Result, State};

/// Unix milliseconds now.
pub(crate) fn now_ms() -> i64 {
    let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
    i64::try_from(nanos).unwrap_or(i64::MAX)
}

/// A time from unix milliseconds (the epoch where out of range).
pub(crate) fn from_ms(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// How the journal works.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct JournalOptions {
    /// How long a claim holds an intent (default 5 min): longer than any create or recovery call
    /// takes. A worker that dies holds its intents this long; then another resumes them.
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
    /// Recovery's options (settle window, booked refunds, walk bounds).
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
        if location.starts_with("postgres://") || location.starts_with("postgresql://") {
            #[cfg(feature = "postgres")]
            {
                let store = crate::store::postgres::Postgres::connect(location, options.connections).await?;
                store.migrate_to(version).await?;
                return Ok(Arc::new(store));
            }
            #[cfg(not(feature = "postgres"))]
            return Err(JournalError::Invalid(
                "a PostgreSQL journal needs refunds-journal's `postgres` feature".into(),
            ));
        }
        let path = location
            .strip_prefix("sqlite://")
            .or_else(|| location.strip_prefix("sqlite:"))
            .unwrap_or(location);
        if path.is_empty() {
            return Err(JournalError::Invalid("no journal location".into()));
        }
        #[cfg(feature = "sqlite")]
        {
            let _ = options;
            let store = crate::store::sqlite::Sqlite::open(std::path::Path::new(path)).await?;
            store.migrate_to(version).await?;
            Ok(Arc::new(store))
        }
        #[cfg(not(feature = "sqlite"))]
        Err(JournalError::Invalid(
            "a SQLite journal needs refunds-journal's `sqlite` feature".into(),
        ))
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
        let info = account.provider().info();
        let (sent, marker) = resolve::attempt_request(&new.request, &info.capabilities)?;
        let sent_json = serde_json::to_string(&sent)?;
        let row = Row {
            id: new.id.as_str().to_owned(),
            account: new.account.clone(),
            provider: info.id.to_owned(),
            batch: new.batch.clone(),
            request: serde_json::to_string(&new.request)?,
            provider_options: new.provider_options.as_ref().map(|v| v.to_string()),
            state: if claimed { State::Sending } else { State::Recorded }.as_str().into(),
            attempt: 1,
            tries: 0,
            sent: sent_json,
            marker,
            started_at: claimed.then_some(now),
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
    /// is sent). An ambiguous answer leaves the intent `pending` for [`Journal::resume`].
    pub async fn submit(&self, account: &dyn Account, new: NewIntent) -> Result<Intent> {
        let now = now_ms();
        let (row, event) = self.new_row(account, &new, now, true)?;
        let (stored, fresh) = self.store.insert(&row, &event).await?;
        if fresh {
            return Ok(self.send(account, stored).await?.0);
        }
        if stored.state != State::Recorded.as_str() {
            return intent_of(&stored);
        }
        let claim = self.claim_now(now);
        match self.store.claim(claim, 1, Some(&stored.id), None).await?.pop() {
            Some(old) => {
                let row = claimed(old, claim);
                Ok(self.send(account, row).await?.0)
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

    /// Sends a row this worker holds (state `sending`) and records the answer.
    async fn send(&self, account: &dyn Account, row: Row) -> Result<(Intent, bool)> {
        let sent: CreateRefund = serde_json::from_str(&row.sent)?;
        let options: Option<serde_json::Value> =
            row.provider_options.as_deref().map(serde_json::from_str).transpose()?;
        let call = refunds::PendingCreate::new(sent, account.provider().info().id, OffsetDateTime::now_utc())
            .provider_options(options)
            .marker(row.marker.clone());
        let result = account.create(&call).await;
        let step = resolve::after_create(&row, &call, &result, &self.options, now_ms());
        self.write(&row, step).await
    }

    /// Records a step; false when another worker had taken the intent over (the answer is kept as a
    /// `late` event).
    async fn write(&self, held: &Row, step: Step) -> Result<(Intent, bool)> {
        let event = self.event(&step.row, step.kind, step.detail, step.row.updated_at);
        let written = self.store.update(&step.row, held.fence, &event).await?;
        Ok((self.get_required(&held.id).await?, written))
    }

    /// Recovers a row this worker holds (state `sending` or `pending`) and records the verdict.
    async fn recover(&self, account: &dyn Account, row: Row, options: &RecoveryOptions) -> Result<(Intent, bool)> {
        let provider = account.provider();
        let now = now_ms();
        let pending = resolve::pending_of(&row, provider.info().id, now)?;
        let verdict = provider.recover_with(&pending, options.clone()).await;
        let step = resolve::after_recovery(
            &row,
            &pending,
            &verdict,
            &provider.info().capabilities,
            &self.options,
            now_ms(),
        )?;
        self.write(&row, step).await
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
            let was = State::from_name(&old.state);
            let row = claimed(old, claim);
            let Some(account) = accounts.account(&row.account) else {
                report.skipped += 1;
                self.skip(&row).await?;
                continue;
            };
            let (_, written) = if was == Some(State::Recorded) {
                report.sent += 1;
                self.send(account.as_ref(), row).await?
            } else {
                report.recovered += 1;
                self.recover(account.as_ref(), row, &options.recovery).await?
            };
            if !written {
                report.late += 1;
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
            state: if row.state == State::Sending.as_str() && row.started_at.is_none() {
                State::Recorded.as_str().into()
            } else {
                row.state.clone()
            },
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

    /// Intents in id order (of one state and batch where given), after `after`, at most `limit`.
    pub async fn list(
        &self,
        state: Option<State>,
        batch: Option<&str>,
        after: Option<&IntentId>,
        limit: u32,
    ) -> Result<Vec<Intent>> {
        let rows = self
            .store
            .list(state.map(|s| s.as_str()), batch, after.map(IntentId::as_str), limit)
            .await?;
        rows.iter().map(intent_of).collect()
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

/// A row as the claim left it: the lease stamped, the fence raised, a recorded row now sending.
fn claimed(old: Row, claim: Claim<'_>) -> Row {
    let recorded = old.state == State::Recorded.as_str();
    Row {
        state: if recorded {
            State::Sending.as_str().into()
        } else {
            old.state.clone()
        },
        started_at: if recorded { Some(claim.now) } else { old.started_at },
        lease_owner: Some(claim.owner.to_owned()),
        lease_until: Some(claim.lease_until),
        fence: old.fence.saturating_add(1),
        updated_at: claim.now,
        ..old
    }
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
