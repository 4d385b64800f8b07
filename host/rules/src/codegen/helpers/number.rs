//! Numbers: reading a decimal text, and making a non-finite result missing.

use wasm_encoder::{BlockType, Ieee64, InstructionSink};

use super::super::emit::mem;
use super::{F64, Helper, I32, I64, Idioms, helper, nan};

/// `parse(p, l) -> f64`: `-?D+(.D+)?` with at most 15 digits, as mantissa / 10^fraction;
/// NaN for anything else.
pub(super) fn parse(powers_of_ten: u32) -> Helper {
    helper(&[I32, I32], &[F64], |b| {
        let (i, neg, count, integer) = (b.local(I32), b.local(I32), b.local(I32), b.local(I32));
        let (fraction, dot, byte) = (b.local(I32), b.local(I32), b.local(I32));
        let mantissa = b.local(I64);
        let value = b.local(F64);
        let nan_return = |s: &mut InstructionSink<'_>| {
            s.if_(BlockType::Empty).f64_const(nan()).return_().end();
        };
        let mut s = b.sink();
        s.local_get(1).i32_const(0).i32_lt_s();
        nan_return(&mut s);
        s.local_get(1)
            .i32_const(0)
            .i32_gt_s()
            .if_(BlockType::Empty)
            .local_get(0)
            .i32_load8_u(mem(0, 0))
            .i32_const(i32::from(b'-'))
            .i32_eq()
            .if_(BlockType::Empty)
            .i32_const(1)
            .local_set(neg)
            .i32_const(1)
            .local_set(i)
            .end()
            .end()
            .block(BlockType::Empty)
            .loop_(BlockType::Empty)
            .local_get(i)
            .local_get(1)
            .i32_eq()
            .br_if(1)
            .load_byte(0, i)
            .local_set(byte)
            .local_get(byte)
            .i32_const(48)
            .i32_sub()
            .i32_const(10)
            .i32_lt_u()
            .if_(BlockType::Empty)
            .local_get(count)
            .i32_const(1)
            .i32_add()
            .local_tee(count)
            .i32_const(15)
            .i32_gt_u();
        nan_return(&mut s);
        s.local_get(mantissa)
            .i64_const(10)
            .i64_mul()
            .local_get(byte)
            .i32_const(48)
            .i32_sub()
            .i64_extend_i32_u()
            .i64_add()
            .local_set(mantissa)
            .local_get(dot)
            .if_(BlockType::Empty)
            .increment(fraction)
            .else_()
            .increment(integer)
            .end()
            .else_()
            .local_get(byte)
            .i32_const(i32::from(b'.'))
            .i32_eq()
            .local_get(dot)
            .i32_eqz()
            .i32_and()
            .if_(BlockType::Empty)
            .i32_const(1)
            .local_set(dot)
            .else_()
            .f64_const(nan())
            .return_()
            .end()
            .end()
            .increment(i)
            .br(0)
            .end()
            .end()
            .local_get(integer)
            .i32_eqz()
            .local_get(dot)
            .local_get(fraction)
            .i32_eqz()
            .i32_and()
            .i32_or();
        nan_return(&mut s);
        s.local_get(mantissa)
            .f64_convert_i64_u()
            .local_get(fraction)
            .i32_const(8)
            .i32_mul()
            .f64_load(mem(u64::from(powers_of_ten), 0))
            .f64_div()
            .local_tee(value)
            .f64_neg()
            .local_get(value)
            .local_get(neg)
            .select();
    })
}

/// `norm(x) -> f64`: `x` when finite, NaN (missing) otherwise.
pub(super) fn norm() -> Helper {
    helper(&[F64], &[F64], |b| {
        b.sink()
            .local_get(0)
            .local_get(0)
            .f64_sub()
            .f64_const(Ieee64::from(0.0))
            .f64_eq()
            .if_(BlockType::Result(F64))
            .local_get(0)
            .else_()
            .f64_const(nan())
            .end();
    })
}
