//! The payment channels this server pays through besides the card: one adapter per configured
//! channel (`arbiter_transactions::channels`, which signs and reads without I/O) and the HTTP
//! client that carries their requests — bounded in time and in the size of what it reads
//! back, so a slow or hostile gateway costs a request, not the server.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use arbiter_transactions::TxError;
use arbiter_transactions::channels::{
    ChannelError, ChannelRequest, ChannelResponse, HttpMethod, PaymentChannel,
};

/// Longest wait for a channel's answer.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// Most bytes of a channel's answer read; a longer one is refused. Answers are a few hundred
/// bytes; this also bounds what the callback log keeps of one (the same as a notification's
/// body limit).
const MAX_ANSWER_BYTES: usize = 64 << 10;

/// Why a call to a channel did not give an answer we act on.
#[derive(Debug, thiserror::Error)]
pub enum ChannelCallError {
    #[error(transparent)]
    Tx(#[from] TxError),
    /// The channel answered, and the adapter refused the answer or the channel refused us.
    #[error(transparent)]
    Channel(#[from] ChannelError),
    /// No answer: connection refused, timed out, or too long.
    #[error("{channel} could not be reached: {reason}")]
    Unreachable { channel: String, reason: String },
    #[error("channel `{0}` is not configured on this server")]
    NotConfigured(String),
}

/// The configured channels, by name.
#[derive(Default)]
pub struct PaymentChannels {
    adapters: BTreeMap<&'static str, Arc<dyn PaymentChannel>>,
    http: reqwest::Client,
}

impl PaymentChannels {
    pub fn new(adapters: Vec<Arc<dyn PaymentChannel>>) -> PaymentChannels {
        PaymentChannels {
            adapters: adapters.into_iter().map(|a| (a.name(), a)).collect(),
            http: reqwest::Client::builder()
                .timeout(CALL_TIMEOUT)
                .build()
                .unwrap_or_default(),
        }
    }

    /// The configured channels' names.
    pub fn names(&self) -> Vec<&'static str> {
        self.adapters.keys().copied().collect()
    }

    /// Whether this server can pay through `name`: the card always, the others when
    /// configured.
    pub fn pays_through(&self, name: &str) -> bool {
        name == arbiter_transactions::payment::CARD || self.adapters.contains_key(name)
    }

    pub fn adapter(&self, name: &str) -> Result<&Arc<dyn PaymentChannel>, ChannelCallError> {
        self.adapters
            .get(name)
            .ok_or_else(|| ChannelCallError::NotConfigured(name.to_owned()))
    }

    /// Sends `request` to `channel` and returns its answer as received.
    pub async fn send(
        &self,
        channel: &str,
        request: ChannelRequest,
    ) -> Result<ChannelResponse, ChannelCallError> {
        self.send_bounded(channel, request, MAX_ANSWER_BYTES, CALL_TIMEOUT)
            .await
    }

    /// [`PaymentChannels::send`] reading at most `max_bytes` of the answer within `timeout`
    /// (a statement file is far larger and slower than an answer).
    pub async fn send_bounded(
        &self,
        channel: &str,
        request: ChannelRequest,
        max_bytes: usize,
        timeout: Duration,
    ) -> Result<ChannelResponse, ChannelCallError> {
        let unreachable = |reason: String| ChannelCallError::Unreachable {
            channel: channel.to_owned(),
            reason,
        };
        let mut call = match request.method {
            HttpMethod::Get => self.http.get(&request.url),
            HttpMethod::Post => self.http.post(&request.url).body(request.body),
        }
        .timeout(timeout);
        for (name, value) in &request.headers {
            call = call.header(name, value);
        }
        let mut response = call.send().await.map_err(|e| unreachable(e.to_string()))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| unreachable(e.to_string()))?
        {
            if body.len() + chunk.len() > max_bytes {
                return Err(unreachable(format!("an answer over {max_bytes} bytes")));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(ChannelResponse {
            status,
            headers,
            body,
        })
    }
}
