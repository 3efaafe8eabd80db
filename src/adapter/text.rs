//! Wire strings that are only looked at, never kept.

use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A wire string a conversion only reads (a status, a currency code, an `object` tag): borrowed from
/// the body when the JSON string has no escape, so reading it allocates nothing; owned otherwise.
///
/// Serde's `Cow<str>` borrows only as a direct field with `#[serde(borrow)]`, never inside an
/// `Option`; `Text` borrows in both (`#[serde(borrow)] status: Option<Text<'a>>`).
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Text<'a>(Cow<'a, str>);

impl Text<'_> {
    /// The string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The string, owned.
    pub fn into_owned(self) -> String {
        self.0.into_owned()
    }
}

impl Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'a> From<&'a str> for Text<'a> {
    fn from(text: &'a str) -> Text<'a> {
        Text(Cow::Borrowed(text))
    }
}

impl From<String> for Text<'_> {
    fn from(text: String) -> Self {
        Text(Cow::Owned(text))
    }
}

impl fmt::Debug for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Text<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Self::Value, E> {
        Ok(Text(Cow::Borrowed(text)))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok(Text(Cow::Owned(text.to_owned())))
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<Self::Value, E> {
        Ok(Text(Cow::Owned(text)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Wire<'a> {
        #[serde(borrow)]
        status: Option<Text<'a>>,
    }

    #[test]
    fn borrows_plain_strings_inside_options_and_owns_escaped_ones() {
        let body = r#"{"status":"succeeded"}"#;
        let wire: Wire = serde_json::from_str(body).unwrap();
        let status = wire.status.unwrap();
        assert!(matches!(status.0, Cow::Borrowed(_)));
        assert_eq!(status.as_str(), "succeeded");
        let escaped: Wire = serde_json::from_str(r#"{"status":"succ\u0065eded"}"#).unwrap();
        assert_eq!(escaped.status.as_deref(), Some("succeeded"));
        let owned = Text::deserialize(serde_json::Value::String("pending".into())).unwrap();
        assert!(matches!(owned.0, Cow::Owned(_)));
        assert_eq!(owned.into_owned(), "pending");
        assert!(serde_json::from_str::<Wire>(r#"{"status":5}"#).is_err());
        assert_eq!(serde_json::to_string(&Text::from("x\"y")).unwrap(), r#""x\"y""#);
    }
}
