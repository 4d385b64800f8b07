//! The reviewer console, end to end: in a real headless Chromium a reviewer signs in, takes the
//! next case with the keyboard, sees the linked entities and why the model scored it, resolves
//! with one key (and undoes another within the window), snoozes a rule and sees the next
//! decision skip it, and signs out; two reviewers pressing "next" at once get different
//! cases. Over plain HTTP: forms without the CSRF token are refused, a session cookie is no API
//! key, and a key without `review` cannot sign in.

mod browser;

use std::time::Duration;

use fantoccini::Locator;
use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::{Value, json};

use crate::feedback::{challenged_body, decide};
use crate::harness::{TestServer, backends};
use crate::model_loop::{activate, labelled_stream, train};
use crate::review_queue::lone_challenge;
use browser::{Driver, count, press, screenshot, sign_in, text, wait_for_path};

async fn review_of(s: &TestServer, review_id: &str) -> Value {
    s.admin_get(&format!("/v1/reviews/{review_id}")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewer_works_the_queue_in_the_browser() {
    let driver = Driver::start().await;
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        // A model, so the case explains its score.
        labelled_stream(&s, 200).await;
        activate(&s, train(&s).await).await;
        let reviewer = s.key(&["review"]).await;
        lone_challenge(&s, "web-1", "web-ann").await;
        lone_challenge(&s, "web-2", "web-bob").await;
        lone_challenge(&s, "web-3", "web-cy").await;

        let b = driver.browser().await;
        let base = s.url("");
        let base = base.trim_end_matches('/');
        sign_in(&b, base, &reviewer).await;
        assert!(count(&b, "#queue tbody tr").await >= 3);
        screenshot(&b, "console-queue.png").await;

        // n: the next case, held by this reviewer.
        press(&b, "n").await;
        let path = wait_for_path(&b, "/console/cases/", Duration::from_secs(5)).await;
        let first = path.trim_start_matches("/console/cases/").to_owned();
        assert!(text(&b, "#held").await.contains("held by you"));
        assert!(
            count(&b, "#linked svg circle").await >= 2,
            "the user and its links"
        );
        assert!(
            count(&b, "#model tr.contribution").await >= 1,
            "why the model scored it"
        );
        assert!(text(&b, "#decision").await.contains("risk points"));
        assert!(text(&b, "#decision").await.contains("challenge band"));
        screenshot(&b, "console-case.png").await;

        // From the device's node to the decisions that named it, to one of them, and back to
        // its case: the claim still holds.
        assert!(text(&b, "#usual").await.contains("no earlier decisions"));
        b.find(Locator::Css("#linked a[href^='/console/entities/device/']"))
            .await
            .expect("the device's node")
            .click()
            .await
            .expect("click");
        wait_for_path(&b, "/console/entities/device/", Duration::from_secs(5)).await;
        assert_eq!(
            count(&b, "#decisions tbody tr").await,
            1,
            "the one decision from that device"
        );
        b.find(Locator::Css("#decisions tbody a"))
            .await
            .expect("the decision")
            .click()
            .await
            .expect("click");
        wait_for_path(&b, "/console/decisions/", Duration::from_secs(5)).await;
        assert!(text(&b, "#decision").await.contains("risk points"));
        b.find(Locator::Css("#case"))
            .await
            .expect("its case")
            .click()
            .await
            .expect("click");
        let back = wait_for_path(&b, "/console/cases/", Duration::from_secs(5)).await;
        assert_eq!(back.trim_start_matches("/console/cases/"), first);
        assert!(text(&b, "#held").await.contains("held by you"));

        // f: fraud, sent after the undo window.
        press(&b, "f").await;
        assert!(text(&b, "#toast").await.contains("undo"));
        wait_for_path(&b, "/console/queue", Duration::from_secs(10)).await;
        assert!(text(&b, "#done").await.contains(&first));
        let resolved = review_of(&s, &first).await;
        assert_eq!(resolved["status"], "resolved", "{resolved}");
        assert_eq!(resolved["resolution"]["label"], "fraud");
        assert_eq!(
            resolved["resolution"]["reviewer"], "test review",
            "the key's name"
        );

        // l, then u within the window: nothing is sent.
        press(&b, "n").await;
        let path = wait_for_path(&b, "/console/cases/", Duration::from_secs(5)).await;
        let second = path.trim_start_matches("/console/cases/").to_owned();
        assert_ne!(second, first);
        press(&b, "l").await;
        press(&b, "u").await;
        tokio::time::sleep(Duration::from_millis(6000)).await;
        assert_eq!(review_of(&s, &second).await["status"], "open", "undone");

        // Snooze the rule that challenged this customer; their next payment is not held.
        let user = review_of(&s, &second).await["decision"]["user_id"]
            .as_str()
            .expect("user")
            .to_owned();
        b.find(Locator::Css("#snooze input[name=reason]"))
            .await
            .expect("reason")
            .send_keys("known customer, VPN at work")
            .await
            .expect("type");
        b.find(Locator::Css("#snooze button[type=submit]"))
            .await
            .expect("snooze")
            .click()
            .await
            .expect("click");
        // The form posts back to this same page: wait for the new page's message, not the path.
        b.wait()
            .at_most(Duration::from_secs(5))
            .for_element(Locator::Css(".flash"))
            .await
            .expect("the snooze's message");
        assert!(
            text(&b, ".flash").await.contains("snoozed"),
            "{}",
            text(&b, ".flash").await
        );
        let mut again = challenged_body("web-again", &user);
        again["device"]["id"] = json!(format!("dev-{user}"));
        again["payment"]["card_fingerprint"] = json!(format!("fp-{user}"));
        let next = decide(&s, &again).await;
        let codes: Vec<&str> = next["reasons"]
            .as_array()
            .expect("reasons")
            .iter()
            .filter_map(|r| r["code"].as_str())
            .collect();
        assert!(
            !codes.contains(&"network.proxy_high_value"),
            "the snoozed rule no longer speaks for them: {next}"
        );
        let recorded = s
            .admin_get(&format!(
                "/v1/decisions/{}",
                next["decision_id"].as_str().expect("id")
            ))
            .await;
        assert_eq!(
            recorded["context"]["snoozed_rules"],
            json!(["proxy_high_value"]),
            "{recorded}"
        );

        // The snoozes page lists it and ends it.
        b.goto(&format!("{base}/console/snoozes"))
            .await
            .expect("snoozes");
        assert_eq!(count(&b, "#snoozes tbody tr").await, 1);
        b.find(Locator::Css("#snoozes button"))
            .await
            .expect("end now")
            .click()
            .await
            .expect("click");
        // The form posts back to this same page: wait for the row to go, not for the path.
        let start = std::time::Instant::now();
        while count(&b, "#snoozes tbody tr").await != 0 {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "the snooze is still listed"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let live = s.admin_get("/v1/snoozes").await;
        assert_eq!(live["items"], json!([]), "ended for the pipeline too");

        // Sign out: the queue sends the browser back to sign in.
        b.find(Locator::Css("header form button"))
            .await
            .expect("sign out")
            .click()
            .await
            .expect("click");
        wait_for_path(&b, "/console/sign-in", Duration::from_secs(5)).await;
        b.goto(&format!("{base}/console/queue"))
            .await
            .expect("queue");
        wait_for_path(&b, "/console/sign-in", Duration::from_secs(5)).await;
        b.close().await.expect("close");
        s.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_reviewers_pressing_next_at_once_get_different_cases() {
    let driver = Driver::start().await;
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        for i in 0..4 {
            lone_challenge(&s, &format!("two-{i}"), &format!("two-u{i}")).await;
        }
        let (ann, bob) = (s.key(&["review"]).await, s.key(&["review"]).await);
        let (a, b) = (driver.browser().await, driver.browser().await);
        let base = s.url("");
        let base = base.trim_end_matches('/');
        sign_in(&a, base, &ann).await;
        sign_in(&b, base, &bob).await;
        for _ in 0..2 {
            tokio::join!(press(&a, "n"), press(&b, "n"));
            let (pa, pb) = tokio::join!(
                wait_for_path(&a, "/console/cases/", Duration::from_secs(5)),
                wait_for_path(&b, "/console/cases/", Duration::from_secs(5))
            );
            assert_ne!(pa, pb, "one case to two reviewers");
            for c in [&a, &b] {
                c.goto(&format!("{base}/console/queue"))
                    .await
                    .expect("queue");
            }
        }
        a.close().await.expect("close");
        b.close().await.expect("close");
        s.finish().await;
    }
}

/// Signs in over plain HTTP; the session cookie (`name=value`) and the CSRF token on the queue.
async fn http_sign_in(s: &TestServer, key: &str) -> (String, String) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let r = client
        .post(s.url("/console/sign-in"))
        .form(&[("key", key)])
        .send()
        .await
        .expect("sign in");
    assert_eq!(r.status(), 303);
    let set = r.headers()[SET_COOKIE].to_str().expect("cookie").to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/console", "Max-Age="] {
        assert!(set.contains(attribute), "{attribute} in {set}");
    }
    let cookie = set.split(';').next().expect("name=value").to_owned();
    let queue = client
        .get(s.url("/console/queue"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .expect("queue");
    // Never framed (one-key actions), scripts from here only, pages with personal data
    // never cached.
    let h = queue.headers();
    assert_eq!(h["x-frame-options"], "DENY");
    let policy = h["content-security-policy"].to_str().expect("policy");
    assert!(policy.contains("frame-ancestors 'none'") && policy.contains("default-src 'self'"));
    assert_eq!(h["cache-control"], "no-store");
    let page = queue.text().await.expect("html");
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a CSRF token on the page")
        .to_owned();
    (cookie, csrf)
}

#[tokio::test]
async fn forms_need_the_csrf_token_and_a_session_is_no_api_key() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let reviewer = s.key(&["review"]).await;
        let d = lone_challenge(&s, "csrf-1", "csrf-user").await;
        let rid = format!(
            "rev_{}",
            d["decision_id"]
                .as_str()
                .expect("id")
                .trim_start_matches("dec_")
        );
        let (cookie, csrf) = http_sign_in(&s, &reviewer).await;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let resolve = s.url(&format!("/console/cases/{rid}/resolve"));

        for form in [
            vec![("verdict", "fraud")],
            vec![("verdict", "fraud"), ("csrf", "not-the-token")],
        ] {
            let r = client
                .post(&resolve)
                .header(COOKIE, &cookie)
                .form(&form)
                .send()
                .await
                .expect("post");
            assert_eq!(r.status(), 403, "{form:?}");
        }
        assert_eq!(
            review_of(&s, &rid).await["status"],
            "open",
            "nothing resolved"
        );
        let ok = client
            .post(&resolve)
            .header(COOKIE, &cookie)
            .form(&[("verdict", "fraud"), ("csrf", csrf.as_str())])
            .send()
            .await
            .expect("post");
        assert_eq!(ok.status(), 303);
        assert_eq!(review_of(&s, &rid).await["status"], "resolved");

        // The cookie's value is no bearer key, and the API ignores the cookie.
        let value = cookie.split_once('=').expect("value").1;
        let r = s.get("/v1/reviews", value).await;
        assert_eq!(r.status(), 401);
        let r = client
            .get(s.url("/v1/reviews"))
            .header(COOKIE, &cookie)
            .send()
            .await
            .expect("get");
        assert_eq!(r.status(), 401);

        // Keys without `review` do not sign in; the old reviewer pair neither.
        for scopes in [vec!["decide"], vec!["label:write", "decisions:read"]] {
            let key = s.key(&scopes).await;
            let r = client
                .post(s.url("/console/sign-in"))
                .form(&[("key", key.as_str())])
                .send()
                .await
                .expect("sign in");
            assert_eq!(r.status(), 401, "{scopes:?}");
            assert!(r.headers().get(SET_COOKIE).is_none());
            assert!(r.text().await.expect("html").contains("review"));
        }

        // Revoking the key ends its sessions.
        let keys = s.admin_get("/v1/keys").await;
        let id = keys
            .as_array()
            .expect("keys")
            .iter()
            .find(|k| k["scopes"] == json!(["review"]))
            .and_then(|k| k["id"].as_str())
            .expect("the reviewer's key")
            .to_owned();
        let r = s
            .post(&format!("/v1/keys/{id}/revoke"), &s.admin_key, &json!({}))
            .await;
        assert_eq!(r.status(), 200);
        let r = client
            .get(s.url("/console/queue"))
            .header(COOKIE, &cookie)
            .send()
            .await
            .expect("get");
        assert_eq!(r.status(), 303, "a revoked key's session is over");
        s.finish().await;
    }
}

#[tokio::test]
async fn the_outcomes_and_entity_pages_draw_what_the_api_reports() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let reviewer = s.key(&["review"]).await;
        let d = lone_challenge(&s, "out-1", "out-user").await;
        let rid = format!(
            "rev_{}",
            d["decision_id"]
                .as_str()
                .expect("id")
                .trim_start_matches("dec_")
        );
        let r = s
            .post(
                &format!("/v1/reviews/{rid}/resolve"),
                &reviewer,
                &json!({"outcome": "reject", "label": "fraud"}),
            )
            .await;
        assert_eq!(r.status(), 200);
        let (cookie, _) = http_sign_in(&s, &reviewer).await;
        let client = reqwest::Client::new();
        let page_at = |path: String| {
            let (client, cookie, url) = (client.clone(), cookie.clone(), s.url(&path));
            async move {
                let r = client
                    .get(url)
                    .header(COOKIE, cookie)
                    .send()
                    .await
                    .expect("get");
                (r.status().as_u16(), r.text().await.expect("html"))
            }
        };
        let page = |path: &'static str| page_at(path.to_owned());
        let (status, html) = page("/console/outcomes").await;
        assert_eq!(status, 200);
        assert!(html.contains("<svg id=\"daily\""), "the per-day chart");
        assert!(html.contains("<rect"), "with bars");
        let report = s.admin_get("/v1/reports/outcomes").await;
        let p50 = report["review_turnaround"]["p50_secs"]
            .as_f64()
            .expect("p50");
        assert!(
            html.contains(&format!("{:.1} min", p50 / 60.0)),
            "the page shows the report's p50"
        );
        let (status, html) = page("/console/entities/user/out-user").await;
        assert_eq!(status, 200);
        assert!(
            html.contains("node-fraud"),
            "the fraud label marks the user: drawn red"
        );
        let decision_id = d["decision_id"].as_str().expect("id");
        assert!(
            html.contains(&format!("/console/decisions/{decision_id}")),
            "the entity page lists the decision"
        );
        let (status, html) = page_at(format!("/console/decisions/{decision_id}")).await;
        assert_eq!(status, 200);
        assert!(
            html.contains(&format!("/console/cases/{rid}")),
            "a challenge links its case"
        );
        assert!(
            html.contains("id=\"usual\""),
            "with the customer's usual behaviour"
        );
        let (status, html) = page("/console/cases/rev_nope").await;
        assert_eq!(status, 404);
        assert!(html.contains("not found"), "an error page, not JSON");
        s.finish().await;
    }
}
