//! A long-lived 2xx answer (an event stream), read chunk by chunk.

use std::fmt;

use crate::error::Result;

use super::{ApiRequest, Transport};

/// The body of a long-lived 2xx response, read chunk by chunk ([`Transport::open_stream`]).
pub struct StreamBody {
    pub(super) response: reqwest::Response,
    pub(super) transport: Transport,
    pub(super) request: ApiRequest,
}

impl fmt::Debug for StreamBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamBody")
            .field("status", &self.response.status().as_u16())
            .finish_non_exhaustive()
    }
}

impl StreamBody {
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.response.status().as_u16()
    }

    /// A response header as text (`date`, say).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.response.headers().get(name).and_then(|v| v.to_str().ok())
    }

    /// The next chunk as it arrives; `None` when the server closed the stream. A broken connection is
    /// a `Transport` error, tagged and scrubbed like any other.
    pub async fn chunk(&mut self) -> Result<Option<bytes::Bytes>> {
        self.response
            .chunk()
            .await
            .map_err(|e| self.transport.transport_error(&e, &self.request))
    }
}
