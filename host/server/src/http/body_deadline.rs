//! The body-read timeout: a request's whole body must arrive within a deadline counted from
//! its header. tower-http's `RequestBodyTimeout` restarts its clock at every frame, so a
//! client sending a byte every few seconds would hold the request for ever; this one does not.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::{Frame, SizeHint};

use crate::http::problem::ApiError;

/// Wraps the request body so it fails once `limit` has passed, and answers 408 (closing the
/// connection) if it did, whatever the handler made of the failed read.
pub async fn enforce(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    use http_body::Body as _;
    if req.body().is_end_stream() {
        return next.run(req).await;
    }
    let tripped = Arc::new(AtomicBool::new(false));
    let req = req.map(|inner| {
        Body::new(DeadlineBody {
            inner,
            deadline: Box::pin(tokio::time::sleep(limit)),
            tripped: tripped.clone(),
        })
    });
    let response = next.run(req).await;
    if tripped.load(Ordering::Acquire) {
        let limit_ms = u64::try_from(limit.as_millis()).unwrap_or(u64::MAX);
        return ApiError::BodyTimeout { limit_ms }.into_response();
    }
    response
}

/// A body that errors once its deadline passes with data still to come.
struct DeadlineBody {
    inner: Body,
    /// Set once, when the request's header was read.
    deadline: Pin<Box<tokio::time::Sleep>>,
    /// Tells [`enforce`] the failure was the deadline (handlers map body errors their own way).
    tripped: Arc<AtomicBool>,
}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            self.tripped.store(true, Ordering::Release);
            return Poll::Ready(Some(Err(axum::Error::new("request body timed out"))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
