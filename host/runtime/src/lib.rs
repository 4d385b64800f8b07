//! tmp
mod bindings;
pub mod bundled;
pub fn f(
    s: &mut wasmtime::Store<()>,
    p: &bindings::Policy,
    c: &bindings::Context,
) -> bindings::Verdict {
    let _x: Option<(
        bindings::Action,
        bindings::Amount,
        bindings::Checkpoint,
        bindings::GraphFeatures,
        bindings::Reason,
        bindings::Velocity,
        bindings::WindowStats,
    )> = None;
    let _y: Option<bindings::PolicyPre<()>> = None;
    p.call_evaluate(s, c).unwrap()
}
