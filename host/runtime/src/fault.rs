//! Turning what went wrong in a call into a [`Fault`] value.
//!
//! | what happened                                             | [`FaultKind`]      |
//! | --------------------------------------------------------- | ------------------ |
//! | the store's limiter refused a memory growth               | `MemoryLimit`      |
//! | `Trap::OutOfFuel` (the fuel budget ran out)               | `OutOfFuel`        |
//! | `Trap::Interrupt` (the epoch deadline passed)             | `Deadline`         |
//! | any other trap (`unreachable`, out-of-bounds, stack, …)   | `Trap`             |
//! | any other error: the result could not be lifted (invalid enum discriminant, invalid UTF-8, out-of-bounds pointer) or the guest's allocator broke the canonical ABI while the context was copied in | `MalformedOutput` |
//! | a verdict that lifted but is absurd (see [`check_verdict`](crate::convert)) | `MalformedOutput` |
//! | no instance could be created                              | `Unavailable`      |
//!
//! The limiter's record is checked first because a refused growth surfaces as an error
//! whose type says nothing about memory.

use arbiter_engine::stages::{Fault, FaultKind};
use wasmtime::Trap;

/// Longest fault message kept; the rest of a long error chain is cut.
const MAX_MESSAGE_CHARS: usize = 400;

/// The fault of a failed call.
pub(crate) fn classify(
    error: &wasmtime::Error,
    memory_refused: bool,
    memory_limit_bytes: usize,
) -> Fault {
    if memory_refused {
        return fault(
            FaultKind::MemoryLimit,
            format!("linear memory may not grow beyond {memory_limit_bytes} bytes"),
        );
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => fault(FaultKind::OutOfFuel, "fuel budget exhausted".into()),
        Some(Trap::Interrupt) => fault(FaultKind::Deadline, "wall-clock deadline passed".into()),
        // A Rust policy is built with `panic = "abort"`: its panics trap as `unreachable`.
        Some(Trap::UnreachableCodeReached) => fault(
            FaultKind::Trap,
            "the policy panicked (it reached `unreachable`, which is how a Rust panic aborts)"
                .into(),
        ),
        Some(trap) => {
            let text = trap.to_string();
            let text = text.strip_prefix("wasm trap: ").unwrap_or(&text);
            fault(FaultKind::Trap, text.to_owned())
        }
        None => fault(
            FaultKind::MalformedOutput,
            format!("module broke the canonical ABI: {}", error_chain(error)),
        ),
    }
}

/// A fault of `kind` with `message`, cut to a bounded length.
pub(crate) fn fault(kind: FaultKind, mut message: String) -> Fault {
    if let Some((cut, _)) = message.char_indices().nth(MAX_MESSAGE_CHARS) {
        message.truncate(cut);
        message.push('…');
    }
    Fault { kind, message }
}

/// An error and its causes on one line (wasmtime puts the detail of lift and type errors
/// in the causes).
pub(crate) fn error_chain(error: &wasmtime::Error) -> String {
    error
        .chain()
        .map(|cause| cause.to_string())
        .collect::<Vec<_>>()
        .join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traps_map_to_their_kinds() {
        let kind = |error: wasmtime::Error, refused| classify(&error, refused, 1 << 20).kind;
        assert_eq!(kind(Trap::OutOfFuel.into(), false), FaultKind::OutOfFuel);
        assert_eq!(kind(Trap::Interrupt.into(), false), FaultKind::Deadline);
        assert_eq!(
            kind(Trap::UnreachableCodeReached.into(), false),
            FaultKind::Trap
        );
        assert_eq!(
            kind(Trap::UnreachableCodeReached.into(), true),
            FaultKind::MemoryLimit
        );
        assert_eq!(
            kind(wasmtime::Error::msg("invalid utf-8"), false),
            FaultKind::MalformedOutput
        );
    }

    #[test]
    fn long_messages_are_cut() {
        let long = fault(FaultKind::Trap, "x".repeat(10_000));
        assert_eq!(long.message.chars().count(), MAX_MESSAGE_CHARS + 1);
    }
}
