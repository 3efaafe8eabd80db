//! The provider's JSON, kept byte for byte.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

/// A provider's JSON object exactly as received: the same bytes, key order and number spelling.
///
/// Kept as text rather than a `serde_json::Value` so that nothing is lost (a `Value` rounds large or
/// long decimal numbers through `f64`) and so that keeping it costs a copy, not a second parse.
/// [`RawJson::to_value`] gives a `Value` when one is wanted.
///
/// Invariant: the text is one valid JSON value (every constructor checks it, or receives it from a
/// successful serde_json parse of exactly that text).
#[derive(Clone)]
pub struct RawJson(Box<str>);

impl RawJson {
    /// Wraps raw JSON text already checked by serde_json.
    pub fn from_raw(raw: Box<RawValue>) -> RawJson {
        RawJson(raw.into())
    }

    /// Wraps text that serde_json has just parsed successfully as a whole (for example a response
    /// body a wire struct was read from), without scanning it a second time.
    #[inline]
    pub(crate) fn from_parsed(text: &str) -> RawJson {
        RawJson(text.trim_ascii().into())
    }

    /// Checks and wraps JSON text.
    pub fn parse(text: &str) -> Result<RawJson, serde_json::Error> {
        RawValue::from_string(text.to_owned()).map(RawJson::from_raw)
    }

    /// Serializes a value (used by in-memory providers that have no wire form).
    pub fn from_value(value: &serde_json::Value) -> RawJson {
        // Serializing a `Value` cannot fail: its keys are strings.
        RawJson::from_raw(serde_json::value::to_raw_value(value).unwrap_or_else(|_| null()))
    }

    /// The JSON text.
    pub fn get(&self) -> &str {
        &self.0
    }

    /// Parses the text into a `Value`.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_str(&self.0).unwrap_or(serde_json::Value::Null)
    }

    /// Reads one top-level field (a convenience for tests and debugging).
    pub fn field(&self, name: &str) -> Option<serde_json::Value> {
        match self.to_value() {
            serde_json::Value::Object(mut map) => map.remove(name),
            _ => None,
        }
    }
}

fn null() -> Box<RawValue> {
    RawValue::from_string("null".to_owned()).expect("null is JSON")
}

impl PartialEq for RawJson {
    fn eq(&self, other: &RawJson) -> bool {
        self.get() == other.get()
    }
}

impl fmt::Debug for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RawJson({})", self.get())
    }
}

impl fmt::Display for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.get())
    }
}

impl Serialize for RawJson {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Valid by construction; the check happens only on this rare path.
        RawValue::from_string(self.0.to_string())
            .map_err(serde::ser::Error::custom)?
            .serialize(s)
    }
}

impl<'de> Deserialize<'de> for RawJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Box::<RawValue>::deserialize(d).map(RawJson::from_raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_bytes_and_number_spelling() {
        let text = r#"{"b":1,"a":12.3456789012345678901234,"big":18446744073709551616}"#;
        let raw = RawJson::parse(text).unwrap();
        assert_eq!(raw.get(), text);
        assert_eq!(serde_json::to_string(&raw).unwrap(), text);
        assert_eq!(raw.field("b"), Some(serde_json::json!(1)));
    }
}
