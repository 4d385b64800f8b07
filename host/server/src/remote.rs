//! The operator CLI that talks to a running server: `arbiter policy push`, `policy-set
//! create`, `rollout start|promote|rollback|status`, `labels import`. It speaks the public HTTP API with a key,
//! exactly as any other client would.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde::Deserialize;
use serde_json::{Value, json};

/// Where the server is and which key to use.
#[derive(Debug, Clone, Args)]
pub struct Remote {
    #[arg(long, env = "ARBITER_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// An API key with the scope the command needs (`policy:write`, `label:write`).
    #[arg(long, env = "ARBITER_KEY", hide_env_values = true)]
    pub key: String,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Build a policy crate (default: the current directory) into a component, with cargo
    /// and no other tool; prints the component's path.
    Build {
        dir: Option<PathBuf>,
        /// cargo's target directory (default: the crate's, or `CARGO_TARGET_DIR`).
        #[arg(long)]
        target_dir: Option<PathBuf>,
    },
    /// Upload a policy component as a new version of `--name`; given a crate's directory,
    /// build it first.
    Push {
        file: PathBuf,
        #[arg(long)]
        name: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Run one context through a module (a `.wasm` component or a rule file) locally and
    /// print its verdict, reasons and fuel.
    Test {
        file: PathBuf,
        /// A decision request (as `POST /v1/decisions` takes it) or an enriched context.
        #[arg(long)]
        context: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum PolicySetCommand {
    /// Create a policy set from a TOML file (see README), or from the set serving traffic
    /// with modules added, replaced or removed.
    Create {
        #[arg(
            long = "from",
            conflicts_with = "from_current",
            required_unless_present = "from_current"
        )]
        from: Option<PathBuf>,
        /// Start from the set serving traffic (its modules, thresholds and weights).
        #[arg(long)]
        from_current: bool,
        /// `NAME@VERSION`: add a module, or replace the version of one already in the set.
        #[arg(long = "add", requires = "from_current")]
        add: Vec<String>,
        /// `NAME`: leave a module out.
        #[arg(long = "remove", requires = "from_current")]
        remove: Vec<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// List policy sets, newest first, with the one serving traffic.
    List {
        #[command(flatten)]
        remote: Remote,
    },
}

/// A rollout's guard: it rolls back by itself when the candidate does worse than the stable
/// set. Any of the limits arms it; `--min-decisions` is how many candidate decisions it
/// waits for before judging.
#[derive(Debug, Clone, Args)]
pub struct GuardArgs {
    /// Roll back when the candidate's reject rate exceeds the stable set's by more points.
    #[arg(long)]
    max_reject_rate_increase: Option<f64>,
    /// Roll back when the candidate's challenge rate exceeds the stable set's by more points.
    #[arg(long)]
    max_challenge_rate_increase: Option<f64>,
    /// Roll back when more than this percent of the candidate's decisions have a faulting module.
    #[arg(long)]
    max_fault_rate: Option<f64>,
    /// Candidate decisions seen before the guard may trip.
    #[arg(long, default_value_t = 100)]
    min_decisions: u64,
}

impl GuardArgs {
    /// The `guard` object of a rollout start, or `None` when no limit is given.
    fn body(&self) -> Option<Value> {
        let armed = self.max_reject_rate_increase.is_some()
            || self.max_challenge_rate_increase.is_some()
            || self.max_fault_rate.is_some();
        armed.then(|| {
            json!({
                "max_reject_rate_increase_pts": self.max_reject_rate_increase,
                "max_challenge_rate_increase_pts": self.max_challenge_rate_increase,
                "max_fault_rate": self.max_fault_rate,
                "min_decisions": self.min_decisions,
            })
        })
    }
}

#[derive(Debug, Subcommand)]
pub enum RolloutCommand {
    /// Start rolling a policy set out to a share of traffic.
    Start {
        #[arg(long = "set")]
        set: i64,
        /// The share of users the candidate takes; required for a live rollout, 100 by
        /// default in shadow.
        #[arg(long, value_parser = clap::value_parser!(u8).range(0..=100))]
        percent: Option<u8>,
        /// Evaluate and record only; never enforce.
        #[arg(long)]
        shadow: bool,
        #[command(flatten)]
        guard: GuardArgs,
        #[command(flatten)]
        remote: Remote,
    },
    /// Turn the shadow rollout live for a share of users (the same run, now deciding).
    Live {
        #[arg(long, value_parser = clap::value_parser!(u8).range(0..=100))]
        percent: u8,
        #[command(flatten)]
        remote: Remote,
    },
    /// Make the candidate the stable set.
    Promote {
        #[command(flatten)]
        remote: Remote,
    },
    /// Send all traffic back to the stable set.
    Rollback {
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// Show the stable set and any candidate.
    Status {
        #[command(flatten)]
        remote: Remote,
    },
}

#[derive(Debug, Subcommand)]
pub enum LabelsCommand {
    /// Import a channel's chargeback file (CSV with a header row). Columns: `chargeback_id`
    /// (required), `order_id` or `decision_id` (one required), `amount` and `currency`
    /// (optional, checked against the decision), `reason` (optional). Prints how many rows
    /// were imported, how many were duplicates of an earlier import, and each rejected row
    /// with its line and reason; exits non-zero when any row was rejected. Needs a key with
    /// `label:write`.
    Import {
        file: PathBuf,
        #[command(flatten)]
        remote: Remote,
    },
}

/// `set.toml`: the same fields as `POST /v1/policy-sets`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SetFile {
    thresholds: Value,
    #[serde(default)]
    weights: Option<Value>,
    #[serde(default)]
    policies: Vec<Value>,
}

pub(crate) async fn send(req: reqwest::RequestBuilder) -> anyhow::Result<Value> {
    let r = req.send().await.context("contacting the server")?;
    let status = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        let detail = body["detail"].as_str().unwrap_or("no detail");
        let code = body["code"].as_str().unwrap_or("error");
        bail!("{status} {code}: {detail}");
    }
    Ok(body)
}

pub(crate) fn client(
    remote: &Remote,
    method: reqwest::Method,
    path: &str,
) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .request(
            method,
            format!("{}{}", remote.url.trim_end_matches('/'), path),
        )
        .bearer_auth(&remote.key)
}

pub(crate) fn print(v: &Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

pub async fn policy(cmd: PolicyCommand) -> anyhow::Result<()> {
    let (file, name, remote) = match cmd {
        PolicyCommand::Push { file, name, remote } if file.is_dir() => {
            let built = crate::policy_build::build(&file, None)?;
            eprintln!("built {}", built.display());
            (built, name, remote)
        }
        PolicyCommand::Push { file, name, remote } => (file, name, remote),
        PolicyCommand::Build { dir, target_dir } => {
            let dir = dir.unwrap_or_else(|| PathBuf::from("."));
            let built = crate::policy_build::build(&dir, target_dir.as_deref())?;
            println!("{}", built.display());
            return Ok(());
        }
        PolicyCommand::Test { file, context } => {
            return crate::rule_cli::policy_test(&file, &context);
        }
    };
    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let req = client(
        &remote,
        reqwest::Method::POST,
        &format!("/v1/policies/{name}/versions"),
    )
    .header("content-type", "application/wasm")
    .body(bytes);
    print(&send(req).await?)
}

/// `arbiter rule push`: a rule file to `POST /v1/rules/{name}/versions`.
pub async fn push_rules(file: &std::path::Path, name: &str, remote: &Remote) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let req = client(
        remote,
        reqwest::Method::POST,
        &format!("/v1/rules/{name}/versions"),
    )
    .header("content-type", "text/plain; charset=utf-8")
    .body(text);
    print(&send(req).await?)
}

pub async fn policy_set(cmd: PolicySetCommand) -> anyhow::Result<()> {
    let (from, from_current, add, remove, remote) = match cmd {
        PolicySetCommand::List { remote } => {
            return print(&send(client(&remote, reqwest::Method::GET, "/v1/policy-sets")).await?);
        }
        PolicySetCommand::Create {
            from,
            from_current,
            add,
            remove,
            remote,
        } => (from, from_current, add, remove, remote),
    };
    let body = match from {
        Some(from) if !from_current => {
            let text = std::fs::read_to_string(&from)
                .with_context(|| format!("reading {}", from.display()))?;
            let file: SetFile =
                toml::from_str(&text).with_context(|| format!("parsing {}", from.display()))?;
            let mut body = json!({"thresholds": file.thresholds, "policies": file.policies});
            if let Some(w) = file.weights {
                body["weights"] = w;
            }
            body
        }
        _ => from_current_set(&remote, &add, &remove).await?,
    };
    print(&send(client(&remote, reqwest::Method::POST, "/v1/policy-sets").json(&body)).await?)
}

/// The set serving traffic, with `add` (`NAME@VERSION`, replacing a module of that name)
/// and `remove` (`NAME`) applied, as a new set's body.
async fn from_current_set(
    remote: &Remote,
    add: &[String],
    remove: &[String],
) -> anyhow::Result<Value> {
    let current = send(client(remote, reqwest::Method::GET, "/v1/rollouts/current")).await?;
    let stable = current["stable"]
        .as_i64()
        .context("the server did not say which set serves traffic")?;
    let mut set = send(client(
        remote,
        reqwest::Method::GET,
        &format!("/v1/policy-sets/{stable}"),
    ))
    .await?;
    let mut policies: Vec<Value> = set["policies"].as_array().cloned().unwrap_or_default();
    for name in remove {
        let before = policies.len();
        policies.retain(|p| p["name"] != name.as_str());
        if policies.len() == before {
            bail!("--remove {name}: set {stable} has no module `{name}`");
        }
    }
    for entry in add {
        let (name, version) = entry
            .split_once('@')
            .and_then(|(n, v)| Some((n, v.parse::<i64>().ok()?)))
            .with_context(|| format!("--add {entry}: expected NAME@VERSION, e.g. geo_rules@2"))?;
        match policies.iter_mut().find(|p| p["name"] == name) {
            Some(existing) => existing["version"] = json!(version),
            None => policies.push(json!({"name": name, "version": version})),
        }
    }
    let mut body = json!({"thresholds": set["thresholds"].take(), "policies": policies});
    body["weights"] = set["weights"].take();
    eprintln!("from set {stable}: {} module(s)", policies_len(&body));
    Ok(body)
}

fn policies_len(body: &Value) -> usize {
    body["policies"].as_array().map_or(0, Vec::len)
}

pub async fn rollout(cmd: RolloutCommand) -> anyhow::Result<()> {
    let req = match cmd {
        RolloutCommand::Start {
            set,
            percent,
            shadow,
            guard,
            remote,
        } => {
            let mode = if shadow { "shadow" } else { "live" };
            let mut body = json!({"policy_set_version": set, "mode": mode});
            if let Some(percent) = percent {
                body["percent"] = json!(percent);
            }
            if let Some(guard) = guard.body() {
                body["guard"] = guard;
            }
            client(&remote, reqwest::Method::POST, "/v1/rollouts").json(&body)
        }
        RolloutCommand::Live { percent, remote } => {
            client(&remote, reqwest::Method::POST, "/v1/rollouts/current/live")
                .json(&json!({"percent": percent}))
        }
        RolloutCommand::Promote { remote } => client(
            &remote,
            reqwest::Method::POST,
            "/v1/rollouts/current/promote",
        ),
        RolloutCommand::Rollback { reason, remote } => client(
            &remote,
            reqwest::Method::POST,
            "/v1/rollouts/current/rollback",
        )
        .json(&json!({ "reason": reason })),
        RolloutCommand::Status { remote } => {
            client(&remote, reqwest::Method::GET, "/v1/rollouts/current")
        }
    };
    print(&send(req).await?)
}

pub async fn labels(cmd: LabelsCommand) -> anyhow::Result<()> {
    let LabelsCommand::Import { file, remote } = cmd;
    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let req = client(&remote, reqwest::Method::POST, "/v1/labels/import")
        .header("content-type", "text/csv")
        .body(bytes);
    let report = send(req).await?;
    print(&report)?;
    let rejected = report["rejected"].as_array().map_or(0, Vec::len);
    // The summary goes to stderr so stdout stays one JSON document for scripts.
    eprintln!(
        "imported {}, duplicates {}, rejected {rejected}",
        report["imported"], report["duplicates"]
    );
    // A script must not take a partly rejected file for a clean import.
    if rejected > 0 {
        bail!("{rejected} row(s) rejected; see `rejected` in the report");
    }
    Ok(())
}
