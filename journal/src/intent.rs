//! What the journal records: intents (one refund the application means to make, under its own
//! business key), their states, and the events that record every answer.

use std::fmt;

use refunds::{CreateRefund, OffsetDateTime};
use serde::{Deserialize, Serialize};

use crate::{JournalError, Result};

/// The application's business key for one refund (an order id, `order-42-refund-1`): unique in a
/// journal, printable, at most 255 bytes.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IntentId(String);

impl IntentId {
    /// Checks and wraps an intent id.
    pub fn new(id: impl Into<String>) -> Result<IntentId> {
        let id = id.into();
        refunds::check_text("intent id", &id, 255).map_err(|e| JournalError::Invalid(e.to_string()))?;
        if id.trim().is_empty() {
            return Err(JournalError::Invalid("an intent id cannot be blank".into()));
        }
        Ok(IntentId(id))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for IntentId {
    type Error = JournalError;
    fn try_from(value: String) -> Result<Self> {
        IntentId::new(value)
    }
}

impl From<IntentId> for String {
    fn from(id: IntentId) -> String {
        id.0
    }
}

impl fmt::Debug for IntentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for IntentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where an intent is. The first three are unresolved (the journal works on them); the others are
/// settled, and three of those wait for a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum State {
    /// Recorded; nothing of the current attempt was sent (or nothing was applied and it may be sent
    /// again after `not_before`).
    Recorded,
    /// The current attempt may be on the wire. Found with its lease expired (its worker died), it is
    /// ambiguous by definition and resolved by recovery.
    Sending,
    /// The create's answer was ambiguous, or recovery could not tell yet: recovered again after
    /// `not_before`.
    Pending,
    /// The refund exists and is this intent's (the answer, or a verdict's evidence, says why).
    Applied,
    /// The provider applied a refund that differs from the request (another amount or currency):
    /// booked as answered; a person looks. Never created again.
    Differs,
    /// Nothing was applied and the journal stopped: a definite refusal, a request the provider calls
    /// malformed, or retries of a transient refusal used up.
    Failed,
    /// Refunds that may be this intent's but cannot be told apart from others': a person decides.
    Candidates,
    /// Recovery could not tell after its bounded retries: a person decides (the doubt is recorded).
    Unknown,
}

impl State {
    /// Every state, in order.
    pub const ALL: [State; 8] = [
        State::Recorded,
        State::Sending,
        State::Pending,
        State::Applied,
        State::Differs,
        State::Failed,
        State::Candidates,
        State::Unknown,
    ];

    /// The stored name (`recorded`, `sending`, ...).
    pub fn as_str(&self) -> &'static str {
        match self {
            State::Recorded => "recorded",
            State::Sending => "sending",
            State::Pending => "pending",
            State::Applied => "applied",
            State::Differs => "differs",
            State::Failed => "failed",
            State::Candidates => "candidates",
            State::Unknown => "unknown",
        }
    }

    /// The state of a stored name.
    pub fn from_name(name: &str) -> Option<State> {
        State::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// True once the journal stops working on the intent.
    pub fn is_settled(&self) -> bool {
        !matches!(self, State::Recorded | State::Sending | State::Pending)
    }

    /// True for the settled states a person must look at.
    pub fn needs_person(&self) -> bool {
        matches!(self, State::Differs | State::Candidates | State::Unknown)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An intent to record: the business key, the account (a name the application's [`crate::Accounts`]
/// resolves to a provider client), the request as the application means it, and the provider's own
/// options of the call, if any.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct NewIntent {
    /// The business key.
    pub id: IntentId,
    /// The provider account.
    pub account: String,
    /// The request (the journal adds the idempotency key and the marker before recording it).
    pub request: CreateRefund,
    /// The provider's own options for this create, as JSON (`None`: the client's).
    pub provider_options: Option<serde_json::Value>,
    /// A label grouping intents (a bulk file), for listing and resuming one batch.
    pub batch: Option<String>,
}

impl NewIntent {
    /// An intent of `request` under `id`, at `account`.
    pub fn new(id: IntentId, account: impl Into<String>, request: CreateRefund) -> NewIntent {
        NewIntent {
            id,
            account: account.into(),
            request,
            provider_options: None,
            batch: None,
        }
    }

    /// Sets the provider's own options (sent only through a [`crate::Typed`] account).
    pub fn provider_options(mut self, options: serde_json::Value) -> NewIntent {
        self.provider_options = Some(options);
        self
    }

    /// Sets the batch label.
    pub fn batch(mut self, batch: impl Into<String>) -> NewIntent {
        self.batch = Some(batch.into());
        self
    }
}

/// An intent as the journal holds it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Intent {
    /// The business key.
    pub id: IntentId,
    /// The provider account.
    pub account: String,
    /// The provider id of the account when the intent was recorded.
    pub provider: String,
    /// The request as the application gave it.
    pub request: CreateRefund,
    /// The provider's options for the create, if any.
    pub provider_options: Option<serde_json::Value>,
    /// The batch label, if any.
    pub batch: Option<String>,
    /// Where it is.
    pub state: State,
    /// The current attempt (1, then 2 after a verdict of "not applied" that allows another).
    pub attempt: u32,
    /// How many times the current state was tried (transient refusals, unknown verdicts).
    pub tries: u32,
    /// The current attempt's request as sent: the idempotency key and the marker included.
    pub sent: CreateRefund,
    /// The marker of the current attempt, where the provider echoes one.
    pub marker: Option<String>,
    /// When the current attempt was first sent.
    pub started_at: Option<OffsetDateTime>,
    /// Not worked on before this time.
    pub not_before: OffsetDateTime,
    /// The latest answer (a refund, a refusal, a verdict), as JSON.
    pub answer: Option<serde_json::Value>,
    /// The refund's id, once one is booked for the intent.
    pub refund_id: Option<String>,
    /// When it was recorded.
    pub created_at: OffsetDateTime,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
}

impl Intent {
    /// Whether `request` is the request this intent was recorded with (a re-run of the same input).
    pub fn same_request(&self, request: &CreateRefund) -> bool {
        &self.request == request
    }
}

/// One recorded answer or step of an intent.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Event {
    /// Its order in the journal.
    pub seq: i64,
    /// The attempt it belongs to.
    pub attempt: u32,
    /// When.
    pub at: OffsetDateTime,
    /// The worker that wrote it.
    pub owner: String,
    /// What happened: `recorded`, `sent`, `answer`, `refused`, `ambiguous`, `verdict`, `retry`,
    /// `attempt`, `late` (an answer that arrived after the worker's lease was taken over).
    pub kind: String,
    /// The details, as JSON.
    pub detail: serde_json::Value,
}
