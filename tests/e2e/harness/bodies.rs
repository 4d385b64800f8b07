//! Request bodies many tests send.

use serde_json::Value;

/// A valid payment.authorize request.
pub fn decision_body(request_id: &str) -> Value {
    serde_json::json!({"request_id": request_id, "event": "payment.authorize",
        "amount": {"value": "129.99", "currency": "USD"},
        "user": {"id": "u-1", "account_age_days": 12, "email": "Ann@Example.com", "phone": "+1 555 123 4567"},
        "device": {"id": "dev-9", "ip": "203.0.113.7", "ip_country": "US", "is_proxy": false},
        "payment": {"method": "card", "card_fingerprint": "fp_7Hc", "card_bin": "411111", "card_country": "US"},
        "shipping": {"address": "1 Main St, Springfield, US", "country": "US"},
        "order_id": "o-42", "attributes": {"promo_code": "WELCOME10"}})
}
