//! SyncgramPay error bodies into [`refunds::Error`].
//!
//! The refund pages document the statuses (400 invalid or not refundable, 401 bad key, 403 charge of
//! another organisation, 404 charge or refund missing) but not the bodies. The API is a FastAPI
//! service: the shared parsers read its `detail` bodies ([`errors::fastapi`]) and, should it answer
//! otherwise, the `{"error": ..}` and flat `{"message", "code"}` shapes ([`errors::parse_any`]).
//!
//! [`ErrorBody::into_error`](errors::ErrorBody::into_error) decides the kind: the HTTP status first;
//! only a 400, 404, 409 or 422 is refined, by the code table below, then by the sentence. A body never
//! turns a 503 into `NotFound` or a 429 into something that is not retried.

use refunds::ErrorKind;
use refunds::adapter::ApiResponse;
use refunds::adapter::errors::{self, CodeTable};

/// SyncgramPay's error codes (assumed spellings: none are documented), and 409 read as an idempotency
/// conflict (assumed). First match wins; `*` at either end is a wildcard.
pub const CODES: CodeTable = CodeTable::new(&[
    ("amount_exceeds_refundable*", ErrorKind::AmountExceedsRefundable),
    ("refund_amount_exceeds*", ErrorKind::AmountExceedsRefundable),
    ("insufficient_refundable_amount", ErrorKind::AmountExceedsRefundable),
    ("amount_too_large", ErrorKind::AmountExceedsRefundable),
    ("*already_refunded", ErrorKind::AlreadyRefunded),
    ("fully_refunded", ErrorKind::AlreadyRefunded),
    ("*not_refundable", ErrorKind::Validation),
    ("validation_error", ErrorKind::Validation),
    ("invalid_request", ErrorKind::Validation),
    ("idempotency_conflict", ErrorKind::IdempotencyConflict),
    ("idempotency_key_conflict", ErrorKind::IdempotencyConflict),
    ("duplicate_reference", ErrorKind::IdempotencyConflict),
    ("*not_found", ErrorKind::NotFound),
    ("unauthorized", ErrorKind::Authentication),
    ("invalid_api_key", ErrorKind::Authentication),
    ("forbidden", ErrorKind::PermissionDenied),
    ("permission_denied", ErrorKind::PermissionDenied),
])
.with_statuses(&[(409, ErrorKind::IdempotencyConflict)])
.with_sentence_rules();

/// The engine's error decoder for SyncgramPay: an unreadable body keeps the status's kind.
pub(crate) fn decode_error(response: &ApiResponse) -> refunds::Error {
    errors::parse_any(&response.body)
        .unwrap_or_default()
        .into_error(response.status, &CODES)
}
