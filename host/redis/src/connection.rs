//! How this crate opens Redis connections: one place that parses the URL and sets the
//! connection-manager timeouts, so every component fails fast in the same way.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, IntoConnectionInfo, ProtocolVersion};

use crate::error::{RedisStoreError, bounded};

/// `url` fit for a log line or an error message: the user name and password replaced by
/// `***`, the rest kept so an operator sees which server was meant. A string that does not
/// parse as a URL could hold anything, so none of it is shown.
pub fn redacted_url(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return "<unparseable url>".to_owned();
    };
    if parsed.password().is_some() {
        // Only fails for URLs that cannot have credentials, which this one just had.
        let _ = parsed.set_password(Some("***"));
    }
    if !parsed.username().is_empty() {
        let _ = parsed.set_username("***");
    }
    parsed.to_string()
}

/// Parses `url` into a client without connecting (never fails because Redis is down).
pub(crate) fn client(url: &str, resp3: bool) -> Result<Client, RedisStoreError> {
    let invalid = |source| RedisStoreError::InvalidUrl {
        url: redacted_url(url),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_survive_redaction() {
        for (url, shown) in [
            ("redis://:hunter2@cache:6379/0", "redis://:***@cache:6379/0"),
            (
                "redis://app:hunter2@cache:6379",
                "redis://***:***@cache:6379",
            ),
            ("rediss://app@cache", "rediss://***@cache"),
            ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379"),
        ] {
            assert_eq!(redacted_url(url), shown);
        }
        assert_eq!(redacted_url("hunter2 not a url"), "<unparseable url>");
    }

    #[test]
    fn an_invalid_url_error_names_no_password() {
        let err = client("redis://:hunter2@cache:notaport", false)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(!err.is_empty(), "refused");
        assert!(!err.contains("hunter2"), "{err}");
    }
}
