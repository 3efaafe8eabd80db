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
    let request = match receive(&shared, request).await {
        Ok(request) => request,
        Err(answered) => return Ok(to_hyper(answered)),
    };
    let key = shared.skin.idempotency_key(&request);
    if let (Some(k), true) = (&key, request.method == http::Method::POST) {
        shared.resends.note(k, &request.body);
    }
    let taken = match admit(&shared, key.as_deref(), &request) {
        Ok(taken) => taken,
        Err(in_progress) => return Ok(to_hyper(in_progress)),
    };
    let Some(taken) = taken else {
        return Ok(to_hyper(handle(&shared, &request).0));
    };
    apply(&shared, taken, request, key).await.map(to_hyper)
}

/// The request as the sandbox keeps it: counted, its body capped, remembered among the recent
/// requests, and answered no sooner than the configured latency; or the answer to give at once (a
/// `413` past the cap; a skin's bookkeeping read, answered before faults and not counted).
async fn receive(shared: &Shared, request: Request<Incoming>) -> Result<SandboxRequest, SandboxResponse> {
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, MAX_REQUEST_BODY).collect().await {
        Ok(collected) => collected.to_bytes().to_vec(),
        Err(_) => {
            return Err(SandboxResponse::raw(413, "text/plain", "request body too large"));
        }
    };
    let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let request = SandboxRequest::new(parts.method, path_and_query, parts.headers, body);
    if shared.skin.bookkeeping_read(&request) {
        return Err(handle(shared, &request).0);
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
    Ok(request)
}

/// The fault this request takes, if any; or, while a slow commit holds its key, the skin's "in
/// progress" answer.
fn admit(shared: &Shared, key: Option<&str>, request: &SandboxRequest) -> Result<Option<Taken>, SandboxResponse> {
    // One lock for "is the key in flight" and "this request starts a slow commit", so that two
    // requests with one key cannot both start one.
    let mut in_flight = lock(&shared.in_flight);
    if key.is_some_and(|k| in_flight.contains(k)) {
        drop(in_flight);
        shared.faults.count_in_progress();
        return Err(shared.skin.in_progress_response());
    }
    let taken = shared.faults.take_for(request.method == http::Method::GET);
    if let (
        Some(Taken {
            fault: Fault::SlowCommit(_),
            ..
        }),
        Some(k),
    ) = (&taken, key)
    {
        in_flight.insert(k.to_owned());
    }
    Ok(taken)
}

/// The answer under a fault; `Err(Dropped)` where the fault drops the connection instead.
async fn apply(
    shared: &Arc<Shared>,
    taken: Taken,
    request: SandboxRequest,
    key: Option<String>,
) -> Result<SandboxResponse, Dropped> {
    let Taken { fault, queued } = taken;
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
            let (answer, _) = handle(shared, &request);
            tokio::time::sleep(delay).await;
            answer
        }
        Fault::ResponseLost => {
            let _applied = handle(shared, &request);
            return Err(Dropped);
        }
        Fault::SlowCommit(delay) => slow_commit(shared, delay, request, key).await?,
        Fault::AppliedThen(status) => {
            let _applied = handle(shared, &request);
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
            let (mut answer, previous) = handle(shared, &request);
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
    Ok(answer)
}

/// A slow commit: applied after `delay` on a task of its own, so that the commit happens even when the
/// client gives up and the connection (and with it the request's future) is dropped.
async fn slow_commit(
    shared: &Arc<Shared>,
    delay: Duration,
    request: SandboxRequest,
    key: Option<String>,
) -> Result<SandboxResponse, Dropped> {
    let committer = shared.clone();
    let commit = tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        let (answer, _) = handle(&committer, &request);
        if let Some(k) = key {
            lock(&committer.in_flight).remove(&k);
        }
        answer
    });
    commit.await.map_err(|_| Dropped)
}

/// The skin's answer, and for a 2xx JSON answer to a `GET`, the previous such answer on the same path
/// (which this one replaces in memory).
fn handle(shared: &Shared, request: &SandboxRequest) -> (SandboxResponse, Option<Vec<u8>>) {
    let answer = match shared.journal.get() {
        Some(journal) => journal.in_order(|| {
            let answer = shared.skin.handle(request, &shared.ledger);
            journal.request(shared.skin.provider(), shared.ledger.now(), request, &answer);
            answer
        }),
        None => shared.skin.handle(request, &shared.ledger),
    };
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

mod lists;

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
