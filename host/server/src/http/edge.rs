//! What every request passes through before its handler, whatever the route: request ids and
//! tracing, the last-resort panic catcher, the in-flight cap, the body deadline, and the
//! problem+json answers for an unknown route or method. [`crate::http::router`] puts these
//! around the API; tests put them around routers of their own.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderName, Method, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::config::HttpLimits;
use crate::http::problem::ApiError;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Liveness stays answerable when the in-flight cap is reached: an orchestrator that saw
/// `/healthz` fail under load would restart a replica that is merely busy.
const EXEMPT_FROM_CAP: &str = "/healthz";

/// `router` with the fallbacks and every edge layer applied.
pub fn wrap(router: Router, limits: &HttpLimits) -> Router {
    let slots = InFlight {
        permits: Arc::new(Semaphore::new(limits.max_in_flight as usize)),
        limit: limits.max_in_flight,
    };
    router
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(request_span)
                        .on_request(())
                        .on_response(access_log)
                        .on_failure(()),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(CatchPanicLayer::custom(panicked))
                .layer(middleware::from_fn_with_state(slots, in_flight))
                .layer(middleware::from_fn_with_state(
                    limits.body_timeout(),
                    crate::http::body_deadline::enforce,
                )),
        )
}

/// The span every line a request logs carries: its id and method, then (once routing and
/// authentication know them) the route template and the key's name. Never the raw path: it
/// can hold an e-mail, a phone or a card fingerprint.
fn request_span(req: &Request) -> tracing::Span {
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        route = tracing::field::Empty,
        key = tracing::field::Empty,
    )
}

/// The access log: one line per answered request, at `info`, in the request's span (so with
/// its id, method, route template and key name), with the status and the time taken.
fn access_log<B>(response: &axum::http::Response<B>, latency: Duration, _span: &tracing::Span) {
    tracing::info!(
        status = response.status().as_u16(),
        ms = latency.as_secs_f64() * 1000.0,
        "served"
    );
}

/// A handler panic becomes a logged 500 `internal`; the panic's text stays in the log.
fn panicked(panic: Box<dyn Any + Send + 'static>) -> Response {
    let text = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("a panic without a message");
    ApiError::Internal(format!("handler panicked: {text}")).into_response()
}

/// The in-flight cap and its size (for the refusal's text).
#[derive(Clone)]
struct InFlight {
    permits: Arc<Semaphore>,
    limit: u32,
}

/// Holds a permit while the request is handled; none left is 503 with `Retry-After`, at
/// once, rather than a queue that grows with the load.
async fn in_flight(State(slots): State<InFlight>, req: Request, next: Next) -> Response {
    if req.uri().path() == EXEMPT_FROM_CAP {
        return next.run(req).await;
    }
    match slots.permits.try_acquire() {
        Ok(_permit) => next.run(req).await,
        Err(_) => ApiError::InFlightLimit { limit: slots.limit }.into_response(),
    }
}

async fn no_route(uri: Uri) -> ApiError {
    ApiError::NoRoute(uri.path().to_owned())
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::MethodNotAllowed {
        method: method.to_string(),
        path: uri.path().to_owned(),
    }
}
