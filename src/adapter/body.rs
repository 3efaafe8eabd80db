//! A create body as exact JSON text, and the two edits the engine makes to it (leaving out top-level
//! `null`s, writing the idempotency key into a body field) done on the text itself: no re-parse into
//! a map, no re-serialization, so a decimal amount keeps its digits and a create costs one
//! serialization.

use serde::Serialize;

use crate::error::{Error, Result};

/// A create body: one JSON object as exact text.
#[derive(Debug)]
pub struct CreateBody(String);

impl CreateBody {
    /// Serializes a wire struct straight to JSON text; anything but an object is refused.
    pub fn json<T: Serialize + ?Sized>(body: &T) -> Result<CreateBody> {
        let text = serialize(body)?;
        if !text.trim_start().starts_with('{') {
            return Err(not_an_object());
        }
        Ok(CreateBody(text))
    }

    /// Like [`CreateBody::json`], with every top-level field whose value is `null` left out.
    pub(crate) fn json_without_nulls<T: Serialize + ?Sized>(body: &T) -> Result<CreateBody> {
        let text = serialize(body)?;
        // A struct that skips its absent fields leaves no `null` anywhere: nothing to cut, no scan.
        if text.starts_with('{') && !text.as_bytes().windows(4).any(|w| w == b"null") {
            return Ok(CreateBody(text));
        }
        let mut kept = String::with_capacity(text.len());
        kept.push('{');
        entries(&text, |key, value| {
            if value != "null" {
                if kept.len() > 1 {
                    kept.push(',');
                }
                kept.push_str(key);
                kept.push(':');
                kept.push_str(value);
            }
            Ok(())
        })?;
        kept.push('}');
        Ok(CreateBody(kept))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub(crate) fn into_string(self) -> String {
        self.0
    }

    /// The body with `"field": key` added first, written into the object's text (every other value
    /// stays exactly as the provider wrote it). The provider must not set it too.
    pub(crate) fn with_field(self, field: &str, key: &str) -> Result<CreateBody> {
        let field_json = serialize(field)?;
        entries(&self.0, |present, _| {
            if present == field_json || (present.contains('\\') && unquote(present)? == field) {
                return Err(Error::configuration(format!(
                    "the create body sets `{field}`, which the engine writes"
                )));
            }
            Ok(())
        })?;
        let text = self.0.trim();
        let inner = text[1..text.len() - 1].trim();
        let entry = format!("{field_json}:{}", serialize(key)?);
        Ok(CreateBody(if inner.is_empty() {
            format!("{{{entry}}}")
        } else {
            format!("{{{entry},{inner}}}")
        }))
    }
}

fn serialize<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::configuration(format!("create body did not serialize: {e}")))
}

#[cold]
fn not_an_object() -> Error {
    Error::configuration("a create body must be a JSON object")
}

fn unquote(key: &str) -> Result<String> {
    serde_json::from_str(key).map_err(|_| not_an_object())
}

/// Calls `each` with every top-level entry of the object `text`: the key as written (quoted) and the
/// value's text. `text` is serializer output, so valid JSON; only its shape is checked here.
fn entries<'t>(text: &'t str, mut each: impl FnMut(&'t str, &'t str) -> Result<()>) -> Result<()> {
    let bytes = text.as_bytes();
    let mut at = skip_space(bytes, 0);
    if bytes.get(at) != Some(&b'{') {
        return Err(not_an_object());
    }
    at = skip_space(bytes, at + 1);
    if bytes.get(at) == Some(&b'}') {
        return Ok(());
    }
    loop {
        if bytes.get(at) != Some(&b'"') {
            return Err(not_an_object());
        }
        let key_end = string_end(bytes, at)?;
        let key = &text[at..key_end];
        at = skip_space(bytes, key_end);
        if bytes.get(at) != Some(&b':') {
            return Err(not_an_object());
        }
        let value_start = skip_space(bytes, at + 1);
        at = value_end(bytes, value_start)?;
        each(key, text[value_start..at].trim_end())?;
        match bytes.get(at) {
            Some(b',') => at = skip_space(bytes, at + 1),
            Some(b'}') => return Ok(()),
            _ => return Err(not_an_object()),
        }
    }
}

fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    at
}

/// The index just past the string that opens at `start`.
fn string_end(bytes: &[u8], start: usize) -> Result<usize> {
    let mut at = start + 1;
    while let Some(&byte) = bytes.get(at) {
        match byte {
            b'\\' => at += 2,
            b'"' => return Ok(at + 1),
            _ => at += 1,
        }
    }
    Err(not_an_object())
}

/// The index of the `,` or `}` that ends the value starting at `start`.
fn value_end(bytes: &[u8], start: usize) -> Result<usize> {
    let mut depth = 0usize;
    let mut at = start;
    while let Some(&byte) = bytes.get(at) {
        match byte {
            b'"' => {
                at = string_end(bytes, at)?;
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' if depth == 0 => return Ok(at),
            b'}' | b']' => depth -= 1,
            b',' if depth == 0 => return Ok(at),
            _ => {}
        }
        at += 1;
    }
    Err(not_an_object())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::value::RawValue;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.into()).unwrap()
    }

    #[test]
    fn the_body_field_key_is_written_into_the_text_and_decimals_stay_exact() {
        let body = CreateBody::json(&raw(r#"{"amount":25.00,"n":1e2}"#)).unwrap();
        let keyed = body.with_field("idempotency_key", "k\"1").unwrap();
        assert_eq!(keyed.as_str(), r#"{"idempotency_key":"k\"1","amount":25.00,"n":1e2}"#);
        let empty = CreateBody::json(&raw("{ }")).unwrap();
        assert_eq!(empty.with_field("k", "v").unwrap().as_str(), r#"{"k":"v"}"#);
        for twice in [r#"{"k":"x"}"#, r#"{"a":{"k":1}, "k" : "x"}"#, r#"{"\u006b":"x"}"#] {
            let twice = CreateBody::json(&raw(twice)).unwrap();
            assert!(
                twice.with_field("k", "v").is_err(),
                "the provider must not set the key itself"
            );
        }
        let nested = CreateBody::json(&raw(r#"{"a":{"k":1},"b":["k"]}"#)).unwrap();
        assert_eq!(
            nested.with_field("k", "v").unwrap().as_str(),
            r#"{"k":"v","a":{"k":1},"b":["k"]}"#
        );
        assert!(CreateBody::json(&raw("[1]")).is_err());
        assert!(CreateBody::json(&"{}").is_err(), "a string is not an object");
    }

    #[test]
    fn top_level_nulls_go_in_order_and_everything_else_keeps_its_text() {
        #[derive(serde::Serialize)]
        struct Body {
            reason: Option<String>,
            amount: Box<RawValue>,
            nested: Box<RawValue>,
            note: &'static str,
            last: Option<u8>,
        }
        let body = Body {
            reason: None,
            amount: raw("25.10"),
            nested: raw(r#"{"x":null,"y":[null,"a,}\"b"]}"#),
            note: "null, \"quoted\" {",
            last: None,
        };
        assert_eq!(
            CreateBody::json_without_nulls(&body).unwrap().as_str(),
            r#"{"amount":25.10,"nested":{"x":null,"y":[null,"a,}\"b"]},"note":"null, \"quoted\" {"}"#
        );
        let all_null = Body {
            reason: None,
            amount: raw("null"),
            nested: raw("null"),
            note: "",
            last: None,
        };
        assert_eq!(
            CreateBody::json_without_nulls(&all_null).unwrap().as_str(),
            r#"{"note":""}"#
        );
        assert!(CreateBody::json_without_nulls(&[1]).is_err());
        assert!(
            CreateBody::json_without_nulls(&"{}").is_err(),
            "a string is not an object"
        );
        let no_nulls = Body {
            reason: Some("dup".into()),
            amount: raw("1"),
            nested: raw("[]"),
            note: "n",
            last: Some(2),
        };
        assert_eq!(
            CreateBody::json_without_nulls(&no_nulls).unwrap().as_str(),
            r#"{"reason":"dup","amount":1,"nested":[],"note":"n","last":2}"#
        );
    }
}
