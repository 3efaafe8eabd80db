//! Newline-delimited streams (an event stream, NDJSON): the lines of a [`StreamBody`] whatever the
//! network chunks, with a bound on a line's length and on the idle time between chunks. A provider's
//! stream reader maps each line to its event.

use std::collections::VecDeque;
use std::time::Duration;

use futures_util::stream::{self, BoxStream, StreamExt};

use super::transport::StreamBody;
use crate::error::{Delivery, Error, ErrorKind};

/// Splits a byte stream into its non-blank lines, trimmed of whitespace: keep-alive spaces and empty
/// lines vanish, and a line split across chunks comes out whole once its newline arrives.
#[derive(Debug, Clone)]
pub struct Lines {
    partial: Vec<u8>,
    max_line: usize,
}

impl Lines {
    /// A splitter refusing lines longer than `max_line` bytes (a `Decode` error), so a server that never
    /// sends a newline cannot grow memory without bound.
    pub fn new(max_line: usize) -> Lines {
        Lines {
            partial: Vec::new(),
            max_line,
        }
    }

    /// Feeds one chunk; returns the lines it completed.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
        let mut lines = Vec::new();
        let mut rest = chunk;
        while let Some(end) = rest.iter().position(|b| *b == b'\n') {
            self.partial.extend_from_slice(&rest[..end]);
            rest = &rest[end + 1..];
            lines.extend(self.take_line());
        }
        self.partial.extend_from_slice(rest);
        if self.partial.trim_ascii().len() > self.max_line {
            return Err(Error::decode(format!("event line longer than {} bytes", self.max_line)));
        }
        Ok(lines)
    }

    /// The stream closed: the last line if it had no newline (and is not blank).
    pub fn finish(&mut self) -> Option<Vec<u8>> {
        self.take_line()
    }

    fn take_line(&mut self) -> Option<Vec<u8>> {
        let line = self.partial.trim_ascii().to_vec();
        self.partial.clear();
        (!line.is_empty()).then_some(line)
    }
}

struct Reader {
    body: StreamBody,
    lines: Lines,
    ready: VecDeque<Vec<u8>>,
    idle: Duration,
    done: bool,
}

/// The non-blank lines of `body` as they complete (at most `max_line` bytes each). The stream ends
/// when the server closes it, or with one error, yielded last: the transport's, an over-long line
/// (`Decode`), or `idle` without a chunk (`Timeout`, `Ambiguous`). Errors are not tagged: the
/// provider's reader passes them through its client's `finish`.
pub fn read_lines(body: StreamBody, max_line: usize, idle: Duration) -> BoxStream<'static, Result<Vec<u8>, Error>> {
    let reader = Reader {
        body,
        lines: Lines::new(max_line),
        ready: VecDeque::new(),
        idle,
        done: false,
    };
    stream::unfold(reader, |mut r| async move {
        loop {
            if let Some(line) = r.ready.pop_front() {
                return Some((Ok(line), r));
            }
            if r.done {
                return None;
            }
            let failed = match tokio::time::timeout(r.idle, r.body.chunk()).await {
                Ok(Ok(Some(chunk))) => match r.lines.push(&chunk) {
                    Ok(lines) => {
                        r.ready.extend(lines);
                        continue;
                    }
                    Err(e) => e,
                },
                Ok(Ok(None)) => {
                    r.done = true;
                    r.ready.extend(r.lines.finish());
                    continue;
                }
                Ok(Err(e)) => e,
                Err(_) => Error::new(ErrorKind::Timeout, Delivery::Ambiguous, "event stream: idle timeout"),
            };
            r.done = true;
            return Some((Err(failed), r));
        }
    })
    .boxed()
}
