//! Serving: a testable `serve(listener, state, shutdown)` behind the thin `main`, over an
//! accept loop of our own so every limit a client could exhaust is bounded here: connections
//! (a cap), idle and header time (per connection, [`activity`]), body time and requests in
//! flight (the router's edge layers), and the time a stop may take.

mod activity;
mod connection;

use std::future::Future;
use std::io;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use crate::app_state::AppState;
use crate::config::HttpLimits;
use crate::metrics::names;

/// Serves until `shutdown` resolves, then stops accepting, gives requests under way the
/// shutdown grace to finish (closing what is left after it), flushes the decision log and
/// writes the keys' last uses.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let router = crate::http::router(state.clone());
    let result = serve_router(listener, router, state.http, shutdown).await;
    state.decisions.shutdown().await;
    if let Err(e) = state.keys.flush_last_uses().await {
        tracing::warn!(error = %e, "could not write the keys' last uses");
    }
    tracing::info!("decision log flushed; stopped");
    result
}

/// Serves any router under `limits` until `shutdown` resolves and the grace has run out or
/// every connection has closed. [`serve`] uses it; tests serve routers of their own with it.
pub async fn serve_router(
    listener: TcpListener,
    router: Router,
    limits: HttpLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    // A connection takes a slot before it is accepted: past the cap, new connections wait in
    // the kernel's listen backlog (the kernel refuses them once that is full) and nothing
    // here spins.
    let slots = Arc::new(Semaphore::new(limits.max_connections as usize));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut shutdown = pin!(shutdown);
    loop {
        let slot = tokio::select! {
            () = &mut shutdown => break,
            Some(done) = connections.join_next() => {
                reaped(done);
                continue;
            }
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                // The semaphore is never closed.
                Err(_) => break,
            },
        };
        let accepted = loop {
            tokio::select! {
                () = &mut shutdown => break None,
                Some(done) = connections.join_next() => reaped(done),
                accepted = listener.accept() => match accepted {
                    Ok((stream, _peer)) => break Some(stream),
                    Err(e) => accept_failed(e).await,
                },
            }
        };
        let Some(stream) = accepted else { break };
        metrics::gauge!(names::CONNECTIONS_OPEN).increment(1.0);
        connections.spawn(connection::serve_connection(
            stream,
            router.clone(),
            limits,
            stop_rx.clone(),
            slot,
        ));
    }
    drop(listener);
    let _ = stop_tx.send(true);
    tracing::info!(
        open = connections.len(),
        "stopped accepting; finishing requests under way"
    );
    let grace = limits.shutdown_grace();
    let drained = tokio::time::timeout(grace, async {
        while let Some(done) = connections.join_next().await {
            reaped(done);
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open = connections.len(),
            grace_ms = limits.shutdown_grace_ms,
            "shutdown grace ran out; closing the connections still open"
        );
        connections.abort_all();
        while let Some(done) = connections.join_next().await {
            reaped(done);
        }
    }
    Ok(())
}

/// Accounts for a finished connection task.
fn reaped(done: Result<(), tokio::task::JoinError>) {
    metrics::gauge!(names::CONNECTIONS_OPEN).decrement(1.0);
    if let Err(e) = done
        && e.is_panic()
    {
        tracing::error!("a connection task panicked");
    }
}

/// A failed accept: a connection that died in the backlog is skipped; anything else (such as
/// running out of file descriptors) is logged and retried after a pause rather than in a
/// tight loop.
async fn accept_failed(e: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accept failed; retrying in a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
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
