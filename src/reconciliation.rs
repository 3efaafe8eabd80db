//! Reconciliation facts: what a provider reports about a refund for matching it against its books,
//! beyond the amount.
//!
//! A concept two or more providers document is a field of [`Refund`](crate::Refund): the fee the
//! provider charged is [`Refund::fee`](crate::Refund::fee) (SyncgramPay's `refund_fee_amount`; Bias's
//! `fees` object is left untyped in `raw`, as its vendor model leaves its keys open). A concept only one provider
//! documents is a [`Fact`], read through the one typed accessor [`Reconciliation::get`]:
//!
//! | fact | value | who reports it |
//! | --- | --- | --- |
//! | [`BalanceTransaction`] | the ledger entry that moved the money (`String`) | xpay `balanceTransactionId` |
//! | [`ReceiptNumber`] | the receipt number shown to the customer (`String`) | Stripe-style `receipt_number` |
//! | [`FeeBearer`] | who bears the refund's fee ([`Party`]) | SyncgramPay `fee_bearer` |
//!
//! ```
//! use refunds::reconciliation::{BalanceTransaction, ReceiptNumber, Reconciliation};
//!
//! let mut facts = Reconciliation::default();
//! facts.set::<BalanceTransaction>("bt_1".to_owned());
//! assert_eq!(facts.get::<BalanceTransaction>().as_deref(), Some("bt_1"));
//! assert_eq!(facts.get::<ReceiptNumber>(), None);
//! ```
//!
//! A provider crate outside this one can report its own fact: implement [`Fact`] on a type of its own
//! (the name must not collide with the ones above). The facts serialize as one JSON object,
//! `{"balance_transaction": "bt_1"}`, and the provider's raw JSON stays in
//! [`Refund::raw`](crate::Refund::raw) whatever is read from it.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A reconciliation fact one provider reports: its name and how its value is written as text.
pub trait Fact {
    /// The fact's name (`"balance_transaction"`), its key in [`Reconciliation`] and in JSON.
    const NAME: &'static str;
    /// The value's type.
    type Value;
    /// Reads the stored text; `None` when it does not hold a value of this fact.
    fn read(text: &str) -> Option<Self::Value>;
    /// Writes a value as the stored text.
    fn write(value: &Self::Value) -> String;
}

/// A fact whose value is the provider's text as given (an id, a number shown to people).
macro_rules! text_fact {
    ($(#[$doc:meta])* $name:ident = $key:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name;

        impl Fact for $name {
            const NAME: &'static str = $key;
            type Value = String;
            fn read(text: &str) -> Option<String> {
                Some(text.to_owned())
            }
            fn write(value: &String) -> String {
                value.clone()
            }
        }
    };
}

text_fact! {
    /// The ledger entry that moved the refund's money (xpay's `balanceTransactionId`, `bt_...`).
    BalanceTransaction = "balance_transaction"
}

text_fact! {
    /// The receipt number of the refund, as the provider shows it to the customer (a Stripe-style
    /// `receipt_number`).
    ReceiptNumber = "receipt_number"
}

/// Who bears the refund's fee ([`Party`]; SyncgramPay's `fee_bearer`, `ORG` or `CUSTOMER`).
#[derive(Debug, Clone, Copy)]
pub struct FeeBearer;

impl Fact for FeeBearer {
    const NAME: &'static str = "fee_bearer";
    type Value = Party;
    fn read(text: &str) -> Option<Party> {
        Some(Party::from_name(text))
    }
    fn write(value: &Party) -> String {
        value.as_str().to_owned()
    }
}

/// One side of a payment: the merchant or its customer. Other names are kept as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Party {
    /// The merchant (SyncgramPay's organisation, `ORG`).
    Merchant,
    /// The customer (`CUSTOMER`).
    Customer,
    /// A name this SDK does not know, as written.
    Other(String),
}

impl Party {
    /// The SDK's name (`"merchant"`, `"customer"`), or the text of `Other`.
    pub fn as_str(&self) -> &str {
        match self {
            Party::Merchant => "merchant",
            Party::Customer => "customer",
            Party::Other(text) => text,
        }
    }

    /// Reads the SDK's names and the providers' (`ORG`, `org`, `CUSTOMER`, any case); anything else
    /// is `Other`.
    pub fn from_name(name: &str) -> Party {
        if ["merchant", "org", "organization", "organisation"]
            .iter()
            .any(|n| n.eq_ignore_ascii_case(name))
        {
            Party::Merchant
        } else if name.eq_ignore_ascii_case("customer") {
            Party::Customer
        } else {
            Party::Other(name.to_owned())
        }
    }
}

impl fmt::Display for Party {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The reconciliation facts of one refund, by [`Fact`]: empty unless its provider reports some.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Reconciliation(BTreeMap<Cow<'static, str>, String>);

impl Reconciliation {
    /// The value of fact `F`, if the provider reported it.
    pub fn get<F: Fact>(&self) -> Option<F::Value> {
        self.0.get(F::NAME).and_then(|text| F::read(text))
    }

    /// Records fact `F`.
    pub fn set<F: Fact>(&mut self, value: F::Value) {
        self.0.insert(Cow::Borrowed(F::NAME), F::write(&value));
    }

    /// True when no fact is recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every fact as `(name, text)`, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(name, text)| (name.as_ref(), text.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_are_typed_and_serialize_as_one_object() {
        let mut facts = Reconciliation::default();
        assert!(facts.is_empty());
        facts.set::<ReceiptNumber>("1234-5678".to_owned());
        facts.set::<FeeBearer>(Party::from_name("ORG"));
        assert_eq!(facts.get::<FeeBearer>(), Some(Party::Merchant));
        assert_eq!(facts.get::<ReceiptNumber>().as_deref(), Some("1234-5678"));
        assert_eq!(facts.get::<BalanceTransaction>(), None);
        let json = serde_json::to_value(&facts).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"fee_bearer": "merchant", "receipt_number": "1234-5678"})
        );
        let back: Reconciliation = serde_json::from_value(json).unwrap();
        assert_eq!(back, facts);
        assert_eq!(
            facts.iter().collect::<Vec<_>>(),
            [("fee_bearer", "merchant"), ("receipt_number", "1234-5678")]
        );
    }

    #[test]
    fn parties_keep_unknown_names() {
        assert_eq!(Party::from_name("customer"), Party::Customer);
        assert_eq!(Party::from_name("Org"), Party::Merchant);
        assert_eq!(Party::from_name("PLATFORM"), Party::Other("PLATFORM".into()));
        assert_eq!(Party::Other("PLATFORM".into()).to_string(), "PLATFORM");
    }
}
