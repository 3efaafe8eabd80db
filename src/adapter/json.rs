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
}
