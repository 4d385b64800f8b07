//! Normalisation of identifiers, shared by decisions and list entries so the two always match.

use std::net::IpAddr;

use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;

/// The e-mail as one entity, trimmed, and its domain: Unicode NFKC (compatibility forms such
/// as full-width `ａ` or the `ﬁ` ligature become their plain letters), then full Unicode case
/// folding (`ß` and `SS` both `ss`, final and medial sigma alike: more than lower-casing),
/// then NFKC again (folding can leave a sequence unnormalised) — Unicode's compatibility
/// caseless match. Every spelling of one address in case or Unicode form is then the same
/// string for lists, velocity and the link graph.
pub fn email(raw: &str) -> (String, Option<String>) {
    let compatible: String = raw.trim().nfkc().collect();
    let email: String = caseless::default_case_fold_str(&compatible)
        .nfkc()
        .collect();
    let domain = email
        .rsplit_once('@')
        .map(|(_, d)| d.to_owned())
        .filter(|d| !d.is_empty());
    (email, domain)
}

/// Digits with an optional leading `+`; spaces, dashes, dots and parentheses dropped.
pub fn phone(raw: &str) -> String {
    let trimmed = raw.trim();
    let mut out = String::with_capacity(trimmed.len());
    if trimmed.starts_with('+') {
        out.push('+');
    }
    out.extend(trimmed.chars().filter(char::is_ascii_digit));
    out
}

/// The address normalised (lower case, punctuation dropped, whitespace collapsed) then
/// hashed with SHA-256, so the decision log never holds the address itself.
pub fn address_hash(raw: &str) -> String {
    let lowered = raw.to_lowercase();
    let words: Vec<&str> = lowered
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    hex::encode(Sha256::digest(words.join(" ").as_bytes()))
}

/// A parsed IP in canonical text form, or `None` when it does not parse. An IPv4-mapped IPv6
/// address (`::ffff:203.0.113.99`) is the IPv4 address it carries: the same host reached over
/// a dual-stack socket is one entity.
pub fn ip(raw: &str) -> Option<String> {
    let ip = raw.trim().parse::<IpAddr>().ok()?;
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    Some(ip.to_string())
}

/// Upper-cased, trimmed country code.
pub fn country(raw: &str) -> String {
    raw.trim().to_uppercase()
}

/// Trimmed identifier (user, device, card fingerprint).
pub fn id(raw: &str) -> String {
    raw.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_lowercased_with_domain() {
        assert_eq!(
            email("  Ann@Example.COM "),
            ("ann@example.com".into(), Some("example.com".into()))
        );
        assert_eq!(email("nodomain"), ("nodomain".into(), None));
    }

    #[test]
    fn addresses_that_differ_in_case_and_punctuation_hash_alike() {
        assert_eq!(
            address_hash("1 Main St, Springfield, US"),
            address_hash("1  main st springfield US.")
        );
        assert_ne!(address_hash("1 Main St"), address_hash("2 Main St"));
    }

    #[test]
    fn email_spellings_of_one_address_are_one_entity() {
        let one = email("ann@example.com").0;
        for spelling in [
            "ANN@EXAMPLE.COM",
            "Ann@Example.Com",
            "ａｎｎ＠ｅｘａｍｐｌｅ．ｃｏｍ",
            " Ann@EXAMPLE.com\t",
        ] {
            assert_eq!(email(spelling).0, one, "{spelling}");
        }
        // Composed and decomposed accents, and a ligature.
        assert_eq!(
            email("JOS\u{0045}\u{0301}@x.fr").0,
            email("jos\u{00e9}@x.fr").0
        );
        assert_eq!(email("\u{fb01}n@x.com").0, "fin@x.com");
        // Case folding, not lower-casing: `ß` and `ss` differ in case only, as do the sigmas.
        assert_eq!(email("STRASSE@x.de").0, email("straße@x.de").0);
        assert_eq!(email("ΣΊΣΥΦΟΣ@x.gr").0, email("σίσυφος@x.gr").0);
        assert_eq!(
            email("ann@ＥＸＡＭＰＬＥ.com").1.as_deref(),
            Some("example.com")
        );
    }

    #[test]
    fn ip_is_canonicalised() {
        assert_eq!(ip("::ffff:203.0.113.99"), Some("203.0.113.99".into()));
        assert_eq!(ip("::FFFF:cb00:7163"), Some("203.0.113.99".into()));
        // IPv4-compatible (deprecated) and other IPv6 stay IPv6.
        assert_eq!(ip("::1"), Some("::1".into()));
        assert_eq!(ip(" 203.0.113.7 "), Some("203.0.113.7".into()));
        assert_eq!(ip("2001:DB8::0:1"), Some("2001:db8::1".into()));
        assert_eq!(ip("not-an-ip"), None);
    }

    #[test]
    fn phone_keeps_digits_and_plus() {
        assert_eq!(phone("+1 (555) 123-4567"), "+15551234567");
    }
}
