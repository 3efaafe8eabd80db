//! Decoding a provider object while keeping its raw JSON.

use serde::de::{self, DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::raw::RawJson;

/// A wire value parsed as `T` together with its exact JSON text, for [`crate::Refund::raw`].
///
/// A whole body is read in one pass by [`parse_object`], a list page by [`parse_list`]. As a field
/// inside another wire struct (`data: WithRaw<WireRefund>` in an event), its `Deserialize` captures
/// the text first (a validating scan) and then parses it into `T`.
#[derive(Debug, Clone)]
pub struct WithRaw<T> {
    /// The parsed wire struct.
    pub value: T,
    /// The object as received.
    pub raw: RawJson,
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for WithRaw<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        // serde's derived structs also accept a JSON array, field by field in order; a provider object
        // is always a JSON object, so anything else is refused.
        if !raw.get().starts_with('{') {
            return Err(de::Error::custom("expected a json object"));
        }
        let value = serde_json::from_str(raw.get()).map_err(de::Error::custom)?;
        Ok(WithRaw {
            value,
            raw: RawJson::from_raw(raw),
        })
    }
}

/// Parses one provider object that is the whole of `json` (a response body, a webhook payload) in a
/// single pass: the wire struct is read from the bytes, and the same bytes become the raw JSON, without
/// the second scan that [`WithRaw`]'s `Deserialize` needs inside an envelope. Anything but one JSON
/// object (with optional surrounding whitespace) is an error.
pub fn parse_object<'a, T: Deserialize<'a>>(json: &'a [u8]) -> Result<WithRaw<T>, serde_json::Error> {
    let text = std::str::from_utf8(json).map_err(|_| de::Error::custom("body is not utf-8"))?;
    if !text
        .trim_start_matches(|c: char| c.is_ascii_whitespace())
        .starts_with('{')
    {
        return Err(de::Error::custom("expected a json object"));
    }
    let value = serde_json::from_str(text)?;
    Ok(WithRaw {
        value,
        raw: RawJson::from_parsed(text),
    })
}

/// Reads a list body in one pass: each item is parsed once, straight from the body, and its raw
/// text is the byte span the parse covered (no validating pre-scan to cut it out, no copy of the
/// page). The items are the array under the first of `fields` the body has; a body that is itself
/// an array is the items. `E` is read from the body with each items array emptied (`{}` for a bare
/// array), so the provider's own envelope struct serves: `Envelope<IgnoredAny>` for a generic one.
///
/// Each item must be a JSON object; errors name their line and column in the whole body.
pub fn parse_list<'a, E, T>(json: &'a [u8], fields: &[&str]) -> Result<(E, Vec<WithRaw<T>>), serde_json::Error>
where
    E: DeserializeOwned,
    T: Deserialize<'a>,
{
    let text = std::str::from_utf8(json).map_err(|_| de::Error::custom("body is not utf-8"))?;
    let mut at = Cursor { text, pos: 0 };
    let (envelope, items) = match at.peek() {
        Some(b'[') => (serde_json::from_str("{}")?, at.items()?),
        Some(b'{') => at.envelope(fields)?,
        _ => return Err(de::Error::custom("expected a json object or array")),
    };
    match at.peek() {
        None => Ok((envelope, items)),
        Some(_) => Err(at.error("trailing characters")),
    }
}

/// A position in a list body being read.
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// The next byte after whitespace (left unconsumed).
    fn peek(&mut self) -> Option<u8> {
        let rest = &self.text.as_bytes()[self.pos..];
        let skipped = rest.iter().take_while(|b| b.is_ascii_whitespace()).count();
        self.pos += skipped;
        rest.get(skipped).copied()
    }

    /// Consumes `byte` (after whitespace) or fails.
    fn expect(&mut self, byte: u8) -> Result<(), serde_json::Error> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(&format!("expected `{}`", byte as char)))
        }
    }

    /// One JSON value at the cursor, parsed where it lies; the cursor moves past it.
    fn value<T: Deserialize<'a>>(&mut self) -> Result<T, serde_json::Error> {
        self.peek();
        let start = self.pos;
        let mut values = serde_json::Deserializer::from_str(&self.text[start..]).into_iter::<T>();
        match values.next() {
            Some(Ok(value)) => {
                self.pos = start + values.byte_offset();
                Ok(value)
            }
            Some(Err(e)) => Err(relocate(&e, self.text, start)),
            None => Err(self.error("EOF while parsing a value")),
        }
    }

    /// The object's fields: the items array under the first of `fields` present, and the fields'
    /// text re-joined, each items array as `[]`, for the envelope `E`.
    fn envelope<E: DeserializeOwned, T: Deserialize<'a>>(
        &mut self,
        fields: &[&str],
    ) -> Result<(E, Vec<WithRaw<T>>), serde_json::Error> {
        self.expect(b'{')?;
        let mut rest = String::from("{");
        let mut found: Option<(usize, Vec<WithRaw<T>>)> = None;
        let mut seen = vec![false; fields.len()];
        if self.peek() == Some(b'}') {
            self.pos += 1;
        } else {
            loop {
                self.peek();
                let key_start = self.pos;
                let key: std::borrow::Cow<'a, str> = self.value()?;
                let key_text = &self.text[key_start..self.pos];
                self.expect(b':')?;
                let rank = fields.iter().position(|f| *f == key);
                if rest.len() > 1 {
                    rest.push(',');
                }
                rest.push_str(key_text);
                rest.push(':');
                match rank {
                    Some(rank) if self.peek() == Some(b'[') => {
                        if std::mem::replace(&mut seen[rank], true) {
                            return Err(self.error(&format!("duplicate field `{key}`")));
                        }
                        let items = self.items()?;
                        if found.as_ref().is_none_or(|(best, _)| rank < *best) {
                            found = Some((rank, items));
                        }
                        rest.push_str("[]");
                    }
                    _ => {
                        self.peek();
                        let value_start = self.pos;
                        let _: de::IgnoredAny = self.value()?;
                        rest.push_str(&self.text[value_start..self.pos]);
                    }
                }
                match self.peek() {
                    Some(b',') => self.pos += 1,
                    Some(b'}') => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(self.error("expected `,` or `}`")),
                }
            }
        }
        rest.push('}');
        let Some((_, items)) = found else {
            let name = fields.first().copied().unwrap_or("items");
            return Err(de::Error::custom(format!("missing field `{name}`")));
        };
        Ok((serde_json::from_str(&rest)?, items))
    }

    /// An array of objects, each parsed once where it lies and kept with its exact text.
    fn items<T: Deserialize<'a>>(&mut self) -> Result<Vec<WithRaw<T>>, serde_json::Error> {
        self.expect(b'[')?;
        let mut items = Vec::new();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(items);
        }
        loop {
            // serde's derived structs also accept a JSON array, field by field; an item is an object.
            if self.peek() != Some(b'{') {
                return Err(self.error("expected a json object"));
            }
            let start = self.pos;
            let value = self.value()?;
            items.push(WithRaw {
                value,
                raw: RawJson::from_parsed(&self.text[start..self.pos]),
            });
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(items);
                }
                _ => return Err(self.error("expected `,` or `]`")),
            }
        }
    }

    fn error(&self, message: &str) -> serde_json::Error {
        let (line, column) = line_and_column(self.text, self.pos);
        de::Error::custom(format!("{message} at line {line} column {column}"))
    }
}

/// An error from a parse that started at byte `start`, with its position counted in the whole body.
fn relocate(e: &serde_json::Error, text: &str, start: usize) -> serde_json::Error {
    let message = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = message.strip_suffix(&suffix).unwrap_or(&message);
    let part = &text[start..];
    let line_start: usize = part
        .split_inclusive('\n')
        .take(e.line().saturating_sub(1))
        .map(str::len)
        .sum();
    let at = (start + line_start + e.column().saturating_sub(1)).min(text.len());
    let (line, column) = line_and_column(text, at);
    de::Error::custom(format!("{message} at line {line} column {column}"))
}

/// One-based line and column of byte `at`, as serde_json counts them.
fn line_and_column(text: &str, at: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..at.min(text.len())];
    let line = 1 + before.iter().filter(|b| **b == b'\n').count();
    let line_start = before.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    (line, at - line_start + 1)
}

impl<T> Serialize for WithRaw<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.raw.serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Wire {
        id: String,
        amount: i64,
    }

    #[test]
    fn keeps_the_object_text_and_refuses_positional_arrays() {
        let w: WithRaw<Wire> = serde_json::from_str(r#"{"amount": 5, "id": "re_1"}"#).unwrap();
        assert_eq!(w.value.id, "re_1");
        assert_eq!(w.raw.get(), r#"{"amount": 5, "id": "re_1"}"#);
        assert!(
            serde_json::from_str::<Wire>(r#"["re_1", 5]"#).is_ok(),
            "plain serde takes arrays"
        );
        assert!(serde_json::from_str::<WithRaw<Wire>>(r#"["re_1", 5]"#).is_err());
    }

    #[derive(Debug, serde::Deserialize)]
    struct Envelope {
        total: Option<u64>,
        has_more: Option<bool>,
        #[serde(default)]
        items: Option<Vec<de::IgnoredAny>>,
    }

    type Listed<'a> = (Envelope, Vec<WithRaw<Borrowed<'a>>>);

    #[derive(Debug, serde::Deserialize)]
    struct Borrowed<'a> {
        id: &'a str,
    }

    #[test]
    fn a_list_is_read_in_one_pass_keeping_each_items_text() {
        let body =
            b"{\"total\": 2, \"items\": [ {\"id\": \"re_1\", \"n\": [1, {}]} ,{\"id\":\"re_2\"}], \"has_more\": false}";
        let (envelope, items): Listed = parse_list(body, &["items"]).unwrap();
        assert_eq!((envelope.total, envelope.has_more), (Some(2), Some(false)));
        assert_eq!(envelope.items.map(|emptied| emptied.len()), Some(0));
        assert_eq!(items.len(), 2);
        assert_eq!((items[0].value.id, items[1].value.id), ("re_1", "re_2"));
        assert_eq!(items[0].raw.get(), r#"{"id": "re_1", "n": [1, {}]}"#);
        assert_eq!(items[1].raw.get(), r#"{"id":"re_2"}"#);

        let (_, bare): Listed = parse_list(b" [ ] ", &["items"]).unwrap();
        assert!(bare.is_empty());
        let (envelope, bare): Listed = parse_list(br#"[{"id":"re_3"}]"#, &["data"]).unwrap();
        assert_eq!((envelope.total, bare[0].value.id), (None, "re_3"));
        let (_, empty): Listed = parse_list(br#"{"items":[]}"#, &["items"]).unwrap();
        assert!(empty.is_empty());
    }

    #[test]
    fn the_first_named_array_wins_and_each_name_once() {
        let both = br#"{"items":[{"id":"re_i"}],"data":[{"id":"re_d"}]}"#;
        let (_, items): Listed = parse_list(both, &["data", "items"]).unwrap();
        assert_eq!(items[0].value.id, "re_d");
        let (_, items): Listed = parse_list(br#"{"data":null,"items":[{"id":"re_i"}]}"#, &["data", "items"]).unwrap();
        assert_eq!(items[0].value.id, "re_i");
        let twice = parse_list::<Envelope, Borrowed>(br#"{"items":[],"items":[]}"#, &["items"]);
        assert!(twice.unwrap_err().to_string().contains("duplicate field `items`"));
        let missing = parse_list::<Envelope, Borrowed>(br#"{"total":1}"#, &["items"]);
        assert!(missing.unwrap_err().to_string().contains("missing field `items`"));
        let total_twice = parse_list::<Envelope, Borrowed>(br#"{"total":1,"total":2,"items":[]}"#, &["items"]);
        assert!(total_twice.unwrap_err().to_string().contains("duplicate field `total`"));
    }

    #[test]
    fn malformed_lists_are_refused_with_their_position_in_the_body() {
        for bad in [
            &br#"{"items":[["re_1"]]}"#[..],
            br#"{"items":[{"id":"re_1"} {"id":"re_2"}]}"#,
            br#"{"items":[{"id":"re_1"},]}"#,
            br#"{"items":[{"id":"re_1"}]} x"#,
            br#"{"items":[{"id":"re_1"}"#,
            br#"{"items" [] }"#,
            br#"{"total":1 "items":[]}"#,
            b"\"items\"",
            b"",
            b"\xff[]",
        ] {
            assert!(
                parse_list::<Envelope, Borrowed>(bad, &["items"]).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let body = "{\"items\": [\n  {\"id\": \"re_1\"},\n  {\"id\": 5}\n]}";
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Whole<'a> {
            #[serde(borrow)]
            items: Vec<Borrowed<'a>>,
        }
        let whole = serde_json::from_str::<Whole>(body).unwrap_err();
        let ours = parse_list::<Envelope, Borrowed>(body.as_bytes(), &["items"]).unwrap_err();
        assert_eq!(
            ours.to_string(),
            whole.to_string(),
            "the same position as one whole parse"
        );
    }

    #[test]
    fn parse_object_is_one_pass_over_the_whole_body() {
        let w: WithRaw<Wire> = parse_object(b" {\"id\": \"re_1\", \"amount\": 7} \n").unwrap();
        assert_eq!(w.raw.get(), r#"{"id": "re_1", "amount": 7}"#);
        assert_eq!(serde_json::to_string(&w.raw).unwrap(), r#"{"id": "re_1", "amount": 7}"#);
        assert!(parse_object::<Wire>(br#"["re_1", 5]"#).is_err());
        assert!(parse_object::<Wire>(br#"{"id": "re_1", "amount": 7} trailing"#).is_err());
        assert!(parse_object::<Wire>(b"").is_err());
        assert!(parse_object::<Wire>(b"\xff{}").is_err());
    }
}
