//! Walking a whole list as one `Stream`, fetching offset pages concurrently and in order, without
//! trusting any number the server sends (see [`RefundProviderExt`]).

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::hash::{BuildHasher, Hash, RandomState};
use std::pin::Pin;

use async_trait::async_trait;
use futures_core::Stream;
use futures_util::stream::{self, FuturesOrdered, StreamExt};

use crate::adapter::paging::offset;
use crate::error::{Delivery, Error, ErrorKind, Result};
use crate::ids::RefundId;
use crate::model::{ListRefunds, Page, PageCursor, Refund};
use crate::provider::{PagingStyle, RefundProvider};

/// A boxed, `Send` stream.
pub type BoxStream<'a, T> = Pin<Box<dyn Stream<Item = T> + Send + 'a>>;

/// How many of the most recently yielded refund ids a stream remembers to detect a page that
/// repeats one (a server fault: two refunds never share an id).
const RECENT_IDS: usize = 4096;

/// How many of the most recently followed opaque (non-offset) cursors a stream remembers to detect
/// a cursor that does not advance or cycles.
const RECENT_CURSORS: usize = 1024;

/// How [`RefundProviderExt::refunds_stream_with`] fetches pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamOptions {
    /// Pages fetched at once when the provider pages by offset and reports a total (default 8).
    /// Cursor-paged providers are always walked one page after the other.
    pub concurrency: usize,
    /// The most list requests one stream sends, speculative offset pages included (default: no
    /// cap). When the walk needs one more page than this, the stream ends with an error saying so
    /// after yielding everything fetched so far; a list that ends within the cap ends normally.
    pub max_pages: Option<u64>,
}

impl StreamOptions {
    /// The defaults: 8 offset pages in flight, no cap on pages.
    ///
    /// No cap by default because a walk cannot loop on a lying server without one: offsets must
    /// increase, cursors and ids must not repeat, and an empty page ends the walk; what is left is a
    /// server that keeps inventing new refunds, which the caller bounds by how far it reads (or with
    /// [`StreamOptions::max_pages`]).
    pub fn new() -> StreamOptions {
        StreamOptions {
            concurrency: 8,
            max_pages: None,
        }
    }
    /// Sets the number of pages in flight (at least 1).
    pub fn concurrency(mut self, n: usize) -> StreamOptions {
        self.concurrency = n.max(1);
        self
    }
    /// Caps the list requests one stream sends (at least 1); see the `max_pages` field.
    pub fn max_pages(mut self, n: u64) -> StreamOptions {
        self.max_pages = Some(n.max(1));
        self
    }
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions::new()
    }
}

/// Auto-pagination for every [`RefundProvider`].
///
/// # Nothing from the wire drives an allocation, a loop or a request count
///
/// A provider's answers are hints, never plans:
///
/// - **The total is a hint.** Offset pages are planned lazily, a bounded window at a time: at most
///   [`StreamOptions::concurrency`] pages are in flight, each offset is made when its fetch is sent,
///   and nothing is sized from the total. Speculative pages are only planned below the total; the
///   page the server's own `next` points to is always fetched (a list may grow while it is read).
/// - **An empty page ends the stream**, whatever its `next` and the total say.
/// - **A page's own `next` is where the walk continues.** A page fetched ahead is only used when it
///   was requested at exactly the previous page's `next`; otherwise (a short page in the middle, a
///   page that advances further than planned) the pages planned after it are dropped (cancelled),
///   the window restarts at that `next` one page wide and doubles with each page that lands where it
///   was planned, back up to `concurrency`. So every item is yielded once, in order, and a server
///   whose pages never line up costs at most about one wasted request per useful page.
/// - **A walk that does not advance is an error, not a loop.** An offset cursor must move strictly
///   forward; an opaque cursor must differ from the last 1,024 cursors followed; a page must not
///   repeat a refund id among the last 4,096 ids yielded (nor within itself). These errors are
///   [`ErrorKind::Decode`] with [`Delivery::Rejected`], name the provider and say what the server
///   did; the offending page's items are not yielded.
/// - **The memory these checks keep is bounded**: first-in-first-out sets of the last 4,096
///   refund ids and the last 1,024 opaque cursors. Offsets need no memory (they must increase). A
///   repeat older than the id window is not seen by the id check, and a cursor cycle longer than the
///   cursor window is not seen either: to bound a walk whatever the server does, set
///   [`StreamOptions::max_pages`], which ends the stream with an error when it is reached.
#[async_trait]
pub trait RefundProviderExt: RefundProvider {
    /// Every refund from `request`'s position to the end, each once, in the provider's order.
    ///
    /// The stream stops at the first error. A server that lies about its list (a cursor that does not
    /// advance, a refund repeated across pages) gives an [`ErrorKind::Decode`] error instead of a
    /// loop; see the [trait documentation](RefundProviderExt) for what is checked and what is
    /// bounded. Dropping the stream cancels the pages in flight.
    fn refunds_stream(&self, request: ListRefunds) -> BoxStream<'_, Result<Refund>> {
        self.refunds_stream_with(request, StreamOptions::new())
    }

    /// Like [`RefundProviderExt::refunds_stream`] with explicit options.
    fn refunds_stream_with(&self, request: ListRefunds, options: StreamOptions) -> BoxStream<'_, Result<Refund>> {
        // Filters the provider does not apply are applied to the items here, so the walk itself sees
        // whole pages (a page filtered down to nothing is not the end of the list).
        let native = request.native_part(self.info().capabilities.list_filters());
        let local = (native != request).then_some(request);
        pages(self, native, options)
            .flat_map(move |page| {
                let items: Vec<Result<Refund>> = match page {
                    Ok(page) => page
                        .items
                        .into_iter()
                        .filter_map(|refund| match &local {
                            None => Some(Ok(refund)),
                            Some(filter) => match filter.matches(&refund) {
                                Ok(true) => Some(Ok(refund)),
                                Ok(false) => None,
                                Err(e) => Some(Err(e)),
                            },
                        })
                        .collect(),
                    Err(e) => vec![Err(e)],
                };
                stream::iter(items)
            })
            // The first error ends the stream, a filter's as much as a page's.
            .scan(false, |failed, item| {
                let next = if *failed {
                    None
                } else {
                    *failed = item.is_err();
                    Some(item)
                };
                std::future::ready(next)
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

/// A first-in-first-out set holding at most `cap` values: each value is stored once, in arrival
/// order, and found through a set of keyed 64-bit hashes (a hit is confirmed against the values, so
/// a hash collision never reports a repeat). Two full copies (a hash set of the values beside the
/// queue) cost about 560 KB at 4,096 refund ids; this about 300 KB.
struct Recent<T> {
    hasher: RandomState,
    hashes: HashSet<u64>,
    order: VecDeque<T>,
    cap: usize,
}

impl<T: Hash + Eq> Recent<T> {
    fn new(cap: usize) -> Recent<T> {
        Recent {
            hasher: RandomState::new(),
            hashes: HashSet::new(),
            order: VecDeque::new(),
            cap,
        }
    }

    fn contains(&self, value: &T) -> bool {
        self.holds(self.hasher.hash_one(value), value)
    }

    fn holds(&self, hash: u64, value: &T) -> bool {
        self.hashes.contains(&hash) && self.order.contains(value)
    }

    /// Adds `value`; false (and nothing added) when it is already held.
    fn insert(&mut self, value: T) -> bool {
        let hash = self.hasher.hash_one(&value);
        if self.holds(hash, &value) {
            return false;
        }
        self.hashes.insert(hash);
        self.order.push_back(value);
        if self.order.len() > self.cap {
            if let Some(old) = self.order.pop_front() {
                // A colliding value still queued loses its hash with it: a repeat of it goes unseen,
                // never a value reported as repeated that was not.
                self.hashes.remove(&self.hasher.hash_one(&old));
            }
        }
        true
    }
}

/// A page fetch in flight, tagged with the offset it was requested at (offset walks only).
type Fetch<'a> = Pin<Box<dyn Future<Output = (Option<u64>, Result<Page<Refund>>)> + Send + 'a>>;

/// How the walk moves from one page to the next.
enum Mode {
    /// Offset cursors: pages may be fetched ahead, within a window.
    Offset {
        /// The offset the next speculative page will be requested at.
        next_plan: u64,
        /// Speculative pages are planned below this (the server's total, a hint; 0 without one).
        plan_end: u64,
        /// The distance between planned offsets: the largest advance a page has made.
        stride: u64,
        /// Pages allowed in flight now (1 to `concurrency`).
        width: usize,
        /// True until the first page has come back.
        first: bool,
    },
    /// Opaque cursors (or offset cursors the walk could not read): one page after the other.
    Cursor {
        /// The cursor of the page in flight (`None` for a first page without one).
        requested: Option<PageCursor>,
    },
}

struct Walker<'a, P: ?Sized> {
    provider: &'a P,
    id: &'static str,
    template: ListRefunds,
    options: StreamOptions,
    mode: Mode,
    /// Fetches in flight, in walk order, and their offsets (offset walks).
    window: FuturesOrdered<Fetch<'a>>,
    in_flight: VecDeque<Option<u64>>,
    /// List requests sent so far.
    requests: u64,
    ids: Recent<RefundId>,
    cursors: Recent<PageCursor>,
    /// An error to yield once the pages before it are out (the page cap).
    pending: Option<Error>,
    done: bool,
}

fn lie(provider: &str, message: String) -> Error {
    Error::new(ErrorKind::Decode, Delivery::Rejected, message).with_provider(provider)
}

impl<'a, P: RefundProvider + ?Sized> Walker<'a, P> {
    fn new(provider: &'a P, request: ListRefunds, options: StreamOptions) -> Walker<'a, P> {
        let info = provider.info();
        let id = info.id;
        let start = if info.capabilities.list == Some(PagingStyle::Offset) {
            offset::from_cursor(id, request.cursor_given()).ok()
        } else {
            None
        };
        let mode = match start {
            Some(start) => Mode::Offset {
                next_plan: start,
                plan_end: 0,
                stride: 0,
                width: options.concurrency.max(1),
                first: true,
            },
            None => Mode::Cursor {
                requested: request.cursor_given().cloned(),
            },
        };
        let mut walker = Walker {
            provider,
            id,
            template: request.clone(),
            options,
            mode,
            window: FuturesOrdered::new(),
            in_flight: VecDeque::new(),
            requests: 0,
            ids: Recent::new(RECENT_IDS),
            cursors: Recent::new(RECENT_CURSORS),
            pending: None,
            done: false,
        };
        if let Some(cursor) = request.cursor_given() {
            walker.cursors.insert(cursor.clone());
        }
        walker.send(start, request);
        walker
    }

    fn cap_reached(&self) -> bool {
        self.options.max_pages.is_some_and(|max| self.requests >= max)
    }

    fn cap_error(&self) -> Error {
        let max = self.options.max_pages.unwrap_or_default();
        Error::new(
            ErrorKind::Other,
            Delivery::NotSent,
            format!("stopped after {max} pages (StreamOptions::max_pages) with more of the list left to read"),
        )
        .with_provider(self.id)
    }

    fn send(&mut self, at: Option<u64>, request: ListRefunds) {
        let provider = self.provider;
        self.requests += 1;
        self.in_flight.push_back(at);
        self.window
            .push_back(Box::pin(async move { (at, provider.list_refunds(&request).await) }));
    }

    /// Sends the request for the page at `offset`.
    fn send_offset(&mut self, at: u64) {
        let request = self.template.clone().cursor(offset::cursor(self.id, at));
        self.send(Some(at), request);
    }

    /// Ends the walk, cancelling whatever is in flight.
    fn finish(&mut self) {
        self.done = true;
        self.window = FuturesOrdered::new();
        self.in_flight.clear();
    }

    /// Drops the speculative pages in flight.
    fn discard_window(&mut self) {
        self.window = FuturesOrdered::new();
        self.in_flight.clear();
    }

    async fn step(&mut self) -> Option<Result<Page<Refund>>> {
        if let Some(e) = self.pending.take() {
            self.finish();
            return Some(Err(e));
        }
        if self.done {
            return None;
        }
        let Some((at, result)) = self.window.next().await else {
            self.done = true;
            return None;
        };
        self.in_flight.pop_front();
        let page = match result {
            Ok(page) => page,
            Err(e) => {
                self.finish();
                return Some(Err(e));
            }
        };
        match self.accept(at, &page) {
            Ok(()) => Some(Ok(page)),
            Err(e) => {
                self.finish();
                Some(Err(e))
            }
        }
    }

    /// Checks a page that came back and schedules what follows it (or ends the walk).
    fn accept(&mut self, at: Option<u64>, page: &Page<Refund>) -> Result<()> {
        if page.items.is_empty() {
            // An empty page ends the walk, whatever its `next` and the total claim.
            self.finish();
            return Ok(());
        }
        for (position, item) in page.items.iter().enumerate() {
            if !self.ids.insert(item.id.clone()) {
                // The id itself is server text (it could even echo a key): the position says which.
                return Err(lie(
                    self.id,
                    format!(
                        "the provider returned a refund id again (item {} of the page): a page repeated a refund the \
                         stream had already yielded",
                        position + 1
                    ),
                ));
            }
        }
        let Some(next) = page.next.clone() else {
            self.finish();
            return Ok(());
        };
        match &mut self.mode {
            Mode::Offset { first, .. } => {
                let at = at.unwrap_or_default();
                let is_first = std::mem::replace(first, false);
                match offset::from_cursor(self.id, Some(&next)) {
                    Ok(n) => self.after_offset_page(at, n, page.total),
                    // A provider that says it pages by offset but whose cursors are something else:
                    // follow them one at a time like any opaque cursor.
                    Err(_) if is_first => {
                        self.mode = Mode::Cursor { requested: None };
                        self.follow_cursor(next)
                    }
                    Err(_) => Err(lie(
                        self.id,
                        format!("the provider's next cursor after offset {at} is not an offset cursor"),
                    )),
                }
            }
            Mode::Cursor { requested } => {
                if requested.as_ref() == Some(&next) {
                    return Err(lie(
                        self.id,
                        "the provider returned the same next cursor as the page it answered: the walk does not advance"
                            .to_owned(),
                    ));
                }
                self.follow_cursor(next)
            }
        }
    }

    fn follow_cursor(&mut self, next: PageCursor) -> Result<()> {
        if self.cursors.contains(&next) {
            return Err(lie(
                self.id,
                "the provider returned a next cursor the stream had already followed: the walk goes in a circle"
                    .to_owned(),
            ));
        }
        if self.cap_reached() {
            self.pending = Some(self.cap_error());
            return Ok(());
        }
        self.cursors.insert(next.clone());
        self.mode = Mode::Cursor {
            requested: Some(next.clone()),
        };
        let request = self.template.clone().cursor(next);
        self.send(None, request);
        Ok(())
    }

    /// After the page at offset `at` whose `next` is offset `n`: keep the window if its next page is
    /// the one at `n`, else restart it there; then fill it.
    fn after_offset_page(&mut self, at: u64, n: u64, total: Option<u64>) -> Result<()> {
        if n <= at {
            return Err(lie(
                self.id,
                format!("the provider's next offset {n} does not advance past the page's own offset {at}"),
            ));
        }
        let concurrency = self.options.concurrency.max(1);
        let aligned = match self.in_flight.front() {
            Some(front) => *front == Some(n),
            None => true,
        };
        if !aligned {
            // A short page (or one that went further than planned): the pages planned after it do
            // not start where it ends. Drop them and go on from where the server said.
            self.discard_window();
        }
        let Mode::Offset {
            next_plan,
            plan_end,
            stride,
            width,
            ..
        } = &mut self.mode
        else {
            return Ok(());
        };
        if let Some(total) = total {
            *plan_end = total.min(offset::MAX_OFFSET);
        }
        *stride = (*stride).max(n - at);
        *width = if aligned { (*width * 2).min(concurrency) } else { 1 };
        let (stride, width, plan_end) = (*stride, *width, *plan_end);
        let mut plan = if self.in_flight.is_empty() { n } else { *next_plan };
        while self.in_flight.len() < width {
            // The page at `n` is certain (the server said so); pages after it are speculative and
            // only planned below the total.
            let certain = self.in_flight.is_empty();
            if !certain && plan >= plan_end {
                break;
            }
            if self.cap_reached() {
                if certain {
                    self.pending = Some(self.cap_error());
                }
                break;
            }
            self.send_offset(plan);
            plan = plan.saturating_add(stride);
        }
        if let Mode::Offset { next_plan, .. } = &mut self.mode {
            *next_plan = plan;
        }
        Ok(())
    }
}

fn pages<'a, P: RefundProvider + ?Sized>(
    provider: &'a P,
    request: ListRefunds,
    options: StreamOptions,
) -> BoxStream<'a, Result<Page<Refund>>> {
    let walker = Walker::new(provider, request, options);
    stream::unfold(walker, |mut walker| async move {
        let page = walker.step().await?;
        Some((page, walker))
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::Recent;

    #[test]
    fn recent_keeps_the_last_values_once_each() {
        let mut recent = Recent::new(3);
        for value in ["a", "b", "c"] {
            assert!(recent.insert(value.to_owned()), "{value} is new");
        }
        assert!(!recent.insert("b".to_owned()), "b is held already");
        assert_eq!(recent.order.len(), 3, "a value already held is not queued again");
        assert!(recent.insert("d".to_owned()));
        assert!(!recent.contains(&"a".to_owned()), "the oldest value leaves first");
        for value in ["b", "c", "d"] {
            assert!(recent.contains(&value.to_owned()), "{value}");
        }
        assert!(!recent.contains(&"e".to_owned()));
        assert_eq!(recent.hashes.len(), 3, "the hashes leave with their values");
    }
}
