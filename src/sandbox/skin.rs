//! The generic skin: what every provider's sandbox face shares, driven by the provider's
//! [`ProviderSpec`].
//!
//! A provider implements [`SpecSkin`] (its spec and keys, the decoding of a create body, the encoding
//! of a refund, a list page and an error) and gets a [`Skin`] that does the rest the same way for
//! every provider:
//!
//! - the auth check against the sandbox's keys, in the spec's [`AuthStyle`] (a Basic user name is
//!   the key, the password empty; the scheme name is case-insensitive);
//! - routing: `POST <refunds_path>` creates, `GET <refunds_path>` lists (when the spec has paging),
//!   `GET <refunds_path>/<id>` retrieves (when the spec has retrieve), then the provider's
//!   [`SpecSkin::extra_route`], and anything else is [`Refusal::NoRoute`];
//! - paging parameters from the spec's [`PagingSpec`]: `limit` (`1..=max_limit`, default
//!   `default_limit`) with `offset` or with the cursors `starting_after` / `ending_before` (the first
//!   wins), and the status filter parameter compared with the status table's wire strings;
//! - the idempotency key from the spec's header or body field (also [`Skin::idempotency_key`], so
//!   slow commits answer [`Refusal::InProgress`] for it), and the body as the ledger's fingerprint;
//! - everything refused, the ledger's [`LedgerError`]s included, goes to the provider's
//!   [`SpecSkin::encode_error`] as one [`Refusal`].
//!
//! [`send_webhooks`] wires a provider's event body and signature scheme to the ledger's changes.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use serde_json::Value;

use super::WebhookSender;
use super::{Ledger, LedgerError, RefundDraft, RefundRecord, Sandbox, SandboxRequest, SandboxResponse, Skin};
use crate::adapter::signature::SignatureScheme;
use crate::adapter::{AuthStyle, Idempotency, PagingSpec, ProviderSpec, base64_decode};
use crate::ledger::ChangeKind;
use crate::provider::PagingStyle;
use crate::{EventKind, RefundStatus};

/// One request the generic skin routed to the provider.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Call<'a> {
    /// The request.
    pub request: &'a SandboxRequest,
    /// The sandbox's ledger.
    pub ledger: &'a Ledger,
    /// The key the request authenticated with (one of [`SpecSkin::API_KEYS`]).
    pub key: &'static str,
}

/// Why a query parameter was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParamProblem {
    /// Not a non-negative integer.
    NotInteger,
    /// An integer outside `min..=max`.
    OutOfRange {
        /// The smallest value taken.
        min: u64,
        /// The largest value taken.
        max: u64,
    },
}

/// A refused query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadParam {
    /// Its name (`limit`, `offset`).
    pub name: &'static str,
    /// What is wrong with it.
    pub problem: ParamProblem,
}

/// Everything the generic skin refuses, for the provider to answer in its own error dialect.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Refusal<'a> {
    /// No key (`given == false`) or a key the sandbox does not accept.
    Unauthorized {
        /// Whether the request carried the auth header at all.
        given: bool,
    },
    /// No route for the method and path.
    NoRoute {
        /// The request.
        request: &'a SandboxRequest,
    },
    /// `GET <path>/<id>` of an unknown refund.
    NoSuchRefund {
        /// The id asked for.
        id: &'a str,
    },
    /// Paging parameters refused: every bad one, in the order checked (`limit` first).
    BadParams(&'a [BadParam]),
    /// A cursor naming no refund.
    UnknownCursor {
        /// `starting_after` or `ending_before`.
        param: &'static str,
        /// The id it named.
        id: &'a str,
    },
    /// The ledger refused a create.
    Ledger {
        /// Why.
        error: &'a LedgerError,
        /// The payment the create named.
        payment: &'a str,
        /// The create request.
        request: &'a SandboxRequest,
    },
    /// A create with the idempotency key of a create still in progress.
    InProgress,
    /// An answer the fault plan injects (429, 5xx, the statuses of `Fault::AppliedThen`).
    Fault {
        /// The HTTP status.
        status: u16,
        /// The message to carry.
        message: &'a str,
    },
}

/// One page of the list, for [`SpecSkin::encode_page`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Page<T> {
    /// The refunds of the page.
    pub items: Vec<T>,
    /// How many refunds match in all (after the status filter).
    pub total: u64,
    /// Whether refunds follow the page (offset and cursor paging).
    pub has_more: bool,
    /// The page size used (the `limit` asked for, or the default).
    pub limit: u64,
    /// The position of the page's first refund among all that match.
    pub offset: u64,
}

/// Keeps the refunds a list's own filters select.
pub type RefundFilter = Box<dyn Fn(&RefundRecord) -> bool + Send>;

/// What a list request asks for beyond paging and the spec's status parameter, read by
/// [`SpecSkin::list_query`] from the provider's own parameters.
#[derive(Default)]
#[non_exhaustive]
pub struct ListQuery {
    /// Keeps the refunds the request's filters select (`None`: every refund).
    pub filter: Option<RefundFilter>,
    /// The list runs newest first (Bias, Stripe); in creation order otherwise.
    pub newest_first: bool,
}

impl ListQuery {
    /// Every refund, in creation order.
    pub fn new() -> ListQuery {
        ListQuery::default()
    }
    /// Keeps only the refunds `filter` selects.
    pub fn filter(mut self, filter: impl Fn(&RefundRecord) -> bool + Send + 'static) -> ListQuery {
        self.filter = Some(Box::new(filter));
        self
    }
    /// Lists newest first.
    pub fn newest_first(mut self) -> ListQuery {
        self.newest_first = true;
        self
    }
    fn keeps(&self, record: &RefundRecord) -> bool {
        self.filter.as_ref().is_none_or(|f| f(record))
    }
}

impl std::fmt::Debug for ListQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListQuery")
            .field("filter", &self.filter.is_some())
            .field("newest_first", &self.newest_first)
            .finish()
    }
}

/// A provider's sandbox face over the generic skin: only what is the provider's own. Every
/// `SpecSkin` is a [`Skin`].
pub trait SpecSkin: Send + Sync + 'static {
    /// The provider's spec (`<Provider as HttpProvider>::SPEC`): auth, path, paging, idempotency,
    /// statuses.
    const SPEC: ProviderSpec;

    /// The API keys the sandbox accepts; [`Call::key`] says which one a request used.
    const API_KEYS: &'static [&'static str];

    /// The create request as a draft for the ledger, or the provider's answer to a body it refuses
    /// (its schema complaints). The generic skin refuses a draft amount of zero or less as the
    /// ledger's [`LedgerError::InvalidAmount`] before the ledger looks the payment up, and fills the
    /// idempotency key (from the spec's header or body field) and the fingerprint (the body) when
    /// the draft leaves them empty.
    fn decode_create(&self, call: &Call<'_>) -> Result<RefundDraft, SandboxResponse>;

    /// A ledger refund as the provider's refund object, answered with HTTP 200 by create and
    /// retrieve (and the items of the default [`SpecSkin::encode_page`]).
    fn encode_refund(&self, record: &RefundRecord, call: &Call<'_>) -> impl Serialize;

    /// A list page in the provider's envelope, answered with HTTP 200. The default is the bare
    /// array of [`SpecSkin::encode_refund`]s.
    fn encode_page(&self, page: &Page<RefundRecord>, call: &Call<'_>) -> impl Serialize {
        let items: Vec<_> = page.items.iter().map(|r| self.encode_refund(r, call)).collect();
        items
    }

    /// The provider's error answer to `refusal`.
    fn encode_error(&self, refusal: Refusal<'_>) -> SandboxResponse;

    /// The list request's own filter parameters and the list's order; `Err` is the provider's answer
    /// to parameters it refuses. The default: no filter beyond the spec's status parameter, creation
    /// order.
    fn list_query(&self, call: &Call<'_>) -> Result<ListQuery, SandboxResponse> {
        let _ = call;
        Ok(ListQuery::new())
    }

    /// A route of the provider's own, tried (after the auth check) when none of the refunds routes
    /// matched; `None` lets [`Refusal::NoRoute`] answer.
    fn extra_route(&self, call: &Call<'_>) -> Option<SandboxResponse> {
        let _ = call;
        None
    }

    /// See [`Skin::bookkeeping_read`].
    fn bookkeeping_read(&self, request: &SandboxRequest) -> bool {
        let _ = request;
        false
    }
}

impl<S: SpecSkin> Skin for S {
    fn provider(&self) -> &'static str {
        S::SPEC.id
    }

    fn handle(&self, request: &SandboxRequest, ledger: &Ledger) -> SandboxResponse {
        let key = match authenticate(S::SPEC.auth, S::API_KEYS, request) {
            Ok(key) => key,
            Err(given) => return self.encode_error(Refusal::Unauthorized { given }),
        };
        let call = Call { request, ledger, key };
        let path = S::SPEC.refunds_path;
        let segments = &request.segments;
        let under = segments.len() >= path.len() && segments.iter().zip(path).all(|(s, p)| s == p);
        let rest = if under { &segments[path.len()..] } else { &[][..] };
        match (request.method.as_str(), under, rest) {
            ("POST", true, []) => return create(self, &call),
            ("GET", true, []) if S::SPEC.paging.is_some() => return list(self, &call),
            ("GET", true, [id]) if S::SPEC.retrieve => {
                return match ledger.refund(id) {
                    Some(record) => SandboxResponse::json(200, &self.encode_refund(&record, &call)),
                    None => self.encode_error(Refusal::NoSuchRefund { id }),
                };
            }
            _ => {}
        }
        self.extra_route(&call)
            .unwrap_or_else(|| self.encode_error(Refusal::NoRoute { request }))
    }

    fn error_response(&self, status: u16, message: &str) -> SandboxResponse {
        self.encode_error(Refusal::Fault { status, message })
    }

    fn idempotency_key(&self, request: &SandboxRequest) -> Option<String> {
        idempotency_key(S::SPEC.idempotency, request)
    }

    fn bookkeeping_read(&self, request: &SandboxRequest) -> bool {
        SpecSkin::bookkeeping_read(self, request)
    }

    fn in_progress_response(&self) -> SandboxResponse {
        self.encode_error(Refusal::InProgress)
    }
}

/// The accepted key `request` carries in `style`, or whether it carried the auth header at all.
fn authenticate(style: AuthStyle, keys: &[&'static str], request: &SandboxRequest) -> Result<&'static str, bool> {
    let header = match style {
        AuthStyle::Header(name) => name.to_ascii_lowercase(),
        _ => "authorization".to_owned(),
    };
    let value = request.header(&header).ok_or(false)?;
    let accepted = |given: &[u8]| keys.iter().copied().find(|key| key.as_bytes() == given);
    let found = match style {
        AuthStyle::Bearer => value.strip_prefix("Bearer ").and_then(|k| accepted(k.as_bytes())),
        AuthStyle::BasicKeyAsUser => value
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
            .and_then(|(_, credentials)| base64_decode(credentials))
            .and_then(|decoded| decoded.strip_suffix(b":").and_then(accepted)),
        _ => accepted(value.as_bytes()),
    };
    found.ok_or(true)
}

/// The idempotency key `request` carries where `placement` puts it.
fn idempotency_key(placement: Idempotency, request: &SandboxRequest) -> Option<String> {
    match placement {
        Idempotency::Header(name) => request.header(&name.to_ascii_lowercase()).map(str::to_owned),
        Idempotency::BodyField(field) => match request.json::<Value>().ok()?.get(field)? {
            Value::String(key) => Some(key.clone()),
            _ => None,
        },
        _ => None,
    }
}

fn create<S: SpecSkin>(skin: &S, call: &Call<'_>) -> SandboxResponse {
    let mut draft = match skin.decode_create(call) {
        Ok(draft) => draft,
        Err(answer) => return answer,
    };
    if draft.idempotency_key.is_none() {
        draft.idempotency_key = idempotency_key(S::SPEC.idempotency, call.request);
    }
    if draft.amount_minor.is_some_and(|minor| minor <= 0) {
        let payment = &draft.payment_id;
        let (error, request) = (&LedgerError::InvalidAmount, call.request);
        return skin.encode_error(Refusal::Ledger {
            error,
            payment,
            request,
        });
    }
    if draft.fingerprint.is_empty() {
        draft.fingerprint = String::from_utf8_lossy(&call.request.body).into_owned();
    }
    let payment = draft.payment_id.clone();
    match call.ledger.create_refund(draft) {
        Ok(outcome) => {
            let answer = SandboxResponse::json(200, &skin.encode_refund(outcome.record(), call));
            // Where the provider says whether an answer is a replay (Bias' `idempotency-replay`),
            // the sandbox says it too, both ways.
            match S::SPEC.replay_header {
                Some(name) => {
                    let replayed = matches!(outcome, crate::ledger::CreateOutcome::Replayed(_));
                    answer.with_header(name, if replayed { "true" } else { "false" })
                }
                None => answer,
            }
        }
        Err(error) => skin.encode_error(Refusal::Ledger {
            error: &error,
            payment: &payment,
            request: call.request,
        }),
    }
}

/// The value of query parameter `name` (`default` when absent), or why it is refused.
fn number(request: &SandboxRequest, name: &'static str, default: u64, min: u64, max: u64) -> Result<u64, BadParam> {
    let Some(text) = request.query_param(name) else {
        return Ok(default);
    };
    let problem = match text.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => return Ok(n),
        Ok(_) => ParamProblem::OutOfRange { min, max },
        Err(_) => ParamProblem::NotInteger,
    };
    Err(BadParam { name, problem })
}

/// The provider's wire string of `status` (its raw text when the table has none).
fn wire_status<'a>(spec: &ProviderSpec, status: &'a RefundStatus) -> &'a str {
    spec.statuses.to_wire(status).unwrap_or(status.as_str())
}

fn list<S: SpecSkin>(skin: &S, call: &Call<'_>) -> SandboxResponse {
    let Some(paging) = S::SPEC.paging else {
        return skin.encode_error(Refusal::NoRoute { request: call.request });
    };
    let query = match skin.list_query(call) {
        Ok(query) => query,
        Err(answer) => return answer,
    };
    let status = paging.status_param.and_then(|p| call.request.query_param(p));
    let matches = |r: &RefundRecord| {
        status.is_none_or(|s| wire_status(&S::SPEC, &r.status).eq_ignore_ascii_case(s)) && query.keeps(r)
    };
    let newest_first = query.newest_first;
    let page = match paging.style {
        PagingStyle::Offset => offset_page(call, &paging, matches, newest_first),
        PagingStyle::Cursor => cursor_page(call, &paging, matches, newest_first),
        _ => {
            let items = ordered(call.ledger, matches, newest_first);
            let total = items.len() as u64;
            Ok(Page {
                items,
                total,
                has_more: false,
                limit: total,
                offset: 0,
            })
        }
    };
    match page {
        Ok(page) => SandboxResponse::json(200, &skin.encode_page(&page, call)),
        Err(Refused::Params(bad)) => skin.encode_error(Refusal::BadParams(&bad)),
        Err(Refused::Cursor(param, id)) => skin.encode_error(Refusal::UnknownCursor { param, id: &id }),
    }
}

/// Why a list request is refused.
enum Refused {
    Params(Vec<BadParam>),
    Cursor(&'static str, String),
}

fn limit(call: &Call<'_>, paging: &PagingSpec) -> Result<u64, BadParam> {
    let (default, max) = (u64::from(paging.default_limit), u64::from(paging.max_limit));
    number(call.request, "limit", default, 1, max)
}

/// The refunds `matches` keeps, in the list's order.
fn ordered(ledger: &Ledger, matches: impl Fn(&RefundRecord) -> bool, newest_first: bool) -> Vec<RefundRecord> {
    let mut all: Vec<RefundRecord> = ledger.refunds().into_iter().filter(|r| matches(r)).collect();
    if newest_first {
        all.reverse();
    }
    all
}

fn offset_page(
    call: &Call<'_>,
    paging: &PagingSpec,
    matches: impl Fn(&RefundRecord) -> bool,
    newest_first: bool,
) -> Result<Page<RefundRecord>, Refused> {
    let (limit, offset) = match (limit(call, paging), number(call.request, "offset", 0, 0, u64::MAX)) {
        (Ok(limit), Ok(offset)) => (limit, offset),
        (limit, offset) => return Err(Refused::Params(limit.err().into_iter().chain(offset.err()).collect())),
    };
    let skip = usize::try_from(offset).unwrap_or(usize::MAX);
    let take = usize::try_from(limit).unwrap_or(usize::MAX);
    let (items, total) = if newest_first {
        let all = ordered(call.ledger, matches, true);
        let total = all.len();
        (all.into_iter().skip(skip).take(take).collect(), total)
    } else {
        call.ledger.refunds_page(skip, take, matches)
    };
    let has_more = skip.saturating_add(items.len()) < total;
    Ok(Page {
        items,
        total: total as u64,
        has_more,
        limit,
        offset,
    })
}

fn cursor_page(
    call: &Call<'_>,
    paging: &PagingSpec,
    matches: impl Fn(&RefundRecord) -> bool,
    newest_first: bool,
) -> Result<Page<RefundRecord>, Refused> {
    let limit = limit(call, paging).map_err(|bad| Refused::Params(vec![bad]))?;
    let take = usize::try_from(limit).unwrap_or(usize::MAX);
    let all = ordered(call.ledger, matches, newest_first);
    let cursor = |name| call.request.query_param(name).map(|id| (name, id));
    let (start, end, backwards) = match cursor("starting_after").or_else(|| cursor("ending_before")) {
        None => (0, take.min(all.len()), false),
        Some((name, id)) => {
            let Some(at) = all.iter().position(|r| r.id == id) else {
                return Err(Refused::Cursor(name, id.to_owned()));
            };
            match name {
                "starting_after" => (at + 1, (at + 1).saturating_add(take).min(all.len()), false),
                _ => (at.saturating_sub(take), at, true),
            }
        }
    };
    let has_more = if backwards { start > 0 } else { end < all.len() };
    let (total, offset) = (all.len() as u64, start as u64);
    let items = all.into_iter().skip(start).take(end - start).collect();
    Ok(Page {
        items,
        total,
        has_more,
        limit,
        offset,
    })
}

/// The normalized event of a refund's change: created, then succeeded, failed or updated by status.
pub fn event_kind(record: &RefundRecord, change: ChangeKind) -> EventKind {
    match (change, &record.status) {
        (ChangeKind::Created, _) => EventKind::Created,
        (_, RefundStatus::Succeeded) => EventKind::Succeeded,
        (_, RefundStatus::Failed) => EventKind::Failed,
        _ => EventKind::Updated,
    }
}

/// Makes `sandbox` send a webhook for every change of its ledger: `body` writes the event of a
/// refund's change (`n` counts the changes from 1; `None` sends nothing) and `scheme` signs it at each
/// attempt. Returns `sender`, where the receiving URLs are registered.
///
/// Deliveries are spawned on the tokio runtime the change happens in (the sandbox's requests run in
/// one); a change made outside any runtime sends nothing. [`WebhookSender::wait_idle`] waits for them.
pub fn send_webhooks<F>(
    sandbox: &Sandbox,
    scheme: impl SignatureScheme + 'static,
    sender: WebhookSender,
    body: F,
) -> WebhookSender
where
    F: Fn(&RefundRecord, ChangeKind, u64) -> Option<Vec<u8>> + Send + Sync + 'static,
{
    let scheme = Arc::new(scheme);
    let events = AtomicU64::new(0);
    let out = sender.clone();
    sandbox
        .ledger()
        .on_change(Arc::new(move |record: &RefundRecord, change: ChangeKind| {
            let n = events.fetch_add(1, Ordering::Relaxed) + 1;
            let Some(body) = body(record, change, n) else {
                return;
            };
            let scheme = scheme.clone();
            sender.deliver_in_background(body, move |b| scheme.sign_headers(b));
        }));
    out
}
