use chrono::{Duration, TimeZone};

use super::*;

fn event(card: &str, minor: i64) -> VelocityEvent {
    VelocityEvent {
        subjects: vec![
            (VelocityKind::User, "u-1".into()),
            (VelocityKind::Card, card.into()),
        ],
        amount: Some((minor, "USD".into(), 2)),
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0)
        .single()
        .expect("valid time")
}

#[test]
fn counts_and_sums_within_windows() {
    let v = InProcessVelocity::new(1 << 20);
    v.record_now(&event("c1", 1000), t0());
    v.record_now(&event("c1", 2550), t0() + Duration::minutes(10));
    let f = v.features_now(&event("c1", 0), t0() + Duration::minutes(20));
    assert_eq!(f.user.count_1h, 2);
    assert!((f.user.sum_1h - 35.50).abs() < 1e-9);
    assert_eq!(f.card.map(|c| c.count_24h), Some(2));
    assert_eq!(f.device, None);
}

#[test]
fn old_events_leave_the_hour_window_but_stay_in_the_day() {
    let v = InProcessVelocity::new(1 << 20);
    v.record_now(&event("c1", 100), t0());
    let later = t0() + Duration::minutes(90);
    let f = v.features_now(&event("c1", 0), later);
    assert_eq!(f.user.count_1h, 0);
    assert_eq!(f.user.count_24h, 1);
    let f = v.features_now(&event("c1", 0), t0() + Duration::hours(25));
    assert_eq!(f.user.count_24h, 0);
}

#[test]
fn sums_only_the_request_currency() {
    let v = InProcessVelocity::new(1 << 20);
    v.record_now(&event("c1", 1000), t0());
    let eur = VelocityEvent {
        amount: Some((500, "EUR".into(), 2)),
        ..event("c1", 0)
    };
    v.record_now(&eur, t0());
    let f = v.features_now(&event("c1", 0), t0());
    assert_eq!(f.user.count_1h, 2);
    assert!((f.user.sum_1h - 10.0).abs() < 1e-9);
}

#[test]
fn memory_is_bounded_in_bytes_whatever_the_key_length() {
    let budget = 1_000 * ENTITY_BYTES as u64;
    let mut held = Vec::new();
    for id_len in [4, 10_000] {
        let v = InProcessVelocity::new(budget);
        for i in 0..5_000 {
            v.record_now(&event(&format!("{i:0id_len$}"), 1), t0());
        }
        // A user and 5,000 cards: never more than the budget's entities.
        assert!(
            v.entities.len() <= 1_000,
            "{} of {id_len}-byte ids",
            v.entities.len()
        );
        // The user counted with every event is one of them, with every count.
        assert_eq!(v.features_now(&event("new", 1), t0()).user.count_1h, 5_000);
        held.push(v.entities.len());
    }
    // Ids a thousand times longer cost the same: only their hash is kept.
    assert!(held[1] * 10 >= held[0] * 9, "{held:?}");
}

#[test]
fn forgetting_an_entity_drops_its_counts_only() {
    let v = InProcessVelocity::new(1 << 20);
    let at = Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap();
    let event = |user: &str| VelocityEvent {
        subjects: vec![
            (VelocityKind::User, user.to_owned()),
            (VelocityKind::Device, "shared".to_owned()),
        ],
        amount: None,
    };
    v.record_now(&event("gone"), at);
    v.record_now(&event("kept"), at);
    v.forget_now(&[(VelocityKind::User, "gone".to_owned())]);
    let gone = v.features_now(&event("gone"), at);
    assert_eq!(gone.user.count_1h, 0);
    assert_eq!(gone.device.expect("device").count_1h, 2);
    assert_eq!(v.features_now(&event("kept"), at).user.count_1h, 1);
}

#[test]
fn two_currencies_are_summed_in_a_bucket_and_a_third_only_counted() {
    let v = InProcessVelocity::new(1 << 20);
    let paid = |code: &str, minor: i64| VelocityEvent {
        amount: Some((minor, code.into(), 2)),
        ..event("c1", 0)
    };
    for (code, minor) in [
        ("USD", 1000),
        ("EUR", 500),
        ("USD", 250),
        ("GBP", 700),
        ("EUR", 1),
    ] {
        v.record_now(&paid(code, minor), t0());
    }
    let sum = |code: &str| v.features_now(&paid(code, 0), t0()).user;
    assert_eq!(sum("USD").count_1h, 5);
    assert!((sum("USD").sum_1h - 12.5).abs() < 1e-9);
    assert!((sum("EUR").sum_24h - 5.01).abs() < 1e-9);
    assert_eq!(
        sum("GBP").sum_1h,
        0.0,
        "a third currency in the bucket is not summed"
    );
}
