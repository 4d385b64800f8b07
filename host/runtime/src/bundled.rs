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
    use abi::arbiter::policy::types::{
        Action, Amount, Checkpoint, Context, GraphFeatures, Velocity, Verdict, WindowStats,
    };

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

    /// A benign US card payment: nothing in it should trip any example.
    fn benign() -> Context {
        let quiet = WindowStats {
            count_1h: 0,
            sum_1h: 0.0,
            count_24h: 1,
            sum_24h: 49.99,
        };
        Context {
            checkpoint: Checkpoint::PaymentAuthorize,
            request_id: "req-1".into(),
            amount: Some(Amount {
                value: 49.99,
                minor_units: 4_999,
                currency: "USD".into(),
            }),
            user_id: "user-1".into(),
            account_age_days: Some(400),
            email: Some("shopper@example.com".into()),
            email_domain: Some("example.com".into()),
            phone: None,
            device_id: Some("device-1".into()),
            ip: Some("203.0.113.7".into()),
            ip_country: Some("US".into()),
            is_proxy: false,
            payment_method: Some("card".into()),
            card_fingerprint: Some("card-fp-1".into()),
            card_bin: Some("424242".into()),
            card_country: Some("US".into()),
            shipping_address_hash: None,
            shipping_country: Some("US".into()),
            order_id: Some("order-1".into()),
            attributes: vec![("channel".into(), "web".into())],
            velocity: Velocity {
                user: quiet,
                device: Some(quiet),
                card: Some(quiet),
                ip: Some(quiet),
                email: Some(quiet),
            },
            graph: Some(GraphFeatures {
                group_entities: 1,
                group_users: 1,
                users_per_device: 1,
                users_per_card: 1,
                users_per_address: 1,
                users_per_phone: 1,
                cards_per_device: 1,
                cards_per_user: 1,
                hops_to_fraud: None,
                fraud_share_2hop: 0.0,
                score: 0.0,
            }),
            watch_hits: Vec::new(),
        }
    }

    fn evaluate(name: &str, component: &[u8], ctx: &Context) -> Verdict {
        let engine = wasmtime::Engine::default();
        let component = wasmtime::component::Component::new(&engine, component)
            .unwrap_or_else(|error| panic!("`{name}` does not compile: {error:?}"));
        let linker = wasmtime::component::Linker::<()>::new(&engine);
        let mut store = wasmtime::Store::new(&engine, ());
        let policy = abi::Policy::instantiate(&mut store, &component, &linker)
            .unwrap_or_else(|error| panic!("`{name}` does not instantiate: {error:?}"));
        policy
            .call_evaluate(&mut store, ctx)
            .unwrap_or_else(|error| panic!("`{name}` trapped: {error:?}"))
    }

    /// Smoke test of the guest glue end to end: each component instantiates with no
    /// imports, lifts a full context and lowers a verdict.
    #[test]
    fn every_bundled_policy_passes_a_benign_payment() {
        for policy in BUNDLED {
            let verdict = evaluate(policy.name, policy.component, &benign());
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
        let mut ctx = benign();
        ctx.amount = Some(Amount {
            value: 1_500.0,
            minor_units: 150_000,
            currency: "USD".into(),
        });
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
