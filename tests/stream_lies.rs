//! A stream that cannot be lied to: a fake provider whose list lies in scripted ways (totals, short
//! pages, cursors that do not advance, refunds repeated across pages), walked by offset and by cursor.
//! Every walk must end quickly, with a bounded number of requests, every real item once and in order,
//! or an error that says what the server did.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use refunds::adapter::paging::{id_cursor, offset};
use refunds::{
    Capabilities, CreateRefund, Currency, Delivery, Error, ErrorKind, ListRefunds, Money, Page, PageCursor,
    PagingStyle, PaymentRef, ProviderInfo, RawJson, Refund, RefundId, RefundProvider, RefundProviderExt, RefundStatus,
    Result, StreamOptions, async_trait,
};

const ID: &str = "liar";

/// What the fake answers to one list request: a page, an error, or `None` to never answer.
type Handler = Box<dyn Fn(&ListRefunds) -> Option<Result<Page<Refund>>> + Send + Sync>;

struct Liar {
    info: ProviderInfo,
    handler: Handler,
    requests: AtomicU64,
    /// Requests that are hanging right now (never answered, not yet dropped).
    hanging: Arc<AtomicI64>,
}

impl fmt::Debug for Liar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Liar").field("info", &self.info).finish()
    }
}

impl Liar {
    fn new(
        style: PagingStyle,
        handler: impl Fn(&ListRefunds) -> Option<Result<Page<Refund>>> + Send + Sync + 'static,
    ) -> Liar {
        Liar {
            info: ProviderInfo::new(ID, "Lying Payments", Capabilities::new().list(Some(style))),
            handler: Box::new(handler),
            requests: AtomicU64::new(0),
            hanging: Arc::new(AtomicI64::new(0)),
        }
    }

    fn offset(handler: impl Fn(u64, u64) -> Page<Refund> + Send + Sync + 'static) -> Liar {
        Liar::new(PagingStyle::Offset, move |r| Some(Ok(handler(at(r), limit(r)))))
    }

    fn cursor(handler: impl Fn(Option<u64>) -> Page<Refund> + Send + Sync + 'static) -> Liar {
        Liar::new(PagingStyle::Cursor, move |r| Some(Ok(handler(after(r)))))
    }

    fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }
}

struct Hanging(Arc<AtomicI64>);

impl Drop for Hanging {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[async_trait]
impl RefundProvider for Liar {
    fn info(&self) -> &ProviderInfo {
        &self.info
    }

    async fn create_refund(&self, _request: &CreateRefund) -> Result<Refund> {
        Err(self.info.unsupported("creating refunds"))
    }

    async fn get_refund(&self, _id: &RefundId) -> Result<Refund> {
        Err(self.info.unsupported("retrieving refunds"))
    }

    async fn list_refunds(&self, request: &ListRefunds) -> Result<Page<Refund>> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        // Let the other pages in flight run, as a network would.
        tokio::task::yield_now().await;
        match (self.handler)(request) {
            Some(answer) => answer,
            None => {
                self.hanging.fetch_add(1, Ordering::SeqCst);
                let _guard = Hanging(self.hanging.clone());
                std::future::pending::<()>().await;
                unreachable!()
            }
        }
    }
}

fn refund(i: u64) -> Refund {
    Refund::new(
        RefundId::new(format!("re_{i:06}")).unwrap(),
        ID,
        PaymentRef::payment("pay_1").unwrap(),
        Money::from_minor(100, Currency::USD),
        RefundStatus::Succeeded,
        RawJson::parse("{}").unwrap(),
    )
}

fn number(r: &Refund) -> u64 {
    r.id.as_str().trim_start_matches("re_").parse().unwrap()
}

fn refunds(range: std::ops::Range<u64>) -> Vec<Refund> {
    range.map(refund).collect()
}

fn at(r: &ListRefunds) -> u64 {
    offset::from_cursor(ID, r.cursor_given()).unwrap()
}

fn limit(r: &ListRefunds) -> u64 {
    u64::from(r.limit_requested().unwrap_or(10))
}

/// The number of the refund an id cursor starts after.
fn after(r: &ListRefunds) -> Option<u64> {
    match id_cursor::from_cursor(ID, r.cursor_given()).unwrap() {
        Some(id_cursor::Position::After(id)) => Some(id.trim_start_matches("re_").parse().unwrap()),
        Some(id_cursor::Position::Before(_)) => panic!("walks go forward"),
        None => None,
    }
}

fn after_cursor(i: u64) -> PageCursor {
    id_cursor::after(ID, &format!("re_{i:06}"))
}

/// An honest offset list of `len` refunds that claims `total`.
fn honest(len: u64, total: Option<u64>) -> impl Fn(u64, u64) -> Page<Refund> + Send + Sync + 'static {
    move |at, limit| {
        let end = at.saturating_add(limit).min(len);
        offset::page(ID, refunds(at.min(end)..end), at, total, limit as u32)
    }
}

async fn in_time<T>(f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(5), f)
        .await
        .expect("the walk ended within 5 seconds")
}

/// Walks to the end or the first error; after an error the stream must be over.
async fn walk(p: &Liar, request: ListRefunds, options: StreamOptions) -> (Vec<u64>, Option<Error>) {
    in_time(async {
        let mut s = p.refunds_stream_with(request, options);
        let mut seen = Vec::new();
        while let Some(item) = s.next().await {
            match item {
                Ok(r) => seen.push(number(&r)),
                Err(e) => {
                    assert!(s.next().await.is_none(), "the stream stops at the first error");
                    return (seen, Some(e));
                }
            }
        }
        (seen, None)
    })
    .await
}

fn opts(concurrency: usize) -> StreamOptions {
    StreamOptions::new().concurrency(concurrency)
}

fn assert_lie(e: &Error, says: &str) {
    assert_eq!(e.kind(), &ErrorKind::Decode, "{e}");
    assert_eq!(e.delivery(), Delivery::Rejected, "{e}");
    assert_eq!(e.provider(), Some(ID));
    assert!(e.message().contains(says), "{:?} should say {says:?}", e.message());
}

fn upto(n: u64) -> Vec<u64> {
    (0..n).collect()
}

// ---- offset paging ----

#[tokio::test]
async fn offset_a_total_of_10_to_the_15_with_one_item_pages_is_only_a_hint() {
    // Finding 10: this total once sized a Vec of offsets and aborted the process.
    let p = Liar::offset(honest(u64::MAX, Some(1_000_000_000_000_000)));
    let seen: Vec<u64> = in_time(
        p.refunds_stream(ListRefunds::new().limit(1))
            .take(100)
            .map(|r| number(&r.unwrap()))
            .collect::<Vec<_>>(),
    )
    .await;
    assert_eq!(seen, upto(100));
    assert!(p.requests() <= 100 + 8, "{} requests for 100 pages", p.requests());

    // The same claim over 20 real refunds: the first empty page ends the walk.
    let p = Liar::offset(honest(20, Some(1_000_000_000_000_000)));
    let (seen, err) = walk(&p, ListRefunds::new().limit(1), StreamOptions::new()).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(seen, upto(20));
    assert!(p.requests() <= 21 + 8, "{} requests", p.requests());

    // And a total of u64::MAX.
    let p = Liar::offset(honest(3, Some(u64::MAX)));
    let (seen, err) = walk(&p, ListRefunds::new().limit(1), StreamOptions::new()).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(seen, upto(3));
    assert!(p.requests() <= 4 + 8, "{} requests", p.requests());
}

#[tokio::test]
async fn offset_an_overstated_total_costs_at_most_one_window() {
    for concurrency in [1, 3, 8] {
        let p = Liar::offset(honest(1, Some(1000)));
        let (seen, err) = walk(&p, ListRefunds::new().limit(1), opts(concurrency)).await;
        assert!(err.is_none(), "{err:?}");
        assert_eq!(seen, vec![0]);
        let bound = 1 + concurrency as u64;
        assert!(
            p.requests() <= bound,
            "{} requests with concurrency {concurrency}",
            p.requests()
        );
    }
    // Pages of ten over 25 refunds claiming 1000: the short page at 20 is the end.
    let p = Liar::offset(honest(25, Some(1000)));
    let (seen, err) = walk(&p, ListRefunds::new(), StreamOptions::new()).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(seen, upto(25));
    assert!(p.requests() <= 3 + 8, "{} requests", p.requests());
}

#[tokio::test]
async fn offset_an_empty_page_ends_the_walk_whatever_next_says() {
    // The page at 10 is empty but points on, and the total says there is more.
    let p = Liar::offset(|at, limit| {
        if at == 10 {
            Page::new(Vec::new(), Some(offset::cursor(ID, 20)), Some(100))
        } else {
            honest(100, Some(100))(at, limit)
        }
    });
    let (seen, err) = walk(&p, ListRefunds::new(), StreamOptions::new()).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(seen, upto(10));
    assert!(p.requests() <= 1 + 8, "{} requests", p.requests());
}

#[tokio::test]
async fn offset_a_short_page_in_the_middle_loses_nothing() {
    // Finding 11: 30 refunds, and the page at offset 10 comes back with 5.
    for concurrency in [1, 2, 3, 8, 16] {
        let p = Liar::offset(|at, limit| {
            let limit = if at == 10 { 5 } else { limit };
            honest(30, Some(30))(at, limit)
        });
        let (seen, err) = walk(&p, ListRefunds::new(), opts(concurrency)).await;
        assert!(err.is_none(), "{err:?}");
        assert_eq!(
            seen,
            upto(30),
            "every refund once, in order (concurrency {concurrency})"
        );
        assert!(p.requests() <= 4 + 2 * 8, "{} requests", p.requests());
    }
}

#[tokio::test]
async fn offset_pages_that_never_line_up_lose_nothing_and_waste_little() {
    // Every page after the first is shorter than the first (7 of 10), and the total is overstated.
    let p = Liar::offset(|at, limit| {
        let limit = if at == 0 { limit } else { 7 };
        honest(200, Some(400))(at, limit)
    });
    let (seen, err) = walk(&p, ListRefunds::new(), StreamOptions::new()).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(seen, upto(200));
    let useful = 1 + (190u64).div_ceil(7) + 1; // the first page, the 7s, the empty page (at most)
    assert!(
        p.requests() <= 2 * useful + 8,
        "{} requests for {useful} pages",
        p.requests()
    );

    // A short first page followed by full ones: the window learns the longer stride.
    let p = Liar::offset(|at, limit| {
        let limit = if at == 0 { 5 } else { limit };
        honest(95, Some(95))(at, limit)
    });
    let (seen, err) = walk(&p, ListRefunds::new(), StreamOptions::new()).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(seen, upto(95));
    assert!(p.requests() <= 2 * 10 + 8, "{} requests", p.requests());
}

#[tokio::test]
async fn offset_a_refund_repeated_across_pages_is_an_error() {
    // The page at 10 starts one refund early (9..19).
    let p = Liar::offset(|at, limit| {
        if at == 10 {
            offset::page(ID, refunds(9..19), at, Some(30), 10)
        } else {
            honest(30, Some(30))(at, limit)
        }
    });
    let (seen, err) = walk(&p, ListRefunds::new(), StreamOptions::new()).await;
    assert_eq!(seen, upto(10), "the items before the lie, once");
    assert_lie(&err.expect("an error"), "id again (item 1 of the page)");
    assert!(p.requests() <= 1 + 8);

    // A refund repeated within one page.
    let p = Liar::offset(|at, _| {
        let mut items = refunds(0..3);
        items.push(refund(1));
        offset::page(ID, items, at, Some(4), 10)
    });
    let (seen, err) = walk(&p, ListRefunds::new(), StreamOptions::new()).await;
    assert!(seen.is_empty());
    assert_lie(&err.expect("an error"), "id again (item 4 of the page)");
}

#[tokio::test]
async fn offset_a_server_that_ignores_the_offset_is_an_error_not_a_loop() {
    let p = Liar::offset(|_at, limit| offset::page(ID, refunds(0..limit), 0, Some(1_000_000), limit as u32));
    let (seen, err) = walk(&p, ListRefunds::new(), StreamOptions::new()).await;
    assert_eq!(seen, upto(10));
    assert_lie(&err.expect("an error"), "again");
    assert!(p.requests() <= 1 + 8, "{} requests", p.requests());
}

#[tokio::test]
async fn offset_a_next_offset_that_does_not_advance_is_an_error() {
    // Fresh refunds, but the page at 10 says the next page is at 10 again (then at 5).
    for back_to in [10, 5] {
        let p = Liar::offset(move |at, limit| {
            let mut page = honest(1_000, Some(1_000))(at, limit);
            if at == 10 {
                page.next = Some(offset::cursor(ID, back_to));
            }
            page
        });
        for concurrency in [1, 8] {
            let (seen, err) = walk(&p, ListRefunds::new(), opts(concurrency)).await;
            assert_eq!(seen, upto(10));
            assert_lie(&err.expect("an error"), "does not advance");
        }
    }
}

#[tokio::test]
async fn offset_a_page_cap_ends_with_an_error_saying_so() {
    let p = Liar::offset(honest(30, Some(30)));
    let (seen, err) = walk(&p, ListRefunds::new(), StreamOptions::new().max_pages(2)).await;
    assert_eq!(seen, upto(20));
    let e = err.expect("the cap is an error, not a silent end");
    assert!(e.message().contains("max_pages"), "{}", e.message());
    assert!(e.message().contains("2 pages"), "{}", e.message());
    assert!(p.requests() <= 2);

    // A list that ends within the cap ends normally: its last page came back full at the total, and a
    // total may lag the list, so one more (empty) page ends it.
    let p = Liar::offset(honest(30, Some(30)));
    let (seen, err) = walk(&p, ListRefunds::new(), StreamOptions::new().max_pages(4)).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(seen, upto(30));
    assert_eq!(p.requests(), 4);

    // An endless list of fresh refunds is bounded by the cap alone.
    let p = Liar::offset(honest(u64::MAX, None));
    let (seen, err) = walk(&p, ListRefunds::new().limit(1), StreamOptions::new().max_pages(50)).await;
    assert_eq!(seen, upto(50));
    assert!(err.expect("capped").message().contains("max_pages"));
    assert_eq!(p.requests(), 50);
}

#[tokio::test]
async fn offset_an_error_stops_the_walk_and_a_dropped_stream_cancels_its_fetches() {
    let p = Liar::new(PagingStyle::Offset, |r| {
        let (at, limit) = (at(r), limit(r));
        if at == 20 {
            Some(Err(Error::decode("page 3 is broken")))
        } else {
            Some(Ok(honest(100, Some(100))(at, limit)))
        }
    });
    let (seen, err) = walk(&p, ListRefunds::new(), StreamOptions::new()).await;
    assert_eq!(seen, upto(20));
    assert_eq!(err.expect("the error").message(), "page 3 is broken");

    // Everything after the first page hangs; dropping the stream drops the fetches in flight.
    let p = Liar::new(PagingStyle::Offset, |r| {
        let (at, limit) = (at(r), limit(r));
        (at == 0).then(|| Ok(honest(100, Some(100))(at, limit)))
    });
    let mut s = p.refunds_stream(ListRefunds::new());
    for i in 0..10 {
        let item = in_time(s.next()).await.expect("an item").expect("ok");
        assert_eq!(number(&item), i);
    }
    let waited = tokio::time::timeout(Duration::from_millis(100), s.next()).await;
    assert!(waited.is_err(), "the next page never comes");
    let hanging = p.hanging.load(Ordering::SeqCst);
    assert!((1..=8).contains(&hanging), "{hanging} pages in flight");
    drop(s);
    assert_eq!(p.hanging.load(Ordering::SeqCst), 0, "dropping the stream cancels them");
    assert!(p.requests() <= 1 + 8);
}

#[tokio::test]
async fn offset_style_with_opaque_cursors_is_walked_one_page_after_the_other() {
    // Says offset paging, but its cursors are id cursors: no planning, still every item once.
    let p = Liar::new(PagingStyle::Offset, |r| {
        let start = match id_cursor::from_cursor(ID, r.cursor_given()).unwrap() {
            Some(id_cursor::Position::After(id)) => id.trim_start_matches("re_").parse::<u64>().unwrap() + 1,
            _ => 0,
        };
        let end = (start + 4).min(10);
        let mut page = id_cursor::page(ID, refunds(start..end), |r| r.id.as_str(), Some(end < 10), 4);
        page.total = Some(1_000_000);
        Some(Ok(page))
    });
    let (seen, err) = walk(&p, ListRefunds::new(), StreamOptions::new()).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(seen, upto(10));
    assert_eq!(p.requests(), 3);
}

// ---- cursor paging ----

/// An honest cursor list of `len` refunds in pages of `sizes` (cycled), claiming a total of 10^15.
fn honest_cursor(len: u64, sizes: &'static [u64]) -> impl Fn(Option<u64>) -> Page<Refund> + Send + Sync + 'static {
    move |after| {
        let start = after.map_or(0, |a| a + 1);
        let size = sizes[(start as usize) % sizes.len()];
        let end = (start + size).min(len);
        let mut page = id_cursor::page(ID, refunds(start..end), |r| r.id.as_str(), Some(end < len), 100);
        page.total = Some(1_000_000_000_000_000);
        page
    }
}

#[tokio::test]
async fn cursor_short_pages_and_a_huge_total_lose_nothing() {
    let p = Liar::cursor(honest_cursor(30, &[3, 1, 5, 2]));
    let (seen, err) = walk(&p, ListRefunds::new(), StreamOptions::new()).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(seen, upto(30));
    assert!(p.requests() <= 30, "sequential: one request per page");
}

#[tokio::test]
async fn cursor_a_repeated_next_cursor_is_an_error_not_a_loop() {
    // Fresh refunds every time, but the cursor after the second page is the one it was asked with.
    let p = Liar::new(PagingStyle::Cursor, |r| {
        let page = match after(r) {
            None => Page::new(refunds(0..2), Some(after_cursor(1)), None),
            Some(_) => Page::new(refunds(2..4), Some(after_cursor(1)), None),
        };
        Some(Ok(page))
    });
    let (seen, err) = walk(&p, ListRefunds::new(), StreamOptions::new()).await;
    assert_eq!(seen, upto(2));
    assert_lie(&err.expect("an error"), "same next cursor");
    assert_eq!(p.requests(), 2);
}

#[tokio::test]
async fn cursor_a_server_that_ignores_starting_after_is_an_error_not_a_loop() {
    let p = Liar::cursor(|_after| Page::new(refunds(0..2), Some(after_cursor(1)), None));
    let (seen, err) = walk(&p, ListRefunds::new(), StreamOptions::new()).await;
    assert_eq!(seen, upto(2));
    assert_lie(&err.expect("an error"), "again");
    assert_eq!(p.requests(), 2);
}

#[tokio::test]
async fn cursor_a_cycle_of_cursors_is_an_error_not_a_loop() {
    // A -> B -> A with fresh refunds on every request: only the cursors give the lie away.
    let calls = AtomicU64::new(0);
    let p = Liar::new(PagingStyle::Cursor, move |r| {
        let n = calls.fetch_add(1, Ordering::SeqCst);
        let next = match r.cursor_given().map(PageCursor::as_str) {
            None | Some("liar:x:b") => "liar:x:a",
            Some(_) => "liar:x:b",
        };
        Some(Ok(Page::new(vec![refund(n)], Some(PageCursor::from_token(next)), None)))
    });
    let (seen, err) = walk(&p, ListRefunds::new(), StreamOptions::new()).await;
    assert_eq!(seen, upto(2));
    assert_lie(&err.expect("an error"), "already followed");
    assert_eq!(p.requests(), 3);
}

#[tokio::test]
async fn cursor_a_refund_repeated_across_pages_is_an_error() {
    let p = Liar::cursor(|after| match after {
        None => Page::new(refunds(0..3), Some(after_cursor(2)), None),
        Some(_) => Page::new(refunds(2..5), Some(after_cursor(4)), None),
    });
    let (seen, err) = walk(&p, ListRefunds::new(), StreamOptions::new()).await;
    assert_eq!(seen, upto(3));
    assert_lie(&err.expect("an error"), "id again (item 1 of the page)");
    assert_eq!(p.requests(), 2);
}

#[tokio::test]
async fn cursor_an_empty_page_ends_the_walk_whatever_next_says() {
    let p = Liar::cursor(|after| match after {
        None => Page::new(refunds(0..3), Some(after_cursor(2)), None),
        Some(a) => Page::new(Vec::new(), Some(after_cursor(a + 10)), Some(1000)),
    });
    let (seen, err) = walk(&p, ListRefunds::new(), StreamOptions::new()).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(seen, upto(3));
    assert_eq!(p.requests(), 2);
}

#[tokio::test]
async fn cursor_a_page_cap_ends_with_an_error_saying_so() {
    // An endless list of fresh refunds and fresh cursors.
    let p = Liar::cursor(honest_cursor(u64::MAX, &[2]));
    let (seen, err) = walk(&p, ListRefunds::new(), StreamOptions::new().max_pages(4)).await;
    assert_eq!(seen, upto(8));
    let e = err.expect("capped");
    assert!(
        e.message().contains("max_pages") && e.message().contains("4 pages"),
        "{}",
        e.message()
    );
    assert_eq!(p.requests(), 4);

    // Within the cap: a normal end.
    let p = Liar::cursor(honest_cursor(8, &[2]));
    let (seen, err) = walk(&p, ListRefunds::new(), StreamOptions::new().max_pages(4)).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(seen, upto(8));
}

#[tokio::test]
async fn all_refunds_returns_the_error_of_a_lying_server() {
    let p = Liar::cursor(|_after| Page::new(refunds(0..2), Some(after_cursor(1)), None));
    let e = in_time(p.all_refunds(ListRefunds::new())).await.expect_err("a lie");
    assert_eq!(e.kind(), &ErrorKind::Decode);
}
