//! Bias events: Bias has no webhooks; it keeps an event log (`GET /v1/events`, `GET /v1/events/{id}`)
//! and streams it (`GET /v1/events?stream=true`: newline-separated event objects, whitespace as
//! keep-alive). This module reads events and builds the list and stream queries; [`crate::stream`]
//! keeps a stream going across disconnects.

use std::time::Duration;

use refunds::adapter::paging::{check_limit, id_cursor};
use refunds::adapter::{ApiRequest, HttpProvider, RetryPolicy, WithRaw, parse_object};
use refunds::{Delivery, Error, ErrorKind, Page, PageCursor, RawJson, Refund, Result};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use time::OffsetDateTime;

use crate::BiasClient;
use crate::client::Bias;
use crate::wire::{Comparisons, Condition, WireEventFilters, WireList, query_json};

/// The longest event line or object read (a longer one is an error, not an allocation).
pub(crate) const MAX_EVENT_LINE: usize = 1024 * 1024;

/// Splits a byte stream into its non-blank lines (the engine's [`refunds::adapter::lines::Lines`]).
pub use refunds::adapter::lines::Lines as EventLines;

/// One event.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum BiasEvent {
    /// A `refund.*` event.
    Refund(Box<RefundEvent>),
    /// Any other event type, kept as sent.
    Other {
        /// `event_...`.
        id: String,
        /// `type` (`payment.created`, ...).
        event_type: String,
        /// When the event happened.
        created_at: Option<OffsetDateTime>,
        /// The event object as received.
        raw: RawJson,
    },
}

impl BiasEvent {
    /// `event_...`.
    pub fn id(&self) -> &str {
        match self {
            BiasEvent::Refund(event) => &event.id,
            BiasEvent::Other { id, .. } => id,
        }
    }

    /// When the event happened.
    pub fn created_at(&self) -> Option<OffsetDateTime> {
        match self {
            BiasEvent::Refund(event) => event.created_at,
            BiasEvent::Other { created_at, .. } => *created_at,
        }
    }

    /// `refund.created`, `payment.updated`, ...
    pub fn event_type(&self) -> &str {
        match self {
            BiasEvent::Refund(event) => &event.event_type,
            BiasEvent::Other { event_type, .. } => event_type,
        }
    }
}

/// A `refund.*` event: the refund after (`state`) and before (`previous_state`) the change.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RefundEvent {
    /// `event_...`.
    pub id: String,
    /// `refund.created`, `refund.updated`, `refund.succeeded` or `refund.failed` (the vendor client's
    /// `EventType`); another `refund.*` name is taken as sent.
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

/// Where a stream starts again: after the last event it delivered. Store it (its
/// [`ResumePoint::to_token`] text) and pass it back with [`EventsRequest::resume_from`]: the stream
/// then first lists what happened in between, so nothing is lost while the application was away.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResumePoint {
    /// `created_at` of the newest event delivered (unix milliseconds).
    pub created_at_ms: i64,
    /// The events delivered within the catch-up overlap before it: not delivered again.
    pub delivered: Vec<String>,
}

impl ResumePoint {
    /// A resume point after the event `id` created at `created_at_ms`.
    pub fn after(id: impl Into<String>, created_at_ms: i64) -> ResumePoint {
        ResumePoint {
            created_at_ms,
            delivered: vec![id.into()],
        }
    }

    /// The resume point as text, to store.
    pub fn to_token(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A resume point from the text of [`ResumePoint::to_token`].
    pub fn from_token(token: &str) -> Result<ResumePoint> {
        let point: ResumePoint = serde_json::from_str(token)
            .map_err(|e| Error::invalid_request("resume", format!("not a bias resume point: {e}")))?;
        if point.delivered.len() > crate::stream::SEEN_LIMIT {
            return Err(Error::invalid_request("resume", "resume point lists too many events"));
        }
        Ok(point)
    }
}

/// What to stream (or list).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventsRequest {
    /// The stream ends after this many events (Bias' `limit`); `None` streams until dropped. For
    /// [`crate::BiasExt::list_events`], the page size (1 to 1,000; default 50).
    pub limit: Option<u32>,
    /// The longest silence tolerated on a connection (keep-alives count; Bias sends one about every
    /// 10 s): then the stream reconnects. Default 30 s, as the vendor's client.
    pub idle_timeout: Duration,
    /// How often and how fast to reconnect after a drop (`max_retries` failed attempts in a row, then
    /// the stream ends with the last error). Default: 8 attempts, 1 s doubling to 30 s, with jitter.
    pub reconnect: RetryPolicy,
    /// Where to start: after this point, catching up through the event list first.
    pub resume: Option<ResumePoint>,
    /// Only events on objects of this type (`filters.object`); default `refund`.
    pub object: Option<String>,
    /// Only events of this type (`filters.type`, `refund.succeeded`).
    pub event_type: Option<String>,
    /// Only events on this object (`filters.for`, a refund id).
    pub for_object: Option<String>,
}

impl Default for EventsRequest {
    fn default() -> Self {
        EventsRequest {
            limit: None,
            idle_timeout: Duration::from_secs(30),
            reconnect: RetryPolicy::new()
                .max_retries(8)
                .base_delay(Duration::from_secs(1))
                .max_delay(Duration::from_secs(30)),
            resume: None,
            object: Some("refund".to_owned()),
            event_type: None,
            for_object: None,
        }
    }
}

impl EventsRequest {
    /// Refund events, until dropped, from now on.
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
    /// Sets the reconnect policy.
    pub fn reconnect(mut self, policy: RetryPolicy) -> Self {
        self.reconnect = policy;
        self
    }
    /// Starts after `point` (from [`crate::EventStream::resume_point`]).
    pub fn resume_from(mut self, point: ResumePoint) -> Self {
        self.resume = Some(point);
        self
    }
    /// Events on every object type, not only refunds.
    pub fn all_objects(mut self) -> Self {
        self.object = None;
        self
    }
    /// Only events of this type.
    pub fn event_type(mut self, event_type: impl Into<String>) -> Self {
        self.event_type = Some(event_type.into());
        self
    }
    /// Only events on this object (a refund id).
    pub fn for_object(mut self, id: impl Into<String>) -> Self {
        self.for_object = Some(id.into());
        self
    }

    /// The `filters` object, with `created_at >= since` (unix ms) when given.
    fn filters(&self, since: Option<i64>) -> WireEventFilters {
        let is = |value: &Option<String>| value.clone().map(Condition::Is);
        WireEventFilters {
            created_at: since.map(|gte| {
                Condition::Compare(Comparisons {
                    gte: Some(gte),
                    ..Comparisons::default()
                })
            }),
            for_object: is(&self.for_object),
            object: is(&self.object),
            event_type: is(&self.event_type),
        }
    }

    /// `GET /events?stream=true[&limit=n][&filters=...]`.
    pub(crate) fn stream_call(&self, limit: Option<u32>) -> Result<ApiRequest> {
        let mut call = ApiRequest::get(&["v1", "events"]).query("stream", "true");
        if let Some(limit) = limit {
            call = call.query("limit", limit);
        }
        with_filters(call, &self.filters(None))
    }

    /// `GET /events?limit=n[&starting_after|ending_before=id][&filters=...]`, `since` as a
    /// `created_at` floor.
    pub(crate) fn list_call(&self, limit: u32, cursor: Option<&PageCursor>, since: Option<i64>) -> Result<ApiRequest> {
        let mut call = ApiRequest::get(&["v1", "events"]).query("limit", limit);
        call = match id_cursor::from_cursor(crate::ID, cursor)? {
            Some(id_cursor::Position::After(id)) => call.query("starting_after", id),
            Some(id_cursor::Position::Before(id)) => call.query("ending_before", id),
            None => call,
        };
        with_filters(call, &self.filters(since))
    }
}

fn with_filters(call: ApiRequest, filters: &WireEventFilters) -> Result<ApiRequest> {
    if *filters == WireEventFilters::default() {
        return Ok(call);
    }
    Ok(call.query("filters", query_json(filters)?))
}

/// Reads one event object: `refund.*` events become [`BiasEvent::Refund`] (states read like any
/// refund, raw kept), others are kept raw.
pub(crate) fn read_event(provider: &Bias, line: &[u8]) -> Result<BiasEvent> {
    let wire: WithRaw<WireEvent> = parse_object(line).map_err(|e| Error::decode(format!("event object: {e}")))?;
    let WithRaw { value, raw } = wire;
    let id = value.id.ok_or_else(|| Error::decode("event without `id`"))?;
    if !value.event_type.starts_with("refund.") {
        let (event_type, created_at) = (value.event_type, value.created_at);
        return Ok(BiasEvent::Other {
            id,
            event_type,
            created_at,
            raw,
        });
    }
    let refund = |state: &RawValue| provider.read_refund(state.get().as_bytes());
    let state = value
        .state
        .as_deref()
        .ok_or_else(|| Error::decode("refund event without `state`"))?;
    let previous_state = match value.previous_state.as_deref() {
        Some(previous) if previous.get() != "null" => Some(refund(previous)?),
        _ => None,
    };
    Ok(BiasEvent::Refund(Box::new(RefundEvent {
        id,
        event_type: value.event_type,
        created_at: value.created_at,
        state: refund(state)?,
        previous_state,
        raw,
    })))
}

/// [`read_event`] as the client reports it: a `Decode` error keeping the line, tagged.
pub(crate) fn event_from_json(client: &BiasClient, line: &[u8]) -> Result<BiasEvent> {
    read_event(client.provider(), line)
        .map_err(|e| client.finish(Error::new(ErrorKind::Decode, Delivery::NotSent, e.message()).with_body(line)))
}

/// One page of the event list (newest first).
pub(crate) fn read_event_page(provider: &Bias, body: &[u8]) -> Result<(Vec<BiasEvent>, Option<bool>)> {
    let list: WireList<Box<RawValue>> =
        serde_json::from_slice(body).map_err(|e| Error::decode(format!("event list: {e}")))?;
    if let Some(object) = list.object.as_deref().filter(|o| *o != "list") {
        return Err(Error::decode(format!("expected a list, got `object`: {object:?}")));
    }
    let events: Result<Vec<BiasEvent>> = list
        .items
        .iter()
        .map(|item| read_event(provider, item.get().as_bytes()))
        .collect();
    Ok((events?, list.has_more))
}

/// `GET /events`: one page, `cursor` from an earlier page's `next` (or [`crate::cursor_after`] /
/// [`crate::cursor_before`] on an event id).
pub(crate) async fn list_events(
    client: &BiasClient,
    request: &EventsRequest,
    cursor: Option<&PageCursor>,
) -> Result<Page<BiasEvent>> {
    let paging = Bias::SPEC.paging.expect("bias lists");
    let limit = check_limit(request.limit, 1..=paging.max_limit, paging.default_limit).map_err(|e| client.finish(e))?;
    let call = request.list_call(limit, cursor, None).map_err(|e| client.finish(e))?;
    let backward = matches!(
        id_cursor::from_cursor(crate::ID, cursor),
        Ok(Some(id_cursor::Position::Before(_)))
    );
    let (items, has_more) = client.call(&call, read_event_page).await?;
    Ok(if backward {
        id_cursor::page_before(crate::ID, items, |e| e.id(), has_more, limit)
    } else {
        id_cursor::page(crate::ID, items, |e| e.id(), has_more, limit)
    })
}

/// `GET /events/{id}`.
pub(crate) async fn get_event(client: &BiasClient, id: &str) -> Result<BiasEvent> {
    client.call(&ApiRequest::get(&["v1", "events", id]), read_event).await
}
