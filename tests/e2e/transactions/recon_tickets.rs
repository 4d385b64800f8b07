//! Working reconciliation tickets over HTTP (issue 20): the run's differences are open
//! tickets, listed and filtered; one is resolved with a note (audited) and only once; a blank
//! note, an unknown ticket and a bad filter are refused naming the problem; running the day
//! again opens nothing new.

use chrono::NaiveDate;
use reqwest::Method;
use serde_json::{Value, json};

use super::reconciliation::{kinds_and_references, run};
use crate::harness::TestServer;

async fn get(s: &TestServer, path: &str) -> (u16, Value) {
    let r = s.call(Method::GET, path, &s.admin_key, None, None).await;
    (r.status, r.body)
}

async fn resolve(s: &TestServer, id: &str, note: &str) -> (u16, Value) {
    let r = s
        .call(
            Method::POST,
            &format!("/v1/reconciliation/issues/{id}/resolve"),
            &s.admin_key,
            None,
            Some(&json!({"note": note})),
        )
        .await;
    (r.status, r.body)
}

/// `planted` (sorted) are the card day's differences the run found.
pub(super) async fn work_the_tickets(
    s: &TestServer,
    date: NaiveDate,
    planted: &[(String, String)],
) {
    let open = format!("/v1/reconciliation/issues?status=OPEN&channel=card&date={date}");
    let (status, page) = get(s, &open).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(kinds_and_references(&page["items"]), planted, "{page}");
    assert!(page["next"].is_null());

    let (_, fee) = get(s, "/v1/reconciliation/issues?kind=fee_unexpected").await;
    let fee = fee["items"][0].clone();
    assert_eq!(fee["status"], "OPEN");
    assert!(fee["line"].as_u64().is_some(), "{fee}");
    assert!(fee["run_id"].as_str().is_some_and(|r| r.starts_with("rr_")));
    let id = fee["id"].as_str().expect("id");

    let (status, blank) = resolve(s, id, "   ").await;
    assert_eq!(status, 422, "{blank}");
    assert!(
        blank["detail"].as_str().is_some_and(|d| d.contains("note")),
        "{blank}"
    );
    let (status, long) = resolve(s, id, &"x".repeat(2_001)).await;
    assert_eq!(status, 422, "{long}");
    let (status, resolved) = resolve(s, id, "  the acquirer's surcharge, agreed by mail  ").await;
    assert_eq!(status, 200, "{resolved}");
    assert_eq!(
        (resolved["status"].as_str(), resolved["note"].as_str()),
        (
            Some("RESOLVED"),
            Some("the acquirer's surcharge, agreed by mail")
        )
    );
    assert!(resolved["closed_at"].is_string());
    let (status, again) = resolve(s, id, "again").await;
    assert_eq!(status, 409, "{again}");
    let (status, unknown) = resolve(s, "rt_none", "x").await;
    assert_eq!(status, 404, "{unknown}");
    let (status, shown) = get(s, &format!("/v1/reconciliation/issues/{id}")).await;
    assert_eq!((status, &shown["status"]), (200, &json!("RESOLVED")));

    let (status, audit) = get(s, "/v1/audit?action=reconciliation.resolve").await;
    assert_eq!(status, 200, "{audit}");
    assert_eq!(audit["items"][0]["target"], id, "{audit}");
    assert_eq!(
        audit["items"][0]["detail"]["note"],
        "the acquirer's surcharge, agreed by mail"
    );
    let (_, runs) = get(s, "/v1/audit?action=reconciliation.run").await;
    assert_eq!(
        runs["items"][0]["detail"]["opened"],
        planted.len(),
        "{runs}"
    );

    // The day again: nothing new, nothing cleared, the resolved one stays resolved.
    let (status, report) = run(s, "card", date).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (report["opened"].as_u64(), report["cleared"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(
        report["settled"], false,
        "a statement is settled once: {report}"
    );
    let (_, page) = get(s, &open).await;
    assert_eq!(
        page["items"].as_array().map(Vec::len),
        Some(planted.len() - 1)
    );
    let (_, one) = get(s, &format!("{open}&limit=1")).await;
    let next = one["next"].as_str().expect("a next page");
    let (_, rest) = get(s, &format!("{open}&before={next}")).await;
    assert_eq!(
        rest["items"].as_array().map(Vec::len),
        Some(planted.len() - 2)
    );

    for bad in [
        "status=DONE",
        "kind=late",
        "channel=paypal",
        "limit=0",
        "date=yesterday",
    ] {
        let (status, refused) = get(s, &format!("/v1/reconciliation/issues?{bad}")).await;
        assert_eq!(status, 400, "{bad}: {refused}");
    }
}
