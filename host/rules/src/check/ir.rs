//! The checked program: every expression typed, every attribute resolved to where it lives
//! in the context layout. The interpreter and the code generator both read this, never the
//! syntax tree, so they cannot disagree on what a name means.

/// A checked rule file.
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    pub rules: Vec<CheckedRule>,
}

impl Program {
    /// Every `attributes['key']` the file reads, once each, in first-use order.
    pub fn custom_keys(&self) -> Vec<String> {
        let mut keys = Vec::new();
        for rule in &self.rules {
            bool_keys(&rule.condition, &mut keys);
            for piece in rule.detail.iter().flatten() {
                match piece {
                    Piece::Literal(_) => {}
                    Piece::Bool(b) => bool_keys(b, &mut keys),
                    Piece::Number(n) => num_keys(n, &mut keys),
                    Piece::Text(t) => text_keys(t, &mut keys),
                }
            }
        }
        keys
    }
}

fn bool_keys(expr: &BoolExpr, keys: &mut Vec<String>) {
    match expr {
        BoolExpr::Const(_) | BoolExpr::Proxy | BoolExpr::WatchHit(_) => {}
        BoolExpr::Not(inner) => bool_keys(inner, keys),
        BoolExpr::And(a, b) | BoolExpr::Or(a, b) => {
            bool_keys(a, keys);
            bool_keys(b, keys);
        }
        BoolExpr::BoolEq { left, right, .. } => {
            bool_keys(left, keys);
            bool_keys(right, keys);
        }
        BoolExpr::NumCompare { left, right, .. } => {
            num_keys(left, keys);
            num_keys(right, keys);
        }
        BoolExpr::NumIn { value, .. } | BoolExpr::NumMissing { value, .. } => num_keys(value, keys),
        BoolExpr::TextEq { left, right, .. } => {
            text_keys(left, keys);
            text_keys(right, keys);
        }
        BoolExpr::TextIn { value, .. }
        | BoolExpr::TextMissing { value, .. }
        | BoolExpr::StartsWith(value, _)
        | BoolExpr::EndsWith(value, _)
        | BoolExpr::Contains(value, _) => text_keys(value, keys),
    }
}

fn num_keys(expr: &NumExpr, keys: &mut Vec<String>) {
    match expr {
        NumExpr::Const(_) | NumExpr::Field(_) | NumExpr::WatchCount => {}
        NumExpr::Arith { left, right, .. } => {
            num_keys(left, keys);
            num_keys(right, keys);
        }
        NumExpr::Negate(inner) => num_keys(inner, keys),
        NumExpr::Parse(inner) | NumExpr::Length(inner) => text_keys(inner, keys),
        NumExpr::DistinctText(items) => items.iter().for_each(|i| text_keys(i, keys)),
        NumExpr::DistinctNum(items) | NumExpr::Coalesce(items) => {
            items.iter().for_each(|i| num_keys(i, keys));
        }
    }
}

fn text_keys(expr: &TextExpr, keys: &mut Vec<String>) {
    if let TextExpr::Custom(key) = expr.base()
        && !keys.contains(key)
    {
        keys.push(key.clone());
    }
}

/// One rule, ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedRule {
    pub name: String,
    /// Bit `c` set: the rule runs at checkpoint code `c` (layout's `checkpoint` codes).
    pub checkpoints: u8,
    pub condition: BoolExpr,
    pub action: Action,
    /// Added to the verdict's score (an `f32`, as the ABI carries it) when the rule fires.
    pub score: f32,
    pub code: String,
    pub detail: Option<Vec<Piece>>,
}

/// Every checkpoint bit set.
pub const ALL_CHECKPOINTS: u8 = 0b1_1111;

/// The ABI's action, in its discriminant order (`none` 0 … `reject` 3): combining is `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    None = 0,
    Accept = 1,
    Challenge = 2,
    Reject = 3,
}

/// A piece of a detail: literal text or a value printed in place.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Literal(String),
    Bool(BoolExpr),
    Number(NumExpr),
    Text(TextExpr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
}

/// A condition. Never missing: every test involving a missing value is false.
#[derive(Debug, Clone, PartialEq)]
pub enum BoolExpr {
    Const(bool),
    /// `ip.is_proxy`.
    Proxy,
    Not(Box<BoolExpr>),
    And(Box<BoolExpr>, Box<BoolExpr>),
    Or(Box<BoolExpr>, Box<BoolExpr>),
    BoolEq {
        left: Box<BoolExpr>,
        right: Box<BoolExpr>,
        negated: bool,
    },
    NumCompare {
        op: CmpOp,
        left: NumExpr,
        right: NumExpr,
    },
    NumIn {
        value: NumExpr,
        set: Vec<f64>,
        negated: bool,
    },
    TextEq {
        left: TextExpr,
        right: TextExpr,
        negated: bool,
    },
    TextIn {
        value: TextExpr,
        set: Vec<String>,
        negated: bool,
    },
    NumMissing {
        value: NumExpr,
        negated: bool,
    },
    TextMissing {
        value: TextExpr,
        negated: bool,
    },
    StartsWith(TextExpr, String),
    EndsWith(TextExpr, String),
    Contains(TextExpr, String),
    /// A watch-list hit with this reason code.
    WatchHit(String),
}

/// A number; missing when the context lacks it or a computation is not finite.
#[derive(Debug, Clone, PartialEq)]
pub enum NumExpr {
    Const(f64),
    Field(NumField),
    Arith {
        op: ArithOp,
        left: Box<NumExpr>,
        right: Box<NumExpr>,
    },
    Negate(Box<NumExpr>),
    /// A text read as a decimal number (`-?D+(.D+)?`, at most 15 digits).
    Parse(Box<TextExpr>),
    /// Characters in a text.
    Length(Box<TextExpr>),
    DistinctText(Vec<TextExpr>),
    DistinctNum(Vec<NumExpr>),
    /// How many watch-list hits the decision has.
    WatchCount,
    /// The first present value.
    Coalesce(Vec<NumExpr>),
}

/// A text; missing when the context lacks it.
#[derive(Debug, Clone, PartialEq)]
pub enum TextExpr {
    Const(String),
    /// Text `i` of the layout.
    Field(usize),
    /// `attributes["key"]`.
    Custom(String),
    /// ASCII letters folded to lower case.
    Lower(Box<TextExpr>),
}

impl TextExpr {
    /// Whether the value is folded to lower case (`lower(…)`, at any depth).
    pub fn folded(&self) -> bool {
        matches!(self, TextExpr::Lower(_))
    }

    /// The expression under any `lower(…)`.
    pub fn base(&self) -> &TextExpr {
        match self {
            TextExpr::Lower(inner) => inner.base(),
            other => other,
        }
    }
}

/// A number stored in the layout's fixed section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumField {
    AmountValue,
    AmountMinorUnits,
    AccountAgeDays,
    Window {
        index: usize,
        field: WindowField,
    },
    /// Graph count `k` (layout order: group-entities … cards-per-user).
    GraphCount(usize),
    FraudShare2Hop,
    GraphScore,
    HopsToFraud,
    /// 2.1: the amount in the reporting currency.
    AmountReporting,
    /// 2.1: the model layer's score.
    ModelScore,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowField {
    Count1h,
    Count24h,
    Sum1h,
    Sum24h,
}
