//! WooshPay error answers into [`refunds::Error`]: the HTTP status first, then the error `type` and
//! `code` where they say something more precise.

use refunds::adapter::{ApiResponse, kind_for_status};
use refunds::{Delivery, Error, ErrorKind, FieldError};
use serde::Deserialize;

use crate::wire::{WireErrorBody, WireErrorObject};

/// The kind an HTTP status means at WooshPay, before the body is read.
pub(crate) fn kind_for_wooshpay_status(status: u16) -> ErrorKind {
    match status {
        // "The parameters were valid but the request failed": a refusal of the payment operation, not
        // of the request's content, so neither `Validation` nor a transient kind.
        402 => ErrorKind::Other,
        // "The request conflicts with another request (perhaps due to using the same idempotent key)".
        409 => ErrorKind::IdempotencyConflict,
        other => kind_for_status(other),
    }
}

/// A more precise kind from the error's `type` and `code`, where the status leaves room for one.
/// The codes are Stripe's (WooshPay copies its error object); the types are WooshPay's documented ones.
fn refine(status_kind: ErrorKind, kind: Option<&str>, code: Option<&str>) -> ErrorKind {
    // Authentication, permission, rate-limit and server answers mean what their status says.
    if matches!(
        status_kind,
        ErrorKind::Authentication
            | ErrorKind::PermissionDenied
            | ErrorKind::RateLimited
            | ErrorKind::ProviderUnavailable
    ) {
        return status_kind;
    }
    match (kind, code) {
        (_, Some("amount_too_large")) => ErrorKind::AmountExceedsRefundable,
        (_, Some("charge_already_refunded")) => ErrorKind::AlreadyRefunded,
        (_, Some("resource_missing")) => ErrorKind::NotFound,
        (_, Some("idempotency_key_in_use")) | (Some("idempotency_error"), _) => ErrorKind::IdempotencyConflict,
        _ => status_kind,
    }
}

/// `metadata[order]` (Stripe's parameter spelling) as the SDK's dotted path `metadata.order`.
fn field_path(param: &str) -> String {
    param.replace("][", ".").replace('[', ".").replace(']', "")
}

/// Shapes seen besides the documented envelope: a bare error object, or `{"error": "text"}`.
#[derive(Deserialize)]
struct TextErrorBody {
    error: String,
}

fn parse_error_object(body: &[u8]) -> Option<WireErrorObject> {
    // Serde also fills a struct from a JSON array by position; an error body is an object.
    if !body.trim_ascii_start().starts_with(b"{") {
        return None;
    }
    if let Ok(envelope) = serde_json::from_slice::<WireErrorBody>(body) {
        return Some(envelope.error);
    }
    if let Ok(text) = serde_json::from_slice::<TextErrorBody>(body) {
        return Some(WireErrorObject {
            message: Some(text.error),
            ..WireErrorObject::default()
        });
    }
    serde_json::from_slice::<WireErrorObject>(body)
        .ok()
        .filter(WireErrorObject::is_meaningful)
}

/// The [`refunds::adapter::ErrorDecoder`] for WooshPay. The transport adds the provider id, HTTP status,
/// request id, `Retry-After` and delivery.
pub(crate) fn decode_error(response: &ApiResponse) -> Error {
    let status_kind = kind_for_wooshpay_status(response.status);
    let Some(object) = parse_error_object(&response.body) else {
        return Error::new(
            status_kind,
            Delivery::Rejected,
            format!("http {} without a wooshpay error body", response.status),
        )
        .with_body(&response.body);
    };
    let kind = refine(status_kind, object.kind.as_deref(), object.code.as_deref());
    let message = object
        .message
        .clone()
        .unwrap_or_else(|| format!("http {}", response.status));
    // Errors without a `code` (a 401, an `idempotency_error`) still say their `type`.
    let provider_code = object.code.clone().or(object.kind.clone());
    let fields = object
        .param
        .as_deref()
        .filter(|p| !p.is_empty())
        .map(|param| vec![FieldError::new(field_path(param), message.clone(), object.code.clone())])
        .unwrap_or_default();
    Error::new(kind, Delivery::Rejected, message)
        .with_provider_code(provider_code)
        .with_field_errors(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: &str) -> ApiResponse {
        ApiResponse {
            status,
            headers: http::HeaderMap::new(),
            body: body.as_bytes().to_vec(),
            request_id: None,
        }
    }

    #[test]
    fn status_table_then_type_and_code() {
        let cases = [
            (
                400,
                r#"{"error":{"type":"invalid_request_error","param":"amount"}}"#,
                ErrorKind::Validation,
            ),
            (
                400,
                r#"{"error":{"type":"invalid_request_error","code":"amount_too_large"}}"#,
                ErrorKind::AmountExceedsRefundable,
            ),
            (
                400,
                r#"{"error":{"type":"invalid_request_error","code":"charge_already_refunded"}}"#,
                ErrorKind::AlreadyRefunded,
            ),
            (
                400,
                r#"{"error":{"type":"invalid_request_error","code":"resource_missing"}}"#,
                ErrorKind::NotFound,
            ),
            (
                400,
                r#"{"error":{"type":"idempotency_error"}}"#,
                ErrorKind::IdempotencyConflict,
            ),
            (
                401,
                r#"{"error":{"type":"invalid_request_error","code":"resource_missing"}}"#,
                ErrorKind::Authentication,
            ),
            (
                402,
                r#"{"error":{"type":"card_error","code":"card_declined"}}"#,
                ErrorKind::Other,
            ),
            (
                403,
                r#"{"error":{"type":"invalid_request_error"}}"#,
                ErrorKind::PermissionDenied,
            ),
            (
                404,
                r#"{"error":{"type":"invalid_request_error"}}"#,
                ErrorKind::NotFound,
            ),
            (
                409,
                r#"{"error":{"type":"invalid_request_error"}}"#,
                ErrorKind::IdempotencyConflict,
            ),
            (
                429,
                r#"{"error":{"type":"invalid_request_error","code":"rate_limit"}}"#,
                ErrorKind::RateLimited,
            ),
            (500, r#"{"error":{"type":"api_error"}}"#, ErrorKind::ProviderUnavailable),
            (
                503,
                r#"{"error":{"type":"idempotency_error"}}"#,
                ErrorKind::ProviderUnavailable,
            ),
        ];
        for (status, body, kind) in cases {
            assert_eq!(decode_error(&response(status, body)).kind(), &kind, "{status} {body}");
        }
    }

    #[test]
    fn param_becomes_a_dotted_field_path() {
        let e = decode_error(&response(
            400,
            r#"{"error":{"type":"invalid_request_error","code":"parameter_invalid","message":"bad","param":"metadata[order][0]"}}"#,
        ));
        assert_eq!(e.field(), Some("metadata.order.0"));
        assert_eq!(e.field_errors()[0].code.as_deref(), Some("parameter_invalid"));
        assert_eq!(e.provider_code(), Some("parameter_invalid"));
        assert_eq!(e.message(), "bad");
    }

    #[test]
    fn odd_bodies_still_decode() {
        let e = decode_error(&response(401, r#"{"error":"unauthorized"}"#));
        assert_eq!(e.kind(), &ErrorKind::Authentication);
        assert_eq!(e.message(), "unauthorized");
        let e = decode_error(&response(400, r#"{"type":"invalid_request_error","message":"m"}"#));
        assert_eq!(e.message(), "m");
        assert_eq!(e.provider_code(), Some("invalid_request_error"));
        let e = decode_error(&response(502, "<html>bad gateway</html>"));
        assert_eq!(e.kind(), &ErrorKind::ProviderUnavailable);
        assert_eq!(e.body(), Some("<html>bad gateway</html>"));
        let e = decode_error(&response(400, r#"["invalid_request_error","amount_too_large","m"]"#));
        assert_eq!(e.kind(), &ErrorKind::Validation, "an array is not an error object");
        assert_eq!(e.provider_code(), None);
        let e = decode_error(&response(400, r#"{"unrelated":true}"#));
        assert_eq!(e.kind(), &ErrorKind::Validation);
        assert!(e.body().is_some());
    }
}
