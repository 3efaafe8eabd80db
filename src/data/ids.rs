//! Identifier newtypes: refund ids, payment references and idempotency keys.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// Longest id the SDK accepts from a caller; providers' own ids are far shorter.
pub const MAX_ID_LEN: usize = 255;

#[inline]
fn check_id(field: &'static str, id: &str) -> Result<(), Error> {
    if id.is_empty() {
        return Err(Error::invalid_request(field, "must not be empty"));
    }
    if id.len() > MAX_ID_LEN {
        return Err(Error::invalid_request(field, format!("longer than {MAX_ID_LEN} bytes")));
    }
    // One byte scan: the C0 controls and DEL are single bytes, and the C1 controls (U+0080..U+009F)
    // all start with 0xC2, so only an id holding that byte is decoded to tell.
    // A fold without early exit, which the compiler vectorizes: ids are short and almost always clean.
    let suspect = id
        .bytes()
        .fold(false, |seen, b| seen | (b < 0x20) | (b == 0x7F) | (b == 0xC2));
    if suspect && id.chars().any(char::is_control) {
        return Err(Error::invalid_request(field, "contains a control character"));
    }
    if id == "." || id == ".." {
        return Err(Error::invalid_request(field, "is a dot path segment"));
    }
    Ok(())
}

/// A provider's refund id (`re_...`, `ref_...`). Opaque: never parsed, always path-encoded when sent.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RefundId(String);

// Read back (a stored pending create or refund) with the same checks as when it was made.
impl TryFrom<String> for RefundId {
    type Error = Error;
    fn try_from(value: String) -> Result<Self, Error> {
        RefundId::new(value)
    }
}

impl From<RefundId> for String {
    fn from(value: RefundId) -> String {
        value.0
    }
}

impl RefundId {
    /// Wraps a provider refund id; empty, over-long or control-character ids are refused.
    pub fn new(id: impl Into<String>) -> Result<RefundId, Error> {
        let id = id.into();
        check_id("refund_id", &id)?;
        Ok(RefundId(id))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RefundId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RefundId({:?})", self.0)
    }
}

impl fmt::Display for RefundId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What kind of object a [`PaymentRef`] names. Providers refund different things: a payment, a charge
/// or a payment intent; a provider that needs one kind rejects the others before sending anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PaymentRefKind {
    /// A payment (`pay_...`).
    Payment,
    /// A charge (`ch_...`).
    Charge,
    /// A payment intent (`pi_...`).
    PaymentIntent,
}

impl PaymentRefKind {
    /// The snake-case name, `"payment_intent"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            PaymentRefKind::Payment => "payment",
            PaymentRefKind::Charge => "charge",
            PaymentRefKind::PaymentIntent => "payment_intent",
        }
    }
}

/// The thing a refund gives money back for, by kind and id.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "PaymentRefWire")]
pub struct PaymentRef {
    kind: PaymentRefKind,
    id: String,
}

/// A payment reference as stored, checked like a new one when read back.
#[derive(Deserialize)]
struct PaymentRefWire {
    kind: PaymentRefKind,
    id: String,
}

impl TryFrom<PaymentRefWire> for PaymentRef {
    type Error = Error;
    fn try_from(value: PaymentRefWire) -> Result<Self, Error> {
        PaymentRef::new(value.kind, value.id)
    }
}

impl PaymentRef {
    /// A reference of an explicit kind; empty, over-long or control-character ids are refused.
    pub fn new(kind: PaymentRefKind, id: impl Into<String>) -> Result<PaymentRef, Error> {
        let id = id.into();
        check_id("payment", &id)?;
        Ok(PaymentRef { kind, id })
    }

    /// A payment (`pay_...`).
    pub fn payment(id: impl Into<String>) -> Result<PaymentRef, Error> {
        PaymentRef::new(PaymentRefKind::Payment, id)
    }

    /// A charge (`ch_...`).
    pub fn charge(id: impl Into<String>) -> Result<PaymentRef, Error> {
        PaymentRef::new(PaymentRefKind::Charge, id)
    }

    /// A payment intent (`pi_...`).
    pub fn payment_intent(id: impl Into<String>) -> Result<PaymentRef, Error> {
        PaymentRef::new(PaymentRefKind::PaymentIntent, id)
    }

    /// The kind of object referenced.
    pub fn kind(&self) -> PaymentRefKind {
        self.kind
    }

    /// The provider's id of that object.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Returns the id when the kind is one of `accepted`, else an `InvalidRequest` on field `payment`
    /// that says which kinds the provider takes.
    pub fn expect_kind(&self, provider: &str, accepted: &[PaymentRefKind]) -> Result<&str, Error> {
        if accepted.contains(&self.kind) {
            return Ok(&self.id);
        }
        let names: Vec<&str> = accepted.iter().map(PaymentRefKind::as_str).collect();
        Err(Error::invalid_request(
            "payment",
            format!(
                "{provider} refunds a {} reference, not a {}",
                names.join(" or "),
                self.kind.as_str()
            ),
        ))
    }
}

impl fmt::Debug for PaymentRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PaymentRef({}:{:?})", self.kind.as_str(), self.id)
    }
}

impl fmt::Display for PaymentRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id)
    }
}

/// A key that makes a create safe to repeat: 1 to 255 printable ASCII characters.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Longest key accepted.
    pub const MAX_LEN: usize = 255;

    /// Checks and wraps a caller's key.
    pub fn new(key: impl Into<String>) -> Result<IdempotencyKey, Error> {
        let key = key.into();
        if key.is_empty() || key.len() > Self::MAX_LEN {
            return Err(Error::invalid_request(
                "idempotency_key",
                format!("must be 1 to {} characters, got {}", Self::MAX_LEN, key.len()),
            ));
        }
        if !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::invalid_request(
                "idempotency_key",
                "must be printable ASCII without spaces",
            ));
        }
        Ok(IdempotencyKey(key))
    }

    /// A fresh random key (128 bits from the operating system, as 32 hex digits after `rfd_`).
    ///
    /// Fails (`Configuration`, `NotSent`) where the operating system has no entropy source: a key
    /// that is not random could repeat and turn a new refund into a replay of an old one.
    pub fn random() -> Result<IdempotencyKey, Error> {
        crate::random::try_random_u128()
            .map(|bits| IdempotencyKey(format!("rfd_{bits:032x}")))
            .ok_or_else(|| Error::configuration("the operating system gave no random bytes for an idempotency key"))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for IdempotencyKey {
    type Error = Error;
    fn try_from(value: String) -> Result<Self, Error> {
        IdempotencyKey::new(value)
    }
}

impl From<IdempotencyKey> for String {
    fn from(value: IdempotencyKey) -> String {
        value.0
    }
}

impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdempotencyKey({:?})", self.0)
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_are_checked() {
        assert!(IdempotencyKey::new("").is_err());
        assert!(IdempotencyKey::new("a".repeat(256)).is_err());
        assert!(IdempotencyKey::new("a".repeat(255)).is_ok());
        assert!(IdempotencyKey::new("has space").is_err());
        assert!(IdempotencyKey::new("tab\there").is_err());
        assert!(IdempotencyKey::new("ключ").is_err());
        let err = IdempotencyKey::new("").unwrap_err();
        assert_eq!(err.field(), Some("idempotency_key"));
        let a = IdempotencyKey::random().unwrap();
        assert_ne!(a, IdempotencyKey::random().unwrap());
        assert!(IdempotencyKey::new(a.as_str()).is_ok());
    }

    #[test]
    fn payment_kinds_are_enforced() {
        let pi = PaymentRef::payment_intent("pi_1").unwrap();
        assert_eq!(pi.expect_kind("x", &[PaymentRefKind::PaymentIntent]).unwrap(), "pi_1");
        let err = pi.expect_kind("x", &[PaymentRefKind::Charge]).unwrap_err();
        assert_eq!(err.field(), Some("payment"));
        assert!(PaymentRef::charge("").is_err());
        assert!(PaymentRef::charge("ch\n1").is_err());
        assert!(RefundId::new("x".repeat(256)).is_err());
    }

    #[test]
    fn stored_ids_are_checked_when_read_back() {
        // Safety review 3, finding 17: a stored payment id was read back without its checks.
        assert!(serde_json::from_str::<PaymentRef>(r#"{"kind":"charge","id":""}"#).is_err());
        assert!(serde_json::from_str::<PaymentRef>(r#"{"kind":"charge","id":"a\u0007b"}"#).is_err());
        assert!(serde_json::from_str::<PaymentRef>(r#"{"kind":"charge","id":"ch_1"}"#).is_ok());
        assert!(serde_json::from_str::<RefundId>(r#""..""#).is_err());
        assert_eq!(serde_json::from_str::<RefundId>(r#""re_1""#).unwrap().as_str(), "re_1");
    }

    #[test]
    fn control_characters_are_refused_in_any_encoding_width() {
        for bad in ["re\u{0}1", "re\t1", "re\u{7f}", "re\u{85}", "re\u{9f}", "\u{80}"] {
            assert!(RefundId::new(bad).is_err(), "{bad:?}");
        }
        // U+00A0 and U+00E9 share or neighbour the C1 lead byte but are not controls.
        for good in ["re_\u{a0}", "re_\u{e9}", "re_\u{2028}", "re_1"] {
            assert!(RefundId::new(good).is_ok(), "{good:?}");
        }
    }
}
