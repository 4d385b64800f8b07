//! What the open-loop load clients (`orders_load`, `decisions_load`) share: one measured
//! request, percentiles, and the report of stalls. Included with `#[path]`: examples cannot
//! share a module otherwise.

use std::time::Duration;

/// One measured request: when it was due, how late the client sent it, how long it took.
#[derive(Clone, Copy)]
pub struct Sample {
    pub due_s: f64,
    pub send_lag: Duration,
    pub latency: Duration,
}

/// The `p` quantile (0–1) of `sorted`, in milliseconds; NaN when empty.
pub fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[idx].as_secs_f64() * 1e3
}

/// `p50 … max` of `samples`' latencies, one line.
pub fn summary(samples: &[Sample]) -> String {
    let mut l: Vec<Duration> = samples.iter().map(|s| s.latency).collect();
    l.sort();
    format!(
        "p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}",
        percentile_ms(&l, 0.50),
        percentile_ms(&l, 0.90),
        percentile_ms(&l, 0.99),
        percentile_ms(&l, 0.999),
        percentile_ms(&l, 1.0)
    )
}

/// Groups the requests slower than `threshold` into stalls (slow requests due within 100 ms
/// of each other) and prints each: its span of due times, how many requests it held, the
/// worst latency and the worst client send lag.
pub fn print_stalls(samples: &[Sample], threshold: Duration) {
    let mut slow: Vec<Sample> = samples
        .iter()
        .filter(|s| s.latency > threshold)
        .copied()
        .collect();
    slow.sort_by(|a, b| a.due_s.total_cmp(&b.due_s));
    let mut stalls: Vec<Vec<Sample>> = Vec::new();
    for s in slow {
        match stalls.last_mut() {
            Some(g) if g.last().is_some_and(|p| s.due_s - p.due_s < 0.1) => g.push(s),
            _ => stalls.push(vec![s]),
        }
    }
    for g in stalls.iter().take(20) {
        let worst = g.iter().map(|s| s.latency).max().unwrap_or_default();
        let lag = g.iter().map(|s| s.send_lag).max().unwrap_or_default();
        println!(
            "stall: due {:.3}-{:.3} s, {} requests over {} ms, worst {:.1} ms, client send lag up to {:.1} ms",
            g[0].due_s,
            g[g.len() - 1].due_s,
            g.len(),
            threshold.as_millis(),
            worst.as_secs_f64() * 1e3,
            lag.as_secs_f64() * 1e3
        );
    }
}
