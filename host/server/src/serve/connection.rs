//! One accepted connection: HTTP/1.1 through hyper, closed when it overruns its idle or header
//! timeout, asked to finish gracefully when the server stops.

use std::convert::Infallible;
use std::future::Future;
use std::pin::{Pin, pin};

use axum::Router;
use axum::body::Body;
use axum::response::Response;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, watch};
use tower::ServiceExt;

use super::activity::{Activity, GuardedBody, WatchedIo};
use crate::config::HttpLimits;
use crate::metrics::names;

/// Serves `stream` until the client closes it, a timeout closes it, or `stop` turns true and
/// its last response is done. `_slot` is the connection's place under the connection cap.
pub(super) async fn serve_connection(
    stream: TcpStream,
    router: Router,
    limits: HttpLimits,
    mut stop: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
) {
    let activity = Activity::new();
    let io = TokioIo::new(WatchedIo {
        io: stream,
        activity: activity.clone(),
    });
    let service = Tracked {
        router,
        activity: activity.clone(),
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    // hyper's own header timer runs from the moment the connection waits for a request, idle
    // time included. Set to the sum, it only backs `Activity` up (it can fire first only on a
    // response still being written to a reader that slow, which it then bounds too).
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.idle_timeout() + limits.header_timeout());
    let mut conn = pin!(builder.serve_connection(io, service));
    let mut expired = pin!(activity.expired(limits));
    let mut stopping = pin!(async move {
        // An error means the server dropped the sender: stopping too.
        let _ = stop.wait_for(|s| *s).await;
    });
    let mut asked_to_stop = false;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            why = &mut expired => {
                metrics::counter!(names::CONNECTIONS_TIMED_OUT_TOTAL, "timeout" => why.as_str())
                    .increment(1);
                tracing::debug!(timeout = why.as_str(), "closing a connection that overran its timeout");
                // Dropping `conn` closes the socket.
                return;
            }
            () = &mut stopping, if !asked_to_stop => {
                asked_to_stop = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// The router as a hyper service, marking each request busy until its response body is done.
#[derive(Clone)]
struct Tracked {
    router: Router,
    activity: Activity,
}

impl hyper::service::Service<hyper::Request<Incoming>> for Tracked {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, req: hyper::Request<Incoming>) -> Self::Future {
        let guard = self.activity.request_started();
        let response = self.router.clone().oneshot(req.map(Body::new));
        Box::pin(async move {
            let response: Response = response.await?;
            Ok(response.map(|inner| {
                Body::new(GuardedBody {
                    inner,
                    _guard: guard,
                })
            }))
        })
    }
}
