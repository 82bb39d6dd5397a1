//! Every example in the stdlib definitions runs as a test, through the real
//! compiler and executor: a one-rule mapping per example.

use tether::base::Scalar;
use tether::compile::compile_source;
use tether::exec::{Outcome, map_record};
use tether::plan;
use tether::stdlib::{
    self,
    sig::{SigInput, SigTy, Signature},
};
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

/// The signature type an example's input type name stands for (`T` is
/// bound to it).
fn sig_ty_of(name: &str) -> SigTy {
    match name.trim_end_matches('?') {
        array if array.starts_with('[') => {
            SigTy::Array(Box::new(sig_ty_of(array.trim_matches(['[', ']']))))
        }
        // Not an example's type name: kept as `any`, as before.
        "anydatetime" => SigTy::Any,
        other => Scalar::from_name(other).map_or(SigTy::Any, SigTy::Scalar),
    }
}

/// Whether a JSON output is a value of the signature type `ty` (`T` being
/// `input`). Dates and times are written as ISO 8601 text, money as an
/// object of amount and currency.
fn fits(ty: &SigTy, input: &SigTy, v: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    let text = v.as_str().unwrap_or_default();
    match ty {
        SigTy::Scalar(Scalar::String) => v.is_string(),
        SigTy::Scalar(Scalar::Int) => v.is_number() && !v.to_string().contains(['.', 'e', 'E']),
        SigTy::Scalar(Scalar::Decimal) | SigTy::Scalar(Scalar::Float) => v.is_number(),
        SigTy::Scalar(Scalar::Bool) => v.is_boolean(),
        SigTy::Scalar(Scalar::Date) => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok(),
        SigTy::Scalar(Scalar::DateTime) => chrono::DateTime::parse_from_rfc3339(text).is_ok(),
        SigTy::Scalar(Scalar::LocalDateTime) => {
            chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
        }
        SigTy::Scalar(Scalar::AnyDateTime) => {
            fits(&SigTy::Scalar(Scalar::DateTime), input, v)
                || fits(&SigTy::Scalar(Scalar::LocalDateTime), input, v)
        }
        SigTy::Scalar(Scalar::Time) => {
            chrono::NaiveTime::parse_from_str(text, "%H:%M:%S%.f").is_ok()
        }
        SigTy::Scalar(Scalar::Currency) => {
            text.len() == 3 && text.bytes().all(|b| b.is_ascii_uppercase())
        }
        SigTy::Scalar(Scalar::Money) => v.get("amount").is_some() && v.get("currency").is_some(),
        SigTy::Any => true,
        SigTy::AnyScalar => !matches!(v, J::Array(_) | J::Object(_)),
        SigTy::Var => fits(input, &SigTy::Any, v),
        SigTy::Array(e) => v
            .as_array()
            .is_some_and(|items| items.iter().all(|i| i.is_null() || fits(e, input, i))),
    }
}

/// Whether an example's output (`missing`, or JSON) has a kind one of the
/// signatures declares. Null or missing is declared by a nullable output,
/// or passed through from an absent input.
fn declared_kind(sigs: &[Signature], input: &SigTy, absent_input: bool, got: &str) -> bool {
    let value: Option<serde_json::Value> = match got {
        "missing" => None,
        json => serde_json::from_str(json).ok(),
    };
    sigs.iter().any(|s| match &value {
        None | Some(serde_json::Value::Null) => s.output_nullable || absent_input,
        Some(v) => fits(&s.output, input, v),
    })
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
            let mut input_type = ex.input_type.unwrap_or_else(|| type_of(ex.input));
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
                input_type = ty;
                let fields: String = names.iter().map(|n| format!("{n}?: {ty}?, ")).collect();
                (fields, format!("({}) -> v : {}", names.join(", "), ex.call))
            } else {
                if !is_missing {
                    given.push_str(&format!("\"v\":{}", ex.input));
                }
                (
                    format!("v?: {input_type}?"),
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
            let absent_input = matches!(ex.input, "null" | "missing");
            if !got.starts_with("error")
                && !declared_kind(def.signatures(), &sig_ty_of(input_type), absent_input, &got)
            {
                failures.push(format!(
                    "{} `{}` on {}: {got} is not of a kind its signatures declare ({})",
                    def.name,
                    ex.call,
                    ex.input,
                    def.signatures.join("; ")
                ));
            }
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
