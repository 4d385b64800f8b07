//! The computed worst-case fuel is an upper bound of what a compiled file really uses on
//! the largest context the host writes, and a file whose worst case is over budget is
//! refused at compile time instead of faulting on decisions.

mod support;

use arbiter_rules::layout::{Writer, checkpoint, text};

/// Rules that scan texts as hard as the language allows, all on the same few attributes.
const HEAVY: &str = r#"
rule a when contains(lower(email), "zz@example.zz") then score +1 reason "a.a" detail "{lower(email)} {amount}"
rule b when lower(attributes['k00']) == lower(attributes['k01']) then score +1 reason "a.b" detail "{attributes['k00']}"
rule c when distinct(email, email.domain, user.id, device.id) > 3 then score +1 reason "a.c"
rule d when number(attributes['k03']) > 1 or attributes['k02'] == "AAAA" then score +1 reason "a.d"
rule e when ends_with(lower(device.id), "zz") or starts_with(order.id, "zz") then score +1 reason "a.e"
rule f when watch_hit("list.watch.device") or attributes['k04'] in ("a", "b", "c") then score +1 reason "a.f"
"#;

/// A context at the bounds: every text as long as it may be, 64 attribute entries whose
/// keys match the rules' keys in length (so every key comparison runs to its last byte),
/// values as long as the language reads, and the most watch hits.
fn largest_context() -> Vec<u8> {
    let bounds = support::bounds();
    let watch_hits = usize::try_from(bounds.watch_hits).unwrap_or(0);
    let attributes = usize::try_from(bounds.attributes).unwrap_or(0);
    // Longer values read as missing: the longest the language reads is the worst case.
    let value_len = usize::try_from(bounds.attribute_value_bytes)
        .unwrap_or(0)
        .min(arbiter_rules::interpret::text::MAX_TEXT_BYTES as usize);
    let mut w = Writer::new(checkpoint::ORDER_CREATE, attributes, watch_hits, 1 << 20);
    for index in 0..text::COUNT {
        let len = usize::try_from(bounds.text_bytes[index]).unwrap_or(0);
        w.text(index, &"A".repeat(len));
    }
    w.amount(1.0e9 + 0.25, 100_000_000_025, "EUR");
    for i in 0..attributes {
        // Same length as `k00`…`k04`, different last byte until the last entries.
        let key = if i + 5 >= attributes {
            format!("k0{}", attributes - 1 - i)
        } else {
            format!("k0{}", char::from(b'a' + u8::try_from(i % 26).unwrap_or(0)))
        };
        w.attribute(&key, &"A".repeat(value_len));
    }
    for _ in 0..watch_hits {
        w.watch_hit("list.watch.devicf");
    }
    w.finish()
}

#[test]
fn measured_fuel_stays_under_the_computed_bound_on_the_largest_context() {
    let runtime = support::runtime();
    let loaded = support::load(&runtime, HEAVY);
    let buf = largest_context();
    let (verdict, fuel) = support::run(&loaded, &buf);
    assert_eq!(verdict, support::interpret(&loaded, &buf));
    assert!(
        !verdict.reasons.is_empty(),
        "the heavy rules fire on it: {verdict:?}"
    );
    assert!(
        fuel <= loaded.fuel_bound,
        "used {fuel}, bound {}",
        loaded.fuel_bound
    );
    // The bound is not absurdly loose either: within 8x of the real worst case.
    assert!(
        loaded.fuel_bound < 8 * fuel,
        "used {fuel}, bound {}",
        loaded.fuel_bound
    );
}

#[test]
fn a_file_over_the_fuel_budget_is_refused_at_compile_time() {
    let rules: String = (0..40)
        .map(|i| {
            format!(
                "rule r{i} when contains(lower(attributes['note']), \"a long needle {i}\") then score +1 reason \"n.r{i}\"\n"
            )
        })
        .collect();
    let problems = match arbiter_rules::compile(&rules, &support::options()) {
        Ok(compiled) => panic!("compiled with a bound of {}", compiled.fuel_bound),
        Err(problems) => problems,
    };
    let located = problems.located(&rules);
    assert!(
        located[0].message.contains("fuel per decision"),
        "{located:?}"
    );
    assert!(
        located[0]
            .help
            .as_deref()
            .unwrap_or("")
            .contains("the costliest rules")
    );
}
