//! Decoding a provider object while keeping its raw JSON.

use serde::de::{self, DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::raw::RawJson;

/// A wire value parsed as `T` together with its exact JSON text, for [`crate::Refund::raw`].
///
/// Use it wherever a provider object appears, also inside envelopes: `items: Vec<WithRaw<WireRefund>>`.
/// The text is captured first (a validating scan, no allocation per field) and then parsed into `T`.
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
pub fn parse_object<T: DeserializeOwned>(json: &[u8]) -> Result<WithRaw<T>, serde_json::Error> {
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
