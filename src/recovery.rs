//! Resolving an `Ambiguous` create: did the refund happen? One call for every provider, answering
//! only what the provider's data can tell.

use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use time::OffsetDateTime;

use crate::error::{Delivery, Error, ErrorKind};
use crate::model::{ListRefunds, Refund};
use crate::pending::PendingCreate;
use crate::provider::{PagingStyle, RefundProvider};
use crate::stream::RefundProviderExt;

/// What recovery found out about a pending create.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Recovery {
    /// The refund exists (exactly this one): book it.
    Applied(Box<Refund>),
    /// The create was not applied: sending it again (with its pending key) is safe.
    NotApplied,
    /// Several refunds, or refunds that cannot be told apart from earlier ones, match: a person or the
    /// application's own records must choose. Nothing is assumed.
    Candidates(Vec<Refund>),
    /// The provider's data cannot tell (yet); the reason says why. Never guessed.
    Unknown(String),
}

impl Recovery {
    /// True for [`Recovery::Applied`].
    pub fn is_applied(&self) -> bool {
        matches!(self, Recovery::Applied(_))
    }
    /// True for [`Recovery::Unknown`].
    pub fn is_unknown(&self) -> bool {
        matches!(self, Recovery::Unknown(_))
    }
}

/// How recovery judges time.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecoveryOptions {
    /// How long after the call started the provider is given to finish applying it before "not
    /// applied" may be answered (default 60 s). Before that, an empty lookup is `Unknown`.
    pub settle: Duration,
    /// How far the provider's clock may be from this machine's (default 5 min): a refund reported
    /// as created more than this before the call started existed before it.
    pub clock_skew: Duration,
    /// The clock (default: now). Tests and the command line set it.
    pub now: Option<OffsetDateTime>,
    /// Refunds the application has already booked for other calls: never this create's refund.
    pub booked: Vec<crate::RefundId>,
}

impl RecoveryOptions {
    /// The defaults: 60 s to settle, 5 min of clock skew.
    pub fn new() -> RecoveryOptions {
        RecoveryOptions {
            settle: Duration::from_secs(60),
            clock_skew: Duration::from_secs(300),
            now: None,
            booked: Vec::new(),
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
    /// Refunds already booked for other calls (a concurrent create of the same payment and amount
    /// made one of them): they are never taken for this create's refund.
    pub fn booked(mut self, ids: impl IntoIterator<Item = crate::RefundId>) -> Self {
        self.booked.extend(ids);
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

    /// Resolves `pending`. Where the provider de-duplicates creates, the pending create is sent again
    /// with its key: the provider answers with the refund (applied, now or before) or refuses it (not
    /// applied). Elsewhere the refunds of the payment are looked up: refunds reported as created before
    /// the call (less the clock-skew margin) are excluded, a merchant reference the SDK sent must match
    /// where the provider echoes one, and whatever cannot be told apart is a candidate, not a verdict.
    async fn recover_with(&self, pending: &PendingCreate, options: RecoveryOptions) -> Recovery {
        let info = self.info();
        if pending.provider != info.id {
            return Recovery::Unknown(format!(
                "the pending create was sent to {}, not {}",
                pending.provider, info.id
            ));
        }
        let request = &pending.request;
        if info.capabilities.idempotency.is_native() && request.idempotency_key_given().is_some() {
            return match self.create_refund(request).await {
                Ok(refund) => Recovery::Applied(Box::new(refund)),
                Err(e) if e.delivery() == Delivery::Ambiguous => {
                    Recovery::Unknown(format!("the re-send was ambiguous too: {e}"))
                }
                // Under the same key an applied create is answered with its refund; a refusal (or nothing
                // sent) means it was not applied.
                Err(e) => refused_resend(e),
            };
        }
        lookup(self, pending, options).await
    }
}

impl<P: RefundProvider + ?Sized> RecoverExt for P {}

fn refused_resend(e: Error) -> Recovery {
    if e.delivery() == Delivery::NotSent {
        Recovery::Unknown(format!("the re-send could not be sent: {e}"))
    } else {
        Recovery::NotApplied
    }
}

/// Smaller page sizes recovery's walk falls back to, in order, when the provider refuses its default.
const RETRY_PAGE_SIZES: [u32; 3] = [10, 5, 1];

/// The list request itself was refused (a validation error before any item, the provider's or the
/// SDK's own range check): most likely its page size, whichever field name the error gives.
fn refused_page_size(e: &Error) -> bool {
    e.delivery() == Delivery::Rejected && matches!(e.kind(), ErrorKind::InvalidRequest { .. } | ErrorKind::Validation)
}

async fn lookup<P: RefundProvider + ?Sized>(
    provider: &P,
    pending: &PendingCreate,
    options: RecoveryOptions,
) -> Recovery {
    let info = provider.info();
    let request = &pending.request;
    let now = options.now.unwrap_or_else(OffsetDateTime::now_utc);
    let settled = now - pending.started_at >= options.settle;
    let earliest = pending.started_at - options.clock_skew;
    let Some(style) = info.capabilities.list else {
        return Recovery::Unknown(format!("{} has no list to look the refund up in", info.id));
    };
    let mut matches = Vec::new();
    let mut unlinkable = false;
    // The walk's page size is the provider's documented default; a provider that refuses it with its
    // own error (a 400/422 on `limit`, whatever field name it gives) is walked again with smaller
    // pages, so that recovery never fails because of its page size.
    let mut page_sizes = RETRY_PAGE_SIZES.iter().copied();
    let mut walk = provider.refunds_stream(ListRefunds::new());
    let mut yielded = false;
    while let Some(item) = walk.next().await {
        let refund = match item {
            Ok(refund) => refund,
            Err(e) if !yielded && refused_page_size(&e) => match page_sizes.next() {
                Some(size) => {
                    walk = provider.refunds_stream(ListRefunds::new().limit(size));
                    continue;
                }
                None => return Recovery::Unknown(format!("the refund list could not be read: {e}")),
            },
            Err(e) => return Recovery::Unknown(format!("the refund list could not be read: {e}")),
        };
        yielded = true;
        // A create by payment intent may come back reporting a charge, and no provider here documents
        // the link: such refunds can be neither matched nor ruled out.
        if refund.payment.kind() != request.payment().kind() {
            unlinkable = true;
            continue;
        }
        if refund.payment.id() != request.payment().id() || options.booked.contains(&refund.id) {
            continue;
        }
        if request
            .amount_requested()
            .is_some_and(|amount| refund.amount != *amount)
        {
            continue;
        }
        if let (Some(sent), Some(seen)) = (request.merchant_reference_given(), refund.merchant_reference.as_deref()) {
            if sent != seen {
                continue;
            }
        }
        if refund.created_at.is_some_and(|at| at < earliest) {
            continue;
        }
        matches.push(refund);
    }
    let exclusive = |r: &Refund| {
        r.created_at.is_some() || (request.merchant_reference_given().is_some() && r.merchant_reference.is_some())
    };
    match matches.len() {
        0 if style == PagingStyle::SinglePage => Recovery::Unknown(format!(
            "{} lists one page only: a refund not on it cannot be ruled out",
            info.id
        )),
        0 if unlinkable => Recovery::Unknown(format!(
            "{} reports some refunds by another kind of payment reference than the create's {}: they cannot be linked",
            info.id,
            request.payment().kind().as_str()
        )),
        0 if !settled => Recovery::Unknown(format!(
            "not found yet, and the provider may still be applying it (settle window {} s)",
            options.settle.as_secs()
        )),
        0 => Recovery::NotApplied,
        1 if exclusive(&matches[0]) => Recovery::Applied(Box::new(matches.remove(0))),
        _ => Recovery::Candidates(matches),
    }
}
