//! `GET /v1/ledger/accounts/{name}`: an account's balance per currency. Scope `admin`.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use arbiter_transactions::ledger::Account;

use crate::app_state::AppState;
use crate::http::auth::Caller;
use crate::http::params::Path;
use crate::http::problem::ApiError;
use crate::http::transaction_views::MoneyView;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AccountBalance {
    /// `customer_funds`, `channel_clearing:card`, `revenue`, `refunds_payable`, …
    pub account: String,
    /// One per currency the account has entries in; debits positive, credits negative.
    pub balances: Vec<MoneyView>,
}

/// The balance of a ledger account (empty for an account without entries).
#[utoipa::path(get, path = "/v1/ledger/accounts/{name}", operation_id = "get_ledger_account", tag = "ledger",
    params(("name" = String, Path)),
    responses((status = 200, body = AccountBalance)))]
pub async fn account(
    State(app): State<AppState>,
    _: Caller,
    Path(name): Path<String>,
) -> Result<Json<AccountBalance>, ApiError> {
    let account = Account(name);
    let balances = app.transactions.balance(&account).await?;
    Ok(Json(AccountBalance {
        account: account.0,
        balances: balances.iter().map(MoneyView::from).collect(),
    }))
}
