//! The request a skin reads and the response it writes.

use http::{HeaderMap, Method};
use serde::{Deserialize, Serialize};

/// One HTTP request as the sandbox received it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SandboxRequest {
    /// The method.
    pub method: Method,
    /// The path segments, percent-decoded (`/v1/refunds/re%2F1` gives `["v1", "refunds", "re/1"]`).
    pub segments: Vec<String>,
    /// Query parameters, decoded, in order.
    pub query: Vec<(String, String)>,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Vec<u8>,
}

impl SandboxRequest {
    /// A request (for testing skins without a server).
    pub fn new(method: Method, path_and_query: &str, headers: HeaderMap, body: Vec<u8>) -> SandboxRequest {
        let url = url::Url::parse("http://sandbox.invalid")
            .and_then(|base| base.join(path_and_query))
            .unwrap_or_else(|_| url::Url::parse("http://sandbox.invalid/").expect("static url"));
        let segments = url
            .path_segments()
            .map(|s| {
                s.filter(|p| !p.is_empty())
                    .map(|p| percent_encoding::percent_decode_str(p).decode_utf8_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        let query = url.query_pairs().into_owned().collect();
        SandboxRequest {
            method,
            segments,
            query,
            headers,
            body,
        }
    }

    /// True when the method is `method` and the segments are `path` (where `"*"` matches any one).
    pub fn is(&self, method: &str, path: &[&str]) -> bool {
        self.method.as_str() == method
            && self.segments.len() == path.len()
            && self.segments.iter().zip(path).all(|(s, p)| *p == "*" || s == p)
    }

    /// The first value of a query parameter.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body parsed as JSON.
    pub fn json<'a, T: Deserialize<'a>>(&'a self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }
}

/// The answer a skin gives.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SandboxResponse {
    /// HTTP status.
    pub status: u16,
    /// Extra headers (`Content-Type: application/json` is added for JSON bodies).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// The body's chunks to come, for an answer made by [`SandboxResponse::streaming`].
    pub(crate) stream: Option<super::body::OpenStream>,
}

impl SandboxResponse {
    /// A JSON answer.
    pub fn json<T: Serialize + ?Sized>(status: u16, body: &T) -> SandboxResponse {
        SandboxResponse {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: serde_json::to_vec(body).unwrap_or_default(),
            stream: None,
        }
    }

    /// An answer with a raw body.
    pub fn raw(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> SandboxResponse {
        SandboxResponse {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
            stream: None,
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: &str) -> SandboxResponse {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The body parsed as JSON (for tests of skins).
    pub fn json_body(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_decoded_one_by_one() {
        let r = SandboxRequest::new(
            Method::GET,
            "/v1/refunds/..%2F..%2Fadmin%3Fx=1?limit=3&a=b%26c",
            HeaderMap::new(),
            vec![],
        );
        assert_eq!(r.segments, vec!["v1", "refunds", "../../admin?x=1"]);
        assert_eq!(r.query_param("limit"), Some("3"));
        assert_eq!(r.query_param("a"), Some("b&c"));
        assert!(r.is("GET", &["v1", "refunds", "*"]));
        assert!(!r.is("POST", &["v1", "refunds", "*"]));
        let plus = SandboxRequest::new(Method::GET, "/a+b", HeaderMap::new(), vec![]);
        assert_eq!(plus.segments, vec!["a+b"]);
    }
}
