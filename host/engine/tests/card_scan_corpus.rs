//! The other side of the card scan: a large generated corpus of ordinary values a checkout
//! sends — request ids with timestamps, order references, ISO dates and timestamps, phone
//! numbers in E.164 and national formats, order numbers, the ids Arbiter mints, UUIDs, hashes,
//! trace ids and base64 tokens — none of which may be refused as a card number. Seeded, so a
//! failure reproduces; the value that failed is printed.
//!
//! `cargo test -p arbiter-engine --test card_scan_corpus -- --nocapture` prints the counts;
//! `CARD_SCAN_CORPUS_SCALE=10` multiplies the corpus (`CARD_SCAN_CORPUS_SEED` changes it).

use arbiter_engine::card_scan::{contains_card_number, is_card_number};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A Unix time in seconds between 2020 and 2035.
fn unix_secs(rng: &mut StdRng) -> u64 {
    rng.random_range(1_577_836_800..2_051_222_400)
}

fn date(rng: &mut StdRng) -> (u32, u32, u32) {
    (
        rng.random_range(1990..2040),
        rng.random_range(1..=12),
        rng.random_range(1..=28),
    )
}

fn digits(rng: &mut StdRng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'0' + rng.random_range(0..10)))
        .collect()
}

fn request_id(rng: &mut StdRng) -> String {
    let n: u32 = rng.random_range(0..1_000_000);
    let ts = unix_secs(rng);
    match rng.random_range(0..4) {
        0 => format!("chk-{n}-{ts}"),
        1 => format!("req-{n}-{}", ts * 1000 + rng.random_range(0..1000)),
        2 => format!("{{\"request_id\": \"chk-{n}-{ts}\"}}"),
        _ => format!(
            "pay_{n}_{}",
            ts * 1_000_000 + rng.random_range(0..1_000_000)
        ),
    }
}

fn order_reference(rng: &mut StdRng) -> String {
    let (y, m, d) = date(rng);
    let seq: u32 = rng.random_range(0..10_000);
    let part: u32 = rng.random_range(0..100);
    match rng.random_range(0..3) {
        0 => format!("order {y}-{m:02}-{d:02}-{seq:04}-{part:02}"),
        1 => format!("{y}-{m:02}-{d:02}-{seq:04}-{part:02}"),
        _ => format!("order {y} {m:02} {d:02} {seq:04} {part:02}"),
    }
}

fn timestamp(rng: &mut StdRng) -> String {
    let (y, m, d) = date(rng);
    let (h, min, s) = (
        rng.random_range(0..24),
        rng.random_range(0..60),
        rng.random_range(0..60),
    );
    let frac: u32 = rng.random_range(0..1_000_000);
    let ts = unix_secs(rng);
    match rng.random_range(0..9) {
        0 => format!("{y}-{m:02}-{d:02}"),
        1 => format!("{y}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}Z"),
        2 => format!("{y}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}.{frac:06}+01:00"),
        3 => format!("{y}-{m:02}-{d:02} {h:02}:{min:02}:{s:02}"),
        4 => format!("{y}{m:02}{d:02}T{h:02}{min:02}{s:02}Z"),
        5 => format!("{ts}"),
        6 => format!("{}", ts * 1000 + u64::from(frac % 1000)),
        7 => format!("{}", ts * 1_000_000 + u64::from(frac)),
        _ => format!("{}", ts * 1_000_000_000 + u64::from(frac) * 1000),
    }
}

/// Country code and national significant number length of common numbering plans (E.164
/// caps the whole number at 15 digits).
const PLANS: &[(&str, usize)] = &[
    ("1", 10),
    ("44", 10),
    ("49", 11),
    ("49", 10),
    ("33", 9),
    ("34", 9),
    ("39", 10),
    ("39", 11),
    ("31", 9),
    ("36", 9),
    ("380", 9),
    ("30", 10),
    ("7", 10),
    ("86", 11),
    ("81", 10),
    ("82", 10),
    ("91", 10),
    ("62", 11),
    ("62", 12),
    ("63", 10),
    ("65", 8),
    ("60", 9),
    ("61", 9),
    ("55", 11),
    ("52", 10),
    ("234", 10),
    ("27", 9),
    ("971", 9),
    ("966", 9),
    ("90", 10),
];

fn phone(rng: &mut StdRng) -> String {
    let (cc, len) = PLANS[rng.random_range(0..PLANS.len())];
    let nsn = format!("{}{}", rng.random_range(1..10), digits(rng, len - 1));
    let (a, rest) = nsn.split_at(3);
    let (b, c) = rest.split_at(3.min(rest.len()));
    match rng.random_range(0..9) {
        0 => format!("+{cc}{nsn}"),
        1 => format!("+{cc} {a} {b} {c}"),
        2 => format!("+{cc}-{a}-{b}-{c}"),
        3 => format!("{cc}{nsn}"),
        4 => format!("00{cc}{nsn}"),
        5 => format!("00{cc} {a} {b}{c}"),
        6 => format!("0{nsn}"),
        7 => format!("0{a} {b} {c}"),
        _ => format!("({a}) {b}-{c}"),
    }
}

fn order_number(rng: &mut StdRng) -> String {
    let (y, m, d) = date(rng);
    match rng.random_range(0..8) {
        0 => format!("ORD-{}", digits(rng, 8)),
        1 => format!("#{}", rng.random_range(1000..10_000_000)),
        2 => format!("{}-{}-{}", digits(rng, 3), digits(rng, 7), digits(rng, 7)),
        3 => format!("SO-{y}-{}", digits(rng, 6)),
        4 => format!("INV{y}{m:02}{d:02}{}", digits(rng, 5)),
        5 => format!("PO{}", digits(rng, 10)),
        6 => format!("{}-{}-{}", digits(rng, 2), digits(rng, 5), digits(rng, 5)),
        _ => format!("o-{}", rng.random_range(0..100_000_000)),
    }
}

/// An id as Arbiter mints it: a prefix and the 32 hex digits of a UUIDv7.
fn minted_id(rng: &mut StdRng) -> String {
    const PREFIXES: &[&str] = &[
        "dec", "le", "lab", "job", "rev", "ord", "pay", "ref", "jnl", "r",
    ];
    let millis = unix_secs(rng) * 1000 + rng.random_range(0..1000);
    let random: [u8; 10] = rng.random();
    let id = uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid();
    format!(
        "{}_{}",
        PREFIXES[rng.random_range(0..PREFIXES.len())],
        id.simple()
    )
}

fn uuid_v4(rng: &mut StdRng) -> String {
    let id = uuid::Builder::from_random_bytes(rng.random()).into_uuid();
    match rng.random_range(0..3) {
        0 => id.hyphenated().to_string(),
        1 => id.hyphenated().to_string().to_uppercase(),
        _ => id.simple().to_string(),
    }
}

fn hex_token(rng: &mut StdRng) -> String {
    let bytes = [8, 16, 20, 32][rng.random_range(0..4)];
    let raw: Vec<u8> = (0..bytes).map(|_| rng.random()).collect();
    hex::encode(raw)
}

fn base64_token(rng: &mut StdRng) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let len = [16, 22, 27, 43][rng.random_range(0..4)];
    (0..len)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

#[test]
fn no_ordinary_value_is_refused_as_a_card_number() {
    type Make = fn(&mut StdRng) -> String;
    let kinds: [(&str, Make, usize); 10] = [
        ("request ids", request_id, 200_000),
        ("order references", order_reference, 100_000),
        ("dates and timestamps", timestamp, 150_000),
        ("phone numbers", phone, 250_000),
        ("order numbers", order_number, 150_000),
        ("minted ids", minted_id, 200_000),
        ("uuids", uuid_v4, 100_000),
        ("hex tokens", hex_token, 100_000),
        ("base64 tokens", base64_token, 50_000),
        ("mixed lines", mixed_line, 50_000),
    ];
    let env = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(default)
    };
    let scale = env("CARD_SCAN_CORPUS_SCALE", 1) as usize;
    let mut rng = StdRng::seed_from_u64(env("CARD_SCAN_CORPUS_SEED", 13));
    let mut total = 0;
    let mut refused = Vec::new();
    let mut indistinguishable = 0;
    for (name, make, count) in kinds {
        let count = count * scale;
        for _ in 0..count {
            let value = make(&mut rng);
            if !contains_card_number(value.as_bytes()) {
                continue;
            }
            if is_bare_card_number(&value) {
                indistinguishable += 1;
            } else {
                refused.push(format!("{name}: {value}"));
            }
        }
        total += count;
        println!("{name}: {count} values");
    }
    println!(
        "{total} values: {} refused as card numbers ({:.6} %); {indistinguishable} are bare \
         digit strings with a brand's prefix, length and check digit (a hex id that came out all \
         digits), which no scan can tell from a card number",
        refused.len(),
        refused.len() as f64 * 100.0 / total as f64
    );
    assert!(total >= 1_000_000);
    assert!(refused.is_empty(), "{refused:#?}");
}

/// A value that is nothing but a valid card number's digits: refusing it is right.
fn is_bare_card_number(value: &str) -> bool {
    value.bytes().all(|b| b.is_ascii_digit())
        && is_card_number(&value.bytes().map(|b| b - b'0').collect::<Vec<_>>())
}

/// Several values on one line, as a note or a log attribute carries them.
fn mixed_line(rng: &mut StdRng) -> String {
    format!(
        "{} {} placed {} call {} ref {} {}",
        request_id(rng),
        order_number(rng),
        timestamp(rng),
        phone(rng),
        minted_id(rng),
        uuid_v4(rng)
    )
}
