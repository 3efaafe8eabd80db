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

    /// Feeds one chunk; returns the lines it completed. The cap is measured on the raw bytes held for
    /// a line (whitespace inside it included), before anything is trimmed, and for a line completed
    /// inside the chunk too; whitespace before a line starts (keep-alives) is never held.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
        let mut lines = Vec::new();
        let mut rest = chunk;
        while let Some(end) = rest.iter().position(|b| *b == b'\n') {
            self.hold(&rest[..end])?;
            rest = &rest[end + 1..];
            lines.extend(self.take_line());
        }
        self.hold(rest)?;
        Ok(lines)
    }

    fn hold(&mut self, mut bytes: &[u8]) -> Result<(), Error> {
        if self.partial.is_empty() {
            bytes = bytes.trim_ascii_start();
        }
        if self.partial.len().saturating_add(bytes.len()) > self.max_line {
            self.partial.clear();
            return Err(Error::decode(format!("event line longer than {} bytes", self.max_line)));
        }
        self.partial.extend_from_slice(bytes);
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_come_out_whole_whatever_the_chunks() {
        let mut lines = Lines::new(64);
        assert!(lines.push(b"  {\"a\":").unwrap().is_empty());
        assert_eq!(
            lines.push(b"1}\n\n {\"b\":2}\r\n{\"c\"").unwrap(),
            vec![b"{\"a\":1}".to_vec(), b"{\"b\":2}".to_vec()]
        );
        assert_eq!(lines.finish(), None::<Vec<u8>>.or(Some(b"{\"c\"".to_vec())));
    }

    #[test]
    fn whitespace_is_never_held() {
        // Safety review 3, finding 10: 64 MiB of spaces went into a 1 KiB-cap reader unrefused.
        let mut lines = Lines::new(1024);
        let spaces = vec![b' '; 1 << 20];
        for _ in 0..64 {
            assert!(lines.push(&spaces).unwrap().is_empty());
            assert!(lines.partial.capacity() <= 1024, "{}", lines.partial.capacity());
        }
    }

    #[test]
    fn the_cap_counts_raw_bytes_and_lines_inside_one_chunk() {
        let mut lines = Lines::new(16);
        // A line completed inside one chunk, over the cap.
        assert!(lines.push(b"{\"a\":\"0123456789abcdef\"}\n").is_err());
        // Whitespace inside a line counts: it is held.
        let mut lines = Lines::new(16);
        lines.push(b"x").unwrap();
        assert!(lines.push(&[b' '; 16]).is_err());
        // A line of exactly the cap passes.
        let mut lines = Lines::new(16);
        assert_eq!(lines.push(b"0123456789abcdef\n").unwrap().len(), 1);
    }
}
