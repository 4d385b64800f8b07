//! Expressions to instructions. Conditions leave an `i32` (0 or 1), numbers an `f64` (NaN
//! is missing), texts two locals (address, length; length -1 is missing) and a fold flag
//! known at compile time.

use wasm_encoder::{BlockType, Ieee64, InstructionSink, ValType};

use super::data::DataPool;
use super::emit::{Body, mem};
use super::helpers::{addr, func, global, nan};
use crate::check::ir::{ArithOp, BoolExpr, CmpOp, NumExpr, NumField, TextExpr, WindowField};
use crate::layout::{self, bit};

/// A text value held in two locals.
#[derive(Debug, Clone, Copy)]
pub struct TextValue {
    pub ptr: u32,
    pub len: u32,
    pub folded: bool,
}

/// Emits expressions into the `evaluate` body.
pub struct Exprs<'a> {
    pub body: &'a mut Body,
    pub data: &'a mut DataPool,
    /// The local holding the context's `present` bits.
    pub present: u32,
    /// Each custom attribute's value, looked up once before the rules run.
    pub custom: &'a [(String, TextValue)],
}

impl Exprs<'_> {
    fn s(&mut self) -> InstructionSink<'_> {
        self.body.sink()
    }

    /// Pushes `1 << bit & present` (non-zero when the field is present).
    fn present_bit(&mut self, bit: u32) {
        let present = self.present;
        self.s()
            .local_get(present)
            .i32_const(addr(1 << bit))
            .i32_and();
    }

    pub fn condition(&mut self, expr: &BoolExpr) {
        match expr {
            BoolExpr::Const(value) => {
                self.s().i32_const(i32::from(*value));
            }
            BoolExpr::Proxy => {
                self.s()
                    .global_get(global::BUF)
                    .i32_load8_u(mem(layout::AT_FLAGS as u64, 0))
                    .i32_const(i32::from(layout::FLAG_PROXY))
                    .i32_and();
            }
            BoolExpr::Not(inner) => {
                self.condition(inner);
                self.s().i32_eqz();
            }
            BoolExpr::And(a, b) => {
                self.condition(a);
                self.s().if_(BlockType::Result(ValType::I32));
                self.condition(b);
                self.s().else_().i32_const(0).end();
            }
            BoolExpr::Or(a, b) => {
                self.condition(a);
                self.s()
                    .if_(BlockType::Result(ValType::I32))
                    .i32_const(1)
                    .else_();
                self.condition(b);
                self.s().end();
            }
            BoolExpr::BoolEq {
                left,
                right,
                negated,
            } => {
                self.condition(left);
                self.condition(right);
                if *negated {
                    self.s().i32_ne();
                } else {
                    self.s().i32_eq();
                }
            }
            BoolExpr::NumCompare { op, left, right } => self.compare(*op, left, right),
            BoolExpr::NumIn {
                value,
                set,
                negated,
            } => {
                let v = self.body.local(ValType::F64);
                self.number(value);
                self.s().local_set(v).i32_const(0);
                for item in set {
                    self.s()
                        .local_get(v)
                        .f64_const(Ieee64::from(*item))
                        .f64_eq()
                        .i32_or();
                }
                if *negated {
                    // Present (v == v) and in none.
                    self.s()
                        .i32_eqz()
                        .local_get(v)
                        .local_get(v)
                        .f64_eq()
                        .i32_and();
                }
            }
            BoolExpr::TextEq {
                left,
                right,
                negated,
            } => {
                let l = self.text(left);
                let r = self.text(right);
                self.eq_call(l, r);
                if *negated {
                    self.s().i32_eqz();
                    self.both_present(l, r);
                }
            }
            BoolExpr::TextIn {
                value,
                set,
                negated,
            } => {
                let v = self.text(value);
                self.s().i32_const(0);
                for item in set {
                    let lit = self.literal(item);
                    self.eq_call(v, lit);
                    self.s().i32_or();
                }
                if *negated {
                    self.s().i32_eqz();
                    self.both_present(v, v);
                }
            }
            BoolExpr::NumMissing { value, negated } => {
                let v = self.body.local(ValType::F64);
                self.number(value);
                self.s().local_tee(v).local_get(v);
                if *negated {
                    self.s().f64_eq();
                } else {
                    self.s().f64_ne();
                }
            }
            BoolExpr::TextMissing { value, negated } => {
                let v = self.text(value);
                self.s().local_get(v.len).i32_const(0);
                if *negated {
                    self.s().i32_ge_s();
                } else {
                    self.s().i32_lt_s();
                }
            }
            BoolExpr::StartsWith(value, pattern) => {
                self.pattern(func::STARTS, value, pattern, None);
            }
            BoolExpr::EndsWith(value, pattern) => self.pattern(func::ENDS, value, pattern, None),
            BoolExpr::Contains(value, pattern) => {
                let table: Vec<u8> = super::helpers::failure_table(pattern.as_bytes())
                    .iter()
                    .flat_map(|entry| entry.to_le_bytes())
                    .collect();
                let (fail, _) = self.data.intern(&table);
                self.pattern(func::CONTAINS, value, pattern, Some(fail));
            }
            BoolExpr::WatchHit(code) => {
                let (at, len) = self.data.intern(code.as_bytes());
                self.s()
                    .i32_const(addr(at))
                    .i32_const(addr(len))
                    .call(func::WATCH);
            }
        }
    }

    fn compare(&mut self, op: CmpOp, left: &NumExpr, right: &NumExpr) {
        if op == CmpOp::Ne {
            // IEEE `!=` is true for NaN; a missing value must make it false.
            let (l, r) = (self.body.local(ValType::F64), self.body.local(ValType::F64));
            self.number(left);
            self.s().local_set(l);
            self.number(right);
            self.s()
                .local_set(r)
                .local_get(l)
                .local_get(r)
                .f64_ne()
                .local_get(l)
                .local_get(l)
                .f64_eq()
                .i32_and()
                .local_get(r)
                .local_get(r)
                .f64_eq()
                .i32_and();
            return;
        }
        self.number(left);
        self.number(right);
        let mut s = self.s();
        match op {
            CmpOp::Eq => s.f64_eq(),
            CmpOp::Lt => s.f64_lt(),
            CmpOp::Le => s.f64_le(),
            CmpOp::Gt => s.f64_gt(),
            CmpOp::Ge | CmpOp::Ne => s.f64_ge(),
        };
    }

    fn eq_call(&mut self, a: TextValue, b: TextValue) {
        self.s()
            .local_get(a.ptr)
            .local_get(a.len)
            .i32_const(i32::from(a.folded))
            .local_get(b.ptr)
            .local_get(b.len)
            .i32_const(i32::from(b.folded))
            .call(func::EQ);
    }

    /// ANDs the top of the stack with "both texts present".
    fn both_present(&mut self, a: TextValue, b: TextValue) {
        self.s()
            .local_get(a.len)
            .i32_const(0)
            .i32_ge_s()
            .i32_and()
            .local_get(b.len)
            .i32_const(0)
            .i32_ge_s()
            .i32_and();
    }

    /// Calls `helper(text, literal[, table])`.
    fn pattern(&mut self, helper: u32, value: &TextExpr, pattern: &str, table: Option<u32>) {
        let v = self.text(value);
        let (at, len) = self.data.intern(pattern.as_bytes());
        let mut s = self.s();
        s.local_get(v.ptr)
            .local_get(v.len)
            .i32_const(i32::from(v.folded))
            .i32_const(addr(at))
            .i32_const(addr(len));
        if let Some(table) = table {
            s.i32_const(addr(table));
        }
        s.call(helper);
    }

    pub fn number(&mut self, expr: &NumExpr) {
        match expr {
            NumExpr::Const(value) => {
                self.s().f64_const(Ieee64::from(*value));
            }
            NumExpr::Field(field) => self.field(*field),
            NumExpr::Arith { op, left, right } => {
                self.number(left);
                self.number(right);
                let mut s = self.s();
                match op {
                    ArithOp::Add => s.f64_add(),
                    ArithOp::Sub => s.f64_sub(),
                    ArithOp::Mul => s.f64_mul(),
                    ArithOp::Div => s.f64_div(),
                };
                s.call(func::NORM);
            }
            NumExpr::Negate(inner) => {
                self.number(inner);
                self.s().f64_neg();
            }
            NumExpr::Parse(inner) => {
                let v = self.text(inner);
                self.s().local_get(v.ptr).local_get(v.len).call(func::PARSE);
            }
            NumExpr::Length(inner) => {
                let v = self.text(inner);
                self.s()
                    .local_get(v.ptr)
                    .local_get(v.len)
                    .call(func::LENGTH);
            }
            NumExpr::DistinctText(items) => {
                let values: Vec<TextValue> = items.iter().map(|i| self.text(i)).collect();
                self.s().i32_const(0);
                for (i, v) in values.iter().enumerate() {
                    // Present, and equal to no earlier value.
                    self.s().local_get(v.len).i32_const(0).i32_ge_s();
                    self.s().i32_const(0);
                    for earlier in &values[..i] {
                        self.eq_call(*earlier, *v);
                        self.s().i32_or();
                    }
                    self.s().i32_eqz().i32_and().i32_add();
                }
                self.s().f64_convert_i32_u();
            }
            NumExpr::DistinctNum(items) => {
                let locals: Vec<u32> = items
                    .iter()
                    .map(|item| {
                        let local = self.body.local(ValType::F64);
                        self.number(item);
                        self.s().local_set(local);
                        local
                    })
                    .collect();
                self.s().i32_const(0);
                for (i, v) in locals.iter().enumerate() {
                    self.s().local_get(*v).local_get(*v).f64_eq().i32_const(0);
                    for earlier in &locals[..i] {
                        self.s().local_get(*earlier).local_get(*v).f64_eq().i32_or();
                    }
                    self.s().i32_eqz().i32_and().i32_add();
                }
                self.s().f64_convert_i32_u();
            }
            NumExpr::Coalesce(items) => {
                // v = first; if v is NaN, v = next; …
                let v = self.body.local(ValType::F64);
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.s()
                            .local_get(v)
                            .local_get(v)
                            .f64_ne()
                            .if_(BlockType::Empty);
                    }
                    self.number(item);
                    self.s().local_set(v);
                    if i > 0 {
                        self.s().end();
                    }
                }
                self.s().local_get(v);
            }
            NumExpr::WatchCount => {
                self.s().global_get(global::WATCH_COUNT).f64_convert_i32_u();
            }
        }
    }

    /// A number of the fixed section: its `present` bit tested, then loaded.
    fn field(&mut self, field: NumField) {
        let present_bit = match field {
            NumField::AmountValue | NumField::AmountMinorUnits => Some(bit::AMOUNT),
            NumField::AccountAgeDays => Some(bit::ACCOUNT_AGE_DAYS),
            NumField::Window { index: 0, .. } => None,
            #[expect(
                clippy::cast_possible_truncation,
                reason = "window indices are below 5"
            )]
            NumField::Window { index, .. } => Some(bit::WINDOWS + index as u32 - 1),
            NumField::GraphCount(_) | NumField::FraudShare2Hop | NumField::GraphScore => {
                Some(bit::GRAPH)
            }
            NumField::HopsToFraud => Some(bit::HOPS_TO_FRAUD),
            NumField::AmountReporting => Some(bit::AMOUNT_REPORTING),
            NumField::ModelScore => Some(bit::MODEL_SCORE),
        };
        if let Some(bit) = present_bit {
            self.present_bit(bit);
            self.s().if_(BlockType::Result(ValType::F64));
        }
        let at = |offset: usize| mem(offset as u64, 0);
        let mut s = self.s();
        s.global_get(global::BUF);
        match field {
            NumField::AmountValue => {
                s.f64_load(at(layout::AT_AMOUNT_VALUE)).call(func::NORM);
            }
            NumField::AmountMinorUnits => {
                s.i64_load(at(layout::AT_AMOUNT_MINOR_UNITS))
                    .f64_convert_i64_s();
            }
            NumField::AccountAgeDays => {
                s.i32_load(at(layout::AT_ACCOUNT_AGE_DAYS))
                    .f64_convert_i32_u();
            }
            NumField::Window { index, field } => {
                let base = layout::AT_WINDOWS + layout::WINDOW_LEN * index;
                match field {
                    WindowField::Count1h => s.i32_load(at(base)).f64_convert_i32_u(),
                    WindowField::Count24h => s.i32_load(at(base + 4)).f64_convert_i32_u(),
                    WindowField::Sum1h => s.f64_load(at(base + 8)).call(func::NORM),
                    WindowField::Sum24h => s.f64_load(at(base + 16)).call(func::NORM),
                };
            }
            NumField::GraphCount(k) => {
                s.i32_load(at(layout::AT_GRAPH + 4 * k)).f64_convert_i32_u();
            }
            NumField::FraudShare2Hop => {
                s.f32_load(at(layout::AT_GRAPH + 32))
                    .f64_promote_f32()
                    .call(func::NORM);
            }
            NumField::GraphScore => {
                s.f32_load(at(layout::AT_GRAPH + 36))
                    .f64_promote_f32()
                    .call(func::NORM);
            }
            NumField::HopsToFraud => {
                s.i32_load8_u(at(layout::AT_HOPS_TO_FRAUD))
                    .f64_convert_i32_u();
            }
            NumField::AmountReporting => {
                s.f64_load(at(layout::AT_AMOUNT_REPORTING)).call(func::NORM);
            }
            NumField::ModelScore => {
                s.f64_load(at(layout::AT_MODEL_SCORE)).call(func::NORM);
            }
        }
        if present_bit.is_some() {
            self.s().else_().f64_const(nan()).end();
        }
    }

    /// A literal's address and length in two fresh locals.
    fn literal(&mut self, value: &str) -> TextValue {
        let (at, len) = self.data.intern(value.as_bytes());
        let (ptr, len_local) = (self.body.local(ValType::I32), self.body.local(ValType::I32));
        self.s()
            .i32_const(addr(at))
            .local_set(ptr)
            .i32_const(addr(len))
            .local_set(len_local);
        TextValue {
            ptr,
            len: len_local,
            folded: false,
        }
    }

    /// Looks up `key` among the attributes into two fresh locals.
    pub fn lookup(&mut self, key: &str) -> TextValue {
        let (at, key_len) = self.data.intern(key.as_bytes());
        let (ptr, len) = (self.body.local(ValType::I32), self.body.local(ValType::I32));
        self.s()
            .i32_const(addr(at))
            .i32_const(addr(key_len))
            .call(func::ATTR)
            .local_set(len)
            .local_set(ptr);
        TextValue {
            ptr,
            len,
            folded: false,
        }
    }

    /// A missing text (never reached: every key is looked up before the rules run).
    fn literal_missing(&mut self) -> TextValue {
        let (ptr, len) = (self.body.local(ValType::I32), self.body.local(ValType::I32));
        self.s().i32_const(-1).local_set(len);
        TextValue {
            ptr,
            len,
            folded: false,
        }
    }

    pub fn text(&mut self, expr: &TextExpr) -> TextValue {
        let folded = expr.folded();
        match expr.base() {
            TextExpr::Const(value) => self.literal(value),
            TextExpr::Field(index) => {
                let (ptr, len) = (self.body.local(ValType::I32), self.body.local(ValType::I32));
                #[expect(clippy::cast_possible_truncation, reason = "text indices are below 16")]
                self.present_bit(*index as u32);
                let entry = layout::AT_TEXTS + layout::TEXT_LEN * index;
                self.s()
                    .if_(BlockType::Empty)
                    .global_get(global::BUF)
                    .i32_const(addr(u32::try_from(entry).unwrap_or(0)))
                    .i32_add()
                    .call(func::TEXT)
                    .local_set(len)
                    .local_set(ptr)
                    .else_()
                    .i32_const(-1)
                    .local_set(len)
                    .end();
                TextValue { ptr, len, folded }
            }
            TextExpr::Custom(key) => {
                let found = self.custom.iter().find(|(k, _)| k == key).map(|(_, v)| *v);
                let value = found.unwrap_or_else(|| self.literal_missing());
                TextValue { folded, ..value }
            }
            TextExpr::Lower(_) => unreachable_text(),
        }
    }
}

/// `base()` never returns a `Lower`.
fn unreachable_text() -> TextValue {
    TextValue {
        ptr: 0,
        len: 0,
        folded: false,
    }
}
