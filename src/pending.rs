//! What an `Ambiguous` create leaves behind: enough to find out later whether it was applied.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::model::CreateRefund;

/// A create whose outcome is unknown: the request exactly as it was sent (with the idempotency key
/// the SDK generated, where the provider honours one), which provider it went to, and when the call
/// started, so that recovery can exclude refunds that existed before it.
///
/// It serializes to JSON, so an application (or the command line) can store it and resolve it later.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PendingCreate {
    /// The request as sent, generated key included.
    pub request: CreateRefund,
    /// The provider id it was sent to.
    pub provider: String,
    /// When the call started (this machine's clock).
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
}

impl PendingCreate {
    /// A pending create of `request` at `provider`, started at `started_at`.
    pub fn new(request: CreateRefund, provider: impl Into<String>, started_at: OffsetDateTime) -> PendingCreate {
        PendingCreate {
            request,
            provider: provider.into(),
            started_at,
        }
    }
}
