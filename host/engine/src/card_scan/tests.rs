use super::*;

/// Published test PANs of the major brands (Stripe, Adyen online and point-of-sale, Braintree,
/// Authorize.Net), by brand.
pub(crate) const TEST_PANS: &[(&str, &str)] = &[
    ("visa", "4242424242424242"),
    ("visa", "4000056655665556"),
    ("visa", "4012888888881881"),
    ("visa", "4111111111111111"),
    ("visa", "4000002500003155"),
    ("visa", "4000000000003220"),
    ("visa", "4000000000009995"),
    ("visa", "4000000000000002"),
    ("visa", "4111111145551142"),
    ("visa", "4988438843884305"),
    ("visa", "4166676667666746"),
    ("visa", "4646464646464644"),
    ("visa", "4000620000000007"),
    ("visa", "4000060000000006"),
    ("visa", "4293189100000008"),
    ("visa", "4988080000000000"),
    ("visa", "4444333322221111"),
    ("visa", "4001590000000001"),
    ("visa", "4000180000000002"),
    ("visa", "4151500000000008"),
    ("visa", "4111110007020006"),
    ("visa", "4005519200000004"),
    ("visa", "4009348888881881"),
    ("visa", "4012000033330026"),
    ("visa", "4012000077777777"),
    ("visa", "4217651111111119"),
    ("visa", "4500600000000061"),
    ("visa electron", "4917610000000000"),
    ("v pay", "4013250000000000006"),
    ("mastercard", "5555555555554444"),
    ("mastercard", "5200828282828210"),
    ("mastercard", "5105105105105100"),
    ("mastercard", "5500000000000004"),
    ("mastercard", "5555341244441115"),
    ("mastercard", "5577000055770004"),
    ("mastercard", "5555444433331111"),
    ("mastercard", "5413330089099999"),
    ("mastercard", "5100060000000002"),
    ("mastercard", "5520330000000001"),
    ("mastercard 2-series", "2223003122003222"),
    ("mastercard 2-series", "2222400070000005"),
    ("mastercard 2-series", "2222410740360010"),
    ("mastercard 2-series", "2223000048400011"),
    ("mastercard 2-series", "2308880000000000"),
    ("amex", "378282246310005"),
    ("amex", "371449635398431"),
    ("amex", "370000000000002"),
    ("amex", "340000000000009"),
    ("discover", "6011111111111117"),
    ("discover", "6011000990139424"),
    ("discover", "6011981111111113"),
    ("discover", "6011601160116611"),
    ("discover", "6445644564456445"),
    ("discover", "6011000991300009"),
    ("discover", "6011000000000012"),
    ("discover", "6011000000000004"),
    ("discover (BC card, DinaCard)", "6555900000604105"),
    ("diners", "3056930009020004"),
    ("diners", "36227206271667"),
    ("diners", "30569309025904"),
    ("diners", "38520000023237"),
    ("diners", "36006666333344"),
    ("diners", "36070500001020"),
    ("diners", "36259600000004"),
    ("diners", "38000000000006"),
    ("diners", "3000000000000004"),
    ("jcb", "3566002020360505"),
    ("jcb", "3530111333300000"),
    ("jcb", "3569990010095841"),
    ("jcb (legacy range)", "3088000000000017"),
    ("unionpay", "6200000000000005"),
    ("unionpay", "6200000000000047"),
    ("unionpay", "6205500000000000004"),
    ("unionpay", "6243030000000001"),
    ("unionpay", "6250946000000016"),
    ("unionpay", "6221261111117766"),
    ("unionpay", "6223164991230014"),
    ("unionpay (81 range)", "8171999927660000"),
    ("unionpay (81 range)", "8171999900000000021"),
    ("maestro", "6771798021000008"),
    ("maestro", "6304000000000000"),
    ("maestro", "6000070736169237003"),
    ("maestro", "6799998900000099990"),
    ("maestro", "6799998900000999991"),
    ("bancontact", "6703444444444449"),
    ("dankort", "5019555544445555"),
    ("elo", "5066991111111118"),
    ("hipercard", "6062828888666688"),
    ("mir", "2201382000000013"),
];

/// Every way `pan` is commonly written: contiguous, and its brand's groupings with a single
/// space or a single dash.
pub(crate) fn writings(pan: &str) -> Vec<String> {
    let split = |sizes: &[usize]| {
        let mut parts = Vec::new();
        let mut at = 0;
        for &s in sizes {
            parts.push(&pan[at..at + s]);
            at += s;
        }
        parts
    };
    let groupings: Vec<Vec<&str>> = match pan.len() {
        14 => vec![split(&[4, 6, 4])],
        15 => vec![split(&[4, 6, 5])],
        16 => vec![split(&[4, 4, 4, 4])],
        19 => vec![split(&[4, 4, 4, 4, 3])],
        _ => vec![],
    };
    let mut out = vec![pan.to_owned()];
    for parts in groupings {
        out.push(parts.join(" "));
        out.push(parts.join("-"));
    }
    out
}

#[test]
fn every_published_test_pan_passes_the_brand_table() {
    for (brand, pan) in TEST_PANS {
        let digits: Vec<u8> = pan.bytes().map(|b| b - b'0').collect();
        assert!(is_card_number(&digits), "{brand} {pan}");
    }
}

#[test]
fn every_test_pan_is_found_in_every_grouping_and_setting() {
    let settings: [fn(&str) -> String; 12] = [
        |p| p.to_owned(),
        |p| format!(r#"{{"note":"{p}"}}"#),
        |p| format!("card {p} exp 12/29"),
        |p| format!("card: {p}."),
        |p| format!("({p})"),
        |p| format!("pan={p}&cvc=123"),
        |p| format!("cb-pan,ord-r7,card {p}\n"),
        |p| format!("card{p}"),
        |p| format!("x{p}y"),
        |p| format!("{p}xyz"),
        |p| format!("-{p}"),
        |p| format!("ref 12 {p}"),
    ];
    let mut checked = 0;
    for (brand, pan) in TEST_PANS {
        for written in writings(pan) {
            for setting in settings {
                let text = setting(&written);
                assert!(contains_card_number(text.as_bytes()), "{brand}: {text}");
                checked += 1;
            }
        }
        let number = format!(r#"{{"pan":{pan}}}"#);
        assert!(contains_card_number(number.as_bytes()), "{brand}: {number}");
    }
    assert!(checked > 2_000, "{checked}");
}

#[test]
fn the_ids_of_the_issue_are_not_card_numbers() {
    for text in [
        r#"{"request_id": "chk-109-1764787915"}"#,
        "order 2026-12-03-0042-17",
        "2026-12-03T10:11:12.123456Z",
        "+4915112345678",
        "+86 138 1234 5678",
        "+1 (415) 555-2671",
        "112-1234567-1234567",
        "dec_01a206d9ba5a74c2a927142964926901",
        "019ae4c1-4111-7111-9111-411111111111",
    ] {
        assert!(!contains_card_number(text.as_bytes()), "{text}");
    }
}

#[test]
fn numbers_outside_a_brand_or_failing_luhn_are_not_cards() {
    // Fails Luhn.
    assert!(!contains_card_number(b"4111111111111112"));
    // Timestamps (prefix 1) pass no brand, whatever the Luhn check says.
    assert!(!contains_card_number(b"1764787915123456"));
    // 13-digit Visa is not issued any more; a 13-digit `49...` is a German phone number.
    assert!(!contains_card_number(b"4222222222222"));
    // Too long, too short.
    assert!(!contains_card_number(b"41111111111111111111111"));
    assert!(!contains_card_number(br#"{"card_bin":"411111"}"#));
}

#[test]
fn groupings_need_one_separator_and_a_card_shape() {
    assert!(!contains_card_number(b"4111  1111  1111  1111"));
    assert!(!contains_card_number(b"4111 1111-1111 1111"));
    assert!(!contains_card_number(b"4111.1111.1111.1111"));
    assert!(!contains_card_number(b"41 11 11 11 11 11 11 11"));
    assert!(!contains_card_number(b"411 1111 1111 11111"));
    // A card grouping inside a longer sequence is still a card.
    assert!(contains_card_number(b"1 4111 1111 1111 1111"));
}

#[test]
fn a_plus_sign_makes_up_to_fifteen_digits_a_phone_number() {
    assert!(!contains_card_number(b"+378282246310005"));
    assert!(contains_card_number(b"+4111111111111111"));
    assert!(contains_card_number(b"+1 4111 1111 1111 1111"));
}

#[test]
fn hex_tokens_of_whole_bytes_are_ids_and_other_flush_letters_are_not() {
    // Minted ids, hashes, 64-bit ids: a digit run inside is part of the encoding.
    assert!(!contains_card_number(
        b"dec_41111111111111117a8b9c0d1e2f3a4b"
    ));
    assert!(!contains_card_number(b"4111111111111111a0b1"));
    assert!(!contains_card_number(b"a378282246310005"));
    // Not hex, odd length, too short, or letters only around the run: a PAN with letters
    // around it.
    assert!(contains_card_number(b"cc4111111111111111"));
    assert!(contains_card_number(b"4111111111111111abcd"));
    assert!(contains_card_number(b"deadbeef4111111111111111"));
    assert!(contains_card_number(b"card4111111111111111"));
    assert!(contains_card_number(b"x4111111111111111y"));
    assert!(contains_card_number(b"a4111111111111111"));
    assert!(contains_card_number(b"4111111111111111abc"));
    assert!(contains_card_number(b"x_4111111111111111"));
    // Grouped: hex letters around an end group make it part of a UUID; other letters do not.
    assert!(!contains_card_number(
        b"742c765e-5659-4447-8241-2467eddc145e"
    ));
    assert!(contains_card_number(b"card4111 1111 1111 1111"));
    assert!(contains_card_number(b"4111-1111-1111-1111x"));
}
