//! The control API: drive a running sandbox over HTTP from a test in any language, on the sandbox's
//! own port under `/_sandbox/` (a path no provider uses). It needs no key: a sandbox listens on
//! loopback only. Every answer is JSON; a refusal is `{"error": {"message": ...}}` with 400, 404 or
//! 405.
//!
//! | request | what it does |
//! | --- | --- |
//! | `GET /_sandbox` | the provider, the clock, counts of refunds, requests and faults |
//! | `POST /_sandbox/payments` `{"id", "amount": "12.50", "currency": "USD", "state"?}` | seeds a payment (`succeeded` unless `pending` or `failed`) |
//! | `GET /_sandbox/payments/{id}` | a payment: captured, refunded, refundable |
//! | `GET /_sandbox/refunds`, `GET /_sandbox/refunds/{id}` | the ledger's refunds, in creation order |
//! | `POST /_sandbox/settle` | settles every pending refund |
//! | `POST /_sandbox/refunds/{id}/settle` | settles one |
//! | `POST /_sandbox/refunds/{id}/status` `{"status": "failed"}` | forces a status |
//! | `POST /_sandbox/faults` `{"fault": "unavailable", "times": 2}` | queues a fault ([`parse_fault`]) |
//! | `GET /_sandbox/faults` | the faults injected so far, by kind |
//! | `POST /_sandbox/clock` `{"advance_secs": 3600}` | moves the clock forward (due refunds settle) |
//! | `GET /_sandbox/requests` | the latest API requests as received, credentials redacted |
//! | `POST /_sandbox/streams/cut` | drops every open streaming answer mid-stream |

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response};

use super::body::{OpenStreams, SandboxBody};
use super::journal::{Journal, JournalEntry};
use super::server::{MAX_REQUEST_BODY, Shared, lock, to_hyper};
use super::{Fault, FaultPlan, Ledger, PaymentRecord, PaymentState, RefundRecord, SandboxRequest, SandboxResponse};
use crate::{Currency, Money, RefundStatus};

/// The path segment the control API lives under.
pub(crate) const PREFIX: &str = "_sandbox";

/// The fault names [`parse_fault`] takes, for help texts.
pub const FAULT_NAMES: &str = "response-lost, unavailable, rate-limited[=SECS], reset, delay=MS, slow-commit=MS, \
     applied-then=STATUS, list-total-overstated=N, list-short-page, list-repeat-item, list-repeat-cursor";

/// A fault by name, `KIND` or `KIND=ARG` (see [`FAULT_NAMES`]): `unavailable` (503), `rate-limited=2`
/// (429 with `Retry-After: 2`, default 1), `delay=250` (milliseconds), `applied-then=409`, ...
pub fn parse_fault(text: &str) -> Result<Fault, String> {
    let (kind, arg) = match text.split_once('=') {
        Some((kind, arg)) => (kind, Some(arg)),
        None => (text, None),
    };
    let number = |what: &str| -> Result<u64, String> {
        let arg = arg.ok_or_else(|| format!("fault {kind:?} needs ={what}"))?;
        arg.parse::<u64>()
            .map_err(|_| format!("fault {kind:?}: {arg:?} is not a whole number"))
    };
    let no_arg = |fault: Fault| match arg {
        None => Ok(fault),
        Some(_) => Err(format!("fault {kind:?} takes no argument")),
    };
    match kind {
        "response-lost" => no_arg(Fault::ResponseLost),
        "unavailable" => no_arg(Fault::ServiceUnavailable),
        "reset" => no_arg(Fault::ConnectionReset),
        "rate-limited" => Ok(Fault::RateLimited {
            retry_after: Duration::from_secs(if arg.is_some() { number("SECS")? } else { 1 }),
        }),
        "delay" => Ok(Fault::Delay(Duration::from_millis(number("MS")?))),
        "slow-commit" => Ok(Fault::SlowCommit(Duration::from_millis(number("MS")?))),
        "applied-then" => match number("STATUS")? {
            status @ 400..=599 => Ok(Fault::AppliedThen(status as u16)),
            other => Err(format!("fault \"applied-then\": {other} is not an HTTP error status")),
        },
        "list-total-overstated" => Ok(Fault::ListTotalOverstated(number("N")?)),
        "list-short-page" => no_arg(Fault::ListShortPage),
        "list-repeat-item" => no_arg(Fault::ListRepeatItem),
        "list-repeat-cursor" => no_arg(Fault::ListRepeatCursor),
        other => Err(format!("unknown fault {other:?} (known: {FAULT_NAMES})")),
    }
}

/// What the control API reaches of one sandbox.
pub(crate) struct Controls<'a> {
    pub provider: &'static str,
    pub ledger: &'a Ledger,
    pub faults: &'a FaultPlan,
    pub recent: Vec<SandboxRequest>,
    pub requests: usize,
    pub streams: &'a OpenStreams,
    pub journal: Option<Journal>,
}

/// True for a path the control API answers.
pub(crate) fn is_control(path: &str) -> bool {
    path.trim_start_matches('/').split('/').next() == Some(PREFIX)
}

fn refused(status: u16, message: impl Into<String>) -> SandboxResponse {
    SandboxResponse::json(status, &json!({"error": {"message": message.into()}}))
}

fn ok(body: &Value) -> SandboxResponse {
    SandboxResponse::json(200, body)
}

fn time(at: time::OffsetDateTime) -> Value {
    at.format(&Rfc3339).map_or(Value::Null, Value::String)
}

fn payment_json(p: &PaymentRecord) -> Value {
    let refunded = Money::from_minor(p.refunded, p.captured.currency());
    let state = match p.state {
        PaymentState::Succeeded => "succeeded",
        PaymentState::Pending => "pending",
        _ => "failed",
    };
    json!({"id": p.id, "amount": p.captured.to_major_string(), "amount_minor": p.captured.minor(),
        "currency": p.captured.currency().code(), "refunded": refunded.to_major_string(),
        "refundable": p.refundable().to_major_string(), "state": state})
}

fn refund_json(r: &RefundRecord) -> Value {
    json!({"id": r.id, "payment": r.payment_id, "amount": r.amount.to_major_string(),
        "amount_minor": r.amount.minor(), "currency": r.amount.currency().code(), "status": r.status.as_str(),
        "created_at": time(r.created_at), "updated_at": time(r.updated_at),
        "completed_at": r.completed_at.map_or(Value::Null, time), "idempotency_key": r.idempotency_key,
        "reason": r.reason, "reference": r.reference, "description": r.description, "metadata": r.metadata,
        "failure_reason": r.failure_reason, "fee": r.fee.map(|f| f.to_major_string())})
}

/// Header names whose values are credentials, redacted from `GET /_sandbox/requests`.
fn is_credential(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name == "authorization"
        || name == "proxy-authorization"
        || name == "cookie"
        || (name != "idempotency-key" && ["key", "secret", "token"].iter().any(|w| name.contains(w)))
}

fn request_json(r: &SandboxRequest) -> Value {
    let headers: serde_json::Map<String, Value> = r
        .headers
        .iter()
        .map(|(name, value)| {
            let shown = if is_credential(name.as_str()) {
                "[redacted]".to_owned()
            } else {
                String::from_utf8_lossy(value.as_bytes()).into_owned()
            };
            (name.as_str().to_owned(), Value::String(shown))
        })
        .collect();
    let query: Vec<Value> = r.query.iter().map(|(k, v)| json!([k, v])).collect();
    json!({"method": r.method.as_str(), "path": format!("/{}", r.segments.join("/")), "query": query,
        "headers": headers, "body": String::from_utf8_lossy(&r.body)})
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedBody {
    id: String,
    amount: String,
    currency: String,
    #[serde(default)]
    state: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultBody {
    fault: String,
    #[serde(default)]
    times: Option<usize>,
}

/// The largest count of one fault queued by one request.
const MAX_FAULT_TIMES: usize = 10_000;

/// Answers one control request.
pub(crate) fn answer(c: &Controls<'_>, request: &SandboxRequest) -> SandboxResponse {
    let rest: Vec<&str> = request.segments.iter().skip(1).map(String::as_str).collect();
    let method = request.method.as_str();
    match (method, rest.as_slice()) {
        ("GET", []) => ok(&json!({"provider": c.provider, "clock": time(c.ledger.now()),
            "refunds": c.ledger.refund_count(), "requests": c.requests, "faults": c.faults.counts().total()})),
        ("POST", ["payments"]) => seed(c, request),
        ("GET", ["payments", id]) => match c.ledger.payment(id) {
            Some(p) => ok(&payment_json(&p)),
            None => refused(404, format!("no payment {id:?}")),
        },
        ("GET", ["refunds"]) => ok(&Value::Array(c.ledger.refunds().iter().map(refund_json).collect())),
        ("GET", ["refunds", id]) => one_refund(c, id),
        ("POST", ["settle"]) => ok(&json!({"settled": c.ledger.settle_all()})),
        ("POST", ["refunds", id, "settle"]) => {
            c.ledger.settle(id);
            one_refund(c, id)
        }
        ("POST", ["refunds", id, "status"]) => force_status(c, id, request),
        ("GET", ["faults"]) => ok(&faults_json(c.faults)),
        ("POST", ["faults"]) => push_fault(c, request),
        ("GET", ["clock"]) => ok(&json!({"clock": time(c.ledger.now())})),
        ("POST", ["clock"]) => advance(c, request),
        ("GET", ["requests"]) => ok(&Value::Array(c.recent.iter().map(request_json).collect())),
        ("POST", ["streams", "cut"]) => ok(&json!({"cut": c.streams.cut_all()})),
        (_, route) => {
            let known = matches!(
                route,
                [] | ["payments"]
                    | ["payments", _]
                    | ["refunds"]
                    | ["refunds", _]
                    | ["settle"]
                    | ["faults"]
                    | ["clock"]
                    | ["requests"]
                    | ["refunds", _, "settle" | "status"]
                    | ["streams", "cut"]
            );
            if known {
                refused(405, format!("{method} is not allowed here"))
            } else {
                refused(404, "no such control route (see GET /_sandbox)")
            }
        }
    }
}

fn one_refund(c: &Controls<'_>, id: &str) -> SandboxResponse {
    match c.ledger.refund(id) {
        Some(r) => ok(&refund_json(&r)),
        None => refused(404, format!("no refund {id:?}")),
    }
}

fn json_body<'a, T: Deserialize<'a>>(request: &'a SandboxRequest) -> Result<T, SandboxResponse> {
    request.json().map_err(|e| refused(400, format!("request body: {e}")))
}

fn seed(c: &Controls<'_>, request: &SandboxRequest) -> SandboxResponse {
    let body: SeedBody = match json_body(request) {
        Ok(body) => body,
        Err(answer) => return answer,
    };
    let money = Currency::from_code(&body.currency)
        .map_err(|e| e.message().to_owned())
        .and_then(|currency| Money::from_major_str(&body.amount, currency).map_err(|e| e.to_string()));
    let money = match money {
        Ok(money) if money.is_positive() => money,
        Ok(_) => return refused(400, "amount must be positive"),
        Err(e) => return refused(400, format!("amount: {e}")),
    };
    if body.id.is_empty() || body.id.len() > 255 || body.id.chars().any(char::is_control) {
        return refused(400, "id must be 1 to 255 characters, no control characters");
    }
    let state = match body.state.as_deref().unwrap_or("succeeded") {
        "succeeded" => PaymentState::Succeeded,
        "pending" => PaymentState::Pending,
        "failed" => PaymentState::Failed,
        other => return refused(400, format!("state {other:?}: succeeded, pending or failed")),
    };
    seed_payment(c.ledger, c.provider, c.journal.as_ref(), &body.id, money, state);
    match c.ledger.payment(&body.id) {
        Some(p) => SandboxResponse::json(201, &payment_json(&p)),
        None => refused(404, "the payment vanished"),
    }
}

/// Seeds a payment and journals it.
pub(crate) fn seed_payment(
    ledger: &Ledger,
    provider: &str,
    journal: Option<&Journal>,
    id: &str,
    money: Money,
    state: PaymentState,
) {
    ledger.seed_payment_in_state(id, money, state);
    if let Some(journal) = journal {
        let state = match state {
            PaymentState::Succeeded => "succeeded",
            PaymentState::Pending => "pending",
            _ => "failed",
        };
        journal.record(&JournalEntry::Seed {
            provider: provider.to_owned(),
            at: ledger.now(),
            payment: id.to_owned(),
            amount_minor: money.minor(),
            currency: money.currency().code().to_owned(),
            state: state.to_owned(),
        });
    }
}

fn force_status(c: &Controls<'_>, id: &str, request: &SandboxRequest) -> SandboxResponse {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct StatusBody {
        status: String,
    }
    let body: StatusBody = match json_body(request) {
        Ok(body) => body,
        Err(answer) => return answer,
    };
    if body.status.is_empty() || body.status.len() > 64 {
        return refused(400, "status must be 1 to 64 characters");
    }
    if !c.ledger.set_status(id, RefundStatus::from_name(&body.status)) {
        return refused(404, format!("no refund {id:?}"));
    }
    one_refund(c, id)
}

fn faults_json(faults: &FaultPlan) -> Value {
    let n = faults.counts();
    json!({"total": n.total(), "service_unavailable": n.service_unavailable, "rate_limited": n.rate_limited,
        "connection_reset": n.connection_reset, "delayed": n.delayed, "response_lost": n.response_lost,
        "slow_commit": n.slow_commit, "applied_then": n.applied_then_429 + n.applied_then_409 + n.applied_then_other,
        "list_lies": n.list_lies(), "in_progress_answers": n.in_progress_answers})
}

fn push_fault(c: &Controls<'_>, request: &SandboxRequest) -> SandboxResponse {
    let body: FaultBody = match json_body(request) {
        Ok(body) => body,
        Err(answer) => return answer,
    };
    let times = body.times.unwrap_or(1);
    if !(1..=MAX_FAULT_TIMES).contains(&times) {
        return refused(400, format!("times must be 1 to {MAX_FAULT_TIMES}"));
    }
    match parse_fault(&body.fault) {
        Ok(fault) => {
            c.faults.push(fault, times);
            ok(&json!({"queued": body.fault, "times": times}))
        }
        Err(e) => refused(400, e),
    }
}

fn advance(c: &Controls<'_>, request: &SandboxRequest) -> SandboxResponse {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct ClockBody {
        advance_secs: u64,
    }
    /// Ten years: far beyond any test, far below the clock's range.
    const MAX_ADVANCE_SECS: u64 = 10 * 366 * 24 * 3_600;
    let body: ClockBody = match json_body(request) {
        Ok(body) => body,
        Err(answer) => return answer,
    };
    if body.advance_secs > MAX_ADVANCE_SECS {
        return refused(400, format!("advance_secs must be at most {MAX_ADVANCE_SECS}"));
    }
    c.ledger.advance(Duration::from_secs(body.advance_secs));
    if let Some(journal) = &c.journal {
        let (provider, at) = (c.provider.to_owned(), c.ledger.now());
        journal.record(&JournalEntry::Clock { provider, at });
    }
    ok(&json!({"clock": time(c.ledger.now())}))
}

/// Answers a control request (`/_sandbox/...`): no fault, no latency, not counted as an API request.
pub(super) async fn answer_http(shared: &Shared, request: Request<Incoming>) -> Response<SandboxBody> {
    let (parts, body) = request.into_parts();
    let Ok(collected) = Limited::new(body, MAX_REQUEST_BODY).collect().await else {
        return to_hyper(SandboxResponse::raw(413, "text/plain", "request body too large"));
    };
    let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let request = SandboxRequest::new(
        parts.method,
        path_and_query,
        parts.headers,
        collected.to_bytes().to_vec(),
    );
    let controls = Controls {
        provider: shared.skin.provider(),
        ledger: &shared.ledger,
        faults: &shared.faults,
        recent: lock(&shared.recent).iter().cloned().collect(),
        requests: shared.requests.load(std::sync::atomic::Ordering::SeqCst),
        streams: &shared.streams,
        journal: shared.journal.get().cloned(),
    };
    to_hyper(answer(&controls, &request))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_by_name() {
        assert_eq!(parse_fault("unavailable"), Ok(Fault::ServiceUnavailable));
        assert_eq!(
            parse_fault("rate-limited=3"),
            Ok(Fault::RateLimited {
                retry_after: Duration::from_secs(3)
            })
        );
        assert_eq!(
            parse_fault("rate-limited"),
            Ok(Fault::RateLimited {
                retry_after: Duration::from_secs(1)
            })
        );
        assert_eq!(parse_fault("delay=250"), Ok(Fault::Delay(Duration::from_millis(250))));
        assert_eq!(parse_fault("applied-then=409"), Ok(Fault::AppliedThen(409)));
        for bad in ["delay", "reset=1", "applied-then=200", "delay=-1", "teleport"] {
            assert!(parse_fault(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn control_paths_and_credentials() {
        assert!(is_control("/_sandbox") && is_control("/_sandbox/refunds") && !is_control("/v1/_sandbox"));
        assert!(is_credential("Authorization") && is_credential("X-Api-Key") && !is_credential("idempotency-key"));
    }
}
