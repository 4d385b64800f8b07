//! The subscriber task of [`super::RedisNotifier`]: subscribe, deliver, notice a lost
//! connection (a disconnect push or a failed liveness ping), and resubscribe with backoff.

use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, PushInfo, PushKind, Value};
use tokio::sync::{broadcast, mpsc, watch};

use super::{ChangeKind, Notification, NotifyCause, RedisNotifierConfig};
use crate::error::{RedisStoreError, bounded};

pub(super) async fn run(
    client: redis::Client,
    channel: String,
    sender: broadcast::Sender<Notification>,
    state: watch::Sender<bool>,
    config: RedisNotifierConfig,
) {
    let mut delay = config.reconnect_min;
    let mut first_attempt = true;
    loop {
        match subscribe(&client, &channel, &config.origin, config.op_timeout).await {
            Ok((conn, pushes)) => {
                delay = config.reconnect_min;
                state.send_replace(true);
                if !first_attempt {
                    // Anything published while we were not subscribed is lost: ask the
                    // listener to re-check every kind.
                    for kind in ChangeKind::ALL {
                        let _ =
                            sender.send(Notification::synthetic(kind, NotifyCause::Reconnected));
                    }
                }
                pump(conn, pushes, &sender, &config).await;
                state.send_replace(false);
                tracing::warn!(%channel, "notification subscription lost; resubscribing");
            }
            Err(error) => tracing::debug!(%error, %channel, "notification subscribe failed"),
        }
        first_attempt = false;
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(config.reconnect_max.max(config.reconnect_min));
    }
}

async fn subscribe(
    client: &redis::Client,
    channel: &str,
    origin: &str,
    limit: Duration,
) -> Result<(MultiplexedConnection, mpsc::UnboundedReceiver<PushInfo>), RedisStoreError> {
    let (tx, rx) = mpsc::unbounded_channel();
    let settings = AsyncConnectionConfig::new()
        .set_connection_timeout(limit)
        .set_push_sender(tx);
    let mut conn = bounded(
        "subscribe",
        limit,
        client.get_multiplexed_async_connection_with_config(&settings),
    )
    .await?;
    // Named `{channel}:{origin}` so an operator (or a test) can find it in CLIENT LIST.
    let mut name = redis::cmd("CLIENT");
    name.arg("SETNAME")
        .arg(format!("{channel}:{origin}").replace(char::is_whitespace, "_"));
    bounded("subscribe", limit, name.query_async::<Value>(&mut conn)).await?;
    bounded("subscribe", limit, conn.subscribe(channel)).await?;
    Ok((conn, rx))
}

/// Delivers messages until the connection is lost.
async fn pump(
    mut conn: MultiplexedConnection,
    mut pushes: mpsc::UnboundedReceiver<PushInfo>,
    sender: &broadcast::Sender<Notification>,
    config: &RedisNotifierConfig,
) {
    let mut ping = tokio::time::interval(config.ping_interval);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            push = pushes.recv() => match push {
                None => return,
                Some(push) if push.kind == PushKind::Disconnection => return,
                Some(push) if push.kind == PushKind::Message => deliver(&push, sender),
                Some(_) => {}
            },
            _ = ping.tick() => {
                let ping = redis::cmd("PING");
                if bounded("ping", config.op_timeout, ping.query_async::<Value>(&mut conn))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }
    }
}

fn deliver(push: &PushInfo, sender: &broadcast::Sender<Notification>) {
    // A message push carries [channel, payload].
    let Some(payload) = push.data.last() else {
        return;
    };
    let decoded = redis::from_redis_value::<Vec<u8>>(payload)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Notification>(&bytes).ok());
    match decoded {
        Some(mut note) => {
            note.cause = NotifyCause::Published;
            // No listener yet is not an error: the server may subscribe later.
            let _ = sender.send(note);
        }
        None => tracing::warn!("ignoring a malformed change notification"),
    }
}
