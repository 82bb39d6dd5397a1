//! How long checking and compiling a large mapping takes: 5,000 rules over
//! schemas of 5,000 fields (the goal: well under a second; no quadratic
//! pass). `cargo bench --bench compile`.

#[path = "support.rs"]
mod support;

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn compile(c: &mut Criterion) {
    let mut group = c.benchmark_group("compile");
    group.sample_size(10);
    for n in [1000, 5000] {
        let src = support::generated(n);
        group.bench_function(format!("check+plan {n} rules"), |b| {
            b.iter(|| black_box(support::plan_source(black_box(&src), "big").is_ok()))
        });
    }
    group.finish();
}

criterion_group!(benches, compile);
criterion_main!(benches);
