//! The journal's errors. A store error keeps the database's message, never a connection string (it
//! may hold a password).

use std::fmt;

/// What went wrong in the journal itself (a provider's answer is recorded, never returned as this).
#[derive(Debug)]
#[non_exhaustive]
pub enum JournalError {
    /// The database refused or failed (its message).
    Store(String),
    /// The input cannot be journaled (an intent id, an account, provider options), named.
    Invalid(String),
    /// The intent id was recorded earlier with another account, request or provider options:
    /// nothing was sent (a business key names one refund).
    Conflict {
        /// The intent id.
        id: String,
        /// What differs.
        what: String,
    },
    /// The database's schema is newer than this build knows: refused rather than guessed at.
    SchemaTooNew {
        /// The version in the database.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
}

impl fmt::Display for JournalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JournalError::Store(message) => write!(f, "journal store: {message}"),
            JournalError::Invalid(message) => write!(f, "journal: {message}"),
            JournalError::Conflict { id, what } => write!(
                f,
                "journal: intent {id} was recorded earlier with {what}: refused, nothing sent (use another intent id, or `refunds journal show {id}`)"
            ),
            JournalError::SchemaTooNew { found, known } => write!(
                f,
                "journal schema version {found} is newer than this build knows ({known}): use a newer refunds-journal"
            ),
        }
    }
}

impl std::error::Error for JournalError {}

impl From<serde_json::Error> for JournalError {
    fn from(e: serde_json::Error) -> Self {
        JournalError::Store(format!("a stored value does not read back: {e}"))
    }
}

impl From<refunds::Error> for JournalError {
    fn from(e: refunds::Error) -> Self {
        JournalError::Invalid(e.to_string())
    }
}

#[cfg(feature = "sqlite")]
impl From<rusqlite::Error> for JournalError {
    fn from(e: rusqlite::Error) -> Self {
        JournalError::Store(e.to_string())
    }
}

#[cfg(feature = "postgres")]
impl From<tokio_postgres::Error> for JournalError {
    fn from(e: tokio_postgres::Error) -> Self {
        // Display of a tokio-postgres error names the server's message, never the configuration.
        let detail = e.as_db_error().map(|d| d.message().to_owned());
        JournalError::Store(detail.unwrap_or_else(|| e.to_string()))
    }
}
