//! The sandbox's HTTP/1 server on 127.0.0.1: applies the fault plan, then the provider's skin.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::{Fault, FaultPlan, Ledger, SandboxRequest, SandboxResponse, Skin};

/// Largest request body the sandbox reads.
const MAX_REQUEST_BODY: usize = 1024 * 1024;

/// A running provider sandbox. Stops when dropped.
pub struct Sandbox {
    addr: SocketAddr,
    ledger: Ledger,
    faults: FaultPlan,
    requests: Arc<AtomicUsize>,
    latency_nanos: Arc<AtomicU64>,
    provider: &'static str,
    accept: JoinHandle<()>,
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox")
            .field("provider", &self.provider)
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

struct Shared {
    skin: Box<dyn Skin>,
    ledger: Ledger,
    faults: FaultPlan,
    requests: Arc<AtomicUsize>,
    latency_nanos: Arc<AtomicU64>,
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
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let faults = FaultPlan::new();
        let requests = Arc::new(AtomicUsize::new(0));
        let latency_nanos = Arc::new(AtomicU64::new(0));
        let provider = skin.provider();
        let shared = Arc::new(Shared {
            skin: Box::new(skin),
            ledger: ledger.clone(),
            faults: faults.clone(),
            requests: requests.clone(),
            latency_nanos: latency_nanos.clone(),
        });
        let accept = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let shared = shared.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        let shared = shared.clone();
                        async move { serve(&shared, request).await }
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
            latency_nanos,
            provider,
            accept,
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
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn serve(shared: &Shared, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Dropped> {
    shared.requests.fetch_add(1, Ordering::SeqCst);
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
    let latency = shared.latency_nanos.load(Ordering::SeqCst);
    if latency > 0 {
        tokio::time::sleep(Duration::from_nanos(latency)).await;
    }
    let answer = match shared.faults.take() {
        None => shared.skin.handle(&request, &shared.ledger),
        Some(Fault::ServiceUnavailable) => shared.skin.error_response(503, "service unavailable (sandbox fault)"),
        Some(Fault::RateLimited { retry_after }) => shared
            .skin
            .error_response(429, "too many requests (sandbox fault)")
            .with_header("retry-after", &retry_after.as_secs().to_string()),
        Some(Fault::ConnectionReset) => return Err(Dropped),
        Some(Fault::Delay(delay)) => {
            let answer = shared.skin.handle(&request, &shared.ledger);
            tokio::time::sleep(delay).await;
            answer
        }
        Some(Fault::ResponseLost) => {
            let _applied = shared.skin.handle(&request, &shared.ledger);
            return Err(Dropped);
        }
    };
    Ok(to_hyper(answer))
}

fn to_hyper(answer: SandboxResponse) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(answer.body)));
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
