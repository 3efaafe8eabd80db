//! XPay's error answers: the shared Stripe-style dialect (`{"error": {type, code, message, param,
//! doc_url}, "request_id"}`) read by [`refunds::adapter::errors`], and XPay's code table.

use refunds::adapter::ApiResponse;
use refunds::adapter::errors::{self, CodeTable};
use refunds::{Error, ErrorKind};

/// Codes and types that say more than the status, for the 4xx that leave room for it (the status
/// decides first: a 401, 403, 429 or 5xx is never overridden). XPay publishes no code list: the codes
/// are assumed Stripe-style names, `*` at either end is a wildcard, the first match wins.
pub(crate) const CODES: CodeTable = CodeTable::new(&[
    ("amount_too_large", ErrorKind::AmountExceedsRefundable),
    ("*already_refunded*", ErrorKind::AlreadyRefunded),
    ("*exceed*", ErrorKind::AmountExceedsRefundable),
    ("resource_missing", ErrorKind::NotFound),
    ("*_not_found", ErrorKind::NotFound),
])
.with_types(&[
    ("authentication_error", ErrorKind::Authentication),
    ("invalid_request_error", ErrorKind::Validation),
]);

/// XPay's error decoder. A body without the envelope (a framework's `{"message": [..]}`, a proxy's
/// HTML) is read by the other shared dialects or keeps the status's kind. The whole body is kept on
/// every error, so that `doc_url` (which has no field on [`Error`]) is not lost.
pub(crate) fn decode_error(response: &ApiResponse) -> Error {
    errors::parse_any(&response.body)
        .unwrap_or_default()
        .into_error(response.status, &CODES)
        .with_body(&response.body)
}
