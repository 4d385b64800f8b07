//! Link-graph benchmarks on a synthetic population, generated deterministically:
//! - update-plus-score per decision on a graph of ~1 M entities / ~5 M links (one core),
//!   with criterion and with a per-decision percentile pass;
//! - rebuild from 1 M observations;
//! - memory per entity and per link (estimate from element sizes and capacities, and the
//!   process's resident-set growth while the big graph is built);
//! - one chunked maintenance cycle on the big graph (longest write-lock hold).
//!
//! The population: users with one or two devices, one or two cards, an email, a phone, a
//! household address (two users an address on average, some a second one) and, over time,
//! 27 IPs each from a shared pool, so IPs (weak links) carry most of the links, as they do in
//! real traffic. `cargo bench -p arbiter-graph`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use arbiter_graph::{Config, EntityKind, LinkGraph, MAINTENANCE_CHUNK, Observation, SharedGraph};
use chrono::{DateTime, TimeDelta, Utc};
use criterion::{BatchSize, Criterion};

/// splitmix64: a tiny deterministic generator and mixer.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(1);
        mix(self.0)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Who the synthetic population is.
struct Population {
    users: u64,
    ip_pool: u64,
    ips_per_user: u64,
}

/// `ARBITER_GRAPH_BENCH_SMOKE=1` shrinks everything 50-fold, to check the bench itself runs.
fn smoke() -> bool {
    std::env::var_os("ARBITER_GRAPH_BENCH_SMOKE").is_some()
}

fn scaled(n: u64) -> u64 {
    if smoke() { n / 50 } else { n }
}

fn base() -> DateTime<Utc> {
    DateTime::from_timestamp(1_735_689_600, 0).unwrap_or_default()
}

impl Population {
    /// Decision `round` of user `u` (`ip_slot` picks which of the user's IPs, or a new one).
    fn decision(&self, u: u64, ip_slot: u64, salt: u64, at: DateTime<Utc>) -> Observation<'static> {
        let h = mix(u);
        let device = if h.is_multiple_of(10) && salt % 2 == 1 {
            u + self.users
        } else {
            u
        };
        let card = if h.is_multiple_of(3) && (salt >> 1) % 2 == 1 {
            u + self.users
        } else {
            u
        };
        let address = if h % 10 == 1 && (salt >> 2) % 2 == 1 {
            u + self.users
        } else {
            u / 2
        };
        let ip = mix(u * 1_000 + ip_slot) % self.ip_pool;
        Observation::new(at)
            .with(EntityKind::User, format!("user-{u}"))
            .with(
                EntityKind::Device,
                format!("dev-{:012x}", mix(device) >> 16),
            )
            .with(EntityKind::Card, format!("{:016x}", mix(card ^ 0xca4d)))
            .with(EntityKind::Email, format!("user{u}@example.com"))
            .with(EntityKind::Phone, format!("+1{:010}", u))
            .with(
                EntityKind::Address,
                format!(
                    "{:016x}{:016x}{:016x}{:016x}",
                    mix(address),
                    mix(address + 1),
                    mix(address + 2),
                    mix(address + 3)
                ),
            )
            .with(
                EntityKind::Ip,
                format!("10.{}.{}.{}", ip >> 16, (ip >> 8) & 255, ip & 255),
            )
    }

    /// Round after round, every user once a round, spread over 60 days.
    fn history(&self, rounds: u64) -> impl Iterator<Item = Observation<'static>> + '_ {
        let total = rounds * self.users;
        let step = (60 * 24 * 3600 * 1000) / total.max(1);
        (0..total).map(move |n| {
            let (round, u) = (n / self.users, n % self.users);
            let at = base() + TimeDelta::milliseconds(i64::try_from(n * step).unwrap_or(0));
            self.decision(u, round % self.ips_per_user, mix(n), at)
        })
    }

    /// Fresh traffic after the history: 2 % new users, 30 % from an IP the user has not
    /// used before.
    fn traffic(&self, n: usize, seed: u64) -> Vec<Observation<'static>> {
        let mut rng = Rng(seed);
        let start = base() + TimeDelta::days(61);
        (0..n)
            .map(|i| {
                let u = if rng.below(100) < 2 {
                    self.users * 2 + rng.below(1 << 30)
                } else {
                    rng.below(self.users)
                };
                let slot = if rng.below(100) < 30 {
                    self.ips_per_user + rng.below(1000)
                } else {
                    rng.below(self.ips_per_user)
                };
                let at = start + TimeDelta::milliseconds(i64::try_from(i).unwrap_or(0) * 50);
                self.decision(u, slot, rng.next(), at)
            })
            .collect()
    }
}

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn percentiles(mut v: Vec<Duration>) -> String {
    v.sort();
    let p = |q: f64| v[((v.len() - 1) as f64 * q) as usize].as_nanos();
    format!(
        "p50 {} ns, p90 {} ns, p99 {} ns, p99.9 {} ns",
        p(0.5),
        p(0.9),
        p(0.99),
        p(0.999)
    )
}

fn big() -> Population {
    Population {
        users: scaled(150_000),
        ip_pool: scaled(95_000),
        ips_per_user: 27,
    }
}

fn big_graph() -> LinkGraph {
    let config = Config {
        reserve: (scaled(1_100_000) as usize, scaled(5_600_000) as usize),
        ..Config::default()
    };
    let big = big();
    let rss0 = rss_bytes();
    let started = Instant::now();
    let mut g = LinkGraph::new(config);
    let mut n = 0u64;
    for o in big.history(big.ips_per_user) {
        g.observe(&o);
        n += 1;
    }
    let built = started.elapsed();
    let rss = rss_bytes().saturating_sub(rss0);
    let s = g.stats();
    println!(
        "big graph: {n} observations linked in {built:.2?} ({:.0} ns each, strings generated inline)",
        built.as_nanos() as f64 / n as f64
    );
    println!("big graph: {} entities, {} links", s.entities, s.links);
    println!(
        "memory estimate: {:.0} B/entity, {:.0} B/link ({} MiB total); RSS growth {} MiB = {:.0} B per (entity + 5 links)",
        s.bytes_per_entity(),
        s.bytes_per_link(),
        (s.entity_bytes + s.link_bytes) >> 20,
        rss >> 20,
        rss as f64 / s.entities as f64,
    );
    g
}

/// One maintenance cycle on the big graph in `SharedGraph`-sized chunks, each timed (wall
/// clock, so a chunk that lost its core to another process shows up in the tail).
fn maintenance_cycle(g: &mut LinkGraph) {
    let now = base() + TimeDelta::days(62);
    let started = Instant::now();
    let mut chunks = Vec::new();
    loop {
        let t = Instant::now();
        let done = g.maintain_step(now, MAINTENANCE_CHUNK);
        chunks.push(t.elapsed());
        if done {
            break;
        }
    }
    let total = started.elapsed();
    let max = chunks.iter().max().copied().unwrap_or_default();
    println!(
        "maintenance cycle on the big graph: {total:.2?} in {} chunks of {MAINTENANCE_CHUNK} units; chunk {}, max {max:.2?}",
        chunks.len(),
        percentiles(chunks),
    );
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let mut g = big_graph();
    let traffic = big().traffic(scaled(400_000) as usize, 7);

    // Per-decision percentiles, one timed decision at a time.
    let timed = traffic.len() / 2;
    let mut samples = Vec::with_capacity(timed);
    for o in &traffic[..timed] {
        let t = Instant::now();
        black_box(g.score(o));
        g.observe(o);
        samples.push(t.elapsed());
    }
    println!(
        "score+observe per decision ({timed}, timed one by one): {}",
        percentiles(samples)
    );
    if std::env::var_os("ARBITER_GRAPH_BENCH_PROBE").is_some() {
        // While tuning: score and observe apart, on decisions not seen yet.
        let (mut sc, mut ob) = (Vec::new(), Vec::new());
        for o in &traffic[timed..] {
            let t = Instant::now();
            black_box(g.score(o));
            sc.push(t.elapsed());
            let t = Instant::now();
            g.observe(o);
            ob.push(t.elapsed());
        }
        println!("score alone: {}", percentiles(sc));
        println!("observe alone (after its score): {}", percentiles(ob));
        maintenance_cycle(&mut g);
        return;
    }

    let mut i = 0usize;
    let mut next = || {
        i = (i + 1) % traffic.len();
        &traffic[i]
    };
    c.bench_function("graph_1m/score", |b| b.iter(|| black_box(g.score(next()))));
    c.bench_function("graph_1m/score_plus_observe", |b| {
        b.iter(|| {
            let o = next();
            black_box(g.score(o));
            g.observe(o);
        })
    });
    let s = g.stats();
    println!("after the runs: {} entities, {} links", s.entities, s.links);
    maintenance_cycle(&mut g);

    let shared = SharedGraph::new(g);
    c.bench_function("graph_1m/shared_score_plus_observe", |b| {
        b.iter(|| {
            let o = next();
            black_box(shared.score(o));
            shared.observe(o);
        })
    });
    drop(shared);

    // Rebuild from 1 M observations (a smaller population's 25 rounds).
    let small = Population {
        users: scaled(40_000),
        ip_pool: scaled(25_000),
        ips_per_user: 25,
    };
    let log: Vec<Observation<'static>> = small.history(25).collect();
    let mut group = c.benchmark_group("rebuild");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(40));
    group.bench_function("1m_observations", |b| {
        b.iter_batched(
            || (),
            |()| LinkGraph::rebuild(Config::default(), log.iter().map(Observation::as_borrowed)),
            BatchSize::PerIteration,
        )
    });
    group.finish();
    let g = LinkGraph::rebuild(Config::default(), log.iter().map(Observation::as_borrowed));
    let s = g.stats();
    println!(
        "rebuilt graph: {} observations -> {} entities, {} links",
        log.len(),
        s.entities,
        s.links
    );
    c.final_summary();
}
