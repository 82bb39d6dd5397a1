//! The contact benchmark in process, per record and in one run: tether's
//! plan over the bundled sample (one thread), the hand-written
//! `serde_json::Value` program, and parse + serialise alone. Compiled into
//! tether's bench, the reference has tether's serde_json features
//! (`preserve_order`, `arbitrary_precision`): these are the feature-matched
//! rows. The whole-process comparison, with the reference built alone with
//! serde_json's default features, data generation, memory and the other
//! tools, is `benches/run`. `cargo bench --bench contact`.

#[path = "reference/contact.rs"]
mod reference;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use tether::compile::compile_file;
use tether::exec::{InputFormat, OutputFormat, Runner};
use tether::plan;
use tether::syntax::Direction;

const SAMPLE: &str = "mappings/bench/contacts.ndjson";
const MAPPING: &str = "mappings/bench/contact_bench.tether";

fn contact(c: &mut Criterion) {
    let input = std::fs::read_to_string(SAMPLE).expect("the bundled sample");
    let records = input.lines().count() as u64;
    let compiled = compile_file(std::path::Path::new(MAPPING), &[]).expect("reads the mapping");
    let program = compiled.program.as_ref().expect("the mapping compiles");
    let plan = plan::lower(program, "contact", Direction::Forward).expect("plans");

    let mut group = c.benchmark_group("contact");
    group.throughput(Throughput::Bytes(input.len() as u64));
    group.sample_size(20);
    group.bench_function(format!("tether ({records} records)"), |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(input.len());
            let runner = Runner::new(&plan, &mut out, None, OutputFormat::Ndjson);
            let summary = runner
                .run(&mut input.as_bytes(), InputFormat::Ndjson)
                .expect("runs");
            black_box((summary.written, out.len()))
        })
    });
    group.bench_function(format!("hand-written Value ({records} records)"), |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(input.len());
            for line in input.lines() {
                let v: serde_json::Value = serde_json::from_str(line).expect("JSON");
                let mapped = reference::transform(&v).expect("maps");
                serde_json::to_writer(&mut out, &mapped).expect("writes");
                out.push(b'\n');
            }
            black_box(out.len())
        })
    });
    group.bench_function(format!("parse + serialise only ({records} records)"), |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(input.len());
            for line in input.lines() {
                let v: serde_json::Value = serde_json::from_str(line).expect("JSON");
                serde_json::to_writer(&mut out, &v).expect("writes");
                out.push(b'\n');
            }
            black_box(out.len())
        })
    });
    group.finish();
}

criterion_group!(benches, contact);
criterion_main!(benches);
