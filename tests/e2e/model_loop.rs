//! The feedback loop end to end through the real endpoints: decide → review → label → train
//! → activate → decide. A synthetic stream carries a planted signal (fraud is far more likely
//! on a new account paying a large amount through a proxy); the trained model must find it on
//! the held-out later part, activation must change later scores, and the active version must
//! survive a restart. A shadow model is recorded, never used.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::feedback::decide;
use crate::harness::{TestServer, backends, decision_body, problem};

/// One synthetic payment of the stream and whether it is (labelled) fraud.
fn synthetic(i: usize, rng: &mut StdRng) -> (Value, bool) {
    let risky = rng.random_bool(0.25);
    let mut v = decision_body(&format!("ml-{i}"));
    let user = format!("ml-user-{i}");
    v["user"]["id"] = json!(user);
    v["user"]["email"] = json!(format!("{user}@example.com"));
    v["user"].as_object_mut().expect("user").remove("phone");
    v["device"]["id"] = json!(format!("ml-dev-{i}"));
    v["device"]["ip"] = json!(format!("198.51.{}.{}", i / 250, i % 250 + 1));
    v["payment"]["card_fingerprint"] = json!(format!("ml-card-{i}"));
    v["shipping"]["address"] = json!(format!("{i} Synthetic Road"));
    v["order_id"] = json!(format!("ml-order-{i}"));
    let (age, amount, proxy) = if risky {
        (rng.random_range(0..5), rng.random_range(200..900), true)
    } else {
        (
            rng.random_range(30..2000),
            rng.random_range(10..400),
            rng.random_bool(0.05),
        )
    };
    v["user"]["account_age_days"] = json!(age);
    v["amount"] = json!({"value": format!("{amount}.00"), "currency": "USD"});
    v["device"]["is_proxy"] = json!(proxy);
    // 2 % label noise either way.
    let fraud = risky != rng.random_bool(0.02);
    (v, fraud)
}

/// Sends `n` synthetic decisions and labels every one: challenged decisions through their
/// review, the rest by decision id (an `order_id` names a transaction-core order only, and
/// these decisions are posted, so their order ids are no orders).
pub(crate) async fn labelled_stream(s: &TestServer, n: usize) {
    let key = s.key(&["label:write", "decisions:read"]).await;
    let mut rng = StdRng::seed_from_u64(7);
    let mut truth = std::collections::HashMap::new();
    for i in 0..n {
        let (body, fraud) = synthetic(i, &mut rng);
        let d = decide(s, &body).await;
        let id = d["decision_id"].as_str().expect("id").to_owned();
        if d["action"] != "challenge" {
            let mut label = json!({"decision_id": id});
            label["label"] = json!(if fraud { "fraud" } else { "legit" });
            label["source"] = json!("analyst");
            let r = s.post("/v1/labels", &key, &label).await;
            let status = r.status();
            assert_eq!(
                status,
                201,
                "{label}: {}",
                r.text().await.unwrap_or_default()
            );
        }
        truth.insert(id, fraud);
    }
    // Work the review queue, oldest first, page by page.
    let mut resolved = 0;
    loop {
        let page: Value = s
            .get("/v1/reviews?status=open&limit=50", &key)
            .await
            .json()
            .await
            .expect("json");
        let items = page["items"].as_array().expect("items").clone();
        if items.is_empty() {
            break;
        }
        for item in items {
            let fraud = truth[item["decision"]["decision_id"].as_str().expect("id")];
            let body = if fraud {
                json!({"outcome": "reject", "label": "fraud"})
            } else {
                json!({"outcome": "approve", "label": "legit"})
            };
            let path = format!(
                "/v1/reviews/{}/resolve",
                item["review_id"].as_str().expect("id")
            );
            assert_eq!(s.post(&path, &key, &body).await.status(), 200);
            resolved += 1;
        }
    }
    assert!(resolved > 10, "the stream opened reviews ({resolved})");
}

/// Starts training and waits for the job; returns the new model version.
pub(crate) async fn train(s: &TestServer) -> i64 {
    let r = s.post("/v1/models/train", &s.admin_key, &json!({})).await;
    assert_eq!(r.status(), 202);
    let job: Value = r.json().await.expect("json");
    let id = job["job_id"].as_str().expect("job id").to_owned();
    for _ in 0..600 {
        let j: Value = s
            .get(&format!("/v1/models/jobs/{id}"), &s.admin_key)
            .await
            .json()
            .await
            .expect("json");
        match j["status"].as_str() {
            Some("succeeded") => return j["model_version"].as_i64().expect("version"),
            Some("failed") => panic!("training failed: {j}"),
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    panic!("training did not finish");
}

/// Activates model `version` (200 expected).
pub(crate) async fn activate(s: &TestServer, version: i64) {
    let r = s
        .post(
            &format!("/v1/models/{version}/activate"),
            &s.admin_key,
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_model_trained_on_labels_finds_the_planted_signal_and_changes_scores() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let p = problem(
            s.post("/v1/models/train", &s.admin_key, &json!({})).await,
            409,
            "too_few_labels",
        )
        .await;
        assert!(
            p["detail"]
                .as_str()
                .expect("detail")
                .contains("0 fraud and 0 legit"),
            "{p}"
        );

        labelled_stream(&s, 400).await;
        let version = train(&s).await;
        let m: Value = s
            .get(&format!("/v1/models/{version}"), &s.admin_key)
            .await
            .json()
            .await
            .expect("json");
        let auc = m["metrics"]["roc_auc"].as_f64().expect("roc auc");
        eprintln!(
            "{backend:?}: held-out ROC AUC {auc}, metrics {}",
            m["metrics"]
        );
        assert!(auc >= 0.9, "{backend:?}: held-out ROC AUC {auc}: {m}");
        assert!(
            m["metrics"]["test_examples"].as_u64().expect("test") >= 100,
            "{m}"
        );
        assert!(
            m["metrics"]["calibration"]
                .as_array()
                .is_some_and(|c| !c.is_empty())
        );
        assert_eq!(m["active"], false, "training does not activate");

        // The same risky payment before and after activation.
        let mut rng = StdRng::seed_from_u64(99);
        let (mut probe, _) = synthetic(10_000, &mut rng);
        probe["user"]["account_age_days"] = json!(1);
        probe["device"]["is_proxy"] = json!(true);
        probe["amount"] = json!({"value": "150.00", "currency": "USD"});
        probe["request_id"] = json!("probe-before");
        let before = decide(&s, &probe).await;
        assert_eq!(before["model_version"], Value::Null);

        activate(&s, version).await;
        probe["request_id"] = json!("probe-after");
        let after = decide(&s, &probe).await;
        assert_eq!(after["model_version"], version, "{after}");
        assert!(
            after["score"].as_f64().expect("score")
                > before["score"].as_f64().expect("score") + 10.0,
            "activation raises the risky payment's score: {before} -> {after}"
        );
        let detail: Value = s
            .get(
                &format!(
                    "/v1/decisions/{}",
                    after["decision_id"].as_str().expect("id")
                ),
                &s.admin_key,
            )
            .await
            .json()
            .await
            .expect("json");
        assert!(
            detail["layers"]["model"]["probability"]
                .as_f64()
                .expect("p")
                > 0.5,
            "{detail}"
        );
        // Why: the planted signal (a new account, a proxy) leads the model's contributions (at
        // most five; a feature at its training mean contributes nothing),
        // which add up with the score parts the reviewer sees.
        let explanation = &detail["model_explanation"];
        assert_eq!(explanation["version"], version, "{detail}");
        let top = explanation["contributions"]
            .as_array()
            .expect("contributions");
        assert!((2..=5).contains(&top.len()), "{explanation}");
        let features: Vec<&str> = top.iter().filter_map(|c| c["feature"].as_str()).collect();
        assert!(
            features
                .iter()
                .any(|f| *f == "is_proxy" || f.starts_with("account_age")),
            "the planted signal explains the score: {features:?}"
        );
        let magnitudes: Vec<f64> = top
            .iter()
            .filter_map(|c| c["contribution"].as_f64())
            .map(f64::abs)
            .collect();
        assert!(
            magnitudes.windows(2).all(|w| w[0] >= w[1]),
            "{magnitudes:?}"
        );
        let reasons = detail["model_reasons"].as_array().expect("model reasons");
        assert_eq!(reasons.len(), top.len());
        assert_eq!(reasons[0]["layer"], "model");
        assert_eq!(reasons[0]["source"], format!("model@{version}"));
        let parts = &detail["score_parts"];
        let sum: f64 = ["lists", "rules", "graph", "model"]
            .iter()
            .map(|k| parts[k].as_f64().expect("part"))
            .sum();
        assert!(
            (sum - after["score"].as_f64().expect("score")).abs() < 1e-9,
            "the parts add up to the score: {parts}"
        );
        assert!(parts["model"].as_f64().expect("model part") > 0.0);
        problem(
            s.post("/v1/models/999/activate", &s.admin_key, &json!({}))
                .await,
            404,
            "not_found",
        )
        .await;
        s.finish().await;
    }
}

#[tokio::test]
async fn the_active_model_survives_a_restart_and_a_shadow_is_only_recorded() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        labelled_stream(&s, 200).await;
        let v1 = train(&s).await;
        let v2 = train(&s).await;
        assert!(v2 > v1);
        for (path, status) in [
            (format!("/v1/models/{v1}/activate"), 200),
            (format!("/v1/models/{v2}/shadow"), 200),
        ] {
            assert_eq!(
                s.post(&path, &s.admin_key, &json!({})).await.status(),
                status
            );
        }
        let db = s.stop().await;
        let s = TestServer::start_on(db).await;
        let models: Value = s
            .get("/v1/models", &s.admin_key)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(
            (models["active"].as_i64(), models["shadow"].as_i64()),
            (Some(v1), Some(v2)),
            "{models}"
        );
        let d = decide(&s, &decision_body("after-restart")).await;
        assert_eq!(
            d["model_version"], v1,
            "still active after the restart: {d}"
        );
        let detail: Value = s
            .get(
                &format!("/v1/decisions/{}", d["decision_id"].as_str().expect("id")),
                &s.admin_key,
            )
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(detail["layers"]["model_shadow"]["version"], v2, "{detail}");
        // Stopping the shadow leaves the champion alone.
        let r = s
            .client
            .delete(s.url("/v1/models/shadow"))
            .bearer_auth(&s.admin_key)
            .send()
            .await
            .expect("delete");
        assert_eq!(r.status(), 200);
        let d = decide(&s, &decision_body("after-stop")).await;
        let detail: Value = s
            .get(
                &format!("/v1/decisions/{}", d["decision_id"].as_str().expect("id")),
                &s.admin_key,
            )
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(detail["layers"]["model_shadow"], Value::Null);
        assert_eq!(d["model_version"], v1);
        let audit: Value = s
            .get("/v1/audit", &s.admin_key)
            .await
            .json()
            .await
            .expect("json");
        let actions: Vec<_> = audit["items"]
            .as_array()
            .expect("audit")
            .iter()
            .map(|e| e["action"].as_str().unwrap_or_default().to_owned())
            .collect();
        for a in [
            "model.train",
            "model.activate",
            "model.shadow",
            "model.shadow_stop",
        ] {
            assert!(actions.iter().any(|x| x == a), "audit has {a}: {actions:?}");
        }
        s.finish().await;
    }
}
