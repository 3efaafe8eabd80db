//! One API call as a provider describes it, before the transport sends it.

use std::fmt;
use std::sync::Arc;

use http::Method;
use http::header::{HeaderName, HeaderValue};
use serde::Serialize;
use url::Url;

use crate::error::{Error, Result};

/// One API call: method, path segments (each percent-encoded into exactly one segment), query, body.
#[derive(Clone)]
pub struct ApiRequest {
    pub(super) method: Method,
    /// Where the segments go: the transport's base URL when `None`. Shared: every call of a client
    /// starts from the same one.
    pub(super) base: Option<Arc<Url>>,
    pub(super) segments: Vec<String>,
    pub(super) query: Vec<(String, String)>,
    pub(super) headers: Vec<(HeaderName, HeaderValue)>,
    // `Bytes`: a retry re-sends the same buffer without copying it.
    pub(super) body: Option<bytes::Bytes>,
    pub(super) replay_safe: bool,
    pub(super) trailing_slash: bool,
}

impl ApiRequest {
    /// A request with `method` to the base URL plus `segments`.
    pub fn new<S: AsRef<str>>(method: Method, segments: &[S]) -> ApiRequest {
        let replay_safe = method == Method::GET || method == Method::HEAD;
        ApiRequest {
            method,
            base: None,
            segments: segments.iter().map(|s| s.as_ref().to_owned()).collect(),
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
            replay_safe,
            trailing_slash: false,
        }
    }
    /// A request with `method` to `base` (a URL the transport built, see [`Transport::url`]) plus
    /// `segments`.
    pub(crate) fn under(method: Method, base: Arc<Url>, segments: &[&str]) -> ApiRequest {
        ApiRequest {
            base: Some(base),
            ..ApiRequest::new(method, segments)
        }
    }
    /// A GET (replay-safe).
    pub fn get<S: AsRef<str>>(segments: &[S]) -> ApiRequest {
        ApiRequest::new(Method::GET, segments)
    }
    /// A POST (not replay-safe unless marked with [`ApiRequest::replay_safe`]).
    pub fn post<S: AsRef<str>>(segments: &[S]) -> ApiRequest {
        ApiRequest::new(Method::POST, segments)
    }
    /// Adds a query parameter.
    pub fn query(mut self, name: &str, value: impl ToString) -> ApiRequest {
        self.query.push((name.to_owned(), value.to_string()));
        self
    }
    /// Adds a header.
    pub fn header(mut self, name: HeaderName, value: &str) -> Result<ApiRequest> {
        let value = HeaderValue::from_str(value)
            .map_err(|_| Error::invalid_request(name.as_str(), "not a valid header value"))?;
        self.headers.push((name, value));
        Ok(self)
    }
    /// Sets a JSON body.
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Result<ApiRequest> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| Error::configuration(format!("request body did not serialize: {e}")))?;
        self.body = Some(bytes::Bytes::from(bytes));
        Ok(self)
    }
    /// Sets a body that is already JSON text.
    pub fn json_text(mut self, text: &str) -> ApiRequest {
        self.body = Some(bytes::Bytes::copy_from_slice(text.as_bytes()));
        self
    }
    /// Sets a body that is already JSON text, taking the text without a copy.
    pub(crate) fn json_string(mut self, text: String) -> ApiRequest {
        self.body = Some(bytes::Bytes::from(text));
        self
    }
    /// Ends the path with `/` (`GET /v1/refunds/{id}/`), for routes documented that way: a framework
    /// that redirects the form without it would answer a 3xx, which is never followed.
    pub fn trailing_slash(mut self) -> ApiRequest {
        self.trailing_slash = true;
        self
    }
    /// Declares whether sending this request twice is harmless (a GET, or a create whose idempotency key
    /// the provider honours). Only replay-safe requests are retried after they may have been received.
    pub fn replay_safe(mut self, yes: bool) -> ApiRequest {
        self.replay_safe = yes;
        self
    }
    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }
    /// The headers this request adds to the client's (an idempotency key, say).
    pub fn headers(&self) -> &[(HeaderName, HeaderValue)] {
        &self.headers
    }
    /// The JSON body, if any.
    pub fn body(&self) -> Option<&[u8]> {
        self.body.as_deref()
    }
    /// Whether it may be sent twice.
    pub fn is_replay_safe(&self) -> bool {
        self.replay_safe
    }
}

impl fmt::Debug for ApiRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiRequest")
            .field("method", &self.method)
            .field("base", &self.base.as_ref().map(|base| base.path()))
            .field("segments", &self.segments)
            .field("query", &self.query)
            .field("replay_safe", &self.replay_safe)
            .finish_non_exhaustive()
    }
}
