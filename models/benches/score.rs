//! Model costs: `extract` + score for one decision (the per-decision cost the pipeline pays)
//! and training on 10k labelled examples. Run: `cargo bench -p arbiter-models --bench score`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::hint::black_box;

use arbiter_engine::stages::ModelStage;
use arbiter_models::{Scorer, TrainConfig, extract, train};
use criterion::{Criterion, criterion_group, criterion_main};

fn score(c: &mut Criterion) {
    let artifact = train(support::stream(10_000, 1, false), &TrainConfig::default())
        .unwrap_or_else(|e| panic!("training the bench model: {e}"));
    let scorer = Scorer::new(1, &artifact).unwrap_or_else(|e| panic!("loading: {e}"));
    let ctx = support::context(420.0, 2, true);
    c.bench_function("model/extract", |b| b.iter(|| extract(black_box(&ctx))));
    c.bench_function("model/extract_and_score", |b| {
        b.iter(|| scorer.probability(black_box(&ctx)))
    });
}

fn training(c: &mut Criterion) {
    let examples = support::stream(10_000, 1, false);
    let cfg = TrainConfig::default();
    let mut group = c.benchmark_group("model/train");
    group.sample_size(10);
    group.bench_function("10k_examples", |b| {
        b.iter(|| train(black_box(examples.clone()), &cfg))
    });
    group.finish();
}

criterion_group!(benches, score, training);
criterion_main!(benches);
