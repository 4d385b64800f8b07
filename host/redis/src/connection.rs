//! How this crate opens Redis connections: one place that parses the URL and sets the
//! connection-manager timeouts, so every component fails fast in the same way.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, IntoConnectionInfo, ProtocolVersion};

use crate::error::{RedisStoreError, bounded};

/// Parses `url` into a client without connecting (never fails because Redis is down).
pub(crate) fn client(url: &str, resp3: bool) -> Result<Client, RedisStoreError> {
    let invalid = |source| RedisStoreError::InvalidUrl {
        url: url.to_owned(),
        source,
    };
    let mut info = url.into_connection_info().map_err(invalid)?;
    if resp3 {
        // RESP3 lets a multiplexed connection receive pub/sub pushes (see `notify`).
        info.redis.protocol = ProtocolVersion::RESP3;
    }
    Client::open(info).map_err(invalid)
}

/// A connection manager whose connect attempts are bounded by `connect_timeout` and retried
/// once, so a reconnect started by a failed command settles quickly instead of backing off
/// for seconds. Callers still bound each command with their own (shorter) timeout.
pub(crate) async fn manager(
    client: &Client,
    connect_timeout: Duration,
) -> Result<ConnectionManager, RedisStoreError> {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(connect_timeout)
        .set_number_of_retries(1)
        .set_factor(10)
        .set_max_delay(100);
    bounded(
        "connect",
        connect_timeout * 3,
        ConnectionManager::new_with_config(client.clone(), config),
    )
    .await
}
