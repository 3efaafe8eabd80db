//! What an `Ambiguous` create leaves behind: everything needed to send the identical request again, and
//! the times recovery judges it by.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::{Error, Result};
use crate::model::CreateRefund;

/// A create whose outcome is unknown: the request exactly as it was sent (with the idempotency key
/// the SDK generated where the provider honours one, and the marker the SDK wrote where the provider
/// echoes one), the provider's own options of that call, which provider it went to, when the call
/// started and when its last attempt ended.
///
/// It serializes to JSON, so an application (or the command line) can store it and resolve it later;
/// reading one back checks it as a new request is checked (ids, amounts, texts, times).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "PendingWire")]
#[non_exhaustive]
pub struct PendingCreate {
    /// The request as sent, generated key and marker included.
    pub request: CreateRefund,
    /// The provider id it was sent to.
    pub provider: String,
    /// The provider's own options of that call, as JSON (`None`: the client's defaults). A re-send
    /// sends them again, so it is the identical request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_options: Option<serde_json::Value>,
    /// When the call started (this machine's clock): refunds created before it (less the clock-skew
    /// margin) are not this create's.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// When the call's last attempt ended (this machine's clock): the settle window counts from here.
    #[serde(with = "time::serde::rfc3339")]
    pub ended_at: OffsetDateTime,
    /// The marker the SDK wrote into the request where the provider echoes it (a metadata entry or
    /// the merchant reference): a refund carrying it is this create's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
}

impl PendingCreate {
    /// A pending create of `request` at `provider`, started (and, until [`PendingCreate::ended_at`]
    /// says otherwise, ended) at `started_at`.
    pub fn new(request: CreateRefund, provider: impl Into<String>, started_at: OffsetDateTime) -> PendingCreate {
        PendingCreate {
            request,
            provider: provider.into(),
            provider_options: None,
            started_at,
            ended_at: started_at,
            marker: None,
        }
    }

    /// Sets when the last attempt ended.
    pub fn ended_at(mut self, at: OffsetDateTime) -> PendingCreate {
        self.ended_at = at;
        self
    }

    /// Sets the provider's own options of the call.
    pub fn provider_options(mut self, options: Option<serde_json::Value>) -> PendingCreate {
        self.provider_options = options;
        self
    }

    /// Sets the marker written into the request.
    pub fn marker(mut self, marker: Option<String>) -> PendingCreate {
        self.marker = marker;
        self
    }

    /// Checks what any stored pending create must hold: a valid request, a provider id, a marker of
    /// printable text, and an end no earlier than the start.
    pub fn validate(&self) -> Result<()> {
        self.request.validate()?;
        let id_ok = !self.provider.is_empty()
            && self.provider.len() <= 64
            && self
                .provider
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !id_ok {
            return Err(Error::invalid_request("provider", "not a provider id"));
        }
        if let Some(marker) = &self.marker {
            crate::model::check_text("marker", marker, 255)?;
        }
        if self.ended_at < self.started_at {
            return Err(Error::invalid_request("ended_at", "earlier than started_at"));
        }
        Ok(())
    }
}

/// A pending create as stored, checked when read back.
#[derive(Deserialize)]
struct PendingWire {
    request: CreateRefund,
    provider: String,
    #[serde(default)]
    provider_options: Option<serde_json::Value>,
    #[serde(with = "time::serde::rfc3339")]
    started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    ended_at: OffsetDateTime,
    #[serde(default)]
    marker: Option<String>,
}

impl TryFrom<PendingWire> for PendingCreate {
    type Error = Error;
    fn try_from(w: PendingWire) -> Result<Self> {
        let pending = PendingCreate {
            request: w.request,
            provider: w.provider,
            provider_options: w.provider_options,
            started_at: w.started_at,
            ended_at: w.ended_at,
            marker: w.marker,
        };
        pending.validate()?;
        Ok(pending)
    }
}
