//! `/v1/skus`: the catalogue (the only source of order prices) and its stock. Scope `admin`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use arbiter_engine::money::{Money, MoneyWire};
use arbiter_transactions::catalogue::{Product, SkuView};
use arbiter_transactions::ids::Sku;

use crate::app_state::AppState;
use crate::http::auth::Caller;
use crate::http::body::JsonBody;
use crate::http::decisions::MoneyDoc;
use crate::http::params::Path;
use crate::http::problem::ApiError;
use crate::http::transaction_views::MoneyView;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"sku": "MUG-1", "title": "Mug", "price": {"value": "12.90", "currency": "USD"}}))]
pub struct PutSku {
    /// Chosen by the catalogue's owner.
    #[schema(min_length = 1, max_length = 64)]
    pub sku: String,
    #[schema(pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$")]
    pub title: String,
    /// Non-negative, no finer than the currency's minor unit.
    pub price: MoneyDoc,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutStock {
    /// Units owned; refused below what is reserved or sold.
    #[schema(minimum = 0)]
    pub total: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StockView {
    pub total: i64,
    /// Held by unpaid orders.
    pub reserved: i64,
    pub sold: i64,
    /// `total - reserved - sold`.
    pub available: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SkuResponse {
    pub sku: String,
    pub title: String,
    pub price: MoneyView,
    pub stock: StockView,
}

impl From<SkuView> for SkuResponse {
    fn from(v: SkuView) -> SkuResponse {
        SkuResponse {
            sku: v.product.sku.0.clone(),
            title: v.product.title.clone(),
            price: MoneyView::from(&v.product.price),
            stock: StockView {
                total: v.stock.total,
                reserved: v.stock.reserved,
                sold: v.stock.sold,
                available: v.stock.available(),
            },
        }
    }
}

/// Create a SKU (with no stock) or update its title and price.
#[utoipa::path(post, path = "/v1/skus", tag = "catalogue", request_body = PutSku,
    responses(
        (status = 201, body = SkuResponse),
        (status = 403, description = "Key lacks the `admin` scope"),
        (status = 422, description = "Invalid field (sku, title, price)"),
    ))]
pub async fn put_sku(
    State(app): State<AppState>,
    _: Caller,
    JsonBody(body): JsonBody<PutSku>,
) -> Result<(StatusCode, Json<SkuResponse>), ApiError> {
    let price = Money::parse(
        "price",
        &MoneyWire {
            value: body.price.value,
            currency: body.price.currency,
        },
    )?;
    let product = Product::new(Sku(body.sku), body.title, price)?;
    let view = app.transactions.put_product(&product).await?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

/// Set the units a SKU owns.
#[utoipa::path(put, path = "/v1/skus/{sku}/stock", tag = "catalogue", request_body = PutStock,
    params(("sku" = String, Path)),
    responses(
        (status = 200, body = SkuResponse),
        (status = 404, description = "No such SKU"),
        (status = 409, description = "Below the units reserved or sold (`stock_below_committed`)"),
    ))]
pub async fn put_stock(
    State(app): State<AppState>,
    _: Caller,
    Path(sku): Path<String>,
    JsonBody(body): JsonBody<PutStock>,
) -> Result<Json<SkuResponse>, ApiError> {
    let view = app.transactions.set_stock(&Sku(sku), body.total).await?;
    Ok(Json(view.into()))
}

/// A SKU with its price and stock (total, reserved, sold, available).
#[utoipa::path(get, path = "/v1/skus/{sku}", tag = "catalogue",
    params(("sku" = String, Path)),
    responses((status = 200, body = SkuResponse), (status = 404, description = "No such SKU")))]
pub async fn get_sku(
    State(app): State<AppState>,
    _: Caller,
    Path(sku): Path<String>,
) -> Result<Json<SkuResponse>, ApiError> {
    Ok(Json(app.transactions.sku(&Sku(sku)).await?.into()))
}
