//! A synthetic 90-day stream of payments with rings, card testing and account takeovers, and
//! the graph's verdicts on it under one way of turning labels into marks. Deterministic (its
//! own seeded generator), so two labelling rules see exactly the same traffic.
//!
//! - 3,000 customers, each with a phone (some a second device), a card, an e-mail and a home
//!   address, buying every few days; one in ten lives in a household of 2–4 that shares a
//!   tablet and the address; IPs come from a pool of 400 (carriers, offices).
//! - 4 rings of 15 fresh accounts on 3 devices and 2 drop addresses each, own cards, buying
//!   from day 20.
//! - 6 card testers, each a fresh account on one device trying 15 cards within an hour.
//! - 60 takeovers from day 20: a customer's account from one of 8 attacker laptops, behind a
//!   proxy, shipping to the attacker's drop address, paying with the customer's stored card.
//!
//! Every fraudulent decision is labelled 7 days later (a chargeback's delay): takeovers as
//! `account_takeover`, the rest as `fraud`. The graph scores each decision before it links
//! it; a score of at least [`REJECT`] is a reject, [`CHALLENGE`] a challenge. Maintenance
//! runs every simulated hour, as the service's does every few minutes.

use std::collections::{BTreeMap, HashMap};

use arbiter_graph::label_marks::{History, LabelSide, MarkPlan, plan};
use arbiter_graph::{Config, EntityKind, LinkGraph, Observation};
use chrono::{DateTime, TimeDelta, Utc};

use EntityKind::{Address, Card, Device, Email, Ip, Phone, User};

pub const REJECT: f32 = 0.8;
pub const CHALLENGE: f32 = 0.4;
const LABEL_DELAY: TimeDelta = TimeDelta::days(7);

/// How labels become marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Labelling {
    /// Before issue 18: a full mark on the user, device, card, e-mail and phone.
    Everything,
    /// `label_marks::plan` from each entity's history at the labelled decision.
    Planned,
}

/// What a decision was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Truth {
    Legit,
    Fraud(LabelSide),
}

struct Payment {
    at: DateTime<Utc>,
    entities: Vec<(EntityKind, String)>,
    amount: u32,
    truth: Truth,
}

/// Verdict counts and values.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Outcome {
    pub legit: u32,
    pub legit_challenged: u32,
    pub legit_rejected: u32,
    /// Of the rejected legitimate decisions, those of customers whose account was taken over
    /// before (the victims).
    pub victims_rejected: u32,
    pub fraud: u32,
    pub fraud_value: u64,
    pub fraud_rejected_value: u64,
    pub fraud_challenged_value: u64,
}

impl Outcome {
    pub fn false_challenge_rate(&self) -> f64 {
        f64::from(self.legit_challenged) / f64::from(self.legit.max(1))
    }
    pub fn false_reject_rate(&self) -> f64 {
        f64::from(self.legit_rejected) / f64::from(self.legit.max(1))
    }
    /// Fraud value rejected, as a share of all fraud value.
    pub fn caught_by_value(&self) -> f64 {
        self.fraud_rejected_value as f64 / self.fraud_value.max(1) as f64
    }
    /// Fraud value rejected or challenged.
    pub fn stopped_or_reviewed_by_value(&self) -> f64 {
        (self.fraud_rejected_value + self.fraud_challenged_value) as f64
            / self.fraud_value.max(1) as f64
    }
}

/// splitmix64: small, seeded, and the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }
}

fn start() -> DateTime<Utc> {
    DateTime::from_timestamp(1_735_689_600, 0).expect("a valid instant")
}

fn minutes(m: u64) -> TimeDelta {
    TimeDelta::minutes(i64::try_from(m).unwrap_or(i64::MAX))
}

struct Customer {
    user: String,
    devices: Vec<String>,
    card: String,
    email: String,
    phone: String,
    address: String,
}

fn customers(rng: &mut Rng) -> Vec<Customer> {
    let mut out = Vec::new();
    let mut household = 0;
    while out.len() < 3_000 {
        let size = if rng.below(10) == 0 {
            rng.between(2, 4)
        } else {
            1
        };
        household += 1;
        for _ in 0..size {
            let i = out.len();
            let mut devices = vec![format!("phone-{i}")];
            if size > 1 {
                devices.push(format!("tablet-h{household}"));
            } else if rng.below(4) == 0 {
                devices.push(format!("laptop-{i}"));
            }
            out.push(Customer {
                user: format!("u{i}"),
                devices,
                card: format!("card-{i}"),
                email: format!("u{i}@mail.test"),
                phone: format!("+1555{i:07}"),
                address: format!("home-{household}"),
            });
        }
    }
    out
}

fn generate() -> Vec<Payment> {
    let mut rng = Rng(0x5EED_0018);
    let people = customers(&mut rng);
    let mut stream = Vec::new();
    let horizon = 90 * 24 * 60;
    for c in &people {
        let mut t = rng.below(3 * 24 * 60);
        while t < horizon {
            let device = &c.devices[rng.below(c.devices.len() as u64) as usize];
            stream.push(Payment {
                at: start() + minutes(t),
                entities: vec![
                    (User, c.user.clone()),
                    (Device, device.clone()),
                    (Card, c.card.clone()),
                    (Email, c.email.clone()),
                    (Phone, c.phone.clone()),
                    (Address, c.address.clone()),
                    (Ip, format!("10.{}.0.1", rng.below(400))),
                ],
                amount: rng.between(10, 200) as u32,
                truth: Truth::Legit,
            });
            t += rng.between(2 * 24 * 60, 8 * 24 * 60);
        }
    }
    for ring in 0..4 {
        for a in 0..15 {
            let mut t = (20 + rng.below(20)) * 24 * 60;
            for _ in 0..3 {
                stream.push(Payment {
                    at: start() + minutes(t),
                    entities: vec![
                        (User, format!("ring{ring}-u{a}")),
                        (Device, format!("ring{ring}-d{}", a % 3)),
                        (Card, format!("ring{ring}-c{a}")),
                        (Email, format!("ring{ring}-{a}@mail.test")),
                        (Address, format!("ring{ring}-drop{}", a % 2)),
                        (Ip, format!("172.16.{ring}.{}", a % 4)),
                    ],
                    amount: rng.between(150, 600) as u32,
                    truth: Truth::Fraud(LabelSide::Fraud),
                });
                t += rng.between(24 * 60, 6 * 24 * 60);
            }
        }
    }
    for tester in 0..6 {
        let t0 = (15 + rng.below(60)) * 24 * 60;
        for c in 0..15 {
            stream.push(Payment {
                at: start() + minutes(t0 + 4 * c),
                entities: vec![
                    (User, format!("tester{tester}")),
                    (Device, format!("tester{tester}-dev")),
                    (Card, format!("tested{tester}-{c}")),
                    (Email, format!("tester{tester}@mail.test")),
                    (Ip, format!("172.17.0.{tester}")),
                ],
                amount: rng.between(1, 5) as u32,
                truth: Truth::Fraud(LabelSide::Fraud),
            });
        }
    }
    for t in 0..60 {
        let victim = &people[rng.below(people.len() as u64) as usize];
        let attacker = t % 8;
        stream.push(Payment {
            at: start() + minutes((20 + rng.below(55)) * 24 * 60 + rng.below(24 * 60)),
            entities: vec![
                (User, victim.user.clone()),
                (Device, format!("attacker-laptop-{attacker}")),
                (Card, victim.card.clone()),
                (Email, victim.email.clone()),
                (Phone, victim.phone.clone()),
                (Address, format!("attacker-drop-{attacker}")),
                (Ip, format!("198.51.100.{attacker}")),
            ],
            amount: rng.between(300, 800) as u32,
            truth: Truth::Fraud(LabelSide::AccountTakeover),
        });
    }
    stream.sort_by_key(|p| p.at);
    stream
}

/// A label to apply: how it treats established entities, the labelled decision's instant,
/// and its entities with their history then.
type DueLabel = (LabelSide, DateTime<Utc>, Vec<(EntityKind, String, History)>);

/// Plays the stream through a graph, labelling every fraud [`LABEL_DELAY`] after it happened.
pub fn run(labelling: Labelling) -> Outcome {
    let stream = generate();
    let mut graph = LinkGraph::new(Config::default());
    let mut seen: HashMap<(EntityKind, String), History> = HashMap::new();
    // Labels due, by instant: the labelled decision's entities with their history then.
    let mut due: BTreeMap<(DateTime<Utc>, usize), DueLabel> = BTreeMap::new();
    let mut taken_over: std::collections::HashSet<String> = Default::default();
    let mut out = Outcome::default();
    let mut maintained = start();
    for (n, p) in stream.iter().enumerate() {
        // The service's maintenance runs every few minutes; once a simulated hour is enough
        // for what it does here (groups split where shields cut them).
        if p.at - maintained >= TimeDelta::hours(1) {
            graph.maintain(p.at);
            maintained = p.at;
        }
        while let Some(entry) = due.first_entry() {
            if entry.key().0 > p.at {
                break;
            }
            let (side, at, entities) = entry.remove();
            for (kind, value, history) in entities {
                let planned = match labelling {
                    Labelling::Planned => plan(kind, side, &history, at),
                    Labelling::Everything if matches!(kind, Address | Ip) => MarkPlan::Nothing,
                    Labelling::Everything => MarkPlan::Full,
                };
                if planned == MarkPlan::Nothing {
                    continue;
                }
                // A later label never lightens an entity an earlier one marked harder.
                let current = match graph.fraud_mark(kind, &value) {
                    Some(m) if m.weight >= 1.0 => MarkPlan::Full,
                    Some(m) => MarkPlan::Weak(m.weight),
                    None => MarkPlan::Nothing,
                };
                graph.settle(kind, &value, current.max(planned), "label", at);
            }
        }
        let obs = p
            .entities
            .iter()
            .fold(Observation::new(p.at), |o, (k, v)| o.with(*k, v.as_str()));
        let score = graph.score(&obs).features.score;
        graph.observe(&obs);
        let histories: Vec<(EntityKind, String, History)> = p
            .entities
            .iter()
            .map(|(k, v)| {
                let h = seen.entry((*k, v.clone())).or_default();
                let before = *h;
                h.earlier += 1;
                h.since = Some(h.since.map_or(p.at, |s| s.min(p.at)));
                (*k, v.clone(), before)
            })
            .collect();
        match p.truth {
            Truth::Legit => {
                out.legit += 1;
                if score >= REJECT {
                    out.legit_rejected += 1;
                    if taken_over.contains(&p.entities[0].1) {
                        out.victims_rejected += 1;
                    }
                } else if score >= CHALLENGE {
                    out.legit_challenged += 1;
                }
            }
            Truth::Fraud(side) => {
                out.fraud += 1;
                out.fraud_value += u64::from(p.amount);
                if score >= REJECT {
                    out.fraud_rejected_value += u64::from(p.amount);
                } else if score >= CHALLENGE {
                    out.fraud_challenged_value += u64::from(p.amount);
                }
                if side == LabelSide::AccountTakeover {
                    taken_over.insert(p.entities[0].1.clone());
                }
                due.insert((p.at + LABEL_DELAY, n), (side, p.at, histories));
            }
        }
    }
    out
}
