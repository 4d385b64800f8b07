//! Issuer prefixes (IIN ranges) and lengths of the card brands the scan recognises, and the
//! Luhn check. A digit string is a card number only when its prefix belongs to a brand, its
//! length is one that brand issues, and its check digit is right.
//!
//! | brand | prefixes | lengths |
//! | --- | --- | --- |
//! | Visa | 4 | 16, 19 |
//! | Mastercard | 51–55, 2221–2720 | 16 |
//! | American Express | 34, 37 | 15 |
//! | Diners Club | 300–305, 3095, 36, 38–39 | 14–19 |
//! | JCB | 3528–3589 (and the legacy 3088–3094, 3096–3102, 3112–3120, 3158–3159, 3337–3349) | 16–19 (legacy 16) |
//! | Discover | 6011, 644–649, 65 (and 622126–622925, co-branded) | 16–19 |
//! | UnionPay | 62, 81 | 16–19 |
//! | Maestro, RuPay, Elo, Hipercard, Dankort, Bancontact | 50, 56–69 | 16–19 |
//! | Mir | 2200–2204 | 16–19 |
//!
//! Deliberately left out, each because it would refuse ordinary values: 13-digit Visa (no
//! longer issued; a 13-digit `49…` is a German phone number written without its `+`), 12–15
//! digit Maestro (rare; as many digits as national phone numbers and short order numbers), and
//! UATP (prefix 1: every Unix timestamp in seconds, milliseconds or microseconds starts with 1).

/// True when `digits` (values 0–9, most significant first) have a brand's prefix and length
/// and pass the Luhn check.
pub fn is_card_number(digits: &[u8]) -> bool {
    issued_length(digits) && luhn_valid(digits)
}

/// True when some brand issues numbers of this prefix with this many digits.
fn issued_length(d: &[u8]) -> bool {
    let len = d.len();
    if !(14..=19).contains(&len) {
        return false;
    }
    let prefix = |k: usize| d[..k].iter().fold(0_u32, |acc, &x| acc * 10 + u32::from(x));
    let (p2, p3, p4) = (prefix(2), prefix(3), prefix(4));
    let long = (16..=19).contains(&len);
    match d[0] {
        2 => ((2221..=2720).contains(&p4) && len == 16) || ((2200..=2204).contains(&p4) && long),
        3 => {
            let amex = (p2 == 34 || p2 == 37) && len == 15;
            let diners =
                (300..=305).contains(&p3) || p4 == 3095 || p2 == 36 || p2 == 38 || p2 == 39;
            let jcb = (3528..=3589).contains(&p4);
            let jcb_legacy = [
                (3088, 3094),
                (3096, 3102),
                (3112, 3120),
                (3158, 3159),
                (3337, 3349),
            ]
            .iter()
            .any(|&(lo, hi)| (lo..=hi).contains(&p4));
            amex || (diners && len >= 14) || (jcb && long) || (jcb_legacy && len == 16)
        }
        4 => len == 16 || len == 19,
        5 => match p2 {
            51..=55 => len == 16,
            50 | 56..=59 => long,
            _ => false,
        },
        6 => long,
        8 => p2 == 81 && long,
        _ => false,
    }
}

/// The Luhn (mod 10) check over decimal digits.
pub fn luhn_valid(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}
