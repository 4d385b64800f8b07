//! On the synthetic stream of `examples/label_marks_stream` (rings, card testing, account
//! takeovers, every fraud labelled a week later), marks planned from each entity's history
//! reject far fewer legitimate payments — the takeover victims above all — than marking every
//! entity of a labelled decision, and catch at least as much fraud by value. The figures are
//! in the issue note and graph/README.md (`cargo run --release -p arbiter-graph --example
//! label_marks_stream`).

#[path = "../examples/label_marks_stream/stream.rs"]
mod stream;

use stream::{Labelling, run};

#[test]
fn planned_marks_reject_fewer_victims_and_catch_as_much_fraud() {
    let before = run(Labelling::Everything);
    let after = run(Labelling::Planned);
    assert_eq!(before.legit, after.legit, "the same stream");
    assert!(
        before.victims_rejected > 0,
        "the stream has the problem: {before:?}"
    );
    assert!(
        after.false_reject_rate() * 5.0 < before.false_reject_rate(),
        "{before:?}\n{after:?}"
    );
    assert!(
        after.victims_rejected * 5 < before.victims_rejected,
        "{before:?}\n{after:?}"
    );
    assert!(
        after.false_challenge_rate() <= before.false_challenge_rate() + 0.001,
        "{before:?}\n{after:?}"
    );
    assert!(
        after.caught_by_value() >= before.caught_by_value(),
        "{before:?}\n{after:?}"
    );
    assert!(
        after.stopped_or_reviewed_by_value() >= before.stopped_or_reviewed_by_value() - 0.005,
        "{before:?}\n{after:?}"
    );
}
