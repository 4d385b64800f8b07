//! Random rule files (as source text, so the parser and checker are exercised too) and
//! random contexts (through the layout's own writer, plus damaged text entries), drawn from
//! small pools so that equalities, matches and missing values all happen often.

use arbiter_rules::layout::{RawGraph, RawWindow, Writer, text};
use proptest::prelude::*;

const TEXT_ATTRIBUTES: &[&str] = &[
    "user.id",
    "currency",
    "email",
    "email.domain",
    "phone",
    "device.id",
    "ip",
    "ip.country",
    "card.bin",
    "card.country",
    "shipping.country",
    "order.id",
];

const NUMBER_ATTRIBUTES: &[&str] = &[
    "amount",
    "amount.minor_units",
    "amount.reporting",
    "model.score",
    "account.age_days",
    "velocity.user.count_1h",
    "velocity.card.count_24h",
    "velocity.ip.sum_1h",
    "velocity.email.sum_24h",
    "graph.group_users",
    "graph.cards_per_device",
    "graph.fraud_share_2hop",
    "graph.score",
    "graph.hops_to_fraud",
    "watch.hits",
];

/// Values texts are drawn from: mixed case, numbers, an empty string, non-ASCII.
const WORDS: &[&str] = &[
    "de",
    "DE",
    "fr",
    "us",
    "US",
    "gold",
    "Gold",
    "12",
    "-3.5",
    "0.125",
    "1e5",
    "12.",
    "",
    "ünï",
    "mail.ru",
    "x@mail.ru",
    "X@Mail.RU",
    "4111",
    "007",
    "999999999999999",
    "1234567890123456",
];
/// Literals in rules: lower case, so `lower(…) == literal` is never a compile error.
const LITERALS: &[&str] = &[
    "de", "fr", "us", "gold", "12", "-3.5", "0.125", "", "ünï", "mail.ru", ".ru", "x@", "4111",
    "007",
];
const KEYS: &[&str] = &["tier", "orders", "note"];
const WATCH: &[&str] = &["list.watch.email", "list.watch.device", "list.watch.ip"];
const CHECKPOINTS: &[&str] = &[
    "order.create",
    "payment.authorize",
    "refund.request",
    "account.login",
    "promo.redeem",
];

fn pick(pool: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::sample::select(pool).prop_map(str::to_string)
}

fn quoted(pool: &'static [&'static str]) -> impl Strategy<Value = String> {
    pick(pool).prop_map(|s| format!("\"{s}\""))
}

fn number_literal() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u32..50).prop_map(|n| n.to_string()),
        (0u32..100_000).prop_map(|n| format!("{}.{:02}", n / 100, n % 100)),
    ]
}

pub fn text_expr() -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        4 => pick(TEXT_ATTRIBUTES),
        2 => quoted(LITERALS),
        3 => pick(KEYS).prop_map(|k| format!("attributes['{k}']")),
    ];
    leaf.prop_recursive(2, 4, 1, |inner| inner.prop_map(|t| format!("lower({t})")))
        .boxed()
}

pub fn num_expr() -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        4 => pick(NUMBER_ATTRIBUTES),
        3 => number_literal(),
        2 => pick(KEYS).prop_map(|k| format!("number(attributes['{k}'])")),
        1 => text_expr().prop_map(|t| format!("length({t})")),
        1 => text_expr().prop_map(|t| format!("number({t})")),
        1 => prop::collection::vec(text_expr(), 2..4).prop_map(|ts| format!("distinct({})", ts.join(", "))),
    ];
    leaf.prop_recursive(3, 8, 2, |inner| {
        prop_oneof![
            (
                inner.clone(),
                prop::sample::select(&["+", "-", "*", "/"][..]),
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            inner.clone().prop_map(|a| format!("-{a}")),
            prop::collection::vec(inner, 2..4)
                .prop_map(|ns| format!("distinct({})", ns.join(", "))),
        ]
    })
    .boxed()
}

pub fn bool_expr() -> BoxedStrategy<String> {
    let compare = prop::sample::select(&["==", "!=", "<", "<=", ">", ">="][..]);
    let leaf = prop_oneof![
        4 => (num_expr(), compare.clone(), num_expr()).prop_map(|(a, op, b)| format!("{a} {op} {b}")),
        // A text compared with a number is read as one.
        1 => (pick(KEYS), compare, number_literal()).prop_map(|(k, op, n)| format!("attributes['{k}'] {op} {n}")),
        3 => (text_expr(), prop::sample::select(&["==", "!="][..]), text_expr())
            .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
        2 => (text_expr(), any::<bool>(), prop::collection::vec(quoted(LITERALS), 1..4))
            .prop_map(|(t, not, set)| format!("{t} {}in ({})", if not { "not " } else { "" }, set.join(", "))),
        1 => (num_expr(), any::<bool>(), prop::collection::vec(number_literal(), 1..4))
            .prop_map(|(n, not, set)| format!("{n} {}in ({})", if not { "not " } else { "" }, set.join(", "))),
        2 => (prop_oneof![text_expr(), num_expr()], prop::sample::select(&["is missing", "is not missing", "is present"][..]))
            .prop_map(|(v, test)| format!("{v} {test}")),
        2 => (prop::sample::select(&["starts_with", "ends_with", "contains"][..]), text_expr(), quoted(LITERALS))
            .prop_map(|(f, t, lit)| format!("{f}({t}, {lit})")),
        1 => quoted(WATCH).prop_map(|c| format!("watch_hit({c})")),
        1 => Just("ip.is_proxy".to_string()),
    ];
    leaf.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} and {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} or {b})")),
            inner.clone().prop_map(|a| format!("not {a}")),
            (inner.clone(), inner).prop_map(|(a, b)| format!("(({a}) == ({b}))")),
        ]
    })
    .boxed()
}

fn placeholder() -> impl Strategy<Value = String> {
    prop_oneof![text_expr(), num_expr(), bool_expr()].prop_map(|e| e.replace('"', "'"))
}

fn rule(index: usize) -> impl Strategy<Value = String> {
    let checkpoints = prop::collection::vec(pick(CHECKPOINTS), 0..3).prop_map(|mut cs| {
        cs.sort();
        cs.dedup();
        cs
    });
    let action = prop::sample::select(&["", "accept", "challenge", "reject"][..]);
    let score = prop::option::of((-50i32..50).prop_filter("non-zero", |s| *s != 0));
    let detail = prop::option::of(prop::collection::vec(
        prop_oneof![
            pick(&["card ", " at ", "x", "ü "]),
            placeholder().prop_map(|p| format!("{{{p}}}"))
        ],
        1..4,
    ));
    (checkpoints, bool_expr(), action, score, detail).prop_map(move |(cs, cond, action, score, detail)| {
        let on = if cs.is_empty() { String::new() } else { format!(" on {}", cs.join(", ")) };
        let score = match (action, score) {
            ("", None) => " score +1".to_string(),
            (_, Some(s)) => format!(" score {s:+}"),
            (_, None) => String::new(),
        };
        let detail = detail.map(|parts| format!(" detail \"{}\"", parts.concat())).unwrap_or_default();
        format!("rule r{index}{on}\n  when {cond}\n  then {action}{score}\n  reason \"code.r{index}\"{detail}\n")
    })
}

/// A rule file of 1 to 8 rules.
pub fn rule_file() -> impl Strategy<Value = String> {
    (1usize..9).prop_flat_map(|n| {
        (0..n)
            .map(rule)
            .collect::<Vec<_>>()
            .prop_map(|rules| rules.concat())
    })
}

fn maybe_word() -> impl Strategy<Value = Option<&'static str>> {
    prop::option::weighted(0.75, prop::sample::select(WORDS))
}

/// Numbers the host could write, and a few it never does (NaN, infinities).
fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        8 => (-100_000i64..100_000).prop_map(|n| n as f64 / 100.0),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(1e300),
    ]
}

/// A context buffer; sometimes with a text entry pointing past the text area.
pub fn context() -> impl Strategy<Value = Vec<u8>> {
    (
        0u8..6,
        prop::collection::vec(maybe_word(), text::COUNT),
        prop::option::of((float(), -1_000_000i64..1_000_000)),
        prop::option::of(0u32..400),
        prop::collection::vec(prop::option::of((0u32..12, 0u32..40, float(), float())), 5),
        prop::option::of((
            prop::array::uniform8(0u32..30),
            prop::option::of(0u8..4),
            float(),
            float(),
        )),
        prop::collection::vec((pick(KEYS), pick(WORDS)), 0..4),
        prop::collection::vec(pick(WATCH), 0..3),
        any::<bool>(),
        prop::option::of(0usize..text::COUNT),
        (
            prop::option::of(float()),
            prop::option::of(float()),
            prop::bool::weighted(0.2),
        ),
    )
        .prop_map(
            |(
                checkpoint,
                texts,
                amount,
                age,
                windows,
                graph,
                attributes,
                watch,
                proxy,
                damaged,
                (reporting, model, as_2_0),
            )| {
                let mut w = Writer::new(checkpoint, attributes.len(), watch.len(), 256);
                for (index, value) in texts.iter().enumerate() {
                    w.optional_text(index, *value);
                }
                if let Some((value, minor)) = amount {
                    w.amount(value, minor, texts[text::CURRENCY].unwrap_or("EUR"));
                }
                if let Some(age) = age {
                    w.account_age_days(age);
                }
                if let Some(value) = reporting {
                    w.amount_reporting(value);
                }
                if let Some(score) = model {
                    w.model_score(score);
                }
                for (index, window) in windows.iter().enumerate() {
                    if let Some((c1, c24, s1, s24)) = window {
                        w.window(
                            index,
                            RawWindow {
                                count_1h: *c1,
                                count_24h: *c24,
                                sum_1h: *s1,
                                sum_24h: *s24,
                            },
                        );
                    }
                }
                if let Some((counts, hops, share, score)) = graph {
                    #[expect(clippy::cast_possible_truncation, reason = "test values")]
                    w.graph(RawGraph {
                        counts,
                        hops_to_fraud: hops,
                        fraud_share_2hop: share as f32,
                        score: score as f32,
                    });
                }
                for (key, value) in &attributes {
                    w.attribute(key, value);
                }
                for code in &watch {
                    w.watch_hit(code);
                }
                w.proxy(proxy);
                let mut buf = w.finish();
                if let Some(index) = damaged {
                    // Point the text's length past the end of the text area.
                    let at = arbiter_rules::layout::AT_TEXTS
                        + arbiter_rules::layout::TEXT_LEN * index
                        + 4;
                    buf[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
                }
                if as_2_0 {
                    // A 2.0 `fixed-len` with 2.1's bits set: those fields read as absent.
                    let at = arbiter_rules::layout::AT_FIXED_LEN;
                    let len = arbiter_rules::layout::FIXED_LEN_2_0 as u32;
                    buf[at..at + 4].copy_from_slice(&len.to_le_bytes());
                }
                buf
            },
        )
}

/// A context the host could write (finite numbers, sound entries), with values around
/// every threshold of the six example policies.
pub fn example_context() -> impl Strategy<Value = Vec<u8>> {
    let country = || prop::option::weighted(0.8, pick(&["US", "GB", "NG", ""]));
    let amount = prop::option::weighted(
        0.9,
        prop_oneof![
            prop::sample::select(
                &[
                    0.0, 9.99, 10.0, 199.99, 200.0, 250.0, 500.0, 999.99, 1000.0, 2499.99, 2500.0,
                    5000.0
                ][..]
            ),
            (0u32..400_000).prop_map(|cents| f64::from(cents) / 100.0),
        ],
    );
    let window = prop::option::of((
        0u32..13,
        0u32..40,
        prop::sample::select(&[0.0, 5.0, 40.0, 44.99, 45.0, 45.02, 90.0, 100.0, 1000.0][..]),
    ));
    let graph = prop::option::of((
        prop::array::uniform8(prop::sample::select(
            &[0u32, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 24, 25, 30][..],
        )),
        prop::option::of(0u8..5),
        prop::sample::select(&[0.0f32, 0.1, 0.19999999, 0.2, 0.3, 0.49999997, 0.5, 0.7, 1.0][..]),
    ));
    (
        0u8..5,
        (country(), country(), country()),
        amount,
        prop::option::of(prop::sample::select(&[0u32, 1, 3, 6, 7, 30][..])),
        prop::collection::vec(window, 5),
        graph,
        prop::option::of(pick(&["", "WELCOME10", "123"])),
        any::<bool>(),
        prop::bool::weighted(0.1),
    )
        .prop_map(
            |(
                checkpoint,
                (card, ip, shipping),
                amount,
                age,
                windows,
                graph,
                promo,
                proxy,
                unrated,
            )| {
                let mut w = Writer::new(checkpoint, usize::from(promo.is_some()), 0, 256);
                w.text(text::REQUEST_ID, "req");
                w.text(text::USER_ID, "u-1");
                w.text(text::IP, "203.0.113.7");
                w.optional_text(text::CARD_COUNTRY, card.as_deref());
                w.optional_text(text::IP_COUNTRY, ip.as_deref());
                w.optional_text(text::SHIPPING_COUNTRY, shipping.as_deref());
                if let Some(value) = amount {
                    #[expect(clippy::cast_possible_truncation, reason = "test amounts")]
                    w.amount(value, (value * 100.0).round() as i64, "USD");
                    // USD is the reporting currency; now and then its rate is missing.
                    if !unrated {
                        w.amount_reporting(value);
                    }
                }
                if let Some(age) = age {
                    w.account_age_days(age);
                }
                for (index, window) in windows.iter().enumerate() {
                    match window {
                        Some((c1, c24, s1)) => w.window(
                            index,
                            RawWindow {
                                count_1h: *c1,
                                count_24h: *c24,
                                sum_1h: *s1,
                                sum_24h: *s1 * 2.0,
                            },
                        ),
                        None if index == 0 => w.window(0, RawWindow::default()),
                        None => {}
                    }
                }
                if let Some((counts, hops, share)) = graph {
                    w.graph(RawGraph {
                        counts,
                        hops_to_fraud: hops,
                        fraud_share_2hop: share,
                        score: 0.5,
                    });
                }
                if let Some(code) = promo {
                    w.attribute("promo_code", &code);
                }
                w.proxy(proxy);
                w.finish()
            },
        )
}
