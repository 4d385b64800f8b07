//! The `evaluate(ptr, len) -> verdict*` function: check the context's header, run each
//! rule whose checkpoint filter matches, and write the verdict in the canonical ABI's
//! layout of `record verdict { action: u8 @0, score: f32 @4, reasons: list @8 }`, each
//! reason `{ code: string @0, detail: option<string> @8 (tag) / @12 (string) }`, 20 bytes.

use wasm_encoder::{BlockType, Ieee32, ValType};

use super::data::DataPool;
use super::emit::{Body, mem};
use super::expr::{Exprs, TextValue};
use super::helpers::{addr, func, global};
use crate::check::ir::{ALL_CHECKPOINTS, CheckedRule, Piece, Program};
use crate::layout;
use crate::verdict::VerdictLimits;

/// Bytes of one reason in the returned list.
const REASON_SIZE: u32 = 20;
/// Bytes of the verdict record.
const VERDICT_SIZE: u32 = 16;

/// The body of `evaluate` (params: buffer address, buffer length).
pub fn evaluate(program: &Program, data: &mut DataPool, limits: &VerdictLimits) -> Vec<u8> {
    let mut body = Body::new(2);
    let (buf, len) = (0, 1);
    let action = body.local(ValType::I32);
    let score = body.local(ValType::F32);
    let count = body.local(ValType::I32);
    let ret = body.local(ValType::I32);
    let present = body.local(ValType::I32);
    let mask = body.local(ValType::I32);
    let text_offset = body.local(ValType::I32);
    let max_reasons = limits
        .max_reasons
        .min(u32::try_from(program.rules.len()).unwrap_or(0));

    // The verdict and its reason list, in one block.
    body.sink()
        .i32_const(addr(VERDICT_SIZE + REASON_SIZE * max_reasons))
        .i32_const(4)
        .call(func::ALLOC)
        .local_set(ret)
        .block(BlockType::Empty);
    header(&mut body, buf, len, text_offset);
    body.sink()
        .local_get(buf)
        .global_set(global::BUF)
        .local_get(buf)
        .local_get(text_offset)
        .i32_add()
        .global_set(global::TEXT_BASE)
        .local_get(len)
        .local_get(text_offset)
        .i32_sub()
        .global_set(global::TEXT_AVAIL)
        .local_get(buf)
        .i32_load(mem(layout::AT_PRESENT as u64, 0))
        .local_set(present);
    // 2.1's fields are absent unless `fixed-len` and the buffer both cover them.
    body.sink()
        .local_get(buf)
        .i32_load(mem(layout::AT_FIXED_LEN as u64, 0))
        .i32_const(addr(u32::try_from(layout::FIXED_LEN).unwrap_or(0)))
        .i32_lt_u()
        .local_get(len)
        .i32_const(addr(u32::try_from(layout::FIXED_END).unwrap_or(0)))
        .i32_lt_u()
        .i32_or()
        .if_(BlockType::Empty)
        .local_get(present)
        .i32_const(addr(layout::PRESENT_BITS_2_0))
        .i32_and()
        .local_set(present)
        .end();
    list(
        &mut body,
        buf,
        len,
        layout::AT_ATTRIBUTES,
        layout::ATTRIBUTE_LEN,
        global::ATTR_PTR,
        global::ATTR_COUNT,
    );
    list(
        &mut body,
        buf,
        len,
        layout::AT_WATCH_HITS,
        layout::WATCH_HIT_LEN,
        global::WATCH_PTR,
        global::WATCH_COUNT,
    );
    // mask = checkpoint < 8 ? 1 << checkpoint : 0
    body.sink()
        .local_get(buf)
        .i32_load8_u(mem(layout::AT_CHECKPOINT as u64, 0))
        .local_tee(mask)
        .i32_const(8)
        .i32_lt_u()
        .if_(BlockType::Result(ValType::I32))
        .i32_const(1)
        .local_get(mask)
        .i32_shl()
        .else_()
        .i32_const(0)
        .end()
        .local_set(mask);

    let custom: Vec<(String, TextValue)> = program
        .custom_keys()
        .into_iter()
        .map(|key| {
            let value = Exprs {
                body: &mut body,
                data: &mut *data,
                present,
                custom: &[],
            }
            .lookup(&key);
            (key, value)
        })
        .collect();
    for rule in &program.rules {
        let locals = RuleLocals {
            action,
            score,
            count,
            ret,
            mask,
        };
        emit_rule(
            &mut body,
            data,
            Scope {
                present,
                custom: &custom,
            },
            rule,
            locals,
            max_reasons,
            limits.max_detail_bytes,
        );
    }

    body.sink()
        .end()
        .local_get(ret)
        .local_get(action)
        .i32_store8(mem(0, 0))
        .local_get(ret)
        .local_get(score)
        .f32_store(mem(4, 0))
        .local_get(ret)
        .local_get(ret)
        .i32_const(addr(VERDICT_SIZE))
        .i32_add()
        .i32_store(mem(8, 0))
        .local_get(ret)
        .local_get(count)
        .i32_store(mem(12, 0))
        .local_get(ret);
    body.finish()
}

/// Leaves the block unless the buffer holds a sound 2.x header; sets `text_offset`.
fn header(body: &mut Body, buf: u32, len: u32, text_offset: u32) {
    let fixed_end = addr(u32::try_from(layout::FIXED_END_2_0).unwrap_or(0));
    body.sink()
        .local_get(len)
        .i32_const(fixed_end)
        .i32_lt_u()
        .br_if(0)
        .local_get(buf)
        .i32_load(mem(layout::AT_MAGIC as u64, 0))
        .i32_const(i32::from_le_bytes(layout::MAGIC))
        .i32_ne()
        .br_if(0)
        .local_get(buf)
        .i32_load16_u(mem(layout::AT_MAJOR as u64, 0))
        .i32_const(i32::from(layout::MAJOR))
        .i32_ne()
        .br_if(0)
        .local_get(buf)
        .i32_load(mem(layout::AT_FIXED_LEN as u64, 0))
        .i32_const(addr(u32::try_from(layout::FIXED_LEN_2_0).unwrap_or(0)))
        .i32_lt_u()
        .br_if(0)
        .local_get(buf)
        .i32_load(mem(layout::AT_TEXT_OFFSET as u64, 0))
        .local_tee(text_offset)
        .i32_const(fixed_end)
        .i32_lt_u()
        .br_if(0)
        .local_get(text_offset)
        .local_get(len)
        .i32_gt_u()
        .br_if(0);
}

/// Sets a list's globals: its entries' address and count, or count 0 when the entries
/// would run past the buffer.
fn list(body: &mut Body, buf: u32, len: u32, at: usize, entry: usize, ptr: u32, count: u32) {
    let at = at as u64;
    body.sink()
        .local_get(buf)
        .i32_load(mem(at, 0))
        .i64_extend_i32_u()
        .local_get(buf)
        .i32_load(mem(at + 4, 0))
        .i64_extend_i32_u()
        .i64_const(entry as i64)
        .i64_mul()
        .i64_add()
        .local_get(len)
        .i64_extend_i32_u()
        .i64_le_u()
        .if_(BlockType::Empty)
        .local_get(buf)
        .local_get(buf)
        .i32_load(mem(at, 0))
        .i32_add()
        .global_set(ptr)
        .local_get(buf)
        .i32_load(mem(at + 4, 0))
        .global_set(count)
        .else_()
        .i32_const(0)
        .global_set(count)
        .end();
}

/// What expressions read besides the buffer.
#[derive(Clone, Copy)]
struct Scope<'a> {
    present: u32,
    custom: &'a [(String, TextValue)],
}

impl Scope<'_> {
    fn exprs<'b>(&'b self, body: &'b mut Body, data: &'b mut DataPool) -> Exprs<'b> {
        Exprs {
            body,
            data,
            present: self.present,
            custom: self.custom,
        }
    }
}

#[derive(Clone, Copy)]
struct RuleLocals {
    action: u32,
    score: u32,
    count: u32,
    ret: u32,
    mask: u32,
}

fn emit_rule(
    body: &mut Body,
    data: &mut DataPool,
    scope: Scope<'_>,
    rule: &CheckedRule,
    l: RuleLocals,
    max_reasons: u32,
    max_detail: u32,
) {
    let filtered = rule.checkpoints != ALL_CHECKPOINTS;
    if filtered {
        body.sink()
            .local_get(l.mask)
            .i32_const(i32::from(rule.checkpoints))
            .i32_and()
            .if_(BlockType::Empty);
    }
    scope.exprs(body, data).condition(&rule.condition);
    let rule_action = rule.action as i32;
    let entry = body.local(ValType::I32);
    body.sink()
        .if_(BlockType::Empty)
        // action = max(action, rule's)
        .i32_const(rule_action)
        .local_get(l.action)
        .i32_const(rule_action)
        .local_get(l.action)
        .i32_gt_u()
        .select()
        .local_set(l.action)
        .local_get(l.score)
        .f32_const(Ieee32::from(rule.score))
        .f32_add()
        .local_set(l.score)
        // A reason while the list has room.
        .local_get(l.count)
        .i32_const(addr(max_reasons))
        .i32_lt_u()
        .if_(BlockType::Empty)
        .local_get(l.ret)
        .i32_const(addr(VERDICT_SIZE))
        .i32_add()
        .local_get(l.count)
        .i32_const(addr(REASON_SIZE))
        .i32_mul()
        .i32_add()
        .local_set(entry);
    let (code_at, code_len) = data.intern(rule.code.as_bytes());
    body.sink()
        .local_get(entry)
        .i32_const(addr(code_at))
        .i32_store(mem(0, 0))
        .local_get(entry)
        .i32_const(addr(code_len))
        .i32_store(mem(4, 0));
    match &rule.detail {
        Some(pieces) => detail(body, data, scope, entry, pieces, max_detail),
        None => {
            body.sink()
                .local_get(entry)
                .i32_const(0)
                .i32_store8(mem(8, 0));
        }
    }
    body.sink()
        .local_get(l.count)
        .i32_const(1)
        .i32_add()
        .local_set(l.count)
        .end()
        .end();
    if filtered {
        body.sink().end();
    }
}

/// Writes a detail at the heap's end, piece by piece, cuts it to `max_detail` bytes on a
/// character boundary, and stores it as the reason's `some(detail)`.
fn detail(
    body: &mut Body,
    data: &mut DataPool,
    scope: Scope<'_>,
    entry: u32,
    pieces: &[Piece],
    max_detail: u32,
) {
    let (start, at, cut) = (
        body.local(ValType::I32),
        body.local(ValType::I32),
        body.local(ValType::I32),
    );
    body.sink()
        .global_get(global::HEAP)
        .local_tee(start)
        .local_set(at);
    for piece in pieces {
        match piece {
            Piece::Literal(text) => {
                let (ptr, len) = data.intern(text.as_bytes());
                body.sink()
                    .local_get(at)
                    .i32_const(addr(ptr))
                    .i32_const(addr(len))
                    .call(func::WRITE_BYTES)
                    .local_set(at);
            }
            Piece::Bool(condition) => {
                let (true_at, true_len) = data.intern(b"true");
                let (false_at, false_len) = data.intern(b"false");
                let flag = body.local(ValType::I32);
                scope.exprs(body, data).condition(condition);
                body.sink()
                    .local_set(flag)
                    .local_get(at)
                    .i32_const(addr(true_at))
                    .i32_const(addr(false_at))
                    .local_get(flag)
                    .select()
                    .i32_const(addr(true_len))
                    .i32_const(addr(false_len))
                    .local_get(flag)
                    .select()
                    .call(func::WRITE_BYTES)
                    .local_set(at);
            }
            Piece::Number(number) => {
                let value = body.local(ValType::F64);
                scope.exprs(body, data).number(number);
                body.sink()
                    .local_set(value)
                    .local_get(at)
                    .local_get(value)
                    .call(func::WRITE_NUM)
                    .local_set(at);
            }
            Piece::Text(text) => {
                let value = scope.exprs(body, data).text(text);
                body.sink()
                    .local_get(at)
                    .local_get(value.ptr)
                    .local_get(value.len)
                    .i32_const(i32::from(value.folded))
                    .call(func::WRITE_TEXT)
                    .local_set(at);
            }
        }
    }
    // cut = min(at - start, max); step back over continuation bytes.
    body.sink()
        .local_get(at)
        .global_set(global::HEAP)
        .local_get(at)
        .local_get(start)
        .i32_sub()
        .local_tee(cut)
        .i32_const(addr(max_detail))
        .i32_gt_u()
        .if_(BlockType::Empty)
        .i32_const(addr(max_detail))
        .local_set(cut)
        .block(BlockType::Empty)
        .loop_(BlockType::Empty)
        .local_get(cut)
        .i32_eqz()
        .br_if(1)
        .local_get(start)
        .local_get(cut)
        .i32_add()
        .i32_load8_u(mem(0, 0))
        .i32_const(0xC0)
        .i32_and()
        .i32_const(0x80)
        .i32_ne()
        .br_if(1)
        .local_get(cut)
        .i32_const(1)
        .i32_sub()
        .local_set(cut)
        .br(0)
        .end()
        .end()
        .end()
        .local_get(entry)
        .i32_const(1)
        .i32_store8(mem(8, 0))
        .local_get(entry)
        .local_get(start)
        .i32_store(mem(12, 0))
        .local_get(entry)
        .local_get(cut)
        .i32_store(mem(16, 0));
}
