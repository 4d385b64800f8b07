//! Tokens of the rule language.

use super::span::Span;

#[derive(Debug, Clone, PartialEq)]
pub enum Token {
    /// A name: keyword, rule name, attribute segment, function or checkpoint segment.
    Ident(String),
    Number(f64),
    /// A string literal with its escapes resolved; `raw_start` is the byte offset of the
    /// first character after the opening quote, for placeholders inside detail templates.
    Text {
        value: String,
        raw_start: usize,
    },
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Plus,
    Minus,
    Star,
    Slash,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Eof,
}

impl Token {
    /// How the token reads in an error message.
    pub fn describe(&self) -> String {
        match self {
            Token::Ident(name) => format!("`{name}`"),
            Token::Number(_) => "a number".into(),
            Token::Text { .. } => "a string".into(),
            Token::LParen => "`(`".into(),
            Token::RParen => "`)`".into(),
            Token::LBracket => "`[`".into(),
            Token::RBracket => "`]`".into(),
            Token::Comma => "`,`".into(),
            Token::Dot => "`.`".into(),
            Token::Plus => "`+`".into(),
            Token::Minus => "`-`".into(),
            Token::Star => "`*`".into(),
            Token::Slash => "`/`".into(),
            Token::Eq => "`==`".into(),
            Token::Ne => "`!=`".into(),
            Token::Lt => "`<`".into(),
            Token::Le => "`<=`".into(),
            Token::Gt => "`>`".into(),
            Token::Ge => "`>=`".into(),
            Token::Eof => "the end of the file".into(),
        }
    }
}

/// A token and its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Lexeme {
    pub token: Token,
    pub span: Span,
}
