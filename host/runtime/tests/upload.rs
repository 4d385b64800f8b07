//! Upload validation: what is refused, with which error, and what an accepted module's
//! artifact looks like.

mod guests;

use guests::{Abi, BOTH};

use arbiter_engine::stages::FaultKind;
use arbiter_runtime::{ModuleError, PolicyRuntime, RuntimeConfig};
use sha2::{Digest, Sha256};

fn validate(wasm: &[u8]) -> Result<arbiter_runtime::Artifact, ModuleError> {
    PolicyRuntime::new(RuntimeConfig::default())
        .expect("runtime")
        .validate(wasm)
}

fn refused(wasm: &[u8]) -> ModuleError {
    let error = validate(wasm).expect_err("refused");
    assert_eq!(error.code(), "invalid_module", "{error}");
    error
}

fn fails_sample_with(wasm: &[u8], expected: FaultKind) {
    match refused(wasm) {
        // Sample 1 is the first with an amount above 1000 (EUR 2500).
        ModuleError::FailsSample { index, fault } => {
            assert_eq!(fault.kind, expected, "{}", fault.message);
            assert_eq!(index, 1);
        }
        other => panic!("expected FailsSample, got {other:?}"),
    }
}

#[test]
fn a_good_module_is_accepted_with_its_content_address() {
    for abi in BOTH {
        let wasm = guests::good(abi);
        let artifact = validate(&wasm).expect("accepted");
        assert_eq!(artifact.sha256, hex::encode(Sha256::digest(&wasm)));
        assert_eq!(artifact.size_bytes, wasm.len());
        assert!(!artifact.precompiled.is_empty());
    }
}

#[test]
fn hostile_guests_fail_the_samples() {
    for abi in BOTH {
        fails_sample_with(&guests::infinite_loop(abi), FaultKind::OutOfFuel);
        fails_sample_with(&guests::memory_bomb(abi), FaultKind::MemoryLimit);
        fails_sample_with(&guests::trap(abi), FaultKind::Trap);
        // The refusal says a panic is a panic, names the sample and shows it, so the author
        // can run it again (`arbiter policy test --context`).
        let text = refused(&guests::trap(abi)).to_string();
        assert!(
            text.starts_with(
                "module faults on sample context 1 (`new_account_order`): trap: the policy panicked"
            ),
            "{text}"
        );
        assert!(
            text.contains("; the context: {\"checkpoint\":\"order.create\""),
            "{text}"
        );
        assert!(!text.contains("trap: trap"), "{text}");
        fails_sample_with(&guests::invalid_enum(abi), FaultKind::MalformedOutput);
        fails_sample_with(&guests::nan_score(abi), FaultKind::MalformedOutput);
        fails_sample_with(
            &guests::verdict_out_of_bounds(abi),
            FaultKind::MalformedOutput,
        );
    }
}

#[test]
fn a_guest_that_cannot_take_the_context_is_refused() {
    for abi in BOTH {
        match refused(&guests::bad_allocator(abi)) {
            ModuleError::FailsSample { index: 0, fault } => {
                assert_eq!(fault.kind, FaultKind::MalformedOutput, "{}", fault.message);
            }
            other => panic!("expected FailsSample on sample 0, got {other:?}"),
        }
    }
}

#[test]
fn a_stateful_module_is_refused() {
    for abi in BOTH {
        match refused(&guests::stateful(abi)) {
            ModuleError::Stateful { .. } => {}
            other => panic!("expected Stateful, got {other:?}"),
        }
    }
}

#[test]
fn a_host_function_import_is_forbidden() {
    for abi in BOTH {
        let wasm = guests::importing(abi, r#"(import "host-log" (func (param "msg" string)))"#);
        assert_eq!(
            refused(&wasm),
            ModuleError::ForbiddenImport {
                name: "host-log".into()
            }
        );
    }
}

#[test]
fn a_wasi_import_is_forbidden() {
    for abi in BOTH {
        let wasm = guests::importing(
            abi,
            r#"(import "wasi:cli/environment@0.2.0"
                 (instance (export "get-arguments" (func (result (list string))))))"#,
        );
        let error = refused(&wasm);
        assert_eq!(
            error,
            ModuleError::ForbiddenImport {
                name: "wasi:cli/environment@0.2.0".into()
            }
        );
        assert!(
            error.to_string().contains("`wasi:cli/environment@0.2.0`"),
            "{error}"
        );
    }
}

#[test]
fn a_function_hidden_in_the_types_interface_is_forbidden() {
    for abi in BOTH {
        assert_eq!(
            refused(&guests::function_in_types_interface(abi)),
            ModuleError::ForbiddenImport {
                name: format!("arbiter:policy/types@{}#log", abi.version())
            }
        );
    }
}

#[test]
fn another_major_version_of_the_abi_is_refused() {
    for (abi, version) in [(Abi::V2, "3.0.0"), (Abi::V1, "0.9.0")] {
        assert_eq!(
            refused(&guests::abi_version(abi, version)),
            ModuleError::AbiVersion {
                found: format!("arbiter:policy/types@{version}")
            }
        );
    }
}

#[test]
fn a_later_minor_version_of_the_abi_is_accepted() {
    validate(&guests::abi_version(Abi::V1, "1.3.0")).expect("1.x is compatible");
    validate(&guests::abi_version(Abi::V2, "2.3.0")).expect("2.x is compatible");
}

#[test]
fn a_module_whose_evaluate_does_not_match_its_declared_major_is_refused() {
    // A typed-record `evaluate` claiming @2, and a byte-buffer one claiming @1.
    for (abi, version) in [(Abi::V1, "2.0.0"), (Abi::V2, "1.0.0")] {
        match refused(&guests::abi_version(abi, version)) {
            ModuleError::Signature { reason } => {
                assert!(reason.contains("evaluate"), "{reason}");
            }
            other => panic!("expected Signature, got {other:?}"),
        }
    }
}

#[test]
fn a_core_module_is_refused() {
    let core = wat::parse_str("(module (func (export \"evaluate\")))").expect("wat");
    assert_eq!(refused(&core), ModuleError::CoreModule);
}

#[test]
fn text_and_garbage_are_not_wasm() {
    assert_eq!(refused(b"(component)"), ModuleError::NotWasm);
    assert_eq!(refused(b""), ModuleError::NotWasm);
    match refused(b"\0asm\x0d\0\x01\0garbage") {
        ModuleError::Compile { .. } => {}
        other => panic!("expected Compile, got {other:?}"),
    }
}

#[test]
fn an_oversize_module_is_refused_before_compiling() {
    let mut wasm = guests::good(Abi::V2);
    wasm.resize((4 << 20) + 1, 0);
    let error = refused(&wasm);
    assert_eq!(
        error,
        ModuleError::TooLarge {
            size: (4 << 20) + 1,
            limit: 4 << 20
        }
    );
    assert_eq!(
        error.to_string(),
        "module exceeds the 4 MiB size cap: 4194305 bytes"
    );
}

#[test]
fn a_missing_evaluate_export_is_refused() {
    for abi in BOTH {
        assert_eq!(
            refused(&guests::without_evaluate(abi)),
            ModuleError::MissingExport
        );
    }
}

#[test]
fn a_wrongly_typed_evaluate_is_refused() {
    match refused(&guests::wrong_signature()) {
        ModuleError::Signature { reason } => assert!(reason.contains("evaluate"), "{reason}"),
        other => panic!("expected Signature, got {other:?}"),
    }
}

#[test]
fn a_module_over_the_memory_cap_at_start_is_refused() {
    for abi in BOTH {
        match refused(&guests::huge_initial_memory(abi)) {
            ModuleError::Instantiate { .. } => {}
            other => panic!("expected Instantiate, got {other:?}"),
        }
    }
}

#[test]
fn an_artifact_from_elsewhere_does_not_load() {
    let runtime = PolicyRuntime::new(RuntimeConfig::default()).expect("runtime");
    let error = runtime.load(b"not an artifact").expect_err("refused");
    assert!(matches!(error, ModuleError::Artifact { .. }), "{error:?}");
    assert_eq!(error.code(), "module_artifact");
}
