//! The reference interpreter of the rule language (see [`eval`]).

mod context;
mod eval;
pub mod text;

pub use context::Context;
pub use eval::{MISSING, eval_bool, eval_num, eval_text, interpret};
