//! Stripe-style expandable fields: an id, or the object it names when the request asked to expand it.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A field that is an id string, or the object itself when expanded (`expand[]=payment`).
///
/// Read from its first token instead of through serde's `untagged`, which buffers the whole value and
/// then tries each variant: a refund's payment id is read at the cost of a plain string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expandable<T> {
    /// Not expanded: the id alone.
    Id(String),
    /// Expanded: the whole object.
    Expanded(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Expandable<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(IdOrObject(PhantomData))
    }
}

struct IdOrObject<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for IdOrObject<T> {
    type Value = Expandable<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an id string or an expanded object")
    }

    fn visit_str<E: de::Error>(self, id: &str) -> Result<Self::Value, E> {
        Ok(Expandable::Id(id.to_owned()))
    }

    fn visit_string<E: de::Error>(self, id: String) -> Result<Self::Value, E> {
        Ok(Expandable::Id(id))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map)).map(Expandable::Expanded)
    }
}

impl<T: Serialize> Serialize for Expandable<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Expandable::Id(id) => s.serialize_str(id),
            Expandable::Expanded(object) => object.serialize(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Deserialize, Serialize)]
    struct Payment {
        id: String,
        amount: i64,
    }

    #[test]
    fn an_id_or_the_object_and_nothing_else() {
        let id: Expandable<Payment> = serde_json::from_str(r#""pay_1""#).unwrap();
        assert_eq!(id, Expandable::Id("pay_1".into()));
        let escaped: Expandable<Payment> = serde_json::from_str(r#""pay_\u0031""#).unwrap();
        assert_eq!(escaped, Expandable::Id("pay_1".into()));
        let object: Expandable<Payment> = serde_json::from_str(r#"{"id":"pay_1","amount":5}"#).unwrap();
        assert_eq!(
            object,
            Expandable::Expanded(Payment {
                id: "pay_1".into(),
                amount: 5
            })
        );
        for bad in ["null", "5", r#"["pay_1", 5]"#, r#"{"id":"pay_1"}"#] {
            assert!(serde_json::from_str::<Expandable<Payment>>(bad).is_err(), "{bad}");
        }
        assert_eq!(serde_json::to_string(&id).unwrap(), r#""pay_1""#);
        assert_eq!(serde_json::to_string(&object).unwrap(), r#"{"id":"pay_1","amount":5}"#);
    }
}
