//! Listing: the list request and its filters, the opaque page cursor, and a page.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::Error;
use crate::ids::PaymentRef;

use super::{Refund, RefundStatus};

/// An opaque position in a provider's list of refunds. Callers may store its text and resume with
/// [`PageCursor::from_token`]; only the provider that issued it accepts it back.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PageCursor(String);

impl PageCursor {
    /// Rebuilds a cursor from the text of [`PageCursor::as_str`].
    pub fn from_token(token: impl Into<String>) -> PageCursor {
        PageCursor(token.into())
    }

    /// The cursor's text, to store and resume from.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PageCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PageCursor({:?})", self.0)
    }
}

/// A request for one page of refunds.
///
/// Filters (status, payment, creation range) are sent to the provider where it filters natively
/// ([`crate::Capabilities`] says which) and applied by the SDK otherwise: then a page may hold fewer
/// items than its limit, even none, and still have a `next`; the stream walks past such pages.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListRefunds {
    limit: Option<u32>,
    cursor: Option<PageCursor>,
    status: Option<RefundStatus>,
    payment: Option<PaymentRef>,
    created_after: Option<OffsetDateTime>,
    created_before: Option<OffsetDateTime>,
}

impl ListRefunds {
    /// The first page with the provider's default page size.
    pub fn new() -> ListRefunds {
        ListRefunds::default()
    }
    /// Page size; each provider checks its own range before sending.
    pub fn limit(mut self, limit: u32) -> ListRefunds {
        self.limit = Some(limit);
        self
    }
    /// Continue after this cursor (from [`Page::next`]).
    pub fn cursor(mut self, cursor: PageCursor) -> ListRefunds {
        self.cursor = Some(cursor);
        self
    }
    /// Only refunds in this status.
    pub fn status(mut self, status: RefundStatus) -> ListRefunds {
        self.status = Some(status);
        self
    }
    /// Only refunds of this payment.
    pub fn payment(mut self, payment: PaymentRef) -> ListRefunds {
        self.payment = Some(payment);
        self
    }
    /// Only refunds created at or after `at` (providers that report no creation time refuse it).
    pub fn created_after(mut self, at: OffsetDateTime) -> ListRefunds {
        self.created_after = Some(at);
        self
    }
    /// Only refunds created before `at`.
    pub fn created_before(mut self, at: OffsetDateTime) -> ListRefunds {
        self.created_before = Some(at);
        self
    }
    /// The payment filter.
    pub fn payment_filter(&self) -> Option<&PaymentRef> {
        self.payment.as_ref()
    }
    /// The creation range: (at or after, before).
    pub fn created_range(&self) -> (Option<OffsetDateTime>, Option<OffsetDateTime>) {
        (self.created_after, self.created_before)
    }

    /// The same request with the filters the provider applies itself (`native`, from
    /// [`Capabilities::list_filters`](crate::Capabilities::list_filters)) kept, and the others removed,
    /// for the SDK to apply to what comes back.
    pub fn native_part(&self, native: ListFilters) -> ListRefunds {
        let mut request = self.clone();
        if !native.status {
            request.status = None;
        }
        if !native.payment {
            request.payment = None;
        }
        if !native.created {
            request.created_after = None;
            request.created_before = None;
        }
        request
    }

    /// Whether `refund` passes every filter of this request. A creation range on a refund that reports
    /// no creation time is an `Unsupported` error: it can be neither kept nor dropped honestly.
    pub fn matches(&self, refund: &Refund) -> Result<bool, Error> {
        if self.status.as_ref().is_some_and(|s| &refund.status != s) {
            return Ok(false);
        }
        if self.payment.as_ref().is_some_and(|p| refund.payment.id() != p.id()) {
            return Ok(false);
        }
        if self.created_after.is_none() && self.created_before.is_none() {
            return Ok(true);
        }
        let Some(at) = refund.created_at else {
            return Err(Error::unsupported(format!(
                "{} reports no creation time: a creation range cannot be applied",
                refund.provider
            ))
            .with_provider(refund.provider.to_string()));
        };
        Ok(self.created_after.is_none_or(|after| at >= after) && self.created_before.is_none_or(|before| at < before))
    }
    /// The page size asked for.
    pub fn limit_requested(&self) -> Option<u32> {
        self.limit
    }
    /// The cursor given.
    pub fn cursor_given(&self) -> Option<&PageCursor> {
        self.cursor.as_ref()
    }
    /// The status filter.
    pub fn status_filter(&self) -> Option<&RefundStatus> {
        self.status.as_ref()
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items, in the provider's order.
    pub items: Vec<T>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<PageCursor>,
    /// How many items the whole list has, where the provider says.
    pub total: Option<u64>,
}

impl<T> Page<T> {
    /// A page.
    pub fn new(items: Vec<T>, next: Option<PageCursor>, total: Option<u64>) -> Page<T> {
        Page { items, next, total }
    }
}

/// Which filters of a [`ListRefunds`] a provider's list applies itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ListFilters {
    /// By status.
    pub status: bool,
    /// By payment.
    pub payment: bool,
    /// By creation time.
    pub created: bool,
}
