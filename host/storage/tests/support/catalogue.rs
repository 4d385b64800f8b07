//! Builders for the transaction core's catalogue: US-dollar amounts and stocked SKUs.

use arbiter_engine::money::Money;
use arbiter_transactions::catalogue::Product;
use arbiter_transactions::ids::Sku;
use arbiter_transactions::store::TransactionStore;

pub fn usd(minor: i64) -> Money {
    Money::from_stored(minor, "USD").expect("USD")
}

/// A SKU priced `price_minor` cents with `units` in stock.
pub async fn stocked(store: &dyn TransactionStore, sku: &str, price_minor: i64, units: i64) -> Sku {
    let sku = Sku::from(sku);
    let product =
        Product::new(sku.clone(), format!("{sku} title"), usd(price_minor)).expect("valid product");
    store.put_product(&product).await.expect("put product");
    store.set_stock_total(&sku, units).await.expect("set stock");
    sku
}
