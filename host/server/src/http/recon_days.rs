//! `GET /v1/reconciliation/days`: the profit and loss of each channel's days as the ledger
//! holds them — captured, refunded, the channel's fees, net revenue, what was paid out, and
//! what the channel still owes for the day (zero once a clean day is settled). Scope `admin`.

use axum::Json;
use axum::extract::State;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use arbiter_transactions::reconciliation::archive::STATEMENT_CHANNELS;
use arbiter_transactions::reconciliation::settlement::DayResult;

use crate::app_state::AppState;
use crate::http::auth::Caller;
use crate::http::params::Query;
use crate::http::problem::ApiError;
use crate::http::statements::{channel_names, channel_param};

/// The longest span one request reads.
pub const MAX_DAYS: i64 = 31;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DaysQuery {
    /// One channel's days (default: every channel's).
    #[param(schema_with = channel_names)]
    pub channel: Option<String>,
    /// The first day (`YYYY-MM-DD`; Beijing days for Alipay and WeChat Pay).
    #[param(value_type = String, format = Date)]
    pub from: NaiveDate,
    /// The last day, included; at most 31 days after `from` counted inclusively.
    #[param(value_type = String, format = Date)]
    pub to: NaiveDate,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DayView {
    pub channel: String,
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    pub currency: String,
    /// Amounts in major units, as decimal strings.
    pub captured: String,
    pub refunded: String,
    pub fees: String,
    /// `captured - refunded - fees`.
    pub net_revenue: String,
    pub paid_out: String,
    /// What the channel still owes for the day.
    pub clearing: String,
}

impl DayView {
    fn new(channel: &str, date: NaiveDate, r: DayResult) -> DayView {
        let scale = u32::from(r.currency.exponent().unwrap_or(0));
        let text = |mut d: rust_decimal::Decimal| {
            d.rescale(scale);
            d.to_string()
        };
        DayView {
            channel: channel.to_owned(),
            date,
            currency: r.currency.code().to_owned(),
            captured: text(r.captured),
            refunded: text(r.refunded),
            fees: text(r.fees),
            net_revenue: text(r.net_revenue),
            paid_out: text(r.paid_out),
            clearing: text(r.clearing),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DayList {
    /// By channel, then day, then currency; a day without movements is absent.
    pub items: Vec<DayView>,
}

/// Each channel's days as the ledger holds them: the P&L and what is still owed.
#[utoipa::path(get, path = "/v1/reconciliation/days", operation_id = "reconciliation_days",
    tag = "reconciliation", params(DaysQuery),
    responses((status = 200, body = DayList),
        (status = 400, description = "Invalid parameter (`invalid_query`)")))]
pub async fn list(
    State(app): State<AppState>,
    _: Caller,
    Query(q): Query<DaysQuery>,
) -> Result<Json<DayList>, ApiError> {
    let channels: Vec<&str> = match q.channel.as_deref() {
        Some(c) => {
            channel_param(c)?;
            vec![c]
        }
        None => STATEMENT_CHANNELS.to_vec(),
    };
    let span = (q.to - q.from).num_days();
    if !(0..MAX_DAYS).contains(&span) {
        return Err(ApiError::InvalidQuery {
            param: "to".into(),
            message: format!("must be from `from` to {} days after it", MAX_DAYS - 1),
        });
    }
    let mut items = Vec::new();
    for channel in channels {
        for date in q.from.iter_days().take(span as usize + 1) {
            for result in app.reconciliation.day(channel, date).await? {
                items.push(DayView::new(channel, date, result));
            }
        }
    }
    Ok(Json(DayList { items }))
}
