//! The transaction core (skeleton; filled by the transaction-core work).
#![forbid(unsafe_code)]
