//! Length limits on what reviewers, analysts and chargeback files write into labels and
//! reviews; each refusal names the field and the limit. Lengths count characters.

use arbiter_engine::request::longer_than;

use super::error::FeedbackError;

/// A label's or a review's note, and a chargeback row's reason code.
pub const MAX_NOTE_CHARS: usize = 2000;
/// A reviewer's name.
pub const MAX_REVIEWER_CHARS: usize = 200;
/// A decision id, order id or chargeback id given to label.
pub const MAX_REF_CHARS: usize = arbiter_engine::request::MAX_ID_CHARS;

/// `Err(TooLong)` when `value` has more than `max` characters.
pub(super) fn at_most(field: &str, value: &str, max: usize) -> Result<(), FeedbackError> {
    if longer_than(value, max) {
        return Err(FeedbackError::TooLong {
            field: field.to_owned(),
            max,
        });
    }
    Ok(())
}
