//! The one check of an RFC 9457 refusal: status, content type, stable `code`, and the members
//! every problem carries.

use reqwest::Response;
use serde_json::Value;

/// Asserts a problem+json response and returns its body.
pub async fn problem(r: Response, status: u16, code: &str) -> Value {
    assert_eq!(r.status().as_u16(), status, "status for code {code}");
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(ct, "application/problem+json");
    let v: Value = r.json().await.expect("problem json");
    assert_eq!(v["code"], code, "{v}");
    assert_eq!(v["status"], status);
    assert!(v["type"].is_string() && v["title"].is_string() && v["detail"].is_string());
    v
}

/// A problem's `detail`, empty when it has none.
pub fn detail(v: &Value) -> &str {
    v["detail"].as_str().unwrap_or_default()
}
