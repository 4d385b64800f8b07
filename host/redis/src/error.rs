//! The one error type of this crate. Velocity never surfaces it on the decision path (it falls
//! back instead); the notifier and the due queue return it to their callers.

use std::time::Duration;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum RedisStoreError {
    #[error("invalid redis url `{url}`: {source}")]
    InvalidUrl {
        url: String,
        source: redis::RedisError,
    },
    #[error("while running `{op}`: {source}")]
    Command {
        op: &'static str,
        source: redis::RedisError,
    },
    #[error("while running `{op}`: no answer within {after:?}")]
    Timeout { op: &'static str, after: Duration },
    #[error("while encoding a notification: {0}")]
    Encode(#[from] serde_json::Error),
}

/// Runs one Redis future under `limit`, naming the operation in any error.
pub(crate) async fn bounded<T>(
    op: &'static str,
    limit: Duration,
    fut: impl Future<Output = redis::RedisResult<T>>,
) -> Result<T, RedisStoreError> {
    match tokio::time::timeout(limit, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(source)) => Err(RedisStoreError::Command { op, source }),
        Err(_) => Err(RedisStoreError::Timeout { op, after: limit }),
    }
}
