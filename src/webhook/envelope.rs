//! Reading (and, for sandboxes, writing) the event envelopes providers wrap their objects in.
//!
//! For provider crates. The envelope reader finds the event id, type, creation time, mode and the inner
//! object, and hands the inner object's exact bytes (sliced out of the body with
//! [`serde_json::value::RawValue`], never re-serialized) to the provider's own refund parser. Which
//! event types carry a refund, a charge or nothing comes from the provider's [`EventTable`].

use std::fmt;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;
use time::OffsetDateTime;

use super::{Carries, EventTable, WebhookError, WebhookEvent};
use crate::ids::{MAX_ID_LEN, PaymentRef};
use crate::model::Refund;
use crate::raw::RawJson;

/// How the envelope writes its creation time. Reading accepts every form (see [`Envelope`]); this
/// chooses what [`Envelope::encode`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeFormat {
    /// Unix seconds as a JSON integer (Stripe style).
    UnixSeconds,
    /// RFC 3339 / ISO 8601 text.
    Rfc3339,
}

/// Where the event's object sits in the envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ObjectAt {
    /// `data.object` (Stripe style).
    DataObject,
    /// `data` itself (SyncgramPay).
    Data,
}

/// The shape of a provider's event envelope: `{id, type, <created>, livemode?, data}`.
///
/// Reading is lenient about the time, because providers are inconsistent about it: a JSON integer is
/// unix seconds, or unix milliseconds when it is 10^11 or more (a Stripe-style guide may show milliseconds
/// where its objects use seconds; 10^11 s is the year 5138); a string is RFC 3339 (or unix seconds in
/// digits); `null` or absence is no time. Anything else (a fraction, an object) is an unparseable body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Envelope {
    created_field: &'static str,
    created_format: TimeFormat,
    object_at: ObjectAt,
}

impl Envelope {
    /// Stripe style: `{id:"evt_...", object:"event", type, created:<unix s>,
    /// livemode, data:{object:{...}}}`.
    pub const STRIPE_STYLE: Envelope = Envelope::new("created", TimeFormat::UnixSeconds, ObjectAt::DataObject);

    /// xpay: `{id:"evt_test_..."|"evt_live_...", object:"event", type, created:<ISO 8601>, livemode,
    /// data:{object:{...}}}`.
    pub const ISO_CREATED: Envelope = Envelope::new("created", TimeFormat::Rfc3339, ObjectAt::DataObject);

    /// SyncgramPay: `{id:"evt_...", type, created_at:<ISO 8601>, data:{...}}`, the object being `data`.
    pub const CREATED_AT_DATA: Envelope = Envelope::new("created_at", TimeFormat::Rfc3339, ObjectAt::Data);

    /// Another shape: the name of the creation-time field (`"created"` or `"created_at"`; any other
    /// name is read as `"created"`), how to write it, and where the object is.
    pub const fn new(created_field: &'static str, created_format: TimeFormat, object_at: ObjectAt) -> Envelope {
        Envelope {
            created_field,
            created_format,
            object_at,
        }
    }

    fn created_is_created_at(&self) -> bool {
        self.created_field == "created_at"
    }

    /// Writes an event in this shape (for sandboxes): `object` is placed byte for byte.
    pub fn encode(
        &self,
        id: &str,
        event_type: &str,
        created: OffsetDateTime,
        livemode: bool,
        object: &RawJson,
    ) -> Vec<u8> {
        let quote = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned());
        let created = match self.created_format {
            TimeFormat::UnixSeconds => created.unix_timestamp().to_string(),
            TimeFormat::Rfc3339 => quote(
                &created
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default(),
            ),
        };
        let field = if self.created_is_created_at() {
            "created_at"
        } else {
            "created"
        };
        let data = match self.object_at {
            ObjectAt::DataObject => format!("{{\"object\":{}}}", object.get()),
            ObjectAt::Data => object.get().to_owned(),
        };
        format!(
            "{{\"id\":{},\"object\":\"event\",\"type\":{},\"{field}\":{created},\"livemode\":{livemode},\"data\":{data}}}",
            quote(id),
            quote(event_type),
        )
        .into_bytes()
    }
}

/// A provider's refund parser: the refund object's exact bytes in, the [`Refund`] out (the same code
/// that reads `get_refund` answers, typically `parse_object::<WireRefund>` and a conversion).
pub type RefundParser = Arc<dyn Fn(&[u8]) -> crate::Result<Refund> + Send + Sync>;

/// Reads a provider's events: envelope shape, event table and refund parser.
#[derive(Clone)]
pub struct EventParser {
    provider: &'static str,
    envelope: Envelope,
    events: EventTable,
    parse_refund: RefundParser,
}

impl fmt::Debug for EventParser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventParser")
            .field("provider", &self.provider)
            .field("envelope", &self.envelope)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Wire<'a> {
    #[serde(default, borrow)]
    id: Option<&'a RawValue>,
    #[serde(default, borrow, rename = "type")]
    event_type: Option<&'a RawValue>,
    #[serde(default, borrow)]
    created: Option<&'a RawValue>,
    #[serde(default, borrow)]
    created_at: Option<&'a RawValue>,
    #[serde(default, borrow)]
    livemode: Option<&'a RawValue>,
    #[serde(default, borrow)]
    data: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Data<'a> {
    #[serde(default, borrow)]
    object: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct WithId {
    id: String,
}

fn is_object(raw: &RawValue) -> bool {
    raw.get().starts_with('{')
}

fn text_field(raw: Option<&RawValue>, name: &'static str) -> Result<String, WebhookError> {
    let raw = raw.ok_or_else(|| WebhookError::unparseable_body(format!("no {name}")))?;
    let text: String = serde_json::from_str(raw.get())
        .map_err(|_| WebhookError::unparseable_body(format!("{name} is not a string")))?;
    if text.is_empty() || text.len() > MAX_ID_LEN || text.chars().any(char::is_control) {
        return Err(WebhookError::unparseable_body(format!(
            "{name} is empty, longer than {MAX_ID_LEN} bytes or has a control character"
        )));
    }
    Ok(text)
}

/// Reads an envelope's creation time (see [`Envelope`] for the accepted forms).
fn created_time(raw: Option<&RawValue>) -> Result<Option<OffsetDateTime>, WebhookError> {
    let Some(raw) = raw else { return Ok(None) };
    let bad = || WebhookError::unparseable_body("created time is not unix seconds, unix milliseconds or RFC 3339");
    let from_unix = |n: i64| {
        let nanos = if n.unsigned_abs() >= 100_000_000_000 {
            i128::from(n) * 1_000_000
        } else {
            i128::from(n) * 1_000_000_000
        };
        OffsetDateTime::from_unix_timestamp_nanos(nanos).map_err(|_| bad())
    };
    let text = raw.get();
    if text == "null" {
        return Ok(None);
    }
    if let Ok(n) = serde_json::from_str::<i64>(text) {
        return from_unix(n).map(Some);
    }
    let s: String = serde_json::from_str(text).map_err(|_| bad())?;
    if !s.is_empty() && s.len() <= 18 && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<i64>().map_err(|_| bad()).and_then(from_unix).map(Some);
    }
    crate::adapter::timestamp::rfc3339::parse(&s).map(Some).ok_or_else(bad)
}

impl EventParser {
    /// A parser for `provider`'s events.
    pub fn new(
        provider: &'static str,
        envelope: Envelope,
        events: EventTable,
        parse_refund: impl Fn(&[u8]) -> crate::Result<Refund> + Send + Sync + 'static,
    ) -> EventParser {
        EventParser {
            provider,
            envelope,
            events,
            parse_refund: Arc::new(parse_refund),
        }
    }

    /// The provider id.
    pub fn provider(&self) -> &'static str {
        self.provider
    }

    /// The envelope shape.
    pub fn envelope(&self) -> Envelope {
        self.envelope
    }

    /// The event table.
    pub fn events(&self) -> EventTable {
        self.events
    }

    /// Reads `body` as an event. Call it only on a body whose signature has been verified (the
    /// [`WebhookVerifier`](super::WebhookVerifier) implementations do).
    ///
    /// A body that is not one JSON object, an envelope without a string `id` or `type`, a bad time,
    /// or a listed event whose object is missing or refused by the refund parser is
    /// [`UnparseableBody`](super::WebhookErrorKind::UnparseableBody). An unlisted event type is not an
    /// error: it gives [`EventKind::Unknown`](super::EventKind::Unknown) and carries nothing.
    pub fn parse(&self, body: &[u8]) -> Result<WebhookEvent, WebhookError> {
        self.parse_inner(body).map_err(|e| e.with_provider(self.provider))
    }

    fn parse_inner(&self, body: &[u8]) -> Result<WebhookEvent, WebhookError> {
        let text = std::str::from_utf8(body).map_err(|_| WebhookError::unparseable_body("body is not utf-8"))?;
        let trimmed = text.trim_matches(|c: char| c.is_ascii_whitespace());
        if !trimmed.starts_with('{') {
            return Err(WebhookError::unparseable_body("body is not a json object"));
        }
        let wire: Wire<'_> = serde_json::from_str(trimmed)
            .map_err(|e| WebhookError::unparseable_body(format!("body is not a json event: {e}")))?;
        let id = text_field(wire.id, "id")?;
        let event_type = text_field(wire.event_type, "type")?;
        let created = if self.envelope.created_is_created_at() {
            wire.created_at
        } else {
            wire.created
        };
        let created_at = created_time(created)?;
        let livemode = wire
            .livemode
            .and_then(|raw| serde_json::from_str::<bool>(raw.get()).ok());
        let kind = self.events.kind(&event_type);
        let carries = self.events.carries(&event_type);
        let raw = RawJson::from_parsed(trimmed);
        let event = WebhookEvent::new(self.provider, id, kind, event_type, raw)
            .with_created_at(created_at)
            .with_livemode(livemode);
        if carries == Carries::Nothing {
            return Ok(event);
        }
        let object = self.object(wire.data)?;
        match carries {
            Carries::Refund => {
                let refund = (self.parse_refund)(object.get().as_bytes())
                    .map_err(|e| WebhookError::unparseable_body(format!("refund object: {}", e.message())))?;
                Ok(event.with_refund(refund))
            }
            Carries::Payment(kind) => {
                let WithId { id } = serde_json::from_str(object.get())
                    .map_err(|_| WebhookError::unparseable_body("payment object has no string id"))?;
                let payment = PaymentRef::new(kind, id)
                    .map_err(|e| WebhookError::unparseable_body(format!("payment object id {}", e.message())))?;
                Ok(event.with_payment(payment))
            }
            Carries::Nothing => Ok(event),
        }
    }

    fn object<'a>(&self, data: Option<&'a RawValue>) -> Result<&'a RawValue, WebhookError> {
        let data = data
            .filter(|d| is_object(d))
            .ok_or_else(|| WebhookError::unparseable_body("no data object"))?;
        let object = match self.envelope.object_at {
            ObjectAt::Data => data,
            ObjectAt::DataObject => {
                let inner: Data<'a> = serde_json::from_str(data.get())
                    .map_err(|_| WebhookError::unparseable_body("data is not an object"))?;
                inner
                    .object
                    .ok_or_else(|| WebhookError::unparseable_body("no data.object"))?
            }
        };
        if !is_object(object) {
            return Err(WebhookError::unparseable_body("the event object is not a json object"));
        }
        Ok(object)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::EventKind;
    use crate::{Currency, Money, PaymentRefKind, RefundId, RefundStatus};

    const EVENTS: EventTable = EventTable::new(&[
        ("refund.created", EventKind::Created, Carries::Refund),
        (
            "charge.refunded",
            EventKind::Succeeded,
            Carries::Payment(PaymentRefKind::Charge),
        ),
    ]);

    fn parse_refund(bytes: &[u8]) -> crate::Result<Refund> {
        #[derive(Deserialize)]
        struct W {
            id: String,
            charge: String,
            amount: i64,
        }
        let w = crate::adapter::parse_object::<W>(bytes).map_err(|e| crate::Error::decode(e.to_string()))?;
        Ok(Refund::new(
            RefundId::new(w.value.id)?,
            "test",
            PaymentRef::charge(w.value.charge)?,
            Money::from_minor(w.value.amount, Currency::USD),
            RefundStatus::Succeeded,
            w.raw,
        ))
    }

    fn parser(envelope: Envelope) -> EventParser {
        EventParser::new("test", envelope, EVENTS, parse_refund)
    }

    #[test]
    fn slices_the_object_bytes_and_reads_times() {
        let body = br#" {"id":"evt_1","type":"refund.created","created":1700000000,
            "data":{"object":{"id":"re_1", "charge":"ch_1","amount":5 ,"x":1.50}}} "#;
        let e = parser(Envelope::STRIPE_STYLE).parse(body).unwrap();
        assert_eq!(e.kind, EventKind::Created);
        let r = e.refund.unwrap();
        assert_eq!(r.raw.get(), r#"{"id":"re_1", "charge":"ch_1","amount":5 ,"x":1.50}"#);
        assert_eq!(e.payment.unwrap().id(), "ch_1");
        assert_eq!(e.created_at.unwrap().unix_timestamp(), 1_700_000_000);
        assert!(e.raw.get().starts_with("{\"id\""));

        let ms = br#"{"id":"evt_1","type":"x","created":1670482499000}"#;
        let e = parser(Envelope::STRIPE_STYLE).parse(ms).unwrap();
        assert_eq!(e.created_at.unwrap().unix_timestamp(), 1_670_482_499);
        assert_eq!(e.kind, EventKind::Unknown("x".into()));

        let iso = br#"{"id":"evt_test_1","type":"charge.refunded","created":"2024-01-01T00:00:00Z","data":{"object":{"id":"ch_9"}}}"#;
        let e = parser(Envelope::ISO_CREATED).parse(iso).unwrap();
        assert!(e.refund.is_none());
        assert_eq!(e.payment.unwrap().kind(), PaymentRefKind::Charge);

        let sg = br#"{"id":"evt_1","type":"refund.created","created_at":"2024-01-01T00:00:00Z","data":{"id":"r","charge":"c","amount":1}}"#;
        let e = parser(Envelope::CREATED_AT_DATA).parse(sg).unwrap();
        assert_eq!(e.refund.unwrap().id.as_str(), "r");
        assert_eq!(e.created_at.unwrap().unix_timestamp(), 1_704_067_200);
    }

    #[test]
    fn refuses_bad_envelopes_with_a_typed_error() {
        let p = parser(Envelope::STRIPE_STYLE);
        for bad in [
            &b""[..],
            b"[]",
            b"\xff",
            br#"["evt_1","x"]"#,
            br#"{"type":"x"}"#,
            br#"{"id":"evt","type":7}"#,
            br#"{"id":"evt","type":"x","created":1.5}"#,
            br#"{"id":"evt","type":"x","created":"yesterday"}"#,
            br#"{"id":"evt","type":"x","created":99999999999999999}"#,
            br#"{"id":"evt","type":"refund.created"}"#,
            br#"{"id":"evt","type":"refund.created","data":{"object":[1]}}"#,
            br#"{"id":"evt","type":"refund.created","data":{"object":{"id":"re_1"}}}"#,
            br#"{"id":"evt","type":"charge.refunded","data":{"object":{"id":""}}}"#,
            br#"{"id":"evt","type":"x"} trailing"#,
        ] {
            let e = p.parse(bad).unwrap_err();
            assert!(e.is_unparseable_body(), "{e}");
            assert_eq!(e.provider(), Some("test"));
        }
    }

    #[test]
    fn encode_reads_back() {
        let object = RawJson::parse(r#"{"id":"re_1","charge":"ch_1","amount":5}"#).unwrap();
        let at = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        for env in [Envelope::STRIPE_STYLE, Envelope::ISO_CREATED, Envelope::CREATED_AT_DATA] {
            let body = env.encode("evt_1", "refund.created", at, false, &object);
            let e = parser(env).parse(&body).unwrap();
            assert_eq!(e.created_at, Some(at));
            assert_eq!(e.livemode, Some(false));
            assert_eq!(e.refund.unwrap().raw, object);
        }
    }
}
