//! The risk model (skeleton; filled by the feedback-loop work).
#![forbid(unsafe_code)]
