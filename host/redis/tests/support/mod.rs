//! What the Redis tests share: the server they run against, a fresh key prefix per test, a
//! raw connection to inspect keys, and a TCP proxy that can cut the line.
#![allow(
    dead_code,
    reason = "each test binary uses a different part of the support module"
)]

pub mod proxy;

use std::time::Duration;

use redis::aio::MultiplexedConnection;

/// The Redis under test: `REDIS_URL`, else the machine's default. When `REDIS_URL` is set and
/// Redis does not answer, the test fails (CI must never skip silently); when it is unset and
/// the default does not answer, the test is skipped with a note.
pub async fn redis_url() -> Option<String> {
    let given = std::env::var("REDIS_URL").ok();
    let url = given
        .clone()
        .unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned());
    match ping(&url).await {
        Ok(()) => Some(url),
        Err(error) if given.is_some() => {
            panic!("REDIS_URL=`{url}` is set but Redis does not answer: {error}")
        }
        Err(error) => {
            eprintln!("skipping: no Redis at the default `{url}` ({error}); set REDIS_URL");
            None
        }
    }
}

async fn ping(url: &str) -> Result<(), String> {
    let mut conn = raw(url).await?;
    redis::cmd("PING")
        .query_async::<String>(&mut conn)
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

/// A plain connection for inspecting keys.
pub async fn raw(url: &str) -> Result<MultiplexedConnection, String> {
    let client = redis::Client::open(url).map_err(|e| e.to_string())?;
    tokio::time::timeout(
        Duration::from_secs(2),
        client.get_multiplexed_async_connection(),
    )
    .await
    .map_err(|_| "connect timed out".to_owned())?
    .map_err(|e| e.to_string())
}

/// A key prefix no other test (or engineer) uses.
pub fn prefix(test: &str) -> String {
    format!("arbiter-test:{test}:{:016x}:", rand::random::<u64>())
}

/// Every key under `prefix`.
pub async fn keys(conn: &mut MultiplexedConnection, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}*"))
            .arg("COUNT")
            .arg(1000)
            .query_async(conn)
            .await
            .expect("scan");
        out.extend(batch);
        if next == 0 {
            return out;
        }
        cursor = next;
    }
}

/// Deletes this test's keys (only those under its own prefix; never a flush).
pub async fn cleanup(url: &str, prefix: &str) {
    let mut conn = raw(url).await.expect("cleanup connection");
    for key in keys(&mut conn, prefix).await {
        let _: i64 = redis::cmd("DEL")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .expect("del");
    }
}
