//! The example policies from `policies/examples`, compiled into this crate as components.
//!
//! Why they are embedded: the runtime's tests and benches, the end-to-end tests and a
//! freshly started `arbiter` need real policy modules built against the current ABI, and
//! checking binaries into the repository would let them drift from their source. The build
//! script (`build.rs`) compiles the policies workspace to `wasm32-unknown-unknown`, encodes
//! each module as an `arbiter:policy` component (validated, checked to export `evaluate`)
//! and generates the [`BUNDLED`] list included below. Nothing here loads or trusts them:
//! they go through the same upload validation as any other module.

/// One bundled example policy.
#[derive(Debug, Clone, Copy)]
pub struct BundledPolicy {
    /// The example's crate name (`geo_mismatch`), used as its policy name.
    pub name: &'static str,
    /// The encoded component, ready for `wasmtime::component::Component::new`.
    pub component: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/bundled_policies.rs"));

/// The bundled policy called `name`, if there is one.
pub fn find(name: &str) -> Option<&'static BundledPolicy> {
    BUNDLED.iter().find(|policy| policy.name == name)
}

#[cfg(test)]
mod tests {
    use super::{BUNDLED, find};

    /// A component (not a core module): `\0asm`, version 0x0d, layer 1.
    const COMPONENT_HEADER: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

    #[test]
    fn every_example_is_bundled_once_in_name_order() {
        let names: Vec<&str> = BUNDLED.iter().map(|policy| policy.name).collect();
        for expected in [
            "card_testing",
            "geo_mismatch",
            "graph_ring",
            "new_account_high_value",
            "promo_abuse",
            "proxy_high_value",
        ] {
            assert!(names.contains(&expected), "`{expected}` is not bundled: {names:?}");
        }
        assert!(names.windows(2).all(|pair| pair[0] < pair[1]), "{names:?}");
    }

    #[test]
    fn bundled_policies_are_components() {
        for policy in BUNDLED {
            assert!(
                policy.component.starts_with(&COMPONENT_HEADER),
                "`{}` is not a component",
                policy.name
            );
        }
    }

    #[test]
    fn bundled_policies_compile_in_wasmtime() {
        let mut config = wasmtime::Config::new();
        config.wasm_component_model(true);
        let engine = wasmtime::Engine::new(&config).expect("engine");
        for policy in BUNDLED {
            let component = wasmtime::component::Component::new(&engine, policy.component);
            assert!(component.is_ok(), "`{}`: {:?}", policy.name, component.err());
        }
    }

    #[test]
    fn find_looks_up_by_name() {
        assert_eq!(find("geo_mismatch").map(|policy| policy.name), Some("geo_mismatch"));
        assert!(find("no_such_policy").is_none());
    }
}
