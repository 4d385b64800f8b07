//! `arbiter policy build [DIR]`: a Rust policy crate to an uploadable component, with no
//! tool but cargo. It builds the crate for `wasm32-unknown-unknown` (release) and encodes
//! the core module as an `arbiter:policy` component with `wit-component` — the encoder the
//! host's build script uses for the bundled examples, and the rule compiler for rule files —
//! so no `wasm-tools` install, and no version of it to pin.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use serde_json::Value;

const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Builds the policy crate in `dir` and writes `<name>.component.wasm` beside the core
/// module; returns its path.
pub fn build(dir: &Path, target_dir: Option<&Path>) -> anyhow::Result<PathBuf> {
    let manifest = dir.join("Cargo.toml");
    if !manifest.is_file() {
        bail!(
            "{} has no Cargo.toml: name the directory of a policy crate (policies/README.md)",
            dir.display()
        );
    }
    let manifest = manifest
        .canonicalize()
        .with_context(|| format!("reading {}", manifest.display()))?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args(["build", "--release", "--target", WASM_TARGET])
        .args([
            "--message-format",
            "json-render-diagnostics",
            "--manifest-path",
        ])
        .arg(&manifest)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(target_dir) = target_dir {
        command.arg("--target-dir").arg(target_dir);
    }
    let output = command.output().context("running cargo")?;
    if !output.status.success() {
        bail!(
            "cargo build for {WASM_TARGET} failed (its errors are above; a missing target is \
             added with `rustup target add {WASM_TARGET}`)"
        );
    }
    let core_path = artifact(&output.stdout, &manifest).with_context(|| {
        format!(
            "the build produced no .wasm: is {} a `cdylib` crate (policies/README.md, step 1)?",
            manifest.display()
        )
    })?;
    let core =
        std::fs::read(&core_path).with_context(|| format!("reading {}", core_path.display()))?;
    let component = wit_component::ComponentEncoder::default()
        .module(&core)
        .and_then(|encoder| encoder.validate(true).encode())
        .map_err(|error| {
            anyhow::anyhow!(
                "{} is not a policy module: encoding it as a component failed ({error:#}); \
                 a policy exports `evaluate` with `arbiter_policy_sdk::export_policy!`",
                core_path.display()
            )
        })?;
    let out = core_path.with_extension("component.wasm");
    std::fs::write(&out, &component).with_context(|| format!("writing {}", out.display()))?;
    Ok(out)
}

/// The `.wasm` file cargo reported for the package of `manifest`.
fn artifact(stdout: &[u8], manifest: &Path) -> Option<PathBuf> {
    let manifest = manifest.to_str()?;
    String::from_utf8_lossy(stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["manifest_path"] == manifest)
        .flat_map(|m| {
            m["filenames"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter_map(|f| f.as_str().map(PathBuf::from))
                .collect::<Vec<_>>()
        })
        .find(|f| f.extension().is_some_and(|e| e == "wasm"))
}
