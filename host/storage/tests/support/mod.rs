//! What the storage test binaries share: the backends every story runs against, and builders
//! for the values they store. Each binary uses a part of it.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the support module"
)]

pub mod backends;
pub mod fixtures;
