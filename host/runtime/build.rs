//! Builds the example policies into components the runtime embeds (see `src/bundled.rs`).
//!
//! The policies are their own cargo workspace (`policies/`) because they are compiled for
//! `wasm32-unknown-unknown`, not for the host. This script runs a nested
//! `cargo build --release --target wasm32-unknown-unknown` of that workspace, encodes each
//! example's core module as a component of the `arbiter:policy` world with
//! `wit-component`, checks that it exports `evaluate`, and writes
//! `$OUT_DIR/bundled_policies.rs` listing them. A plain `cargo build` or `cargo test` of
//! the host therefore always has real, current policy components: no separate step, no
//! checked-in binaries.
//!
//! The nested build gets its own target directory beside the outer one (not inside the
//! outer build's lock, reused across builds so it is incremental) and an environment
//! scrubbed of everything the outer build sets for *its* compilation: flags, target,
//! profile, wrappers (clippy's included) and jobserver.

use std::env;
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// The ABI package every bundled component must be built against (`policies/wit/policy.wit`).
const ABI_PACKAGE: &str = "arbiter:policy@2.0.0";
/// The function the ABI's world exports.
const ABI_EXPORT: &str = "evaluate";

/// Variables the outer build sets for its own compilation that must not steer the nested one.
const SCRUBBED_VARS: &[&str] = &[
    "RUSTFLAGS",
    "RUSTDOCFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_ENCODED_RUSTDOCFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    "CARGO_BUILD_RUSTDOCFLAGS",
    "CARGO_BUILD_TARGET",
    "CARGO_BUILD_TARGET_DIR",
    "CARGO_BUILD_BUILD_DIR",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_RUSTC_WRAPPER",
    "CARGO_BUILD_RUSTC_WORKSPACE_WRAPPER",
    "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "CLIPPY_ARGS",
    "CARGO_MAKEFLAGS",
    "MAKEFLAGS",
    "MFLAGS",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_RUSTC_CURRENT_DIR",
    "CARGO_TARGET_TMPDIR",
    "RUSTC_LINKER",
    "TARGET",
    "HOST",
    "OUT_DIR",
    "OPT_LEVEL",
    "PROFILE",
    "DEBUG",
    "NUM_JOBS",
];

/// Prefixes of per-package, per-profile and per-target variables of the outer build.
const SCRUBBED_PREFIXES: &[&str] = &[
    "CARGO_PROFILE_",
    "CARGO_CFG_",
    "CARGO_FEATURE_",
    "CARGO_PKG_",
    "CARGO_MANIFEST_",
    "CARGO_CRATE_",
    "CARGO_BIN_",
    "DEP_",
    "__CARGO_",
];

fn main() {
    let manifest_dir = PathBuf::from(required_var("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(required_var("OUT_DIR"));
    let policies = manifest_dir.join("../../policies");
    let policies = policies.canonicalize().unwrap_or_else(|error| {
        panic!(
            "policies workspace not found at `{}`: {error}",
            policies.display()
        )
    });

    for watched in ["wit", "sdk", "examples", "Cargo.toml", "Cargo.lock"] {
        let path = policies.join(watched);
        // A missing path would count as changed on every build; Cargo.lock may not exist yet.
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }

    ensure_wasm_target();
    let target_dir = nested_target_dir(&out_dir);
    build_policies(&policies, &target_dir);

    let artifacts = target_dir.join(WASM_TARGET).join("release");
    let components = out_dir.join("policies");
    fs::create_dir_all(&components)
        .unwrap_or_else(|error| panic!("creating `{}`: {error}", components.display()));
    let mut bundled = Vec::new();
    for name in example_names(&policies) {
        let module_path = artifacts.join(format!("{}.wasm", name.replace('-', "_")));
        let module = fs::read(&module_path).unwrap_or_else(|error| {
            panic!(
                "policy `{name}` built no module at `{}` ({error}); is `examples/{name}` a \
                 member of policies/Cargo.toml with crate-type \"cdylib\" and a package \
                 named after its directory?",
                module_path.display()
            )
        });
        let component = encode_component(&name, &module);
        let component_path = components.join(format!("{name}.wasm"));
        fs::write(&component_path, &component)
            .unwrap_or_else(|error| panic!("writing `{}`: {error}", component_path.display()));
        bundled.push((name, component_path));
    }
    write_manifest(&out_dir.join("bundled_policies.rs"), &bundled);
}

fn required_var(name: &str) -> String {
    env::var(name).unwrap_or_else(|error| panic!("cargo did not set `{name}`: {error}"))
}

/// Makes sure the toolchain building us can target wasm32, installing the target with
/// rustup if it is missing. Without rustup (a distribution toolchain) the check is skipped
/// and a missing target surfaces as the nested build's error.
fn ensure_wasm_target() {
    let toolchain = env::var("RUSTUP_TOOLCHAIN").ok();
    let rustup = |args: &[&str]| {
        let mut command = Command::new("rustup");
        command.args(args);
        if let Some(toolchain) = &toolchain {
            command.args(["--toolchain", toolchain]);
        }
        command
    };
    let add_command = match &toolchain {
        Some(toolchain) => format!("rustup target add {WASM_TARGET} --toolchain {toolchain}"),
        None => format!("rustup target add {WASM_TARGET}"),
    };

    let Ok(listed) = rustup(&["target", "list", "--installed"]).output() else {
        println!("cargo:warning=rustup not found; assuming `{WASM_TARGET}` is installed");
        return;
    };
    let installed = String::from_utf8_lossy(&listed.stdout);
    if listed.status.success() && installed.lines().any(|line| line.trim() == WASM_TARGET) {
        return;
    }
    let added = rustup(&["target", "add", WASM_TARGET]).output();
    match added {
        Ok(output) if output.status.success() => {}
        Ok(output) => panic!(
            "the `{WASM_TARGET}` target is needed to build the bundled policies and \
             installing it failed:\n{}\nrun `{add_command}` and build again",
            String::from_utf8_lossy(&output.stderr)
        ),
        Err(error) => panic!(
            "the `{WASM_TARGET}` target is needed to build the bundled policies and \
             rustup could not be run ({error}); run `{add_command}` and build again"
        ),
    }
}

/// `<target dir>/policies-wasm`: stable across builds (so the nested build is incremental)
/// and shared by debug, release and clippy builds of the host, yet outside the outer
/// build's locked profile directory.
fn nested_target_dir(out_dir: &Path) -> PathBuf {
    if let Some(dir) = env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir).join("policies-wasm");
    }
    // OUT_DIR is `<target>/[<triple>/]<profile>/build/<pkg>-<hash>/out`.
    out_dir
        .ancestors()
        .find(|dir| dir.file_name() == Some(OsStr::new("build")))
        .and_then(|build| build.parent()?.parent())
        .map_or_else(
            || out_dir.join("policies-wasm"),
            |target| target.join("policies-wasm"),
        )
}

fn build_policies(policies: &Path, target_dir: &Path) {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(policies)
        .args(["build", "--release", "--workspace", "--target", WASM_TARGET])
        .arg("--manifest-path")
        .arg(policies.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir);
    for (key, _) in env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        if SCRUBBED_VARS.contains(&key)
            || SCRUBBED_PREFIXES
                .iter()
                .any(|prefix| key.starts_with(prefix))
        {
            command.env_remove(key);
        }
    }
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("running the nested cargo build of the policies: {error}"));
    assert!(
        output.status.success(),
        "building the policies workspace for {WASM_TARGET} failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The example policies: every directory under `policies/examples` with a manifest,
/// sorted so the generated list is stable.
fn example_names(policies: &Path) -> Vec<String> {
    let examples = policies.join("examples");
    let entries = fs::read_dir(&examples)
        .unwrap_or_else(|error| panic!("reading `{}`: {error}", examples.display()));
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|entry| entry.path().join("Cargo.toml").is_file())
        .filter_map(|entry| entry.file_name().into_string().ok())
        .collect();
    names.sort();
    names
}

/// Encodes a core module as a component and checks it speaks the ABI.
fn encode_component(name: &str, module: &[u8]) -> Vec<u8> {
    let component = wit_component::ComponentEncoder::default()
        .module(module)
        .and_then(|encoder| encoder.validate(true).encode())
        .unwrap_or_else(|error| panic!("encoding policy `{name}` as a component: {error:?}"));

    let decoded = wit_component::decode(&component)
        .unwrap_or_else(|error| panic!("decoding the component of policy `{name}`: {error:?}"));
    let wit_component::DecodedWasm::Component(resolve, world) = decoded else {
        panic!("policy `{name}` encoded to a WIT package, not a component");
    };
    let exports: Vec<String> = resolve.worlds[world]
        .exports
        .keys()
        .map(|key| resolve.name_world_key(key))
        .collect();
    assert!(
        exports.iter().any(|export| export == ABI_EXPORT),
        "policy `{name}` does not export `{ABI_EXPORT}` (exports: {exports:?})"
    );
    assert!(
        resolve
            .packages
            .iter()
            .any(|(_, package)| package.name.to_string() == ABI_PACKAGE),
        "policy `{name}` is not built against `{ABI_PACKAGE}`"
    );
    component
}

fn write_manifest(path: &Path, bundled: &[(String, PathBuf)]) {
    let mut source = String::from(
        "// @generated by host/runtime/build.rs from policies/examples; do not edit.\n\n\
         /// Every example policy, sorted by name, encoded as an `arbiter:policy` component.\n\
         pub const BUNDLED: &[BundledPolicy] = &[\n",
    );
    for (name, component) in bundled {
        let component = component
            .to_str()
            .unwrap_or_else(|| panic!("OUT_DIR path `{}` is not UTF-8", component.display()));
        // `{:?}` of a `str` is a valid Rust string literal (quotes and escapes included).
        let _ = writeln!(
            source,
            "    BundledPolicy {{ name: {name:?}, component: include_bytes!({component:?}) }},"
        );
    }
    source.push_str("];\n");
    fs::write(path, source).unwrap_or_else(|error| panic!("writing `{}`: {error}", path.display()));
}
