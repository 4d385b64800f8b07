//! Turns a rule file into tokens. `#` starts a comment to the end of the line; line breaks
//! are whitespace.

use super::span::Span;
use super::token::{Lexeme, Token};
use crate::diagnostic::Diagnostic;

/// Longest number literal read, so a pasted megabyte of digits is one clear error.
const MAX_NUMBER_CHARS: usize = 32;

/// The tokens of `source` starting at byte `base` (non-zero when lexing a placeholder
/// inside a detail template), ending with [`Token::Eof`].
pub fn lex(source: &str, base: usize) -> Result<Vec<Lexeme>, Diagnostic> {
    let mut out = Vec::new();
    let bytes = source.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let start = i;
        let at = |s: usize, e: usize| Span::new(base + s, base + e);
        match b {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                out.push(Lexeme {
                    token: Token::Ident(source[start..i].to_string()),
                    span: at(start, i),
                });
                continue;
            }
            b'0'..=b'9' => {
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                if i + 1 < bytes.len() && bytes[i] == b'.' && bytes[i + 1].is_ascii_digit() {
                    i += 1;
                    while i < bytes.len() && bytes[i].is_ascii_digit() {
                        i += 1;
                    }
                }
                let text = &source[start..i];
                let value = text
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite() && text.len() <= MAX_NUMBER_CHARS)
                    .ok_or_else(|| {
                        Diagnostic::new("this number is too long", at(start, i))
                            .with_help(format!("at most {MAX_NUMBER_CHARS} characters"))
                    })?;
                out.push(Lexeme {
                    token: Token::Number(value),
                    span: at(start, i),
                });
                continue;
            }
            b'"' | b'\'' => {
                let (value, end) = string(source, i, base)?;
                out.push(Lexeme {
                    token: Token::Text {
                        value,
                        raw_start: base + i + 1,
                    },
                    span: at(start, end),
                });
                i = end;
                continue;
            }
            _ => {}
        }
        let two = bytes.get(i + 1).copied();
        let (token, len) = match (b, two) {
            (b'=', Some(b'=')) => (Token::Eq, 2),
            (b'!', Some(b'=')) => (Token::Ne, 2),
            (b'<', Some(b'=')) => (Token::Le, 2),
            (b'>', Some(b'=')) => (Token::Ge, 2),
            (b'<', _) => (Token::Lt, 1),
            (b'>', _) => (Token::Gt, 1),
            (b'(', _) => (Token::LParen, 1),
            (b')', _) => (Token::RParen, 1),
            (b'[', _) => (Token::LBracket, 1),
            (b']', _) => (Token::RBracket, 1),
            (b',', _) => (Token::Comma, 1),
            (b'.', _) => (Token::Dot, 1),
            (b'+', _) => (Token::Plus, 1),
            (b'-', _) => (Token::Minus, 1),
            (b'*', _) => (Token::Star, 1),
            (b'/', _) => (Token::Slash, 1),
            (b'=', _) => {
                return Err(Diagnostic::new("`=` is not an operator", at(i, i + 1))
                    .with_help("compare with `==`"));
            }
            _ => {
                let ch = source[i..].chars().next().unwrap_or('?');
                return Err(Diagnostic::new(
                    format!("unexpected character `{ch}`"),
                    at(i, i + ch.len_utf8()),
                ));
            }
        };
        out.push(Lexeme {
            token,
            span: at(i, i + len),
        });
        i += len;
    }
    out.push(Lexeme {
        token: Token::Eof,
        span: Span::new(base + bytes.len(), base + bytes.len()),
    });
    Ok(out)
}

/// A string literal starting at the quote at `open` (`"` or `'`, closed by the same): its
/// value (escapes `\"`, `\'` and `\\` resolved) and the byte after its closing quote.
/// Single quotes let a detail template quote a key: `"{attributes['plan']}"`.
fn string(source: &str, open: usize, base: usize) -> Result<(String, usize), Diagnostic> {
    let quote = char::from(source.as_bytes()[open]);
    let mut value = String::new();
    let mut chars = source[open + 1..].char_indices();
    while let Some((offset, ch)) = chars.next() {
        let at = open + 1 + offset;
        match ch {
            c if c == quote => return Ok((value, at + 1)),
            '\n' => break,
            '\\' => match chars.next() {
                Some((_, '"')) => value.push('"'),
                Some((_, '\'')) => value.push('\''),
                Some((_, '\\')) => value.push('\\'),
                _ => {
                    return Err(Diagnostic::new(
                        "unknown escape in a string",
                        Span::new(base + at, base + at + 2),
                    )
                    .with_help("only `\\\"`, `\\'` and `\\\\` are escapes"));
                }
            },
            _ => value.push(ch),
        }
    }
    Err(Diagnostic::new(
        "this string is not closed",
        Span::new(base + open, base + open + 1),
    )
    .with_help(format!("close it with `{quote}` on the same line")))
}
