//! Properties of the scorer over arbitrary feature vectors.

mod support;

use std::sync::OnceLock;

use arbiter_models::{FEATURE_COUNT, FeatureVector, ModelArtifact, Scorer, TrainConfig, train};
use proptest::prelude::*;

fn artifact() -> &'static ModelArtifact {
    static ART: OnceLock<ModelArtifact> = OnceLock::new();
    ART.get_or_init(|| {
        train(support::stream(1500, 5, false), &TrainConfig::default()).expect("trains")
    })
}

fn scorer() -> Scorer {
    Scorer::new(1, artifact()).expect("loads")
}

fn vector(range: std::ops::RangeInclusive<f64>) -> impl Strategy<Value = FeatureVector> {
    proptest::collection::vec(range, FEATURE_COUNT).prop_map(|v| std::array::from_fn(|i| v[i]))
}

proptest! {
    #[test]
    fn probability_is_a_finite_probability(x in vector(-f64::MAX..=f64::MAX)) {
        let p = scorer().probability_of(&x);
        prop_assert!(p.is_finite() && (0.0..=1.0).contains(&p), "p = {p}");
    }

    #[test]
    fn monotone_in_every_positive_weight(
        x in vector(-1e6..=1e6),
        step in 0.0..1e3f64,
    ) {
        let s = scorer();
        let positive: Vec<usize> = (0..FEATURE_COUNT).filter(|&i| s.weights()[i] > 0.0).collect();
        prop_assert!(!positive.is_empty());
        for i in positive {
            let mut y = x;
            y[i] += step;
            prop_assert!(s.probability_of(&y) >= s.probability_of(&x), "feature {i}");
        }
    }
}

#[test]
fn monotonicity_is_strict_where_the_sigmoid_is_not_saturated() {
    let s = scorer();
    let i = (0..FEATURE_COUNT)
        .max_by(|&a, &b| s.weights()[a].total_cmp(&s.weights()[b]))
        .unwrap();
    let x = [0.0; FEATURE_COUNT];
    let mut y = x;
    y[i] += 0.1;
    assert!(s.probability_of(&y) > s.probability_of(&x));
}
