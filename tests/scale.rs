//! A mapping of 5,000 rules over schemas of 5,000 fields checks, compiles
//! and runs (the time it takes is measured by `benches/compile.rs`, never
//! asserted here).

use tether::compile::compile_source;
use tether::exec::{Outcome, map_record};
use tether::plan;
use tether::syntax::Direction;

#[path = "../benches/generated.rs"]
mod generated;
use generated::generated;

#[test]
fn five_thousand_rules_check_compile_and_run() {
    let src = generated(5000);
    let c = compile_source("big.tether", &src, None);
    let errors: Vec<_> = c
        .diagnostics
        .iter()
        .filter(|d| d.code.as_str().starts_with('E'))
        .map(|d| d.message.clone())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let program = c.program.as_ref().expect("a program");
    let p = plan::lower(program, "big", Direction::Forward).expect("a plan");
    let Outcome::Mapped(out) = map_record(
        &p,
        r#"{"f1":" a ","f4999":"z","f7":"x","nested":{"n4990":" q"}}"#,
    ) else {
        panic!("rejected");
    };
    assert_eq!(out, r#"{"g1":"A","g7":"X","g4990":"Q","g4999":"Z"}"#);
}
