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
///
/// Reading takes a fast path for the common shape (`YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`) and
/// falls back to the `time` crate's full parser for anything else, so what is accepted and refused is
/// exactly what `time` accepts and refuses.
pub mod rfc3339 {
    use serde::Deserializer;
    use time::OffsetDateTime;

    pub use time::serde::rfc3339::serialize;

    /// Parses RFC 3339 text.
    pub fn parse(text: &str) -> Option<OffsetDateTime> {
        fast(text).or_else(|| OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok())
    }

    fn fast(text: &str) -> Option<OffsetDateTime> {
        let b = text.as_bytes();
        if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
            return None;
        }
        let num = |range: std::ops::Range<usize>| -> Option<u32> {
            b.get(range)?.iter().try_fold(0u32, |acc, &c| {
                c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
            })
        };
        let year = i32::try_from(num(0..4)?).ok()?;
        let month = time::Month::try_from(u8::try_from(num(5..7)?).ok()?).ok()?;
        let day = u8::try_from(num(8..10)?).ok()?;
        let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
        let mut i = 19;
        let mut nanos = 0u32;
        if b[i] == b'.' {
            let start = i + 1;
            i = start;
            while i < b.len() && b[i].is_ascii_digit() {
                if i - start < 9 {
                    nanos = nanos * 10 + u32::from(b[i] - b'0');
                }
                i += 1;
            }
            let digits = i - start;
            if digits == 0 {
                return None;
            }
            for _ in digits..9 {
                nanos *= 10;
            }
        }
        let offset = match b.get(i..)? {
            b"Z" => time::UtcOffset::UTC,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let two =
                    |x: u8, y: u8| (x.is_ascii_digit() && y.is_ascii_digit()).then(|| (x - b'0') * 10 + (y - b'0'));
                let (h, m) = (i8::try_from(two(*h1, *h2)?).ok()?, i8::try_from(two(*m1, *m2)?).ok()?);
                let sign = if *sign == b'-' { -1 } else { 1 };
                time::UtcOffset::from_hms(sign * h, sign * m, 0).ok()?
            }
            _ => return None,
        };
        let date = time::Date::from_calendar_date(year, month, day).ok()?;
        let clock = time::Time::from_hms_nano(
            u8::try_from(hour).ok()?,
            u8::try_from(minute).ok()?,
            u8::try_from(second).ok()?,
            nanos,
        )
        .ok()?;
        Some(date.with_time(clock).assume_offset(offset))
    }

    /// Parses the string where serde hands it over, without copying it first.
    struct Text;

    impl serde::de::Visitor<'_> for Text {
        type Value = OffsetDateTime;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an rfc 3339 timestamp")
        }
        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<OffsetDateTime, E> {
            parse(text).ok_or_else(|| E::custom(format!("{text:?} is not an rfc 3339 timestamp")))
        }
    }

    /// Reads RFC 3339 text.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        d.deserialize_str(Text)
    }

    /// The same for `Option` fields (`null` and absence read as `None`; add `#[serde(default)]`).
    pub mod option {
        use serde::Deserializer;
        use time::OffsetDateTime;

        pub use time::serde::rfc3339::option::serialize;

        /// Reads RFC 3339 text or `null`.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<OffsetDateTime>, D::Error> {
            /// `null` or RFC 3339 text.
            struct MaybeText;
            impl<'de> serde::de::Visitor<'de> for MaybeText {
                type Value = Option<OffsetDateTime>;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("an rfc 3339 timestamp or null")
                }
                fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                    Ok(None)
                }
                fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                    Ok(None)
                }
                fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                    super::deserialize(d).map(Some)
                }
            }
            d.deserialize_option(MaybeText)
        }
    }

    #[cfg(test)]
    mod tests {
        use time::format_description::well_known::Rfc3339;

        #[test]
        fn fast_path_agrees_with_the_time_crate() {
            for text in [
                "2024-01-01T00:00:00.000Z",
                "2024-01-16T09:00:00Z",
                "2024-02-29T23:59:59.123456789+05:30",
                "1999-12-31T23:59:59.5-08:00",
                "2024-01-01T00:00:00.1234567891Z",
            ] {
                let slow = time::OffsetDateTime::parse(text, &Rfc3339).unwrap();
                assert_eq!(super::fast(text), Some(slow), "{text}");
            }
            for bad in [
                "2024-02-30T00:00:00Z",
                "2024-01-01T24:00:00Z",
                "2024-01-01T00:00:00",
                "2024-01-01 00:00:00Z",
                "2024-01-01T00:00:00.Z",
                "2024-01-01T00:00:00+5:30",
                "x024-01-01T00:00:00Z",
            ] {
                assert_eq!(super::fast(bad), None, "{bad}");
                assert_eq!(
                    super::parse(bad),
                    time::OffsetDateTime::parse(bad, &Rfc3339).ok(),
                    "{bad}"
                );
            }
        }
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
                from_units(i64::deserialize(d)?).map_err(serde::de::Error::custom)
            }

            /// Whole seconds and the rest in `i64` (divisions by a constant), where going through
            /// `from_unix_timestamp_nanos` costs a 128-bit division per timestamp.
            fn from_units(n: i64) -> Result<OffsetDateTime, time::error::ComponentRange> {
                const UNITS: i64 = PER_SECOND as i64;
                const NANOS_PER_UNIT: i64 = 1_000_000_000 / UNITS;
                let nanos = n.rem_euclid(UNITS) * NANOS_PER_UNIT;
                OffsetDateTime::from_unix_timestamp(n.div_euclid(UNITS))?
                    .replace_nanosecond(u32::try_from(nanos).unwrap_or(0))
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
                        Some(n) => super::from_units(n).map(Some).map_err(serde::de::Error::custom),
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
    fn unix_units_read_as_the_nanosecond_formula_does() {
        for n in [
            0,
            1,
            -1,
            999,
            -999,
            1000,
            -1001,
            1_700_000_000_123,
            -62_135_596_800_000,
            i64::MAX,
            i64::MIN,
        ] {
            let text = format!(r#"{{"s":0,"ms":{n}}}"#);
            let read = serde_json::from_str::<Wire>(&text).ok().and_then(|w| w.ms);
            let expected = OffsetDateTime::from_unix_timestamp_nanos(i128::from(n) * 1_000_000).ok();
            assert_eq!(read, expected, "{n} ms");
            let text = format!(r#"{{"s":{n}}}"#);
            let read = serde_json::from_str::<Wire>(&text).ok().map(|w| w.s);
            let expected = OffsetDateTime::from_unix_timestamp_nanos(i128::from(n) * 1_000_000_000).ok();
            assert_eq!(read, expected, "{n} s");
        }
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
