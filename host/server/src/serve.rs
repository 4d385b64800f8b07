//! Serving: a testable `serve(listener, state, shutdown)` behind the thin `main`.

use std::future::Future;

use tokio::net::TcpListener;

use crate::app_state::AppState;

/// Serves until `shutdown` resolves, then stops accepting, lets in-flight requests finish and
/// flushes the decision log.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = crate::http::router(state.clone());
    let result = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await;
    state.decisions.shutdown().await;
    tracing::info!("decision log flushed; stopped");
    result
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown signal received");
}
