//! WooshPay error answers: Stripe's `{"error": {type, code, message, param}}` envelope, read by the
//! shared dialect parser, plus WooshPay's code table. The transport adds provider, status, request id,
//! `Retry-After`, delivery and the body.

use refunds::adapter::ApiResponse;
use refunds::adapter::errors::{self, CodeTable};
use refunds::{Error, ErrorKind};

/// Codes and types that say more than the status (Stripe's codes, which WooshPay's error object
/// copies; the types are WooshPay's documented ones). Only a 4xx other than 401/403/408/429 is refined.
pub(crate) const CODES: CodeTable = CodeTable::new(&[
    ("amount_too_large", ErrorKind::AmountExceedsRefundable),
    ("charge_already_refunded", ErrorKind::AlreadyRefunded),
    ("resource_missing", ErrorKind::NotFound),
    // The same key still being processed (Stripe's 409): the engine retries it after an ambiguous attempt.
    ("idempotency_key_in_use", ErrorKind::IdempotencyConflict),
])
.with_types(&[("idempotency_error", ErrorKind::IdempotencyConflict)])
// 402: "the parameters were valid but the request failed", a refusal of the payment operation (Other).
// 409: "conflicts with another request (perhaps due to using the same idempotent key)".
.with_statuses(&[(402, ErrorKind::Other), (409, ErrorKind::IdempotencyConflict)]);

/// The `ErrorDecoder`: the documented envelope first, then the shapes seen besides it (a bare error
/// object, `{"error": "text"}`); anything else keeps the status's meaning.
pub(crate) fn decode_error(response: &ApiResponse) -> Error {
    errors::parse_any(&response.body)
        .unwrap_or_default()
        .into_error(response.status, &CODES)
}
