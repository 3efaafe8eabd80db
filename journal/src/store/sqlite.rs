//! SQLite: one file, one writer at a time. WAL with `synchronous=FULL`: a commit has reached the disk
//! (the WAL is synced) before it returns, so an intent is durable before its create is sent. Calls run
//! on tokio's blocking pool; the connection is one, behind a mutex (SQLite serializes writers anyway).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::{COLUMNS, Claim, EventRow, FENCE_MAX, FENCE_SPENT, Row, Sibling, Store, UNRESOLVED, Unreadable};
use crate::migrate::{self, SQLITE};
use crate::{JournalError, Result};

/// How long a writer waits for another process's write to finish.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) struct Sqlite {
    connection: Arc<Mutex<Connection>>,
}

fn lock(connection: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    connection.lock().unwrap_or_else(|p| p.into_inner())
}

impl Sqlite {
    /// Opens (creating it, readable by its owner only) the journal file at `path`.
    pub(crate) async fn open(path: &Path) -> Result<Sqlite> {
        let path: PathBuf = path.to_owned();
        let connection = tokio::task::spawn_blocking(move || open_file(&path))
            .await
            .map_err(|e| JournalError::Store(format!("the open task failed: {e}")))??;
        Ok(Sqlite {
            connection: Arc::new(Mutex::new(connection)),
        })
    }

    async fn with<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let connection = self.connection.clone();
        tokio::task::spawn_blocking(move || work(&mut lock(&connection)))
            .await
            .map_err(|e| JournalError::Store(format!("a journal task failed: {e}")))?
    }

    /// Applies the migrations up to `target` (tests build older schemas with it).
    pub(crate) async fn migrate_to(&self, target: i64) -> Result<()> {
        self.with(move |c| migrate_connection(c, target)).await
    }
}

fn open_file(path: &Path) -> Result<Connection> {
    #[cfg(unix)]
    if !path.exists() {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| JournalError::Store(format!("cannot create {}: {e}", path.display())))?;
    }
    let connection = Connection::open(path)?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = connection.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(JournalError::Store(format!(
            "{} cannot use WAL (journal mode {mode})",
            path.display()
        )));
    }
    connection.execute_batch("PRAGMA synchronous = FULL;")?;
    Ok(connection)
}

fn migrate_connection(c: &mut Connection, target: i64) -> Result<()> {
    c.execute_batch(migrate::VERSIONS_TABLE)?;
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found: i64 = tx.query_row("SELECT COALESCE(MAX(version), 0) FROM journal_schema", [], |r| r.get(0))?;
    migrate::check_known(found)?;
    for (version, sql) in (1..).zip(SQLITE) {
        if version > found && version <= target {
            tx.execute_batch(sql)?;
            tx.execute(
                "INSERT INTO journal_schema (version, applied_at) VALUES (?1, ?2)",
                params![version, crate::journal::now_ms()],
            )?;
        }
    }
    tx.commit()?;
    Ok(())
}

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        id: r.get(0)?,
        account: r.get(1)?,
        provider: r.get(2)?,
        batch: r.get(3)?,
        request: r.get(4)?,
        provider_options: r.get(5)?,
        state: r.get(6)?,
        attempt: r.get(7)?,
        tries: r.get(8)?,
        sent: r.get(9)?,
        marker: r.get(10)?,
        started_at: r.get(11)?,
        pending: r.get(12)?,
        not_before: r.get(13)?,
        lease_owner: r.get(14)?,
        lease_until: r.get(15)?,
        fence: r.get(16)?,
        answer: r.get(17)?,
        refund_id: r.get(18)?,
        created_at: r.get(19)?,
        updated_at: r.get(20)?,
    })
}

/// A row's id however it is stored (a hand-edited file may hold a number or a blob there).
fn read_id(r: &rusqlite::Row<'_>) -> String {
    use rusqlite::types::ValueRef;
    match r.get_ref(0) {
        Ok(ValueRef::Text(t)) => String::from_utf8_lossy(t).into_owned(),
        Ok(ValueRef::Integer(i)) => i.to_string(),
        Ok(ValueRef::Real(f)) => f.to_string(),
        Ok(ValueRef::Blob(b)) => String::from_utf8_lossy(b).into_owned(),
        Ok(ValueRef::Null) | Err(_) => "(no id)".into(),
    }
}

/// Sets aside the due rows whose fence is used up: `unknown`, with why, and an event; nothing sent.
fn set_aside_spent(tx: &Connection, due: &str, due_params: impl rusqlite::Params, owner: &str, now: i64) -> Result<()> {
    let spent: Vec<(String, i64)> = {
        let mut select = tx.prepare_cached(&format!(
            "SELECT id, attempt FROM intents WHERE {due} AND fence >= {FENCE_MAX}"
        ))?;
        select
            .query_map(due_params, |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?
    };
    for (id, attempt) in spent {
        tx.execute(
            "UPDATE intents SET state = 'unknown', answer = ?2, lease_owner = NULL, lease_until = NULL, \
             updated_at = ?3 WHERE id = ?1",
            params![id, FENCE_SPENT, now],
        )?;
        let event = EventRow {
            seq: 0,
            intent_id: id,
            attempt,
            at: now,
            owner: owner.to_owned(),
            kind: "set_aside".into(),
            detail: FENCE_SPENT.into(),
        };
        insert_event(tx, &event)?;
    }
    Ok(())
}

fn read_event(r: &rusqlite::Row<'_>) -> rusqlite::Result<EventRow> {
    Ok(EventRow {
        seq: r.get(0)?,
        intent_id: r.get(1)?,
        attempt: r.get(2)?,
        at: r.get(3)?,
        owner: r.get(4)?,
        kind: r.get(5)?,
        detail: r.get(6)?,
    })
}

fn insert_event(c: &Connection, e: &EventRow) -> rusqlite::Result<usize> {
    c.execute(
        "INSERT INTO events (intent_id, attempt, at, owner, kind, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![e.intent_id, e.attempt, e.at, e.owner, e.kind, e.detail],
    )
}

fn get_row(c: &Connection, id: &str) -> rusqlite::Result<Option<Row>> {
    c.query_row(&format!("SELECT {COLUMNS} FROM intents WHERE id = ?1"), [id], read_row)
        .optional()
}

#[async_trait]
impl Store for Sqlite {
    async fn insert(&self, row: &Row, event: &EventRow) -> Result<(Row, bool)> {
        let (row, event) = (row.clone(), event.clone());
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let inserted = tx.execute(
                &format!(
                    "INSERT INTO intents ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, \
                     ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21) ON CONFLICT (id) DO NOTHING"
                ),
                params![
                    row.id,
                    row.account,
                    row.provider,
                    row.batch,
                    row.request,
                    row.provider_options,
                    row.state,
                    row.attempt,
                    row.tries,
                    row.sent,
                    row.marker,
                    row.started_at,
                    row.pending,
                    row.not_before,
                    row.lease_owner,
                    row.lease_until,
                    row.fence,
                    row.answer,
                    row.refund_id,
                    row.created_at,
                    row.updated_at
                ],
            )?;
            if inserted == 1 {
                insert_event(&tx, &event)?;
            }
            let stored =
                get_row(&tx, &row.id)?.ok_or_else(|| JournalError::Store("an inserted row vanished".into()))?;
            tx.commit()?;
            Ok((stored, inserted == 1))
        })
        .await
    }

    async fn claim(&self, claim: Claim<'_>, limit: u32, id: Option<&str>, batch: Option<&str>) -> Result<Vec<Row>> {
        let owner = claim.owner.to_owned();
        let (now, lease_until) = (claim.now, claim.lease_until);
        let (id, batch) = (id.map(str::to_owned), batch.map(str::to_owned));
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            // A fence that is not an integer (a hand-edited file) is never raised: `fence + 1` on it
            // would store a REAL.
            let due = format!(
                "state IN {UNRESOLVED} AND not_before <= ?1 AND (lease_until IS NULL OR lease_until <= ?1) \
                 AND (?2 IS NULL OR id = ?2) AND (?3 IS NULL OR batch = ?3) AND typeof(fence) = 'integer'"
            );
            set_aside_spent(&tx, &due, params![now, id, batch], &owner, now)?;
            let rows = {
                let mut select = tx.prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM intents WHERE {due} AND fence < ?5 ORDER BY not_before, id LIMIT ?4"
                ))?;
                select
                    .query_map(params![now, id, batch, limit, FENCE_MAX], read_row)?
                    .collect::<rusqlite::Result<Vec<Row>>>()?
            };
            for row in &rows {
                tx.execute(
                    "UPDATE intents SET lease_owner = ?2, lease_until = ?3, fence = fence + 1, updated_at = ?4 \
                     WHERE id = ?1",
                    params![row.id, owner, lease_until, now],
                )?;
            }
            tx.commit()?;
            Ok(rows)
        })
        .await
    }

    async fn start(&self, row: &Row, fence: i64, event: &EventRow) -> Result<bool> {
        let (row, event) = (row.clone(), event.clone());
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let changed = tx.execute(
                "UPDATE intents SET state = 'sending', started_at = ?3, lease_owner = ?4, lease_until = ?5, \
                 updated_at = ?6 WHERE id = ?1 AND fence = ?2 AND state = 'recorded'",
                params![
                    row.id,
                    fence,
                    row.started_at,
                    row.lease_owner,
                    row.lease_until,
                    row.updated_at
                ],
            )?;
            if changed == 1 {
                insert_event(&tx, &event)?;
            }
            tx.commit()?;
            Ok(changed == 1)
        })
        .await
    }

    async fn renew(&self, id: &str, fence: i64, until: i64) -> Result<bool> {
        let id = id.to_owned();
        self.with(move |c| {
            let changed = c.execute(
                "UPDATE intents SET lease_until = ?3 WHERE id = ?1 AND fence = ?2",
                params![id, fence, until],
            )?;
            Ok(changed == 1)
        })
        .await
    }

    async fn siblings(&self, account: &str, except: &str) -> Result<Vec<Sibling>> {
        let (account, except) = (account.to_owned(), except.to_owned());
        self.with(move |c| {
            let mut select = c.prepare_cached(&format!(
                "SELECT id, request, state, refund_id FROM intents WHERE account = ?1 AND id <> ?2 \
                 AND (refund_id IS NOT NULL OR state IN {UNRESOLVED})"
            ))?;
            let rows = select
                .query_map(params![account, except], |r| {
                    Ok(Sibling {
                        id: r.get(0)?,
                        request: r.get(1)?,
                        state: r.get(2)?,
                        refund_id: r.get(3)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
    }

    async fn update(&self, row: &Row, fence: i64, event: &EventRow) -> Result<bool> {
        let (row, event) = (row.clone(), event.clone());
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let changed = tx.execute(
                "UPDATE intents SET state = ?3, attempt = ?4, tries = ?5, sent = ?6, marker = ?7, started_at = ?8, \
                 pending = ?9, not_before = ?10, lease_owner = ?11, lease_until = ?12, answer = ?13, refund_id = ?14, \
                 updated_at = ?15 WHERE id = ?1 AND fence = ?2",
                params![
                    row.id,
                    fence,
                    row.state,
                    row.attempt,
                    row.tries,
                    row.sent,
                    row.marker,
                    row.started_at,
                    row.pending,
                    row.not_before,
                    row.lease_owner,
                    row.lease_until,
                    row.answer,
                    row.refund_id,
                    row.updated_at
                ],
            )?;
            let mut event = event;
            if changed == 0 {
                event.kind = "late".into();
            }
            insert_event(&tx, &event)?;
            tx.commit()?;
            Ok(changed == 1)
        })
        .await
    }

    async fn get(&self, id: &str) -> Result<Option<Row>> {
        let id = id.to_owned();
        self.with(move |c| Ok(get_row(c, &id)?)).await
    }

    async fn list(
        &self,
        state: Option<&str>,
        batch: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<std::result::Result<Row, Unreadable>>> {
        let (state, batch, after) = (
            state.map(str::to_owned),
            batch.map(str::to_owned),
            after.map(str::to_owned),
        );
        self.with(move |c| {
            let mut select = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM intents WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR batch = ?2) \
                 AND (?3 IS NULL OR id > ?3) ORDER BY id LIMIT ?4"
            ))?;
            let rows = select
                .query_map(params![state, batch, after, limit], |r| {
                    Ok(read_row(r).map_err(|e| Unreadable {
                        id: read_id(r),
                        reason: e.to_string(),
                    }))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
    }

    async fn events(&self, id: &str) -> Result<Vec<EventRow>> {
        let id = id.to_owned();
        self.with(move |c| {
            let mut select = c.prepare_cached(
                "SELECT seq, intent_id, attempt, at, owner, kind, detail FROM events WHERE intent_id = ?1 ORDER BY seq",
            )?;
            let rows = select
                .query_map([id], read_event)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
    }

    async fn counts(&self, batch: Option<&str>) -> Result<Vec<(String, i64)>> {
        let batch = batch.map(str::to_owned);
        self.with(move |c| {
            let mut select = c.prepare_cached(
                "SELECT state, COUNT(*) FROM intents WHERE (?1 IS NULL OR batch = ?1) GROUP BY state ORDER BY state",
            )?;
            let rows = select
                .query_map([batch], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
    }

    async fn next_due(&self, batch: Option<&str>) -> Result<Option<i64>> {
        let batch = batch.map(str::to_owned);
        self.with(move |c| {
            Ok(c.query_row(
                &format!(
                    "SELECT MIN(MAX(not_before, COALESCE(lease_until, 0))) FROM intents WHERE state IN {UNRESOLVED} \
                     AND (?1 IS NULL OR batch = ?1) AND typeof(fence) = 'integer'"
                ),
                [batch],
                |r| r.get(0),
            )?)
        })
        .await
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }
}
