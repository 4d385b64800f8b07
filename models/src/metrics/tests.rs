//! Metrics on hand-computed cases, and agreement with linfa's ROC where linfa is exact.

use linfa::dataset::Pr;
use linfa::metrics::{BinaryClassification, ToConfusionMatrix};
use ndarray::array;

use super::*;

/// Five examples, two fraud. Ranked: 0.9 F, 0.8 L, 0.7 F, 0.6 L, 0.5 L.
fn five() -> Vec<(f64, bool)> {
    vec![
        (0.6, false),
        (0.9, true),
        (0.5, false),
        (0.7, true),
        (0.8, false),
    ]
}

#[test]
fn roc_auc_counts_correctly_ordered_pairs() {
    // Fraud 0.9 outranks all three legit, fraud 0.7 outranks two: 5 of 6 pairs.
    assert!((roc_auc(&five()) - 5.0 / 6.0).abs() < 1e-12);
    assert_eq!(roc_auc(&[(0.2, false), (0.8, true)]), 1.0);
    assert_eq!(roc_auc(&[(0.8, false), (0.2, true)]), 0.0);
    // A tie is half a pair.
    assert_eq!(roc_auc(&[(0.5, true), (0.5, false)]), 0.5);
    assert_eq!(
        roc_auc(&[(0.5, true), (0.5, false), (0.1, false)]),
        (0.5 + 1.0) / 2.0
    );
    // One class only: undefined, reported as chance.
    assert_eq!(roc_auc(&[(0.9, true), (0.1, true)]), 0.5);
}

#[test]
fn average_precision_sums_precision_times_recall_gain() {
    // Threshold 0.9: P = 1, recall +1/2. Threshold 0.7: P = 2/3, recall +1/2.
    let expected = 0.5 * 1.0 + 0.5 * (2.0 / 3.0);
    assert!((average_precision(&five()) - expected).abs() < 1e-12);
    // Perfect ranking gives 1; a tie of one fraud and one legit gives precision 1/2.
    assert_eq!(average_precision(&[(0.9, true), (0.1, false)]), 1.0);
    assert_eq!(average_precision(&[(0.5, true), (0.5, false)]), 0.5);
    assert_eq!(average_precision(&[(0.5, false)]), 0.0);
}

#[test]
fn precision_and_recall_at_thresholds() {
    let m = at_threshold(&five(), 0.7);
    assert_eq!(m.flagged, 3);
    assert!((m.precision - 2.0 / 3.0).abs() < 1e-12);
    assert_eq!(m.recall, 1.0);
    let m = at_threshold(&five(), 0.85);
    assert_eq!((m.flagged, m.precision, m.recall), (1, 1.0, 0.5));
    let m = at_threshold(&five(), 0.95);
    assert_eq!((m.flagged, m.precision, m.recall), (0, 0.0, 0.0));
}

#[test]
fn calibration_bins_count_mean_and_observed_rate() {
    let scored = [
        (0.05, false),
        (0.15, false),
        (0.12, true),
        (0.95, true),
        (1.0, true),
    ];
    let bins = calibration(&scored);
    assert_eq!(bins.len(), CALIBRATION_BINS);
    assert_eq!((bins[0].count, bins[0].observed_fraud_rate), (1, 0.0));
    assert_eq!(bins[1].count, 2);
    assert!((bins[1].mean_predicted - 0.135).abs() < 1e-12);
    assert_eq!(bins[1].observed_fraud_rate, 0.5);
    assert_eq!(bins[9].count, 2, "p = 1 lands in the last bin");
    assert!((bins[9].mean_predicted - 0.975).abs() < 1e-12);
    assert_eq!(bins[5].count, 0);
    assert_eq!((bins[5].lower, bins[5].upper), (0.5, 0.6));
    assert_eq!(bins.iter().map(|b| b.count).sum::<usize>(), scored.len());
}

#[test]
fn agrees_with_linfa_roc_on_tie_free_scores() {
    // Distinct scores exactly representable in f32, none zero: where linfa is exact.
    let scored: Vec<(f64, bool)> = (1..=40)
        .map(|i| (f64::from(i) / 64.0, (i * 7) % 5 < 2 || i > 33))
        .collect();
    let probs: Vec<Pr> = scored.iter().map(|s| Pr::new(s.0 as f32)).collect();
    let truth: Vec<bool> = scored.iter().map(|s| s.1).collect();
    let linfa_auc = probs.as_slice().roc(&truth).unwrap().area_under_curve();
    assert!(
        (roc_auc(&scored) - f64::from(linfa_auc)).abs() < 1e-5,
        "ours {} linfa {linfa_auc}",
        roc_auc(&scored)
    );
}

#[test]
fn linfa_binary_confusion_matrix_precision_is_recall() {
    // The reason this module counts precision itself (see the module docs): 3 flagged, 2 of
    // them fraud (precision 2/3); 2 fraud, both flagged (recall 1).
    let prediction = array![true, true, true, false, false];
    let truth = array![true, true, false, false, false];
    let cm = prediction.confusion_matrix(&truth).unwrap();
    assert!((cm.recall() - 2.0 / 3.0).abs() < 1e-6);
    assert!((cm.precision() - 1.0).abs() < 1e-6);
}
