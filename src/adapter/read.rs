//! The reading and create-body pieces every translator would otherwise write again: one refund
//! object with its raw text, a list body, its items converted, and the merchant reference carried
//! in metadata.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::engine::CreateBody;
use super::json::{WithRaw, parse_list, parse_object};
use crate::error::Error;
use crate::model::{CreateRefund, Refund, RefundStatus};

/// The refund status names card providers share (Stripe's set, with `processing` and the British
/// `cancelled`): `StatusMap::new(read::COMMON_STATUSES)` for a provider whose names are among these.
/// Any other string stays `RefundStatus::Unknown(raw)`.
pub const COMMON_STATUSES: &[(&str, RefundStatus)] = &[
    ("pending", RefundStatus::Pending),
    ("processing", RefundStatus::Processing),
    ("requires_action", RefundStatus::RequiresAction),
    ("succeeded", RefundStatus::Succeeded),
    ("failed", RefundStatus::Failed),
    ("canceled", RefundStatus::Canceled),
    ("cancelled", RefundStatus::Canceled),
];

/// A `Decode` error for a refund field that is present but does not hold, naming the field and
/// why. Cold and out of line: a conversion calls it only when it fails, and formatting code inlined
/// there would sit between the instructions every successful decode runs.
#[cold]
#[inline(never)]
pub fn bad_field(field: &str, problem: &Error) -> Error {
    Error::decode(format!("refund field `{field}`: {}", problem.message()))
}

/// A `Decode` error for a required refund field that is missing or null (cold, as [`bad_field`]).
#[cold]
#[inline(never)]
pub fn missing_field(field: &str) -> Error {
    Error::decode(format!("refund field `{field}` is missing or null"))
}

/// One refund object read into `W`, its text kept byte for byte; a failure is a `Decode` error
/// (`refund object: ...`) that the engine tags and keeps the body of. `W` may borrow from the body
/// (`#[serde(borrow)] status: Cow<'a, str>`), so strings the conversion only looks at cost no copy.
pub fn object<'a, W: Deserialize<'a>>(body: &'a [u8]) -> Result<WithRaw<W>, Error> {
    parse_object(body).map_err(|e| Error::decode(format!("refund object: {e}")))
}

/// A list body read in one pass ([`parse_list`]): the envelope `E` from the fields beside the items,
/// and the items, each with its text, from the array under the first of `fields` present (or the
/// whole body when it is an array). A `Decode` error `refund list: ...` otherwise.
pub fn list<'a, E: DeserializeOwned, W: Deserialize<'a>>(
    body: &'a [u8],
    fields: &[&str],
) -> Result<(E, Vec<WithRaw<W>>), Error> {
    parse_list(body, fields).map_err(|e| Error::decode(format!("refund list: {e}")))
}

/// Each item of a page through `convert`, in order; the first failure is the page's.
pub fn items<W>(items: Vec<W>, mut convert: impl FnMut(W) -> Result<Refund, Error>) -> Result<Vec<Refund>, Error> {
    // A plain loop: collecting an iterator of `Result`s moved each refund through the adapter's
    // fold several times.
    let mut refunds = Vec::with_capacity(items.len());
    for item in items {
        refunds.push(convert(item)?);
    }
    Ok(refunds)
}

/// The request's metadata with its merchant reference added under `key`, for providers that carry
/// the reference in metadata: an existing `key` with another value is refused naming `field` (the
/// same value is accepted), and more than `max` entries in all naming `metadata`.
pub fn metadata_with_reference(
    request: &CreateRefund,
    key: &str,
    max: usize,
    field: &str,
) -> Result<BTreeMap<String, String>, Error> {
    let mut metadata = request.metadata_given().clone();
    if let Some(reference) = request.merchant_reference_given() {
        if metadata.get(key).is_some_and(|existing| existing != reference) {
            let message = format!("metadata key {key:?} carries the merchant reference and differs from it");
            return Err(Error::invalid_request(field, message));
        }
        metadata.insert(key.to_owned(), reference.to_owned());
    }
    if metadata.len() > max {
        let message = format!("at most {max} entries including the merchant reference");
        return Err(Error::invalid_request("metadata", message));
    }
    Ok(metadata)
}

/// A create body from a wire struct whose absent fields are `None`: the top-level `null`s are left
/// out, whether or not the struct marks its fields `skip_serializing_if` (one that does spares the
/// scan that cuts them). The rest keeps its order and its exact text: the nulls are cut from the
/// serialized text, never through `serde_json::Value`, whose numbers would turn a decimal amount
/// into a float.
pub fn body_without_nulls<T: Serialize>(body: &T) -> Result<CreateBody, Error> {
    CreateBody::json_without_nulls(body)
}

#[cfg(test)]
mod null_tests {
    use super::*;

    #[test]
    fn nulls_go_and_decimals_keep_their_text() {
        #[derive(serde::Serialize)]
        struct Body {
            amount: Box<serde_json::value::RawValue>,
            reason: Option<String>,
            id: &'static str,
        }
        let body = Body {
            amount: serde_json::value::RawValue::from_string("25.10".into()).unwrap(),
            reason: None,
            id: "ch_1",
        };
        assert_eq!(
            body_without_nulls(&body).unwrap().as_str(),
            r#"{"amount":25.10,"id":"ch_1"}"#
        );
    }
}
