//! Recursive-descent parser: tokens to [`File`].
//!
//! ```text
//! file      = rule*
//! rule      = "rule" NAME ["on" checkpoint {"," checkpoint}] "when" expr
//!             "then" effect "reason" STRING ["detail" STRING]
//! effect    = ("accept" | "challenge" | "reject") ["score" signed] | "score" signed
//! expr      = and {"or" and}
//! and       = not {"and" not}
//! not       = "not" not | compare
//! compare   = sum [("==" | "!=" | "<" | "<=" | ">" | ">=") sum
//!                  | ["not"] "in" "(" expr {"," expr} ")"
//!                  | "is" ["not"] "missing" | "is" "present"]
//! sum       = product {("+" | "-") product}
//! product   = unary {("*" | "/") unary}
//! unary     = "-" unary | primary
//! primary   = NUMBER | STRING | "true" | "false" | "(" expr ")"
//!           | NAME "(" [expr {"," expr}] ")" | "attributes" "[" STRING "]" | NAME {"." NAME}
//! ```
//!
//! Nesting is capped ([`MAX_DEPTH`]) so a hostile file cannot overflow the stack.

use super::ast::{
    ActionWord, BinaryOp, Effect, Expr, ExprKind, File, Rule, Template, TemplatePart,
};
use super::lexer::lex;
use super::span::{Span, Spanned};
use super::token::{Lexeme, Token};
use crate::diagnostic::Diagnostic;

/// Deepest nesting of expressions accepted.
pub const MAX_DEPTH: usize = 48;

/// Words that cannot start an attribute name.
const KEYWORDS: &[&str] = &[
    "rule",
    "on",
    "when",
    "then",
    "accept",
    "challenge",
    "reject",
    "score",
    "reason",
    "detail",
    "and",
    "or",
    "not",
    "in",
    "is",
    "missing",
    "present",
    "true",
    "false",
];

/// Parses a whole rule file.
pub fn parse(source: &str) -> Result<File, Diagnostic> {
    let tokens = lex(source, 0)?;
    let mut parser = Parser {
        source,
        tokens,
        at: 0,
        depth: 0,
    };
    let mut rules = Vec::new();
    while parser.peek() != &Token::Eof {
        rules.push(parser.rule()?);
    }
    Ok(File { rules })
}

struct Parser<'s> {
    source: &'s str,
    tokens: Vec<Lexeme>,
    at: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        &self.lexeme().token
    }

    fn lexeme(&self) -> &Lexeme {
        // `lex` always ends with `Eof` and `bump` never moves past it.
        &self.tokens[self.at.min(self.tokens.len() - 1)]
    }

    fn span(&self) -> Span {
        self.lexeme().span
    }

    fn bump(&mut self) -> Lexeme {
        let lexeme = self.lexeme().clone();
        if self.at < self.tokens.len() - 1 {
            self.at += 1;
        }
        lexeme
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(self.peek(), Token::Ident(name) if name == word)
    }

    fn eat_word(&mut self, word: &str) -> bool {
        let found = self.is_word(word);
        if found {
            self.bump();
        }
        found
    }

    fn expect_word(&mut self, word: &str, context: &str) -> Result<Span, Diagnostic> {
        if self.is_word(word) {
            Ok(self.bump().span)
        } else {
            Err(self.unexpected(&format!("`{word}` {context}")))
        }
    }

    fn expect(&mut self, token: &Token, context: &str) -> Result<Span, Diagnostic> {
        if self.peek() == token {
            Ok(self.bump().span)
        } else {
            Err(self.unexpected(&format!("{} {context}", token.describe())))
        }
    }

    fn unexpected(&self, wanted: &str) -> Diagnostic {
        Diagnostic::new(
            format!("expected {wanted}, found {}", self.peek().describe()),
            self.span(),
        )
    }

    fn name(&mut self, what: &str) -> Result<Spanned<String>, Diagnostic> {
        match self.peek().clone() {
            Token::Ident(name) if !KEYWORDS.contains(&name.as_str()) => {
                let span = self.bump().span;
                Ok(Spanned { value: name, span })
            }
            _ => Err(self.unexpected(what)),
        }
    }

    fn string(&mut self, what: &str) -> Result<(Spanned<String>, usize), Diagnostic> {
        match self.peek().clone() {
            Token::Text { value, raw_start } => {
                let span = self.bump().span;
                Ok((Spanned { value, span }, raw_start))
            }
            _ => Err(self.unexpected(what)),
        }
    }

    fn rule(&mut self) -> Result<Rule, Diagnostic> {
        let start = self.expect_word("rule", "to start a rule")?;
        let name = self.name("the rule's name after `rule`")?;
        let mut checkpoints = Vec::new();
        if self.eat_word("on") {
            loop {
                checkpoints.push(self.dotted_name("a checkpoint such as `order.create`")?);
                if self.peek() != &Token::Comma {
                    break;
                }
                self.bump();
            }
        }
        self.expect_word("when", "before the rule's condition")?;
        let condition = self.expr()?;
        self.expect_word("then", "after the condition")?;
        let effect = self.effect()?;
        self.expect_word("reason", "and a reason code after the effect")?;
        let (reason, _) = self.string("the reason code as a string, e.g. \"geo.mismatch\"")?;
        let detail = if self.eat_word("detail") {
            Some(self.template()?)
        } else {
            None
        };
        let end = detail.as_ref().map_or(reason.span, |d| d.span);
        Ok(Rule {
            name,
            checkpoints,
            condition,
            effect,
            reason,
            detail,
            span: start.to(end),
        })
    }

    fn dotted_name(&mut self, what: &str) -> Result<Spanned<String>, Diagnostic> {
        let first = self.name(what)?;
        let mut value = first.value;
        let mut span = first.span;
        while self.peek() == &Token::Dot {
            self.bump();
            match self.peek().clone() {
                Token::Ident(segment) => {
                    span = span.to(self.bump().span);
                    value.push('.');
                    value.push_str(&segment);
                }
                _ => return Err(self.unexpected("a name after `.`")),
            }
        }
        Ok(Spanned { value, span })
    }

    fn effect(&mut self) -> Result<Effect, Diagnostic> {
        let start = self.span();
        let action = [
            ("accept", ActionWord::Accept),
            ("challenge", ActionWord::Challenge),
            ("reject", ActionWord::Reject),
        ]
        .into_iter()
        .find(|(word, _)| self.is_word(word))
        .map(|(_, value)| Spanned {
            value,
            span: self.bump().span,
        });
        let score = if self.eat_word("score") {
            Some(self.signed_number()?)
        } else {
            None
        };
        if action.is_none() && score.is_none() {
            return Err(self.unexpected("`accept`, `challenge`, `reject` or `score` after `then`"));
        }
        let end = score
            .as_ref()
            .map(|s| s.span)
            .or(action.as_ref().map(|a| a.span))
            .unwrap_or(start);
        Ok(Effect {
            action,
            score,
            span: start.to(end),
        })
    }

    fn signed_number(&mut self) -> Result<Spanned<f64>, Diagnostic> {
        let start = self.span();
        let sign = match self.peek() {
            Token::Plus => {
                self.bump();
                1.0
            }
            Token::Minus => {
                self.bump();
                -1.0
            }
            _ => 1.0,
        };
        match self.peek().clone() {
            Token::Number(value) => {
                let end = self.bump().span;
                Ok(Spanned {
                    value: sign * value,
                    span: start.to(end),
                })
            }
            _ => Err(self.unexpected("a number after `score`, e.g. `score +20`")),
        }
    }

    /// A detail string: `{expr}` placeholders are parsed as expressions in place, `{{` and
    /// `}}` are literal braces.
    fn template(&mut self) -> Result<Template, Diagnostic> {
        let (text, raw_start) = self.string("the detail as a string")?;
        let raw_end = text.span.end - 1;
        let raw = &self.source[raw_start..raw_end];
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = raw.char_indices().peekable();
        while let Some((offset, ch)) = chars.next() {
            match ch {
                '\\' => {
                    if let Some((_, escaped)) = chars.next() {
                        literal.push(escaped);
                    }
                }
                '{' if chars.peek().map(|(_, c)| *c) == Some('{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek().map(|(_, c)| *c) == Some('}') => {
                    chars.next();
                    literal.push('}');
                }
                '{' => {
                    let inner_start = offset + 1;
                    let close = raw[inner_start..].find('}').ok_or_else(|| {
                        Diagnostic::new(
                            "this placeholder is not closed",
                            Span::new(raw_start + offset, raw_start + offset + 1),
                        )
                        .with_help("close it with `}`, or write `{{` for a literal brace")
                    })?;
                    let inner = &raw[inner_start..inner_start + close];
                    let expr = self.placeholder(inner, raw_start + inner_start)?;
                    if !literal.is_empty() {
                        parts.push(TemplatePart::Literal(std::mem::take(&mut literal)));
                    }
                    parts.push(TemplatePart::Value(expr));
                    while chars.peek().is_some_and(|(o, _)| *o <= inner_start + close) {
                        chars.next();
                    }
                }
                '}' => {
                    return Err(Diagnostic::new(
                        "a `}` without its `{`",
                        Span::new(raw_start + offset, raw_start + offset + 1),
                    )
                    .with_help("write `}}` for a literal brace"));
                }
                _ => literal.push(ch),
            }
        }
        if !literal.is_empty() {
            parts.push(TemplatePart::Literal(literal));
        }
        Ok(Template {
            parts,
            span: text.span,
        })
    }

    fn placeholder(&self, inner: &str, base: usize) -> Result<Expr, Diagnostic> {
        let tokens = lex(inner, base)?;
        let mut nested = Parser {
            source: self.source,
            tokens,
            at: 0,
            depth: self.depth,
        };
        if nested.peek() == &Token::Eof {
            return Err(Diagnostic::new(
                "an empty placeholder",
                Span::new(base.saturating_sub(1), base + 1),
            )
            .with_help("name an attribute, e.g. `{card.country}`"));
        }
        let expr = nested.expr()?;
        if nested.peek() != &Token::Eof {
            return Err(nested.unexpected("`}` to close the placeholder"));
        }
        Ok(expr)
    }

    fn nest(&mut self) -> Result<(), Diagnostic> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Diagnostic::new(
                format!("expressions nest deeper than {MAX_DEPTH} levels"),
                self.span(),
            )
            .with_help("split the condition into several rules"));
        }
        Ok(())
    }

    fn expr(&mut self) -> Result<Expr, Diagnostic> {
        self.nest()?;
        let mut left = self.and()?;
        while self.eat_word("or") {
            let right = self.and()?;
            left = binary(BinaryOp::Or, left, right);
        }
        self.depth -= 1;
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, Diagnostic> {
        let mut left = self.not()?;
        while self.eat_word("and") {
            let right = self.not()?;
            left = binary(BinaryOp::And, left, right);
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, Diagnostic> {
        if self.is_word("not") {
            let start = self.bump().span;
            self.nest()?;
            let inner = self.not()?;
            self.depth -= 1;
            let span = start.to(inner.span);
            return Ok(Expr {
                kind: ExprKind::Not(Box::new(inner)),
                span,
            });
        }
        self.compare()
    }

    fn compare(&mut self) -> Result<Expr, Diagnostic> {
        let left = self.sum()?;
        let op = match self.peek() {
            Token::Eq => Some(BinaryOp::Eq),
            Token::Ne => Some(BinaryOp::Ne),
            Token::Lt => Some(BinaryOp::Lt),
            Token::Le => Some(BinaryOp::Le),
            Token::Gt => Some(BinaryOp::Gt),
            Token::Ge => Some(BinaryOp::Ge),
            _ => None,
        };
        if let Some(op) = op {
            self.bump();
            let right = self.sum()?;
            return Ok(binary(op, left, right));
        }
        if self.is_word("not") || self.is_word("in") {
            let negated = self.eat_word("not");
            self.expect_word("in", "after `not` in a set test (`not in (…)`)")?;
            self.expect(&Token::LParen, "to open the set")?;
            let mut set = vec![self.expr()?];
            while self.peek() == &Token::Comma {
                self.bump();
                set.push(self.expr()?);
            }
            let end = self.expect(&Token::RParen, "to close the set")?;
            let span = left.span.to(end);
            return Ok(Expr {
                kind: ExprKind::In {
                    value: Box::new(left),
                    set,
                    negated,
                },
                span,
            });
        }
        if self.eat_word("is") {
            let negated = if self.eat_word("present") {
                true
            } else {
                let not = self.eat_word("not");
                self.expect_word(
                    "missing",
                    "after `is` (`is missing`, `is not missing`, `is present`)",
                )?;
                not
            };
            let span = left.span.to(self.tokens[self.at.saturating_sub(1)].span);
            return Ok(Expr {
                kind: ExprKind::Missing {
                    value: Box::new(left),
                    negated,
                },
                span,
            });
        }
        Ok(left)
    }

    fn sum(&mut self) -> Result<Expr, Diagnostic> {
        let mut left = self.product()?;
        loop {
            let op = match self.peek() {
                Token::Plus => BinaryOp::Add,
                Token::Minus => BinaryOp::Sub,
                _ => return Ok(left),
            };
            self.bump();
            let right = self.product()?;
            left = binary(op, left, right);
        }
    }

    fn product(&mut self) -> Result<Expr, Diagnostic> {
        let mut left = self.unary()?;
        loop {
            let op = match self.peek() {
                Token::Star => BinaryOp::Mul,
                Token::Slash => BinaryOp::Div,
                _ => return Ok(left),
            };
            self.bump();
            let right = self.unary()?;
            left = binary(op, left, right);
        }
    }

    fn unary(&mut self) -> Result<Expr, Diagnostic> {
        if self.peek() == &Token::Minus {
            let start = self.bump().span;
            self.nest()?;
            let inner = self.unary()?;
            self.depth -= 1;
            let span = start.to(inner.span);
            return Ok(Expr {
                kind: ExprKind::Negate(Box::new(inner)),
                span,
            });
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, Diagnostic> {
        let span = self.span();
        let kind = match self.peek().clone() {
            Token::Number(value) => {
                self.bump();
                ExprKind::Number(value)
            }
            Token::Text { value, .. } => {
                self.bump();
                ExprKind::Text(value)
            }
            Token::LParen => {
                self.bump();
                let inner = self.expr()?;
                let end = self.expect(&Token::RParen, "to close `(`")?;
                return Ok(Expr {
                    kind: inner.kind,
                    span: span.to(end),
                });
            }
            Token::Ident(word) if word == "true" || word == "false" => {
                self.bump();
                ExprKind::Bool(word == "true")
            }
            Token::Ident(word) if word == "attributes" => {
                self.bump();
                self.expect(
                    &Token::LBracket,
                    "after `attributes` (`attributes[\"key\"]`)",
                )?;
                let (key, _) = self.string("the attribute's key as a string")?;
                let end = self.expect(&Token::RBracket, "to close `attributes[`")?;
                return Ok(Expr {
                    kind: ExprKind::Custom(key.value),
                    span: span.to(end),
                });
            }
            Token::Ident(_) => {
                let name = self.dotted_name("an attribute, a value or a function")?;
                if self.peek() == &Token::LParen && !name.value.contains('.') {
                    return self.call(name);
                }
                return Ok(Expr {
                    kind: ExprKind::Attribute(name.value.split('.').map(str::to_string).collect()),
                    span: name.span,
                });
            }
            _ => return Err(self.unexpected("an attribute, a value or a function")),
        };
        Ok(Expr { kind, span })
    }

    fn call(&mut self, function: Spanned<String>) -> Result<Expr, Diagnostic> {
        self.bump();
        let mut args = Vec::new();
        if self.peek() != &Token::RParen {
            args.push(self.expr()?);
            while self.peek() == &Token::Comma {
                self.bump();
                args.push(self.expr()?);
            }
        }
        let end = self.expect(&Token::RParen, "to close the function's arguments")?;
        let span = function.span.to(end);
        Ok(Expr {
            kind: ExprKind::Call { function, args },
            span,
        })
    }
}

fn binary(op: BinaryOp, left: Expr, right: Expr) -> Expr {
    let span = left.span.to(right.span);
    Expr {
        kind: ExprKind::Binary {
            op,
            left: Box::new(left),
            right: Box::new(right),
        },
        span,
    }
}
