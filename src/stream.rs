//! Walking a whole list as one `Stream`, fetching offset pages concurrently and in order.

use std::pin::Pin;

use async_trait::async_trait;
use futures_core::Stream;
use futures_util::stream::{self, StreamExt};

use crate::adapter::paging::offset;
use crate::error::Result;
use crate::model::{ListRefunds, Page, PageCursor, Refund};
use crate::provider::{PagingStyle, RefundProvider};

/// A boxed, `Send` stream.
pub type BoxStream<'a, T> = Pin<Box<dyn Stream<Item = T> + Send + 'a>>;

/// How [`RefundProviderExt::refunds_stream_with`] fetches pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamOptions {
    /// Pages fetched at once when the provider pages by offset and reports a total (default 8).
    /// Cursor-paged providers are always walked one page after the other.
    pub concurrency: usize,
}

impl StreamOptions {
    /// The defaults.
    pub fn new() -> StreamOptions {
        StreamOptions { concurrency: 8 }
    }
    /// Sets the number of pages in flight (at least 1).
    pub fn concurrency(mut self, n: usize) -> StreamOptions {
        self.concurrency = n.max(1);
        self
    }
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions::new()
    }
}

/// Auto-pagination for every [`RefundProvider`].
#[async_trait]
pub trait RefundProviderExt: RefundProvider {
    /// Every refund from `request`'s position to the end, each once, in the provider's order.
    fn refunds_stream(&self, request: ListRefunds) -> BoxStream<'_, Result<Refund>> {
        self.refunds_stream_with(request, StreamOptions::new())
    }

    /// Like [`RefundProviderExt::refunds_stream`] with explicit options.
    fn refunds_stream_with(&self, request: ListRefunds, options: StreamOptions) -> BoxStream<'_, Result<Refund>> {
        pages(self, request, options)
            .flat_map(|page| {
                let items: Vec<Result<Refund>> = match page {
                    Ok(page) => page.items.into_iter().map(Ok).collect(),
                    Err(e) => vec![Err(e)],
                };
                stream::iter(items)
            })
            .boxed()
    }

    /// Collects the whole list (convenient for small accounts and tests).
    async fn all_refunds(&self, request: ListRefunds) -> Result<Vec<Refund>> {
        let mut out = Vec::new();
        let mut s = self.refunds_stream(request);
        while let Some(item) = s.next().await {
            out.push(item?);
        }
        Ok(out)
    }
}

impl<P: RefundProvider + ?Sized> RefundProviderExt for P {}

enum Walk<'a> {
    /// The next page to fetch one at a time (`None` cursor on the very first).
    Sequential {
        request: ListRefunds,
        first: bool,
    },
    /// Planned offset pages in flight; afterwards continue from the last page's `next`.
    Planned {
        pages: BoxStream<'a, Result<Page<Refund>>>,
        request: ListRefunds,
        last_next: Option<PageCursor>,
    },
    Done,
}

fn pages<'a, P: RefundProvider + ?Sized>(
    provider: &'a P,
    request: ListRefunds,
    options: StreamOptions,
) -> BoxStream<'a, Result<Page<Refund>>> {
    let start = Walk::Sequential { request, first: true };
    stream::unfold(start, move |state| async move {
        match state {
            Walk::Done => None,
            Walk::Sequential { request, first } => match provider.list_refunds(&request).await {
                Err(e) => Some((Err(e), Walk::Done)),
                Ok(page) => {
                    let next_state = if first {
                        plan(provider, &request, &page, options)
                    } else {
                        None
                    };
                    let next_state = next_state.unwrap_or_else(|| match &page.next {
                        Some(cursor) => Walk::Sequential {
                            request: request.clone().cursor(cursor.clone()),
                            first: false,
                        },
                        None => Walk::Done,
                    });
                    Some((Ok(page), next_state))
                }
            },
            Walk::Planned {
                mut pages,
                request,
                last_next,
            } => match pages.next().await {
                Some(Ok(page)) => {
                    let last_next = page.next.clone();
                    Some((
                        Ok(page),
                        Walk::Planned {
                            pages,
                            request,
                            last_next,
                        },
                    ))
                }
                Some(Err(e)) => Some((Err(e), Walk::Done)),
                None => match last_next {
                    // The list grew while it was read: go on one page at a time.
                    Some(cursor) => {
                        let request = request.cursor(cursor);
                        match provider.list_refunds(&request).await {
                            Err(e) => Some((Err(e), Walk::Done)),
                            Ok(page) => {
                                let state = match &page.next {
                                    Some(c) => Walk::Sequential {
                                        request: request.clone().cursor(c.clone()),
                                        first: false,
                                    },
                                    None => Walk::Done,
                                };
                                Some((Ok(page), state))
                            }
                        }
                    }
                    None => None,
                },
            },
        }
    })
    .boxed()
}

/// After the first page of an offset-paged list with a total, plans the remaining offsets and fetches
/// them `concurrency` at a time, yielding them in order.
fn plan<'a, P: RefundProvider + ?Sized>(
    provider: &'a P,
    request: &ListRefunds,
    first: &Page<Refund>,
    options: StreamOptions,
) -> Option<Walk<'a>> {
    let info = provider.info();
    if info.capabilities.list != Some(PagingStyle::Offset) || options.concurrency < 2 {
        return None;
    }
    let total = first.total?;
    let next = first.next.as_ref()?;
    let page_len = first.items.len() as u64;
    let start = offset::from_cursor(info.id, Some(next)).ok()?;
    if page_len == 0 || start >= total {
        return None;
    }
    let offsets: Vec<u64> = (start..total).step_by(usize::try_from(page_len).ok()?).collect();
    let template = request.clone();
    let id = info.id;
    let fetches = stream::iter(offsets)
        .map(move |o| {
            let request = template.clone().cursor(offset::cursor(id, o));
            async move { provider.list_refunds(&request).await }
        })
        .buffered(options.concurrency)
        .boxed();
    Some(Walk::Planned {
        pages: fetches,
        request: request.clone(),
        last_next: None,
    })
}
