use chrono::Duration;

use super::*;
use crate::money::RateTable;
use crate::request::DecisionRequest;

fn snooze(rule: &str, kind: ListKind, value: &str, expires_in: Duration) -> RuleSnooze {
    RuleSnooze {
        id: RuleSnooze::generate_id(),
        rule: rule.into(),
        kind,
        value: value.into(),
        reason: "known customer".into(),
        expires_at: Utc::now() + expires_in,
        created_at: Utc::now(),
        created_by: "key_1".into(),
        created_by_name: "ann".into(),
        revoked_at: None,
    }
}

fn context() -> EnrichedContext {
    let req = DecisionRequest::from_slice(
        br#"{"request_id":"s","event":"payment.authorize","amount":{"value":"10.00","currency":"USD"},
            "user":{"id":"u-1","email":"Ann@Example.com"},"device":{"id":"dev-9"}}"#,
    )
    .expect("valid");
    EnrichedContext::normalise(&req, &RateTable::default())
}

#[test]
fn snoozes_match_the_contexts_entities_while_live() {
    let mut revoked = snooze("velocity", ListKind::User, "u-1", Duration::days(1));
    revoked.revoked_at = Some(Utc::now());
    let snapshot = SnoozeSnapshot::new([
        snooze("geo_mismatch", ListKind::User, "u-1", Duration::days(30)),
        // The same rule through another entity counts once.
        snooze(
            "geo_mismatch",
            ListKind::Email,
            "ann@example.com",
            Duration::days(30),
        ),
        snooze("card_testing", ListKind::Device, "dev-9", Duration::days(1)),
        snooze("promo_abuse", ListKind::User, "u-2", Duration::days(1)),
        snooze("graph_ring", ListKind::User, "u-1", -Duration::seconds(1)),
        revoked,
    ]);
    assert_eq!(snapshot.len, 6);
    assert_eq!(
        snapshot.snoozed_rules(&context(), Utc::now()),
        ["card_testing", "geo_mismatch"],
        "sorted, once each; another user's, an expired and a revoked snooze do not apply"
    );
    let later = Utc::now() + Duration::days(2);
    assert_eq!(
        snapshot.snoozed_rules(&context(), later),
        ["geo_mismatch"],
        "an expiry needs no reload"
    );
    assert!(
        SnoozeSnapshot::default()
            .snoozed_rules(&context(), Utc::now())
            .is_empty()
    );
}
