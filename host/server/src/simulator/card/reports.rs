//! The simulated acquirer's statements through Stripe's Reporting API: a report run of the
//! itemized balance report over one UTC day, `pending` when created and `succeeded` when read
//! back, its file (the day's movements of the simulator's own trades, with what a test
//! planted, and the day's payout) served under the API with the secret key.

use arbiter_transactions::channels::card::{PAYMENT_KEY, REFUND_KEY};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::json;

use super::super::statements::{Naming, card_report, movements, written};
use super::super::trades::Trade;
use super::{CardSim, Form, error, random};

impl CardSim {
    /// `POST /v1/reporting/report_runs`: the itemized balance report of one UTC day, taken
    /// `pending` (it is `succeeded` when read back).
    pub(super) fn create_report_run(&self, form: &Form) -> Response {
        let start = form
            .get("parameters[interval_start]")
            .and_then(|t| t.parse::<i64>().ok())
            .and_then(|t| chrono::DateTime::from_timestamp(t, 0));
        let Some(start) = start else {
            return error(
                StatusCode::BAD_REQUEST,
                "parameter_missing",
                "parameters[interval_start]",
            );
        };
        if form.get("report_type")
            != Some(arbiter_transactions::channels::card::statement::REPORT_TYPE)
        {
            return error(StatusCode::BAD_REQUEST, "parameter_invalid", "report_type");
        }
        if !written(start.date_naive(), false, Utc::now()) {
            return error(
                StatusCode::BAD_REQUEST,
                "data_not_available",
                "interval_start is later than the data available",
            );
        }
        let id = format!("frr_sim{}", random(16));
        self.with_book(|b| b.report_runs.insert(id.clone(), start.date_naive()));
        axum::Json(
            json!({"id": id, "object": "reporting.report_run", "status": "pending",
                          "result": null, "report_type": form.get("report_type")}),
        )
        .into_response()
    }

    pub(super) fn read_report_run(&self, id: &str) -> Response {
        let Some(date) = self.with_book(|b| b.report_runs.get(id).copied()) else {
            return error(
                StatusCode::NOT_FOUND,
                "resource_missing",
                "No such report run",
            );
        };
        let file = format!("file_sim{}", self.desk.token_for(date));
        axum::Json(json!({"id": id, "object": "reporting.report_run", "status": "succeeded",
                          "result": {"id": file, "object": "file",
                                     "url": format!("{}/v1/files/{file}/contents", self.api_base)}}))
        .into_response()
    }

    /// The report file: the day's itemized balance transactions with its payout.
    pub(super) fn report_file(&self, id: &str) -> Response {
        let Some(date) = id
            .strip_prefix("file_sim")
            .and_then(|token| self.desk.date_of(token))
        else {
            return error(StatusCode::NOT_FOUND, "resource_missing", "No such file");
        };
        let (intents, refunds) = self.with_book(|b| (b.intents.clone(), b.refunds.clone()));
        let naming = Naming {
            payment: &|intent: &str| intents.get(intent)?.metadata.get(PAYMENT_KEY).cloned(),
            refund: &|id: &str, _: &Trade| {
                let refund = refunds.get(id).filter(|r| r.succeeded)?;
                Some((refund.metadata.get(REFUND_KEY)?.clone(), id.to_owned()))
            },
        };
        let window = arbiter_transactions::reconciliation::day::window("card", date);
        let lines = movements(
            "card",
            &self.trades.all(),
            &naming,
            window,
            &self.desk.plants.get(),
        );
        let payout_at = Utc::now().min(window.1 - chrono::Duration::seconds(1));
        (
            [("content-type", "text/csv")],
            card_report(&lines, payout_at),
        )
            .into_response()
    }
}
