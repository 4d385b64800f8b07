//! A decision's context made ready for the modules of a policy set: converted at most once
//! per ABI, however many modules read it.
//!
//! `@2` modules get the context as the layout-2.0 byte buffer (`encode`), `@1` modules as
//! the typed WIT record (`convert`). Both are built lazily, on the first module that needs
//! them, so a set of `@2` modules never pays for the record and vice versa.

use std::cell::OnceCell;

use arbiter_engine::context::EnrichedContext;

use crate::bindings::v1;
use crate::{convert, encode};

/// A decision's context, converted once and passed to every module of the set.
#[derive(Debug)]
pub struct PreparedContext<'a> {
    /// The context as the pipeline built it; borrowed, since a decision outlives its rules.
    /// `None` when the context arrived as layout bytes ([`from_layout`](Self::from_layout)).
    source: Option<&'a EnrichedContext>,
    /// Layout 2.0 bytes, for `@2` modules; written on first use.
    bytes: OnceCell<Vec<u8>>,
    /// The WIT record, for `@1` modules; converted on first use.
    record: OnceCell<v1::Context>,
}

impl<'a> PreparedContext<'a> {
    pub fn new(ctx: &'a EnrichedContext) -> PreparedContext<'a> {
        PreparedContext {
            source: Some(ctx),
            bytes: OnceCell::new(),
            record: OnceCell::new(),
        }
    }

    /// A context given as layout bytes as they are, for trying a module on a recorded or
    /// hand-made buffer (`arbiter rule test`, the rule compiler's equivalence tests).
    /// `@1` modules cannot read it: their calls fault as unavailable.
    pub fn from_layout(bytes: Vec<u8>) -> PreparedContext<'static> {
        PreparedContext {
            source: None,
            bytes: OnceCell::from(bytes),
            record: OnceCell::new(),
        }
    }

    /// The context as `arbiter:policy@2` modules receive it (layout 2.0).
    pub fn bytes(&self) -> &[u8] {
        self.bytes
            .get_or_init(|| self.source.map(encode::context).unwrap_or_default())
    }

    /// The context as `arbiter:policy@1` modules receive it; `None` for layout bytes.
    pub(crate) fn record(&self) -> Option<&v1::Context> {
        let source = self.source?;
        Some(self.record.get_or_init(|| convert::context(source)))
    }
}
