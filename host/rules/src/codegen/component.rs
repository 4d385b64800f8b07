//! Wrapping the core module as a component of `arbiter:policy@2`: the world's type
//! information is embedded as the `component-type` custom section (what `wit-bindgen`
//! does for a Rust policy) and `wit-component` builds the component around it, exactly as
//! the host's build script encodes the bundled examples.

use wit_component::{ComponentEncoder, StringEncoding, embed_component_metadata};
use wit_parser::Resolve;

/// The ABI, from the one file both bindings are generated from.
const POLICY_WIT: &str = include_str!("../../../../policies/wit/policy.wit");

/// The component of `core`. An error here is a bug of the code generator, not of the
/// rule file: the text is for the log.
pub fn componentize(mut core: Vec<u8>) -> Result<Vec<u8>, String> {
    let mut resolve = Resolve::default();
    let package = resolve
        .push_str("policy.wit", POLICY_WIT)
        .map_err(|error| format!("parsing policy.wit: {error:#}"))?;
    let world = resolve
        .select_world(&[package], Some("policy"))
        .map_err(|error| format!("selecting the policy world: {error:#}"))?;
    embed_component_metadata(&mut core, &resolve, world, StringEncoding::UTF8, false)
        .map_err(|error| format!("embedding the world: {error:#}"))?;
    ComponentEncoder::default()
        .module(&core)
        .and_then(|encoder| encoder.validate(true).encode())
        .map_err(|error| format!("encoding the component: {error:#}"))
}
