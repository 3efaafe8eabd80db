//! Exact money: integer minor units plus a currency. No floating point anywhere.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::currency::Currency;

/// An exact amount of money: an integer count of the currency's minor units.
///
/// `Money::from_minor(1250, Currency::USD)` is 12.50 USD; `Money::from_minor(1000, Currency::JPY)` is
/// ¥1000; `Money::from_minor(1234, Currency::KWD)` is 1.234 KWD. Conversions from decimal text are exact
/// and refuse more precision than the currency has rather than round.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

/// Why an amount could not be read or computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AmountError {
    /// The text is not a plain decimal number (signs, exponents, spaces and empty parts are refused).
    #[error("{0:?} is not a plain decimal amount")]
    Malformed(String),
    /// More decimal places than the currency's minor unit, with a non-zero digit among the extra ones.
    #[error("{text:?} has more than {exponent} decimal places, the precision of {currency}")]
    TooPrecise {
        /// The offending text.
        text: String,
        /// The currency's exponent.
        exponent: u8,
        /// The currency code.
        currency: String,
    },
    /// The value does not fit in 64-bit minor units.
    #[error("amount overflows 64-bit minor units")]
    Overflow,
    /// Arithmetic between two currencies.
    #[error("currency mismatch: {0} and {1}")]
    CurrencyMismatch(String, String),
}

impl Money {
    /// An amount in minor units (cents for USD, yen for JPY, fils for KWD).
    pub const fn from_minor(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    /// Zero in `currency`.
    pub const fn zero(currency: Currency) -> Money {
        Money { minor: 0, currency }
    }

    /// Parses minor units written as an integer string, e.g. `"50000"` EGP = 500.00 EGP.
    pub fn from_minor_str(text: &str, currency: Currency) -> Result<Money, AmountError> {
        let (negative, digits) = split_sign(text)?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AmountError::Malformed(text.to_owned()));
        }
        let magnitude = accumulate(0, digits).ok_or(AmountError::Overflow)?;
        Ok(Money {
            minor: apply_sign(negative, magnitude)?,
            currency,
        })
    }

    /// Parses a decimal amount in major units, e.g. `"12.5"` USD = 1250 minor, `"1.234"` KWD = 1234 minor,
    /// `"1000"` JPY = 1000 minor. Extra decimal places are accepted only when they are zeros
    /// (`"12.500"` USD); a non-zero digit beyond the currency's precision is an error, never a rounding.
    pub fn from_major_str(text: &str, currency: Currency) -> Result<Money, AmountError> {
        let (negative, body) = split_sign(text)?;
        let (int_part, frac_part) = match body.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (body, None),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if int_part.is_empty() || !all_digits(int_part) {
            return Err(AmountError::Malformed(text.to_owned()));
        }
        let frac = match frac_part {
            Some(f) if f.is_empty() || !all_digits(f) => {
                return Err(AmountError::Malformed(text.to_owned()));
            }
            Some(f) => f,
            None => "",
        };
        let exponent = usize::from(currency.exponent());
        let (kept, extra) = frac.split_at(frac.len().min(exponent));
        if extra.bytes().any(|b| b != b'0') {
            return Err(AmountError::TooPrecise {
                text: text.to_owned(),
                exponent: currency.exponent(),
                currency: currency.code().to_owned(),
            });
        }
        let mut magnitude = accumulate(0, int_part).ok_or(AmountError::Overflow)?;
        magnitude = accumulate(magnitude, kept).ok_or(AmountError::Overflow)?;
        for _ in kept.len()..exponent {
            magnitude = magnitude.checked_mul(10).ok_or(AmountError::Overflow)?;
        }
        Ok(Money {
            minor: apply_sign(negative, magnitude)?,
            currency,
        })
    }

    /// Parses the text of a JSON number as major units (`12.5`, `1000`); JSON's exponent form (`1e3`)
    /// is refused because amounts are written out in full by every provider.
    pub fn from_json_number(text: &str, currency: Currency) -> Result<Money, AmountError> {
        Money::from_major_str(text.trim(), currency)
    }

    /// The amount in minor units.
    pub const fn minor(&self) -> i64 {
        self.minor
    }

    /// The currency.
    pub const fn currency(&self) -> Currency {
        self.currency
    }

    /// Minor units as an integer string, `"1250"`.
    pub fn to_minor_string(&self) -> String {
        self.minor.to_string()
    }

    /// Major units as a decimal string with exactly the currency's decimal places:
    /// `"12.50"` USD, `"1000"` JPY, `"1.234"` KWD.
    pub fn to_major_string(&self) -> String {
        let exponent = usize::from(self.currency.exponent());
        let digits = self.minor.unsigned_abs().to_string();
        let sign = if self.minor < 0 { "-" } else { "" };
        if exponent == 0 {
            return format!("{sign}{digits}");
        }
        let padded = format!("{digits:0>width$}", width = exponent + 1);
        let (int_part, frac_part) = padded.split_at(padded.len() - exponent);
        format!("{sign}{int_part}.{frac_part}")
    }

    /// True when the amount is above zero.
    pub const fn is_positive(&self) -> bool {
        self.minor > 0
    }

    /// True when the amount is zero.
    pub const fn is_zero(&self) -> bool {
        self.minor == 0
    }

    /// `self + other`, refusing overflow and mixed currencies.
    pub fn checked_add(self, other: Money) -> Result<Money, AmountError> {
        self.same_currency(&other)?;
        let minor = self.minor.checked_add(other.minor).ok_or(AmountError::Overflow)?;
        Ok(Money {
            minor,
            currency: self.currency,
        })
    }

    /// `self - other`, refusing overflow and mixed currencies.
    pub fn checked_sub(self, other: Money) -> Result<Money, AmountError> {
        self.same_currency(&other)?;
        let minor = self.minor.checked_sub(other.minor).ok_or(AmountError::Overflow)?;
        Ok(Money {
            minor,
            currency: self.currency,
        })
    }

    fn same_currency(&self, other: &Money) -> Result<(), AmountError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(AmountError::CurrencyMismatch(
                self.currency.code().to_owned(),
                other.currency.code().to_owned(),
            ))
        }
    }
}

fn split_sign(text: &str) -> Result<(bool, &str), AmountError> {
    match text.strip_prefix('-') {
        Some(rest) => Ok((true, rest)),
        None => Ok((false, text)),
    }
}

/// Appends decimal digits to `start`, in `i128` so that `i64::MIN` stays reachable; `None` on overflow.
fn accumulate(start: i128, digits: &str) -> Option<i128> {
    digits.bytes().try_fold(start, |acc, b| {
        let v = acc.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
        (v <= i128::from(i64::MAX) + 1).then_some(v)
    })
}

fn apply_sign(negative: bool, magnitude: i128) -> Result<i64, AmountError> {
    let signed = if negative { -magnitude } else { magnitude };
    i64::try_from(signed).map_err(|_| AmountError::Overflow)
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Money({} {})", self.to_major_string(), self.currency.code())
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_major_string(), self.currency.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn major(text: &str, c: Currency) -> Result<i64, AmountError> {
        Money::from_major_str(text, c).map(|m| m.minor())
    }

    #[test]
    fn decimal_strings_are_exact() {
        // 0.10 + 0.20 is 0.30 exactly, the sum a float gets wrong.
        let a = Money::from_major_str("0.10", Currency::USD).unwrap();
        let b = Money::from_major_str("0.20", Currency::USD).unwrap();
        let sum = a.checked_add(b).unwrap();
        assert_eq!(sum.minor(), 30);
        assert_eq!(sum.to_major_string(), "0.30");
        assert_eq!(sum, Money::from_major_str("0.3", Currency::USD).unwrap());
    }

    #[test]
    fn exponents_zero_two_and_three() {
        assert_eq!(major("1000", Currency::JPY), Ok(1000));
        assert_eq!(Money::from_minor(1000, Currency::JPY).to_major_string(), "1000");
        assert_eq!(major("1.234", Currency::KWD), Ok(1234));
        assert_eq!(Money::from_minor(1234, Currency::KWD).to_major_string(), "1.234");
        assert_eq!(major("12.5", Currency::USD), Ok(1250));
        assert_eq!(Money::from_minor(1250, Currency::USD).to_major_string(), "12.50");
        assert_eq!(Money::from_minor(5, Currency::USD).to_major_string(), "0.05");
        assert_eq!(Money::from_minor(-5, Currency::KWD).to_major_string(), "-0.005");
        assert_eq!(major("0.5", Currency::BHD), Ok(500));
    }

    #[test]
    fn too_many_decimals_are_an_error_not_a_rounding() {
        assert!(matches!(
            major("1.2345", Currency::KWD),
            Err(AmountError::TooPrecise { .. })
        ));
        assert!(matches!(
            major("12.501", Currency::USD),
            Err(AmountError::TooPrecise { .. })
        ));
        assert!(matches!(
            major("1000.5", Currency::JPY),
            Err(AmountError::TooPrecise { .. })
        ));
        // Trailing zeros carry no extra value and are accepted.
        assert_eq!(major("12.500", Currency::USD), Ok(1250));
        assert_eq!(major("1000.0", Currency::JPY), Ok(1000));
    }

    #[test]
    fn overflow_is_rejected() {
        assert_eq!(major("92233720368547758.07", Currency::USD), Ok(i64::MAX));
        assert_eq!(major("92233720368547758.08", Currency::USD), Err(AmountError::Overflow));
        assert_eq!(
            major("99999999999999999999999999", Currency::JPY),
            Err(AmountError::Overflow)
        );
        assert_eq!(
            Money::from_minor_str("9223372036854775808", Currency::USD),
            Err(AmountError::Overflow)
        );
        assert_eq!(
            Money::from_minor_str("-9223372036854775808", Currency::USD)
                .unwrap()
                .minor(),
            i64::MIN
        );
        let max = Money::from_minor(i64::MAX, Currency::USD);
        assert_eq!(
            max.checked_add(Money::from_minor(1, Currency::USD)),
            Err(AmountError::Overflow)
        );
    }

    #[test]
    fn malformed_text_is_rejected() {
        for bad in [
            "", "-", ".5", "5.", "1,5", "1e3", "+1", " 1", "1 ", "0x10", "1.2.3", "--1", "NaN", "inf",
        ] {
            assert!(
                matches!(major(bad, Currency::USD), Err(AmountError::Malformed(_))),
                "{bad:?}"
            );
        }
        for bad in ["", "1.0", "1e3", "+5", "12a"] {
            assert!(Money::from_minor_str(bad, Currency::USD).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn minor_strings_round_trip() {
        let m = Money::from_minor_str("50000", Currency::EGP).unwrap();
        assert_eq!(m.minor(), 50000);
        assert_eq!(m.to_major_string(), "500.00");
        assert_eq!(m.to_minor_string(), "50000");
    }

    #[test]
    fn mixed_currencies_do_not_add() {
        let usd = Money::from_minor(1, Currency::USD);
        let eur = Money::from_minor(1, Currency::EUR);
        assert!(matches!(usd.checked_add(eur), Err(AmountError::CurrencyMismatch(..))));
        assert!(matches!(usd.checked_sub(eur), Err(AmountError::CurrencyMismatch(..))));
    }

    #[test]
    fn display_shows_major_units_and_code() {
        assert_eq!(Money::from_minor(123456, Currency::USD).to_string(), "1234.56 USD");
    }
}
