//! The list lies, on the JSON text of a list answer. Items and other fields are kept byte for byte
//! (only the fields lied about are rewritten), so a client keeping raw JSON sees the skin's own text.

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::super::{Fault, SandboxResponse};

/// Array fields that hold a list's items, in order of preference (else: the only array field).
const ITEM_FIELDS: &[&str] = &["data", "items", "refunds", "results", "records", "list"];
/// Numeric fields that hold a list's total.
const TOTAL_FIELDS: &[&str] = &[
    "total",
    "total_items",
    "total_count",
    "count",
    "totalItems",
    "totalCount",
];
/// Boolean fields that say more pages follow.
const MORE_FIELDS: &[&str] = &["has_more", "hasMore"];

/// A JSON object as ordered fields of raw text.
struct Fields(Vec<(String, Box<RawValue>)>);

impl<'de> serde::Deserialize<'de> for Fields {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Fields, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Fields;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields, A::Error> {
                let mut fields = Vec::new();
                while let Some(entry) = map.next_entry::<String, Box<RawValue>>()? {
                    fields.push(entry);
                }
                Ok(Fields(fields))
            }
        }
        d.deserialize_map(V)
    }
}

/// A list body: its items, and the object around them when it is not a bare array.
struct List {
    items: Vec<Box<RawValue>>,
    /// The object's fields and which one holds the items.
    envelope: Option<(Fields, usize)>,
}

impl List {
    fn parse(body: &[u8]) -> Option<List> {
        let text = std::str::from_utf8(body).ok()?.trim_start();
        if text.starts_with('[') {
            let items = serde_json::from_str(text).ok()?;
            return Some(List { items, envelope: None });
        }
        let fields: Fields = serde_json::from_str(text).ok()?;
        let is_array = |v: &RawValue| v.get().trim_start().starts_with('[');
        let at = ITEM_FIELDS
            .iter()
            .find_map(|name| fields.0.iter().position(|(k, v)| k == name && is_array(v)))
            .or_else(|| {
                let mut arrays = fields.0.iter().enumerate().filter(|(_, (_, v))| is_array(v));
                match (arrays.next(), arrays.next()) {
                    (Some((i, _)), None) => Some(i),
                    _ => None,
                }
            })?;
        let items = serde_json::from_str(fields.0[at].1.get()).ok()?;
        Some(List {
            items,
            envelope: Some((fields, at)),
        })
    }

    fn to_bytes(&self) -> Vec<u8> {
        let array = join('[', self.items.iter().map(|v| v.get().to_owned()), ']');
        match &self.envelope {
            None => array.into_bytes(),
            Some((fields, at)) => join(
                '{',
                fields.0.iter().enumerate().map(|(i, (k, v))| {
                    let key = serde_json::to_string(k).unwrap_or_default();
                    format!("{key}:{}", if i == *at { array.as_str() } else { v.get() })
                }),
                '}',
            )
            .into_bytes(),
        }
    }

    /// Overstates the total and says more follow; false when the list has neither field.
    fn overstate(&mut self, by: u64) -> bool {
        let Some((fields, _)) = &mut self.envelope else {
            return false;
        };
        let mut changed = false;
        for (name, value) in &mut fields.0 {
            let replacement = if TOTAL_FIELDS.contains(&name.as_str()) {
                let text = value.get();
                match (serde_json::from_str::<u64>(text), serde_json::from_str::<String>(text)) {
                    (Ok(n), _) => Some(n.saturating_add(by).to_string()),
                    (_, Ok(s)) => s.parse::<u64>().ok().map(|n| format!("\"{}\"", n.saturating_add(by))),
                    _ => None,
                }
            } else if MORE_FIELDS.contains(&name.as_str()) && value.get() == "false" {
                Some("true".to_owned())
            } else {
                None
            };
            if let Some(text) = replacement.and_then(|t| RawValue::from_string(t).ok()) {
                changed |= text.get() != value.get();
                *value = text;
            }
        }
        changed
    }
}

fn join(open: char, parts: impl Iterator<Item = String>, close: char) -> String {
    let mut out = String::from(open);
    for (i, part) in parts.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&part);
    }
    out.push(close);
    out
}

/// True when `answer` is a 2xx answer whose body is a JSON list.
pub(super) fn is_list(answer: &SandboxResponse) -> bool {
    (200..300).contains(&answer.status) && List::parse(&answer.body).is_some()
}

/// Tells `lie` on `answer` (a list answer, else nothing happens); `previous` is the true body of
/// the previous list answer on the same path. True when the answer was changed.
pub(super) fn tell(lie: &Fault, answer: &mut SandboxResponse, previous: Option<&[u8]>) -> bool {
    if !(200..300).contains(&answer.status) {
        return false;
    }
    let Some(mut list) = List::parse(&answer.body) else {
        return false;
    };
    let changed = match lie {
        Fault::ListTotalOverstated(by) => list.overstate(*by),
        Fault::ListShortPage => list.items.pop().is_some(),
        Fault::ListRepeatItem => {
            let from_previous = previous.and_then(List::parse).and_then(|p| p.items.last().cloned());
            match from_previous.or_else(|| list.items.first().cloned()) {
                Some(item) => {
                    list.items.insert(0, item);
                    true
                }
                None => false,
            }
        }
        Fault::ListRepeatCursor => {
            // The previous page as it was sent, when there was one and it was a list.
            return match previous.filter(|p| List::parse(p).is_some()) {
                Some(previous) if previous != answer.body.as_slice() => {
                    answer.body = previous.to_vec();
                    true
                }
                _ => false,
            };
        }
        _ => false,
    };
    if changed {
        answer.body = list.to_bytes();
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(body: &str) -> SandboxResponse {
        SandboxResponse::raw(200, "application/json", body)
    }

    fn told(lie: Fault, body: &str, previous: Option<&str>) -> Option<String> {
        let mut a = answer(body);
        tell(&lie, &mut a, previous.map(str::as_bytes)).then(|| String::from_utf8(a.body).unwrap())
    }

    #[test]
    fn overstated_totals_and_has_more() {
        let body = r#"{"total_items":3,"items":[{"id":"a","amount":1.10}],"offset":0}"#;
        assert_eq!(
            told(Fault::ListTotalOverstated(1_000_000_000_000_000), body, None).unwrap(),
            r#"{"total_items":1000000000000003,"items":[{"id":"a","amount":1.10}],"offset":0}"#,
            "only the total changes; items keep their text"
        );
        assert_eq!(
            told(
                Fault::ListTotalOverstated(5),
                r#"{"data":[],"has_more":false,"total":"2"}"#,
                None
            )
            .unwrap(),
            r#"{"data":[],"has_more":true,"total":"7"}"#
        );
        assert_eq!(
            told(Fault::ListTotalOverstated(5), r#"{"data":[1]}"#, None),
            None,
            "nothing to overstate"
        );
        assert_eq!(told(Fault::ListTotalOverstated(5), r#"[1,2]"#, None), None);
    }

    #[test]
    fn short_pages_and_repeated_items() {
        let page = r#"{"total":4,"data":[{"id":"c"}, {"id":"d"}]}"#;
        assert_eq!(
            told(Fault::ListShortPage, page, None).unwrap(),
            r#"{"total":4,"data":[{"id":"c"}]}"#
        );
        assert_eq!(told(Fault::ListShortPage, r#"[1,2]"#, None).unwrap(), "[1]");
        assert_eq!(told(Fault::ListShortPage, r#"{"data":[]}"#, None), None);
        let previous = r#"{"total":4,"data":[{"id":"a"},{"id":"b"}]}"#;
        assert_eq!(
            told(Fault::ListRepeatItem, page, Some(previous)).unwrap(),
            r#"{"total":4,"data":[{"id":"b"},{"id":"c"},{"id":"d"}]}"#
        );
        assert_eq!(
            told(Fault::ListRepeatItem, page, None).unwrap(),
            r#"{"total":4,"data":[{"id":"c"},{"id":"c"},{"id":"d"}]}"#
        );
    }

    #[test]
    fn repeated_cursor_replays_the_previous_page() {
        let page = r#"{"data":[{"id":"c"}],"has_more":true}"#;
        let previous = r#"{"data":[{"id":"a"}],"has_more":true}"#;
        assert_eq!(told(Fault::ListRepeatCursor, page, Some(previous)).unwrap(), previous);
        assert_eq!(told(Fault::ListRepeatCursor, page, None), None, "no previous page");
        assert_eq!(told(Fault::ListRepeatCursor, page, Some(r#"{"id":"x"}"#)), None);
    }

    #[test]
    fn what_is_not_a_list_is_left_alone() {
        for body in [r#"{"id":"re_1","amount":5}"#, r#"{"a":[1],"b":[2]}"#, "not json", ""] {
            assert_eq!(told(Fault::ListShortPage, body, None), None, "{body}");
        }
        let mut error = SandboxResponse::raw(404, "application/json", r#"{"data":[1]}"#);
        assert!(!tell(&Fault::ListShortPage, &mut error, None));
        assert_eq!(
            told(
                Fault::ListShortPage,
                r#"{"object":"list","urls":["u"],"refunds":[1,2]}"#,
                None
            )
            .unwrap(),
            r#"{"object":"list","urls":["u"],"refunds":[1]}"#,
            "a known item field wins over another array"
        );
    }
}
