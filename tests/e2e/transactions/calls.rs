//! The transaction-core configuration the stories start their server with (a known webhook
//! secret, short timers), and the calls they make to it.

use arbiter_host::wiring_transactions::TransactionsConfig;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Answer, TestServer};

/// The webhook secret every test server shares with the tests that forge or age signatures.
pub const SECRET: &[u8] = b"whsec_e2e_test";

/// The test configuration: a known secret, an expiry worker that looks every 100 ms.
pub fn config() -> TransactionsConfig {
    TransactionsConfig {
        webhook_secret: Some(SECRET.to_vec()),
        expiry_interval: std::time::Duration::from_millis(100),
        ..TransactionsConfig::default()
    }
}

impl TestServer {
    /// What a checkout server holds where Arbiter runs its orders: `decide`, `orders:write`
    /// and `refunds:write` (README, "Scopes").
    pub async fn checkout_key(&self) -> String {
        self.key(&["decide", "orders:write", "refunds:write"]).await
    }

    /// A SKU priced `price` USD with `units` in stock.
    pub async fn sku(&self, sku: &str, price: &str, units: i64) {
        self.sku_priced(sku, price, "USD", units).await;
    }

    /// A SKU priced `price` in `currency` with `units` in stock.
    pub async fn sku_priced(&self, sku: &str, price: &str, currency: &str, units: i64) {
        let a = self
            .call(
                Method::POST,
                "/v1/skus",
                &self.admin_key,
                None,
                Some(&json!({"sku": sku, "title": format!("Item {sku}"),
                    "price": {"value": price, "currency": currency}})),
            )
            .await;
        assert_eq!(a.status, 201, "{}", a.body);
        let a = self
            .call(
                Method::PUT,
                &format!("/v1/skus/{sku}/stock"),
                &self.admin_key,
                None,
                Some(&json!({"total": units})),
            )
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
    }

    pub async fn order(
        &self,
        key: &str,
        idempotency: &str,
        user: &str,
        sku: &str,
        qty: u32,
    ) -> Answer {
        self.call(
            Method::POST,
            "/v1/orders",
            key,
            Some(idempotency),
            Some(&order_body(user, sku, qty)),
        )
        .await
    }

    /// Starts paying `order_id` by card; returns the payment.
    pub async fn pay(&self, key: &str, order_id: &str) -> Value {
        let a = self
            .call(
                Method::POST,
                &format!("/v1/orders/{order_id}/payments"),
                key,
                Some(&format!("pay-{order_id}")),
                Some(&json!({"channel": "card"})),
            )
            .await;
        assert_eq!(a.status, 201, "{}", a.body);
        a.body
    }

    /// Has the card channel post its webhook for a payment (`payments`) or refund (`refunds`).
    pub async fn channel(&self, what: &str, channel_id: &str, trigger: Value) -> Value {
        let a = self
            .call(
                Method::POST,
                &format!("/v1/channels/card/{what}/{channel_id}/events"),
                &self.admin_key,
                None,
                Some(&trigger),
            )
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
        a.body
    }

    /// The account's USD balance, `"0"` when it has none.
    pub async fn balance(&self, account: &str) -> String {
        self.balance_in(account, "USD").await
    }

    /// The account's balance in `currency`, `"0"` when it has none.
    pub async fn balance_in(&self, account: &str, currency: &str) -> String {
        let v = self
            .admin_get(&format!("/v1/ledger/accounts/{account}"))
            .await;
        v["balances"]
            .as_array()
            .expect("balances")
            .iter()
            .find(|b| b["currency"] == currency)
            .and_then(|b| b["value"].as_str())
            .unwrap_or("0")
            .to_owned()
    }

    /// Refunds `value` USD of `payment` (idempotency key `idempotency`) and has the card
    /// channel report it succeeded.
    pub async fn refund_succeeded(
        &self,
        key: &str,
        idempotency: &str,
        payment: &Value,
        value: &str,
    ) {
        let refund = self
            .call(Method::POST, "/v1/refunds", key, Some(idempotency),
                Some(&json!({"payment_id": payment["id"], "amount": {"value": value, "currency": "USD"}})))
            .await;
        assert_eq!(refund.status, 201, "{}", refund.body);
        let cri = refund.body["channel_refund_id"].as_str().expect("cri");
        self.channel("refunds", cri, json!({"outcome": "succeeded"}))
            .await;
    }

    /// A paid order of `qty` × `sku` for `user`: (order, payment).
    pub async fn paid_order(&self, key: &str, user: &str, sku: &str, qty: u32) -> (Value, Value) {
        let order = self
            .order(key, &format!("o-{user}-{sku}"), user, sku, qty)
            .await;
        assert_eq!(order.status, 201, "{}", order.body);
        let id = order.body["id"].as_str().expect("id").to_owned();
        let payment = self.pay(key, &id).await;
        let cpi = payment["channel_payment_id"].as_str().expect("cpi");
        let sent = self
            .channel("payments", cpi, json!({"outcome": "succeeded"}))
            .await;
        assert_eq!(sent["attempts"][0]["answer"], "applied", "{sent}");
        (self.admin_get(&format!("/v1/orders/{id}")).await, payment)
    }
}

/// An order by `user` from their own device, shipped to their own address (a fraud label on
/// one order marks an address first seen with it, so customers must not share one by accident).
pub fn order_body(user: &str, sku: &str, qty: u32) -> Value {
    json!({"items": [{"sku": sku, "qty": qty}], "user": user, "device": format!("dev-{user}"),
        "ip": "203.0.113.7",
        "shipping": {"address": format!("1 {user} St, Springfield"), "country": "US"},
        "payment_method": "card"})
}
