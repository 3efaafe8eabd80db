//! The event stream kept going, as the vendor's own client keeps it (`biaspay` 2.0.0,
//! `stream_request` and `StreamProgress`): when the connection drops, the server closes it or it falls
//! silent, the stream reconnects with backoff and first lists the events it missed meanwhile, from 5 s
//! before the newest event it delivered (or from the first connection's time), newest first, page by
//! page; every event is delivered once (de-duplicated by id). [`EventStream::resume_point`] says where
//! to start again after the application itself stopped.
//!
//! Bounded whatever the server says: the catch-up holds at most [`MAX_CATCH_UP`] events, the ids
//! remembered for de-duplication at most [`SEEN_LIMIT`], and reconnects stop after the policy's
//! `max_retries` failures in a row (an event delivered resets the count).

use std::collections::{HashSet, VecDeque};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures_util::stream::{self, BoxStream, Stream, StreamExt};
use refunds::adapter::lines::read_lines;
use refunds::adapter::paging::id_cursor;
use refunds::{Delivery, Error, ErrorKind, Result};
use time::OffsetDateTime;

use crate::BiasClient;
use crate::events::{BiasEvent, EventsRequest, MAX_EVENT_LINE, ResumePoint, event_from_json, read_event_page};

/// Event ids remembered for de-duplication (the vendor's client keeps 1,000 too).
pub(crate) const SEEN_LIMIT: usize = 1_000;
/// How far before the newest delivered event a catch-up looks, for events committed after it.
const OVERLAP_MS: i64 = 5_000;
/// The page size of a catch-up.
const CATCH_UP_PAGE: u32 = 100;
/// The most events one catch-up collects; beyond, the stream ends with an error and the application
/// resumes through the event list from its resume point.
pub const MAX_CATCH_UP: usize = 10_000;

/// What the stream delivered: for de-duplication and the resume point.
#[derive(Debug, Default)]
struct Progress {
    seen: VecDeque<(String, i64)>,
    seen_ids: HashSet<String>,
    last_ms: Option<i64>,
    delivered: u64,
}

fn millis(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

impl Progress {
    fn from_resume(point: &ResumePoint) -> Progress {
        let mut progress = Progress {
            last_ms: Some(point.created_at_ms),
            ..Progress::default()
        };
        for id in point.delivered.iter().take(SEEN_LIMIT) {
            progress.remember(id, point.created_at_ms);
        }
        progress
    }

    fn remember(&mut self, id: &str, created_ms: i64) {
        if self.seen_ids.contains(id) {
            return;
        }
        if self.seen.len() >= SEEN_LIMIT {
            if let Some((old, _)) = self.seen.pop_front() {
                self.seen_ids.remove(&old);
            }
        }
        self.seen.push_back((id.to_owned(), created_ms));
        self.seen_ids.insert(id.to_owned());
    }

    /// Records `event` as delivered, unless it already was.
    fn accept(&mut self, event: &BiasEvent) -> bool {
        if self.seen_ids.contains(event.id()) {
            return false;
        }
        let created_ms = event.created_at().map_or(i64::MIN, millis);
        self.remember(event.id(), created_ms);
        if event.created_at().is_some() && self.last_ms.is_none_or(|last| created_ms > last) {
            self.last_ms = Some(created_ms);
        }
        self.delivered += 1;
        true
    }

    fn resume_point(&self) -> Option<ResumePoint> {
        let last = self.last_ms?;
        let floor = last.saturating_sub(OVERLAP_MS);
        let delivered = self
            .seen
            .iter()
            .filter(|(_, at)| *at >= floor)
            .map(|(id, _)| id.clone())
            .collect();
        Some(ResumePoint {
            created_at_ms: last,
            delivered,
        })
    }
}

/// The events of a Bias account as they happen, kept going across disconnects (see the module
/// docs). A `Stream` of `Result<BiasEvent>`: an error that ends the stream is yielded last; a line
/// that is not an event is yielded as a `Decode` error and the stream goes on.
pub struct EventStream {
    inner: BoxStream<'static, Result<BiasEvent>>,
    progress: Arc<Mutex<Progress>>,
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream")
            .field("resume_point", &self.resume_point())
            .finish_non_exhaustive()
    }
}

impl EventStream {
    /// Where to start again after the events delivered so far (`None` before the first, unless the
    /// stream was itself resumed): store its token, pass it to [`EventsRequest::resume_from`].
    pub fn resume_point(&self) -> Option<ResumePoint> {
        lock(&self.progress).resume_point()
    }
}

impl Stream for EventStream {
    type Item = Result<BiasEvent>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.poll_next_unpin(cx)
    }
}

fn lock(progress: &Mutex<Progress>) -> std::sync::MutexGuard<'_, Progress> {
    progress.lock().unwrap_or_else(|p| p.into_inner())
}

struct State {
    client: BiasClient,
    request: EventsRequest,
    progress: Arc<Mutex<Progress>>,
    /// Events the catch-up found, oldest first, not delivered yet.
    missed: VecDeque<BiasEvent>,
    lines: Option<BoxStream<'static, Result<Vec<u8>>>>,
    /// The first connection's time (the server's `Date`): the catch-up floor while nothing was delivered.
    connected_at_ms: Option<i64>,
    failures: u32,
    done: bool,
}

/// The stream of `request` on `client`.
pub(crate) fn events(client: &BiasClient, request: EventsRequest) -> EventStream {
    let progress = request.resume.as_ref().map(Progress::from_resume).unwrap_or_default();
    let progress = Arc::new(Mutex::new(progress));
    let state = State {
        client: client.clone(),
        request,
        progress: progress.clone(),
        missed: VecDeque::new(),
        lines: None,
        connected_at_ms: None,
        failures: 0,
        done: false,
    };
    let inner = stream::unfold(state, |mut state| async move {
        let item = state.next().await?;
        Some((item, state))
    })
    .boxed();
    EventStream { inner, progress }
}

/// The time an HTTP `Date` header says, in unix milliseconds.
fn http_date_ms(value: &str) -> Option<i64> {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let at = time::PrimitiveDateTime::parse(value.trim(), format).ok()?.assume_utc();
    Some(millis(at))
}

impl State {
    fn delivered(&self) -> u64 {
        lock(&self.progress).delivered
    }

    fn limit_reached(&self) -> bool {
        self.request
            .limit
            .is_some_and(|limit| self.delivered() >= u64::from(limit))
    }

    async fn next(&mut self) -> Option<Result<BiasEvent>> {
        loop {
            if self.done || self.limit_reached() {
                return None;
            }
            if let Some(event) = self.missed.pop_front() {
                if lock(&self.progress).accept(&event) {
                    return Some(Ok(event));
                }
                continue;
            }
            let Some(lines) = self.lines.as_mut() else {
                if let Err(e) = self.connect().await {
                    self.lines = None;
                    self.missed.clear();
                    if let Some(ended) = self.wait_or_end(e).await {
                        return Some(Err(ended));
                    }
                }
                continue;
            };
            let failure = match lines.next().await {
                Some(Ok(line)) => match event_from_json(&self.client, &line) {
                    Ok(event) => {
                        if lock(&self.progress).accept(&event) {
                            self.failures = 0;
                            return Some(Ok(event));
                        }
                        continue;
                    }
                    Err(e) => return Some(Err(e)),
                },
                Some(Err(e)) => self.client.finish(e),
                None => self.client.finish(Error::new(
                    ErrorKind::Transport,
                    Delivery::NotSent,
                    "event stream: closed by the server",
                )),
            };
            self.lines = None;
            if let Some(ended) = self.wait_or_end(failure).await {
                return Some(Err(ended));
            }
        }
    }

    /// Waits before the next reconnect, or ends the stream with `error` when it is not worth one.
    async fn wait_or_end(&mut self, error: Error) -> Option<Error> {
        match self.request.reconnect.next_retry(self.failures, &error, true) {
            Some(wait) => {
                self.failures += 1;
                tokio::time::sleep(wait).await;
                None
            }
            None => {
                self.done = true;
                Some(error)
            }
        }
    }

    /// Opens the stream, then lists what was missed since the last delivered event (or since the
    /// first connection); the stream's own events are read after that.
    async fn connect(&mut self) -> Result<()> {
        let remaining = self
            .request
            .limit
            .map(|limit| u32::try_from(u64::from(limit).saturating_sub(self.delivered())).unwrap_or(limit));
        let call = self.request.stream_call(remaining).map_err(|e| self.client.finish(e))?;
        let body = self.client.open_stream(&call).await?;
        let last = lock(&self.progress).last_ms;
        let since = match (last, self.connected_at_ms) {
            (Some(last), _) => Some(last.saturating_sub(OVERLAP_MS)),
            (None, Some(at)) => Some(at),
            (None, None) => {
                let now = body.header("date").and_then(http_date_ms);
                self.connected_at_ms = Some(now.unwrap_or_else(|| millis(OffsetDateTime::now_utc())));
                None
            }
        };
        if let Some(since) = since {
            self.catch_up(since).await?;
        }
        self.lines = Some(read_lines(body, MAX_EVENT_LINE, self.request.idle_timeout));
        Ok(())
    }

    /// Lists the events created at or after `since`, newest first, page by page, into `missed`
    /// (oldest first).
    async fn catch_up(&mut self, since: i64) -> Result<()> {
        let mut found: Vec<BiasEvent> = Vec::new();
        let mut cursor = None;
        loop {
            let call = self
                .request
                .list_call(CATCH_UP_PAGE, cursor.as_ref(), Some(since))
                .map_err(|e| self.client.finish(e))?;
            let (items, has_more) = self.client.call(&call, read_event_page).await?;
            let before = found.len();
            let mut older = false;
            for event in items {
                if event.created_at().is_some_and(|at| millis(at) < since) {
                    older = true;
                    break;
                }
                found.push(event);
            }
            if found.len() > MAX_CATCH_UP {
                return Err(self.client.finish(Error::new(
                    ErrorKind::Other,
                    Delivery::NotSent,
                    format!(
                        "event stream: more than {MAX_CATCH_UP} events were missed; list them from the resume point"
                    ),
                )));
            }
            let next = found.last().map(|last| id_cursor::after(crate::ID, last.id()));
            if older || has_more != Some(true) || found.len() == before || next == cursor {
                break;
            }
            cursor = next;
        }
        self.missed = found.into_iter().rev().collect();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_and_resume_points() {
        assert_eq!(http_date_ms("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777_000));
        assert_eq!(http_date_ms("yesterday"), None);
        let mut progress = Progress::from_resume(&ResumePoint::after("event_9", 10_000));
        assert_eq!(progress.last_ms, Some(10_000));
        assert!(progress.seen_ids.contains("event_9"));
        for n in 0..(SEEN_LIMIT + 5) {
            progress.remember(&format!("event_{n}"), 20_000 + n as i64);
        }
        assert_eq!((progress.seen.len(), progress.seen_ids.len()), (SEEN_LIMIT, SEEN_LIMIT));
        progress.last_ms = Some(20_000 + SEEN_LIMIT as i64);
        let point = progress.resume_point().unwrap();
        assert!(point.delivered.len() <= SEEN_LIMIT && point.delivered.contains(&format!("event_{SEEN_LIMIT}")));
        let token = point.to_token();
        assert_eq!(ResumePoint::from_token(&token).unwrap(), point);
        assert!(ResumePoint::from_token("{}").is_err());
    }
}
