//! The reference interpreter: the language's meaning, written plainly. The compiled
//! module must give exactly these verdicts (the equivalence property test checks it).

use super::context::Context;
use super::text::{self, Text};
use crate::check::ir::{
    ALL_CHECKPOINTS, ArithOp, BoolExpr, CmpOp, NumExpr, Piece, Program, TextExpr,
};
use crate::verdict::{Reason, Verdict, VerdictLimits};

/// Runs every rule of `program` on the context in `buf`.
pub fn interpret(program: &Program, buf: &[u8], limits: &VerdictLimits) -> Verdict {
    let ctx = Context::new(buf);
    let mut verdict = Verdict::pass();
    if !ctx.is_valid() {
        return verdict;
    }
    let checkpoint = ctx.checkpoint();
    for rule in &program.rules {
        // A rule without `on` runs everywhere, also at a checkpoint a later layout adds.
        let runs_here = rule.checkpoints == ALL_CHECKPOINTS
            || (checkpoint < 8 && rule.checkpoints & (1 << checkpoint) != 0);
        if !runs_here || !eval_bool(&rule.condition, &ctx) {
            continue;
        }
        verdict.action = verdict.action.max(rule.action);
        verdict.score += rule.score;
        if verdict.reasons.len() < limits.max_reasons as usize {
            verdict.reasons.push(Reason {
                code: rule.code.clone(),
                detail: rule
                    .detail
                    .as_ref()
                    .map(|pieces| render(pieces, &ctx, limits.max_detail_bytes as usize)),
            });
        }
    }
    verdict
}

/// The value of a condition.
pub fn eval_bool(expr: &BoolExpr, ctx: &Context<'_>) -> bool {
    match expr {
        BoolExpr::Const(value) => *value,
        BoolExpr::Proxy => ctx.proxy(),
        BoolExpr::Not(inner) => !eval_bool(inner, ctx),
        BoolExpr::And(a, b) => eval_bool(a, ctx) && eval_bool(b, ctx),
        BoolExpr::Or(a, b) => eval_bool(a, ctx) || eval_bool(b, ctx),
        BoolExpr::BoolEq {
            left,
            right,
            negated,
        } => (eval_bool(left, ctx) == eval_bool(right, ctx)) != *negated,
        BoolExpr::NumCompare { op, left, right } => {
            match (eval_num(left, ctx), eval_num(right, ctx)) {
                (Some(l), Some(r)) => match op {
                    CmpOp::Eq => l == r,
                    CmpOp::Ne => l != r,
                    CmpOp::Lt => l < r,
                    CmpOp::Le => l <= r,
                    CmpOp::Gt => l > r,
                    CmpOp::Ge => l >= r,
                },
                _ => false,
            }
        }
        BoolExpr::NumIn {
            value,
            set,
            negated,
        } => eval_num(value, ctx).is_some_and(|v| set.contains(&v) != *negated),
        BoolExpr::TextEq {
            left,
            right,
            negated,
        } => match (eval_text(left, ctx), eval_text(right, ctx)) {
            (Some(l), Some(r)) => text::equal(l, r) != *negated,
            _ => false,
        },
        BoolExpr::TextIn {
            value,
            set,
            negated,
        } => eval_text(value, ctx).is_some_and(|v| {
            set.iter().any(|item| {
                text::equal(
                    v,
                    Text {
                        bytes: item.as_bytes(),
                        folded: false,
                    },
                )
            }) != *negated
        }),
        BoolExpr::NumMissing { value, negated } => eval_num(value, ctx).is_none() != *negated,
        BoolExpr::TextMissing { value, negated } => eval_text(value, ctx).is_none() != *negated,
        BoolExpr::StartsWith(value, pattern) => {
            eval_text(value, ctx).is_some_and(|v| text::starts_with(v, pattern.as_bytes()))
        }
        BoolExpr::EndsWith(value, pattern) => {
            eval_text(value, ctx).is_some_and(|v| text::ends_with(v, pattern.as_bytes()))
        }
        BoolExpr::Contains(value, pattern) => {
            eval_text(value, ctx).is_some_and(|v| text::contains(v, pattern.as_bytes()))
        }
        BoolExpr::WatchHit(code) => ctx.watch_hits().any(|hit| hit == code.as_bytes()),
    }
}

/// The value of a number; `None` when missing or not finite.
pub fn eval_num(expr: &NumExpr, ctx: &Context<'_>) -> Option<f64> {
    let value = match expr {
        NumExpr::Const(value) => Some(*value),
        NumExpr::Field(field) => ctx.number(*field),
        NumExpr::Arith { op, left, right } => {
            let (l, r) = (eval_num(left, ctx)?, eval_num(right, ctx)?);
            Some(match op {
                ArithOp::Add => l + r,
                ArithOp::Sub => l - r,
                ArithOp::Mul => l * r,
                ArithOp::Div => l / r,
            })
        }
        NumExpr::Negate(inner) => eval_num(inner, ctx).map(|v| -v),
        NumExpr::Parse(inner) => eval_text(inner, ctx).and_then(|t| text::parse_number(t.bytes)),
        NumExpr::Length(inner) => eval_text(inner, ctx).map(text::length),
        NumExpr::DistinctText(items) => {
            let values: Vec<Option<Text<'_>>> = items.iter().map(|i| eval_text(i, ctx)).collect();
            Some(count_distinct(&values, |a, b| text::equal(*a, *b)))
        }
        NumExpr::DistinctNum(items) => {
            let values: Vec<Option<f64>> = items.iter().map(|i| eval_num(i, ctx)).collect();
            Some(count_distinct(&values, |a, b| a == b))
        }
        NumExpr::Coalesce(items) => items.iter().find_map(|i| eval_num(i, ctx)),
        NumExpr::WatchCount => ctx
            .is_valid()
            .then(|| f64::from(u32::try_from(ctx.watch_hit_count()).unwrap_or(u32::MAX))),
    };
    value.filter(|v| v.is_finite())
}

/// Present values that differ from every present value before them.
fn count_distinct<T>(values: &[Option<T>], same: impl Fn(&T, &T) -> bool) -> f64 {
    let mut count = 0.0;
    for (i, value) in values.iter().enumerate() {
        if let Some(v) = value
            && !values[..i].iter().flatten().any(|earlier| same(earlier, v))
        {
            count += 1.0;
        }
    }
    count
}

/// The value of a text; `None` when missing.
pub fn eval_text<'a>(expr: &'a TextExpr, ctx: &Context<'a>) -> Option<Text<'a>> {
    let folded = expr.folded();
    let bytes = match expr.base() {
        TextExpr::Const(value) => Some(value.as_bytes()),
        TextExpr::Field(index) => ctx.text(*index),
        TextExpr::Custom(key) => ctx.attribute(key.as_bytes()),
        TextExpr::Lower(_) => None,
    }?;
    Some(Text { bytes, folded })
}

/// A detail: literals as written, values printed (`missing` for a missing one), cut to
/// `max` bytes on a character boundary.
fn render(pieces: &[Piece], ctx: &Context<'_>, max: usize) -> String {
    let mut out: Vec<u8> = Vec::new();
    for piece in pieces {
        match piece {
            Piece::Literal(text) => out.extend_from_slice(text.as_bytes()),
            Piece::Bool(b) => {
                out.extend_from_slice(if eval_bool(b, ctx) { b"true" } else { b"false" });
            }
            Piece::Number(n) => match eval_num(n, ctx) {
                Some(v) => out.extend_from_slice(text::format_number(v).as_bytes()),
                None => out.extend_from_slice(MISSING.as_bytes()),
            },
            Piece::Text(t) => match eval_text(t, ctx) {
                Some(v) => out.extend(v.bytes.iter().map(|b| text::fold(*b, v.folded))),
                None => out.extend_from_slice(MISSING.as_bytes()),
            },
        }
    }
    if out.len() > max {
        let mut cut = max;
        while cut > 0 && out[cut] & 0xC0 == 0x80 {
            cut -= 1;
        }
        out.truncate(cut);
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// How a missing value prints in a detail.
pub const MISSING: &str = "missing";
