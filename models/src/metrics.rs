//! Evaluation metrics of a binary fraud model on held-out examples: ROC AUC, PR AUC (average
//! precision), precision and recall at given probability thresholds, and a calibration table.
//! Pure functions over `(probability, is_fraud)` pairs; it must not know how the model was
//! trained.
//!
//! Why not linfa's metrics: `linfa::metrics::BinaryClassification::roc` takes `Pr` (an `f32`),
//! so probabilities above `1 - 6e-8` collapse into ties and a confident model loses AUC; it
//! also drops the curve's first point when the lowest score is exactly 0 and panics on NaN.
//! linfa has no average precision and no calibration. Its binary `ConfusionMatrix` is
//! documented as rows = target but is built rows = prediction, so `precision()` of
//! `prediction.confusion_matrix(truth)` is the recall. The counting below is short, in `f64`,
//! and checked against hand-computed cases and against linfa's ROC on tie-free data (tests).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Precision and recall when every example with `probability >= threshold` is flagged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdMetrics {
    pub threshold: f64,
    /// Fraud among flagged; 0 when nothing is flagged (see `flagged`).
    pub precision: f64,
    /// Flagged among fraud.
    pub recall: f64,
    /// How many held-out examples were flagged.
    pub flagged: usize,
}

/// One bin of the calibration table: predictions in `[lower, upper)` (the last bin includes 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationBin {
    pub lower: f64,
    pub upper: f64,
    pub count: usize,
    /// Mean predicted probability in the bin; 0 for an empty bin.
    pub mean_predicted: f64,
    /// Share of fraud in the bin; 0 for an empty bin.
    pub observed_fraud_rate: f64,
}

/// What a training run measured on its held-out (newer) part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub roc_auc: f64,
    /// Average precision (area under the precision-recall step curve).
    pub pr_auc: f64,
    pub at_thresholds: Vec<ThresholdMetrics>,
    pub calibration: Vec<CalibrationBin>,
    pub train_examples: usize,
    pub test_examples: usize,
    pub train_fraud: usize,
    pub test_fraud: usize,
    /// The time of the first held-out example: training saw only examples before it.
    pub split_at: DateTime<Utc>,
}

/// How many bins [`calibration`] reports.
pub const CALIBRATION_BINS: usize = 10;

/// Scores sorted by descending probability (NaN treated as 0), grouped into runs of equal
/// probability, each run as `(fraud in run, legit in run)`.
fn runs(scored: &[(f64, bool)]) -> Vec<(usize, usize)> {
    let mut sorted: Vec<(f64, bool)> = scored
        .iter()
        .map(|&(p, y)| (if p.is_nan() { 0.0 } else { p }, y))
        .collect();
    sorted.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut out: Vec<(usize, usize)> = Vec::new();
    let mut last: Option<f64> = None;
    for (p, fraud) in sorted {
        if last != Some(p) {
            out.push((0, 0));
            last = Some(p);
        }
        if let Some(run) = out.last_mut() {
            if fraud {
                run.0 += 1;
            } else {
                run.1 += 1;
            }
        }
    }
    out
}

fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// Area under the ROC curve: the probability that a random fraud example scores above a
/// random legit one, ties counting half. 0.5 when either class is absent.
pub fn roc_auc(scored: &[(f64, bool)]) -> f64 {
    let runs = runs(scored);
    let pos: usize = runs.iter().map(|r| r.0).sum();
    let neg: usize = runs.iter().map(|r| r.1).sum();
    if pos == 0 || neg == 0 {
        return 0.5;
    }
    // Walking from the highest score down: each legit example is outranked by every fraud
    // example seen in earlier runs and ties with half of those in its own run.
    let mut fraud_above = 0.0;
    let mut fraud_wins = 0.0;
    for &(f, l) in &runs {
        fraud_wins += l as f64 * (fraud_above + 0.5 * f as f64);
        fraud_above += f as f64;
    }
    fraud_wins / (pos as f64 * neg as f64)
}

/// Average precision: the sum over thresholds (each distinct score, descending) of the
/// precision there times the recall gained there. 0 when there is no fraud.
pub fn average_precision(scored: &[(f64, bool)]) -> f64 {
    let runs = runs(scored);
    let pos: usize = runs.iter().map(|r| r.0).sum();
    if pos == 0 {
        return 0.0;
    }
    let (mut tp, mut flagged, mut ap) = (0usize, 0usize, 0.0);
    for &(f, l) in &runs {
        tp += f;
        flagged += f + l;
        ap += ratio(f, pos) * ratio(tp, flagged);
    }
    ap
}

/// Precision, recall and flagged count at one threshold (`probability >= threshold`).
pub fn at_threshold(scored: &[(f64, bool)], threshold: f64) -> ThresholdMetrics {
    let pos = scored.iter().filter(|s| s.1).count();
    let flagged = scored.iter().filter(|s| s.0 >= threshold).count();
    let tp = scored.iter().filter(|s| s.1 && s.0 >= threshold).count();
    ThresholdMetrics {
        threshold,
        precision: ratio(tp, flagged),
        recall: ratio(tp, pos),
        flagged,
    }
}

/// The calibration table: [`CALIBRATION_BINS`] equal-width probability bins.
pub fn calibration(scored: &[(f64, bool)]) -> Vec<CalibrationBin> {
    let mut count = [0usize; CALIBRATION_BINS];
    let mut fraud = [0usize; CALIBRATION_BINS];
    let mut sum = [0.0f64; CALIBRATION_BINS];
    for &(p, y) in scored {
        let p = if p.is_nan() { 0.0 } else { p.clamp(0.0, 1.0) };
        // Truncation is the binning; the clamp keeps p = 1 in the last bin.
        let bin = ((p * CALIBRATION_BINS as f64) as usize).min(CALIBRATION_BINS - 1);
        count[bin] += 1;
        fraud[bin] += usize::from(y);
        sum[bin] += p;
    }
    (0..CALIBRATION_BINS)
        .map(|i| CalibrationBin {
            lower: i as f64 / CALIBRATION_BINS as f64,
            upper: (i + 1) as f64 / CALIBRATION_BINS as f64,
            count: count[i],
            mean_predicted: if count[i] == 0 {
                0.0
            } else {
                sum[i] / count[i] as f64
            },
            observed_fraud_rate: ratio(fraud[i], count[i]),
        })
        .collect()
}

#[cfg(test)]
mod tests;
