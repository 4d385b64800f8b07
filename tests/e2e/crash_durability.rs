//! The real binary, killed with SIGKILL under concurrent load: every acknowledged decision is
//! there after a restart. Also checks that a refused card number never reaches the logs.

use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::sync::oneshot;

use crate::harness::{Backend, TestDb, backends, decision_body, start_arbiter};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_under_load_loses_no_acknowledged_decision() {
    for backend in backends() {
        let db = TestDb::new(&backend).await;
        let mut bin = start_arbiter(&db, &[], &[]).await;
        let key = db.admin_key();
        let client = reqwest::Client::new();
        let acked: Arc<Mutex<Vec<String>>> = Arc::default();
        let (enough_tx, enough_rx) = oneshot::channel::<()>();
        let enough_tx = Arc::new(Mutex::new(Some(enough_tx)));

        let mut clients = Vec::new();
        for c in 0..8 {
            let (client, key, base, acked, enough_tx) = (
                client.clone(),
                key.clone(),
                bin.base.clone(),
                acked.clone(),
                enough_tx.clone(),
            );
            clients.push(tokio::spawn(async move {
                // Bounded: at most 2,000 requests per client.
                for i in 0..2000 {
                    let mut body = decision_body(&format!("kill-{c}-{i}"));
                    body["user"]["id"] = serde_json::json!(format!("u-{c}"));
                    let Ok(r) = client
                        .post(format!("{base}/v1/decisions"))
                        .bearer_auth(&key)
                        .json(&body)
                        .send()
                        .await
                    else {
                        return; // the server is gone
                    };
                    if r.status() != 200 {
                        continue;
                    }
                    let Ok(v) = r.json::<Value>().await else {
                        return;
                    };
                    let mut a = acked.lock().expect("lock");
                    a.push(v["decision_id"].as_str().expect("id").to_owned());
                    if a.len() >= 300
                        && let Some(tx) = enough_tx.lock().expect("lock").take()
                    {
                        let _ = tx.send(());
                    }
                }
            }));
        }
        enough_rx
            .await
            .expect("300 decisions acknowledged before kill");
        let pid = nix::unistd::Pid::from_raw(bin.child.id().expect("pid") as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL).expect("kill");
        let _ = bin.child.wait().await;
        for c in clients {
            c.await.expect("client task");
        }
        let acked = acked.lock().expect("lock").clone();
        assert!(acked.len() >= 300);

        let restarted = start_arbiter(&db, &[], &[]).await;
        let mut missing = Vec::new();
        for id in &acked {
            let r = client
                .get(format!("{}/v1/decisions/{id}", restarted.base))
                .bearer_auth(&key)
                .send()
                .await
                .expect("get");
            if r.status() != 200 {
                missing.push(id.clone());
            }
        }
        assert!(
            missing.is_empty(),
            "{backend:?}: {} of {} acknowledged decisions lost",
            missing.len(),
            acked.len()
        );
        drop(restarted);
        drop(bin);
        db.drop_db().await;
    }
}

#[tokio::test]
async fn a_refused_card_number_is_never_logged() {
    let db = TestDb::new(&Backend::Sqlite).await;
    // At `debug`, so that nothing logged at any level the binary uses shows the number.
    let bin = start_arbiter(&db, &[], &[("RUST_LOG", "debug")]).await;
    let key = db.admin_key();
    let mut body = decision_body("pan-1");
    body["attributes"]["note"] = serde_json::json!("5555 5555 5555 4444");
    let r = reqwest::Client::new()
        .post(format!("{}/v1/decisions", bin.base))
        .bearer_auth(&key)
        .json(&body)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 422);
    let _ = r.text().await;
    let output = bin.output();
    assert!(
        output.contains("raw_card_number"),
        "the refusal is logged by code: {output}"
    );
    assert!(!output.contains("5555 5555 5555 4444") && !output.contains("5555555555554444"));
    assert!(!output.contains(&key), "the admin key must never be logged");
}
