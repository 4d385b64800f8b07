//! The artifact survives JSON, and a feature list from another build is refused.

mod support;

use arbiter_models::{ModelArtifact, ModelError, Scorer, TrainConfig, train};

fn artifact() -> ModelArtifact {
    train(support::stream(1500, 3, false), &TrainConfig::default()).expect("trains")
}

#[test]
fn round_trips_through_json() {
    let art = artifact();
    let back = ModelArtifact::from_json(&art.to_json()).unwrap();
    assert_eq!(back, art);
    let ctx = support::context(700.0, 1, true);
    let (a, b) = (
        Scorer::new(1, &art).unwrap(),
        Scorer::new(1, &back).unwrap(),
    );
    use arbiter_engine::stages::ModelStage;
    assert_eq!(a.probability(&ctx), b.probability(&ctx));
}

#[test]
fn another_feature_list_is_a_feature_mismatch() {
    let mut art = artifact();
    art.feature_names.swap(0, 1);
    let err = ModelArtifact::from_json(&art.to_json()).unwrap_err();
    assert_eq!(
        err,
        ModelError::FeatureMismatch {
            artifact: art.feature_names.len(),
            expected: arbiter_models::FEATURE_COUNT,
            detail: "position 0: artifact has `amount_missing`, this build has `amount_log1p`"
                .into()
        }
    );
    assert!(matches!(
        Scorer::new(1, &art),
        Err(ModelError::FeatureMismatch { .. })
    ));

    let mut art = artifact();
    art.feature_names.push("tomorrows_feature".into());
    match ModelArtifact::from_json(&art.to_json()) {
        Err(ModelError::FeatureMismatch {
            artifact, detail, ..
        }) => {
            assert_eq!(artifact, arbiter_models::FEATURE_COUNT + 1);
            assert!(detail.contains("has 50 features"), "{detail}");
        }
        other => panic!("expected a feature mismatch, got {other:?}"),
    }
}

#[test]
fn malformed_artifacts_are_refused() {
    assert!(matches!(
        ModelArtifact::from_json("{\"learner\": 1}"),
        Err(ModelError::Artifact(_))
    ));
    let mut art = artifact();
    art.stds[4] = 0.0;
    assert!(matches!(
        ModelArtifact::from_json(&art.to_json()),
        Err(ModelError::Artifact(m)) if m.contains("velocity_user_count_1h_log1p")
    ));
    let mut art = artifact();
    art.coefficients.pop();
    assert!(matches!(
        ModelArtifact::from_json(&art.to_json()),
        Err(ModelError::Artifact(_))
    ));
}
