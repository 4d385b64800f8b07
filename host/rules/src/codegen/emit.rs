//! The function being written: its instruction bytes and the locals it needs, allocated
//! while emitting (wasm-encoder wants the locals before the code, so the body is assembled
//! at the end).

use wasm_encoder::{Encode, InstructionSink, MemArg, MemArgTarget, ValType};

/// One function body under construction.
pub struct Body {
    params: u32,
    locals: Vec<ValType>,
    code: Vec<u8>,
}

impl Body {
    pub fn new(params: u32) -> Body {
        Body {
            params,
            locals: Vec::new(),
            code: Vec::new(),
        }
    }

    /// Where the next instructions go.
    pub fn sink(&mut self) -> InstructionSink<'_> {
        InstructionSink::new(&mut self.code)
    }

    /// A fresh local of type `ty`.
    pub fn local(&mut self, ty: ValType) -> u32 {
        self.locals.push(ty);
        self.params + u32::try_from(self.locals.len() - 1).unwrap_or(u32::MAX)
    }

    /// The encoded body (locals, code, `end`) for `CodeSection::raw`.
    pub fn finish(mut self) -> Vec<u8> {
        self.sink().end();
        let mut groups: Vec<(u32, ValType)> = Vec::new();
        for ty in &self.locals {
            match groups.last_mut() {
                Some((count, last)) if last == ty => *count += 1,
                _ => groups.push((1, *ty)),
            }
        }
        let mut out = Vec::new();
        u32::try_from(groups.len())
            .unwrap_or(u32::MAX)
            .encode(&mut out);
        for (count, ty) in groups {
            count.encode(&mut out);
            ty.encode(&mut out);
        }
        out.extend_from_slice(&self.code);
        out
    }
}

/// A memory access at `offset` with natural alignment `align` (log2 bytes).
pub fn mem(offset: u64, align: u32) -> MemArg {
    MemArg {
        offset,
        align,
        target: MemArgTarget::Memory(0),
        ordering: None,
    }
}
