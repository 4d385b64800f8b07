//! `arbiter backtest`: start a backtest on a running server, follow it with a progress bar,
//! then print a summary a risk engineer can read at a glance (or, with `--json`, the whole
//! run). Ctrl-C cancels the run on the server. It speaks the public HTTP API with a key
//! holding `policy:write`, as any other client would.

use std::time::Duration;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};

use arbiter_engine::Money;
use arbiter_engine::backtest::report::{RatedConfusion, Scorecard};
use arbiter_engine::backtest::{BacktestResult, Report};

use crate::remote::{Remote, client, send};

#[derive(Debug, Args)]
pub struct BacktestArgs {
    /// The policy set version to try.
    #[arg(long)]
    candidate: i64,
    /// The set to compare with. Default: each decision as it was recorded.
    #[arg(long)]
    baseline: Option<i64>,
    /// Decisions made at or after this instant (RFC 3339).
    #[arg(long)]
    from: DateTime<Utc>,
    /// Decisions made before this instant (RFC 3339).
    #[arg(long)]
    to: DateTime<Utc>,
    /// Only decisions of this checkpoint (e.g. `payment.authorize`).
    #[arg(long)]
    checkpoint: Option<String>,
    /// Replay this share of the window (above 0, at most 1).
    #[arg(long)]
    sample: Option<f64>,
    /// The sample's seed: the same seed keeps the same decisions.
    #[arg(long, requires = "sample")]
    seed: Option<u64>,
    /// Score the candidate with this model version instead of the recorded scores.
    #[arg(long)]
    model: Option<i64>,
    /// `recorded` (default) or `current`: the lists as they are now.
    #[arg(long)]
    lists: Option<String>,
    /// A label kind counted as fraud; repeatable (default: every kind but `legit`).
    #[arg(long = "fraud-label")]
    fraud_labels: Vec<String>,
    /// Decisions younger than this many days count as unlabelled.
    #[arg(long)]
    maturity_days: Option<u32>,
    /// Print the whole run as JSON instead of the summary.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    remote: Remote,
}

impl BacktestArgs {
    fn body(&self) -> Value {
        let mut b = json!({"candidate": self.candidate, "from": self.from, "to": self.to});
        let mut set = |k: &str, v: Value| {
            if !v.is_null() {
                b[k] = v;
            }
        };
        set("baseline", json!(self.baseline));
        set("checkpoint", json!(self.checkpoint));
        set("candidate_model", json!(self.model));
        set("lists", json!(self.lists));
        if let Some(rate) = self.sample {
            set(
                "sample",
                json!({"rate": rate, "seed": self.seed.unwrap_or(0)}),
            );
        }
        if !self.fraud_labels.is_empty() || self.maturity_days.is_some() {
            let mut labels = json!({});
            if !self.fraud_labels.is_empty() {
                labels["fraud"] = json!(self.fraud_labels);
            }
            if let Some(d) = self.maturity_days {
                labels["maturity_days"] = json!(d);
            }
            set("labels", labels);
        }
        b
    }
}

pub async fn run(args: BacktestArgs) -> anyhow::Result<()> {
    let remote = &args.remote;
    let started =
        send(client(remote, reqwest::Method::POST, "/v1/backtests").json(&args.body())).await?;
    let id = started["backtest_id"]
        .as_str()
        .context("the server answered no backtest id")?
        .to_owned();
    let path = format!("/v1/backtests/{id}");
    let bar = ProgressBar::new(started["progress"]["total"].as_u64().unwrap_or(0));
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:40}] {pos}/{len} decisions ({eta})")
            .context("progress template")?
            .progress_chars("=> "),
    );
    bar.set_message(id.clone());
    let run = loop {
        let run = tokio::select! {
            r = send(client(remote, reqwest::Method::GET, &path)) => r?,
            _ = tokio::signal::ctrl_c() => {
                bar.finish_and_clear();
                send(client(remote, reqwest::Method::DELETE, &path)).await?;
                bail!("backtest {id} cancelled");
            }
        };
        bar.set_length(run["progress"]["total"].as_u64().unwrap_or(0));
        bar.set_position(run["progress"]["read"].as_u64().unwrap_or(0));
        if run["status"] != "running" {
            break run;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    bar.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&run)?);
    }
    match run["status"].as_str() {
        Some("succeeded") => {
            if !args.json {
                let result: BacktestResult =
                    serde_json::from_value(run["result"].clone()).context("reading the report")?;
                print!("{}", summary(&id, &args, &result));
            }
            Ok(())
        }
        Some("failed") => bail!(
            "backtest {id} failed: {}",
            run["error"].as_str().unwrap_or("no reason given")
        ),
        other => bail!(
            "backtest {id} ended {}",
            other.unwrap_or("without a status")
        ),
    }
}

fn rate(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_owned(), |x| format!("{:.3}", x))
}

/// Minor units in a currency's major units with all its decimals (`4432964.80 USD`).
fn money(book: &std::collections::BTreeMap<String, i64>) -> String {
    if book.is_empty() {
        return "-".to_owned();
    }
    book.iter()
        .map(|(code, minor)| match Money::from_stored(*minor, code) {
            Some(m) => {
                let decimals = m.exponent();
                let value = rust_decimal::Decimal::new(*minor, decimals);
                format!("{value:.prec$} {code}", prec = decimals as usize)
            }
            None => format!("{minor} {code} (minor units)"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn confusion_row(name: &str, b: &RatedConfusion, c: &RatedConfusion) -> String {
    format!(
        "{name:<22}{:>10}{:>8}{:>8}{:>8}   {:>10}{:>8}{:>8}{:>8}\n",
        rate(b.precision),
        rate(b.recall),
        rate(b.f1),
        rate(b.false_positive_rate),
        rate(c.precision),
        rate(c.recall),
        rate(c.f1),
        rate(c.false_positive_rate),
    )
}

fn money_rows(b: &Scorecard, c: &Scorecard) -> String {
    format!(
        "fraud value stopped     baseline {}   candidate {}\n\
         legit value declined    baseline {}   candidate {}\n",
        money(&b.fraud_value_stopped),
        money(&c.fraud_value_stopped),
        money(&b.legit_value_declined),
        money(&c.legit_value_declined),
    )
}

fn matrix(r: &Report) -> String {
    let mut out = format!(
        "{:<22}{:>10}{:>11}{:>8}\n",
        "baseline \\ candidate", "accept", "challenge", "reject"
    );
    for b in ["accept", "challenge", "reject"] {
        out.push_str(&format!("{b:<22}"));
        for (c, width) in [("accept", 10), ("challenge", 11), ("reject", 8)] {
            let n = r
                .transitions
                .iter()
                .find(|t| t.baseline.as_str() == b && t.candidate.as_str() == c)
                .map_or(0, |t| t.count);
            out.push_str(&format!("{n:>width$}"));
        }
        out.push('\n');
    }
    out
}

/// The human summary of a finished run.
fn summary(id: &str, args: &BacktestArgs, result: &BacktestResult) -> String {
    let r = &result.report;
    let c = &r.coverage;
    let baseline = args
        .baseline
        .map_or_else(|| "recorded decisions".to_owned(), |v| format!("set {v}"));
    let mut out = format!(
        "backtest {id}: set {} against {baseline}, {} to {}\nfingerprint {}\n\n",
        args.candidate, args.from, args.to, result.fingerprint.id
    );
    let skipped: u64 = c.skipped.values().sum();
    out.push_str(&format!(
        "read {}  replayed {}  sampled out {}  skipped {skipped}  unlabelled {}  immature {}  \
         excluded labels {}  in {} ms\n\n",
        c.read,
        c.replayed,
        c.sampled_out,
        c.unlabelled,
        c.immature,
        c.excluded_labels,
        result.elapsed_ms
    ));
    out.push_str(&matrix(r));
    out.push_str(&format!("changed {} of {}\n\n", r.changed, c.replayed));
    out.push_str(&format!(
        "{:<22}{:>10}{:>8}{:>8}{:>8}   {:>10}{:>8}{:>8}{:>8}\n",
        "(baseline | candidate)",
        "precision",
        "recall",
        "F1",
        "FPR",
        "precision",
        "recall",
        "F1",
        "FPR"
    ));
    out.push_str(&confusion_row(
        "at reject",
        &r.baseline.at_reject,
        &r.candidate.at_reject,
    ));
    out.push_str(&confusion_row(
        "at challenge or reject",
        &r.baseline.at_challenge_or_reject,
        &r.candidate.at_challenge_or_reject,
    ));
    out.push_str(&money_rows(&r.baseline, &r.candidate));
    out.push_str(&format!(
        "baseline rejected (not scored) {}\n\n",
        r.baseline_rejected
    ));
    if !r.rules.is_empty() {
        out.push_str(&format!(
            "{:<28}{:>8}{:>8}{:>11}\n",
            "rule", "hits", "unique", "precision"
        ));
        for (name, h) in &r.rules {
            out.push_str(&format!(
                "{name:<28}{:>8}{:>8}{:>11}\n",
                h.hits,
                h.unique,
                rate(h.precision)
            ));
        }
        out.push('\n');
    }
    let d = &r.determinism;
    out.push_str(&format!(
        "determinism: {} checked, {} faults\n",
        d.checked, d.faults
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::money;

    #[test]
    fn money_keeps_the_currency_s_decimals() {
        let book = [("USD".to_owned(), 443_296_480), ("JPY".to_owned(), 1_200)]
            .into_iter()
            .collect();
        assert_eq!(money(&book), "1200 JPY, 4432964.80 USD");
        assert_eq!(money(&Default::default()), "-");
    }
}
