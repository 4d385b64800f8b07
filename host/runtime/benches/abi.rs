//! What the *shape* of the policy ABI costs the host on every call, with guests that do
//! no work (they write a constant verdict), so only the host side and the boundary count:
//!
//! - `typed_record`: `arbiter:policy@1`, `evaluate: func(ctx: context) -> verdict` with
//!   the typed `context` record, through the runtime (pool, fuel, deadline, limits).
//!   Wasmtime lowers the record field by field (every option discriminant, every number)
//!   and calls the guest's `cabi_realloc` once per string and list.
//! - `v2_bytes`: `arbiter:policy@2`, the context as one `list<u8>` in layout 2.0 (one
//!   `cabi_realloc`, one `memcpy`), through the runtime exactly as a decision calls it.
//! - `bytes_component`: the same shape, raw wasmtime (no pool, no limiter): the floor of
//!   the component model for this signature.
//! - `core_module`: a core module whose host writes the bytes into a fixed input buffer
//!   and calls `evaluate(ptr, len) -> ptr`, raw wasmtime.
//!
//! All of them run with fuel and epoch interruption on. Encoding the context (once per
//! decision; `module_call/context_encoding` in the `rules` bench) and reading it in the
//! guest are not included. This bench informed the ABI decision that issue 3 left open
//! ("a documented core-module ABI with a compact binary layout is acceptable — measure both
//! and say why"); BENCHMARKS.md has the figures and the choice.

#[path = "../tests/guests/mod.rs"]
mod guests;

use std::hint::black_box;

use arbiter_runtime::{PolicyRuntime, PreparedContext, RuntimeConfig, sample_contexts};
use criterion::{Criterion, criterion_group, criterion_main};
use guests::Abi;
use wasmtime::{Config, Engine, Instance, Module, Store};

mod bytes_world {
    wasmtime::component::bindgen!({
        inline: "
            package bench:bytes;
            world policy {
                enum action { none, accept, challenge, reject }
                record reason { code: string, detail: option<string> }
                record verdict { action: action, score: f32, reasons: list<reason> }
                export evaluate: func(ctx: list<u8>) -> verdict;
            }
        ",
    });
}

/// Roughly the size of the full payment sample context in a compact layout.
const CONTEXT_BYTES: usize = 800;
const FUEL: u64 = 1_000_000;
const DEADLINE_TICKS: u64 = 21;

/// A guest core module: bump allocator, reset after each call, constant `accept` verdict.
const CORE: &str = r#"
    (memory (export "memory") 2)
    (global $heap (mut i32) (i32.const 4096))
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
      (local $ptr i32)
      (local.set $ptr
        (i32.and
          (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
          (i32.sub (i32.const 0) (local.get 2))))
      (global.set $heap (i32.add (local.get $ptr) (local.get 3)))
      (local.get $ptr))
    (func (export "cabi_post_evaluate") (param i32) (global.set $heap (i32.const 4096)))
    (func (export "evaluate") (param $ptr i32) (param $len i32) (result i32)
      (drop (i32.load8_u (local.get $ptr)))
      (i32.store8 (i32.const 64) (i32.const 1))
      (f32.store (i32.const 68) (f32.const 0))
      (i32.store (i32.const 72) (i32.const 0))
      (i32.store (i32.const 76) (i32.const 0))
      (i32.const 64))
"#;

fn engine() -> Engine {
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .consume_fuel(true)
        .epoch_interruption(true);
    Engine::new(&config).expect("engine")
}

/// Both majors through the runtime; the prepared context is converted on the first call
/// and reused, as a rule set reuses it for every module of a decision.
fn through_runtime(c: &mut Criterion) {
    let runtime = PolicyRuntime::new(RuntimeConfig::default()).expect("runtime");
    let samples = sample_contexts();
    for (abi, label) in [(Abi::V1, "typed_record"), (Abi::V2, "v2_bytes")] {
        let artifact = runtime.compile(&guests::good(abi)).expect("compiles");
        let module = runtime.load(&artifact.precompiled).expect("loads");
        let full = PreparedContext::new(&samples[0]);
        let bare = PreparedContext::new(&samples[samples.len() - 1]);
        c.bench_function(&format!("abi/{label}/full_payment_context"), |b| {
            b.iter(|| black_box(module.evaluate_prepared(black_box(&full))))
        });
        c.bench_function(&format!("abi/{label}/bare_context"), |b| {
            b.iter(|| black_box(module.evaluate_prepared(black_box(&bare))))
        });
    }
}

fn bytes_component(c: &mut Criterion) {
    let engine = engine();
    let text = format!(
        r#"(component
          (core module $m {CORE})
          (core instance $i (instantiate $m))
          (type $action-def (enum "none" "accept" "challenge" "reject"))
          (export $action "action" (type $action-def))
          (type $reason-def (record (field "code" string) (field "detail" (option string))))
          (export $reason "reason" (type $reason-def))
          (type $verdict-def
            (record (field "action" $action) (field "score" f32) (field "reasons" (list $reason))))
          (export $verdict "verdict" (type $verdict-def))
          (alias core export $i "memory" (core memory $memory))
          (alias core export $i "cabi_realloc" (core func $realloc))
          (alias core export $i "cabi_post_evaluate" (core func $post))
          (func (export "evaluate") (param "ctx" (list u8)) (result $verdict)
            (canon lift (core func $i "evaluate") (memory $memory) (realloc $realloc)
              string-encoding=utf8 (post-return $post))))"#
    );
    let component = wasmtime::component::Component::new(&engine, text).expect("component");
    let linker = wasmtime::component::Linker::<()>::new(&engine);
    let mut store = Store::new(&engine, ());
    let policy =
        bytes_world::Policy::instantiate(&mut store, &component, &linker).expect("instance");
    let ctx = vec![7u8; CONTEXT_BYTES];
    c.bench_function("abi/bytes_component/800_bytes", |b| {
        b.iter(|| {
            store.set_fuel(FUEL).expect("fuel");
            store.set_epoch_deadline(DEADLINE_TICKS);
            black_box(policy.call_evaluate(&mut store, black_box(&ctx)))
        })
    });
}

fn core_module(c: &mut Criterion) {
    let engine = engine();
    let module = Module::new(&engine, format!("(module {CORE})")).expect("module");
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).expect("instance");
    let evaluate = instance
        .get_typed_func::<(u32, u32), u32>(&mut store, "evaluate")
        .expect("evaluate");
    let memory = instance.get_memory(&mut store, "memory").expect("memory");
    let ctx = vec![7u8; CONTEXT_BYTES];
    let len = u32::try_from(ctx.len()).expect("small");
    c.bench_function("abi/core_module/800_bytes", |b| {
        b.iter(|| {
            store.set_fuel(FUEL).expect("fuel");
            store.set_epoch_deadline(DEADLINE_TICKS);
            memory
                .write(&mut store, 8192, black_box(&ctx))
                .expect("write");
            let verdict = evaluate.call(&mut store, (8192, len)).expect("call");
            let mut out = [0u8; 16];
            memory
                .read(&store, usize::try_from(verdict).unwrap_or(0), &mut out)
                .expect("read");
            black_box(out)
        })
    });
}

criterion_group!(benches, through_runtime, bytes_component, core_module);
criterion_main!(benches);
