//! Every example in the stdlib definitions runs as a test, through the real
//! compiler and executor: a one-rule mapping per example.

use tether::compile::compile_source;
use tether::exec::{Outcome, map_record};
use tether::plan;
use tether::stdlib::{self, sig::SigInput};
use tether::syntax::Direction;

/// The schema type of a JSON example value.
fn type_of(json: &str) -> &'static str {
    let v: serde_json::Value = serde_json::from_str(json).unwrap_or(serde_json::Value::Null);
    match v {
        serde_json::Value::String(_) => "string",
        serde_json::Value::Bool(_) => "bool",
        serde_json::Value::Number(n) if !n.to_string().contains(['.', 'e', 'E']) => "int",
        serde_json::Value::Number(_) => "decimal",
        serde_json::Value::Array(items) => match items.iter().find(|i| !i.is_null()) {
            Some(serde_json::Value::Number(_)) => "[int?]",
            _ => "[string?]",
        },
        _ => "string",
    }
}

#[test]
fn every_stdlib_example_holds() {
    let mut failures = Vec::new();
    for def in stdlib::all() {
        let variadic = def
            .signatures()
            .iter()
            .any(|s| matches!(s.input, SigInput::Variadic { .. }));
        for ex in def.examples {
            let is_missing = ex.input == "missing";
            let mut given = String::from("{");
            let (fields, rule) = if variadic {
                let items: Vec<serde_json::Value> =
                    serde_json::from_str(ex.input).expect("variadic examples are arrays");
                let ty = type_of(
                    &serde_json::to_string(
                        items
                            .iter()
                            .find(|i| !i.is_null())
                            .unwrap_or(&serde_json::Value::Null),
                    )
                    .unwrap(),
                );
                let names: Vec<String> = (0..items.len()).map(|i| format!("v{i}")).collect();
                for (i, it) in items.iter().enumerate() {
                    if i > 0 {
                        given.push(',');
                    }
                    given.push_str(&format!("\"v{i}\":{it}"));
                }
                let fields: String = names.iter().map(|n| format!("{n}?: {ty}?, ")).collect();
                (fields, format!("({}) -> v : {}", names.join(", "), ex.call))
            } else {
                if !is_missing {
                    given.push_str(&format!("\"v\":{}", ex.input));
                }
                (
                    format!(
                        "v?: {}?",
                        ex.input_type.unwrap_or_else(|| type_of(ex.input))
                    ),
                    format!("v -> v : {}", ex.call),
                )
            };
            given.push('}');
            let src = format!(
                "schema s {{ record In {{ {fields} }} record Out {{ v?: any? }} }}\nmapping m: s.In -> s.Out {{ {rule} }}"
            );
            let c = compile_source("example.tether", &src, None);
            let Some(program) = &c.program else {
                failures.push(format!(
                    "{} `{}`: does not compile: {:?}",
                    def.name,
                    ex.call,
                    c.diagnostics.iter().map(|d| &d.message).collect::<Vec<_>>()
                ));
                continue;
            };
            let p = plan::lower(program, "m", Direction::Forward).expect("plan");
            let got = match map_record(&p, &given) {
                Outcome::Mapped(out) => {
                    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
                    v.get("v")
                        .map(|x| x.to_string())
                        .unwrap_or_else(|| "missing".to_string())
                }
                Outcome::Rejected { errors, .. } => format!("error {}", errors[0].code),
            };
            let want = if ex.output.starts_with("error") {
                ex.output.to_string()
            } else {
                serde_json::from_str::<serde_json::Value>(ex.output)
                    .map(|v| v.to_string())
                    .unwrap_or_else(|_| ex.output.to_string())
            };
            if got != want {
                failures.push(format!(
                    "{} `{}` on {}: expected {want}, got {got}",
                    def.name, ex.call, ex.input
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "stdlib examples that do not hold:\n{}",
        failures.join("\n")
    );
}

#[test]
fn generated_docs_are_up_to_date() {
    let stdlib_md = std::fs::read_to_string("docs/stdlib.md").expect("docs/stdlib.md");
    assert!(
        stdlib_md == stdlib::markdown(),
        "docs/stdlib.md is stale: run `cargo run -- stdlib --markdown > docs/stdlib.md`"
    );
    let errors_md = std::fs::read_to_string("docs/errors.md").expect("docs/errors.md");
    assert!(
        errors_md == tether::diag::errors_markdown(),
        "docs/errors.md is stale: run `cargo run -- explain --all-markdown > docs/errors.md`"
    );
}
