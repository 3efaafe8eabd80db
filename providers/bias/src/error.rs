//! Bias error bodies into [`refunds::Error`]: the shared Stripe-dialect parser reads
//! `{"object":"error","error":{type, live, code, message, param, issues, payment, decline_code,
//! customer_message}}`
//! (`issues` become field errors); this table maps Bias's `type`s, since Bias publishes no status table.

use refunds::adapter::ApiResponse;
use refunds::adapter::errors::{self, CodeTable};
use refunds::{Error, ErrorKind};

/// Bias's error types (documented), then codes (the enum was not captured: Stripe-like names are
/// assumed). Only a refinable 4xx is re-read: a 429 stays `RateLimited`, a 5xx `ProviderUnavailable`.
pub(crate) const CODES: CodeTable = CodeTable::new(&[
    ("amount_too_large", ErrorKind::AmountExceedsRefundable),
    ("*exceeds_refundable*", ErrorKind::AmountExceedsRefundable),
    ("*already_refunded", ErrorKind::AlreadyRefunded),
    ("resource_missing", ErrorKind::NotFound),
    ("*_not_found", ErrorKind::NotFound),
])
.with_types(&[
    ("idempotency_error", ErrorKind::IdempotencyConflict),
    ("rate_limit_error", ErrorKind::RateLimited),
    ("server_error", ErrorKind::ProviderUnavailable),
    ("payment_error", ErrorKind::Validation),
    ("invalid_request_error", ErrorKind::Validation),
])
.with_sentence_rules();

/// A 404 reads as `NotFound` whatever `type` and `code` the body names (Bias answers an unknown id
/// with `invalid_request_error`); the body's code is still kept as the provider code.
const NOT_FOUND: CodeTable = CodeTable::new(&[]);

/// The error of a non-2xx answer. A `payment_error` has a null `code`: its `decline_code` becomes the
/// provider code instead.
pub(crate) fn decode_error(response: &ApiResponse) -> Error {
    let mut body = errors::stripe::parse(&response.body).unwrap_or_default();
    if body.code.is_none() {
        body.code = serde_json::from_slice::<serde_json::Value>(&response.body)
            .ok()
            .and_then(|v| v["error"]["decline_code"].as_str().map(str::to_owned));
    }
    let table = if response.status == 404 { &NOT_FOUND } else { &CODES };
    body.into_error(response.status, table)
}

/// The `customer_message` of a Bias error body (a `payment_error`'s text meant for the payer), from
/// the body the error keeps.
pub(crate) fn customer_message(error: &Error) -> Option<String> {
    let body: serde_json::Value = serde_json::from_str(error.body()?).ok()?;
    let message = body.get("error")?.get("customer_message")?.as_str()?;
    Some(message.to_owned())
}
