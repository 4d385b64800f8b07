//! A channel's statement fetched the way the channel hands it out (see
//! `arbiter_transactions::channels::statement`): the adapter builds each signed request and
//! reads each answer, this loop sends them — answers bounded as every channel call is, the
//! file itself up to the largest statement imported — and stops at the file, or when the
//! channel says the day is not written yet.

use std::time::Duration;

use arbiter_transactions::channels::statement::{StatementStage, StatementStep};
use arbiter_transactions::reconciliation::archive::MAX_STATEMENT_BYTES;
use chrono::{NaiveDate, Utc};

use crate::services::transactions::channels::{ChannelCallError, PaymentChannels};

/// Most requests one fetch sends (a report polled every two seconds is ready well before).
const MAX_STEPS: usize = 30;
/// Longest wait for a statement file.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(120);
/// Longest wait for any other answer of the exchange.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// Most bytes of an answer that is not the file.
const MAX_ANSWER_BYTES: usize = 64 << 10;

/// What a fetch found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    File(Vec<u8>),
    /// The channel has not written that day's statement yet, in its words.
    NotYet(String),
}

/// Fetches `channel`'s statement of `date` from the channel.
pub async fn fetch_statement(
    channels: &PaymentChannels,
    channel: &str,
    date: NaiveDate,
) -> Result<Fetched, ChannelCallError> {
    let adapter = channels.adapter(channel)?;
    let desk = adapter
        .statements()
        .ok_or_else(|| ChannelCallError::NotConfigured(format!("{channel} statements")))?;
    let mut request = desk.request_statement(date, Utc::now())?;
    let mut stage = StatementStage::Asked;
    for _ in 0..MAX_STEPS {
        let (limit, timeout) = match stage {
            StatementStage::Downloading { .. } => (MAX_STATEMENT_BYTES, DOWNLOAD_TIMEOUT),
            _ => (MAX_ANSWER_BYTES, ANSWER_TIMEOUT),
        };
        let response = channels
            .send_bounded(channel, request, limit, timeout)
            .await?;
        match desk.read_statement(&stage, &response, Utc::now())? {
            StatementStep::Send {
                request: next,
                stage: next_stage,
                after,
            } => {
                tokio::time::sleep(after).await;
                request = next;
                stage = next_stage;
            }
            StatementStep::File(bytes) => return Ok(Fetched::File(bytes)),
            StatementStep::NotYet(why) => return Ok(Fetched::NotYet(why)),
        }
    }
    Err(ChannelCallError::Unreachable {
        channel: channel.to_owned(),
        reason: format!("the statement was not ready after {MAX_STEPS} requests"),
    })
}
