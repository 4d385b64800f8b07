use chrono::Utc;

use super::*;
use crate::artifact::{ARTIFACT_FORMAT, LOGISTIC_REGRESSION, ModelArtifact};
use crate::features::FEATURE_COUNT;
use crate::metrics::Metrics;

/// Every feature with mean 1 and standard deviation 2; feature `i` has coefficient `i / 10`.
fn artifact() -> ModelArtifact {
    ModelArtifact {
        format: ARTIFACT_FORMAT,
        learner: LOGISTIC_REGRESSION.to_owned(),
        feature_names: FEATURE_NAMES.iter().map(|s| (*s).to_owned()).collect(),
        means: vec![1.0; FEATURE_COUNT],
        stds: vec![2.0; FEATURE_COUNT],
        coefficients: (0..FEATURE_COUNT).map(|i| i as f64 / 10.0).collect(),
        intercept: -1.5,
        l2_alpha: 1.0,
        prior_correction: 0.0,
        metrics: Metrics {
            roc_auc: 0.5,
            pr_auc: 0.0,
            at_thresholds: Vec::new(),
            calibration: Vec::new(),
            train_examples: 0,
            test_examples: 0,
            train_fraud: 0,
            test_fraud: 0,
            split_at: Utc::now(),
        },
        trained_at: Utc::now(),
    }
}

#[test]
fn contributions_are_coefficient_times_standardised_value_and_sum_to_the_log_odds() {
    let a = artifact();
    let scorer = Scorer::new(1, &a).expect("valid");
    let mut x = [1.0; FEATURE_COUNT];
    x[3] = 5.0; // (5 - 1) / 2 = 2 standard deviations: 0.3 * 2 = 0.6
    x[7] = -3.0; // -2 sd: 0.7 * -2 = -1.4
    x[40] = 2.0; // 0.5 sd: 4.0 * 0.5 = 2.0
    let all = scorer.contributions(&x, FEATURE_COUNT);
    assert_eq!(all.len(), 3, "features at their mean contribute nothing");
    let named: Vec<_> = all.iter().map(|c| (c.feature, c.value)).collect();
    assert_eq!(
        named,
        [
            (FEATURE_NAMES[40], 2.0),
            (FEATURE_NAMES[7], -3.0),
            (FEATURE_NAMES[3], 5.0)
        ],
        "largest magnitude first"
    );
    for (c, expected) in all.iter().zip([2.0, -1.4, 0.6]) {
        assert!((c.contribution - expected).abs() < 1e-12, "{c:?}");
    }
    // The intercept plus every contribution is the log-odds the probability came from.
    let z = a.intercept + all.iter().map(|c| c.contribution).sum::<f64>();
    let p = 1.0 / (1.0 + (-z).exp());
    assert!((scorer.probability_of(&x) - p).abs() < 1e-12);
    assert_eq!(scorer.contributions(&x, 2).len(), 2, "top n");
}

#[test]
fn a_non_finite_input_is_explained_as_the_dot_product_saw_it() {
    let scorer = Scorer::new(1, &artifact()).expect("valid");
    let mut x = [1.0; FEATURE_COUNT];
    x[10] = f64::NAN;
    let all = scorer.contributions(&x, 5);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].value, 0.0, "NaN counts as 0, as when scoring");
    assert!((all[0].contribution - 1.0 * (0.0 - 1.0) / 2.0).abs() < 1e-12);
}
