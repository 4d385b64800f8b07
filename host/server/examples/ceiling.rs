//! The load-test ceiling: a trivial axum handler that reads a JSON body and answers a fixed
//! JSON decision, with no storage. `BENCHMARKS.md` compares the real endpoint against it.
//! Run: `cargo run --release -p arbiter-host --example ceiling -- 127.0.0.1:8091`.

use axum::Json;
use axum::body::Bytes;
use axum::routing::post;
use serde_json::{Value, json};

async fn decide(body: Bytes) -> Json<Value> {
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    Json(json!({"request_id": parsed["request_id"], "action": "accept", "score": 0.0}))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8091".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let app = axum::Router::new().route("/v1/decisions", post(decide));
    axum::serve(listener, app).await
}
