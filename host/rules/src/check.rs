//! From the syntax tree to a [`Program`]: names resolved, types checked, and rules that
//! could never matter refused (a condition that is always false, bounds on one attribute
//! that contradict each other, an effect that changes nothing, a lower-cased value compared
//! with upper-case text).

pub mod catalogue;
pub mod expr;
pub mod ir;
mod ranges;

use std::collections::HashSet;

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::interpret::{Context, eval_bool};
use crate::syntax::ast::{self, ActionWord, TemplatePart};
use ir::{Action, BoolExpr, CheckedRule, NumExpr, Piece, Program, TextExpr};

/// Most rules one file may hold.
pub const MAX_RULES: usize = 500;
/// Longest rule name and reason code, in bytes.
pub const MAX_NAME_BYTES: usize = 64;
/// Largest score one rule may add or take away.
pub const MAX_SCORE: f64 = 1_000.0;
/// Reason codes the engine writes itself; a rule using them would be mistaken for it.
const RESERVED_CODE_PREFIXES: &[&str] = &["score.", "rule.fault"];

/// Checks a parsed file. Every rule is checked, so one answer lists every problem.
pub fn check(file: &ast::File) -> Result<Program, Diagnostics> {
    let mut problems = Vec::new();
    if file.rules.is_empty() {
        problems.push(
            Diagnostic::new(
                "the file has no rules",
                crate::syntax::span::Span::default(),
            )
            .with_help("start one with `rule NAME when CONDITION then EFFECT reason \"CODE\"`"),
        );
    }
    if let Some(extra) = file.rules.get(MAX_RULES) {
        problems.push(Diagnostic::new(
            format!("a file holds at most {MAX_RULES} rules"),
            extra.name.span,
        ));
    }
    let mut names = HashSet::new();
    let mut rules = Vec::new();
    for rule in &file.rules {
        if !names.insert(rule.name.value.as_str()) {
            problems.push(Diagnostic::new(
                format!("a second rule named `{}`", rule.name.value),
                rule.name.span,
            ));
        }
        match check_rule(rule) {
            Ok(checked) => rules.push(checked),
            Err(problem) => problems.push(problem),
        }
    }
    if problems.is_empty() {
        Ok(Program { rules })
    } else {
        problems.sort_by_key(|p| p.span.start);
        Err(Diagnostics { items: problems })
    }
}

fn check_rule(rule: &ast::Rule) -> Result<CheckedRule, Diagnostic> {
    if rule.name.value.len() > MAX_NAME_BYTES {
        return Err(Diagnostic::new(
            format!("a rule name has at most {MAX_NAME_BYTES} characters"),
            rule.name.span,
        ));
    }
    let checkpoints = checkpoints(&rule.checkpoints)?;
    let condition = expr::condition(&rule.condition)?;
    if references_nothing(&condition) && !eval_bool(&condition, &Context::empty()) {
        return Err(Diagnostic::new(
            format!(
                "rule `{}` can never fire: its condition is always false",
                rule.name.value
            ),
            rule.condition.span,
        ));
    }
    if ranges::contradicts_itself(&condition) {
        return Err(Diagnostic::new(
            format!(
                "rule `{}` can never fire: it compares one attribute with values no value satisfies at once",
                rule.name.value
            ),
            rule.condition.span,
        )
        .with_help("check the bounds joined by `and`, e.g. `amount > 500 and amount < 200`"));
    }
    let action = match rule.effect.action.as_ref().map(|a| a.value) {
        None => Action::None,
        Some(ActionWord::Accept) => Action::Accept,
        Some(ActionWord::Challenge) => Action::Challenge,
        Some(ActionWord::Reject) => Action::Reject,
    };
    let score = match &rule.effect.score {
        Some(s) if s.value.abs() > MAX_SCORE => {
            return Err(Diagnostic::new(
                format!("a rule's score is between -{MAX_SCORE} and {MAX_SCORE}"),
                s.span,
            ));
        }
        Some(s) => s.value,
        None => 0.0,
    };
    #[expect(
        clippy::cast_possible_truncation,
        reason = "bounded by MAX_SCORE above"
    )]
    let score = score as f32;
    if action == Action::None && score == 0.0 {
        return Err(Diagnostic::new(
            "this effect changes nothing: no action and a score of 0",
            rule.effect.span,
        )
        .with_help("give an action (`challenge`, `reject`) or a score, e.g. `score +20`"));
    }
    reason_code(&rule.reason)?;
    let detail = rule.detail.as_ref().map(template).transpose()?;
    Ok(CheckedRule {
        name: rule.name.value.clone(),
        checkpoints,
        condition,
        action,
        score,
        code: rule.reason.value.clone(),
        detail,
    })
}

fn checkpoints(named: &[crate::syntax::span::Spanned<String>]) -> Result<u8, Diagnostic> {
    if named.is_empty() {
        return Ok(ir::ALL_CHECKPOINTS);
    }
    let mut mask = 0u8;
    for checkpoint in named {
        let Some(code) = catalogue::checkpoint(&checkpoint.value) else {
            let diagnostic = Diagnostic::new(
                format!("unknown checkpoint `{}`", checkpoint.value),
                checkpoint.span,
            );
            let names = catalogue::CHECKPOINTS.iter().map(|(n, _)| *n);
            return Err(match catalogue::closest(&checkpoint.value, names) {
                Some(meant) => diagnostic.with_help(format!("did you mean `{meant}`?")),
                None => diagnostic.with_help(format!(
                    "checkpoints: {}",
                    catalogue::CHECKPOINTS
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            });
        };
        if mask & (1 << code) != 0 {
            return Err(Diagnostic::new(
                format!("checkpoint `{}` is named twice", checkpoint.value),
                checkpoint.span,
            ));
        }
        mask |= 1 << code;
    }
    Ok(mask)
}

fn reason_code(code: &crate::syntax::span::Spanned<String>) -> Result<(), Diagnostic> {
    let value = &code.value;
    let well_formed = !value.is_empty()
        && value.len() <= MAX_NAME_BYTES
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if !well_formed {
        return Err(
            Diagnostic::new(format!("\"{value}\" is not a reason code"), code.span).with_help(
                format!("1 to {MAX_NAME_BYTES} of a-z, 0-9, `.`, `_`, `-`, e.g. \"geo.mismatch\""),
            ),
        );
    }
    if let Some(prefix) = RESERVED_CODE_PREFIXES
        .iter()
        .find(|p| value.starts_with(*p))
    {
        return Err(Diagnostic::new(
            format!("reason codes starting with `{prefix}` are the engine's own"),
            code.span,
        ));
    }
    Ok(())
}

fn template(detail: &ast::Template) -> Result<Vec<Piece>, Diagnostic> {
    detail
        .parts
        .iter()
        .map(|part| match part {
            TemplatePart::Literal(text) => Ok(Piece::Literal(text.clone())),
            TemplatePart::Value(value) => Ok(match expr::check(value)? {
                expr::Typed::Bool(b) => Piece::Bool(b),
                expr::Typed::Num(n) => Piece::Number(n),
                expr::Typed::Text(t) => Piece::Text(t),
            }),
        })
        .collect()
}

/// Whether a condition reads nothing from the context (so its value is known now).
fn references_nothing(expr: &BoolExpr) -> bool {
    match expr {
        BoolExpr::Const(_) => true,
        BoolExpr::Proxy | BoolExpr::WatchHit(_) => false,
        BoolExpr::Not(inner) => references_nothing(inner),
        BoolExpr::And(a, b) | BoolExpr::Or(a, b) => references_nothing(a) && references_nothing(b),
        BoolExpr::BoolEq { left, right, .. } => {
            references_nothing(left) && references_nothing(right)
        }
        BoolExpr::NumCompare { left, right, .. } => num_constant(left) && num_constant(right),
        BoolExpr::NumIn { value, .. } | BoolExpr::NumMissing { value, .. } => num_constant(value),
        BoolExpr::TextEq { left, right, .. } => text_constant(left) && text_constant(right),
        BoolExpr::TextIn { value, .. }
        | BoolExpr::TextMissing { value, .. }
        | BoolExpr::StartsWith(value, _)
        | BoolExpr::EndsWith(value, _)
        | BoolExpr::Contains(value, _) => text_constant(value),
    }
}

fn num_constant(expr: &NumExpr) -> bool {
    match expr {
        NumExpr::Const(_) => true,
        NumExpr::Field(_) | NumExpr::WatchCount => false,
        NumExpr::Arith { left, right, .. } => num_constant(left) && num_constant(right),
        NumExpr::Negate(inner) => num_constant(inner),
        NumExpr::Parse(inner) | NumExpr::Length(inner) => text_constant(inner),
        NumExpr::DistinctText(items) => items.iter().all(text_constant),
        NumExpr::DistinctNum(items) | NumExpr::Coalesce(items) => items.iter().all(num_constant),
    }
}

fn text_constant(expr: &TextExpr) -> bool {
    match expr {
        TextExpr::Const(_) => true,
        TextExpr::Field(_) | TextExpr::Custom(_) => false,
        TextExpr::Lower(inner) => text_constant(inner),
    }
}
