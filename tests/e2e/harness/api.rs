//! A client of real `arbiter serve` processes ([`super::start_arbiter`]) by base URL, for
//! tests that drive several replicas with one key. Tests add the calls only they make in
//! `impl Api` blocks of their own.

use serde_json::Value;

pub struct Api {
    pub client: reqwest::Client,
    pub key: String,
}

impl Api {
    pub fn new(key: String) -> Api {
        Api {
            client: reqwest::Client::new(),
            key,
        }
    }

    /// `POST /v1/decisions` on `base`, which must answer 200.
    pub async fn decide(&self, base: &str, body: &Value) -> Value {
        let r = self
            .client
            .post(format!("{base}/v1/decisions"))
            .bearer_auth(&self.key)
            .json(body)
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 200, "{base}");
        r.json().await.expect("json")
    }

    /// The stored decision with its context and layers.
    pub async fn detail(&self, base: &str, id: &str) -> Value {
        let r = self
            .client
            .get(format!("{base}/v1/decisions/{id}"))
            .bearer_auth(&self.key)
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 200, "decision {id}");
        r.json().await.expect("json")
    }
}
