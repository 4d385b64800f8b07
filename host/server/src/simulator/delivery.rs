//! How a simulated channel delivers a notification over HTTP, as real ones do and fail to:
//! after a delay, once or several times (a retry repeats the same notification), one after
//! another or all at once (parallel retries), or never (a lost callback).

use std::time::Duration;

use serde::Serialize;

/// Most deliveries of one notification per trigger.
pub const MAX_TIMES: u32 = 20;
/// Longest delay before sending.
pub const MAX_DELAY_MS: u64 = 30_000;

/// How to deliver one notification.
#[derive(Debug, Clone, Copy)]
pub struct Delivery {
    /// The same notification, this many times; 0 loses it.
    pub times: u32,
    /// Waited before signing and sending (the signature is as fresh as the send).
    pub delay: Duration,
    /// All copies at once instead of one after another.
    pub concurrent: bool,
}

/// What the endpoint answered to one copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attempt {
    /// The HTTP status, or `None` when the request itself failed.
    pub status: Option<u16>,
    /// The answer: a JSON answer's `verdict` or `code`, else its text (`success`), at most 64
    /// characters; `None` when empty.
    pub answer: Option<String>,
}

/// A notification ready to post.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Posts `outgoing` as `delivery` says; one attempt per copy, in order.
pub async fn deliver(
    http: &reqwest::Client,
    outgoing: Outgoing,
    delivery: Delivery,
) -> Vec<Attempt> {
    if delivery.concurrent {
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..delivery.times {
            let (http, outgoing) = (http.clone(), outgoing.clone());
            tasks.spawn(async move { (i, post(&http, &outgoing).await) });
        }
        let mut done: Vec<(u32, Attempt)> = tasks.join_all().await;
        done.sort_by_key(|(i, _)| *i);
        done.into_iter().map(|(_, a)| a).collect()
    } else {
        let mut attempts = Vec::new();
        for _ in 0..delivery.times {
            attempts.push(post(http, &outgoing).await);
        }
        attempts
    }
}

pub async fn post(http: &reqwest::Client, outgoing: &Outgoing) -> Attempt {
    let mut request = http.post(&outgoing.url).body(outgoing.body.clone());
    for (name, value) in &outgoing.headers {
        request = request.header(name, value);
    }
    match request.send().await {
        Err(e) => {
            tracing::warn!(error = %e, "a simulated channel could not deliver a notification");
            Attempt {
                status: None,
                answer: None,
            }
        }
        Ok(response) => {
            let status = response.status().as_u16();
            let text = response.text().await.unwrap_or_default();
            let answer = match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(json) => json
                    .get("verdict")
                    .or_else(|| json.get("code"))
                    .and_then(|v| v.as_str())
                    .map(str::to_owned),
                Err(_) => {
                    Some(text.trim().chars().take(64).collect::<String>()).filter(|t| !t.is_empty())
                }
            };
            Attempt {
                status: Some(status),
                answer,
            }
        }
    }
}

/// Checks a delivery's bounds; the problem, naming the field, when out of them.
pub fn check(delivery: &Delivery, lost_allowed: bool) -> Result<(), (&'static str, String)> {
    let least = u32::from(!lost_allowed);
    if !(least..=MAX_TIMES).contains(&delivery.times) {
        return Err(("times", format!("must be {least} to {MAX_TIMES}")));
    }
    if delivery.delay > Duration::from_millis(MAX_DELAY_MS) {
        return Err(("delay_ms", format!("must be at most {MAX_DELAY_MS}")));
    }
    Ok(())
}
