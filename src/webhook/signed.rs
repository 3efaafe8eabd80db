//! A signature scheme and an event parser together: the ready-made [`WebhookVerifier`].

use http::{HeaderMap, HeaderName};

use super::{EventParser, WebhookError, WebhookEvent, WebhookVerifier};
use crate::adapter::signature::SignatureScheme;

/// A provider's webhook verifier: checks the signature with `S` over the raw body, and only then reads
/// the body with the provider's [`EventParser`]. Provider crates return one of these (usually as
/// `impl WebhookVerifier` or boxed) from their `webhook_verifier(...)` constructor.
#[derive(Debug, Clone)]
pub struct SignedWebhooks<S> {
    scheme: S,
    parser: EventParser,
}

impl<S: SignatureScheme> SignedWebhooks<S> {
    /// Pairs a scheme with a parser.
    pub fn new(scheme: S, parser: EventParser) -> SignedWebhooks<S> {
        SignedWebhooks { scheme, parser }
    }

    /// The signature scheme.
    pub fn scheme(&self) -> &S {
        &self.scheme
    }

    /// The event parser.
    pub fn parser(&self) -> &EventParser {
        &self.parser
    }

    /// The headers that sign `body` now (for sandboxes and tests).
    pub fn sign_headers(&self, body: &[u8]) -> Vec<(HeaderName, String)> {
        self.scheme.sign_headers(body)
    }
}

impl<S: SignatureScheme> WebhookVerifier for SignedWebhooks<S> {
    fn provider(&self) -> &'static str {
        self.parser.provider()
    }

    fn verify_and_parse(&self, headers: &HeaderMap, body: &[u8]) -> Result<WebhookEvent, WebhookError> {
        self.scheme
            .verify(headers, body)
            .map_err(|e| e.with_provider(self.parser.provider()))?;
        self.parser.parse(body)
    }
}
