//! Typing expressions: every name resolved, every operand of the right type.
//!
//! Three types: conditions (true or false, never missing), numbers and texts (either may be
//! missing). A text used where a number is wanted (`attributes['items'] > 3`,
//! `card.bin >= 400000`) is read as a decimal number, and is missing when it is not one; a
//! string *literal* is never taken for a number, that is a mistake worth naming.

use super::catalogue::{self, Attribute};
use super::ir::{ArithOp, BoolExpr, CmpOp, NumExpr, TextExpr};
use crate::diagnostic::Diagnostic;
use crate::syntax::ast::{BinaryOp, Expr, ExprKind};
use crate::syntax::span::Span;

/// A typed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Typed {
    Bool(BoolExpr),
    Num(NumExpr),
    Text(TextExpr),
}

impl Typed {
    fn kind(&self) -> &'static str {
        match self {
            Typed::Bool(_) => "a condition (true or false)",
            Typed::Num(_) => "a number",
            Typed::Text(_) => "a text",
        }
    }
}

const FUNCTIONS: &[&str] = &[
    "lower",
    "length",
    "number",
    "starts_with",
    "ends_with",
    "contains",
    "distinct",
    "coalesce",
    "watch_hit",
];

/// Types `expr`.
pub fn check(expr: &Expr) -> Result<Typed, Diagnostic> {
    let span = expr.span;
    Ok(match &expr.kind {
        ExprKind::Bool(value) => Typed::Bool(BoolExpr::Const(*value)),
        ExprKind::Number(value) => Typed::Num(NumExpr::Const(*value)),
        ExprKind::Text(value) => Typed::Text(TextExpr::Const(value.clone())),
        ExprKind::Custom(key) => Typed::Text(TextExpr::Custom(key.clone())),
        ExprKind::Attribute(path) => attribute(&path.join("."), span)?,
        ExprKind::Call { function, args } => call(&function.value, function.span, args, span)?,
        ExprKind::Not(inner) => Typed::Bool(BoolExpr::Not(Box::new(condition(inner)?))),
        ExprKind::Negate(inner) => Typed::Num(match number(inner)? {
            NumExpr::Const(value) => NumExpr::Const(-value),
            other => NumExpr::Negate(Box::new(other)),
        }),
        ExprKind::Binary { op, left, right } => binary(*op, left, right)?,
        ExprKind::In {
            value,
            set,
            negated,
        } => membership(value, set, *negated)?,
        ExprKind::Missing { value, negated } => match check(value)? {
            Typed::Num(value) => Typed::Bool(BoolExpr::NumMissing {
                value,
                negated: *negated,
            }),
            Typed::Text(value) => Typed::Bool(BoolExpr::TextMissing {
                value,
                negated: *negated,
            }),
            Typed::Bool(_) => {
                return Err(Diagnostic::new("a condition is never missing", value.span)
                    .with_help("`is missing` tests an attribute, e.g. `card.country is missing`"));
            }
        },
    })
}

/// Types `expr` as a condition.
pub fn condition(expr: &Expr) -> Result<BoolExpr, Diagnostic> {
    match check(expr)? {
        Typed::Bool(value) => Ok(value),
        other => Err(Diagnostic::new(
            format!(
                "expected a condition (true or false), found {}",
                other.kind()
            ),
            expr.span,
        )
        .with_help("compare it, e.g. `amount > 100`, or test it with `is missing`")),
    }
}

/// Types `expr` as a number; a non-literal text is read as one.
pub fn number(expr: &Expr) -> Result<NumExpr, Diagnostic> {
    as_number(check(expr)?, expr.span)
}

fn as_number(typed: Typed, span: Span) -> Result<NumExpr, Diagnostic> {
    match typed {
        Typed::Num(value) => Ok(value),
        Typed::Text(TextExpr::Const(value)) => Err(Diagnostic::new(
            format!("the string \"{value}\" is not a number"),
            span,
        )
        .with_help("write numbers without quotes, e.g. `5`")),
        Typed::Text(text) => Ok(NumExpr::Parse(Box::new(text))),
        Typed::Bool(_) => Err(Diagnostic::new(
            "expected a number, found a condition (true or false)",
            span,
        )),
    }
}

fn text(expr: &Expr) -> Result<TextExpr, Diagnostic> {
    match check(expr)? {
        Typed::Text(value) => Ok(value),
        other => Err(Diagnostic::new(
            format!("expected a text, found {}", other.kind()),
            expr.span,
        )),
    }
}

fn attribute(name: &str, span: Span) -> Result<Typed, Diagnostic> {
    if let Some(found) = catalogue::lookup(name) {
        return Ok(match found {
            Attribute::Bool(value) => Typed::Bool(value),
            Attribute::Number(value) => Typed::Num(value),
            Attribute::Text(value) => Typed::Text(value),
        });
    }
    if catalogue::checkpoint(name).is_some() {
        return Err(
            Diagnostic::new(format!("`{name}` is a checkpoint, not a value"), span).with_help(
                format!("filter checkpoints with `on {name}` after the rule's name"),
            ),
        );
    }
    let names = catalogue::names();
    let diagnostic = Diagnostic::new(format!("unknown attribute `{name}`"), span);
    Err(
        match catalogue::closest(name, names.iter().map(String::as_str)) {
            Some(meant) => diagnostic.with_help(format!("did you mean `{meant}`?")),
            None => diagnostic.with_help(
                "see the attribute list in policies/RULES.md; custom fields are `attributes['key']`",
            ),
        },
    )
}

fn literal_text(expr: &Expr, what: &str) -> Result<String, Diagnostic> {
    match &expr.kind {
        ExprKind::Text(value) => Ok(value.clone()),
        _ => Err(Diagnostic::new(
            format!("{what} must be a string literal"),
            expr.span,
        )),
    }
}

fn arity(name: &str, args: &[Expr], wanted: usize, span: Span) -> Result<(), Diagnostic> {
    if args.len() == wanted {
        Ok(())
    } else {
        Err(Diagnostic::new(
            format!("`{name}` takes {wanted} argument(s), found {}", args.len()),
            span,
        ))
    }
}

fn call(name: &str, name_span: Span, args: &[Expr], span: Span) -> Result<Typed, Diagnostic> {
    match name {
        "lower" => {
            arity(name, args, 1, span)?;
            Ok(Typed::Text(match text(&args[0])? {
                TextExpr::Const(value) => TextExpr::Const(value.to_ascii_lowercase()),
                folded @ TextExpr::Lower(_) => folded,
                other => TextExpr::Lower(Box::new(other)),
            }))
        }
        "length" => {
            arity(name, args, 1, span)?;
            Ok(Typed::Num(NumExpr::Length(Box::new(text(&args[0])?))))
        }
        "number" => {
            arity(name, args, 1, span)?;
            Ok(Typed::Num(NumExpr::Parse(Box::new(text(&args[0])?))))
        }
        "starts_with" | "ends_with" | "contains" => {
            arity(name, args, 2, span)?;
            let value = text(&args[0])?;
            let pattern = literal_text(&args[1], &format!("the second argument of `{name}`"))?;
            folded_literal(&value, &pattern, args[1].span)?;
            Ok(Typed::Bool(match name {
                "starts_with" => BoolExpr::StartsWith(value, pattern),
                "ends_with" => BoolExpr::EndsWith(value, pattern),
                _ => BoolExpr::Contains(value, pattern),
            }))
        }
        "distinct" => {
            if args.len() < 2 {
                return Err(Diagnostic::new(
                    "`distinct` counts different values among two or more",
                    span,
                ));
            }
            let typed = args.iter().map(check).collect::<Result<Vec<_>, _>>()?;
            if typed.iter().all(|t| matches!(t, Typed::Text(_))) {
                return Ok(Typed::Num(NumExpr::DistinctText(
                    typed
                        .into_iter()
                        .filter_map(|t| match t {
                            Typed::Text(t) => Some(t),
                            _ => None,
                        })
                        .collect(),
                )));
            }
            let numbers = typed
                .into_iter()
                .zip(args)
                .map(|(t, arg)| as_number(t, arg.span))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Typed::Num(NumExpr::DistinctNum(numbers)))
        }
        "coalesce" => {
            if args.len() < 2 {
                return Err(Diagnostic::new(
                    "`coalesce` picks the first present value of two or more",
                    span,
                ));
            }
            let numbers = args.iter().map(number).collect::<Result<Vec<_>, _>>()?;
            Ok(Typed::Num(NumExpr::Coalesce(numbers)))
        }
        "watch_hit" => {
            arity(name, args, 1, span)?;
            let code = literal_text(&args[0], "the watch-list reason code")?;
            Ok(Typed::Bool(BoolExpr::WatchHit(code)))
        }
        _ => {
            let diagnostic = Diagnostic::new(format!("unknown function `{name}`"), name_span);
            Err(match catalogue::closest(name, FUNCTIONS.iter().copied()) {
                Some(meant) => diagnostic.with_help(format!("did you mean `{meant}`?")),
                None => diagnostic.with_help(format!("functions: {}", FUNCTIONS.join(", "))),
            })
        }
    }
}

/// A lower-cased value never equals, starts, ends with or contains a literal holding an
/// upper-case ASCII letter: the rule could never fire that way.
fn folded_literal(value: &TextExpr, literal: &str, span: Span) -> Result<(), Diagnostic> {
    if value.folded() && literal.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(Diagnostic::new(
            format!("`lower(…)` never matches \"{literal}\", which has upper-case letters"),
            span,
        )
        .with_help(format!("write \"{}\"", literal.to_ascii_lowercase())));
    }
    Ok(())
}

fn binary(op: BinaryOp, left: &Expr, right: &Expr) -> Result<Typed, Diagnostic> {
    let arith = |op| -> Result<Typed, Diagnostic> {
        Ok(Typed::Num(NumExpr::Arith {
            op,
            left: Box::new(number(left)?),
            right: Box::new(number(right)?),
        }))
    };
    let compare = |op| -> Result<Typed, Diagnostic> {
        Ok(Typed::Bool(BoolExpr::NumCompare {
            op,
            left: number(left)?,
            right: number(right)?,
        }))
    };
    match op {
        BinaryOp::And => Ok(Typed::Bool(BoolExpr::And(
            Box::new(condition(left)?),
            Box::new(condition(right)?),
        ))),
        BinaryOp::Or => Ok(Typed::Bool(BoolExpr::Or(
            Box::new(condition(left)?),
            Box::new(condition(right)?),
        ))),
        BinaryOp::Add => arith(ArithOp::Add),
        BinaryOp::Sub => arith(ArithOp::Sub),
        BinaryOp::Mul => arith(ArithOp::Mul),
        BinaryOp::Div => arith(ArithOp::Div),
        BinaryOp::Eq | BinaryOp::Ne => equality(op == BinaryOp::Ne, left, right),
        BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
            let (l, r) = (check(left)?, check(right)?);
            if let (Typed::Text(_), Typed::Text(_)) = (&l, &r) {
                return Err(Diagnostic::new(
                    format!("texts cannot be ordered with `{}`", op.symbol()),
                    left.span.to(right.span),
                )
                .with_help("compare texts with `==`, `!=`, `in (…)` or `starts_with`"));
            }
            let cmp = match op {
                BinaryOp::Lt => CmpOp::Lt,
                BinaryOp::Le => CmpOp::Le,
                BinaryOp::Gt => CmpOp::Gt,
                _ => CmpOp::Ge,
            };
            let _ = (l, r);
            compare(cmp)
        }
    }
}

fn equality(negated: bool, left: &Expr, right: &Expr) -> Result<Typed, Diagnostic> {
    let (l, r) = (check(left)?, check(right)?);
    Ok(Typed::Bool(match (l, r) {
        (Typed::Bool(l), Typed::Bool(r)) => BoolExpr::BoolEq {
            left: Box::new(l),
            right: Box::new(r),
            negated,
        },
        (Typed::Text(l), Typed::Text(r)) => {
            if let TextExpr::Const(literal) = &r {
                folded_literal(&l, literal, right.span)?;
            }
            if let TextExpr::Const(literal) = &l {
                folded_literal(&r, literal, left.span)?;
            }
            BoolExpr::TextEq {
                left: l,
                right: r,
                negated,
            }
        }
        (l @ Typed::Bool(_), r) | (l, r @ Typed::Bool(_)) => {
            return Err(Diagnostic::new(
                format!("cannot compare {} with {}", l.kind(), r.kind()),
                left.span.to(right.span),
            ));
        }
        (l, r) => BoolExpr::NumCompare {
            op: if negated { CmpOp::Ne } else { CmpOp::Eq },
            left: as_number(l, left.span)?,
            right: as_number(r, right.span)?,
        },
    }))
}

fn membership(value: &Expr, set: &[Expr], negated: bool) -> Result<Typed, Diagnostic> {
    let typed = check(value)?;
    let texts: Option<Vec<String>> = set
        .iter()
        .map(|item| match &item.kind {
            ExprKind::Text(v) => Some(v.clone()),
            _ => None,
        })
        .collect();
    if let (Typed::Text(value_text), Some(texts)) = (&typed, texts) {
        for (item, literal) in set.iter().zip(&texts) {
            folded_literal(value_text, literal, item.span)?;
        }
        return Ok(Typed::Bool(BoolExpr::TextIn {
            value: value_text.clone(),
            set: texts,
            negated,
        }));
    }
    let numbers = set
        .iter()
        .map(|item| match number(item)? {
            NumExpr::Const(v) => Ok(v),
            _ => Err(
                Diagnostic::new("a set holds literal values (numbers or strings)", item.span)
                    .with_help("compare with attributes using `==` and `or`"),
            ),
        })
        .collect::<Result<Vec<f64>, _>>()?;
    Ok(Typed::Bool(BoolExpr::NumIn {
        value: as_number(typed, value.span)?,
        set: numbers,
        negated,
    }))
}
