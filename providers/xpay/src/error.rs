//! XPay's error answers: the shared Stripe-style dialect (`{"error": {type, code, message, param,
//! doc_url}, "request_id"}`) read by [`refunds::adapter::errors`], and XPay's code table.

use refunds::adapter::ApiResponse;
use refunds::adapter::errors::{self, CodeTable};
use refunds::{Error, ErrorKind};

/// Codes and types that say more than the status, for the 4xx that leave room for it (the status
/// decides first: a 401, 403, 404, 429 or 5xx is never overridden). XPay publishes its codes
/// (docs.xpay.app, "API error codes"): the generic request codes are validation failures,
/// `resource_missing` is not found, `parameter_out_of_range` on `amount` is an amount over what is
/// left to refund, and `resource_invalid_state` (a charge that cannot be refunded, or is fully
/// refunded) is read by its message. The Stripe-style names after them are assumptions kept for
/// codes XPay may add; `*` at either end is a wildcard, the first match wins.
pub(crate) const CODES: CodeTable = CodeTable::new(&[
    ("resource_missing", ErrorKind::NotFound),
    ("resource_invalid_state", ErrorKind::Validation),
    ("invalid_request", ErrorKind::Validation),
    ("validation_error", ErrorKind::Validation),
    ("parameter_*", ErrorKind::Validation),
    ("parameters_exclusive", ErrorKind::Validation),
    ("amount_too_large", ErrorKind::AmountExceedsRefundable),
    ("*already_refunded*", ErrorKind::AlreadyRefunded),
    ("*exceed*", ErrorKind::AmountExceedsRefundable),
    ("*_not_found", ErrorKind::NotFound),
])
.with_params(&[("parameter_out_of_range", "amount", ErrorKind::AmountExceedsRefundable)])
.with_vague_codes(&["resource_invalid_state"])
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
