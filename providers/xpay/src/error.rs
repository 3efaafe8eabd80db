//! XPay's error answers into [`refunds::Error`]: the HTTP status decides the class, the envelope's
//! `type` and `code` refine it, `param` becomes a field error and `request_id` is kept.

use refunds::adapter::{ApiResponse, kind_for_status};
use refunds::{Delivery, Error, ErrorKind, FieldError};
use serde::Deserialize;

use crate::wire::{WireErrorBody, WireErrorDetail};

/// Codes about the amount being more than what is left (assumed names; the code list is not
/// published): `amount_too_large` and every code containing `exceed`.
fn is_amount_exceeds(code: &str) -> bool {
    code == "amount_too_large" || code.contains("exceed")
}

/// Codes about nothing being left (assumed names): every code containing `already_refunded`.
fn is_already_refunded(code: &str) -> bool {
    code.contains("already_refunded")
}

/// Codes about a missing object (assumed names): `resource_missing` and `*_not_found`.
fn is_missing(code: &str) -> bool {
    code == "resource_missing" || code.ends_with("_not_found")
}

/// The kind for a status, an error `type` and a `code`: the status first, then refinements of the
/// statuses that do not say enough on their own (400, 409, 422 and other 4xx).
pub(crate) fn kind_for(status: u16, error_type: Option<&str>, code: Option<&str>) -> ErrorKind {
    let kind = kind_for_status(status);
    let refinable = matches!(kind, ErrorKind::Validation | ErrorKind::Other) && status < 500;
    if !refinable {
        return kind;
    }
    if let Some(code) = code {
        if is_already_refunded(code) {
            return ErrorKind::AlreadyRefunded;
        }
        if is_amount_exceeds(code) {
            return ErrorKind::AmountExceedsRefundable;
        }
        if is_missing(code) {
            return ErrorKind::NotFound;
        }
    }
    match error_type {
        Some("authentication_error") => ErrorKind::Authentication,
        Some("invalid_request_error") => ErrorKind::Validation,
        _ => kind,
    }
}

/// `metadata[order_id]` → `metadata.order_id`: field paths are joined with dots across providers.
fn field_path(param: &str) -> String {
    param.replace("][", ".").replace('[', ".").replace(']', "")
}

/// A framework's default error body (`{"message": "..."}` or a list of messages), read only when the
/// documented envelope is absent so that its text is not lost.
#[derive(Deserialize)]
struct LooseBody {
    #[serde(default)]
    message: Option<LooseMessage>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum LooseMessage {
    One(String),
    Many(Vec<String>),
}

fn decode_envelope(response: &ApiResponse, detail: WireErrorDetail, request_id: Option<String>) -> Error {
    let status = response.status;
    let kind = kind_for(status, detail.error_type.as_deref(), detail.code.as_deref());
    let message = detail
        .message
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| format!("http {status}"));
    let fields = detail
        .param
        .filter(|p| !p.is_empty())
        .map(|param| {
            vec![FieldError::new(
                field_path(&param),
                message.clone(),
                detail.code.clone(),
            )]
        })
        .unwrap_or_default();
    Error::new(kind, Delivery::Rejected, message)
        .with_provider_code(detail.code)
        .with_field_errors(fields)
        .with_request_id(request_id)
        // The whole body is kept so that `doc_url` (which has no field on the error) is not lost.
        .with_body(&response.body)
}

/// XPay's [`refunds::adapter::ErrorDecoder`].
pub(crate) fn decode_error(response: &ApiResponse) -> Error {
    let status = response.status;
    if let Ok(body) = serde_json::from_slice::<WireErrorBody>(&response.body) {
        if let Some(detail) = body.error {
            return decode_envelope(response, detail, body.request_id);
        }
    }
    let message = match serde_json::from_slice::<LooseBody>(&response.body) {
        Ok(LooseBody {
            message: Some(LooseMessage::One(text)),
        }) => text,
        Ok(LooseBody {
            message: Some(LooseMessage::Many(texts)),
        }) => texts.join("; "),
        _ => format!("http {status}"),
    };
    Error::new(kind_for_status(status), Delivery::Rejected, message).with_body(&response.body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_decides_before_the_code() {
        assert_eq!(
            kind_for(401, Some("invalid_request_error"), Some("amount_too_large")),
            ErrorKind::Authentication
        );
        assert_eq!(
            kind_for(404, None, Some("charge_already_refunded")),
            ErrorKind::NotFound
        );
        assert_eq!(
            kind_for(429, Some("invalid_request_error"), None),
            ErrorKind::RateLimited
        );
        assert_eq!(
            kind_for(500, Some("api_error"), Some("amount_too_large")),
            ErrorKind::ProviderUnavailable
        );
        assert_eq!(
            kind_for(403, Some("authentication_error"), None),
            ErrorKind::PermissionDenied
        );
    }

    #[test]
    fn codes_and_types_refine_ambiguous_statuses() {
        assert_eq!(
            kind_for(400, Some("invalid_request_error"), Some("amount_exceeds_refundable")),
            ErrorKind::AmountExceedsRefundable
        );
        assert_eq!(
            kind_for(400, None, Some("amount_too_large")),
            ErrorKind::AmountExceedsRefundable
        );
        assert_eq!(
            kind_for(409, Some("invalid_request_error"), Some("charge_already_refunded")),
            ErrorKind::AlreadyRefunded
        );
        assert_eq!(
            kind_for(400, Some("invalid_request_error"), Some("resource_missing")),
            ErrorKind::NotFound
        );
        assert_eq!(
            kind_for(400, Some("invalid_request_error"), Some("parameter_missing")),
            ErrorKind::Validation
        );
        assert_eq!(
            kind_for(409, Some("invalid_request_error"), None),
            ErrorKind::Validation
        );
        assert_eq!(kind_for(409, None, None), ErrorKind::Other);
        assert_eq!(
            kind_for(400, Some("authentication_error"), None),
            ErrorKind::Authentication
        );
    }

    #[test]
    fn bracketed_params_become_dotted_paths() {
        assert_eq!(field_path("metadata[order_id]"), "metadata.order_id");
        assert_eq!(field_path("a[b][c]"), "a.b.c");
        assert_eq!(field_path("amount"), "amount");
    }
}
