//! One API answer as the transport read it (body capped), its request id, and what its status says
//! about delivery.

use http::header::{HeaderMap, HeaderName};

use crate::error::{Delivery, Error, Result};

/// A response as read by the transport (body capped).
#[derive(Debug, Clone)]
pub struct ApiResponse {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// Body bytes (at most the configured cap). `Bytes`: a body that arrives in one piece, as most
    /// answers do, is kept as it came off the connection instead of copied.
    pub body: bytes::Bytes,
    /// Request id from the usual headers (`request-id`, `x-request-id`, ...).
    pub request_id: Option<String>,
}

impl ApiResponse {
    /// True for 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// A `Decode` error for this response, keeping status, request id and the start of the body.
    pub fn decode_error(&self, message: impl Into<String>) -> Error {
        Error::decode(message)
            .with_http_status(self.status)
            .with_request_id(self.request_id.clone())
            .with_body(&self.body)
    }

    /// Parses the body as `T`, or a `Decode` error that says where it failed.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| self.decode_error(format!("response body: {e}")))
    }
}

// Names, not strings: a lookup by `&str` parses the name again on every call.
const REQUEST_ID_HEADERS: [HeaderName; 5] = [
    HeaderName::from_static("request-id"),
    HeaderName::from_static("x-request-id"),
    HeaderName::from_static("x-correlation-id"),
    HeaderName::from_static("x-trace-id"),
    HeaderName::from_static("cf-ray"),
];

/// Reads a request id from the usual headers.
pub fn request_id_from_headers(headers: &HeaderMap) -> Option<String> {
    REQUEST_ID_HEADERS
        .iter()
        .find_map(|name| headers.get(name))
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// What an HTTP status says about whether the request was applied: a 4xx refusal (but 408) was not;
/// a 5xx, a 408 (some gateways time out after the upstream started work) and anything that is not
/// a plain answer (a 3xx such as "303 See Other" after a processed POST, a 1xx) may have been.
pub fn delivery_of_status(status: u16) -> Delivery {
    match status {
        408 => Delivery::Ambiguous,
        400..=499 => Delivery::Rejected,
        _ => Delivery::Ambiguous,
    }
}
