//! Structured logs with `tracing`: text for people, JSON for machines.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::writer::BoxMakeWriter;

use crate::config::LogFormat;

/// What is logged when `RUST_LOG` is not set: our `info`, and only warnings from sqlx (its
/// `info` is a notice per migration already applied, on every start and every command).
pub const DEFAULT_FILTER: &str = "info,sqlx=warn";

/// Installs the global subscriber (once; later calls are no-ops). `RUST_LOG` filters. The
/// server logs to stdout; a one-shot command (`ledger check`, `keys create`, …) logs to
/// stderr so its stdout stays the command's output. Text is coloured only on a terminal: a
/// file or a log collector gets plain text.
pub fn init(format: LogFormat, to_stderr: bool) {
    use std::io::IsTerminal;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let (writer, terminal) = if to_stderr {
        (
            BoxMakeWriter::new(std::io::stderr),
            std::io::stderr().is_terminal(),
        )
    } else {
        (
            BoxMakeWriter::new(std::io::stdout),
            std::io::stdout().is_terminal(),
        )
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(terminal)
        .with_writer(writer);
    let _already_set = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
