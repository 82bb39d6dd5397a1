//! A mapping of 5,000 rules over schemas of 5,000 fields checks, compiles
//! and runs (the time it takes is measured by `benches/compile.rs`, never
//! asserted here).

use tether::exec::{Outcome, map_record};

#[path = "../benches/support.rs"]
mod support;
use support::{generated, plan_source};

#[test]
fn five_thousand_rules_check_compile_and_run() {
    let src = generated(5000);
    let p = plan_source(&src, "big").expect("checks and plans");
    let Outcome::Mapped(out) = map_record(
        &p,
        r#"{"f1":" a ","f4999":"z","f7":"x","nested":{"n4990":" q"}}"#,
    ) else {
        panic!("rejected");
    };
    assert_eq!(out, r#"{"g1":"A","g7":"X","g4990":"Q","g4999":"Z"}"#);
}
