//! Training on synthetic streams built from real `EnrichedContext` values through `extract`:
//! a planted signal is learned (held-out ROC AUC >= 0.9), random labels are not.

mod support;

use arbiter_engine::stages::ModelStage;
use arbiter_models::{FEATURE_NAMES, ModelArtifact, Scorer, TrainConfig, feature_index, train};

fn coefficient(art: &ModelArtifact, name: &str) -> f64 {
    art.coefficients[feature_index(name).expect("a feature name")]
}

#[test]
fn a_planted_signal_is_learned_and_holds_on_the_newer_part() {
    let examples = support::stream(6000, 7, false);
    let fraud = examples.iter().filter(|e| e.fraud).count();
    let rate = fraud as f64 / examples.len() as f64;
    assert!((0.05..=0.10).contains(&rate), "fraud rate {rate}");

    let art = train(examples, &TrainConfig::default()).unwrap();
    let m = &art.metrics;
    eprintln!(
        "planted: ROC AUC {:.3}, PR AUC {:.3}, base rate {rate:.3}",
        m.roc_auc, m.pr_auc
    );
    assert!(m.roc_auc >= 0.9, "held-out ROC AUC {}", m.roc_auc);
    assert!(
        m.pr_auc > rate * 2.0,
        "PR AUC {} vs base rate {rate}",
        m.pr_auc
    );
    assert_eq!(m.test_examples, 1800);
    assert_eq!(m.train_examples, 4200);
    assert_eq!(
        m.at_thresholds.len(),
        TrainConfig::default().thresholds.len()
    );
    assert_eq!(m.calibration.iter().map(|b| b.count).sum::<usize>(), 1800);

    // The planted features carry the weight, in the planted direction.
    assert!(coefficient(&art, "is_proxy") > 0.5);
    assert!(coefficient(&art, "amount_log1p") > 0.5);
    assert!(coefficient(&art, "account_age_days_log1p") < -0.5);

    // After the prior correction, probabilities are calibrated: the mean prediction on the
    // held-out part is near the observed fraud rate there.
    let n: usize = m.calibration.iter().map(|b| b.count).sum();
    let predicted: f64 = m
        .calibration
        .iter()
        .map(|b| b.mean_predicted * b.count as f64)
        .sum::<f64>()
        / n as f64;
    let observed = m.test_fraud as f64 / m.test_examples as f64;
    assert!(
        (predicted - observed).abs() < 0.03,
        "mean predicted {predicted} vs observed {observed}"
    );

    // The scorer ranks a planted-fraud context above a plain one.
    let scorer = Scorer::new(3, &art).unwrap();
    let risky = support::context(2000.0, 0, true);
    let plain = support::context(40.0, 900, false);
    assert_eq!(scorer.version(), 3);
    assert!(
        scorer.probability(&risky) > 0.5,
        "{}",
        scorer.probability(&risky)
    );
    assert!(
        scorer.probability(&plain) < 0.05,
        "{}",
        scorer.probability(&plain)
    );
    assert_eq!(art.feature_names, FEATURE_NAMES);
}

#[test]
fn random_labels_score_near_chance() {
    let art = train(support::stream(6000, 11, true), &TrainConfig::default()).unwrap();
    let auc = art.metrics.roc_auc;
    eprintln!("noise: ROC AUC {auc:.3}, PR AUC {:.3}", art.metrics.pr_auc);
    assert!(auc < 0.7 && auc > 0.3, "ROC AUC on noise {auc}");
}
