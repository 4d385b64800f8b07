//! Liveness, readiness and metrics for operators.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::app_state::AppState;
use crate::http::problem::ApiError;

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200)))]
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// The database answers.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200), (status = 503, description = "Database unreachable")))]
pub async fn readyz(State(app): State<AppState>) -> Result<Json<Value>, ApiError> {
    app.store.ping().await?;
    // Redis trouble degrades (documented fallbacks apply) but does not take the replica out
    // of rotation: the database is what acknowledged decisions need.
    let velocity_shared = app.redis_velocity.as_ref().map(|r| !r.is_degraded());
    let notifications = app.replication.get().map(|r| r.is_subscribed());
    // A replica behind the others' decisions scores with fewer links than they hold: it
    // serves (each decision records what it saw), and says so.
    let follow = app.graph.follow_report();
    // The replica that relays the outbox says when NATS is away or the stream falls behind;
    // it keeps serving (the events wait in the outbox).
    let relay = app.relay.as_ref().map(|r| r.report());
    let degraded = velocity_shared == Some(false)
        || notifications == Some(false)
        || follow.is_some_and(|f| f.degraded())
        || relay.as_ref().is_some_and(|r| r.degraded());
    Ok(Json(json!({
        "status": if degraded { "degraded" } else { "ready" },
        "redis": {"velocity_shared": velocity_shared, "notifications": notifications},
        "graph": follow.map(|f| json!({
            "following": !f.failing,
            "behind_seconds": f.behind_seconds,
        })),
        "relay": relay.map(|r| json!({
            "active": r.active,
            "publishing": !r.failing,
            "lag_seconds": r.lag_seconds,
            "error": r.last_error,
        })),
    })))
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, content_type = "text/plain")))]
pub async fn metrics(State(app): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        app.metrics.render(),
    )
}
