//! The shared graph under concurrent readers and writers, and the reviewer view as JSON.

use std::sync::atomic::{AtomicBool, Ordering};

use arbiter_graph::{Config, EntityKind, LinkGraph, Observation, SharedGraph};
use chrono::{DateTime, TimeDelta, Utc};

use EntityKind::{Address, Card, Device, Ip, User};

fn at(minutes: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_735_689_600, 0).expect("a valid instant")
        + TimeDelta::minutes(minutes)
}

fn decision(i: i64) -> Observation<'static> {
    Observation::new(at(i))
        .with(User, format!("u{}", i % 500))
        .with(Device, format!("d{}", i % 350))
        .with(Card, format!("c{}", (i * 7) % 600))
        .with(Address, format!("a{}", i % 200))
        .with(Ip, format!("10.0.{}.{}", i % 4, i % 9))
}

#[test]
fn readers_score_while_a_writer_observes_and_maintenance_runs() {
    let config = Config {
        entity_cap: 1200,
        window: std::time::Duration::from_secs(3 * 24 * 3600),
        ..Config::default()
    };
    let shared = SharedGraph::new(LinkGraph::new(config));
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        for r in 0..2 {
            let (shared, done) = (&shared, &done);
            s.spawn(move || {
                let mut scored = 0u64;
                while !done.load(Ordering::Relaxed) {
                    let out = shared.score(&decision(scored as i64 * 13 + r));
                    assert!((0.0..=1.0).contains(&out.features.score));
                    scored += 1;
                }
                assert!(scored > 0);
            });
        }
        let writer = s.spawn(|| {
            for i in 0..8_000 {
                shared.observe(&decision(i));
                if i % 2000 == 0 {
                    shared.mark_fraud(User, &format!("u{}", i % 500), "fraud", at(i));
                }
            }
        });
        let mut cycles = 0;
        while !writer.is_finished() {
            let report = shared.maintain(at(4_000));
            assert!(report.chunks >= 1);
            cycles += 1;
        }
        done.store(true, Ordering::Relaxed);
        assert!(cycles >= 1);
    });
    let report = shared.maintain(at(8_000));
    let stats = shared.stats();
    assert!(
        stats.entities <= 1200 + stats.fraud_marks,
        "{stats:?} {report:?}"
    );
    assert!(stats.links > 0);
}

#[test]
fn neighbourhood_view_serialises_what_a_reviewer_needs() {
    let mut g = LinkGraph::new(Config::default());
    for i in 0..6 {
        let o = Observation::new(at(i))
            .with(User, format!("r{i}"))
            .with(Device, "d-ring")
            .with(Card, format!("c{i}"))
            .with(Ip, "192.0.2.7");
        g.observe(&o);
    }
    g.mark_fraud(User, "r0", "chargeback", at(10));
    let view = g.neighbourhood(User, "r1", 2, 4).unwrap();
    assert!(view.truncated);
    assert_eq!(view.neighbours.len(), 4);
    assert_eq!(view.hops_to_fraud, Some(2));
    assert_eq!(view.group.users, 6);
    assert_eq!(view.group.fraud_marked, 1);
    let json = serde_json::to_value(&view).unwrap();
    assert_eq!(
        json["entity"],
        serde_json::json!({"kind": "user", "value": "r1"})
    );
    assert_eq!(json["fraud_mark"], serde_json::Value::Null);
    let first = &json["neighbours"][0];
    for field in [
        "entity",
        "depth",
        "via",
        "fraud_marked",
        "first_seen",
        "last_seen",
        "count",
    ] {
        assert!(
            !first[field].is_null(),
            "neighbour.{field} missing in {first}"
        );
    }
    let whole = g.neighbourhood(User, "r1", 2, 100).unwrap();
    assert!(!whole.truncated);
    assert!(whole.neighbours.iter().all(|n| n.depth <= 2));
    let marked = whole
        .neighbours
        .iter()
        .find(|n| n.entity.value == "r0")
        .unwrap();
    assert!(marked.fraud_marked);
    assert_eq!(marked.via.to_string(), "device:d-ring");
    // The IP is shown but not walked through.
    assert!(
        whole
            .neighbours
            .iter()
            .any(|n| n.entity.kind == Ip && n.depth == 1)
    );
    let r0 = g.neighbourhood(User, "r0", 1, 10).unwrap();
    assert_eq!(r0.fraud_mark.unwrap().reason, "chargeback");
    assert!(g.neighbourhood(User, "nobody", 2, 10).is_none());
}

/// Replicas fold the same decisions in different orders; each entity's view must not show it.
#[test]
fn the_view_is_the_same_whatever_order_the_links_arrived_in() {
    let family: Vec<Observation<'static>> = (0..8)
        .map(|i| {
            let card = if i % 4 < 2 {
                "shared-card".to_owned()
            } else {
                format!("c{}", i % 4)
            };
            Observation::new(at(i))
                .with(User, format!("u{}", i % 4))
                .with(Device, "tablet")
                .with(Card, card)
                .with(Address, "7 Family Road")
                .with(Ip, "192.0.2.10")
        })
        .collect();
    let built = |order: &[usize]| {
        let mut g = LinkGraph::new(Config::default());
        for &i in order {
            g.observe(&family[i]);
        }
        g
    };
    let orders: [&[usize]; 3] = [
        &[0, 1, 2, 3, 4, 5, 6, 7],
        &[7, 6, 5, 4, 3, 2, 1, 0],
        &[1, 0, 3, 2, 5, 4, 7, 6],
    ];
    let graphs: Vec<LinkGraph> = orders.iter().map(|o| built(o)).collect();
    for (kind, value) in [(Device, "tablet"), (User, "u0"), (Card, "shared-card")] {
        for cap in [3, 200] {
            let views: Vec<_> = graphs
                .iter()
                .map(|g| g.neighbourhood(kind, value, 2, cap).expect("known"))
                .collect();
            assert!(
                views.windows(2).all(|w| w[0] == w[1]),
                "{kind:?}:{value} cap {cap}: {views:#?}"
            );
        }
    }
    // Strongest first: the shared card, which four decisions linked to the tablet (each
    // user two). The address is reached through every user by links as strong; the earliest
    // one names the via.
    let view = graphs[0].neighbourhood(Device, "tablet", 2, 200).unwrap();
    let address = view
        .neighbours
        .iter()
        .find(|n| n.entity.kind == Address)
        .expect("address at depth 2");
    assert_eq!(
        (address.via.to_string().as_str(), address.count),
        ("user:u0", 2)
    );
    assert_eq!(view.neighbours[0].entity.to_string(), "card:shared-card");
    assert_eq!(view.neighbours[0].count, 4);
}
