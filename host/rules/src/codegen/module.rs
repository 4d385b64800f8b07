//! Assembles the core module: types, functions, one memory, the globals, the data segment
//! and the exports the canonical ABI looks for (`memory`, `cabi_realloc`, `evaluate`,
//! `cabi_post_evaluate`).

use wasm_encoder::{
    CodeSection, ConstExpr, DataSection, ExportKind, ExportSection, FunctionSection, GlobalSection,
    GlobalType, MemorySection, MemoryType, Module, TypeSection, ValType,
};

use super::data::DataPool;
use super::evaluate::evaluate;
use super::helpers::{Helper, HelperData, func, global, helpers};
use crate::check::ir::Program;
use crate::interpret::MISSING;
use crate::verdict::VerdictLimits;

/// The core module of `program`.
pub fn core_module(program: &Program, limits: &VerdictLimits) -> Vec<u8> {
    let mut data = DataPool::new();
    let missing = data.intern(MISSING.as_bytes());
    // `evaluate` interns its literals first, so the heap starts after all of them.
    let evaluate_body = evaluate(program, &mut data, limits);
    let heap_base = data.end();
    let mut functions = helpers(&HelperData {
        heap_base,
        powers_of_ten: data.powers_of_ten(),
        missing,
    });
    functions[func::EVALUATE as usize] = Some(Helper {
        params: vec![ValType::I32, ValType::I32],
        results: vec![ValType::I32],
        body: evaluate_body,
    });

    let mut types = TypeSection::new();
    let mut declared = FunctionSection::new();
    let mut code = CodeSection::new();
    for (index, function) in functions.iter().flatten().enumerate() {
        types.ty().function(
            function.params.iter().copied(),
            function.results.iter().copied(),
        );
        let index = u32::try_from(index).unwrap_or(u32::MAX);
        declared.function(index);
        code.raw(&function.body);
    }

    let mut memories = MemorySection::new();
    memories.memory(MemoryType {
        minimum: u64::from(heap_base.div_ceil(65_536)).max(1),
        maximum: None,
        memory64: false,
        shared: false,
        page_size_log2: None,
    });

    let mut globals = GlobalSection::new();
    for index in 0..global::COUNT {
        let init = if index == global::HEAP {
            i32::try_from(heap_base).unwrap_or(i32::MAX)
        } else {
            0
        };
        globals.global(
            GlobalType {
                val_type: ValType::I32,
                mutable: true,
                shared: false,
            },
            &ConstExpr::i32_const(init),
        );
    }

    let mut exports = ExportSection::new();
    exports
        .export("memory", ExportKind::Memory, 0)
        .export("cabi_realloc", ExportKind::Func, func::REALLOC)
        .export("evaluate", ExportKind::Func, func::EVALUATE)
        .export("cabi_post_evaluate", ExportKind::Func, func::POST_RETURN);

    let mut segments = DataSection::new();
    segments.active(
        0,
        &ConstExpr::i32_const(i32::try_from(super::data::DATA_START).unwrap_or(0)),
        data.bytes().iter().copied(),
    );

    let mut module = Module::new();
    module
        .section(&types)
        .section(&declared)
        .section(&memories)
        .section(&globals)
        .section(&exports)
        .section(&code)
        .section(&segments);
    module.finish()
}
