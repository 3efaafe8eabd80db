//! The embedded sandbox: a stateful, offline simulator of a provider's HTTP API on 127.0.0.1.
//!
//! The core supplies what every provider shares: the [`Ledger`] (payments, refunds, balances,
//! idempotency, a clock), the [`FaultPlan`] (503, 429 with `Retry-After`, a reset connection, a slow
//! response, "applied but the response was lost"), and the HTTP server ([`Sandbox`]). Each provider
//! crate supplies a [`Skin`]: its paths, auth check, field names, units, paging and error bodies over
//! the ledger, written with the crate's own wire types so that client and server cannot drift.
//!
//! A user's test starts a provider sandbox, seeds a payment and points the real client at it:
//!
//! ```text
//! let sandbox = refunds_xpay::sandbox::start().await?;
//! sandbox.ledger().seed_payment("ch_1", Money::from_minor(50_000, Currency::EGP));
//! let client = refunds_xpay::sandbox::builder_for(&sandbox).build()?;
//! ```
//!
//! A sandbox is also a server for tests in other languages (`refunds sandbox serve`): every sandbox
//! answers a control API under `/_sandbox/` on its own port (see the `control` table in the README:
//! seed, settle, faults by name with [`parse_fault`], the clock, the ledger, the latest requests),
//! listens where it is told ([`Sandbox::start_at`]), can stream answers and cut them
//! ([`SandboxResponse::streaming`], [`Sandbox::cut_streams`]), and keeps its world in a [`Journal`]
//! file ([`Sandbox::record_to`], [`Sandbox::replay`]).

mod body;
mod control;
mod fault;
mod http_types;
mod journal;
mod kit;
mod rate_limit;
mod server;
mod skin;
mod webhooks;

pub use crate::ledger::{
    ChangeKind, CreateOutcome, Ledger, LedgerError, PaymentRecord, PaymentState, RefundDraft, RefundRecord,
    SimulatedOutcome,
};
pub use body::StreamWriter;
pub use control::{FAULT_NAMES, parse_fault};
pub use fault::{Fault, FaultCounts, FaultPlan};
pub use http_types::{SandboxRequest, SandboxResponse};
pub use journal::{Journal, JournalEntry};
pub use kit::{SandboxKit, SandboxWebhooks};
pub use rate_limit::{RateLimitCount, RateLimited};
pub use server::{RECENT_REQUESTS, Sandbox};
pub use skin::{
    BadParam, Call, ListQuery, Page, ParamProblem, RefundFilter, Refusal, SpecSkin, event_kind, send_webhooks,
};
pub use webhooks::{
    DEFAULT_WEBHOOK_RETRIES, DEFAULT_WEBHOOK_RETRY_DELAY, DeliveryRecord, MAX_WEBHOOK_RETRIES, WebhookSender,
    WebhookStats,
};

/// A provider's face over the shared ledger: it answers one HTTP request the way the provider would.
pub trait Skin: Send + Sync + 'static {
    /// The provider id (`"xpay"`), for logs.
    fn provider(&self) -> &'static str;

    /// Answers `request` against `ledger`: check the auth header (401 in the provider's shape when
    /// wrong), route, decode the body with the crate's wire types, apply to the ledger, encode.
    fn handle(&self, request: &SandboxRequest, ledger: &Ledger) -> SandboxResponse;

    /// The provider's error answer for an HTTP status the fault plan injects (429, 503, and the
    /// statuses of [`Fault::AppliedThen`]).
    fn error_response(&self, status: u16, message: &str) -> SandboxResponse;

    /// The idempotency key `request` carries, where the provider de-duplicates creates (a header such
    /// as `Idempotency-Key`, or a body field): while a [`Fault::SlowCommit`] of a request with this key
    /// is pending, other requests with the same key get [`Skin::in_progress_response`]. `None` (the
    /// default) for providers without idempotency and for requests that carry no key.
    fn idempotency_key(&self, request: &SandboxRequest) -> Option<String> {
        let _ = request;
        None
    }

    /// Whether `request` is a read the SDK makes for its own bookkeeping (a payment's currency, where
    /// refunds carry none), not one the application asked for: it is answered before any fault and
    /// not counted in [`Sandbox::request_count`], so that a scenario's "the next request fails" and
    /// "one request was sent" mean the application's calls.
    fn bookkeeping_read(&self, request: &SandboxRequest) -> bool {
        let _ = request;
        false
    }

    /// The provider's answer to a request whose idempotency key belongs to a create still in progress.
    /// The default is Stripe's: HTTP 409 with
    /// `{"error":{"type":"idempotency_error","code":"idempotency_key_in_use","message":"..."}}`.
    fn in_progress_response(&self) -> SandboxResponse {
        SandboxResponse::json(
            409,
            &serde_json::json!({"error": {
                "type": "idempotency_error",
                "code": "idempotency_key_in_use",
                "message": "a request with this key is in progress",
            }}),
        )
    }
}
