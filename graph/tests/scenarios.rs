//! Hand-built scenarios: what fraud looks like to the graph (a ring, card testing, proximity
//! to a labelled fraudster) and what ordinary life looks like (a family, an office IP).

use std::time::Duration;

use arbiter_graph::{Config, EntityKind, LinkGraph, Observation, ReasonCode, Scored};
use chrono::{DateTime, TimeDelta, Utc};

use EntityKind::{Address, Card, Device, Email, Ip, Phone, User};

fn at(minutes: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_735_689_600, 0).expect("a valid instant")
        + TimeDelta::minutes(minutes)
}

const DAY: i64 = 24 * 60;

fn obs<'a>(t: DateTime<Utc>, entities: &[(EntityKind, &'a str)]) -> Observation<'a> {
    entities
        .iter()
        .fold(Observation::new(t), |o, &(k, v)| o.with(k, v))
}

/// Scores, then links, as the pipeline does.
fn decide(g: &mut LinkGraph, o: &Observation<'_>) -> Scored {
    let s = g.score(o);
    g.observe(o);
    s
}

/// Ordinary customers around whatever a test plants, so groups are not alone in the graph.
fn background(g: &mut LinkGraph) {
    for i in 0..40 {
        let (u, d, c, e, a) = (
            format!("bg-u{i}"),
            format!("bg-d{i}"),
            format!("bg-c{i}"),
            format!("bg{i}@mail.test"),
            format!("bg-a{}", i / 2),
        );
        for day in 0..3 {
            let o = obs(
                at(day * DAY + i),
                &[
                    (User, &u),
                    (Device, &d),
                    (Card, &c),
                    (Email, &e),
                    (Address, &a),
                ],
            );
            g.observe(&o.with(Ip, format!("198.51.100.{}", i % 7)));
        }
    }
}

#[test]
fn ring_of_twenty_over_three_devices_is_flagged_for_the_other_nineteen() {
    let mut g = LinkGraph::new(Config::default());
    background(&mut g);
    let users: Vec<String> = (0..20).map(|i| format!("ring-u{i}")).collect();
    let ring = |i: usize, t: DateTime<Utc>| -> Observation<'static> {
        Observation::new(t)
            .with(User, users[i].clone())
            .with(Device, format!("ring-d{}", i % 3))
            .with(Address, format!("ring-a{}", i % 2))
            .with(Card, format!("ring-c{i}"))
            .with(Email, format!("ring{i}@mail.test"))
            .with(Ip, format!("203.0.113.{i}"))
    };
    for day in 0..2 {
        for i in 0..20 {
            g.observe(&ring(i, at(day * DAY + 10 * i as i64)));
        }
    }
    assert!(g.mark_fraud(User, "ring-u0", "chargeback", at(3 * DAY)));
    for i in 1..20 {
        let s = g.score(&ring(i, at(4 * DAY + i as i64)));
        assert!(
            s.has(ReasonCode::FraudRing) || s.has(ReasonCode::NearFraud),
            "ring-u{i}: {s:?}"
        );
        assert!(s.features.score >= 0.7, "ring-u{i}: {s:?}");
        assert_eq!(s.features.group_users, 20, "ring-u{i}: {s:?}");
        let ring_reason = s.reasons.iter().find(|r| r.code == ReasonCode::FraudRing);
        assert!(ring_reason.is_some_and(|r| r.detail.contains("shared ")));
    }
    // The fraudster's device-mates are two hops away and told which entity links them.
    let s = g.score(&ring(3, at(5 * DAY)));
    assert_eq!(s.features.hops_to_fraud, Some(2));
    assert!(
        s.reasons
            .iter()
            .any(|r| r.code == ReasonCode::NearFraud && r.detail.contains("device:ring-d0 hops=2"))
    );
    // The background stays clean.
    let bg = obs(
        at(5 * DAY),
        &[(User, "bg-u3"), (Device, "bg-d3"), (Card, "bg-c3")],
    );
    assert_eq!(g.score(&bg).features.score, 0.0);
}

#[test]
fn family_of_three_and_household_of_four_stay_low() {
    for size in [3, 4] {
        let mut g = LinkGraph::new(Config::default());
        background(&mut g);
        let members: Vec<String> = (0..size).map(|i| format!("fam-u{i}")).collect();
        let decision = |i: usize, t| {
            obs(
                t,
                &[
                    (User, &members[i]),
                    (Device, "fam-tablet"),
                    (Address, "fam-home"),
                ],
            )
            .with(
                Card,
                if i < 2 {
                    "fam-shared-card".into()
                } else {
                    format!("fam-c{i}")
                },
            )
            .with(Email, format!("fam{i}@mail.test"))
            .with(Phone, if i < 2 { "+100" } else { "+101" })
            .with(Ip, "192.0.2.10")
        };
        for week in 0..8 {
            for i in 0..size {
                g.observe(&decision(i, at(week * 7 * DAY + i as i64 * 60)));
            }
        }
        for i in 0..size {
            let s = decide(&mut g, &decision(i, at(60 * DAY)));
            assert!(s.reasons.is_empty(), "household of {size}: {s:?}");
            assert!(s.features.score < 0.1, "household of {size}: {s:?}");
            assert_eq!(s.features.users_per_device, size as u32);
            assert_eq!(s.features.group_users, size as u32);
        }
    }
}

#[test]
fn device_cycling_fifteen_cards_in_an_hour_is_card_testing() {
    let mut g = LinkGraph::new(Config::default());
    background(&mut g);
    // A month of ordinary use first: one card.
    for day in 0..30 {
        g.observe(&obs(
            at(day * DAY),
            &[(User, "ct-u"), (Device, "ct-d"), (Card, "ct-own")],
        ));
    }
    let start = 31 * DAY;
    let mut flagged = Vec::new();
    for i in 0..15 {
        let card = format!("ct-c{i}");
        let s = decide(
            &mut g,
            &obs(
                at(start + 4 * i),
                &[(User, "ct-u"), (Device, "ct-d"), (Card, &card)],
            ),
        );
        flagged.push(s.has(ReasonCode::CardTesting));
        if i == 14 {
            assert!(s.features.score >= 0.6, "{s:?}");
            assert_eq!(s.features.cards_per_device, 15);
            let r = s.reasons.iter().find(|r| r.code == ReasonCode::CardTesting);
            assert!(
                r.is_some_and(|r| r.detail.starts_with("device:ct-d ")),
                "{s:?}"
            );
        }
    }
    assert_eq!(
        &flagged[..4],
        &[false; 4],
        "the first few cards are ordinary"
    );
    assert!(flagged[14]);
    // An ordinary device adding a second card a month later is not card testing.
    g.observe(&obs(
        at(0),
        &[(User, "calm-u"), (Device, "calm-d"), (Card, "calm-c1")],
    ));
    let s = g.score(&obs(
        at(30 * DAY),
        &[(User, "calm-u"), (Device, "calm-d"), (Card, "c2")],
    ));
    assert!(!s.has(ReasonCode::CardTesting), "{s:?}");
}

#[test]
fn office_ip_with_fifty_users_stays_low_even_with_a_fraudster_in_the_office() {
    let mut g = LinkGraph::new(Config::default());
    let staff = |i: usize, t| {
        Observation::new(t)
            .with(User, format!("office-u{i}"))
            .with(Device, format!("office-d{i}"))
            .with(Card, format!("office-c{i}"))
            .with(Email, format!("staff{i}@corp.test"))
            .with(Ip, "192.0.2.1")
    };
    for i in 0..50 {
        g.observe(&staff(i, at(i as i64)));
    }
    g.mark_fraud(User, "office-u7", "account takeover", at(DAY));
    let s = g.score(&staff(50, at(2 * DAY)));
    assert!(s.reasons.is_empty(), "{s:?}");
    assert_eq!(s.features.score, 0.0);
    assert_eq!(s.features.group_users, 0, "a new user: nothing known");
    let s = g.score(&staff(3, at(2 * DAY)));
    assert!(s.reasons.is_empty(), "{s:?}");
    assert_eq!(s.features.group_users, 1, "the IP merges nobody");
    let view = g.neighbourhood(Ip, "192.0.2.1", 2, 500).unwrap();
    assert_eq!(view.distinct_users, 50);
    let users = view.neighbours.iter().filter(|n| n.depth == 1).count();
    assert_eq!(users, 50);
}

#[test]
fn score_describes_the_graph_before_the_decision_is_linked() {
    let mut g = LinkGraph::new(Config::default());
    let o = obs(at(0), &[(User, "u1"), (Device, "d1"), (Card, "c1")]);
    let first = decide(&mut g, &o);
    assert_eq!(first.features, Default::default());
    let second = g.score(&o.clone().with(User, "u2"));
    assert_eq!(second.features.users_per_device, 1);
    assert_eq!(second.features.cards_per_device, 1);
    assert_eq!(
        (second.features.group_entities, second.features.group_users),
        (3, 1)
    );
    assert_eq!(g.score(&o).features.cards_per_user, 1);
}

#[test]
fn proximity_is_bounded_and_follows_marks_and_unmarks() {
    let mut g = LinkGraph::new(Config::default());
    // f —d1— a —c1— b —d2— c —a1— far
    g.observe(&obs(at(0), &[(User, "f"), (Device, "d1")]));
    g.observe(&obs(at(1), &[(User, "a"), (Device, "d1"), (Card, "c1")]));
    g.observe(&obs(at(2), &[(User, "b"), (Card, "c1"), (Device, "d2")]));
    g.observe(&obs(at(3), &[(User, "c"), (Device, "d2"), (Address, "a1")]));
    g.observe(&obs(at(4), &[(User, "far"), (Address, "a1")]));
    g.mark_fraud(User, "f", "confirmed fraud", at(5));
    let hops = |g: &LinkGraph, u: &str| g.score(&obs(at(6), &[(User, u)])).features.hops_to_fraud;
    assert_eq!(hops(&g, "f"), Some(0));
    assert_eq!(hops(&g, "a"), Some(2));
    assert_eq!(
        hops(&g, "b"),
        Some(3),
        "f —d1— c1 (the device–card link) — b"
    );
    assert_eq!(
        hops(&g, "c"),
        None,
        "four hops: beyond the default bound of 3"
    );
    let s = g.score(&obs(at(6), &[(User, "new"), (Device, "d1")]));
    assert_eq!(s.features.hops_to_fraud, Some(2));
    assert!(s.has(ReasonCode::NearFraud));
    assert!((s.features.fraud_share_2hop - 0.5).abs() < 1e-6, "{s:?}");
    assert!(g.unmark(User, "f"));
    assert!(!g.unmark(User, "f"));
    assert_eq!(hops(&g, "a"), None);
    assert_eq!(
        g.score(&obs(at(6), &[(User, "new"), (Device, "d1")]))
            .features
            .fraud_share_2hop,
        0.0
    );
    // A block-listed card the graph has never seen is marked ahead of its first use.
    g.mark_fraud(Card, "stolen", "block list", at(7));
    let s = g.score(&obs(at(8), &[(User, "thief"), (Card, "stolen")]));
    assert_eq!(s.features.hops_to_fraud, Some(1));
}

#[test]
fn links_age_out_and_groups_split_after_maintenance() {
    let mut g = LinkGraph::new(Config::default());
    g.observe(&obs(at(0), &[(User, "u1"), (Device, "shared")]));
    g.observe(&obs(
        at(10),
        &[(User, "u2"), (Device, "shared"), (Card, "c2")],
    ));
    g.observe(&obs(
        at(80 * DAY),
        &[(User, "u2"), (Card, "c2"), (Address, "home")],
    ));
    g.mark_fraud(User, "u1", "fraud", at(20));
    let probe = obs(at(95 * DAY), &[(User, "u2"), (Card, "c2")]);
    assert_eq!(g.score(&probe).features.group_users, 2);
    let report = g.maintain(at(95 * DAY));
    assert_eq!(report.links_expired, 3, "u1–shared, u2–shared, shared–c2");
    assert_eq!(
        report.entities_expired, 1,
        "the device; u1 stays: it is marked"
    );
    let s = g.score(&probe);
    assert_eq!((s.features.group_users, s.features.group_entities), (1, 3));
    assert_eq!(s.features.hops_to_fraud, None);
    assert!(g.neighbourhood(Device, "shared", 2, 10).is_none());
    assert!(g.fraud_mark(User, "u1").is_some());
}

#[test]
fn entity_cap_evicts_least_recently_seen_first_and_keeps_marks() {
    let config = Config {
        entity_cap: 20,
        ..Config::default()
    };
    let mut g = LinkGraph::new(config);
    for i in 0..15 {
        let (u, d) = (format!("u{i}"), format!("d{i}"));
        g.observe(&obs(at(i * 120), &[(User, &u), (Device, &d)]));
    }
    g.mark_fraud(User, "u0", "fraud", at(0));
    assert_eq!(g.entity_count(), 30);
    let report = g.maintain(at(15 * 120));
    assert_eq!(report.entities_evicted, 12, "down to 90 % of the cap");
    assert_eq!(g.entity_count(), 18);
    assert!(
        g.fraud_mark(User, "u0").is_some(),
        "marks are never evicted"
    );
    assert!(
        g.neighbourhood(User, "u1", 1, 10).is_none(),
        "oldest go first"
    );
    assert!(g.neighbourhood(User, "u14", 1, 10).is_some());
    // Recycled slots start clean.
    for i in 100..110 {
        let (u, d) = (format!("u{i}"), format!("d{i}"));
        g.observe(&obs(at(40 * 60), &[(User, &u), (Device, &d)]));
    }
    let s = g.score(&obs(at(41 * 60), &[(User, "u100"), (Device, "d100")]));
    assert_eq!((s.features.group_entities, s.features.group_users), (2, 1));
}

#[test]
fn the_byte_cap_evicts_by_memory_so_long_values_hold_fewer_entities() {
    // Twenty short pairs measure what an entity costs; the cap then fits about ten of them.
    let mut probe = LinkGraph::new(Config::default());
    for i in 0..10 {
        let (u, d) = (format!("u{i}"), format!("d{i}"));
        probe.observe(&obs(at(i * 120), &[(User, &u), (Device, &d)]));
    }
    let cap = probe.live_bytes();
    let config = Config {
        byte_cap: cap,
        ..Config::default()
    };
    let mut short = LinkGraph::new(config.clone());
    let mut long = LinkGraph::new(config);
    for i in 0..15 {
        let (u, d) = (format!("u{i}"), format!("d{i}"));
        short.observe(&obs(at(i * 120), &[(User, &u), (Device, &d)]));
        // Same count, each value 2 KB long: the same bytes hold far fewer of them.
        let (u, d) = (
            format!("u{i}{}", "x".repeat(2000)),
            format!("d{i}{}", "y".repeat(2000)),
        );
        long.observe(&obs(at(i * 120), &[(User, &u), (Device, &d)]));
    }
    assert!(short.live_bytes() > cap && long.live_bytes() > cap);
    short.maintain(at(15 * 120));
    long.maintain(at(15 * 120));
    assert!(short.live_bytes() <= cap, "{} > {cap}", short.live_bytes());
    assert!(long.live_bytes() <= cap, "{} > {cap}", long.live_bytes());
    assert!(
        (16..=20).contains(&short.entity_count()),
        "short values: about 90 % of what fits, {}",
        short.entity_count()
    );
    assert!(
        long.entity_count() < 4,
        "long values: {}",
        long.entity_count()
    );
    // The newest survive.
    assert!(short.neighbourhood(User, "u14", 1, 10).is_some());
}

#[test]
fn rebuild_gives_the_graph_that_live_traffic_gave() {
    let decisions: Vec<Observation<'static>> = (0..300)
        .map(|i| {
            Observation::new(at(i * 30))
                .with(User, format!("u{}", i % 37))
                .with(Device, format!("d{}", i % 23))
                .with(Card, format!("c{}", i % 41))
                .with(Address, format!("a{}", i % 11))
                .with(Ip, format!("10.1.{}.{}", i % 3, i % 5))
        })
        .collect();
    let config = Config {
        window: Duration::from_secs(2 * 24 * 3600),
        ..Config::default()
    };
    let mut live = LinkGraph::new(config.clone());
    for o in &decisions {
        live.observe(o);
    }
    live.mark_fraud(User, "u5", "fraud", at(9000));
    live.maintain(at(299 * 30));
    let mut rebuilt = LinkGraph::rebuild(config, decisions.clone());
    rebuilt.mark_fraud(User, "u5", "fraud", at(9000));
    assert_eq!(live.stats(), rebuilt.stats());
    for o in decisions.iter().rev().take(40) {
        assert_eq!(live.score(o), rebuilt.score(o));
    }
}

#[test]
fn unknown_kind_is_refused_with_its_name() {
    let err = "iban".parse::<EntityKind>().unwrap_err();
    assert!(err.to_string().contains("`iban`"));
}
