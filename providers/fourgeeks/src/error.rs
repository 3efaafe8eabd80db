//! 4Geeks error bodies into [`refunds::Error`], on the shared parsers: the HTTP status decides the
//! kind first, then the message text refines it (the shared sentence rules; the words are
//! assumptions, see the README's error table) for the refusals 4Geeks does not document.

use refunds::Error;
use refunds::adapter::ApiResponse;
use refunds::adapter::errors::{CodeTable, fastapi, flat};

/// No codes of its own: the status decides, and the shared sentence rules refine a refusal.
const CODES: CodeTable = CodeTable::new(&[]).with_sentence_rules();

/// The [`refunds::adapter::ErrorDecoder`] of the 4Geeks transport, on the shared parsers: FastAPI's
/// `detail` (field lists carry no sentence: their messages describe the schema, never a balance),
/// then 4Geeks' `message` object or text ([`flat`]); an unreadable body keeps the status's kind.
pub(crate) fn decode_error(response: &ApiResponse) -> Error {
    fastapi::parse(&response.body)
        .or_else(|| flat::parse(&response.body))
        .unwrap_or_default()
        .into_error(response.status, &CODES)
}

#[cfg(test)]
mod tests {
    use super::*;
    use refunds::ErrorKind;
    use refunds::adapter::errors::refine_by_sentence;

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
