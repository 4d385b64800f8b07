//! WeChat Pay's trade bill of a day: `GET /v3/bill/tradebill?bill_date=…&bill_type=ALL`
//! answers, signed, with `download_url` and the file's `SHA1`; the download is signed by us
//! like every call, is not signed by WeChat Pay, and is checked against that digest instead.
//! The address is followed only on the API host (our signature goes with it). A day whose
//! bill is not written yet is `NO_STATEMENT_EXIST` or `STATEMENT_CREATING`.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

use super::wire::malformed;
use super::{WECHAT, Wechat};
use crate::channels::statement::{StatementChannel, StatementStage, StatementStep, under_base};
use crate::channels::{ChannelError, ChannelRequest, ChannelResponse, HttpMethod};

#[derive(Deserialize)]
struct BillAddress {
    hash_type: String,
    hash_value: String,
    download_url: String,
}

impl StatementChannel for Wechat {
    fn request_statement(
        &self,
        date: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<ChannelRequest, ChannelError> {
        let path = format!(
            "/v3/bill/tradebill?bill_date={}&bill_type=ALL",
            date.format("%Y-%m-%d")
        );
        self.request(HttpMethod::Get, &path, None, now)
    }

    fn read_statement(
        &self,
        stage: &StatementStage,
        response: &ChannelResponse,
        now: DateTime<Utc>,
    ) -> Result<StatementStep, ChannelError> {
        match stage {
            StatementStage::Asked => {
                let answer = match self.answer(response) {
                    Ok(answer) => answer,
                    Err(ChannelError::Refused { code, message, .. })
                        if code == "NO_STATEMENT_EXIST" || code == "STATEMENT_CREATING" =>
                    {
                        return Ok(StatementStep::NotYet(message));
                    }
                    Err(e) => return Err(e),
                };
                if ["NO_STATEMENT_EXIST", "STATEMENT_CREATING"].contains(&answer.code()) {
                    return Ok(StatementStep::NotYet(answer.code().to_owned()));
                }
                let address: BillAddress = self.read("bill address", answer)?;
                if !address.hash_type.eq_ignore_ascii_case("SHA1") {
                    return Err(malformed("hash_type", address.hash_type));
                }
                let path = under_base(&self.config.base_url, &address.download_url)
                    .ok_or_else(|| malformed("download_url", "not on the API host"))?;
                Ok(StatementStep::Send {
                    request: self.request(HttpMethod::Get, path, None, now)?,
                    stage: StatementStage::Downloading {
                        sha1: Some(address.hash_value.to_ascii_lowercase()),
                    },
                    after: Duration::ZERO,
                })
            }
            StatementStage::Downloading { sha1 } => {
                if response.status != 200 {
                    return Err(ChannelError::Refused {
                        channel: WECHAT,
                        code: response.status.to_string(),
                        message: "the bill download failed".into(),
                    });
                }
                let digest = aws_lc_rs::digest::digest(
                    &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
                    &response.body,
                );
                if sha1.as_deref() != Some(hex::encode(digest.as_ref()).as_str()) {
                    return Err(malformed("bill", "its SHA-1 is not the one announced"));
                }
                Ok(StatementStep::File(response.body.clone()))
            }
            StatementStage::Polling { .. } => Err(malformed("answer", "WeChat Pay does not poll")),
        }
    }
}
