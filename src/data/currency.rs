//! ISO 4217 currencies with their minor-unit exponents.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Error;

/// An ISO 4217 currency: a three-letter upper-case code and the number of decimal places of its minor unit.
///
/// The exponent decides how many minor units make one major unit: JPY and KRW have none, USD has two,
/// KWD, BHD, JOD, OMR and TND have three. Getting it wrong is the classic 100× refund bug, so a
/// `Currency` is only built from the ISO table ([`Currency::from_code`]) or with an explicit exponent
/// ([`Currency::with_exponent`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: [u8; 3],
    exponent: u8,
}

/// Active ISO 4217 codes and their exponents (minor-unit decimal places).
const ISO_4217: &[(&str, u8)] = &[
    ("AED", 2),
    ("AFN", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("ANG", 2),
    ("AOA", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("AWG", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BBD", 2),
    ("BDT", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BIF", 0),
    ("BMD", 2),
    ("BND", 2),
    ("BOB", 2),
    ("BOV", 2),
    ("BRL", 2),
    ("BSD", 2),
    ("BTN", 2),
    ("BWP", 2),
    ("BYN", 2),
    ("BZD", 2),
    ("CAD", 2),
    ("CDF", 2),
    ("CHE", 2),
    ("CHF", 2),
    ("CHW", 2),
    ("CLF", 4),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("COU", 2),
    ("CRC", 2),
    ("CUP", 2),
    ("CVE", 2),
    ("CZK", 2),
    ("DJF", 0),
    ("DKK", 2),
    ("DOP", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("ERN", 2),
    ("ETB", 2),
    ("EUR", 2),
    ("FJD", 2),
    ("FKP", 2),
    ("GBP", 2),
    ("GEL", 2),
    ("GHS", 2),
    ("GIP", 2),
    ("GMD", 2),
    ("GNF", 0),
    ("GTQ", 2),
    ("GYD", 2),
    ("HKD", 2),
    ("HNL", 2),
    ("HTG", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("IQD", 3),
    ("IRR", 2),
    ("ISK", 0),
    ("JMD", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KGS", 2),
    ("KHR", 2),
    ("KMF", 0),
    ("KPW", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("KYD", 2),
    ("KZT", 2),
    ("LAK", 2),
    ("LBP", 2),
    ("LKR", 2),
    ("LRD", 2),
    ("LSL", 2),
    ("LYD", 3),
    ("MAD", 2),
    ("MDL", 2),
    ("MGA", 2),
    ("MKD", 2),
    ("MMK", 2),
    ("MNT", 2),
    ("MOP", 2),
    ("MRU", 2),
    ("MUR", 2),
    ("MVR", 2),
    ("MWK", 2),
    ("MXN", 2),
    ("MXV", 2),
    ("MYR", 2),
    ("MZN", 2),
    ("NAD", 2),
    ("NGN", 2),
    ("NIO", 2),
    ("NOK", 2),
    ("NPR", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PAB", 2),
    ("PEN", 2),
    ("PGK", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("RWF", 0),
    ("SAR", 2),
    ("SBD", 2),
    ("SCR", 2),
    ("SDG", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("SHP", 2),
    ("SLE", 2),
    ("SOS", 2),
    ("SRD", 2),
    ("SSP", 2),
    ("STN", 2),
    ("SVC", 2),
    ("SYP", 2),
    ("SZL", 2),
    ("THB", 2),
    ("TJS", 2),
    ("TMT", 2),
    ("TND", 3),
    ("TOP", 2),
    ("TRY", 2),
    ("TTD", 2),
    ("TWD", 2),
    ("TZS", 2),
    ("UAH", 2),
    ("UGX", 0),
    ("USD", 2),
    ("USN", 2),
    ("UYI", 0),
    ("UYU", 2),
    ("UYW", 4),
    ("UZS", 2),
    ("VED", 2),
    ("VES", 2),
    ("VND", 0),
    ("VUV", 0),
    ("WST", 2),
    ("XAF", 0),
    ("XCD", 2),
    ("XCG", 2),
    ("XOF", 0),
    ("XPF", 0),
    ("YER", 2),
    ("ZAR", 2),
    ("ZMW", 2),
    ("ZWG", 2),
];

/// Marks a three-letter code that is not in [`ISO_4217`] in [`ISO_EXPONENTS`].
const NOT_ISO: u8 = u8::MAX;

/// Every three-letter code `AAA..=ZZZ` to its ISO 4217 exponent or [`NOT_ISO`], built at compile time
/// from [`ISO_4217`]: decoding reads a currency per refund, and a direct index (17,576 bytes) costs a
/// fraction of a search through the code strings.
static ISO_EXPONENTS: [u8; 26 * 26 * 26] = {
    let mut table = [NOT_ISO; 26 * 26 * 26];
    let mut i = 0;
    while i < ISO_4217.len() {
        let b = ISO_4217[i].0.as_bytes();
        table[letters_index([b[0], b[1], b[2]])] = ISO_4217[i].1;
        i += 1;
    }
    table
};

/// The position of three upper-case ASCII letters in [`ISO_EXPONENTS`].
const fn letters_index(code: [u8; 3]) -> usize {
    (code[0] - b'A') as usize * 676 + (code[1] - b'A') as usize * 26 + (code[2] - b'A') as usize
}

/// The largest exponent a custom currency may have: 10^18 still fits in an `i64`.
pub const MAX_EXPONENT: u8 = 18;

macro_rules! currency_consts {
    ($($name:ident = $exp:literal),* $(,)?) => {
        impl Currency {
            $(
                #[doc = concat!("ISO 4217 `", stringify!($name), "` (", stringify!($exp), " decimal places).")]
                pub const $name: Currency = Currency::from_static(stringify!($name), $exp);
            )*
        }
    };
}

currency_consts!(
    USD = 2,
    EUR = 2,
    GBP = 2,
    CAD = 2,
    AUD = 2,
    CHF = 2,
    CNY = 2,
    INR = 2,
    BRL = 2,
    MXN = 2,
    EGP = 2,
    CRC = 2,
    NGN = 2,
    ZAR = 2,
    SGD = 2,
    HKD = 2,
    SEK = 2,
    NOK = 2,
    DKK = 2,
    PLN = 2,
    JPY = 0,
    KRW = 0,
    CLP = 0,
    VND = 0,
    ISK = 0,
    UGX = 0,
    KWD = 3,
    BHD = 3,
    JOD = 3,
    OMR = 3,
    TND = 3,
    IQD = 3,
    LYD = 3,
);

impl Currency {
    const fn from_static(code: &str, exponent: u8) -> Currency {
        let b = code.as_bytes();
        Currency {
            code: [b[0], b[1], b[2]],
            exponent,
        }
    }

    /// Looks an ISO 4217 code up in the built-in table. Case-insensitive (`"usd"` and `"USD"` are the
    /// same currency); unknown codes are an error rather than a guessed exponent.
    pub fn from_code(code: &str) -> Result<Currency, Error> {
        let upper = normalize_code(code)?;
        match ISO_EXPONENTS[letters_index(upper)] {
            NOT_ISO => Err(Error::invalid_request(
                "currency",
                format!("unknown ISO 4217 currency code {code:?}"),
            )),
            exponent => Ok(Currency { code: upper, exponent }),
        }
    }

    /// A currency outside the ISO table (for example a crypto settlement unit) with an explicit exponent.
    ///
    /// An ISO 4217 code is refused with any exponent other than its own: `("USD", 0)` or a stored
    /// `{"code":"JPY","exponent":2}` would make every amount 100× off.
    pub fn with_exponent(code: &str, exponent: u8) -> Result<Currency, Error> {
        if let Ok(iso) = Currency::from_code(code) {
            if iso.exponent != exponent {
                return Err(Error::invalid_request(
                    "currency",
                    format!(
                        "{} has {} decimal places in ISO 4217, not {exponent}",
                        iso.code(),
                        iso.exponent
                    ),
                ));
            }
            return Ok(iso);
        }
        if exponent > MAX_EXPONENT {
            return Err(Error::invalid_request(
                "currency",
                format!("exponent {exponent} is larger than {MAX_EXPONENT}"),
            ));
        }
        Ok(Currency {
            code: normalize_code(code)?,
            exponent,
        })
    }

    /// The upper-case three-letter code, e.g. `"USD"`.
    pub fn code(&self) -> &str {
        // The bytes are checked ASCII letters at construction.
        std::str::from_utf8(&self.code).unwrap_or("???")
    }

    /// The lower-case code, as Stripe-style APIs write it (`"usd"`).
    pub fn code_lowercase(&self) -> String {
        self.code().to_ascii_lowercase()
    }

    /// Decimal places of the minor unit: 0 for JPY, 2 for USD, 3 for KWD.
    pub fn exponent(&self) -> u8 {
        self.exponent
    }

    /// How many minor units make one major unit (10^exponent).
    pub fn minor_per_major(&self) -> i64 {
        10_i64.pow(u32::from(self.exponent))
    }
}

fn normalize_code(code: &str) -> Result<[u8; 3], Error> {
    let b = code.as_bytes();
    if b.len() != 3 || !b.iter().all(u8::is_ascii_alphabetic) {
        return Err(Error::invalid_request(
            "currency",
            format!("currency code must be three ASCII letters, got {code:?}"),
        ));
    }
    Ok([
        b[0].to_ascii_uppercase(),
        b[1].to_ascii_uppercase(),
        b[2].to_ascii_uppercase(),
    ])
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(e{})", self.code(), self.exponent)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl std::str::FromStr for Currency {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Currency::from_code(s)
    }
}

/// Serialized as `{"code": "USD", "exponent": 2}` so that custom currencies round-trip.
#[derive(Serialize, Deserialize)]
struct CurrencyRepr {
    code: String,
    exponent: u8,
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        CurrencyRepr {
            code: self.code().to_owned(),
            exponent: self.exponent,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let repr = CurrencyRepr::deserialize(d)?;
        Currency::with_exponent(&repr.code, repr.exponent).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_codes_keep_their_own_exponent() {
        assert!(Currency::with_exponent("USD", 0).is_err());
        assert!(Currency::with_exponent("jpy", 2).is_err());
        assert_eq!(Currency::with_exponent("KWD", 3).unwrap(), Currency::KWD);
        let stored: Result<Currency, _> = serde_json::from_str(r#"{"code":"JPY","exponent":2}"#);
        assert!(stored.is_err());
        let money: Result<crate::Money, _> =
            serde_json::from_str(r#"{"minor":1250,"currency":{"code":"JPY","exponent":2}}"#);
        assert!(money.is_err());
        let good: crate::Money =
            serde_json::from_str(r#"{"minor":1250,"currency":{"code":"JPY","exponent":0}}"#).unwrap();
        assert_eq!(good, crate::Money::from_minor(1250, Currency::JPY));
        assert_eq!(Currency::from_code("USN").unwrap().exponent(), 2);
        assert!(Currency::with_exponent("XBT", 8).is_ok());
    }

    #[test]
    fn the_lookup_table_holds_exactly_the_iso_list() {
        assert!(ISO_4217.windows(2).all(|w| w[0].0 < w[1].0), "sorted, no duplicates");
        let known = ISO_EXPONENTS.iter().filter(|e| **e != NOT_ISO).count();
        assert_eq!(known, ISO_4217.len());
        for (code, exponent) in ISO_4217 {
            assert_eq!(Currency::from_code(code).unwrap().exponent(), *exponent, "{code}");
            assert_eq!(Currency::from_code(&code.to_ascii_lowercase()).unwrap().code(), *code);
        }
        for code in ["AAA", "ZZZ", "XBT", "usx"] {
            assert!(Currency::from_code(code).is_err(), "{code}");
        }
    }

    #[test]
    fn exponents_follow_iso_4217() {
        assert_eq!(Currency::from_code("JPY").unwrap().exponent(), 0);
        assert_eq!(Currency::from_code("krw").unwrap().exponent(), 0);
        assert_eq!(Currency::from_code("usd").unwrap(), Currency::USD);
        for code in ["BHD", "KWD", "JOD", "OMR", "TND"] {
            assert_eq!(Currency::from_code(code).unwrap().exponent(), 3, "{code}");
        }
        assert_eq!(Currency::KWD.minor_per_major(), 1000);
    }

    #[test]
    fn unknown_and_malformed_codes_are_rejected() {
        assert!(Currency::from_code("XYZ").is_err());
        assert!(Currency::from_code("US").is_err());
        assert!(Currency::from_code("U$D").is_err());
        assert!(Currency::with_exponent("BTC", 19).is_err());
        assert_eq!(Currency::with_exponent("btc", 8).unwrap().code(), "BTC");
    }

    #[test]
    fn serde_round_trips_custom_exponents() {
        let c = Currency::with_exponent("USDT", 6).err();
        assert!(c.is_some(), "four letters are not a code");
        let c = Currency::with_exponent("XBT", 8).unwrap();
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(json, r#"{"code":"XBT","exponent":8}"#);
        assert_eq!(serde_json::from_str::<Currency>(&json).unwrap(), c);
    }
}
