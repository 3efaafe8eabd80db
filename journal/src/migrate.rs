//! The schema, as numbered migrations: version N is the N-th entry of each backend's list. A database
//! records the versions applied in `journal_schema`; opening applies the missing ones in order, each
//! in its own transaction with its version row, and refuses a database newer than this build.
//! Migrations are only ever appended: an applied one is never edited.

/// The newest schema version this build knows.
pub const SCHEMA_VERSION: i64 = 2;

/// SQLite's migrations.
#[cfg(feature = "sqlite")]
pub(crate) const SQLITE: [&str; 2] = [
    // 1: intents and their events.
    "CREATE TABLE intents (
        id TEXT PRIMARY KEY NOT NULL,
        account TEXT NOT NULL,
        provider TEXT NOT NULL,
        batch TEXT,
        request TEXT NOT NULL,
        provider_options TEXT,
        state TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        tries INTEGER NOT NULL,
        sent TEXT NOT NULL,
        marker TEXT,
        started_at INTEGER,
        pending TEXT,
        not_before INTEGER NOT NULL,
        lease_owner TEXT,
        lease_until INTEGER,
        fence INTEGER NOT NULL,
        answer TEXT,
        refund_id TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        intent_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        at INTEGER NOT NULL,
        owner TEXT NOT NULL,
        kind TEXT NOT NULL,
        detail TEXT NOT NULL
    );
    CREATE INDEX events_intent ON events (intent_id, seq);",
    // 2: claims find due rows, and batches list, without a scan.
    "CREATE INDEX intents_due ON intents (state, not_before);
    CREATE INDEX intents_batch ON intents (batch, id);",
];

/// PostgreSQL's migrations.
#[cfg(feature = "postgres")]
pub(crate) const POSTGRES: [&str; 2] = [
    "CREATE TABLE intents (
        id TEXT PRIMARY KEY,
        account TEXT NOT NULL,
        provider TEXT NOT NULL,
        batch TEXT,
        request TEXT NOT NULL,
        provider_options TEXT,
        state TEXT NOT NULL,
        attempt BIGINT NOT NULL,
        tries BIGINT NOT NULL,
        sent TEXT NOT NULL,
        marker TEXT,
        started_at BIGINT,
        pending TEXT,
        not_before BIGINT NOT NULL,
        lease_owner TEXT,
        lease_until BIGINT,
        fence BIGINT NOT NULL,
        answer TEXT,
        refund_id TEXT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
    );
    CREATE TABLE events (
        seq BIGSERIAL PRIMARY KEY,
        intent_id TEXT NOT NULL,
        attempt BIGINT NOT NULL,
        at BIGINT NOT NULL,
        owner TEXT NOT NULL,
        kind TEXT NOT NULL,
        detail TEXT NOT NULL
    );
    CREATE INDEX events_intent ON events (intent_id, seq);",
    "CREATE INDEX intents_due ON intents (state, not_before);
    CREATE INDEX intents_batch ON intents (batch, id);",
];

/// The table of applied versions (the same text in both backends).
pub(crate) const VERSIONS_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS journal_schema (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)";

/// Refuses a database newer than this build.
pub(crate) fn check_known(found: i64) -> crate::Result<()> {
    if found > SCHEMA_VERSION {
        return Err(crate::JournalError::SchemaTooNew {
            found,
            known: SCHEMA_VERSION,
        });
    }
    Ok(())
}
