//! Conditions that contradict themselves: `amount > 5 and amount < 3` can never be true, and
//! a rule guarded by it never fires. The check looks at the comparisons of one attribute with
//! constants joined by `and` (including `== c` and `in (…)`); anything else is left alone, so
//! it refuses only what is certainly impossible.

use std::collections::HashMap;

use super::ir::{BoolExpr, CmpOp, NumExpr, NumField};

/// What the conjuncts of a condition allow for one attribute.
#[derive(Debug, Clone)]
struct Allowed {
    /// Greatest lower bound and whether it is included.
    low: Option<(f64, bool)>,
    /// Least upper bound and whether it is included.
    high: Option<(f64, bool)>,
    /// The values `==` and `in` allow (every such conjunct intersected).
    only: Option<Vec<f64>>,
}

impl Allowed {
    fn new() -> Allowed {
        Allowed {
            low: None,
            high: None,
            only: None,
        }
    }

    fn raise_low(&mut self, value: f64, inclusive: bool) {
        let tighter = match self.low {
            None => true,
            Some((v, inc)) => value > v || (value == v && inc && !inclusive),
        };
        if tighter {
            self.low = Some((value, inclusive));
        }
    }

    fn lower_high(&mut self, value: f64, inclusive: bool) {
        let tighter = match self.high {
            None => true,
            Some((v, inc)) => value < v || (value == v && inc && !inclusive),
        };
        if tighter {
            self.high = Some((value, inclusive));
        }
    }

    fn keep(&mut self, values: &[f64]) {
        self.only = Some(match self.only.take() {
            None => values.to_vec(),
            Some(before) => before.into_iter().filter(|v| values.contains(v)).collect(),
        });
    }

    fn admits(&self, value: f64) -> bool {
        let above = self
            .low
            .is_none_or(|(v, inc)| value > v || (inc && value == v));
        let below = self
            .high
            .is_none_or(|(v, inc)| value < v || (inc && value == v));
        above && below
    }

    fn is_empty(&self) -> bool {
        if let Some(values) = &self.only {
            return !values.iter().any(|v| self.admits(*v));
        }
        match (self.low, self.high) {
            (Some((low, low_inc)), Some((high, high_inc))) => {
                low > high || (low == high && !(low_inc && high_inc))
            }
            _ => false,
        }
    }
}

/// Whether `condition` is certainly false: some attribute is compared with constants, joined
/// by `and`, in ways no value satisfies.
pub fn contradicts_itself(condition: &BoolExpr) -> bool {
    let mut conjuncts = Vec::new();
    flatten(condition, &mut conjuncts);
    let mut allowed: HashMap<String, Allowed> = HashMap::new();
    for conjunct in conjuncts {
        match conjunct {
            BoolExpr::NumCompare { op, left, right } => {
                let (field, op, value) = match (left, right) {
                    (NumExpr::Field(f), NumExpr::Const(c)) => (f, *op, *c),
                    (NumExpr::Const(c), NumExpr::Field(f)) => (f, mirror(*op), *c),
                    _ => continue,
                };
                let entry = allowed.entry(key(*field)).or_insert_with(Allowed::new);
                match op {
                    CmpOp::Gt => entry.raise_low(value, false),
                    CmpOp::Ge => entry.raise_low(value, true),
                    CmpOp::Lt => entry.lower_high(value, false),
                    CmpOp::Le => entry.lower_high(value, true),
                    CmpOp::Eq => entry.keep(&[value]),
                    CmpOp::Ne => {}
                }
            }
            BoolExpr::NumIn {
                value: NumExpr::Field(f),
                set,
                negated: false,
            } => allowed
                .entry(key(*f))
                .or_insert_with(Allowed::new)
                .keep(set),
            _ => {}
        }
    }
    allowed.values().any(Allowed::is_empty)
}

fn key(field: NumField) -> String {
    format!("{field:?}")
}

/// `c op x` as `x op' c`.
fn mirror(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        same => same,
    }
}

fn flatten<'a>(expr: &'a BoolExpr, out: &mut Vec<&'a BoolExpr>) {
    match expr {
        BoolExpr::And(a, b) => {
            flatten(a, out);
            flatten(b, out);
        }
        other => out.push(other),
    }
}

#[cfg(test)]
mod tests {
    use crate::check_source;

    fn refused(condition: &str) -> bool {
        let source = format!("rule r when {condition} then reject reason \"a.b\"");
        match check_source(&source) {
            Ok(_) => false,
            Err(problems) => {
                assert!(
                    problems.items[0].message.contains("can never fire"),
                    "{problems:?}"
                );
                true
            }
        }
    }

    #[test]
    fn contradictory_ranges_are_refused_and_possible_ones_kept() {
        assert!(refused("amount > 5 and amount < 3"));
        assert!(refused("amount > 5 and ip.is_proxy and 5 >= amount"));
        assert!(refused("amount == 1 and amount == 2"));
        assert!(refused("amount in (1, 2) and amount > 2"));
        assert!(refused("amount >= 5 and amount < 5"));
        assert!(!refused("amount >= 5 and amount <= 5"));
        assert!(!refused("amount > 5 or amount < 3"));
        assert!(!refused("amount > 5 and account.age_days < 3"));
        assert!(!refused("amount in (1, 2) and amount >= 2"));
        assert!(!refused("amount != 5 and amount == 5 + 0"));
        assert!(!refused("not (amount > 5) and amount > 6"));
    }
}
