//! Resolving an `Ambiguous` create: did the refund happen? One call for every provider. This module
//! only gathers what the provider says (a re-send under the create's key, or a bounded walk of the
//! payment's refunds); the verdict comes from [`crate::verdict::rules`], with its evidence.

use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use time::OffsetDateTime;

use crate::error::{Delivery, Error, ErrorKind};
use crate::ids::RefundId;
use crate::model::{ListRefunds, Refund};
use crate::pending::PendingCreate;
use crate::provider::{KEY_RETENTION_UNKNOWN, PagingStyle, RefundProvider};
use crate::stream::{RefundProviderExt, StreamOptions};
use crate::verdict::rules::{self, Judge, Seen, WalkEnd};
use crate::verdict::{Doubt, Evidence, Recovery};

/// What recovery may assume, and how far it may go.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecoveryOptions {
    /// How long after the call's **last attempt ended** the provider is given to finish applying it
    /// (default 60 s). Until then, finding nothing is `Unknown`, never "not applied".
    pub settle: Duration,
    /// How far the provider's clock may be from this machine's (default 5 min).
    pub clock_skew: Duration,
    /// The clock (default: now).
    pub now: Option<OffsetDateTime>,
    /// Refunds of the payment the application has already booked for other calls: never this create's.
    pub booked: Vec<RefundId>,
    /// The caller's declaration that every refund of this payment other than this create's is in
    /// `booked` and that no other create of it is unresolved (nobody else refunds this payment). Only
    /// then can a look-up answer "applied" without a marker. Default `false`.
    pub exclusive: bool,
    /// The most list requests a look-up sends (default 200); past it the answer is `Unknown`.
    pub max_pages: u64,
    /// The longest a look-up walks (default 60 s); past it the answer is `Unknown`.
    pub walk_timeout: Duration,
    /// How long the provider keeps idempotency keys, where the application knows better than the
    /// provider's documentation (default: the provider's [`crate::Capabilities::key_retention`]).
    pub key_retention: Option<Duration>,
    /// The longest a re-send may take (default 60 s); it is abandoned then, and a look-up that follows
    /// the last moment a re-send can start counts its settle window from that moment plus this.
    pub resend_timeout: Duration,
}

impl RecoveryOptions {
    /// The defaults: 60 s to settle, 5 min of clock skew, nothing booked, not exclusive, walks of at
    /// most 200 pages and 60 s.
    pub fn new() -> RecoveryOptions {
        RecoveryOptions {
            settle: Duration::from_secs(60),
            clock_skew: Duration::from_secs(300),
            now: None,
            booked: Vec::new(),
            exclusive: false,
            max_pages: 200,
            walk_timeout: Duration::from_secs(60),
            key_retention: None,
            resend_timeout: Duration::from_secs(60),
        }
    }
    /// Sets the settle window.
    pub fn settle(mut self, settle: Duration) -> Self {
        self.settle = settle;
        self
    }
    /// Sets the clock-skew margin.
    pub fn clock_skew(mut self, skew: Duration) -> Self {
        self.clock_skew = skew;
        self
    }
    /// Sets the clock.
    pub fn now(mut self, now: OffsetDateTime) -> Self {
        self.now = Some(now);
        self
    }
    /// Refunds already booked for other calls: they are never taken for this create's refund.
    pub fn booked(mut self, ids: impl IntoIterator<Item = RefundId>) -> Self {
        self.booked.extend(ids);
        self
    }
    /// Declares the payment exclusive (see the `exclusive` field).
    pub fn exclusive(mut self, yes: bool) -> Self {
        self.exclusive = yes;
        self
    }
    /// Bounds a look-up's walk.
    pub fn walk_bounds(mut self, max_pages: u64, timeout: Duration) -> Self {
        self.max_pages = max_pages.max(1);
        self.walk_timeout = timeout;
        self
    }
    /// Sets the longest a re-send may take.
    pub fn resend_timeout(mut self, timeout: Duration) -> Self {
        self.resend_timeout = timeout;
        self
    }
    /// Sets how long the provider keeps idempotency keys.
    pub fn key_retention(mut self, retention: Duration) -> Self {
        self.key_retention = Some(retention);
        self
    }
}

impl Default for RecoveryOptions {
    fn default() -> Self {
        RecoveryOptions::new()
    }
}

/// Recovery for every [`RefundProvider`].
#[async_trait]
pub trait RecoverExt: RefundProvider {
    /// Resolves `pending` (from [`Error::pending`]) with the default options.
    async fn recover(&self, pending: &PendingCreate) -> Recovery {
        self.recover_with(pending, RecoveryOptions::new()).await
    }

    /// Resolves `pending`. Where the provider de-duplicates creates and still keeps the create's key,
    /// the identical request is sent again under that key: the provider answers with the refund
    /// (applied, now or before) or with a refusal, and only a refusal of the request's form proves it
    /// never applied. Elsewhere, and once the key may be forgotten, the payment's refunds are walked
    /// (bounded): a refund carrying the create's marker is proof; without one, matches are candidates
    /// unless the caller declared the payment exclusive; "not applied" needs a complete walk after the
    /// settle window. See RELIABILITY.md, "Verdict rules".
    async fn recover_with(&self, pending: &PendingCreate, options: RecoveryOptions) -> Recovery {
        let info = self.info();
        if pending.provider != info.id {
            let detail = format!("the pending create was sent to {}, not {}", pending.provider, info.id);
            return Recovery::unknown(Doubt::NotThisProvider, detail, None);
        }
        if let Err(e) = pending.validate() {
            return Recovery::unknown(
                Doubt::NotThisProvider,
                format!("the pending create is not valid: {e}"),
                None,
            );
        }
        let caps = &info.capabilities;
        let now = options.now.unwrap_or_else(OffsetDateTime::now_utc);
        let mut ended = pending.ended_at;
        if caps.idempotency.is_native() && pending.request.idempotency_key_given().is_some() {
            let retention = options
                .key_retention
                .or(caps.key_retention)
                .unwrap_or(KEY_RETENTION_UNKNOWN);
            if rules::key_still_kept(pending, retention, options.clock_skew, now) {
                let answer = match tokio::time::timeout(options.resend_timeout, self.resend_pending(pending)).await {
                    Ok(answer) => answer,
                    Err(_) => Err(Error::new(
                        ErrorKind::Timeout,
                        Delivery::Ambiguous,
                        "the re-send took too long",
                    )),
                };
                return rules::resend_verdict(pending, caps.marker, answer);
            }
            // A re-send that started just before the cutoff may still be applied after it: the last
            // attempt can have ended as late as the cutoff plus a re-send's longest run.
            let last_resend = rules::resend_cutoff(pending, retention, options.clock_skew)
                .and_then(|cutoff| rules::shift(cutoff, options.resend_timeout, true));
            if let Some(last) = last_resend {
                ended = ended.max(last);
            }
            if caps.list.is_none() {
                let detail = format!(
                    "the create is older than {} keeps keys ({} h), so re-sending it could be a new refund, and it \
                     has no list to look it up in",
                    info.id,
                    retention.as_secs() / 3600
                );
                return Recovery::unknown(Doubt::KeyExpired, detail, None);
            }
        }
        lookup(self, pending, &options, now, ended).await
    }
}

impl<P: RefundProvider + ?Sized> RecoverExt for P {}

/// The page sizes a look-up walks with, in order: the largest most providers take, then smaller ones
/// when the provider (or the SDK for it) refuses one before any item.
const PAGE_SIZES: [u32; 4] = [100, 10, 5, 1];

/// The list request itself was refused (a validation error before any item): most likely its page size.
fn refused_page_size(e: &Error) -> bool {
    e.delivery() != Delivery::Ambiguous && matches!(e.kind(), ErrorKind::InvalidRequest { .. } | ErrorKind::Validation)
}

/// The stream stopped at its page cap (see `StreamOptions::max_pages`).
fn hit_page_cap(e: &Error) -> bool {
    e.kind() == &ErrorKind::Other && e.delivery() == Delivery::NotSent && e.http_status().is_none()
}

/// The most candidate refunds a look-up keeps: a server inventing matches cannot make it hold more.
/// Past it the verdict stays `Candidates` (never a guess), with the first ones.
const MAX_CANDIDATES: usize = 100;

/// What a walk saw.
#[derive(Default)]
struct Sorted {
    plausible: Vec<Refund>,
    differs: Vec<Refund>,
    unlinkable: usize,
}

impl Sorted {
    fn keep(list: &mut Vec<Refund>, refund: Refund) {
        if list.len() < MAX_CANDIDATES {
            list.push(refund);
        }
    }
}

async fn lookup<P: RefundProvider + ?Sized>(
    provider: &P,
    pending: &PendingCreate,
    options: &RecoveryOptions,
    now: OffsetDateTime,
    ended: OffsetDateTime,
) -> Recovery {
    let info = provider.info();
    let caps = &info.capabilities;
    let Some(style) = caps.list else {
        return Recovery::unknown(
            Doubt::NoList,
            format!("{} has no list to look the refund up in", info.id),
            None,
        );
    };
    let judge = Judge {
        pending,
        ended,
        marker: caps.marker,
        now,
        settle: options.settle,
        skew: options.clock_skew,
        booked: &options.booked,
        exclusive: options.exclusive,
    };
    // The payment filter (native or applied by the stream) drops refunds reported by another kind of
    // reference, which a provider taking several kinds may report a create by (an intent answered by
    // its charge): those must be seen, as unlinkable, so such a provider's list is walked unfiltered.
    let mut request = ListRefunds::new();
    if caps.payment_kinds.len() <= 1 {
        request = request.payment(pending.request.payment().clone());
    }
    if caps.list_created_filter {
        if let Some(from) = rules::shift(pending.started_at, options.clock_skew, false) {
            request = request.created_after(from);
        }
    }
    let mut seen = Sorted::default();
    let walked = tokio::time::timeout(
        options.walk_timeout,
        walk(provider, &judge, request, options, &mut seen),
    )
    .await;
    let end = match walked {
        Ok(Ok(end)) => end,
        Ok(Err(proof)) => {
            return Recovery::Applied {
                refund: Box::new(proof),
                evidence: Evidence::Marker,
            };
        }
        Err(_) => WalkEnd::Bounded(format!(
            "the walk of {}'s refunds took longer than {} s",
            info.id,
            options.walk_timeout.as_secs()
        )),
    };
    let end = match (end, style) {
        (WalkEnd::Complete, PagingStyle::SinglePage) => WalkEnd::SinglePage,
        (end, _) => end,
    };
    judge.decide(seen.plausible, seen.differs, seen.unlinkable, end)
}

/// Walks the payment's refunds, sorting each into `seen`; `Err(refund)` as soon as one is proven to be
/// the create's.
async fn walk<P: RefundProvider + ?Sized>(
    provider: &P,
    judge: &Judge<'_>,
    request: ListRefunds,
    options: &RecoveryOptions,
    seen: &mut Sorted,
) -> Result<WalkEnd, Refund> {
    let stream_options = StreamOptions::new().max_pages(options.max_pages);
    let mut sizes = PAGE_SIZES.iter().copied();
    let mut walk = provider.refunds_stream_with(request.clone().limit(sizes.next().unwrap_or(10)), stream_options);
    let mut yielded = false;
    while let Some(item) = walk.next().await {
        let refund = match item {
            Ok(refund) => refund,
            Err(e) if !yielded && refused_page_size(&e) => match sizes.next() {
                Some(size) => {
                    walk = provider.refunds_stream_with(request.clone().limit(size), stream_options);
                    continue;
                }
                None => return Ok(WalkEnd::Unreadable(format!("the refund list could not be read: {e}"))),
            },
            Err(e) if hit_page_cap(&e) => return Ok(WalkEnd::Bounded(e.to_string())),
            Err(e) => return Ok(WalkEnd::Unreadable(format!("the refund list could not be read: {e}"))),
        };
        yielded = true;
        match judge.classify(&refund) {
            Seen::Proof => return Err(refund),
            Seen::Differs => Sorted::keep(&mut seen.differs, refund),
            Seen::Plausible => Sorted::keep(&mut seen.plausible, refund),
            Seen::Unlinkable => seen.unlinkable += 1,
            Seen::Excluded => {}
        }
    }
    Ok(WalkEnd::Complete)
}
