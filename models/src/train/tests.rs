//! The split, the standardisation and the orientation of the fit, on small hand-made sets.

use chrono::{Duration, TimeZone};

use super::*;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).single().unwrap()
}

/// `n` examples a minute apart; feature 0 carries the label (plus a little overlap), fraud
/// every `every`-th example.
fn examples(n: usize, every: usize) -> Vec<Example> {
    (0..n)
        .map(|i| {
            let fraud = i % every == 0;
            let mut features = [0.0; FEATURE_COUNT];
            features[0] = if fraud { 3.0 } else { 1.0 } + (i % 7) as f64 * 0.4;
            features[1] = 5.0; // constant
            Example {
                features,
                fraud,
                at: t0() + Duration::minutes(i as i64),
            }
        })
        .collect()
}

fn cfg(min_per_class: usize) -> TrainConfig {
    TrainConfig {
        min_per_class,
        ..TrainConfig::default()
    }
}

#[test]
fn check_enough_names_counts_and_need() {
    assert_eq!(check_enough(20, 20, &cfg(20)), Ok(()));
    assert_eq!(
        check_enough(19, 500, &cfg(20)),
        Err(ModelError::TooFewLabels {
            fraud: 19,
            legit: 500,
            need_per_class: 20
        })
    );
    assert!(check_enough(500, 3, &cfg(20)).is_err());
    let msg = check_enough(1, 2, &cfg(20)).unwrap_err().to_string();
    assert_eq!(
        msg,
        "too few labels to train: 1 fraud and 2 legit, need at least 20 of each class"
    );
}

#[test]
fn train_refuses_too_few_labels_before_fitting() {
    let err = train(examples(100, 10), &cfg(20)).unwrap_err();
    assert_eq!(
        err,
        ModelError::TooFewLabels {
            fraud: 10,
            legit: 90,
            need_per_class: 20
        }
    );
}

#[test]
fn split_keeps_the_newest_share_out_and_never_splits_a_timestamp() {
    let mut ex = examples(10, 2);
    assert_eq!(split_index(&ex, 0.3), 7);
    // Examples 6 and 7 share a timestamp: both go to the held-out part.
    ex[6].at = ex[7].at;
    assert_eq!(split_index(&ex, 0.3), 6);
}

#[test]
fn a_part_without_fraud_is_refused_with_its_counts() {
    // All fraud in the oldest 30 of 200: the held-out newest 60 have none.
    let mut ex = examples(200, 1_000_000);
    for e in ex.iter_mut().take(30) {
        e.fraud = true;
    }
    let err = train(ex, &cfg(20)).unwrap_err();
    assert_eq!(
        err,
        ModelError::TooFewLabels {
            fraud: 0,
            legit: 60,
            need_per_class: 1
        }
    );
}

#[test]
fn standardisation_uses_training_rows_and_guards_constants() {
    let ex = examples(10, 2);
    let (means, stds) = standardisation(&ex);
    let col: Vec<f64> = ex.iter().map(|e| e.features[0]).collect();
    let mean = col.iter().sum::<f64>() / 10.0;
    assert!((means[0] - mean).abs() < 1e-12);
    assert!(stds[0] > 0.0);
    assert_eq!((means[1], stds[1]), (5.0, 1.0), "constant feature");
    assert_eq!(stds[2], 1.0, "all-zero feature");
}

#[test]
fn fit_points_towards_fraud_whatever_linfa_calls_positive() {
    // Fraud is the minority (1 in 5) and, balanced, the second class seen: linfa's positive
    // label would be `false`. The coefficient on the fraud-raising feature must still be > 0.
    let ex = examples(400, 5);
    let art = train(ex, &cfg(20)).unwrap();
    assert!(art.coefficients[0] > 0.0, "{:?}", &art.coefficients[..2]);
    assert!(
        art.coefficients[1].abs() < 1e-9,
        "a constant feature carries no weight"
    );
    assert!(art.metrics.roc_auc > 0.9, "{}", art.metrics.roc_auc);
    // Balanced 1:1 from 1:4 => the prior correction is ln(1/4).
    assert!((art.prior_correction - 0.25f64.ln()).abs() < 0.05);
    assert_eq!(art.metrics.train_examples + art.metrics.test_examples, 400);
    assert_eq!(art.metrics.test_examples, 120);
    assert_eq!(art.metrics.split_at, t0() + Duration::minutes(280));
}

#[test]
fn invalid_configuration_is_refused() {
    let bad = TrainConfig {
        holdout_fraction: 1.0,
        ..TrainConfig::default()
    };
    assert!(matches!(
        train(examples(400, 5), &bad),
        Err(ModelError::Config(_))
    ));
    let bad = TrainConfig {
        thresholds: vec![1.5],
        ..TrainConfig::default()
    };
    assert!(matches!(
        train(examples(400, 5), &bad),
        Err(ModelError::Config(_))
    ));
}

#[test]
fn non_finite_features_are_refused_by_name() {
    let mut ex = examples(400, 5);
    ex[3].features[2] = f64::NAN;
    let err = train(ex, &cfg(20)).unwrap_err();
    assert!(
        matches!(&err, ModelError::Training(m) if m.contains("account_age_days_log1p")),
        "{err}"
    );
}

#[test]
fn config_defaults_fill_missing_fields() {
    let cfg: TrainConfig = serde_json::from_str(r#"{"thresholds": [0.4]}"#).unwrap();
    assert_eq!(cfg.thresholds, [0.4]);
    assert_eq!((cfg.holdout_fraction, cfg.min_per_class), (0.3, 20));
}
