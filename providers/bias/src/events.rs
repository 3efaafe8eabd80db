//! The Bias event stream (`GET /events?stream=true`): Bias has no webhooks; it streams newline-separated
//! event objects and sends whitespace as keep-alive.
//!
//! Sans-IO part: [`EventLines`] splits bytes into lines whatever the network chunks, and
//! [`BiasEvents::event_from_json`] reads one line. IO part: [`BiasEvents::refund_events`] opens the
//! stream through the engine's `Client::open_stream` (the client's key and base URL, no redirects, no
//! proxy to loopback, errors tagged and scrubbed; one attempt, since a stream read halfway cannot be
//! replayed) and bounds the idle time between chunks itself.

use std::time::Duration;

use futures_util::stream::{self, BoxStream, StreamExt};
use refunds::adapter::lines::read_lines;
use refunds::adapter::{ApiRequest, HttpProvider, WithRaw, parse_object};
use refunds::{Delivery, Error, ErrorKind, RawJson, Refund, Result};
use serde::Deserialize;
use serde_json::value::RawValue;
use time::OffsetDateTime;

use crate::BiasClient;

/// The longest event line read (a line longer than this is an error, not an allocation).
const MAX_EVENT_LINE: usize = 1024 * 1024;

/// Splits a byte stream into its non-blank lines (the engine's [`refunds::adapter::lines::Lines`]).
pub use refunds::adapter::lines::Lines as EventLines;

/// One event from the stream.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum BiasEvent {
    /// A `refund.*` event.
    Refund(Box<RefundEvent>),
    /// Any other event type, kept as sent.
    Other {
        /// `type` (`payment.created`, ...).
        event_type: String,
        /// The event object as received.
        raw: RawJson,
    },
}

/// A `refund.*` event: the refund after (`state`) and before (`previous_state`) the change.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RefundEvent {
    /// `event_...`.
    pub id: String,
    /// `refund.created`, `refund.updated`, ... (names not listed by Bias: taken as sent).
    pub event_type: String,
    /// When the event happened.
    pub created_at: Option<OffsetDateTime>,
    /// The refund after the change.
    pub state: Refund,
    /// The refund before it (`None` for a creation).
    pub previous_state: Option<Refund>,
    /// The event object as received.
    pub raw: RawJson,
}

#[derive(Deserialize)]
struct WireEvent {
    #[serde(default)]
    id: Option<String>,
    #[serde(rename = "type")]
    event_type: String,
    #[serde(with = "refunds::adapter::timestamp::unix_millis::option", default)]
    created_at: Option<OffsetDateTime>,
    #[serde(default)]
    state: Option<Box<RawValue>>,
    #[serde(default)]
    previous_state: Option<Box<RawValue>>,
}

/// What to stream.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventsRequest {
    /// Bias ends the stream after this many events (`limit`); `None` streams until closed.
    pub limit: Option<u32>,
    /// The longest silence tolerated (keep-alives count); then the stream ends with a `Timeout` error.
    pub idle_timeout: Duration,
}

impl Default for EventsRequest {
    fn default() -> Self {
        EventsRequest {
            limit: None,
            idle_timeout: Duration::from_secs(60),
        }
    }
}

impl EventsRequest {
    /// Until closed, 60 s of silence at most.
    pub fn new() -> EventsRequest {
        EventsRequest::default()
    }
    /// Ends after `limit` events.
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }
    /// Sets the idle timeout.
    pub fn idle_timeout(mut self, idle: Duration) -> Self {
        self.idle_timeout = idle;
        self
    }
}

/// The Bias event stream, on a [`BiasClient`].
pub trait BiasEvents {
    /// Reads one event line: `refund.*` events become [`BiasEvent::Refund`] (states read like any
    /// refund, raw kept), others are kept raw. A bad line is a `Decode` error keeping the line.
    fn event_from_json(&self, line: &[u8]) -> Result<BiasEvent>;

    /// `GET /events?stream=true`: the events as they come, ending when the server closes the stream
    /// (or after a transport error, an error answer or an idle timeout, yielded last).
    fn refund_events(&self, request: EventsRequest) -> BoxStream<'static, Result<BiasEvent>>;
}

impl BiasEvents for BiasClient {
    fn event_from_json(&self, line: &[u8]) -> Result<BiasEvent> {
        let read = || -> Result<BiasEvent> {
            let wire: WithRaw<WireEvent> =
                parse_object(line).map_err(|e| Error::decode(format!("event object: {e}")))?;
            let WithRaw { value, raw } = wire;
            if !value.event_type.starts_with("refund.") {
                let event_type = value.event_type;
                return Ok(BiasEvent::Other { event_type, raw });
            }
            let refund = |state: &RawValue| self.provider().read_refund(state.get().as_bytes());
            let state = value
                .state
                .as_deref()
                .ok_or_else(|| Error::decode("refund event without `state`"))?;
            let previous_state = match value.previous_state.as_deref() {
                Some(previous) if previous.get() != "null" => Some(refund(previous)?),
                _ => None,
            };
            Ok(BiasEvent::Refund(Box::new(RefundEvent {
                id: value.id.unwrap_or_default(),
                event_type: value.event_type,
                created_at: value.created_at,
                state: refund(state)?,
                previous_state,
                raw,
            })))
        };
        read().map_err(|e| self.finish(Error::new(ErrorKind::Decode, Delivery::NotSent, e.message()).with_body(line)))
    }

    fn refund_events(&self, request: EventsRequest) -> BoxStream<'static, Result<BiasEvent>> {
        let mut call = ApiRequest::get(&["events"]).query("stream", "true");
        if let Some(limit) = request.limit {
            call = call.query("limit", limit);
        }
        let client = self.clone();
        stream::once(async move { (client.open_stream(&call).await, client) })
            .flat_map(move |(opened, client)| match opened {
                Err(e) => stream::iter([Err(e)]).boxed(),
                Ok(body) => read_lines(body, MAX_EVENT_LINE, request.idle_timeout)
                    .map(move |line| {
                        line.map_err(|e| client.finish(e))
                            .and_then(|l| client.event_from_json(&l))
                    })
                    .boxed(),
            })
            .boxed()
    }
}
