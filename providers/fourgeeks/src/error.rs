//! 4Geeks error bodies into [`refunds::Error`]: the HTTP status decides the kind first, then the
//! message text refines it (the shared `adapter::errors::refine_by_sentence` rules; the words are
//! assumptions, see the README's error table) for the refusals 4Geeks does not document.

use refunds::adapter::errors::refine_by_sentence;
use refunds::adapter::{ApiResponse, kind_for_status};
use refunds::{Delivery, Error, FieldError};

use crate::wire::{WireDetail, WireErrorBody, WireMessage};

/// What one error body says, whatever its shape.
struct Decoded {
    message: String,
    code: Option<String>,
    fields: Vec<FieldError>,
    /// The provider's own sentence, for the refinements; `None` for FastAPI field lists, whose
    /// messages describe the schema ("ensure this value is greater than 0") and never a balance.
    sentence: Option<String>,
}

fn read_body(body: &[u8]) -> Option<Decoded> {
    let parsed: WireErrorBody = serde_json::from_slice(body).ok()?;
    if let Some(detail) = parsed.detail {
        return Some(match detail {
            WireDetail::Items(items) => {
                let fields: Vec<FieldError> = items
                    .iter()
                    .map(|item| FieldError::new(item.path(), item.msg.clone(), item.kind.clone()))
                    .collect();
                let message = fields
                    .iter()
                    .map(|f| format!("{}: {}", f.field, f.message))
                    .collect::<Vec<_>>()
                    .join("; ");
                Decoded {
                    message,
                    code: items.first().and_then(|i| i.kind.clone()),
                    fields,
                    sentence: None,
                }
            }
            WireDetail::Text(text) => Decoded {
                message: text.clone(),
                code: None,
                fields: Vec::new(),
                sentence: Some(text),
            },
        });
    }
    match parsed.message? {
        WireMessage::Object(object) => {
            let message = match (object.title, object.content) {
                (Some(title), Some(content)) => format!("{title}: {content}"),
                (Some(text), None) | (None, Some(text)) => text,
                (None, None) => String::new(),
            };
            Some(Decoded {
                sentence: Some(message.clone()),
                message,
                code: object.code.map(|c| c.to_string()),
                fields: Vec::new(),
            })
        }
        WireMessage::Text(text) => Some(Decoded {
            message: text.clone(),
            code: None,
            fields: Vec::new(),
            sentence: Some(text),
        }),
    }
}

/// The [`refunds::adapter::ErrorDecoder`] of the 4Geeks transport: kind, code, message and field
/// errors from any documented body shape; an unreadable body keeps the status-table kind.
pub(crate) fn decode_error(response: &ApiResponse) -> Error {
    let status = response.status;
    let kind = kind_for_status(status);
    let Some(decoded) = read_body(&response.body) else {
        return Error::new(kind, Delivery::Rejected, format!("http {status}"));
    };
    let kind = match &decoded.sentence {
        Some(sentence) => refine_by_sentence(kind, status, sentence),
        None => kind,
    };
    let message = if decoded.message.is_empty() {
        format!("http {status}")
    } else {
        decoded.message
    };
    Error::new(kind, Delivery::Rejected, message)
        .with_provider_code(decoded.code)
        .with_field_errors(decoded.fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use refunds::ErrorKind;

    fn response(status: u16, body: &str) -> ApiResponse {
        ApiResponse {
            status,
            headers: http::HeaderMap::new(),
            body: body.as_bytes().to_vec().into(),
            request_id: None,
        }
    }

    #[test]
    fn schema_messages_never_become_balance_errors() {
        let e = decode_error(&response(
            422,
            r#"{"detail":[{"loc":["body","amount"],"msg":"ensure this value is greater than 0","type":"value_error.number.not_gt"}]}"#,
        ));
        assert_eq!(e.kind(), &ErrorKind::Validation);
        assert_eq!(e.field(), Some("body.amount"));
    }

    #[test]
    fn refinements_only_apply_to_refusals() {
        for (kind, status, sentence, refined) in [
            (
                ErrorKind::ProviderUnavailable,
                503,
                "refund amount exceeds",
                ErrorKind::ProviderUnavailable,
            ),
            (
                ErrorKind::Validation,
                400,
                "Refund amount exceeds the payment",
                ErrorKind::AmountExceedsRefundable,
            ),
            (
                ErrorKind::Validation,
                400,
                "Payment was already refunded",
                ErrorKind::AlreadyRefunded,
            ),
            (ErrorKind::Validation, 400, "Payment not found", ErrorKind::NotFound),
            (
                ErrorKind::Validation,
                400,
                "Insufficient refundable balance",
                ErrorKind::AmountExceedsRefundable,
            ),
        ] {
            assert_eq!(refine_by_sentence(kind, status, sentence), refined, "{sentence}");
        }
        for sentence in [
            "reason is too long",
            "Payment is not refundable",
            "The payment cannot be refunded in its current state.",
            "Refund not allowed: the payment is more than 180 days old",
        ] {
            assert_eq!(
                refine_by_sentence(ErrorKind::Validation, 400, sentence),
                ErrorKind::Validation,
                "{sentence}"
            );
        }
    }

    #[test]
    fn non_json_bodies_keep_the_status_kind() {
        let e = decode_error(&response(502, "<html>bad gateway</html>"));
        assert_eq!(e.kind(), &ErrorKind::ProviderUnavailable);
        assert_eq!(e.message(), "http 502");
    }
}
