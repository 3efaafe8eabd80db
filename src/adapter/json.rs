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
