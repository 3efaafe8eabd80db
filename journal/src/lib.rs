//! # refunds-journal
//!
//! A refund journal that survives crashes. Every create is recorded durably **before** anything is
//! sent: the application's intent id (a business key such as an order id, unique), the provider
//! account, the request with its provider options, the idempotency key generated before the write and,
//! where the provider takes no key, the marker that links a refund to the intent. Then every attempt's
//! outcome and the final answer are recorded: the refund, a refusal, a pending create, a recovery
//! verdict with its evidence or its doubt.
//!
//! After a crash an intent left `sending` is ambiguous by definition: [`Journal::resume`] claims the
//! unresolved intents and resolves them with the SDK's verdict rules
//! ([`refunds::RecoverExt::recover_with`]: a re-send under the stored key while the provider keeps it,
//! else a look-up), records every answer, retries `Unknown` with a bounded backoff and leaves
//! `Candidates` for a person, with the reason.
//!
//! ```no_run
//! # async fn run(provider: std::sync::Arc<dyn refunds::RefundProvider>) -> Result<(), Box<dyn std::error::Error>> {
//! use refunds::{CreateRefund, Currency, Money, PaymentRef};
//! use refunds_journal::{IntentId, Journal, NewIntent};
//!
//! let journal = Journal::open("refunds-journal.db").await?;
//! let request = CreateRefund::new(PaymentRef::payment_intent("pi_123")?)
//!     .amount(Money::from_major_str("12.50", Currency::EUR)?);
//! // The same intent id twice is the same refund: a re-run returns what the first run recorded.
//! let intent = NewIntent::new(IntentId::new("order-42")?, "wooshpay", request);
//! let outcome = journal.submit(&provider, intent).await?;
//! println!("{} {}", outcome.id, outcome.state);
//! # Ok(()) }
//! ```
//!
//! Backends: SQLite (feature `sqlite`, the default: one file, WAL with `synchronous=FULL`, so a
//! commit is on disk before the create is sent) and PostgreSQL (feature `postgres`: several
//! processes or machines share the work, claims take rows with `FOR UPDATE SKIP LOCKED` and hold them
//! under a lease that expires when a worker dies). One API over both; schema migrations are versioned.
//!
//! Secrets are never stored: requests are stored as sent, and the SDK never puts the API key into a
//! request; errors are recorded after the SDK scrubbed the key from them.

mod account;
mod error;
mod intent;
mod journal;
mod location;
mod migrate;
mod resolve;
mod store;

pub use account::{Account, Accounts, Limited, Ready, Typed};
pub use error::JournalError;
pub use intent::{Event, Intent, IntentId, NewIntent, State};
pub use journal::{Journal, JournalOptions, ResumeOptions, ResumeReport, Unreadable};
pub use location::Location;
pub use migrate::SCHEMA_VERSION;

/// The journal's result type.
pub type Result<T, E = JournalError> = std::result::Result<T, E>;
