//! Test-only: recomputes everything the link graph maintains incrementally (counters, intern
//! and edge tables, groups, proximity) from the raw adjacency and compares, and drives random
//! operation sequences through it (proptest).

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Utc};
use petgraph::visit::EdgeRef;
use proptest::prelude::*;

use crate::entity::{EntityKind, Observation};
use crate::graph::{LinkGraph, ni};
use crate::groups::{GroupStats, index};
use crate::hops::FAR;
use crate::label_marks::MarkPlan;
use crate::maintenance::Phase;
use crate::{Config, Thresholds};

fn other(e: petgraph::graph::EdgeReference<'_, crate::node::Link>, n: u32) -> u32 {
    index(if e.source() == ni(n) {
        e.target().index()
    } else {
        e.source().index()
    })
}

/// Invariants that hold after every update.
pub(crate) fn check_always(g: &LinkGraph) {
    let mut live = 0;
    for i in 0..index(g.graph.node_count()) {
        let e = g.node(i);
        if !e.alive {
            let dying = matches!(g.phase, Phase::Evict { dying: Some(d), .. } if d == i);
            assert!(g.isolated(i) || dying, "tombstone {i} keeps links");
            continue;
        }
        live += 1;
        assert_eq!(g.lookup(e.kind, &e.value), Some(i), "intern table lost {i}");
        let (mut users, mut cards, mut fraud) = (0, 0, 0);
        for edge in g.graph.edges(ni(i)) {
            let m = g.node(other(edge, i));
            users += u32::from(m.kind == EntityKind::User);
            cards += u32::from(m.kind == EntityKind::Card);
            fraud += u32::from(m.kind == EntityKind::User && m.marked);
        }
        assert_eq!(
            (e.users, e.cards, e.fraud_users),
            (users, cards, fraud),
            "counters of {i}"
        );
        // A full mark is in the mark map; anything else there is a weak mark, on a shielded
        // entity.
        assert!(!e.marked || g.marks.contains_key(&i), "mark of {i}");
        assert!(
            e.marked || !g.marks.contains_key(&i) || e.shielded,
            "weak mark of {i}"
        );
    }
    assert_eq!(live, g.live);
    // Between rebuilds proximity may be stale, but only towards "closer to fraud".
    for (i, w) in exact_hops(g).iter().enumerate() {
        if g.node(index(i)).alive {
            assert!(g.hops[i] <= *w, "hops of {i}: {} > {w}", g.hops[i]);
        }
    }
    for e in g.graph.edge_references() {
        let (a, b) = (index(e.source().index()), index(e.target().index()));
        assert_eq!(g.edges.find(&g.graph, a, b), Some(e.id()), "edge table");
        let (na, nb) = (g.node(a), g.node(b));
        if !na.is_weak() && !nb.is_weak() {
            assert_eq!(g.groups.find(a), g.groups.find(b), "linked but apart");
        }
    }
}

/// Invariants that hold right after a completed maintenance cycle (no budget cut short).
pub(crate) fn check_exact(g: &LinkGraph) {
    check_always(g);
    let n = g.graph.node_count();
    let mut component = vec![u32::MAX; n];
    let mut totals: HashMap<u32, GroupStats> = HashMap::new();
    for s in 0..index(n) {
        if component[s as usize] != u32::MAX || !g.node(s).alive || g.node(s).is_weak() {
            continue;
        }
        let mut queue = VecDeque::from([s]);
        component[s as usize] = s;
        while let Some(x) = queue.pop_front() {
            totals
                .entry(s)
                .or_default()
                .add(crate::graph::own_stats(g.node(x)));
            for edge in g.graph.edges(ni(x)) {
                let y = other(edge, x);
                if !g.node(y).is_weak() && component[y as usize] == u32::MAX {
                    component[y as usize] = s;
                    queue.push_back(y);
                }
            }
        }
    }
    for i in 0..index(n) {
        if component[i as usize] != u32::MAX {
            let want = totals[&component[i as usize]];
            assert_eq!(g.groups.stats(g.groups.find(i)), want, "group of {i}");
        }
    }
    let want = exact_hops(g);
    for (i, w) in want.iter().enumerate() {
        if g.node(index(i)).alive {
            assert_eq!(g.hops[i], *w, "hops of {i}");
        }
    }
}

/// Proximity by multi-source BFS from the marks with the spreading rules.
fn exact_hops(g: &LinkGraph) -> Vec<u8> {
    let max = g.config.hops_bound();
    let mut want = vec![FAR; g.graph.node_count()];
    let mut queue = VecDeque::new();
    // Full marks spread; weak ones do not. IPs and shielded entities neither take nor pass
    // proximity unless marked themselves.
    let weak = |x: u32| g.node(x).is_weak();
    for &m in g.marks.keys().filter(|&&m| g.node(m).marked) {
        want[m as usize] = 0;
        queue.push_back(m);
    }
    while let Some(x) = queue.pop_front() {
        let d = want[x as usize];
        if d >= max || (weak(x) && d != 0) {
            continue;
        }
        for y in g.graph.neighbors(ni(x)).map(|y| index(y.index())) {
            if !weak(y) && d + 1 < want[y as usize] {
                want[y as usize] = d + 1;
                queue.push_back(y);
            }
        }
    }
    want
}

#[derive(Debug, Clone)]
enum Op {
    Observe {
        user: u8,
        device: Option<u8>,
        card: Option<u8>,
        address: Option<u8>,
        ip: Option<u8>,
        advance_hours: u16,
    },
    Mark(u8),
    Unmark(u8),
    /// A label's plan for a device (0–5) or a user (6–17): 0 full, 1 weak, 2 shield, 3 nothing.
    Settle(u8, u8),
    Step(u16),
    Maintain,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u8..12, proptest::option::of(0u8..6), proptest::option::of(0u8..10),
              proptest::option::of(0u8..4), proptest::option::of(0u8..3), 0u16..200)
            .prop_map(|(user, device, card, address, ip, advance_hours)| Op::Observe {
                user, device, card, address, ip, advance_hours }),
        1 => (0u8..12).prop_map(Op::Mark),
        1 => (0u8..12).prop_map(Op::Unmark),
        1 => (0u8..18, 0u8..4).prop_map(|(d, p)| Op::Settle(d, p)),
        1 => (1u16..40).prop_map(Op::Step),
        1 => Just(Op::Maintain),
    ]
}

fn at(hours: u64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000 + i64::try_from(hours * 3600).unwrap(), 0).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]
    #[test]
    fn incremental_state_matches_a_recomputation(ops in proptest::collection::vec(op(), 1..120)) {
        let config = Config {
            window: std::time::Duration::from_secs(30 * 24 * 3600),
            entity_cap: 24,
            thresholds: Thresholds::default(),
            ..Config::default()
        };
        let mut g = LinkGraph::new(config);
        let mut hours = 0u64;
        for op in ops {
            match op {
                Op::Observe { user, device, card, address, ip, advance_hours } => {
                    hours += u64::from(advance_hours);
                    let obs = Observation::new(at(hours))
                        .with(EntityKind::User, format!("u{user}"))
                        .with_opt(EntityKind::Device, device.map(|d| format!("d{d}")))
                        .with_opt(EntityKind::Card, card.map(|c| format!("c{c}")))
                        .with_opt(EntityKind::Address, address.map(|a| format!("a{a}")))
                        .with_opt(EntityKind::Ip, ip.map(|i| format!("10.0.0.{i}")));
                    let before = g.score(&obs);
                    prop_assert!((0.0..=1.0).contains(&before.features.score));
                    g.observe(&obs);
                }
                Op::Mark(u) => { g.mark_fraud(EntityKind::User, &format!("u{u}"), "test", at(hours)); }
                Op::Unmark(u) => { g.unmark(EntityKind::User, &format!("u{u}")); }
                Op::Settle(d, p) => {
                    let plan = [MarkPlan::Full, MarkPlan::Weak(0.3), MarkPlan::Shield, MarkPlan::Nothing][usize::from(p)];
                    let (kind, value) = if d < 6 {
                        (EntityKind::Device, format!("d{d}"))
                    } else {
                        (EntityKind::User, format!("u{}", d - 6))
                    };
                    g.settle(kind, &value, plan, "test", at(hours));
                }
                Op::Step(budget) => { g.maintain_step(at(hours), usize::from(budget)); }
                Op::Maintain => {
                    while g.maintaining() { g.maintain_step(at(hours), 7); }
                    g.maintain(at(hours));
                    check_exact(&g);
                }
            }
            check_always(&g);
        }
        while g.maintaining() { g.maintain_step(at(hours), 7); }
        g.maintain(at(hours));
        check_exact(&g);
        let shielded = (0..g.graph.node_count() as u32)
            .filter(|&i| g.node(i).alive && g.node(i).shielded && !g.marks.contains_key(&i))
            .count();
        prop_assert!(g.entity_count() <= 24 + g.mark_count() + shielded);
    }
}
