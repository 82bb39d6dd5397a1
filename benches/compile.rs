//! How long checking and compiling a large mapping takes: 5,000 rules over
//! schemas of 5,000 fields (the goal: well under a second; no quadratic
//! pass). `cargo bench --bench compile`.

#[path = "generated.rs"]
mod generated;

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use tether::compile::compile_source;
use tether::plan;
use tether::syntax::Direction;

fn compile(c: &mut Criterion) {
    let mut group = c.benchmark_group("compile");
    group.sample_size(10);
    for n in [1000, 5000] {
        let src = generated::generated(n);
        group.bench_function(format!("check+plan {n} rules"), |b| {
            b.iter(|| {
                let compiled = compile_source("big.tether", black_box(&src), None);
                let program = compiled.program.as_ref().expect("compiles");
                black_box(plan::lower(program, "big", Direction::Forward).is_ok())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, compile);
criterion_main!(benches);
