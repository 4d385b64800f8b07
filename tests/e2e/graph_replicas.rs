//! Every replica sees every link (issue 18): three `arbiter` processes on one PostgreSQL
//! database and one Redis, fed round-robin with the ring, household and card-testing scenarios
//! of `graph/tests/scenarios.rs` through the HTTP API, one of them killed mid-traffic and
//! restarted, a fraud label and a block-list entry made while it is down. Shortly after the
//! last decision every replica shows, for every entity of the scenarios, the neighbourhood a
//! single replica shows that served the same traffic alone, and the three show exactly the
//! same graph (instants included). Needs `DATABASE_URL` and `REDIS_URL` (CI sets both).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{Api, Arbiter, Backend, TestDb, decision_body, start_arbiter};

/// How long the replicas may take to agree after the last decision. The feed's lag is about a
/// poll interval (100 ms) plus the batch commit (BENCHMARKS.md, "Link graph across replicas";
/// 200–320 ms in this test alone). The rest is slack for a shared server: the feed waits for
/// the oldest transaction running anywhere on it, and other tests cut connections mid-query
/// (`db_outage`), which holds that horizon until the server notices.
const CONVERGE_WITHIN: Duration = Duration::from_secs(30);

/// One decision's entities: user, device, card, e-mail, shipping address, IP and phone.
struct Seen<'a> {
    user: &'a str,
    device: &'a str,
    card: &'a str,
    email: String,
    address: &'a str,
    ip: String,
    phone: Option<&'a str>,
}

fn body(request_id: &str, s: &Seen<'_>) -> Value {
    let mut v = decision_body(request_id);
    v["user"]["id"] = json!(s.user);
    v["user"]["email"] = json!(s.email);
    match s.phone {
        Some(p) => v["user"]["phone"] = json!(p),
        None => {
            v["user"].as_object_mut().expect("user").remove("phone");
        }
    }
    v["device"]["id"] = json!(s.device);
    v["device"]["ip"] = json!(s.ip);
    v["payment"]["card_fingerprint"] = json!(s.card);
    v["shipping"]["address"] = json!(s.address);
    v
}

/// The traffic, in order, with where replica 3 dies and comes back.
enum Step {
    Decide(String, Value),
    Kill,
    /// A fraud label on the decision of this request id, and a block-list entry.
    Mark(String),
    Restart,
}

fn traffic() -> Vec<Step> {
    let mut steps = Vec::new();
    let ring = |i: usize, round: usize| {
        let (u, d, c, a) = (
            format!("ring-u{i}"),
            format!("ring-d{}", i % 3),
            format!("ring-c{i}"),
            format!("ring-a{} Main St", i % 2),
        );
        let seen = Seen {
            user: &u,
            device: &d,
            card: &c,
            email: format!("ring{i}@mail.test"),
            address: &a,
            ip: format!("203.0.113.{i}"),
            phone: None,
        };
        Step::Decide(
            format!("ring-{round}-{i}"),
            body(&format!("ring-{round}-{i}"), &seen),
        )
    };
    steps.extend((0..20).map(|i| ring(i, 0)));
    steps.push(Step::Kill);
    steps.extend((0..20).map(|i| ring(i, 1)));
    steps.push(Step::Mark("ring-0-0".into()));
    for round in 0..2 {
        for i in 0..4 {
            let u = format!("fam-u{i}");
            let card = if i < 2 {
                "fam-shared-card".to_owned()
            } else {
                format!("fam-c{i}")
            };
            let seen = Seen {
                user: &u,
                device: "fam-tablet",
                card: &card,
                email: format!("fam{i}@mail.test"),
                address: "7 Family Road",
                ip: "192.0.2.10".into(),
                phone: Some(if i < 2 {
                    "+1 555 100 0000"
                } else {
                    "+1 555 100 0001"
                }),
            };
            let id = format!("fam-{round}-{i}");
            steps.push(Step::Decide(id.clone(), body(&id, &seen)));
        }
    }
    steps.push(Step::Restart);
    for i in 0..15 {
        let card = format!("ct-c{i}");
        let seen = Seen {
            user: "ct-u",
            device: "ct-d",
            card: &card,
            email: "ct@mail.test".into(),
            address: "9 Test Lane",
            ip: "198.51.100.9".into(),
            phone: None,
        };
        let id = format!("ct-{i}");
        steps.push(Step::Decide(id.clone(), body(&id, &seen)));
    }
    steps
}

/// The entities whose neighbourhoods are compared.
const ENTITIES: &[(&str, &str)] = &[
    ("device", "ring-d0"),
    ("device", "ring-d1"),
    ("device", "ring-d2"),
    ("user", "ring-u0"),
    ("user", "ring-u5"),
    ("card", "ring-c7"),
    ("device", "fam-tablet"),
    ("card", "fam-shared-card"),
    ("device", "ct-d"),
    ("user", "ct-u"),
];

impl Api {
    async fn post(&self, base: &str, path: &str, body: &Value) {
        let r = self
            .client
            .post(format!("{base}{path}"))
            .bearer_auth(&self.key)
            .json(body)
            .send()
            .await
            .expect("send");
        assert_eq!(
            r.status(),
            201,
            "{path}: {}",
            r.text().await.unwrap_or_default()
        );
    }

    /// Every compared entity's neighbourhood on one server, `null` for an unknown one.
    async fn views(&self, base: &str) -> Vec<Value> {
        let mut out = Vec::new();
        for (kind, value) in ENTITIES {
            let r = self
                .client
                .get(format!("{base}/v1/graph/entities/{kind}/{value}"))
                .bearer_auth(&self.key)
                .send()
                .await
                .expect("send");
            out.push(if r.status() == 404 {
                Value::Null
            } else {
                r.json().await.expect("json")
            });
        }
        out
    }
}

/// A view as it must be the same on every replica, whatever order each folded the decisions
/// in: all of it but the instant each replica applied a mark at (each applies it when it
/// hears of it).
fn replica_form(views: &[Value]) -> Vec<Value> {
    views
        .iter()
        .map(|v| {
            let mut v = v.clone();
            if let Some(mark) = v.get_mut("fraud_mark").and_then(Value::as_object_mut) {
                mark.remove("marked_at");
            }
            v
        })
        .collect()
}

/// A view as it must be the same on a single replica that served the traffic alone (another
/// run, so other instants and decision ids): what the graph's features are read from. Without
/// the instants, and so without `via`: among equally strong links the view names the earliest
/// (to the second), and the other run's seconds fall elsewhere.
fn reference_form(views: &[Value]) -> Vec<Value> {
    replica_form(views)
        .into_iter()
        .map(|mut v| {
            if let Some(o) = v.as_object_mut() {
                o.remove("first_seen");
                o.remove("last_seen");
                if let Some(mark) = o.get_mut("fraud_mark").and_then(Value::as_object_mut) {
                    mark.remove("reason");
                }
                if let Some(ns) = o.get_mut("neighbours").and_then(Value::as_array_mut) {
                    for n in ns.iter_mut().filter_map(Value::as_object_mut) {
                        n.remove("first_seen");
                        n.remove("last_seen");
                        n.remove("via");
                    }
                }
            }
            v
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_replicas_hold_the_graph_one_replica_holds_also_after_a_kill() {
    let (Ok(pg), Ok(redis)) = (std::env::var("DATABASE_URL"), std::env::var("REDIS_URL")) else {
        eprintln!("graph replicas: needs DATABASE_URL and REDIS_URL; not run");
        return;
    };
    let backend = Backend::Postgres { admin_url: pg };
    let (db, alone_db) = (TestDb::new(&backend).await, TestDb::new(&backend).await);
    let prefix = format!("arbiter-e2e-{}:", uuid::Uuid::now_v7().simple());
    let args = [
        "--redis-url",
        redis.as_str(),
        "--redis-prefix",
        prefix.as_str(),
    ];
    let mut replicas: Vec<Option<Arbiter>> = Vec::new();
    for _ in 0..3 {
        replicas.push(Some(start_arbiter(&db, &args, &[]).await));
    }
    let alone = start_arbiter(&alone_db, &[], &[]).await;
    let shared = Api::new(db.admin_key());
    let single = Api::new(alone_db.admin_key());
    for r in replicas.iter().flatten() {
        let ready = r.readyz().await;
        assert_eq!(ready["graph"]["following"], true, "{ready}");
    }

    // Decision ids by request id, on the shared database and on the single replica's.
    let mut ids: std::collections::HashMap<String, (String, String)> = Default::default();
    let mut turn = 0usize;
    let mut last_decision = Instant::now();
    for step in traffic() {
        match step {
            Step::Decide(request_id, body) => {
                let up: Vec<String> = replicas.iter().flatten().map(|r| r.base.clone()).collect();
                let base = &up[turn % up.len()];
                turn += 1;
                let d = shared.decide(base, &body).await;
                let a = single.decide(&alone.base, &body).await;
                let id = |v: &Value| v["decision_id"].as_str().expect("id").to_owned();
                ids.insert(request_id, (id(&d), id(&a)));
                last_decision = Instant::now();
            }
            Step::Kill => replicas[2].take().expect("replica 3").kill().await,
            Step::Mark(request_id) => {
                let (on_shared, on_single) = &ids[&request_id];
                let base = replicas[0].as_ref().expect("replica 1").base.clone();
                for (client, base, id) in [
                    (&shared, base.as_str(), on_shared),
                    (&single, alone.base.as_str(), on_single),
                ] {
                    let label = json!({"decision_id": id, "label": "fraud", "source": "analyst"});
                    client.post(base, "/v1/labels", &label).await;
                    let block = json!({"list": "block", "kind": "card", "value": "ring-c7",
                                       "reason": "ring card"});
                    client.post(base, "/v1/lists/entries", &block).await;
                }
            }
            Step::Restart => replicas[2] = Some(start_arbiter(&db, &args, &[]).await),
        }
    }

    let bases: Vec<String> = replicas.iter().flatten().map(|r| r.base.clone()).collect();
    assert_eq!(bases.len(), 3);
    let want = single.views(&alone.base).await;
    // The scenarios are in the single replica's graph as the scenario tests expect them.
    assert_eq!(want[0]["distinct_users"], 7, "ring-d0: {}", want[0]);
    assert!(
        want[3]["fraud_mark"].is_object(),
        "ring-u0 labelled: {}",
        want[3]
    );
    assert!(
        want[5]["fraud_mark"].is_object(),
        "ring-c7 blocked: {}",
        want[5]
    );
    assert_eq!(want[6]["distinct_users"], 4, "fam-tablet: {}", want[6]);
    assert_eq!(want[8]["distinct_cards"], 15, "ct-d: {}", want[8]);
    let want = reference_form(&want);

    loop {
        let mut all = Vec::new();
        for base in &bases {
            all.push(shared.views(base).await);
        }
        let agree = all.iter().all(|v| reference_form(v) == want)
            && all
                .windows(2)
                .all(|w| replica_form(&w[0]) == replica_form(&w[1]));
        if agree {
            eprintln!(
                "graph replicas: agreed {} ms after the last decision",
                last_decision.elapsed().as_millis()
            );
            break;
        }
        if last_decision.elapsed() > CONVERGE_WITHIN {
            for (i, views) in all.iter().enumerate().skip(1) {
                for (j, (got, first)) in replica_form(views)
                    .iter()
                    .zip(replica_form(&all[0]))
                    .enumerate()
                {
                    if *got != first {
                        eprintln!(
                            "replica {} against replica 1, {:?}:\n{}",
                            i + 1,
                            ENTITIES[j],
                            differences(got, &first, "").join("\n")
                        );
                    }
                }
            }
            for (i, (views, base)) in all.iter().zip(&bases).enumerate() {
                for (j, (got, want)) in reference_form(views).iter().zip(&want).enumerate() {
                    if got != want {
                        eprintln!(
                            "replica {} ({base}) {:?} differs from the single replica:\n{}",
                            i + 1,
                            ENTITIES[j],
                            differences(got, want, "").join("\n")
                        );
                    }
                }
            }
            panic!("the replicas did not agree within {CONVERGE_WITHIN:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for r in replicas.iter().flatten() {
        let ready = r.readyz().await;
        assert_eq!(ready["status"], "ready", "{ready}");
        assert_eq!(ready["graph"]["following"], true, "{ready}");
    }
    let metrics = reqwest::get(format!("{}/metrics", bases[0]))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("arbiter_graph_followed_total"),
        "replica 1 followed the others"
    );
}

/// Where `got` and `want` differ, one line per path (`neighbours[3].fraud_marked: true ≠
/// false`), so a failure says what differs rather than printing both views whole.
fn differences(got: &Value, want: &Value, path: &str) -> Vec<String> {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => {
            let mut keys: Vec<&String> = g.keys().chain(w.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .flat_map(|k| {
                    let (a, b) = (
                        g.get(k).unwrap_or(&Value::Null),
                        w.get(k).unwrap_or(&Value::Null),
                    );
                    differences(a, b, &format!("{path}.{k}"))
                })
                .collect()
        }
        (Value::Array(g), Value::Array(w)) if g.len() == w.len() => g
            .iter()
            .zip(w)
            .enumerate()
            .flat_map(|(i, (a, b))| differences(a, b, &format!("{path}[{i}]")))
            .collect(),
        (g, w) if g == w => Vec::new(),
        (g, w) => vec![format!("  {path}: got {g} want {w}")],
    }
}

/// Waits until every server in `bases` shows the same graph as `bases[0]` for every compared
/// entity; how long that took.
async fn agree(client: &Api, bases: &[String], within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let first = replica_form(&client.views(&bases[0]).await);
        let mut same = true;
        for base in &bases[1..] {
            same &= replica_form(&client.views(base).await) == first;
        }
        if same {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < within,
            "the replicas did not agree within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replica_cut_off_from_the_database_catches_up_from_where_it_stood() {
    let Ok(pg) = std::env::var("DATABASE_URL") else {
        eprintln!("graph replicas: needs DATABASE_URL; not run");
        return;
    };
    let mut db = TestDb::new(&Backend::Postgres { admin_url: pg }).await;
    let a = start_arbiter(&db, &[], &[]).await;
    // The second replica reaches the same database through a proxy that can be cut.
    let url = db.database_url.clone().expect("pg url");
    let host_port = url
        .split_once('@')
        .expect("user@host")
        .1
        .split('/')
        .next()
        .expect("host:port")
        .to_owned();
    let proxy = crate::tcp_proxy::Proxy::start(host_port.clone()).await;
    db.database_url = Some(url.replacen(&host_port, &format!("127.0.0.1:{}", proxy.port), 1));
    let b = start_arbiter(&db, &[], &[]).await;
    db.database_url = Some(url);
    let client = Api::new(db.admin_key());
    let bases = vec![a.base.clone(), b.base.clone()];

    let steps: Vec<(String, Value)> = traffic()
        .into_iter()
        .filter_map(|s| match s {
            Step::Decide(id, body) => Some((id, body)),
            _ => None,
        })
        .collect();
    let (before, during) = steps.split_at(20);
    for (_, body) in before {
        client.decide(&a.base, body).await;
    }
    agree(&client, &bases, CONVERGE_WITHIN).await;

    proxy.cut();
    for (_, body) in during {
        client.decide(&a.base, body).await;
    }
    let cut_off = reqwest::get(format!("{}/readyz", b.base))
        .await
        .expect("readyz")
        .status();
    assert_eq!(cut_off, 503, "a replica without its database is not ready");
    tokio::time::sleep(Duration::from_millis(500)).await;
    proxy.pass();
    // The pool reconnects on its own; the follower goes on from its position.
    let took = agree(&client, &bases, Duration::from_secs(30)).await;
    eprintln!(
        "graph replicas: caught up {} ms after the database came back",
        took.as_millis()
    );
    // The follower says it follows again at its next successful poll, which may come a
    // moment after the views agree (they can agree from what it read before the cut).
    let mut ready = b.readyz().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while ready["graph"]["following"] != true && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        ready = b.readyz().await;
    }
    assert_eq!(ready["graph"]["following"], true, "{ready}");
    assert!(
        ready["graph"]["behind_seconds"].as_f64().expect("behind") < 5.0,
        "{ready}"
    );
    let metrics = reqwest::get(format!("{}/metrics", b.base))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let followed: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("arbiter_graph_followed_total "))
        .and_then(|v| v.trim().parse().ok())
        .expect("followed counter");
    assert_eq!(
        followed as usize,
        steps.len(),
        "every decision of the other replica followed once, none twice"
    );
}
