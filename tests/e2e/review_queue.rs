//! Working the review queue through the API as a reviewer does: the `review` scope reads what
//! a case needs, queue items carry the case with filters and counts, two reviewers claiming at
//! once never get the same case, resolutions agree with themselves and with labels already
//! given, and a mistaken resolution is corrected with its own audit entry.

use serde_json::{Value, json};

use crate::feedback::{challenged_body, decide};
use crate::harness::{TestServer, backends, detail, problem};

/// A challenged payment by `user` on a device and card of its own, so a batch of them shares
/// nothing but an IP, which the link graph does not take for a ring.
pub(crate) async fn lone_challenge(s: &TestServer, id: &str, user: &str) -> Value {
    let mut body = challenged_body(id, user);
    body["device"]["id"] = json!(format!("dev-{user}"));
    body["payment"]["card_fingerprint"] = json!(format!("fp-{user}"));
    body["user"]["email"] = json!(format!("{user}@example.com"));
    body["user"]["phone"] = json!(null);
    body["shipping"]["address"] = json!(format!("{user} Main St, Springfield, US"));
    let d = decide(s, &body).await;
    assert_eq!(d["action"], "challenge", "{d}");
    d
}

async fn json_of(r: reqwest::Response, status: u16) -> Value {
    assert_eq!(r.status().as_u16(), status, "{}", r.url());
    r.json().await.unwrap_or(Value::Null)
}

/// The counter `arbiter_labels_total{label="…"}` as `/metrics` shows it (0 before the first).
async fn labels_total(s: &TestServer, label: &str) -> f64 {
    s.metric(&format!("arbiter_labels_total{{label=\"{label}\"}}"))
        .await
}

#[tokio::test]
async fn a_reviewer_key_reads_what_the_console_shows_and_no_more() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let reviewer = s.key(&["review"]).await;
        let feed = s.key(&["label:write"]).await;
        let d = decide(&s, &challenged_body("scope-1", "scope-user")).await;
        let id = d["decision_id"].as_str().expect("id");

        for path in [
            "/v1/reviews".to_owned(),
            format!("/v1/decisions/{id}"),
            "/v1/graph/entities/user/scope-user".to_owned(),
            "/v1/reports/outcomes".to_owned(),
        ] {
            let r = s.get(&path, &reviewer).await;
            assert_eq!(r.status(), 200, "{path}: a reviewer reads it");
        }
        // Not the risk engineer's, the chargeback feed's or the operator's routes.
        for path in ["/v1/policies", "/v1/labels?decision_id=x", "/v1/keys"] {
            problem(s.get(path, &reviewer).await, 403, "forbidden").await;
        }
        // A label feed does not read personal data.
        problem(
            s.get(&format!("/v1/decisions/{id}"), &feed).await,
            403,
            "forbidden",
        )
        .await;
        s.finish().await;
    }
}

#[tokio::test]
async fn queue_items_carry_the_case_with_filters_and_counts() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let reviewer = s.key(&["review"]).await;
        let pay = decide(&s, &challenged_body("flt-1", "flt-a")).await;
        lone_challenge(&s, "flt-2", "flt-b").await;
        let code = pay["reasons"][0]["code"].as_str().expect("a reason");

        let page = json_of(s.get("/v1/reviews", &reviewer).await, 200).await;
        assert_eq!(page["total"], 2);
        assert_eq!(page["sla_secs"], 1800, "the default SLA is 30 minutes");
        let item = &page["items"][0];
        let case = &item["decision"];
        assert_eq!(case["order_id"], "ord-flt-1");
        assert_eq!(case["email"], "ann@example.com");
        assert_eq!(case["device_id"], "dev-9");
        assert_eq!(case["ip"], "203.0.113.7");
        assert_eq!(case["card_bin"], "411111");
        assert_eq!(case["card_country"], "US");
        assert_eq!(case["shipping_country"], "US");
        assert!(item["age_secs"].as_i64().expect("age") >= 0);
        assert_eq!(item["overdue"], false);
        assert!(item["claim"].is_null() && item["latest_label"].is_null());

        for (checkpoint, total) in [("payment.authorize", 2), ("order.create", 0)] {
            let page = json_of(
                s.get(&format!("/v1/reviews?checkpoint={checkpoint}"), &reviewer)
                    .await,
                200,
            )
            .await;
            assert_eq!(page["total"], total, "{checkpoint}");
        }
        let by_reason = json_of(
            s.get(&format!("/v1/reviews?reason={code}"), &reviewer)
                .await,
            200,
        )
        .await;
        assert_eq!(by_reason["total"], 2, "both gave `{code}`");
        let none = json_of(
            s.get("/v1/reviews?reason=geo.mismatch", &reviewer).await,
            200,
        )
        .await;
        assert_eq!(none["total"], 0);
        let p = problem(
            s.get("/v1/reviews?reason=a%20b", &reviewer).await,
            400,
            "invalid_query",
        )
        .await;
        assert!(detail(&p).contains("`reason`"), "{p}");

        // One case by id, the same shape.
        let rid = item["review_id"].as_str().expect("id");
        let one = json_of(s.get(&format!("/v1/reviews/{rid}"), &reviewer).await, 200).await;
        assert_eq!(one["decision"]["decision_id"], pay["decision_id"]);
        problem(
            s.get("/v1/reviews/rev_nope", &reviewer).await,
            404,
            "not_found",
        )
        .await;
        s.finish().await;
    }
}

#[tokio::test]
async fn two_reviewers_claiming_at_once_never_get_the_same_case() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let (ann, bob) = (s.key(&["review"]).await, s.key(&["review"]).await);
        for i in 0..6 {
            decide(
                &s,
                &challenged_body(&format!("clm-{i}"), &format!("clm-u{i}")),
            )
            .await;
        }
        let mut seen = std::collections::HashSet::new();
        for round in 0..3 {
            let any = json!({});
            let (a, b) = tokio::join!(
                s.post("/v1/reviews/claim", &ann, &any),
                s.post("/v1/reviews/claim", &bob, &any)
            );
            let (a, b) = (json_of(a, 200).await, json_of(b, 200).await);
            let (ra, rb) = (a["review_id"].clone(), b["review_id"].clone());
            assert_ne!(ra, rb, "round {round}: one case to two reviewers");
            assert!(seen.insert(ra.clone()) && seen.insert(rb.clone()));
            assert!(a["claim"]["until"].is_string(), "{a}");
            let (ra, rb) = (ra.as_str().expect("id"), rb.as_str().expect("id"));
            // Neither may resolve or take the other's case while the lease runs.
            let fraud = json!({"outcome": "reject", "label": "fraud"});
            let p = problem(
                s.post(&format!("/v1/reviews/{rb}/resolve"), &ann, &fraud)
                    .await,
                409,
                "conflict",
            )
            .await;
            assert!(detail(&p).contains("claimed by"), "{p}");
            problem(
                s.post(&format!("/v1/reviews/{rb}/claim"), &ann, &json!({}))
                    .await,
                409,
                "conflict",
            )
            .await;
            for (key, id) in [(&ann, ra), (&bob, rb)] {
                let r = s
                    .post(&format!("/v1/reviews/{id}/resolve"), key, &fraud)
                    .await;
                assert_eq!(r.status(), 200);
            }
        }
        let r = s.post("/v1/reviews/claim", &ann, &json!({})).await;
        assert_eq!(r.status(), 204, "nothing left");

        // A released case is anyone's again.
        lone_challenge(&s, "clm-last", "clm-last").await;
        let held = json_of(s.post("/v1/reviews/claim", &ann, &json!({})).await, 200).await;
        let id = held["review_id"].as_str().expect("id");
        problem(
            s.post(&format!("/v1/reviews/{id}/release"), &bob, &json!({}))
                .await,
            409,
            "conflict",
        )
        .await;
        let r = s
            .post(&format!("/v1/reviews/{id}/release"), &ann, &json!({}))
            .await;
        assert_eq!(r.status(), 204);
        let taken = json_of(s.post("/v1/reviews/claim", &bob, &json!({})).await, 200).await;
        assert_eq!(taken["review_id"], id);
        s.finish().await;
    }
}

#[tokio::test]
async fn resolutions_agree_with_themselves_and_with_labels_already_given() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let reviewer = s.key(&["review"]).await;
        let d = decide(&s, &challenged_body("agree-1", "agree-u")).await;
        let page = json_of(s.get("/v1/reviews", &reviewer).await, 200).await;
        let rid = page["items"][0]["review_id"].as_str().expect("id");
        let path = format!("/v1/reviews/{rid}/resolve");

        let p = problem(
            s.post(
                &path,
                &reviewer,
                &json!({"outcome": "approve", "label": "fraud"}),
            )
            .await,
            422,
            "invalid_value",
        )
        .await;
        assert!(detail(&p).contains("contradicts"), "{p}");
        let p = problem(
            s.post(
                &path,
                &reviewer,
                &json!({"outcome": "reject", "label": "fraud", "reviewer": "somebody else"}),
            )
            .await,
            422,
            "invalid_value",
        )
        .await;
        assert!(detail(&p).contains("key's name"), "{p}");

        // An analyst already said fraud: a legit resolution must say it overrules that.
        let label = json!({"decision_id": d["decision_id"], "label": "fraud", "source": "analyst"});
        json_of(s.post("/v1/labels", &s.admin_key, &label).await, 201).await;
        let queued = json_of(s.get(&format!("/v1/reviews/{rid}"), &reviewer).await, 200).await;
        assert_eq!(queued["latest_label"]["label"], "fraud");
        assert_eq!(queued["latest_label"]["source"], "analyst");
        let legit = json!({"outcome": "approve", "label": "legit"});
        let p = problem(s.post(&path, &reviewer, &legit).await, 409, "conflict").await;
        assert!(detail(&p).contains("supersede"), "{p}");

        let before = labels_total(&s, "legit").await;
        let overrule = json!({"outcome": "approve", "label": "legit", "supersede": true});
        let done = json_of(s.post(&path, &reviewer, &overrule).await, 200).await;
        assert_eq!(
            done["resolution"]["reviewer"], "test review",
            "the key's name"
        );
        assert!(
            labels_total(&s, "legit").await >= before + 1.0,
            "a resolution counts as a label"
        );
        s.finish().await;
    }
}

#[tokio::test]
async fn a_mistaken_resolution_is_corrected_with_its_own_audit_entry() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let (ann, bob) = (s.key(&["review"]).await, s.key(&["review"]).await);
        decide(&s, &challenged_body("fix-1", "fix-user")).await;
        let page = json_of(s.get("/v1/reviews", &ann).await, 200).await;
        let rid = page["items"][0]["review_id"]
            .as_str()
            .expect("id")
            .to_owned();
        let did = page["items"][0]["decision_id"]
            .as_str()
            .expect("id")
            .to_owned();
        let fraud = json!({"outcome": "reject", "label": "fraud"});
        let correct = format!("/v1/reviews/{rid}/correct");
        let legit = json!({"outcome": "approve", "label": "legit", "note": "wrong button"});
        problem(s.post(&correct, &ann, &legit).await, 409, "conflict").await;
        json_of(
            s.post(&format!("/v1/reviews/{rid}/resolve"), &ann, &fraud)
                .await,
            200,
        )
        .await;
        let marked = s.admin_get("/v1/graph/entities/user/fix-user").await;
        assert!(marked["fraud_mark"].is_object(), "{marked}");

        // Another reviewer may not; the resolver may.
        problem(s.post(&correct, &bob, &legit).await, 403, "forbidden").await;
        let fixed = json_of(s.post(&correct, &ann, &legit).await, 200).await;
        assert_eq!(fixed["resolution"]["label"], "legit");
        assert_eq!(fixed["resolution"]["note"], "wrong button");
        let history = s.admin_get(&format!("/v1/labels?decision_id={did}")).await;
        let kinds: Vec<_> = history
            .as_array()
            .expect("labels")
            .iter()
            .map(|l| l["label"].clone())
            .collect();
        assert_eq!(kinds, [json!("fraud"), json!("legit")]);
        let audit = s
            .admin_get(&format!("/v1/audit?action=review.correct&target={rid}"))
            .await;
        let entry = &audit["items"][0];
        assert_eq!(entry["detail"]["from"]["label"], "fraud", "{audit}");
        assert_eq!(entry["detail"]["label"], "legit");
        let unmarked = s.admin_get("/v1/graph/entities/user/fix-user").await;
        assert!(
            unmarked["fraud_mark"].is_null(),
            "the legit correction withdraws the mark: {unmarked}"
        );
        s.finish().await;
    }
}

#[tokio::test]
async fn an_escalated_case_waits_for_a_senior_reviewer() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let (ann, bob) = (s.key(&["review"]).await, s.key(&["review"]).await);
        lone_challenge(&s, "esc-1", "esc-a").await;
        lone_challenge(&s, "esc-2", "esc-b").await;
        let held = json_of(s.post("/v1/reviews/claim", &ann, &json!({})).await, 200).await;
        let rid = held["review_id"].as_str().expect("id");
        let path = format!("/v1/reviews/{rid}/escalate");
        let note = json!({"note": "same card as last week's ring"});
        problem(s.post(&path, &bob, &note).await, 409, "conflict").await;
        let escalated = json_of(s.post(&path, &ann, &note).await, 200).await;
        assert_eq!(escalated["escalation"]["by"], "test review");
        assert!(
            escalated["claim"].is_null(),
            "escalating lets go of the case"
        );

        let seniors = json_of(s.get("/v1/reviews?escalated=true", &bob).await, 200).await;
        assert_eq!(seniors["total"], 1);
        assert_eq!(seniors["items"][0]["review_id"], rid);
        // A reviewer's "next" without the senior queue skips it.
        let next = json_of(
            s.post("/v1/reviews/claim", &bob, &json!({"escalated": false}))
                .await,
            200,
        )
        .await;
        assert_ne!(next["review_id"], rid);
        s.finish().await;
    }
}
