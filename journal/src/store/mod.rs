//! The two backends behind one interface. A backend stores rows and answers claims; every decision
//! about what a row means is made above it, once.

use async_trait::async_trait;

use crate::Result;

#[cfg(feature = "postgres")]
pub(crate) mod postgres;
#[cfg(feature = "sqlite")]
pub(crate) mod sqlite;

/// One intent as stored: plain values, the same in both backends. Times are unix milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    pub id: String,
    pub account: String,
    pub provider: String,
    pub batch: Option<String>,
    /// The request as the application gave it (JSON).
    pub request: String,
    pub provider_options: Option<String>,
    pub state: String,
    pub attempt: i64,
    pub tries: i64,
    /// The current attempt's request as sent (JSON): key and marker included.
    pub sent: String,
    pub marker: Option<String>,
    pub started_at: Option<i64>,
    /// The pending create of an ambiguous answer (JSON), kept so the settle window counts from its
    /// last attempt on every recovery.
    pub pending: Option<String>,
    pub not_before: i64,
    pub lease_owner: Option<String>,
    pub lease_until: Option<i64>,
    /// Raised by every claim: an update carries the fence of its claim and is refused after another
    /// worker took the row over.
    pub fence: i64,
    pub answer: Option<String>,
    pub refund_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The columns of `intents`, in [`Row`]'s order.
pub(crate) const COLUMNS: &str = "id, account, provider, batch, request, provider_options, state, attempt, tries, sent, \
     marker, started_at, pending, not_before, lease_owner, lease_until, fence, answer, refund_id, created_at, updated_at";

/// One event as stored.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EventRow {
    pub seq: i64,
    pub intent_id: String,
    pub attempt: i64,
    pub at: i64,
    pub owner: String,
    pub kind: String,
    pub detail: String,
}

/// A claim: who takes rows, when, and until when.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Claim<'a> {
    pub owner: &'a str,
    pub now: i64,
    pub lease_until: i64,
}

/// A row that does not read back as this build writes rows (a state it does not know, a value of
/// the wrong type): listed by its id and why, never hiding the others.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Unreadable {
    pub id: String,
    pub reason: String,
}

/// What an intent of the same account's payment holds, for recovery's `booked` and `exclusive`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sibling {
    pub id: String,
    pub request: String,
    pub state: String,
    pub refund_id: Option<String>,
}

/// The largest fence: a row there cannot be claimed again without overflowing (it is set aside for a
/// person instead).
pub(crate) const FENCE_MAX: i64 = i64::MAX;

/// The answer recorded on a row whose fence is used up.
pub(crate) const FENCE_SPENT: &str = r#"{"because":"its fence is at the largest number, so no claim of it can be told from an earlier one: set aside, nothing sent; a person decides"}"#;

/// The states a worker takes up (unresolved).
pub(crate) const UNRESOLVED: &str = "('recorded', 'sending', 'pending')";

/// What the journal needs from a database.
#[async_trait]
pub(crate) trait Store: Send + Sync {
    /// Inserts `row` and its `recorded` event, unless an intent with its id exists: then nothing is
    /// written and the existing row comes back, with `false`.
    async fn insert(&self, row: &Row, event: &EventRow) -> Result<(Row, bool)>;

    /// Takes up to `limit` unresolved rows that are due and not leased (or whose lease expired),
    /// oldest due first, returning them **as they were** (fence and lease before the claim). Every
    /// taken row gets `claim`'s lease and a raised fence; its state is left as it is (a `recorded`
    /// row becomes `sending` only through [`Store::start`]). A due row whose fence is at
    /// [`FENCE_MAX`] is not taken: it is settled `unknown` with [`FENCE_SPENT`] in the same commit.
    /// `id` restricts the claim to one intent; `batch` to a batch.
    async fn claim(&self, claim: Claim<'_>, limit: u32, id: Option<&str>, batch: Option<&str>) -> Result<Vec<Row>>;

    /// Marks the attempt of `row` sent (`sending`, its start time and lease as `row` has them) where
    /// the row is still `recorded` under `fence`, with `event`; false (nothing written) when another
    /// worker took it over.
    async fn start(&self, row: &Row, fence: i64, event: &EventRow) -> Result<bool>;

    /// Extends the lease of a row held under `fence` to `until`; false when it is no longer held.
    async fn renew(&self, id: &str, fence: i64, until: i64) -> Result<bool>;

    /// The other intents of `account` that hold a refund or are unresolved (request, state, refund).
    async fn siblings(&self, account: &str, except: &str) -> Result<Vec<Sibling>>;

    /// Writes `row`'s mutable columns where its id and `fence` still match, and `event` in any case
    /// (an answer is never dropped). False when the fence no longer matched.
    async fn update(&self, row: &Row, fence: i64, event: &EventRow) -> Result<bool>;

    /// One row.
    async fn get(&self, id: &str) -> Result<Option<Row>>;

    /// Rows in id order, optionally of one state and batch, after `after` (paging), at most `limit`;
    /// a row that does not read back comes as [`Unreadable`].
    async fn list(
        &self,
        state: Option<&str>,
        batch: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Result<Row, Unreadable>>>;

    /// An intent's events, in order.
    async fn events(&self, id: &str) -> Result<Vec<EventRow>>;

    /// How many rows are in each state (of one batch, where given).
    async fn counts(&self, batch: Option<&str>) -> Result<Vec<(String, i64)>>;

    /// When the next unresolved row becomes claimable (its due time or its lease's end), if any.
    async fn next_due(&self, batch: Option<&str>) -> Result<Option<i64>>;

    /// The backend's name.
    fn backend(&self) -> &'static str;
}
