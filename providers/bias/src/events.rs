//! The Bias event stream (`GET /events?stream=true`): Bias has no webhooks; it streams newline-separated
//! event objects and sends whitespace as keep-alive.
//!
//! Sans-IO part: [`EventLines`] splits bytes into lines whatever the network chunks, and
//! [`BiasEvents::event_from_json`] reads one line. IO part: [`BiasEvents::refund_events`] opens the
//! stream with its own `reqwest` connection (the engine's `Client::send` reads a whole body within the
//! call deadline, which a stream that stays open cannot use), with the client's key, base URL and
//! connect timeout, no redirects, and errors tagged and scrubbed by the engine's `Client::finish`.

use std::collections::VecDeque;
use std::time::Duration;

use futures_util::stream::{self, BoxStream, StreamExt};
use refunds::adapter::{ApiResponse, HttpProvider, WithRaw, parse_object, request_id_from_headers};
use refunds::{Delivery, Error, ErrorKind, RawJson, Refund, Result};
use serde::Deserialize;
use serde_json::value::RawValue;
use time::OffsetDateTime;

use crate::client::{Bias, BiasClient};

/// Splits a byte stream into its non-blank lines, trimmed of whitespace: keep-alive spaces and empty
/// lines vanish, and a line split across chunks comes out whole once its newline arrives.
#[derive(Debug, Clone)]
pub struct EventLines {
    partial: Vec<u8>,
    max_line: usize,
}

impl EventLines {
    /// A splitter refusing lines longer than `max_line` bytes (a `Decode` error), so a server that never
    /// sends a newline cannot grow memory without bound.
    pub fn new(max_line: usize) -> EventLines {
        EventLines {
            partial: Vec::new(),
            max_line,
        }
    }

    /// Feeds one chunk; returns the lines it completed.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<Vec<u8>>> {
        let mut lines = Vec::new();
        let mut rest = chunk;
        while let Some(end) = rest.iter().position(|b| *b == b'\n') {
            self.partial.extend_from_slice(&rest[..end]);
            rest = &rest[end + 1..];
            lines.extend(self.take_line());
        }
        self.partial.extend_from_slice(rest);
        if self.partial.trim_ascii().len() > self.max_line {
            return Err(Error::decode(format!("event line longer than {} bytes", self.max_line)));
        }
        Ok(lines)
    }

    /// The stream closed: the last line if it had no newline (and is not blank).
    pub fn finish(&mut self) -> Option<Vec<u8>> {
        self.take_line()
    }

    fn take_line(&mut self) -> Option<Vec<u8>> {
        let line = self.partial.trim_ascii().to_vec();
        self.partial.clear();
        (!line.is_empty()).then_some(line)
    }
}

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
                return Ok(BiasEvent::Other {
                    event_type: value.event_type,
                    raw,
                });
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
        let client = self.clone();
        stream::once(async move {
            let opened = open(&client, &request).await.map_err(|e| client.finish(e));
            (client, opened, request.idle_timeout)
        })
        .flat_map(|(client, opened, idle)| match opened {
            Err(e) => stream::iter([Err(e)]).boxed(),
            Ok(response) => read(client, response, idle),
        })
        .boxed()
    }
}

fn transport(e: &reqwest::Error) -> Error {
    let kind = if e.is_timeout() {
        ErrorKind::Timeout
    } else {
        ErrorKind::Transport
    };
    Error::new(kind, Delivery::Ambiguous, format!("event stream: {e}"))
}

async fn open(client: &BiasClient, request: &EventsRequest) -> Result<reqwest::Response> {
    let setup = &client.provider().stream;
    let mut url = setup.config.base_url.clone();
    url.path_segments_mut()
        .map_err(|_| Error::configuration("base url cannot take a path"))?
        .pop_if_empty()
        .push("events");
    url.query_pairs_mut().append_pair("stream", "true");
    if let Some(limit) = request.limit {
        url.query_pairs_mut().append_pair("limit", &limit.to_string());
    }
    let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']);
    let loopback = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(setup.config.connect_timeout);
    if loopback {
        builder = builder.no_proxy();
    }
    let http = builder
        .build()
        .map_err(|e| Error::configuration(format!("http client: {e}")))?;
    let (name, value) = setup.auth.header();
    let send = http
        .get(url)
        .header(name, value)
        .header(http::header::ACCEPT, "application/json")
        .send();
    let response = tokio::time::timeout(setup.config.connect_timeout + request.idle_timeout, send)
        .await
        .map_err(|_| Error::new(ErrorKind::Timeout, Delivery::Ambiguous, "event stream: no answer"))?
        .map_err(|e| transport(&e))?;
    let status = response.status().as_u16();
    if (200..300).contains(&status) {
        return Ok(response);
    }
    let headers = response.headers().clone();
    let request_id = request_id_from_headers(&headers);
    let mut body = response.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
    body.truncate(setup.config.max_response_bytes);
    let answer = ApiResponse {
        status,
        headers,
        body,
        request_id: request_id.clone(),
    };
    Err(Bias::read_error(&answer)
        .with_http_status(status)
        .with_request_id(request_id))
}

struct Reader {
    client: BiasClient,
    response: reqwest::Response,
    lines: EventLines,
    ready: VecDeque<Vec<u8>>,
    idle: Duration,
    done: bool,
}

fn read(client: BiasClient, response: reqwest::Response, idle: Duration) -> BoxStream<'static, Result<BiasEvent>> {
    let max_line = client.provider().stream.config.max_response_bytes;
    let reader = Reader {
        client,
        response,
        lines: EventLines::new(max_line),
        ready: VecDeque::new(),
        idle,
        done: false,
    };
    stream::unfold(reader, |mut r| async move {
        loop {
            if let Some(line) = r.ready.pop_front() {
                let event = r.client.event_from_json(&line);
                return Some((event, r));
            }
            if r.done {
                return None;
            }
            let failed = match tokio::time::timeout(r.idle, r.response.chunk()).await {
                Ok(Ok(Some(chunk))) => match r.lines.push(&chunk) {
                    Ok(lines) => {
                        r.ready.extend(lines);
                        continue;
                    }
                    Err(e) => e,
                },
                Ok(Ok(None)) => {
                    r.done = true;
                    r.ready.extend(r.lines.finish());
                    continue;
                }
                Ok(Err(e)) => transport(&e),
                Err(_) => Error::new(ErrorKind::Timeout, Delivery::Ambiguous, "event stream: idle timeout"),
            };
            r.done = true;
            let failed = r.client.finish(failed);
            return Some((Err(failed), r));
        }
    })
    .boxed()
}
