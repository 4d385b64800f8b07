//! Erasure of a person (issue 22) against the real binary, on both backends: after a person
//! has decided, ordered, paid, been refunded, reviewed, labelled, watch-listed and snoozed,
//! `POST /v1/subjects/erase` leaves none of their identifiers in any column of any table
//! (read from the database's catalogue), the ledger still checks, a backtest over the window
//! gives the same verdicts as before, another customer's link through a shared device
//! survives under the pseudonym, the erasure is audited without a value, a second run
//! changes nothing, and the person's next decision starts fresh.

use reqwest::Method;
use serde_json::{Value, json};

use super::calls::config;
use super::ledger_cli::ledger_check;
use super::text_columns::columns_holding;
use crate::backtests::support::backtest;
use crate::harness::{TestServer, backends, decision_body, problem};

const USER: &str = "erasure-subject-7f3a";
const EMAIL: &str = "Erasure.Subject.7f3a@Example.org";
const EMAIL_STORED: &str = "erasure.subject.7f3a@example.org";
const PHONE: &str = "+1 (555) 010-7373";
const PHONE_STORED: &str = "+15550107373";
const DEVICE: &str = "erasure-dev-7f3a";
const IP: &str = "198.51.100.73";
const CARD: &str = "fp_erasure_7f3a";
const ADDRESS: &str = "73 Erasure Road, Springfield";

/// Every spelling of the person that reached the server, and the hash its address is stored as.
fn needles() -> Vec<String> {
    let mut v: Vec<String> = [
        USER,
        EMAIL,
        EMAIL_STORED,
        PHONE,
        PHONE_STORED,
        DEVICE,
        IP,
        CARD,
        ADDRESS,
    ]
    .map(str::to_owned)
    .to_vec();
    v.push(arbiter_engine::normalize::address_hash(ADDRESS));
    v
}

/// A payment by the person; `challenged` makes it one the bundled rules send to review.
fn person(id: &str, challenged: bool) -> Value {
    let mut v = decision_body(id);
    v["user"] = json!({"id": USER, "account_age_days": 40, "email": EMAIL, "phone": PHONE});
    v["device"] = json!({"id": DEVICE, "ip": IP, "ip_country": "US", "is_proxy": challenged});
    v["payment"]["card_fingerprint"] = json!(CARD);
    v["shipping"]["address"] = json!(ADDRESS);
    v["attributes"] = json!({"promo_code": "WELCOME10", "contact": EMAIL_STORED});
    if challenged {
        v["amount"] = json!({"value": "480.00", "currency": "USD"});
    }
    v
}

/// Another customer on the person's device.
fn neighbour(id: &str) -> Value {
    let mut v = decision_body(id);
    v["user"] = json!({"id": "bob-keeps-1", "account_age_days": 400, "email": "bob@example.net"});
    v["device"] = json!({"id": DEVICE, "ip": "192.0.2.9", "ip_country": "US", "is_proxy": false});
    v["payment"]["card_fingerprint"] = json!("fp_bob_1");
    v["shipping"]["address"] = json!("9 Other Street");
    v
}

async fn decide(s: &TestServer, body: &Value) -> Value {
    let r = s.post("/v1/decisions", &s.admin_key, body).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    r.json().await.expect("json")
}

async fn detail(s: &TestServer, id: &Value) -> Value {
    s.admin_get(&format!("/v1/decisions/{}", id.as_str().expect("id")))
        .await
}

/// The person's order, paid by card and partly refunded, with their identifiers in it.
async fn order_paid_and_refunded(s: &TestServer) {
    let key = s.checkout_key().await;
    s.sku("PEN-1", "3.50", 100).await;
    let order = s
        .call(
            Method::POST,
            "/v1/orders",
            &key,
            Some("erasure-order-1"),
            Some(&json!({
            "items": [{"sku": "PEN-1", "qty": 2}], "user": USER, "device": DEVICE, "ip": IP,
            "shipping": {"address": ADDRESS, "country": "US"}, "payment_method": "card"})),
        )
        .await;
    assert_eq!(order.status, 201, "{}", order.body);
    let payment = s.pay(&key, order.body["id"].as_str().expect("id")).await;
    let cpi = payment["channel_payment_id"].as_str().expect("cpi");
    s.channel("payments", cpi, json!({"outcome": "succeeded"}))
        .await;
    let refund = s
        .call(
            Method::POST,
            "/v1/refunds",
            &key,
            Some("erasure-refund-1"),
            Some(&json!({
            "payment_id": payment["id"], "amount": {"value": "1.00", "currency": "USD"},
            "reason": format!("asked by {EMAIL_STORED} by phone {PHONE_STORED}")})),
        )
        .await;
    assert_eq!(refund.status, 201, "{}", refund.body);
    let cri = refund.body["channel_refund_id"].as_str().expect("cri");
    s.channel("refunds", cri, json!({"outcome": "succeeded"}))
        .await;
}

fn urlencoding(v: &str) -> String {
    url::form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

/// The person's export before the erasure: their decisions (not the neighbour's), their
/// case with its note, their labels, their order as sent with its payment and refund, the
/// list entry and snooze naming them; and an audit entry saying it was read.
async fn export_holds_everything(s: &TestServer, challenged: &Value, bob: &Value) {
    let x = s
        .admin_get(&format!("/v1/subjects/export?email={}", urlencoding(EMAIL)))
        .await;
    assert_eq!(
        x["subject"],
        json!({"named_by": "email", "value": EMAIL_STORED})
    );
    for (kind, value) in [
        ("user", USER),
        ("email", EMAIL_STORED),
        ("phone", PHONE_STORED),
        ("device", DEVICE),
        ("ip", IP),
        ("card", CARD),
    ] {
        assert!(
            x["identifiers"][kind]
                .as_array()
                .is_some_and(|v| v.contains(&json!(value))),
            "{kind}: {}",
            x["identifiers"]
        );
    }
    let decisions = x["decisions"].as_array().expect("decisions");
    let requests: Vec<&str> = decisions
        .iter()
        .filter_map(|d| d["request_id"].as_str())
        .collect();
    assert!(
        requests.contains(&"er-1") && requests.contains(&"er-2"),
        "{requests:?}"
    );
    assert!(decisions.iter().all(|d| d["context"]["user_id"] == USER));
    assert!(
        decisions
            .iter()
            .all(|d| d["decision_id"] != bob["decision_id"])
    );
    let reviews = x["reviews"].as_array().expect("reviews");
    assert_eq!(reviews.len(), 1, "{reviews:?}");
    assert_eq!(reviews[0]["decision_id"], challenged["decision_id"]);
    assert!(
        reviews[0]["resolution"]["note"]
            .as_str()
            .is_some_and(|n| n.contains(EMAIL_STORED))
    );
    assert!(
        reviews[0]["resolution"].get("reviewer").is_none(),
        "staff stay out: {reviews:?}"
    );
    assert!(reviews[0].get("resolved_by").is_none(), "{reviews:?}");
    let labels: Vec<&Value> = x["labels"]
        .as_array()
        .expect("labels")
        .iter()
        .map(|l| &l["kind"])
        .collect();
    assert!(
        labels.contains(&&json!("chargeback")) && labels.contains(&&json!("legit")),
        "{labels:?}"
    );
    let orders = x["orders"].as_array().expect("orders");
    assert_eq!(orders.len(), 1, "{orders:?}");
    assert_eq!(orders[0]["request"]["shipping"]["address"], ADDRESS);
    assert_eq!(orders[0]["order"]["user"], USER);
    assert_eq!(orders[0]["payments"][0]["status"], "SUCCEEDED");
    assert_eq!(
        orders[0]["payments"][0]["refunds"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(
        x["list_entries"].as_array().map(Vec::len),
        Some(1),
        "{}",
        x["list_entries"]
    );
    assert_eq!(
        x["snoozes"].as_array().map(Vec::len),
        Some(1),
        "{}",
        x["snoozes"]
    );
    for staffed in ["labels", "list_entries", "snoozes"] {
        let items = x[staffed].as_array().expect(staffed);
        assert!(
            items.iter().all(|i| i.get("created_by").is_none()),
            "{staffed}: {items:?}"
        );
    }
    let audit = s.admin_get("/v1/audit?action=subject.export").await;
    let entries = audit["items"].as_array().expect("items");
    assert_eq!(entries.len(), 1, "{audit}");
    assert_eq!(entries[0]["detail"]["records"]["orders"], 1);
    assert!(!entries[0].to_string().contains(EMAIL_STORED), "{audit}");
}

/// What a backtest of the deciding set says, without what differs between any two runs.
fn verdicts(run: &Value) -> Value {
    assert_eq!(run["status"], "succeeded", "{run}");
    let r = &run["result"];
    let cells: Vec<Value> = r["transitions"]
        .as_array()
        .expect("transitions")
        .iter()
        .map(|t| json!([t["baseline"], t["candidate"], t["count"]]))
        .collect();
    json!({"cells": cells, "changed": r["changed"], "rules": r["rules"],
        "replayed": r["coverage"]["replayed"], "baseline": r["baseline"],
        "candidate": r["candidate"]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erased_person_leaves_no_identifier_and_the_books_and_verdicts_hold() {
    for backend in backends() {
        let s = TestServer::start_with_transactions(&backend, config()).await;
        let from = chrono::Utc::now() - chrono::Duration::minutes(1);
        order_paid_and_refunded(&s).await;
        let first = decide(&s, &person("er-1", false)).await;
        let challenged = decide(&s, &person("er-2", true)).await;
        assert_eq!(challenged["action"], "challenge", "{challenged}");
        let bob = decide(&s, &neighbour("er-bob")).await;
        let seen = detail(&s, &challenged["decision_id"]).await;
        assert!(
            seen["context"]["velocity"]["user"]["count_1h"].as_u64() >= Some(1),
            "{seen}"
        );

        // A reviewer resolves the case writing the person's e-mail; labels, a watch-list
        // entry and a snooze name them too.
        let reviews = s.admin_get("/v1/reviews?status=open").await;
        let review = reviews["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|r| r["decision_id"] == challenged["decision_id"])
            .expect("the challenge opened a review")
            .clone();
        let r = s
            .post(
                &format!(
                    "/v1/reviews/{}/resolve",
                    review["review_id"].as_str().expect("id")
                ),
                &s.admin_key,
                &json!({"outcome": "approve", "label": "legit",
                    "note": format!("called {USER} at {PHONE_STORED}, confirmed {EMAIL_STORED}")}),
            )
            .await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
        let r = s
            .post(
                "/v1/labels",
                &s.admin_key,
                &json!({"decision_id": first["decision_id"],
                "label": "chargeback", "source": "chargeback", "chargeback_id": CARD,
                "note": format!("dispute from {EMAIL_STORED}")}),
            )
            .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
        let r = s
            .post(
                "/v1/lists/entries",
                &s.admin_key,
                &json!({"list": "watch", "kind": "email",
                "value": EMAIL, "reason": format!("disputes ({USER})")}),
            )
            .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
        let r = s
            .post(
                "/v1/snoozes",
                &s.admin_key,
                &json!({"rule": "proxy_high_value",
                "kind": "device", "value": DEVICE, "reason": format!("VPN of {USER}"), "days": 30}),
            )
            .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
        let to = chrono::Utc::now();
        let window = json!({"candidate": 1, "from": from, "to": to});
        let before = verdicts(&backtest(&s, &s.admin_key, &window).await);
        for needle in needles() {
            if needle != EMAIL && needle != PHONE {
                assert!(
                    !columns_holding(s.db(), &needle).await.is_empty(),
                    "{needle} was never stored: the test proves nothing for it"
                );
            }
        }

        export_holds_everything(&s, &challenged, &bob).await;

        // Refused: not exactly one identifier, an empty one, a key without `admin`.
        for bad in [
            json!({}),
            json!({"user_id": USER, "email": EMAIL}),
            json!({"phone": "+-"}),
            json!({"user_id": " "}),
            json!({"email": "a", "fax": "1"}),
        ] {
            problem(
                s.post("/v1/subjects/erase", &s.admin_key, &bad).await,
                422,
                "invalid_value",
            )
            .await;
        }
        let decider = s.key(&["decide", "decisions:read", "label:write"]).await;
        let r = s
            .post("/v1/subjects/erase", &decider, &json!({"user_id": USER}))
            .await;
        assert_eq!(r.status(), 403);

        let r = s
            .post("/v1/subjects/erase", &s.admin_key, &json!({"email": EMAIL}))
            .await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
        let report: Value = r.json().await.expect("json");
        let pseudonym = report["subject"].as_str().expect("subject").to_owned();
        assert!(pseudonym.starts_with("erased:"), "{report}");
        for kind in ["user", "email", "phone", "device", "ip", "card", "address"] {
            assert!(
                report["identifiers"][kind].as_u64() >= Some(1),
                "{kind}: {report}"
            );
        }
        assert_eq!(report["list_entries_removed"], 1, "{report}");
        assert_eq!(report["snoozes_removed"], 1, "{report}");
        assert_eq!(report["velocity_forgotten"], true, "{report}");
        assert!(
            report["graph_entities_renamed"].as_u64() >= Some(3),
            "{report}"
        );
        for column in [
            "decisions.packed",
            "orders.request",
            "orders.user_id",
            "reviews.note",
            "labels.note",
            "refunds.reason",
            "audit_log.detail",
        ] {
            assert!(
                report["rewritten"][column].as_u64() >= Some(1),
                "{column}: {report}"
            );
        }
        let text = report.to_string();
        assert!(
            needles().iter().all(|n| !text.contains(n.as_str())),
            "{report}"
        );

        // Nowhere in the database, in any spelling that reached the server.
        for needle in needles() {
            let found = columns_holding(s.db(), &needle).await;
            assert!(
                found.is_empty(),
                "{backend:?}: `{needle}` still in {found:?}"
            );
        }
        let (ok, report_check, err) = ledger_check(s.db()).await;
        assert!(ok, "{report_check} {err}");
        let after = verdicts(&backtest(&s, &s.admin_key, &window).await);
        assert_eq!(
            after, before,
            "a backtest over the erased window changed its verdicts"
        );

        // The audit says who erased whom by pseudonym and what, never a value.
        let audit = s.admin_get("/v1/audit?action=subject.erase").await;
        let entries = audit["items"].as_array().expect("items");
        assert_eq!(entries.len(), 1, "{audit}");
        assert_eq!(entries[0]["target"], pseudonym.as_str());
        assert_eq!(entries[0]["detail"]["named_by"], "email");

        // The neighbour's link through the shared device survives under the pseudonym.
        let bob_now = detail(&s, &bob["decision_id"]).await;
        let device = bob_now["context"]["device_id"]
            .as_str()
            .expect("device")
            .to_owned();
        assert!(device.starts_with("erased:"), "{bob_now}");
        assert_eq!(bob_now["context"]["user_id"], "bob-keeps-1");
        let view = s
            .admin_get(&format!("/v1/graph/entities/device/{device}"))
            .await;
        let neighbours = view["neighbours"].as_array().expect("neighbours");
        assert!(
            neighbours
                .iter()
                .any(|n| n["entity"]["value"] == "bob-keeps-1"),
            "{view}"
        );
        assert!(!view.to_string().contains(USER), "{view}");
        problem(
            s.get(&format!("/v1/graph/entities/device/{DEVICE}"), &s.admin_key)
                .await,
            404,
            "not_found",
        )
        .await;

        // An export by the old e-mail finds no one now.
        let gone = s
            .admin_get(&format!("/v1/subjects/export?email={}", urlencoding(EMAIL)))
            .await;
        assert_eq!(gone["decisions"], json!([]), "{gone}");
        assert_eq!(gone["orders"], json!([]), "{gone}");

        // Again: nothing left to change.
        let again: Value = s
            .post("/v1/subjects/erase", &s.admin_key, &json!({"email": EMAIL}))
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(again["subject"], pseudonym.as_str());
        assert_eq!(again["rewritten"], json!({}), "{again}");
        assert_eq!(again["list_entries_removed"], 0);

        // The person comes back: a stranger to velocity and the graph.
        let fresh = decide(&s, &person("er-3", false)).await;
        let fresh = detail(&s, &fresh["decision_id"]).await;
        assert_eq!(
            fresh["context"]["velocity"]["user"]["count_1h"], 0,
            "{fresh}"
        );
        assert_eq!(fresh["context"]["graph"]["users_per_device"], 0, "{fresh}");
        s.finish().await;
    }
}

/// Erasing identifiers that look like our own structure — a request id, an amount, a
/// checkpoint, an action — rewrites no decision's structure: the same request is still
/// answered from the log, with its amount and checkpoint as stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_identifier_that_looks_like_structure_leaves_the_structure_alone() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let body = decision_body("0");
        let first = decide(&s, &body).await;
        for user_id in ["0", "129.99", "payment.authorize", "accept", "USD"] {
            let r = s
                .post(
                    "/v1/subjects/erase",
                    &s.admin_key,
                    &json!({"user_id": user_id}),
                )
                .await;
            assert_eq!(r.status(), 200, "{user_id}");
        }
        let again = decide(&s, &body).await;
        assert_eq!(again["decision_id"], first["decision_id"], "{backend:?}");
        assert_eq!(again["action"], first["action"]);
        let stored = detail(&s, &first["decision_id"]).await;
        assert_eq!(stored["request_id"], "0", "{stored}");
        assert_eq!(stored["context"]["amount"]["value"], "129.99", "{stored}");
        assert_eq!(
            stored["context"]["checkpoint"], "payment.authorize",
            "{stored}"
        );
        assert_eq!(stored["context"]["user_id"], "u-1", "{stored}");
        s.finish().await;
    }
}
