//! The example policies from `policies/examples`, compiled into this crate as components.
//!
//! Why they are embedded: the runtime's tests and benches, the end-to-end tests and a
//! freshly started `arbiter` need real policy modules built against the current ABI, and
//! checking binaries into the repository would let them drift from their source. The build
//! script (`build.rs`) compiles the policies workspace to `wasm32-unknown-unknown`, encodes
//! each module as an `arbiter:policy@2` component (validated, checked to export `evaluate`)
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
#[must_use]
pub fn find(name: &str) -> Option<&'static BundledPolicy> {
    BUNDLED.iter().find(|policy| policy.name == name)
}

#[cfg(test)]
mod tests {
    use super::{BUNDLED, find};

    /// Host bindings for the smoke test only; the runtime's own bindings live elsewhere.
    mod abi {
        wasmtime::component::bindgen!({ world: "policy", path: "../../policies/wit" });
    }
    use abi::arbiter::policy::types::{Action, Verdict};
    use arbiter_engine::context::EnrichedContext;

    use crate::encode;
    use crate::samples::card_payment;

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
            assert!(
                names.contains(&expected),
                "`{expected}` is not bundled: {names:?}"
            );
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
    fn find_looks_up_by_name() {
        assert_eq!(
            find("geo_mismatch").map(|policy| policy.name),
            Some("geo_mismatch")
        );
        assert!(find("no_such_policy").is_none());
    }

    fn evaluate(name: &str, component: &[u8], ctx: &EnrichedContext) -> Verdict {
        call(name, component, &encode::context(ctx))
            .unwrap_or_else(|error| panic!("`{name}` trapped: {error:?}"))
    }

    /// Calls `evaluate` with `bytes` on a fresh instance, raw wasmtime.
    fn call(name: &str, component: &[u8], bytes: &[u8]) -> wasmtime::Result<Verdict> {
        let engine = wasmtime::Engine::default();
        let component = wasmtime::component::Component::new(&engine, component)
            .unwrap_or_else(|error| panic!("`{name}` does not compile: {error:?}"));
        let linker = wasmtime::component::Linker::<()>::new(&engine);
        let mut store = wasmtime::Store::new(&engine, ());
        let policy = abi::Policy::instantiate(&mut store, &component, &linker)
            .unwrap_or_else(|error| panic!("`{name}` does not instantiate: {error:?}"));
        policy.call_evaluate(&mut store, bytes)
    }

    /// The SDK checks the buffer it is given: garbage, a truncated buffer or another
    /// layout major make the module trap (a fault for the host), never read out of bounds.
    #[test]
    fn a_garbage_buffer_makes_an_sdk_module_trap() {
        let policy = find("geo_mismatch").expect("bundled");
        let good = encode::context(&card_payment());
        let mut other_major = good.clone();
        other_major[4] = 3;
        for bad in [
            Vec::new(),
            vec![0xA5; 1024],
            good[..good.len() / 3].to_vec(),
            other_major,
        ] {
            let error = call(policy.name, policy.component, &bad).expect_err("trap");
            assert!(
                error.downcast_ref::<wasmtime::Trap>().is_some(),
                "{error:?}"
            );
        }
        assert!(call(policy.name, policy.component, &good).is_ok());
    }

    /// Smoke test of the guest glue end to end: each component instantiates with no
    /// imports, reads a full context buffer and lowers a verdict.
    #[test]
    fn every_bundled_policy_passes_a_benign_payment() {
        for policy in BUNDLED {
            let verdict = evaluate(policy.name, policy.component, &card_payment());
            assert_eq!(
                verdict.action,
                Action::None,
                "`{}`: {verdict:?}",
                policy.name
            );
            assert_eq!(verdict.score, 0.0, "`{}`: {verdict:?}", policy.name);
        }
    }

    #[test]
    fn geo_mismatch_reports_through_the_abi() {
        let policy = find("geo_mismatch").expect("geo_mismatch is bundled");
        let mut ctx = card_payment();
        if let Some(amount) = ctx.amount.as_mut() {
            amount.approx = 1_500.0;
        }
        ctx.ip_country = Some("NG".into());
        ctx.shipping_country = Some("GB".into());
        let verdict = evaluate(policy.name, policy.component, &ctx);
        assert_eq!(verdict.score, 60.0);
        assert_eq!(verdict.reasons.len(), 1);
        assert_eq!(verdict.reasons[0].code, "geo.mismatch");
        assert_eq!(
            verdict.reasons[0].detail.as_deref(),
            Some("card=US ip=NG shipping=GB")
        );
    }
}
