//! `arbiter rule check|compile|test|push` and `arbiter policy test`: what a risk engineer
//! runs on a laptop before anything reaches a server.
//!
//! `check`, `compile` and `test` run locally with the same compiler options the server uses
//! (`services::policies::rule_options`, at the default runtime limits) and, for `test`,
//! the same runtime: the module is validated like an upload and called exactly as the
//! decision path calls it. `push` uploads through the public API.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Subcommand;
use serde::Deserialize;
use serde_json::Value;

use arbiter_engine::Action;
use arbiter_engine::context::EnrichedContext;
use arbiter_engine::money::{RateTable, RateTableWire};
use arbiter_engine::request::DecisionRequest;
use arbiter_runtime::{LoadedModule, ModuleOutcome, PolicyRuntime, RuntimeConfig};

use crate::remote::Remote;
use crate::services::policies::rule_options::compile_options;

#[derive(Debug, Subcommand)]
pub enum RuleCommand {
    /// Parse and type-check a rule file; print every problem under its line.
    Check { file: PathBuf },
    /// Compile a rule file into an `arbiter:policy@2` component.
    Compile {
        file: PathBuf,
        /// Where to write the component (default: FILE with `.wasm`).
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// Run a rule file on JSON cases and check each expected verdict.
    Test {
        file: PathBuf,
        /// A JSON array of cases: `{"name", "request" | "context", "expect"}` (see
        /// policies/RULES.md).
        #[arg(long)]
        cases: PathBuf,
    },
    /// Upload a rule file to a running server as a new version of `--name`.
    Push {
        file: PathBuf,
        #[arg(long)]
        name: String,
        #[command(flatten)]
        remote: Remote,
    },
}

pub async fn run(command: RuleCommand) -> anyhow::Result<()> {
    match command {
        RuleCommand::Check { file } => {
            let compiled = compile(&file)?;
            println!(
                "{}: {} rule(s), worst-case fuel {} of {} per call",
                file.display(),
                compiled.program.rules.len(),
                compiled.fuel_bound,
                RuntimeConfig::default().fuel_per_call
            );
            Ok(())
        }
        RuleCommand::Compile { file, out } => {
            let compiled = compile(&file)?;
            let out = out.unwrap_or_else(|| file.with_extension("wasm"));
            std::fs::write(&out, &compiled.component)
                .with_context(|| format!("writing {}", out.display()))?;
            println!(
                "{}: {} bytes, {} rule(s)",
                out.display(),
                compiled.component.len(),
                compiled.program.rules.len()
            );
            Ok(())
        }
        RuleCommand::Test { file, cases } => test(&file, &cases).await,
        RuleCommand::Push { file, name, remote } => {
            crate::remote::push_rules(&file, &name, &remote).await
        }
    }
}

/// Reads and compiles a rule file; a refusal prints every problem under its line.
fn compile(file: &Path) -> anyhow::Result<arbiter_rules::Compiled> {
    let source =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let options = compile_options(&RuntimeConfig::default());
    match arbiter_rules::compile(&source, &options) {
        Ok(compiled) => Ok(compiled),
        Err(problems) => {
            eprint!("{}", problems.render(&file.display().to_string(), &source));
            bail!("{} problem(s) in {}", problems.items.len(), file.display())
        }
    }
}

/// A module loaded the way an upload is: a `.wasm` component as it is, anything else
/// compiled as a rule file; then validated (ABI, samples, purity) and loaded.
fn load(file: &Path) -> anyhow::Result<Arc<LoadedModule>> {
    let component = if file.extension().is_some_and(|e| e == "wasm") {
        std::fs::read(file).with_context(|| format!("reading {}", file.display()))?
    } else {
        compile(file)?.component
    };
    let runtime = PolicyRuntime::new(RuntimeConfig::default())?;
    let artifact = runtime.validate(&component)?;
    Ok(runtime.load(&artifact.precompiled)?)
}

/// One case of `arbiter rule test`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    /// A decision request as `POST /v1/decisions` takes it; its velocity is zero and it
    /// has no graph features or watch hits unless `features` gives them.
    request: Option<Value>,
    /// Or an enriched context as a stored decision shows it.
    context: Option<EnrichedContext>,
    #[serde(default)]
    features: Features,
    #[serde(default)]
    expect: Expect,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Features {
    velocity: Option<arbiter_engine::velocity::VelocityFeatures>,
    graph: Option<arbiter_engine::context::GraphFeatures>,
    #[serde(default)]
    watch_hits: Vec<String>,
    /// The rate table a request's amount is converted with (`amount.reporting`); without
    /// one, a server that never set a table: only USD converts, at 1.
    rates: Option<RateTableWire>,
    /// The model's score, as an active model would give it (`model.score`).
    model_score: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    action: Option<Action>,
    score: Option<f64>,
    /// Reason codes, in the order the rules are written.
    reasons: Option<Vec<String>>,
}

/// The context the pipeline builds from a decision request, its amount converted with
/// `rates`, before velocity, graph and lists fill in theirs.
fn from_request(request: &Value, what: &str, rates: &RateTable) -> anyhow::Result<EnrichedContext> {
    let request = DecisionRequest::from_value(request.clone())
        .map_err(|e| anyhow::anyhow!("{what}: request: {e}"))?;
    Ok(EnrichedContext::normalise(&request, rates))
}

fn context_of(case: &Case) -> anyhow::Result<EnrichedContext> {
    let what = format!("case `{}`", case.name);
    let rates = match &case.features.rates {
        Some(wire) => {
            RateTable::parse(wire, 1).map_err(|e| anyhow::anyhow!("{what}: rates: {e}"))?
        }
        None => RateTable::default(),
    };
    let mut ctx = match (&case.request, &case.context) {
        (Some(request), None) => from_request(request, &what, &rates)?,
        (None, Some(context)) => context.clone(),
        _ => bail!(
            "case `{}`: give exactly one of `request` and `context`",
            case.name
        ),
    };
    if let Some(velocity) = &case.features.velocity {
        ctx.velocity = velocity.clone();
    }
    if let Some(graph) = &case.features.graph {
        ctx.graph = Some(*graph);
    }
    ctx.watch_hits
        .extend(case.features.watch_hits.iter().cloned());
    ctx.model_score = case.features.model_score;
    Ok(ctx)
}

async fn test(file: &Path, cases: &Path) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(cases).with_context(|| format!("reading {}", cases.display()))?;
    let cases: Vec<Case> =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", cases.display()))?;
    let module = load(file)?;
    let mut failed = 0;
    for case in &cases {
        let ctx = context_of(case)?;
        let outcome = module.evaluate(&ctx);
        let problems = compare(&outcome, &case.expect);
        if problems.is_empty() {
            println!("ok    {} ({})", case.name, summary(&outcome));
        } else {
            failed += 1;
            println!(
                "FAIL  {}: {} ({})",
                case.name,
                problems.join("; "),
                summary(&outcome)
            );
        }
    }
    println!("{} case(s), {} failed", cases.len(), failed);
    if failed > 0 {
        bail!("{failed} case(s) failed");
    }
    Ok(())
}

/// What differs from the expectation, in words.
fn compare(outcome: &ModuleOutcome, expect: &Expect) -> Vec<String> {
    let verdict = match &outcome.result {
        Ok(verdict) => verdict,
        Err(fault) => {
            return vec![format!(
                "the module faulted: {:?}: {}",
                fault.kind, fault.message
            )];
        }
    };
    let mut problems = Vec::new();
    if let Some(action) = expect.action
        && action != verdict.action
    {
        problems.push(format!(
            "expected action {}, got {}",
            action.as_str(),
            verdict.action.as_str()
        ));
    }
    if let Some(score) = expect.score
        && (score - verdict.score).abs() > 1e-6
    {
        problems.push(format!("expected score {score}, got {}", verdict.score));
    }
    if let Some(reasons) = &expect.reasons {
        let got: Vec<&str> = verdict.reasons.iter().map(|r| r.code.as_str()).collect();
        if got != reasons.iter().map(String::as_str).collect::<Vec<_>>() {
            problems.push(format!("expected reasons {reasons:?}, got {got:?}"));
        }
    }
    problems
}

/// A verdict (or fault) and the fuel it took, on one line.
pub fn summary(outcome: &ModuleOutcome) -> String {
    match &outcome.result {
        Ok(verdict) => {
            let reasons: Vec<String> = verdict
                .reasons
                .iter()
                .map(|r| match &r.detail {
                    Some(detail) => format!("{} \"{detail}\"", r.code),
                    None => r.code.clone(),
                })
                .collect();
            format!(
                "{}, score {}, fuel {}, reasons [{}]",
                verdict.action.as_str(),
                verdict.score,
                outcome.fuel_used,
                reasons.join(", ")
            )
        }
        Err(fault) => format!(
            "fault {:?}: {}, fuel {}",
            fault.kind, fault.message, outcome.fuel_used
        ),
    }
}

/// `arbiter policy test FILE --context ctx.json`: one context through a module (a `.wasm`
/// component or a rule file); prints the verdict, the reasons and the fuel used.
pub fn policy_test(file: &Path, context: &Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(context)
        .with_context(|| format!("reading {}", context.display()))?;
    let value: Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", context.display()))?;
    let ctx = if value.get("velocity").is_some() && value.get("checkpoint").is_some() {
        serde_json::from_value(value).with_context(|| format!("reading {}", context.display()))?
    } else {
        from_request(
            &value,
            &context.display().to_string(),
            &RateTable::default(),
        )?
    };
    let module = load(file)?;
    let outcome = module.evaluate(&ctx);
    println!("{}", summary(&outcome));
    if outcome.result.is_err() {
        bail!("the module faulted on this context");
    }
    Ok(())
}
