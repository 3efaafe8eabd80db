//! Paging helpers: offset and cursor positions packed into the opaque [`PageCursor`].
//!
//! A cursor's text is `<provider>:<style>:<value>`, so a cursor from another provider, or of the
//! other style, is refused before anything is sent.

use crate::error::{Error, Result};
use crate::model::{Page, PageCursor};

const OFFSET: &str = "o";
const AFTER: &str = "a";
const BEFORE: &str = "b";

fn encode(provider: &str, style: &str, value: &str) -> PageCursor {
    PageCursor::from_token(format!("{provider}:{style}:{value}"))
}

fn decode<'c>(provider: &str, cursor: &'c PageCursor) -> Result<(&'c str, &'c str)> {
    let foreign = || Error::invalid_request("cursor", format!("not a {provider} cursor"));
    let rest = cursor
        .as_str()
        .strip_prefix(provider)
        .and_then(|r| r.strip_prefix(':'))
        .ok_or_else(foreign)?;
    rest.split_once(':').filter(|(_, v)| !v.is_empty()).ok_or_else(foreign)
}

/// Offset paging (`limit` + `offset`).
pub mod offset {
    use super::*;

    /// The largest offset a cursor may carry (far beyond any account, far below overflow).
    pub const MAX_OFFSET: u64 = 1 << 48;

    /// The cursor for `offset`.
    pub fn cursor(provider: &str, offset: u64) -> PageCursor {
        encode(provider, OFFSET, &offset.to_string())
    }

    /// The offset a cursor stands for; 0 without a cursor. Foreign cursors are an `InvalidRequest`.
    pub fn from_cursor(provider: &str, cursor: Option<&PageCursor>) -> Result<u64> {
        let Some(cursor) = cursor else { return Ok(0) };
        match decode(provider, cursor)? {
            (OFFSET, value) => value
                .parse::<u64>()
                .ok()
                .filter(|o| *o <= MAX_OFFSET)
                .ok_or_else(|| Error::invalid_request("cursor", "malformed offset cursor")),
            _ => Err(Error::invalid_request(
                "cursor",
                format!("not a {provider} offset cursor"),
            )),
        }
    }

    /// A page of `limit` asked at `offset`; its `next` points past its items while the total is not
    /// reached, and also when the page came back full at the total: a total is a hint, and one that lags
    /// the list would otherwise end the walk before its last refunds (an empty page ends it instead).
    pub fn page<T>(provider: &str, items: Vec<T>, offset: u64, total: Option<u64>, limit: u32) -> Page<T> {
        let end = offset.saturating_add(items.len() as u64);
        let full = items.len() as u64 >= u64::from(limit);
        let more = match total {
            Some(total) => !items.is_empty() && (end < total || full),
            None => !items.is_empty(),
        };
        let next = more.then(|| cursor(provider, end));
        Page::new(items, next, total)
    }
}

/// Object-id cursor paging (`starting_after` / `ending_before`).
pub mod id_cursor {
    use super::*;

    /// Which way a cursor points.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Position {
        /// Start after this id (forward).
        After(String),
        /// End before this id (backward).
        Before(String),
    }

    /// A forward cursor after `id`.
    pub fn after(provider: &str, id: &str) -> PageCursor {
        encode(provider, AFTER, id)
    }

    /// A backward cursor before `id`.
    pub fn before(provider: &str, id: &str) -> PageCursor {
        encode(provider, BEFORE, id)
    }

    /// The position a cursor stands for; `None` without a cursor. Foreign cursors are an `InvalidRequest`.
    pub fn from_cursor(provider: &str, cursor: Option<&PageCursor>) -> Result<Option<Position>> {
        let Some(cursor) = cursor else {
            return Ok(None);
        };
        let checked = |id: &str| {
            crate::RefundId::new(id)
                .map(|id| id.as_str().to_owned())
                .map_err(|_| Error::invalid_request("cursor", "the cursor's id is not a valid refund id"))
        };
        match decode(provider, cursor)? {
            (AFTER, id) => Ok(Some(Position::After(checked(id)?))),
            (BEFORE, id) => Ok(Some(Position::Before(checked(id)?))),
            _ => Err(Error::invalid_request("cursor", format!("not a {provider} id cursor"))),
        }
    }

    /// A forward page: `next` starts after the last item's id while the provider says there is more
    /// (`has_more`), or, when it does not say, while the page came back full.
    pub fn page<T>(
        provider: &str,
        items: Vec<T>,
        id_of: impl Fn(&T) -> &str,
        has_more: Option<bool>,
        limit: u32,
    ) -> Page<T> {
        let next = more(&items, has_more, limit)
            .then(|| items.last().map(|last| after(provider, id_of(last))))
            .flatten();
        Page::new(items, next, None)
    }

    /// A backward page (read with `ending_before`): `next` keeps walking backward, ending before the
    /// first item's id, under the same rule as [`page`].
    pub fn page_before<T>(
        provider: &str,
        items: Vec<T>,
        id_of: impl Fn(&T) -> &str,
        has_more: Option<bool>,
        limit: u32,
    ) -> Page<T> {
        let next = more(&items, has_more, limit)
            .then(|| items.first().map(|first| before(provider, id_of(first))))
            .flatten();
        Page::new(items, next, None)
    }

    /// Whether pages follow: as the provider says (`has_more`), or, when it does not say, while the
    /// page came back full; never after an empty page.
    fn more<T>(items: &[T], has_more: Option<bool>, limit: u32) -> bool {
        has_more.unwrap_or(items.len() as u64 >= u64::from(limit)) && !items.is_empty()
    }
}

/// Checks a page size against a provider's range; `None` gives `default`.
pub fn check_limit(limit: Option<u32>, range: std::ops::RangeInclusive<u32>, default: u32) -> Result<u32> {
    let limit = limit.unwrap_or(default);
    if range.contains(&limit) {
        Ok(limit)
    } else {
        Err(Error::invalid_request(
            "limit",
            format!("must be {} to {}, got {limit}", range.start(), range.end()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_cursors_round_trip_and_refuse_foreign_ones() {
        let c = offset::cursor("fourgeeks", 30);
        assert_eq!(offset::from_cursor("fourgeeks", Some(&c)).unwrap(), 30);
        assert_eq!(offset::from_cursor("fourgeeks", None).unwrap(), 0);
        let err = offset::from_cursor("syncgram", Some(&c)).unwrap_err();
        assert_eq!(err.field(), Some("cursor"));
        let forged = PageCursor::from_token("fourgeeks:o:-1");
        assert!(offset::from_cursor("fourgeeks", Some(&forged)).is_err());
        let idc = id_cursor::after("fourgeeks", "re_1");
        assert!(offset::from_cursor("fourgeeks", Some(&idc)).is_err());
        assert!(
            offset::from_cursor("four", Some(&c)).is_err(),
            "prefix of another provider id"
        );
    }

    #[test]
    fn offset_pages_stop_at_the_total() {
        let p = offset::page("p", vec![1, 2], 0, Some(5), 2);
        assert_eq!(offset::from_cursor("p", p.next.as_ref()).unwrap(), 2);
        assert!(offset::page("p", vec![5], 4, Some(5), 2).next.is_none());
        assert!(offset::page::<u8>("p", vec![], 0, None, 2).next.is_none());
        // A full page at the total goes on: the total may lag the list.
        assert!(offset::page("p", vec![4, 5], 3, Some(5), 2).next.is_some());
    }

    #[test]
    fn id_cursor_pages() {
        let p = id_cursor::page("c", vec!["a", "b:c"], |s| s, Some(true), 2);
        let pos = id_cursor::from_cursor("c", p.next.as_ref()).unwrap();
        assert_eq!(pos, Some(id_cursor::Position::After("b:c".into())));
        assert!(id_cursor::page("c", vec!["a"], |s| s, None, 2).next.is_none());
        for forged in ["c:a:..", "c:a:re\r\nX: 1", &format!("c:a:{}", "x".repeat(256))] {
            let e = id_cursor::from_cursor("c", Some(&PageCursor::from_token(forged))).unwrap_err();
            assert_eq!(e.field(), Some("cursor"), "{forged:?}");
        }
        assert!(id_cursor::page("c", vec!["a"], |s| s, Some(false), 1).next.is_none());
        let back = id_cursor::page_before("c", vec!["b", "c"], |s| s, Some(true), 2);
        assert_eq!(back.next, Some(id_cursor::before("c", "b")));
        assert!(id_cursor::page_before("c", vec!["b"], |s| s, None, 2).next.is_none());
        assert_eq!(check_limit(Some(0), 1..=100, 50).unwrap_err().field(), Some("limit"));
        assert_eq!(check_limit(None, 1..=100, 50).unwrap(), 50);
    }
}
