//! WooshPay's amount units. WooshPay documents only "the smallest currency unit" with ¥ as its one
//! zero-decimal example; its API copies Stripe's, so Stripe's documented exponents are ASSUMED here
//! (the README's "Units" table). Where Stripe's wire exponent differs from ISO 4217 the amount is
//! converted the way Stripe documents, both ways; where neither is known it is refused, never guessed.

use refunds::{Currency, Error, Money, Result};

/// How a WooshPay integer amount relates to the ISO minor units of a [`Money`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scale {
    /// The same number (Stripe and ISO agree).
    Iso,
    /// ISO has no decimals but Stripe sends two that are always `00` (ISK, UGX): wire = ISO × 100.
    TwoDecimalsOfWhole,
    /// ISO has two decimals but Stripe sends whole units (MGA): wire = ISO ÷ 100, whole units only.
    WholeOfTwoDecimals,
    /// No documented Stripe exponent (ISO 3 outside Stripe's five, ISO 4, non-ISO codes): refused.
    Unknown,
}

/// Stripe's three-decimal currencies (same exponent as ISO; Stripe wants the last digit 0, which
/// WooshPay is left to enforce).
const THREE_DECIMALS: [&str; 5] = ["BHD", "JOD", "KWD", "OMR", "TND"];

/// The scale of `currency` on WooshPay's wire.
pub(crate) fn scale(currency: Currency) -> Scale {
    let iso = Currency::from_code(currency.code()).is_ok_and(|c| c == currency);
    match (currency.code(), currency.exponent()) {
        _ if !iso => Scale::Unknown,
        ("ISK" | "UGX", 0) => Scale::TwoDecimalsOfWhole,
        ("MGA", 2) => Scale::WholeOfTwoDecimals,
        (code, 3) if THREE_DECIMALS.contains(&code) => Scale::Iso,
        (_, 0 | 2) => Scale::Iso,
        _ => Scale::Unknown,
    }
}

/// The integer WooshPay is sent for `money`, or an `InvalidRequest` naming `amount` (nothing sent).
pub(crate) fn to_wire(money: &Money) -> Result<i64> {
    let currency = money.currency();
    let refuse = |why: &str| Error::invalid_request("amount", format!("wooshpay: {} {why}", currency.code()));
    match scale(currency) {
        Scale::Iso => Ok(money.minor()),
        Scale::TwoDecimalsOfWhole => money
            .minor()
            .checked_mul(100)
            .ok_or_else(|| refuse("amount is too large to send in hundredths")),
        Scale::WholeOfTwoDecimals if money.minor() % 100 == 0 => Ok(money.minor() / 100),
        Scale::WholeOfTwoDecimals => Err(refuse(
            "is sent in whole units (Stripe's zero-decimal rule); this amount has a fraction",
        )),
        Scale::Unknown => Err(refuse(
            "has no known wooshpay (Stripe) unit: refused rather than risk a 100× error",
        )),
    }
}

/// The [`Money`] a WooshPay integer amount in `currency` means, or a `Decode` error naming `amount`.
pub(crate) fn from_wire(wire: i64, currency: Currency) -> Result<Money> {
    let fail = |why: &str| Error::decode(format!("refund field `amount`: {wire} {} {why}", currency.code()));
    let minor = match scale(currency) {
        Scale::Iso => wire,
        Scale::TwoDecimalsOfWhole if wire % 100 == 0 => wire / 100,
        Scale::TwoDecimalsOfWhole => return Err(fail("is not a whole number of units (sent in hundredths)")),
        Scale::WholeOfTwoDecimals => wire.checked_mul(100).ok_or_else(|| fail("is out of range"))?,
        Scale::Unknown => return Err(fail("has no known wooshpay (Stripe) unit")),
    };
    Ok(Money::from_minor(minor, currency))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(code: &str, minor: i64) -> Money {
        Money::from_minor(minor, Currency::from_code(code).unwrap())
    }

    #[test]
    fn stripe_special_cases_convert_both_ways() {
        for (code, minor, wire) in [
            ("USD", 1250, 1250),
            ("JPY", 500, 500),
            ("KWD", 1230, 1230),
            ("ISK", 5, 500),
            ("UGX", 7, 700),
            ("MGA", 1200, 12),
            ("HUF", 150, 150),
        ] {
            assert_eq!(to_wire(&money(code, minor)).unwrap(), wire, "{code}");
            assert_eq!(
                from_wire(wire, money(code, 0).currency()).unwrap(),
                money(code, minor),
                "{code}"
            );
        }
        for (code, minor) in [("MGA", 1250), ("IQD", 1000), ("CLF", 10_000), ("ISK", i64::MAX)] {
            let e = to_wire(&money(code, minor)).unwrap_err();
            assert_eq!(e.field(), Some("amount"), "{code}");
            assert_eq!(e.delivery(), refunds::Delivery::NotSent);
        }
        let custom = Currency::with_exponent("XBT", 2).unwrap();
        assert!(to_wire(&Money::from_minor(1, custom)).is_err());
        for (code, wire) in [("ISK", 4010), ("LYD", 1000), ("MGA", i64::MAX)] {
            let e = from_wire(wire, money(code, 0).currency()).unwrap_err();
            assert_eq!(e.kind(), &refunds::ErrorKind::Decode, "{code}");
        }
    }
}
