//! The sandbox's HTTP/1 server on 127.0.0.1: applies the fault plan, then the provider's skin.
//!
//! List lies are told on the JSON the skin produced, so they work for any provider whose list answer
//! is a JSON array or an object with a top-level array field; see [`Fault`] and `lists` below.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::body::{CutHandle, OpenStreams, SandboxBody};
use super::control;
use super::fault::Taken;
use super::journal::Journal;
use super::{Fault, FaultPlan, Ledger, SandboxRequest, SandboxResponse, Skin};

/// Largest request body the sandbox reads.
pub(super) const MAX_REQUEST_BODY: usize = 1024 * 1024;

/// How many list paths the server remembers the previous page of (for the list lies); beyond, it
/// forgets them all and starts again.
const MAX_REMEMBERED_LISTS: usize = 64;

/// How many idempotency keys the server remembers the first create body of (to count re-sends that
/// differ from it); beyond, new keys are not remembered.
const MAX_REMEMBERED_KEYS: usize = 65_536;

/// How many of the latest requests [`Sandbox::recent_requests`] keeps.
pub const RECENT_REQUESTS: usize = 256;

type Recent = Arc<Mutex<std::collections::VecDeque<SandboxRequest>>>;

/// A running provider sandbox. Stops when dropped.
pub struct Sandbox {
    addr: SocketAddr,
    ledger: Ledger,
    faults: FaultPlan,
    requests: Arc<AtomicUsize>,
    recent: Recent,
    latency_nanos: Arc<AtomicU64>,
    provider: &'static str,
    resends: Arc<Resends>,
    accept: JoinHandle<()>,
    pub(super) shared: Arc<Shared>,
}

/// The first create body sent under each idempotency key, and how many later creates under the same
/// key had another body: a client that re-sends "the same" create differently (options dropped, a
/// field changed) is caught here whatever the provider would have done with it.
#[derive(Default)]
struct Resends {
    first: Mutex<HashMap<String, Vec<u8>>>,
    changed: AtomicU64,
}

impl Resends {
    fn note(&self, key: &str, body: &[u8]) {
        let mut first = lock(&self.first);
        match first.get(key) {
            Some(seen) if seen != body => {
                self.changed.fetch_add(1, Ordering::SeqCst);
            }
            Some(_) => {}
            None if first.len() < MAX_REMEMBERED_KEYS => {
                first.insert(key.to_owned(), body.to_vec());
            }
            None => {}
        }
    }
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox")
            .field("provider", &self.provider)
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

pub(super) struct Shared {
    pub(super) skin: Box<dyn Skin>,
    pub(super) ledger: Ledger,
    pub(super) faults: FaultPlan,
    pub(super) requests: Arc<AtomicUsize>,
    pub(super) recent: Recent,
    latency_nanos: Arc<AtomicU64>,
    /// Idempotency keys of the slow commits not applied yet.
    in_flight: Mutex<HashSet<String>>,
    resends: Arc<Resends>,
    /// The last true 2xx JSON answer to a `GET`, by path (without the query).
    last_list: Mutex<HashMap<String, Vec<u8>>>,
    /// The streaming answers still open, for [`Sandbox::cut_streams`].
    pub(super) streams: OpenStreams,
    /// Where changes are journaled ([`Sandbox::record_to`]); set once, read without a lock.
    pub(super) journal: std::sync::OnceLock<Journal>,
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// Why a connection is closed without an answer (a reset or a lost response).
#[derive(Debug)]
struct Dropped;

impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection dropped by the fault plan")
    }
}

impl std::error::Error for Dropped {}

impl Sandbox {
    /// Starts `skin` over a new ledger on an ephemeral port of 127.0.0.1.
    pub async fn start(skin: impl Skin, ledger: Ledger) -> std::io::Result<Sandbox> {
        Sandbox::start_at(SocketAddr::from(([127, 0, 0, 1], 0)), skin, ledger).await
    }

    /// Starts `skin` over `ledger` on `addr` (port 0: an ephemeral port). Only loopback addresses are
    /// taken: a sandbox answers anyone who reaches it, with no key for its control API.
    pub async fn start_at(addr: SocketAddr, skin: impl Skin, ledger: Ledger) -> std::io::Result<Sandbox> {
        if !addr.ip().is_loopback() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("a sandbox listens on loopback only, not {}", addr.ip()),
            ));
        }
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let faults = FaultPlan::new();
        let requests = Arc::new(AtomicUsize::new(0));
        let recent: Recent = Arc::default();
        let latency_nanos = Arc::new(AtomicU64::new(0));
        let provider = skin.provider();
        let resends = Arc::new(Resends::default());
        let shared = Arc::new(Shared {
            skin: Box::new(skin),
            ledger: ledger.clone(),
            faults: faults.clone(),
            requests: requests.clone(),
            recent: recent.clone(),
            latency_nanos: latency_nanos.clone(),
            in_flight: Mutex::new(HashSet::new()),
            resends: resends.clone(),
            last_list: Mutex::new(HashMap::new()),
            streams: OpenStreams::default(),
            journal: std::sync::OnceLock::new(),
        });
        let kept = shared.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let shared = shared.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<Incoming>| {
                        let shared = shared.clone();
                        async move {
                            if control::is_control(request.uri().path()) {
                                return Ok(control::answer_http(&shared, request).await);
                            }
                            let mut response = serve(shared.clone(), request).await?;
                            if let Some(handle) = response.extensions_mut().remove::<CutHandle>() {
                                shared.streams.add(handle);
                            }
                            Ok::<_, Dropped>(response)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Sandbox {
            addr,
            ledger,
            faults,
            requests,
            recent,
            latency_nanos,
            provider,
            resends,
            accept,
            shared: kept,
        })
    }

    /// `http://127.0.0.1:<port>`: the base URL to give the client.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The ledger: seed payments, settle refunds, move the clock, inspect what happened.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The fault plan.
    pub fn faults(&self) -> &FaultPlan {
        &self.faults
    }

    /// Every answer waits this long first, like a network round trip (zero by default).
    pub fn set_latency(&self, latency: Duration) {
        self.latency_nanos
            .store(u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX), Ordering::SeqCst);
    }

    /// How many requests arrived.
    pub fn request_count(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// The latest requests as they arrived (at most [`RECENT_REQUESTS`], oldest first): what an
    /// application's code put on the wire, for its tests to check.
    pub fn recent_requests(&self) -> Vec<SandboxRequest> {
        lock(&self.recent).iter().cloned().collect()
    }

    /// How many creates arrived under an idempotency key already seen with a different body: a
    /// re-send that is not the identical request (0 for a client that keeps its promise).
    pub fn changed_resends(&self) -> u64 {
        self.resends.changed.load(Ordering::SeqCst)
    }

    /// Clock skew on reported creation times: every refund answered from now on carries times shifted
    /// by `skew`, ahead of the ledger's clock when `ahead`, behind otherwise (whole seconds, saturating).
    /// The ledger's own clock and order do not move. Same as [`Ledger::set_clock_skew_secs`].
    pub fn set_clock_skew(&self, skew: Duration, ahead: bool) {
        let seconds = i64::try_from(skew.as_secs()).unwrap_or(i64::MAX);
        self.ledger.set_clock_skew_secs(if ahead { seconds } else { -seconds });
    }
}

impl Sandbox {
    /// Stops the server and waits until its port is free (dropping it stops it too, a moment later).
    pub async fn stop(mut self) {
        self.accept.abort();
        let _ = (&mut self.accept).await;
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn serve(shared: Arc<Shared>, request: Request<Incoming>) -> Result<Response<SandboxBody>, Dropped> {
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, MAX_REQUEST_BODY).collect().await {
        Ok(collected) => collected.to_bytes().to_vec(),
        Err(_) => {
            return Ok(to_hyper(SandboxResponse::raw(
                413,
                "text/plain",
                "request body too large",
            )));
        }
    };
    let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let request = SandboxRequest::new(parts.method, path_and_query, parts.headers, body);
    if shared.skin.bookkeeping_read(&request) {
        return Ok(to_hyper(handle(&shared, &request).0));
    }
    shared.requests.fetch_add(1, Ordering::SeqCst);
    {
        let mut recent = lock(&shared.recent);
        if recent.len() == RECENT_REQUESTS {
            recent.pop_front();
        }
        recent.push_back(request.clone());
    }
    let latency = shared.latency_nanos.load(Ordering::SeqCst);
    if latency > 0 {
        tokio::time::sleep(Duration::from_nanos(latency)).await;
    }
    let key = shared.skin.idempotency_key(&request);
    if let (Some(k), true) = (&key, request.method == http::Method::POST) {
        shared.resends.note(k, &request.body);
    }
    let taken = {
        // One lock for "is the key in flight" and "this request starts a slow commit", so that two
        // requests with one key cannot both start one.
        let mut in_flight = lock(&shared.in_flight);
        if key.as_ref().is_some_and(|k| in_flight.contains(k)) {
            drop(in_flight);
            shared.faults.count_in_progress();
            return Ok(to_hyper(shared.skin.in_progress_response()));
        }
        let taken = shared.faults.take_for(request.method == http::Method::GET);
        if let (
            Some(Taken {
                fault: Fault::SlowCommit(_),
                ..
            }),
            Some(k),
        ) = (&taken, &key)
        {
            in_flight.insert(k.clone());
        }
        taken
    };
    let Some(Taken { fault, queued }) = taken else {
        return Ok(to_hyper(handle(&shared, &request).0));
    };
    let answer = match fault {
        Fault::ServiceUnavailable => shared.skin.error_response(503, "service unavailable (sandbox fault)"),
        Fault::RateLimited { retry_after } => shared
            .skin
            .error_response(429, "too many requests (sandbox fault)")
            .with_header("retry-after", &retry_after.as_secs().to_string()),
        Fault::ConnectionReset => return Err(Dropped),
        Fault::Refuse(status) => shared
            .skin
            .error_response(status, &format!("refused with {status} (sandbox fault)")),
        Fault::InProgress => shared.skin.in_progress_response(),
        Fault::Delay(delay) => {
            let (answer, _) = handle(&shared, &request);
            tokio::time::sleep(delay).await;
            answer
        }
        Fault::ResponseLost => {
            let _applied = handle(&shared, &request);
            return Err(Dropped);
        }
        Fault::SlowCommit(delay) => {
            // Its own task: the commit happens even when the client gives up and the connection (and
            // with it this future) is dropped.
            let committer = shared.clone();
            let commit = tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                let (answer, _) = handle(&committer, &request);
                if let Some(k) = key {
                    lock(&committer.in_flight).remove(&k);
                }
                answer
            });
            commit.await.map_err(|_| Dropped)?
        }
        Fault::AppliedThen(status) => {
            let _applied = handle(&shared, &request);
            let answer = shared
                .skin
                .error_response(status, &format!("applied, then answered {status} (sandbox fault)"));
            if status == 429 {
                answer.with_header("retry-after", "1")
            } else {
                answer
            }
        }
        lie => {
            let (mut answer, previous) = handle(&shared, &request);
            if lists::tell(&lie, &mut answer, previous.as_deref()) {
                if let (Fault::ListRepeatCursor, Some(previous)) = (&lie, previous) {
                    // The walk stays on the replayed page: it remains "the previous page".
                    lock(&shared.last_list).insert(list_path(&request), previous);
                }
                shared.faults.count(&lie);
            } else if queued && !lists::is_list(&answer) {
                shared.faults.requeue(lie);
            }
            answer
        }
    };
    Ok(to_hyper(answer))
}

/// The skin's answer, and for a 2xx JSON answer to a `GET`, the previous such answer on the same path
/// (which this one replaces in memory).
fn handle(shared: &Shared, request: &SandboxRequest) -> (SandboxResponse, Option<Vec<u8>>) {
    let answer = shared.skin.handle(request, &shared.ledger);
    if let Some(journal) = shared.journal.get() {
        journal.request(shared.skin.provider(), shared.ledger.now(), request, &answer);
    }
    if request.method != http::Method::GET || !(200..300).contains(&answer.status) || !is_json(&answer) {
        return (answer, None);
    }
    let mut remembered = lock(&shared.last_list);
    if remembered.len() >= MAX_REMEMBERED_LISTS {
        remembered.clear();
    }
    let previous = remembered.insert(list_path(request), answer.body.clone());
    drop(remembered);
    (answer, previous)
}

fn list_path(request: &SandboxRequest) -> String {
    request.segments.join("/")
}

fn is_json(answer: &SandboxResponse) -> bool {
    answer
        .headers
        .iter()
        .any(|(name, value)| name.eq_ignore_ascii_case("content-type") && value.contains("json"))
}

/// The list lies, on the JSON text of a list answer. Items and other fields are kept byte for byte
/// (only the fields lied about are rewritten), so a client keeping raw JSON sees the skin's own text.
mod lists {
    use serde::de::{Deserializer, MapAccess, Visitor};
    use serde_json::value::RawValue;

    use super::super::{Fault, SandboxResponse};

    /// Array fields that hold a list's items, in order of preference (else: the only array field).
    const ITEM_FIELDS: &[&str] = &["data", "items", "refunds", "results", "records", "list"];
    /// Numeric fields that hold a list's total.
    const TOTAL_FIELDS: &[&str] = &[
        "total",
        "total_items",
        "total_count",
        "count",
        "totalItems",
        "totalCount",
    ];
    /// Boolean fields that say more pages follow.
    const MORE_FIELDS: &[&str] = &["has_more", "hasMore"];

    /// A JSON object as ordered fields of raw text.
    struct Fields(Vec<(String, Box<RawValue>)>);

    impl<'de> serde::Deserialize<'de> for Fields {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Fields, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Fields;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("a JSON object")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields, A::Error> {
                    let mut fields = Vec::new();
                    while let Some(entry) = map.next_entry::<String, Box<RawValue>>()? {
                        fields.push(entry);
                    }
                    Ok(Fields(fields))
                }
            }
            d.deserialize_map(V)
        }
    }

    /// A list body: its items, and the object around them when it is not a bare array.
    struct List {
        items: Vec<Box<RawValue>>,
        /// The object's fields and which one holds the items.
        envelope: Option<(Fields, usize)>,
    }

    impl List {
        fn parse(body: &[u8]) -> Option<List> {
            let text = std::str::from_utf8(body).ok()?.trim_start();
            if text.starts_with('[') {
                let items = serde_json::from_str(text).ok()?;
                return Some(List { items, envelope: None });
            }
            let fields: Fields = serde_json::from_str(text).ok()?;
            let is_array = |v: &RawValue| v.get().trim_start().starts_with('[');
            let at = ITEM_FIELDS
                .iter()
                .find_map(|name| fields.0.iter().position(|(k, v)| k == name && is_array(v)))
                .or_else(|| {
                    let mut arrays = fields.0.iter().enumerate().filter(|(_, (_, v))| is_array(v));
                    match (arrays.next(), arrays.next()) {
                        (Some((i, _)), None) => Some(i),
                        _ => None,
                    }
                })?;
            let items = serde_json::from_str(fields.0[at].1.get()).ok()?;
            Some(List {
                items,
                envelope: Some((fields, at)),
            })
        }

        fn to_bytes(&self) -> Vec<u8> {
            let array = join('[', self.items.iter().map(|v| v.get().to_owned()), ']');
            match &self.envelope {
                None => array.into_bytes(),
                Some((fields, at)) => join(
                    '{',
                    fields.0.iter().enumerate().map(|(i, (k, v))| {
                        let key = serde_json::to_string(k).unwrap_or_default();
                        format!("{key}:{}", if i == *at { array.as_str() } else { v.get() })
                    }),
                    '}',
                )
                .into_bytes(),
            }
        }

        /// Overstates the total and says more follow; false when the list has neither field.
        fn overstate(&mut self, by: u64) -> bool {
            let Some((fields, _)) = &mut self.envelope else {
                return false;
            };
            let mut changed = false;
            for (name, value) in &mut fields.0 {
                let replacement = if TOTAL_FIELDS.contains(&name.as_str()) {
                    let text = value.get();
                    match (serde_json::from_str::<u64>(text), serde_json::from_str::<String>(text)) {
                        (Ok(n), _) => Some(n.saturating_add(by).to_string()),
                        (_, Ok(s)) => s.parse::<u64>().ok().map(|n| format!("\"{}\"", n.saturating_add(by))),
                        _ => None,
                    }
                } else if MORE_FIELDS.contains(&name.as_str()) && value.get() == "false" {
                    Some("true".to_owned())
                } else {
                    None
                };
                if let Some(text) = replacement.and_then(|t| RawValue::from_string(t).ok()) {
                    changed |= text.get() != value.get();
                    *value = text;
                }
            }
            changed
        }
    }

    fn join(open: char, parts: impl Iterator<Item = String>, close: char) -> String {
        let mut out = String::from(open);
        for (i, part) in parts.enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&part);
        }
        out.push(close);
        out
    }

    /// True when `answer` is a 2xx answer whose body is a JSON list.
    pub(super) fn is_list(answer: &SandboxResponse) -> bool {
        (200..300).contains(&answer.status) && List::parse(&answer.body).is_some()
    }

    /// Tells `lie` on `answer` (a list answer, else nothing happens); `previous` is the true body of
    /// the previous list answer on the same path. True when the answer was changed.
    pub(super) fn tell(lie: &Fault, answer: &mut SandboxResponse, previous: Option<&[u8]>) -> bool {
        if !(200..300).contains(&answer.status) {
            return false;
        }
        let Some(mut list) = List::parse(&answer.body) else {
            return false;
        };
        let changed = match lie {
            Fault::ListTotalOverstated(by) => list.overstate(*by),
            Fault::ListShortPage => list.items.pop().is_some(),
            Fault::ListRepeatItem => {
                let from_previous = previous.and_then(List::parse).and_then(|p| p.items.last().cloned());
                match from_previous.or_else(|| list.items.first().cloned()) {
                    Some(item) => {
                        list.items.insert(0, item);
                        true
                    }
                    None => false,
                }
            }
            Fault::ListRepeatCursor => {
                // The previous page as it was sent, when there was one and it was a list.
                return match previous.filter(|p| List::parse(p).is_some()) {
                    Some(previous) if previous != answer.body.as_slice() => {
                        answer.body = previous.to_vec();
                        true
                    }
                    _ => false,
                };
            }
            _ => false,
        };
        if changed {
            answer.body = list.to_bytes();
        }
        changed
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn answer(body: &str) -> SandboxResponse {
            SandboxResponse::raw(200, "application/json", body)
        }

        fn told(lie: Fault, body: &str, previous: Option<&str>) -> Option<String> {
            let mut a = answer(body);
            tell(&lie, &mut a, previous.map(str::as_bytes)).then(|| String::from_utf8(a.body).unwrap())
        }

        #[test]
        fn overstated_totals_and_has_more() {
            let body = r#"{"total_items":3,"items":[{"id":"a","amount":1.10}],"offset":0}"#;
            assert_eq!(
                told(Fault::ListTotalOverstated(1_000_000_000_000_000), body, None).unwrap(),
                r#"{"total_items":1000000000000003,"items":[{"id":"a","amount":1.10}],"offset":0}"#,
                "only the total changes; items keep their text"
            );
            assert_eq!(
                told(
                    Fault::ListTotalOverstated(5),
                    r#"{"data":[],"has_more":false,"total":"2"}"#,
                    None
                )
                .unwrap(),
                r#"{"data":[],"has_more":true,"total":"7"}"#
            );
            assert_eq!(
                told(Fault::ListTotalOverstated(5), r#"{"data":[1]}"#, None),
                None,
                "nothing to overstate"
            );
            assert_eq!(told(Fault::ListTotalOverstated(5), r#"[1,2]"#, None), None);
        }

        #[test]
        fn short_pages_and_repeated_items() {
            let page = r#"{"total":4,"data":[{"id":"c"}, {"id":"d"}]}"#;
            assert_eq!(
                told(Fault::ListShortPage, page, None).unwrap(),
                r#"{"total":4,"data":[{"id":"c"}]}"#
            );
            assert_eq!(told(Fault::ListShortPage, r#"[1,2]"#, None).unwrap(), "[1]");
            assert_eq!(told(Fault::ListShortPage, r#"{"data":[]}"#, None), None);
            let previous = r#"{"total":4,"data":[{"id":"a"},{"id":"b"}]}"#;
            assert_eq!(
                told(Fault::ListRepeatItem, page, Some(previous)).unwrap(),
                r#"{"total":4,"data":[{"id":"b"},{"id":"c"},{"id":"d"}]}"#
            );
            assert_eq!(
                told(Fault::ListRepeatItem, page, None).unwrap(),
                r#"{"total":4,"data":[{"id":"c"},{"id":"c"},{"id":"d"}]}"#
            );
        }

        #[test]
        fn repeated_cursor_replays_the_previous_page() {
            let page = r#"{"data":[{"id":"c"}],"has_more":true}"#;
            let previous = r#"{"data":[{"id":"a"}],"has_more":true}"#;
            assert_eq!(told(Fault::ListRepeatCursor, page, Some(previous)).unwrap(), previous);
            assert_eq!(told(Fault::ListRepeatCursor, page, None), None, "no previous page");
            assert_eq!(told(Fault::ListRepeatCursor, page, Some(r#"{"id":"x"}"#)), None);
        }

        #[test]
        fn what_is_not_a_list_is_left_alone() {
            for body in [r#"{"id":"re_1","amount":5}"#, r#"{"a":[1],"b":[2]}"#, "not json", ""] {
                assert_eq!(told(Fault::ListShortPage, body, None), None, "{body}");
            }
            let mut error = SandboxResponse::raw(404, "application/json", r#"{"data":[1]}"#);
            assert!(!tell(&Fault::ListShortPage, &mut error, None));
            assert_eq!(
                told(
                    Fault::ListShortPage,
                    r#"{"object":"list","urls":["u"],"refunds":[1,2]}"#,
                    None
                )
                .unwrap(),
                r#"{"object":"list","urls":["u"],"refunds":[1]}"#,
                "a known item field wins over another array"
            );
        }
    }
}

pub(super) fn to_hyper(answer: SandboxResponse) -> Response<SandboxBody> {
    let (body, cut) = SandboxBody::of(answer.body, answer.stream);
    let mut response = Response::new(body);
    if let Some(cut) = cut {
        response.extensions_mut().insert(cut);
    }
    *response.status_mut() =
        hyper::StatusCode::from_u16(answer.status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in answer.headers {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}
