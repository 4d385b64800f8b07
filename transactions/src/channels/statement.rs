//! Fetching a channel's statement of a day, without I/O: each channel hands its statement out
//! in a few steps — Alipay answers a signed query with a download address, WeChat Pay answers
//! with a download address and the file's SHA-1 (the download itself is signed by us), the
//! card acquirer (Stripe's Reporting API) runs a report that is polled until its file is
//! ready. An adapter builds each request and reads each answer into the next
//! [`StatementStep`]; the host sends them and stops at the file.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};

use super::{ChannelError, ChannelRequest, ChannelResponse};

/// Where a fetch stands: what the answer being read is the answer to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatementStage {
    /// The first request: the query for the day's statement.
    Asked,
    /// A report being prepared at the channel, asked again.
    Polling { run: String },
    /// The file itself; `sha1` the hex digest the channel announced for it, when it did.
    Downloading { sha1: Option<String> },
}

/// What to do after an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatementStep {
    /// Send `request` after waiting `after`; its answer is read at `stage`.
    Send {
        request: ChannelRequest,
        stage: StatementStage,
        after: Duration,
    },
    /// The statement file, byte for byte as the channel wrote it.
    File(Vec<u8>),
    /// The channel has no statement of that day yet (it writes them the next morning).
    NotYet(String),
}

/// A channel that hands out its statements.
pub trait StatementChannel: Send + Sync {
    /// The first request for `date`'s statement.
    fn request_statement(
        &self,
        date: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<ChannelRequest, ChannelError>;

    /// Reads the answer to the request made at `stage`.
    fn read_statement(
        &self,
        stage: &StatementStage,
        response: &ChannelResponse,
        now: DateTime<Utc>,
    ) -> Result<StatementStep, ChannelError>;
}

/// The path and query of `url` when it is on `base`'s scheme, host and port and under its
/// path: a download address from an answer is followed (with our credentials) only there.
pub fn under_base<'a>(base: &str, url: &'a str) -> Option<&'a str> {
    let base = base.trim_end_matches('/');
    let rest = url.strip_prefix(base)?;
    rest.starts_with('/').then_some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_download_address_is_followed_only_under_the_channels_own_base() {
        let base = "https://api.mch.weixin.qq.com";
        assert_eq!(
            under_base(
                base,
                "https://api.mch.weixin.qq.com/v3/billdownload/file?token=x"
            ),
            Some("/v3/billdownload/file?token=x")
        );
        for elsewhere in [
            "https://api.mch.weixin.qq.com.evil.example/v3/x",
            "http://api.mch.weixin.qq.com/v3/x",
            "https://evil.example/v3/x",
            "https://api.mch.weixin.qq.com@evil.example/v3/x",
        ] {
            assert_eq!(under_base(base, elsewhere), None, "{elsewhere}");
        }
    }
}
