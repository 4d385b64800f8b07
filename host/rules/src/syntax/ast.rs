//! The rule file as written: what the parser produces and the checker reads.

use super::span::{Span, Spanned};

/// A parsed rule file: its rules in source order.
#[derive(Debug, Clone, PartialEq)]
pub struct File {
    pub rules: Vec<Rule>,
}

/// `rule NAME [on CHECKPOINT, …] when CONDITION then EFFECT reason "CODE" [detail "…"]`
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub name: Spanned<String>,
    /// Dotted checkpoint names (`order.create`); empty means every checkpoint.
    pub checkpoints: Vec<Spanned<String>>,
    pub condition: Expr,
    pub effect: Effect,
    pub reason: Spanned<String>,
    pub detail: Option<Template>,
    pub span: Span,
}

/// What a rule does when its condition holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Effect {
    pub action: Option<Spanned<ActionWord>>,
    pub score: Option<Spanned<f64>>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionWord {
    Accept,
    Challenge,
    Reject,
}

/// A detail string: literal text and `{expression}` placeholders.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub parts: Vec<TemplatePart>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TemplatePart {
    Literal(String),
    Value(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Bool(bool),
    Number(f64),
    Text(String),
    /// A dotted attribute name, e.g. `velocity.card.count_1h`.
    Attribute(Vec<String>),
    /// `attributes["key"]`.
    Custom(String),
    Call {
        function: Spanned<String>,
        args: Vec<Expr>,
    },
    Not(Box<Expr>),
    Negate(Box<Expr>),
    Binary {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    In {
        value: Box<Expr>,
        set: Vec<Expr>,
        negated: bool,
    },
    Missing {
        value: Box<Expr>,
        negated: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    And,
    Or,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
}

impl BinaryOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::And => "and",
            BinaryOp::Or => "or",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
        }
    }
}
