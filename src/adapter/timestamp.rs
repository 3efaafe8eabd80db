//! Timestamp codecs as serde `with` modules: RFC 3339 text, unix seconds, unix milliseconds.
//!
//! ```
//! use serde::Deserialize;
//! use time::OffsetDateTime;
//! #[derive(Deserialize)]
//! struct Wire {
//!     #[serde(with = "refunds::adapter::timestamp::unix_millis::option", default)]
//!     created_at: Option<OffsetDateTime>,
//! }
//! let w: Wire = serde_json::from_str(r#"{"created_at": 1700000000123}"#).unwrap();
//! assert_eq!(w.created_at.unwrap().unix_timestamp(), 1700000000);
//! ```

/// RFC 3339 / ISO 8601 text, `"2024-01-01T00:00:00.000Z"`.
pub mod rfc3339 {
    pub use time::serde::rfc3339::{deserialize, serialize};

    /// The same for `Option` fields (`null` and absence read as `None`; add `#[serde(default)]`).
    pub mod option {
        pub use time::serde::rfc3339::option::{deserialize, serialize};
    }
}

macro_rules! unix_codec {
    ($name:ident, $doc:literal, $per_second:expr) => {
        #[doc = $doc]
        pub mod $name {
            use serde::{Deserialize, Deserializer, Serializer};
            use time::OffsetDateTime;

            const PER_SECOND: i128 = $per_second;

            /// Writes the timestamp.
            pub fn serialize<S: Serializer>(at: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
                let nanos = at.unix_timestamp_nanos() / (1_000_000_000 / PER_SECOND);
                s.serialize_i64(i64::try_from(nanos).map_err(serde::ser::Error::custom)?)
            }

            /// Reads the timestamp; out-of-range values are an error.
            pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
                let n = i64::deserialize(d)?;
                OffsetDateTime::from_unix_timestamp_nanos(i128::from(n) * (1_000_000_000 / PER_SECOND))
                    .map_err(serde::de::Error::custom)
            }

            /// The same for `Option` fields (`null` and absence read as `None`; add `#[serde(default)]`).
            pub mod option {
                use serde::{Deserialize, Deserializer, Serializer};
                use time::OffsetDateTime;

                /// Writes the timestamp or `null`.
                pub fn serialize<S: Serializer>(at: &Option<OffsetDateTime>, s: S) -> Result<S::Ok, S::Error> {
                    match at {
                        Some(at) => super::serialize(at, s),
                        None => s.serialize_none(),
                    }
                }

                /// Reads the timestamp or `null`.
                pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<OffsetDateTime>, D::Error> {
                    match Option::<i64>::deserialize(d)? {
                        Some(n) => OffsetDateTime::from_unix_timestamp_nanos(
                            i128::from(n) * (1_000_000_000 / super::PER_SECOND),
                        )
                        .map(Some)
                        .map_err(serde::de::Error::custom),
                        None => Ok(None),
                    }
                }
            }
        }
    };
}

unix_codec!(
    unix_seconds,
    "Seconds since the Unix epoch as a JSON integer, `1644328172`.",
    1
);
unix_codec!(
    unix_millis,
    "Milliseconds since the Unix epoch as a JSON integer, `1700000000123`.",
    1000
);

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};
    use time::OffsetDateTime;

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Wire {
        #[serde(with = "super::unix_seconds")]
        s: OffsetDateTime,
        #[serde(with = "super::unix_millis::option", default)]
        ms: Option<OffsetDateTime>,
        #[serde(with = "super::rfc3339::option", default)]
        iso: Option<OffsetDateTime>,
    }

    #[test]
    fn round_trips_each_unit() {
        let text = r#"{"s":1644328172,"ms":1700000000123,"iso":"2024-01-01T00:00:00.5Z"}"#;
        let w: Wire = serde_json::from_str(text).unwrap();
        assert_eq!(w.s.unix_timestamp(), 1644328172);
        assert_eq!(w.ms.unwrap().unix_timestamp_nanos(), 1_700_000_000_123_000_000);
        assert_eq!(w.iso.unwrap().millisecond(), 500);
        let back: Wire = serde_json::from_str(&serde_json::to_string(&w).unwrap()).unwrap();
        assert_eq!(back, w);
        let w: Wire = serde_json::from_str(r#"{"s":0,"ms":null}"#).unwrap();
        assert_eq!(w.ms, None);
        assert!(serde_json::from_str::<Wire>(r#"{"s":99999999999999999}"#).is_err());
        assert!(serde_json::from_str::<Wire>(r#"{"s":1.5}"#).is_err());
    }
}
