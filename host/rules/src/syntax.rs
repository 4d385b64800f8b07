//! The rule language as text: tokens, the parser and the tree it builds.

pub mod ast;
pub mod lexer;
pub mod parser;
pub mod span;
pub mod token;
