//! Alipay's trade bill of a day: `alipay.data.dataservice.bill.downloadurl.query` (`bill_type`
//! `trade`) answers, signed, with `bill_download_url`; the zip is fetched from there. A day
//! whose bill is not written yet is `isp.bill_not_exist`.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;

use super::wire::malformed;
use super::{ALIPAY, Alipay};
use crate::channels::statement::{StatementChannel, StatementStage, StatementStep};
use crate::channels::{ChannelError, ChannelRequest, ChannelResponse, HttpMethod};

pub const METHOD: &str = "alipay.data.dataservice.bill.downloadurl.query";
/// Alipay's code for a bill not (yet) written.
pub const NOT_YET: &str = "isp.bill_not_exist";

impl StatementChannel for Alipay {
    fn request_statement(
        &self,
        date: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<ChannelRequest, ChannelError> {
        let biz = json!({"bill_type": "trade", "bill_date": date.format("%Y-%m-%d").to_string()});
        self.request(METHOD, &biz, false, now)
    }

    fn read_statement(
        &self,
        stage: &StatementStage,
        response: &ChannelResponse,
        _now: DateTime<Utc>,
    ) -> Result<StatementStep, ChannelError> {
        match stage {
            StatementStage::Asked => match self.reply(METHOD, response)? {
                Ok(reply) => {
                    let url = reply.required("bill_download_url")?;
                    if !(url.starts_with("https://") || url.starts_with("http://")) {
                        return Err(malformed("bill_download_url", "not an http(s) address"));
                    }
                    Ok(StatementStep::Send {
                        request: ChannelRequest {
                            method: HttpMethod::Get,
                            url: url.to_owned(),
                            headers: Vec::new(),
                            body: Vec::new(),
                        },
                        stage: StatementStage::Downloading { sha1: None },
                        after: Duration::ZERO,
                    })
                }
                Err(failure) if failure.code == NOT_YET => {
                    Ok(StatementStep::NotYet(failure.message))
                }
                Err(failure) => Err(failure.refused()),
            },
            StatementStage::Downloading { .. } if response.status == 200 => {
                Ok(StatementStep::File(response.body.clone()))
            }
            StatementStage::Downloading { .. } => Err(ChannelError::Refused {
                channel: ALIPAY,
                code: response.status.to_string(),
                message: "the bill download failed".into(),
            }),
            StatementStage::Polling { .. } => Err(malformed("answer", "Alipay does not poll")),
        }
    }
}
