//! What a connection is doing, for its idle and header timeouts. hyper has one timer for
//! both (`header_read_timeout` runs from the moment a connection waits for a request, so it
//! also bounds the keep-alive idle gap); this keeps them apart the way Go's server does:
//! *idle* from a response to the first byte of the next request, *header* from that first
//! byte to the request being handed to the router. A fresh connection is on the header clock
//! from accept: one that never sends a byte holds a connection slot like half a header does.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use http_body::{Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::config::HttpLimits;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No request under way and no byte of the next one, since a response.
    Idle(Instant),
    /// Waiting for a request's head since then (accept, or its first byte after idling);
    /// the router has not seen it yet.
    Head(Instant),
    /// Requests handed to the router whose responses are not yet done.
    Busy(usize),
}

/// Which timeout closed a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Expiry {
    Idle,
    Header,
}

impl Expiry {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Expiry::Idle => "idle",
            Expiry::Header => "header",
        }
    }
}

/// One connection's phase, shared by its socket, its service and its watcher. A `watch`
/// channel: every change wakes the watcher, which re-arms its timer.
#[derive(Clone)]
pub(super) struct Activity(Arc<watch::Sender<Phase>>);

impl Activity {
    pub(super) fn new() -> Activity {
        Activity(Arc::new(watch::Sender::new(Phase::Head(Instant::now()))))
    }

    fn bytes_read(&self) {
        self.0.send_if_modified(|p| match p {
            Phase::Idle(_) => {
                *p = Phase::Head(Instant::now());
                true
            }
            _ => false,
        });
    }

    /// A request reached the router; the phase stays busy until the guard drops.
    pub(super) fn request_started(&self) -> RequestGuard {
        self.0.send_modify(|p| {
            *p = match *p {
                Phase::Busy(n) => Phase::Busy(n + 1),
                _ => Phase::Busy(1),
            }
        });
        RequestGuard(self.clone())
    }

    /// Resolves when the connection has overrun its idle or header timeout.
    pub(super) async fn expired(&self, limits: HttpLimits) -> Expiry {
        let mut rx = self.0.subscribe();
        loop {
            let (at, why) = match *rx.borrow_and_update() {
                Phase::Idle(since) => (Some(since + limits.idle_timeout()), Expiry::Idle),
                Phase::Head(since) => (Some(since + limits.header_timeout()), Expiry::Header),
                Phase::Busy(_) => (None, Expiry::Idle),
            };
            let Some(at) = at else {
                // The sender lives as long as this `Activity`, so `changed` cannot fail here.
                let _ = rx.changed().await;
                continue;
            };
            tokio::select! {
                () = tokio::time::sleep_until(at) => {
                    if !rx.has_changed().unwrap_or(false) {
                        return why;
                    }
                }
                _ = rx.changed() => {}
            }
        }
    }
}

/// Ends a request's busy phase when dropped: with its response body, after the last byte was
/// handed to the connection, or with the request's future if the connection went first.
pub(super) struct RequestGuard(Activity);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.0.0.send_modify(|p| {
            *p = match *p {
                Phase::Busy(n) if n > 1 => Phase::Busy(n - 1),
                _ => Phase::Idle(Instant::now()),
            }
        });
    }
}

/// A response body that holds its request's guard.
pub(super) struct GuardedBody {
    pub(super) inner: Body,
    pub(super) _guard: RequestGuard,
}

impl http_body::Body for GuardedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A socket that reports the first bytes of each request's head to its [`Activity`].
pub(super) struct WatchedIo<T> {
    pub(super) io: T,
    pub(super) activity: Activity,
}

impl<T: AsyncRead + Unpin> AsyncRead for WatchedIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.bytes_read();
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WatchedIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
