//! Amount codecs: the wire spellings of money, each read and written exactly.
//!
//! A wire struct holds the spelling (the currency is often elsewhere, or only in the client's
//! configuration), and converts with the currency once known: `wire.amount.to_money(currency)`.
//! Errors are `Decode` errors naming the field; nothing passes through `f64`.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::currency::Currency;
use crate::error::{Error, Result};
use crate::money::Money;

fn decode(field: &str, e: impl fmt::Display) -> Error {
    Error::decode(format!("field `{field}`: {e}"))
}

/// Minor units as a JSON integer: `2500` = 25.00 USD. Strings, fractions and exponents are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MinorUnits(pub i64);

impl MinorUnits {
    /// The wire form of `money`.
    pub fn from_money(money: &Money) -> MinorUnits {
        MinorUnits(money.minor())
    }
    /// The amount in `currency`.
    #[inline]
    pub fn to_money(self, currency: Currency) -> Money {
        Money::from_minor(self.0, currency)
    }
}

/// Minor units as a JSON string, `"50000"`; a JSON integer is also read (some endpoints disagree).
/// Written as a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinorUnitsString(pub String);

impl MinorUnitsString {
    /// The wire form of `money`.
    pub fn from_money(money: &Money) -> MinorUnitsString {
        MinorUnitsString(money.to_minor_string())
    }
    /// The amount in `currency`; `field` names the wire field in the error.
    pub fn to_money(&self, currency: Currency, field: &str) -> Result<Money> {
        Money::from_minor_str(&self.0, currency).map_err(|e| decode(field, e))
    }
}

impl Serialize for MinorUnitsString {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for MinorUnitsString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = MinorUnitsString;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("minor units as a string or an integer")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Self::Value, E> {
                Ok(MinorUnitsString(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Self::Value, E> {
                Ok(MinorUnitsString(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Self::Value, E> {
                Ok(MinorUnitsString(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// Major units as a decimal, spelled either as a JSON string (`"50.00"`) or a JSON number (`50.00`),
/// kept as the exact text. Written as a string by [`MajorDecimal::string`] or as a bare JSON number by
/// [`MajorDecimal::number`] (the digits are emitted verbatim, never through `f64`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MajorDecimal {
    text: String,
    as_number: bool,
}

impl MajorDecimal {
    /// `money` written as a decimal string, `"12.50"`.
    pub fn string(money: &Money) -> MajorDecimal {
        MajorDecimal {
            text: money.to_major_string(),
            as_number: false,
        }
    }
    /// `money` written as a JSON number, `12.50`.
    pub fn number(money: &Money) -> MajorDecimal {
        MajorDecimal {
            text: money.to_major_string(),
            as_number: true,
        }
    }
    /// The decimal text as received or to be sent.
    pub fn text(&self) -> &str {
        &self.text
    }
    /// The amount in `currency`; more decimals than the currency has is an error; `field` names the wire
    /// field in the error.
    pub fn to_money(&self, currency: Currency, field: &str) -> Result<Money> {
        Money::from_major_str(&self.text, currency).map_err(|e| decode(field, e))
    }
}

impl Serialize for MajorDecimal {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        if self.as_number {
            let raw = RawValue::from_string(self.text.clone()).map_err(serde::ser::Error::custom)?;
            raw.serialize(s)
        } else {
            s.serialize_str(&self.text)
        }
    }
}

impl<'de> Deserialize<'de> for MajorDecimal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        // Read the value's own text: a JSON number is kept exactly as written. The raw text's buffer
        // becomes the decimal's, so an amount costs one allocation.
        let raw = Box::<RawValue>::deserialize(d)?;
        let mut text = Box::<str>::from(raw).into_string();
        if text.starts_with('"') {
            if text.contains('\\') {
                text = serde_json::from_str(&text).map_err(de::Error::custom)?;
            } else {
                text.pop();
                text.remove(0);
            }
            Ok(MajorDecimal { text, as_number: false })
        } else if text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
            Ok(MajorDecimal { text, as_number: true })
        } else {
            Err(de::Error::custom(format!("expected a decimal amount, got {text}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, Deserialize)]
    struct Wire {
        amount: MajorDecimal,
    }

    #[test]
    fn decimal_numbers_are_read_from_their_text() {
        let w: Wire = serde_json::from_str(r#"{"amount": 0.30}"#).unwrap();
        assert_eq!(w.amount.text(), "0.30");
        assert_eq!(w.amount.to_money(Currency::USD, "amount").unwrap().minor(), 30);
        let w: Wire = serde_json::from_str(r#"{"amount": "1.234"}"#).unwrap();
        assert_eq!(w.amount.to_money(Currency::KWD, "amount").unwrap().minor(), 1234);
        let w: Wire = serde_json::from_str(r#"{"amount": 1e3}"#).unwrap();
        assert_eq!(
            w.amount.to_money(Currency::JPY, "amount").unwrap_err().kind(),
            &crate::ErrorKind::Decode
        );
        let err = serde_json::from_str::<Wire>(r#"{"amount": 0.12345678901234567890}"#)
            .unwrap()
            .amount
            .to_money(Currency::USD, "amount")
            .unwrap_err();
        assert!(err.to_string().contains("`amount`"));
        assert!(serde_json::from_str::<Wire>(r#"{"amount": true}"#).is_err());
    }

    #[test]
    fn decimal_numbers_are_written_verbatim() {
        let m = Money::from_minor(1250, Currency::USD);
        assert_eq!(
            serde_json::to_string(&Wire {
                amount: MajorDecimal::number(&m)
            })
            .unwrap(),
            r#"{"amount":12.50}"#
        );
        assert_eq!(
            serde_json::to_string(&Wire {
                amount: MajorDecimal::string(&m)
            })
            .unwrap(),
            r#"{"amount":"12.50"}"#
        );
        let kwd = Money::from_minor(1234, Currency::KWD);
        assert_eq!(serde_json::to_string(&MajorDecimal::number(&kwd)).unwrap(), "1.234");
    }

    #[test]
    fn minor_strings_accept_integers_too() {
        let s: MinorUnitsString = serde_json::from_str("\"50000\"").unwrap();
        assert_eq!(s.to_money(Currency::EGP, "amount").unwrap().to_major_string(), "500.00");
        let n: MinorUnitsString = serde_json::from_str("50000").unwrap();
        assert_eq!(n.to_money(Currency::EGP, "amount").unwrap().minor(), 50000);
        assert!(serde_json::from_str::<MinorUnitsString>("500.5").is_err());
        let big: MinorUnitsString = serde_json::from_str("\"99999999999999999999\"").unwrap();
        assert!(big.to_money(Currency::EGP, "amount").is_err());
        assert_eq!(
            serde_json::to_string(&MinorUnitsString::from_money(&Money::from_minor(7, Currency::USD))).unwrap(),
            "\"7\""
        );
        assert!(serde_json::from_str::<MinorUnits>("1e3").is_err());
        assert!(serde_json::from_str::<MinorUnits>("99999999999999999999").is_err());
    }
}
