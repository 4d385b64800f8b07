//! The false rejects and the fraud caught on a synthetic stream with rings, card testing and
//! account takeovers, with labels marking every entity of a fraudulent decision (before
//! issue 18) and with marks planned from each entity's history (`label_marks`). The stream
//! and the verdict bands are in `label_marks_stream/stream.rs`; `tests/label_marks_stream.rs`
//! asserts the difference.
//!
//! `cargo run --release -p arbiter-graph --example label_marks_stream`

#[path = "label_marks_stream/stream.rs"]
mod stream;

use stream::{Labelling, run};

fn main() {
    for labelling in [Labelling::Everything, Labelling::Planned] {
        let o = run(labelling);
        println!(
            "{labelling:?}: legitimate {} — challenged {:.3} %, rejected {:.3} % ({} rejects, {} of them takeover victims); \
             fraud {} worth {} — rejected {:.1} % by value, rejected or challenged {:.1} %",
            o.legit,
            100.0 * o.false_challenge_rate(),
            100.0 * o.false_reject_rate(),
            o.legit_rejected,
            o.victims_rejected,
            o.fraud,
            o.fraud_value,
            100.0 * o.caught_by_value(),
            100.0 * o.stopped_or_reviewed_by_value(),
        );
    }
}
