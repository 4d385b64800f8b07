//! The card acquirer's statement of a day through Stripe's Reporting API: a report run of
//! `balance_change_from_activity.itemized.3` over the UTC day, with the columns the
//! reconciliation reads (our ids from the payment's and refund's metadata), polled until it
//! `succeeded`; its file is then downloaded with the secret key — only from the API host or
//! Stripe's file host, never from wherever an answer points.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

use super::wire::{answer, malformed};
use super::{CARD, PAYMENT_KEY, REFUND_KEY, StripeCard};
use crate::channels::statement::{StatementChannel, StatementStage, StatementStep, under_base};
use crate::channels::{ChannelError, ChannelRequest, ChannelResponse, HttpMethod};

pub const REPORT_TYPE: &str = "balance_change_from_activity.itemized.3";
/// Stripe's file host: report files are served from it.
pub const FILES_BASE: &str = "https://files.stripe.com";
/// How long to wait between two looks at a report being prepared.
pub const POLL_EVERY: Duration = Duration::from_secs(2);

/// The report's columns, in order.
pub fn columns() -> [String; 10] {
    [
        "balance_transaction_id".into(),
        "created_utc".into(),
        "currency".into(),
        "gross".into(),
        "fee".into(),
        "net".into(),
        "reporting_category".into(),
        "source_id".into(),
        format!("payment_metadata[{PAYMENT_KEY}]"),
        format!("refund_metadata[{REFUND_KEY}]"),
    ]
}

#[derive(Deserialize)]
struct ReportRun {
    id: String,
    status: String,
    #[serde(default)]
    result: Option<ReportFile>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct ReportFile {
    url: String,
}

impl StripeCard {
    fn read_run(&self, response: &ChannelResponse) -> Result<StatementStep, ChannelError> {
        let run: ReportRun = match answer(response)? {
            Ok(run) => run,
            // Stripe's answer for an interval its balance data does not cover yet.
            Err(e) if e.is("data_not_available") => {
                return Ok(StatementStep::NotYet(e.refused().to_string()));
            }
            Err(e) => return Err(e.refused()),
        };
        match run.status.as_str() {
            "pending" => Ok(StatementStep::Send {
                request: self.request(
                    HttpMethod::Get,
                    &format!("/v1/reporting/report_runs/{}", stripe_id(&run.id)?),
                    &[],
                    None,
                ),
                stage: StatementStage::Polling { run: run.id },
                after: POLL_EVERY,
            }),
            "succeeded" => {
                let url = run
                    .result
                    .ok_or_else(|| malformed("report run", "succeeded without a file"))?
                    .url;
                let base = &self.config.api_base;
                if under_base(base, &url).is_none() && under_base(FILES_BASE, &url).is_none() {
                    return Err(malformed("report file", "not on Stripe's hosts"));
                }
                let mut request = self.request(HttpMethod::Get, "", &[], None);
                request.url = url;
                Ok(StatementStep::Send {
                    request,
                    stage: StatementStage::Downloading { sha1: None },
                    after: Duration::ZERO,
                })
            }
            _ => Err(ChannelError::Refused {
                channel: CARD,
                code: run.status,
                message: run.error.unwrap_or_default(),
            }),
        }
    }
}

/// A Stripe id checked before it goes into a path.
fn stripe_id(id: &str) -> Result<&str, ChannelError> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(malformed(
            "report run id",
            format!("`{id}` is not a Stripe id"),
        ));
    }
    Ok(id)
}

impl StatementChannel for StripeCard {
    fn request_statement(
        &self,
        date: NaiveDate,
        _now: DateTime<Utc>,
    ) -> Result<ChannelRequest, ChannelError> {
        let start = date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
        let (from, to) = (
            start.timestamp().to_string(),
            (start + chrono::Duration::days(1)).timestamp().to_string(),
        );
        let columns = columns();
        let names: Vec<String> = (0..columns.len())
            .map(|i| format!("parameters[columns][{i}]"))
            .collect();
        let mut form: Vec<(&str, &str)> = vec![
            ("report_type", REPORT_TYPE),
            ("parameters[interval_start]", &from),
            ("parameters[interval_end]", &to),
        ];
        form.extend(
            names
                .iter()
                .map(String::as_str)
                .zip(columns.iter().map(String::as_str)),
        );
        Ok(self.request(HttpMethod::Post, "/v1/reporting/report_runs", &form, None))
    }

    fn read_statement(
        &self,
        stage: &StatementStage,
        response: &ChannelResponse,
        _now: DateTime<Utc>,
    ) -> Result<StatementStep, ChannelError> {
        match stage {
            StatementStage::Asked | StatementStage::Polling { .. } => self.read_run(response),
            StatementStage::Downloading { .. } if response.status == 200 => {
                Ok(StatementStep::File(response.body.clone()))
            }
            StatementStage::Downloading { .. } => Err(ChannelError::Refused {
                channel: CARD,
                code: response.status.to_string(),
                message: "the report file download failed".into(),
            }),
        }
    }
}
