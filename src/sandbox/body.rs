//! Answers that stay open (an event stream): a skin answers with [`SandboxResponse::streaming`] and
//! writes chunks through the [`StreamWriter`] it gets, from a task of its own, for as long as it likes.
//!
//! The server can cut every open stream of a sandbox at once ([`Sandbox::cut_streams`]): the
//! connection then ends without the final chunk, as a dropped network connection does, so that a
//! client's reconnect logic can be tested.
//!
//! [`Sandbox::cut_streams`]: super::Sandbox::cut_streams

use std::fmt;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use http_body_util::Full;
use hyper::body::{Body, Bytes, Frame, SizeHint};
use tokio::sync::mpsc;

use super::{Sandbox, SandboxResponse};

/// Chunks a stream may hold unsent before [`StreamWriter::send`] waits for the client.
const BUFFERED_CHUNKS: usize = 64;

pub(crate) enum Chunk {
    Data(Bytes),
    Cut,
}

/// The receiving end of a streaming answer, carried by the [`SandboxResponse`] until the server sends it.
#[derive(Clone)]
pub(crate) struct OpenStream {
    receiver: Arc<Mutex<Option<mpsc::Receiver<Chunk>>>>,
    cut: mpsc::WeakSender<Chunk>,
    was_cut: Arc<AtomicBool>,
}

impl fmt::Debug for OpenStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OpenStream")
    }
}

impl PartialEq for OpenStream {
    fn eq(&self, other: &OpenStream) -> bool {
        Arc::ptr_eq(&self.receiver, &other.receiver)
    }
}

impl Eq for OpenStream {}

/// Writes the chunks of a streaming answer. Dropping it ends the answer normally.
#[derive(Debug, Clone)]
pub struct StreamWriter {
    sender: mpsc::Sender<Chunk>,
}

impl fmt::Debug for Chunk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Chunk::Data(bytes) => write!(f, "Data({} bytes)", bytes.len()),
            Chunk::Cut => f.write_str("Cut"),
        }
    }
}

impl StreamWriter {
    /// Sends one chunk; false once the client is gone or the stream was cut (then stop writing).
    pub async fn send(&self, chunk: impl Into<Bytes>) -> bool {
        self.sender.send(Chunk::Data(chunk.into())).await.is_ok()
    }

    /// True once the client is gone or the stream was cut.
    pub fn is_closed(&self) -> bool {
        self.sender.is_closed()
    }

    /// Waits until the client is gone or the stream was cut.
    pub async fn closed(&self) {
        self.sender.closed().await;
    }
}

impl SandboxResponse {
    /// An answer whose body is written later, chunk by chunk, through the returned writer (from a
    /// spawned task: the skin's `handle` returns at once). The answer ends when the writer is
    /// dropped.
    pub fn streaming(status: u16, content_type: &str) -> (SandboxResponse, StreamWriter) {
        let (sender, receiver) = mpsc::channel(BUFFERED_CHUNKS);
        let stream = OpenStream {
            receiver: Arc::new(Mutex::new(Some(receiver))),
            cut: sender.downgrade(),
            was_cut: Arc::default(),
        };
        let mut answer = SandboxResponse::raw(status, content_type, Vec::new());
        answer.stream = Some(stream);
        (answer, StreamWriter { sender })
    }
}

/// The body the server sends: whole, or streamed until the writer drops or the stream is cut.
pub(crate) enum SandboxBody {
    Full(Full<Bytes>),
    Stream(mpsc::Receiver<Chunk>, Arc<AtomicBool>),
}

/// The stream was cut by the server: the connection ends without the final chunk.
#[derive(Debug)]
pub(crate) struct CutByServer;

impl fmt::Display for CutByServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("stream cut by the sandbox")
    }
}

impl std::error::Error for CutByServer {}

impl SandboxBody {
    /// The body of `answer`, and the handle that cuts it when it streams.
    pub(crate) fn of(body: Vec<u8>, stream: Option<OpenStream>) -> (SandboxBody, Option<CutHandle>) {
        let taken = stream.and_then(|s| {
            let receiver = s.receiver.lock().unwrap_or_else(|p| p.into_inner()).take()?;
            Some((receiver, s.cut, s.was_cut))
        });
        match taken {
            Some((receiver, cut, was_cut)) => (
                SandboxBody::Stream(receiver, was_cut.clone()),
                Some(CutHandle { sender: cut, was_cut }),
            ),
            None => (SandboxBody::Full(Full::new(Bytes::from(body))), None),
        }
    }
}

impl Body for SandboxBody {
    type Data = Bytes;
    type Error = CutByServer;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, CutByServer>>> {
        match self.get_mut() {
            SandboxBody::Full(full) => Pin::new(full).poll_frame(cx).map_err(|never| match never {}),
            // Checked first: a cut wins over chunks still buffered.
            SandboxBody::Stream(_, was_cut) if was_cut.load(Ordering::SeqCst) => Poll::Ready(Some(Err(CutByServer))),
            SandboxBody::Stream(receiver, _) => match receiver.poll_recv(cx) {
                Poll::Ready(Some(Chunk::Data(bytes))) => Poll::Ready(Some(Ok(Frame::data(bytes)))),
                Poll::Ready(Some(Chunk::Cut)) => Poll::Ready(Some(Err(CutByServer))),
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            SandboxBody::Full(full) => full.is_end_stream(),
            SandboxBody::Stream(..) => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            SandboxBody::Full(full) => full.size_hint(),
            SandboxBody::Stream(..) => SizeHint::default(),
        }
    }
}

/// Cuts one open stream (without keeping it open).
#[derive(Clone)]
pub(crate) struct CutHandle {
    sender: mpsc::WeakSender<Chunk>,
    was_cut: Arc<AtomicBool>,
}

/// The streams a sandbox has open, to cut them all at once.
#[derive(Default)]
pub(crate) struct OpenStreams(Mutex<Vec<CutHandle>>);

impl OpenStreams {
    pub(crate) fn add(&self, handle: CutHandle) {
        let mut open = self.0.lock().unwrap_or_else(|p| p.into_inner());
        open.retain(|h| h.sender.strong_count() > 0);
        open.push(handle);
    }

    /// Cuts every stream still open; returns how many.
    pub(crate) fn cut_all(&self) -> usize {
        let open = std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()));
        let mut cut = 0;
        for handle in open {
            let Some(sender) = handle.sender.upgrade() else {
                continue;
            };
            if sender.is_closed() {
                continue;
            }
            handle.was_cut.store(true, Ordering::SeqCst);
            // Wakes the body if it waits for a chunk; a full buffer means it will be polled anyway.
            let _ = sender.try_send(Chunk::Cut);
            cut += 1;
        }
        cut
    }
}

impl Sandbox {
    /// Drops every streaming answer still open (an event stream) mid-stream, without its final chunk,
    /// as a broken connection would; returns how many. For testing a client's reconnect.
    pub fn cut_streams(&self) -> usize {
        self.shared.streams.cut_all()
    }
}
