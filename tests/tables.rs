//! Value tables at run time: a `null` key maps a null value (both ways for
//! `<->` entries); a missing value stays missing; without a `null` key a
//! null passes through, never to the `else`.

use tether::compile::compile_source;
use tether::exec::{Outcome, map_record};
use tether::plan;
use tether::syntax::Direction;

const SRC: &str = r#"
schema s {
  record L { s?: St?, t?: St? }
  record R { S?: string, T?: string? }
  enum St { "a", "b" }
}
table named {
  "a" <-> "A"
  "b" <-> "B"
  null <-> "none"
}
table plain {
  "a" -> "A"
  else -> "Z"
}
mapping m: s.L <-> s.R {
  s <-> S : named
  t -> T : plain
}
"#;

fn run(dir: Direction, input: &str) -> String {
    let c = compile_source("t.tether", SRC, None);
    let program = c.program.as_ref().unwrap_or_else(|| {
        panic!(
            "does not compile: {:?}",
            c.diagnostics.iter().map(|d| &d.message).collect::<Vec<_>>()
        )
    });
    let p = plan::lower(program, "m", dir).unwrap_or_else(|_| panic!("no plan"));
    match map_record(&p, input) {
        Outcome::Mapped(out) => out,
        Outcome::Rejected { errors, .. } => panic!("rejected: {}", errors[0].message),
    }
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).expect("json")
}

#[test]
fn a_null_key_maps_null_and_missing_stays_missing() {
    assert_eq!(
        json(&run(Direction::Forward, r#"{"s": null}"#)),
        json(r#"{"S": "none"}"#)
    );
    assert_eq!(json(&run(Direction::Forward, r#"{}"#)), json("{}"));
    assert_eq!(
        json(&run(Direction::Forward, r#"{"s": "b"}"#)),
        json(r#"{"S": "B"}"#)
    );
}

#[test]
fn a_two_way_null_entry_maps_back_to_null() {
    assert_eq!(
        json(&run(Direction::Reverse, r#"{"S": "none"}"#)),
        json(r#"{"s": null}"#)
    );
    assert_eq!(
        json(&run(Direction::Reverse, r#"{"S": "A"}"#)),
        json(r#"{"s": "a"}"#)
    );
}

#[test]
fn without_a_null_key_null_passes_through_and_not_to_else() {
    assert_eq!(
        json(&run(Direction::Forward, r#"{"t": null}"#)),
        json(r#"{"T": null}"#)
    );
}
