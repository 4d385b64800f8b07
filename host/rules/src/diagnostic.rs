//! Errors in a rule file: what is wrong, where, and (when we can tell) what was meant.
//!
//! The compiler collects [`Diagnostic`]s with byte spans; [`Diagnostics::located`] turns them
//! into line and column for an API answer, [`Diagnostics::render`] into the
//! source line with a caret under the problem (rendered by `codespan-reporting`, the
//! renderer rustc-style tools share) for a terminal or a problem's `detail`.

use codespan_reporting::diagnostic::{Diagnostic as Report, Label};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, Config};
use serde::Serialize;

use crate::syntax::span::Span;

/// One problem in a rule file.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub message: String,
    pub span: Span,
    /// A suggestion, e.g. "did you mean `card.country`?".
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic {
            message: message.into(),
            span,
            help: None,
        }
    }

    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }
}

/// A diagnostic placed in its source: 1-based line and column (in characters).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Located {
    pub line: usize,
    pub column: usize,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

/// Every problem found in one rule file, in source order.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{} problem(s) in the rule file, the first: {}", .items.len(), .items.first().map_or("", |d| d.message.as_str()))]
pub struct Diagnostics {
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn one(diagnostic: Diagnostic) -> Diagnostics {
        Diagnostics {
            items: vec![diagnostic],
        }
    }

    /// Line and column of each problem.
    pub fn located(&self, source: &str) -> Vec<Located> {
        self.items
            .iter()
            .map(|d| {
                let (line, column) = line_column(source, d.span.start);
                Located {
                    line,
                    column,
                    message: d.message.clone(),
                    help: d.help.clone(),
                }
            })
            .collect()
    }

    /// Each problem with its source line and a caret, as a compiler prints it.
    pub fn render(&self, file_name: &str, source: &str) -> String {
        let file = SimpleFile::new(file_name, source);
        let config = Config::default();
        let mut out = String::new();
        for d in &self.items {
            let start = d.span.start.min(source.len());
            let end = d.span.end.clamp(start, source.len());
            let mut label = Label::primary((), start..end);
            if let Some(help) = &d.help {
                label = label.with_message(help.clone());
            }
            let report = Report::error()
                .with_message(d.message.clone())
                .with_labels(vec![label]);
            // Writing to a `String` cannot fail; a span outside the file is clamped above.
            let _ = term::emit_to_string(&mut out, &config, &file, &report);
        }
        out
    }
}

/// 1-based line and character column of byte `offset`.
pub fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = source.get(..offset).unwrap_or(source);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}
