//! The worst-case fuel of one call of a compiled rule file.
//!
//! Wasmtime charges about one unit of fuel per instruction. Every loop in the generated
//! code runs over the bytes of one text, the attribute entries or the watch hits, so a
//! call's cost is bounded by the largest context the host writes ([`Bounds`]). The
//! constants below are upper bounds of the instructions each piece of generated code
//! executes (counted from `helpers.rs` and `expr.rs`, rounded up); a test runs a compiled
//! file on a context at the bounds and checks the measured fuel stays under the bound.

use crate::check::ir::{BoolExpr, CheckedRule, NumExpr, Piece, Program, TextExpr};
use crate::interpret::text::MAX_TEXT_BYTES;
use crate::layout::text;

/// The largest context the host writes: bytes of each text, entry counts and sizes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bounds {
    /// Longest value of each fixed text, in bytes (layout text index order).
    pub text_bytes: [u64; text::COUNT],
    pub attributes: u64,
    pub attribute_key_bytes: u64,
    pub attribute_value_bytes: u64,
    pub watch_hits: u64,
    pub watch_hit_bytes: u64,
}

/// Instructions of one loop step over a byte (load, fold, compare, count, branch); measured
/// at 20 (length) to 47 (a folded comparison), and 68 per text byte for `contains` with its
/// fallbacks, which is costed at two steps.
const PER_BYTE: u64 = 50;
/// Bytes the number reader looks at before it must have answered: 15 digits, a sign, a
/// point and the first byte that is none of them.
const PARSE_BYTES: u64 = 18;
/// Fixed instructions of a helper call (arguments, prologue, checks, return).
const CALL: u64 = 40;
/// Fixed instructions of one rule (checkpoint filter, effect, reason entry).
const RULE: u64 = 80;
/// Fixed instructions of `evaluate` (allocation, header, lists, verdict).
const EVALUATE: u64 = 200;
/// Instructions to print one number (digits and fraction).
const NUMBER: u64 = 600;

/// The worst-case fuel of `program`.
pub fn bound(program: &Program, bounds: &Bounds) -> u64 {
    // `cabi_realloc` for the context is part of the call too; each custom attribute is
    // looked up once per call, before the rules run.
    EVALUATE
        + 2 * CALL
        + program
            .custom_keys()
            .iter()
            .map(|key| lookup(key, bounds))
            .sum::<u64>()
        + program
            .rules
            .iter()
            .map(|rule| rule_bound(rule, bounds))
            .sum::<u64>()
}

/// Scanning the attribute entries for `key`.
fn lookup(key: &str, b: &Bounds) -> u64 {
    CALL + 20 + b.attributes * (2 * CALL + 25 + equal(b.attribute_key_bytes, key.len() as u64))
}

/// The worst-case fuel of one rule that fires.
pub fn rule_bound(rule: &CheckedRule, bounds: &Bounds) -> u64 {
    let detail: u64 = rule
        .detail
        .iter()
        .flatten()
        .map(|piece| match piece {
            Piece::Literal(_) => CALL,
            Piece::Bool(b) => CALL + condition(b, bounds),
            Piece::Number(n) => CALL + NUMBER + number(n, bounds),
            // Folded texts are copied byte by byte, others with one `memory.copy`.
            Piece::Text(t) if t.folded() => {
                CALL + PER_BYTE * text_len(t, bounds) + text_cost(t, bounds)
            }
            Piece::Text(t) => 2 * CALL + text_cost(t, bounds),
        })
        .sum();
    // Cutting a detail steps back over at most three continuation bytes.
    RULE + condition(&rule.condition, bounds) + detail + 4 * PER_BYTE
}

fn condition(expr: &BoolExpr, b: &Bounds) -> u64 {
    match expr {
        BoolExpr::Const(_) | BoolExpr::Proxy => 10,
        BoolExpr::Not(inner) => 2 + condition(inner, b),
        BoolExpr::And(x, y) | BoolExpr::Or(x, y) => 5 + condition(x, b) + condition(y, b),
        BoolExpr::BoolEq { left, right, .. } => 5 + condition(left, b) + condition(right, b),
        BoolExpr::NumCompare { left, right, .. } => 20 + number(left, b) + number(right, b),
        BoolExpr::NumIn { value, set, .. } => 20 + 5 * set.len() as u64 + number(value, b),
        BoolExpr::TextEq { left, right, .. } => {
            20 + text_cost(left, b)
                + text_cost(right, b)
                + equal(text_len(left, b), text_len(right, b))
        }
        BoolExpr::TextIn { value, set, .. } => {
            let len = text_len(value, b);
            20 + text_cost(value, b)
                + set
                    .iter()
                    .map(|item| 10 + equal(len, item.len() as u64))
                    .sum::<u64>()
        }
        BoolExpr::NumMissing { value, .. } => 10 + number(value, b),
        BoolExpr::TextMissing { value, .. } => 10 + text_cost(value, b),
        BoolExpr::StartsWith(value, pattern) | BoolExpr::EndsWith(value, pattern) => {
            20 + text_cost(value, b) + CALL * 2 + PER_BYTE * (pattern.len() as u64 + 1)
        }
        // Knuth–Morris–Pratt: at most two steps per text byte.
        BoolExpr::Contains(value, _) => {
            20 + text_cost(value, b) + CALL + 2 * PER_BYTE * (text_len(value, b) + 1)
        }
        BoolExpr::WatchHit(code) => {
            20 + CALL + b.watch_hits * (2 * CALL + 20 + equal(b.watch_hit_bytes, code.len() as u64))
        }
    }
}

fn number(expr: &NumExpr, b: &Bounds) -> u64 {
    match expr {
        NumExpr::Const(_) | NumExpr::WatchCount => 5,
        NumExpr::Field(_) => 10 + CALL,
        NumExpr::Arith { left, right, .. } => 5 + CALL + number(left, b) + number(right, b),
        NumExpr::Negate(inner) => 2 + number(inner, b),
        NumExpr::Parse(inner) => {
            CALL + text_cost(inner, b) + PER_BYTE * (text_len(inner, b).min(PARSE_BYTES) + 1)
        }
        NumExpr::Length(inner) => CALL + text_cost(inner, b) + PER_BYTE * (text_len(inner, b) + 1),
        // Each value is compared with every earlier one.
        NumExpr::DistinctText(items) => {
            let each: u64 = items.iter().map(|i| 15 + text_cost(i, b)).sum();
            let pairs: u64 = items
                .iter()
                .enumerate()
                .flat_map(|(n, later)| {
                    items[..n]
                        .iter()
                        .map(move |earlier| 10 + equal(text_len(earlier, b), text_len(later, b)))
                })
                .sum();
            each + pairs
        }
        NumExpr::Coalesce(items) => items.iter().map(|i| 10 + number(i, b)).sum(),
        NumExpr::DistinctNum(items) => {
            let each: u64 = items.iter().map(|i| 10 + number(i, b)).sum();
            each + (items.len() * items.len()) as u64 * 5
        }
    }
}

/// Cost of comparing two texts: the loop runs only when the lengths are equal.
fn equal(a: u64, b: u64) -> u64 {
    CALL + PER_BYTE * (a.min(b) + 1)
}

/// Longest value of a text expression (the language reads at most `MAX_TEXT_BYTES`).
fn text_len(expr: &TextExpr, b: &Bounds) -> u64 {
    let longest = match expr.base() {
        TextExpr::Const(value) => value.len() as u64,
        TextExpr::Field(index) => b.text_bytes.get(*index).copied().unwrap_or(0),
        TextExpr::Custom(_) | TextExpr::Lower(_) => b.attribute_value_bytes,
    };
    longest.min(u64::from(MAX_TEXT_BYTES))
}

/// Cost of producing a text value (attributes were looked up before the rules ran).
fn text_cost(expr: &TextExpr, _b: &Bounds) -> u64 {
    match expr.base() {
        TextExpr::Const(_) | TextExpr::Custom(_) | TextExpr::Lower(_) => 5,
        TextExpr::Field(_) => 10 + CALL,
    }
}
