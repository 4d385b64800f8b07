//! The crate's one error enum. The graph itself never fails on an observation (unknown or
//! empty values are simply not linked); errors only come from parsing caller input.

/// What a caller handed the graph that it cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    #[error(
        "unknown entity kind `{kind}`: expected one of user, device, card, email, phone, address, ip"
    )]
    UnknownKind { kind: String },
}
