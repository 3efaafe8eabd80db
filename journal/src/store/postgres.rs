//! PostgreSQL: several processes or machines share one journal. A claim takes due rows with
//! `FOR UPDATE SKIP LOCKED` (two workers never take the same row, and neither waits for the other)
//! and stamps a lease on them; when a worker dies its lease simply runs out, after which another worker claims the row and resolves it as ambiguous. Every update is fenced by
//! the claim's number, so a worker that outlived its lease cannot overwrite its successor's answer.
//!
//! A small pool of connections (each a tokio-postgres client driven by its own task); no TLS: the
//! journal's server is local or on a private network.

use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use tokio::sync::Mutex;
use tokio_postgres::{Client, NoTls, Row as PgRow};

use super::{COLUMNS, Claim, EventRow, FENCE_MAX, FENCE_SPENT, Row, Sibling, Store, UNRESOLVED, Unreadable};
use crate::Result;
use crate::migrate::{self, POSTGRES};

/// The advisory lock that serializes migrations across processes (any fixed number).
const MIGRATION_LOCK: i64 = 0x7265_6675_6e64_736a;

pub(crate) struct Postgres {
    pool: Vec<Mutex<Client>>,
    next: AtomicUsize,
}

impl Postgres {
    /// Connects `connections` clients to `url` (a `postgres://` URL or a key=value string).
    pub(crate) async fn connect(url: &str, connections: usize) -> Result<Postgres> {
        let mut pool = Vec::new();
        for _ in 0..connections.max(1) {
            let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::warn!("journal connection closed: {e}");
                }
            });
            pool.push(Mutex::new(client));
        }
        Ok(Postgres {
            pool,
            next: AtomicUsize::new(0),
        })
    }

    /// A free connection if there is one, else the next in turn.
    async fn client(&self) -> tokio::sync::MutexGuard<'_, Client> {
        for slot in &self.pool {
            if let Ok(guard) = slot.try_lock() {
                return guard;
            }
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.pool.len();
        self.pool[i].lock().await
    }

    /// Applies the migrations up to `target` (tests build older schemas with it).
    pub(crate) async fn migrate_to(&self, target: i64) -> Result<()> {
        let mut client = self.client().await;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        tx.batch_execute(migrate::VERSIONS_TABLE).await?;
        let found: i64 = tx
            .query_one("SELECT COALESCE(MAX(version), 0)::BIGINT FROM journal_schema", &[])
            .await?
            .get(0);
        migrate::check_known(found)?;
        for (version, sql) in (1_i64..).zip(POSTGRES) {
            if version > found && version <= target {
                tx.batch_execute(sql).await?;
                tx.execute(
                    "INSERT INTO journal_schema (version, applied_at) VALUES ($1, $2)",
                    &[&version, &crate::journal::now_ms()],
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

fn read_row(r: &PgRow) -> Row {
    Row {
        id: r.get(0),
        account: r.get(1),
        provider: r.get(2),
        batch: r.get(3),
        request: r.get(4),
        provider_options: r.get(5),
        state: r.get(6),
        attempt: r.get(7),
        tries: r.get(8),
        sent: r.get(9),
        marker: r.get(10),
        started_at: r.get(11),
        pending: r.get(12),
        not_before: r.get(13),
        lease_owner: r.get(14),
        lease_until: r.get(15),
        fence: r.get(16),
        answer: r.get(17),
        refund_id: r.get(18),
        created_at: r.get(19),
        updated_at: r.get(20),
    }
}

const INSERT_EVENT: &str =
    "INSERT INTO events (intent_id, attempt, at, owner, kind, detail) VALUES ($1, $2, $3, $4, $5, $6)";

#[async_trait]
impl Store for Postgres {
    async fn insert(&self, row: &Row, event: &EventRow) -> Result<(Row, bool)> {
        let mut client = self.client().await;
        let tx = client.transaction().await?;
        let inserted = tx
            .execute(
                &format!(
                    "INSERT INTO intents ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
                     $14, $15, $16, $17, $18, $19, $20, $21) ON CONFLICT (id) DO NOTHING"
                ),
                &[
                    &row.id,
                    &row.account,
                    &row.provider,
                    &row.batch,
                    &row.request,
                    &row.provider_options,
                    &row.state,
                    &row.attempt,
                    &row.tries,
                    &row.sent,
                    &row.marker,
                    &row.started_at,
                    &row.pending,
                    &row.not_before,
                    &row.lease_owner,
                    &row.lease_until,
                    &row.fence,
                    &row.answer,
                    &row.refund_id,
                    &row.created_at,
                    &row.updated_at,
                ],
            )
            .await?;
        if inserted == 1 {
            let e = event;
            tx.execute(
                INSERT_EVENT,
                &[&e.intent_id, &e.attempt, &e.at, &e.owner, &e.kind, &e.detail],
            )
            .await?;
        }
        let stored = tx
            .query_one(&format!("SELECT {COLUMNS} FROM intents WHERE id = $1"), &[&row.id])
            .await?;
        tx.commit().await?;
        Ok((read_row(&stored), inserted == 1))
    }

    async fn claim(&self, claim: Claim<'_>, limit: u32, id: Option<&str>, batch: Option<&str>) -> Result<Vec<Row>> {
        let mut client = self.client().await;
        let tx = client.transaction().await?;
        let limit = i64::from(limit);
        let due = format!(
            "state IN {UNRESOLVED} AND not_before <= $1 AND (lease_until IS NULL OR lease_until <= $1) \
             AND ($2::TEXT IS NULL OR id = $2) AND ($3::TEXT IS NULL OR batch = $3)"
        );
        // A used-up fence is never raised (`fence + 1` would overflow): set aside for a person.
        let spent = tx
            .query(
                &format!("SELECT id, attempt FROM intents WHERE {due} AND fence >= $4 FOR UPDATE SKIP LOCKED"),
                &[&claim.now, &id, &batch, &FENCE_MAX],
            )
            .await?;
        for r in &spent {
            let (spent_id, attempt): (String, i64) = (r.get(0), r.get(1));
            tx.execute(
                "UPDATE intents SET state = 'unknown', answer = $2, lease_owner = NULL, lease_until = NULL, \
                 updated_at = $3 WHERE id = $1",
                &[&spent_id, &FENCE_SPENT, &claim.now],
            )
            .await?;
            tx.execute(
                INSERT_EVENT,
                &[
                    &spent_id,
                    &attempt,
                    &claim.now,
                    &claim.owner,
                    &"set_aside",
                    &FENCE_SPENT,
                ],
            )
            .await?;
        }
        let taken = tx
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM intents WHERE {due} AND fence < $5 ORDER BY not_before, id LIMIT $4 \
                     FOR UPDATE SKIP LOCKED"
                ),
                &[&claim.now, &id, &batch, &limit, &FENCE_MAX],
            )
            .await?;
        let rows: Vec<Row> = taken.iter().map(read_row).collect();
        if !rows.is_empty() {
            let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
            tx.execute(
                "UPDATE intents SET lease_owner = $2, lease_until = $3, fence = fence + 1, updated_at = $4 \
                 WHERE id = ANY($1)",
                &[&ids, &claim.owner, &claim.lease_until, &claim.now],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(rows)
    }

    async fn start(&self, row: &Row, fence: i64, event: &EventRow) -> Result<bool> {
        let mut client = self.client().await;
        let tx = client.transaction().await?;
        let changed = tx
            .execute(
                "UPDATE intents SET state = 'sending', started_at = $3, lease_owner = $4, lease_until = $5, \
                 updated_at = $6 WHERE id = $1 AND fence = $2 AND state = 'recorded'",
                &[
                    &row.id,
                    &fence,
                    &row.started_at,
                    &row.lease_owner,
                    &row.lease_until,
                    &row.updated_at,
                ],
            )
            .await?;
        if changed == 1 {
            let e = event;
            tx.execute(
                INSERT_EVENT,
                &[&e.intent_id, &e.attempt, &e.at, &e.owner, &e.kind, &e.detail],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(changed == 1)
    }

    async fn renew(&self, id: &str, fence: i64, until: i64) -> Result<bool> {
        let client = self.client().await;
        let changed = client
            .execute(
                "UPDATE intents SET lease_until = $3 WHERE id = $1 AND fence = $2",
                &[&id, &fence, &until],
            )
            .await?;
        Ok(changed == 1)
    }

    async fn siblings(&self, account: &str, except: &str) -> Result<Vec<Sibling>> {
        let client = self.client().await;
        let rows = client
            .query(
                &format!(
                    "SELECT id, request, state, refund_id FROM intents WHERE account = $1 AND id <> $2 \
                     AND (refund_id IS NOT NULL OR state IN {UNRESOLVED})"
                ),
                &[&account, &except],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| Sibling {
                id: r.get(0),
                request: r.get(1),
                state: r.get(2),
                refund_id: r.get(3),
            })
            .collect())
    }

    async fn update(&self, row: &Row, fence: i64, event: &EventRow) -> Result<bool> {
        let mut client = self.client().await;
        let tx = client.transaction().await?;
        let changed = tx
            .execute(
                "UPDATE intents SET state = $3, attempt = $4, tries = $5, sent = $6, marker = $7, started_at = $8, \
                 pending = $9, not_before = $10, lease_owner = $11, lease_until = $12, answer = $13, refund_id = $14, \
                 updated_at = $15 WHERE id = $1 AND fence = $2",
                &[
                    &row.id,
                    &fence,
                    &row.state,
                    &row.attempt,
                    &row.tries,
                    &row.sent,
                    &row.marker,
                    &row.started_at,
                    &row.pending,
                    &row.not_before,
                    &row.lease_owner,
                    &row.lease_until,
                    &row.answer,
                    &row.refund_id,
                    &row.updated_at,
                ],
            )
            .await?;
        let kind = if changed == 0 { "late" } else { event.kind.as_str() };
        let e = event;
        tx.execute(
            INSERT_EVENT,
            &[&e.intent_id, &e.attempt, &e.at, &e.owner, &kind, &e.detail],
        )
        .await?;
        tx.commit().await?;
        Ok(changed == 1)
    }

    async fn get(&self, id: &str) -> Result<Option<Row>> {
        let client = self.client().await;
        let row = client
            .query_opt(&format!("SELECT {COLUMNS} FROM intents WHERE id = $1"), &[&id])
            .await?;
        Ok(row.as_ref().map(read_row))
    }

    async fn list(
        &self,
        state: Option<&str>,
        batch: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<std::result::Result<Row, Unreadable>>> {
        let client = self.client().await;
        let limit = i64::from(limit);
        let rows = client
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM intents WHERE ($1::TEXT IS NULL OR state = $1) AND ($2::TEXT IS NULL OR \
                     batch = $2) AND ($3::TEXT IS NULL OR id > $3) ORDER BY id LIMIT $4"
                ),
                &[&state, &batch, &after, &limit],
            )
            .await?;
        // The columns are typed: every row reads back (a state this build does not know is read above).
        Ok(rows.iter().map(|r| Ok(read_row(r))).collect())
    }

    async fn events(&self, id: &str) -> Result<Vec<EventRow>> {
        let client = self.client().await;
        let rows = client
            .query(
                "SELECT seq, intent_id, attempt, at, owner, kind, detail FROM events WHERE intent_id = $1 ORDER BY seq",
                &[&id],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| EventRow {
                seq: r.get(0),
                intent_id: r.get(1),
                attempt: r.get(2),
                at: r.get(3),
                owner: r.get(4),
                kind: r.get(5),
                detail: r.get(6),
            })
            .collect())
    }

    async fn counts(&self, batch: Option<&str>) -> Result<Vec<(String, i64)>> {
        let client = self.client().await;
        let rows = client
            .query(
                "SELECT state, COUNT(*)::BIGINT FROM intents WHERE ($1::TEXT IS NULL OR batch = $1) GROUP BY state \
                 ORDER BY state",
                &[&batch],
            )
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    async fn next_due(&self, batch: Option<&str>) -> Result<Option<i64>> {
        let client = self.client().await;
        let row = client
            .query_one(
                &format!(
                    "SELECT MIN(GREATEST(not_before, COALESCE(lease_until, 0)))::BIGINT FROM intents WHERE state IN \
                     {UNRESOLVED} AND ($1::TEXT IS NULL OR batch = $1)"
                ),
                &[&batch],
            )
            .await?;
        Ok(row.get(0))
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }
}
