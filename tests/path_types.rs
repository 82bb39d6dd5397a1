//! Paths through array elements (issue 16 items 9 and 10): a source path is
//! typed step by step, its leaf's type is the last step's (an array of it
//! when gathered through `[]`), and its presence combines every step's.
//!
//! The laws, over generated paths at the end of this file:
//! * a path whose every step is required (and not nullable) is required;
//! * one optional step makes it may-be-missing;
//! * the leaf type is the last step's type, wrapped in an array per `[]`.

mod common;

use common::{temp, tether};
use proptest::prelude::*;
use std::path::Path;
use tether::compile::compile_source;
use tether::exec::{Outcome, map_record};
use tether::plan;
use tether::syntax::Direction;

/// The schemas of tests/data/paths, under the namespace `a`.
const TSCHEMA: &str = "import schema a from \"orders.tschema\"\n";
/// The same as an OpenAPI document.
const OPENAPI: &str = "import schema a from \"orders.yaml\"\n";

/// Compiles `a.Order -> b.Out` with `rules`, `Out` declared by `fields`:
/// the errors as "CODE message" lines, or nothing.
fn errors(import: &str, fields: &str, rules: &str) -> Vec<String> {
    let c = compile(import, fields, rules);
    c.diagnostics
        .iter()
        .filter(|d| d.severity == tether::diag::Severity::Error)
        .map(|d| format!("{} {}", d.code.as_str(), d.message))
        .collect()
}

fn compile(import: &str, fields: &str, rules: &str) -> tether::compile::Compiled {
    let text = format!(
        "{import}schema b {{\n  record Out {{ Id: string, {fields} }}\n}}\nmapping m: a.Order -> b.Out {{\n  key id -> Id\n{rules}\n}}\n"
    );
    compile_source("m.tether", &text, Some(Path::new("tests/data/paths")))
}

/// Runs the mapping on `record`: the output, or each error's code and path.
fn run(import: &str, fields: &str, rules: &str, record: &str) -> Result<String, Vec<String>> {
    let c = compile(import, fields, rules);
    let program = c
        .program
        .unwrap_or_else(|| panic!("compiles: {:?}", c.diagnostics));
    let plan = plan::lower(&program, "m", Direction::Forward).expect("plan");
    match map_record(&plan, record) {
        Outcome::Mapped(out) => Ok(out),
        Outcome::Rejected { errors, .. } => Err(errors
            .iter()
            .map(|e| format!("{} {}", e.code.as_str(), e.path))
            .collect()),
    }
}

/// Two units, the second without its amount; two refunds.
const ORDER: &str = r#"{"id":"o1","units":[{"reference_id":"u1","amount":{"value":5,"currency_code":"EUR"}},{"reference_id":"u2"}],"refunds":{"data":[{"id":"r1"},{"id":"r2"}]}}"#;

// ------------------------------------------- item 9: the leaf, not the record

#[test]
fn a_gathered_path_through_an_optional_record_is_typed_as_its_leaf() {
    for import in [TSCHEMA, OPENAPI] {
        // Before: `[a.Amount] (may be missing)`, an E0201 into any `[int]`.
        assert_eq!(
            errors(
                import,
                "Values?: [int?]",
                "  units[].amount.value -> Values"
            ),
            Vec::<String>::new()
        );
        // The type said in a mismatch is the leaf's, its elements nullable.
        assert_eq!(
            errors(
                import,
                "Values?: [string?]",
                "  units[].amount.value -> Values"
            ),
            vec![
                "E0201 type mismatch: the target is `[string?]`, the rule produces `[int?]`"
                    .to_string()
            ]
        );
        // A unit without an amount is a null element, in its place.
        assert_eq!(
            run(
                import,
                "Values?: [int?]",
                "  units[].amount.value -> Values",
                ORDER
            ),
            Ok(r#"{"Id":"o1","Values":[5,null]}"#.to_string())
        );
    }
}

#[test]
fn a_gathered_leaf_that_may_be_missing_cannot_fill_non_nullable_elements() {
    // The run time would write `[5,null]` into `[int]`.
    assert_eq!(
        errors(
            TSCHEMA,
            "Values?: [int]",
            "  units[].amount.value -> Values"
        ),
        vec![
            "E0204 the elements of `[int]` may not be null, but the rule can give null elements"
                .to_string()
        ]
    );
    // A nullable leaf alike; a required one fits.
    assert_eq!(
        errors(TSCHEMA, "Notes?: [string]", "  units[].note -> Notes"),
        vec![
            "E0204 the elements of `[string]` may not be null, but the rule can give null elements"
                .to_string()
        ]
    );
    assert_eq!(
        run(
            TSCHEMA,
            "Refs: [string]",
            "  units[].reference_id -> Refs",
            ORDER
        ),
        Ok(r#"{"Id":"o1","Refs":["u1","u2"]}"#.to_string())
    );
}

#[test]
fn an_element_wise_path_through_an_optional_record_is_typed_as_its_leaf() {
    // Before: the element was typed `a.Amount`, and `default(0)` did not fit it.
    assert_eq!(
        errors(
            TSCHEMA,
            "Values?: [int]",
            "  units[].amount.value -> Values[] : default(0)"
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        errors(
            TSCHEMA,
            "Values?: [int]",
            "  units[].amount.value -> Values[]"
        ),
        vec!["E0204 this required field may end up missing".to_string()]
    );
    assert_eq!(
        run(
            TSCHEMA,
            "Values?: [int]",
            "  units[].amount.value -> Values[] : default(0)",
            ORDER
        ),
        Ok(r#"{"Id":"o1","Values":[5,0]}"#.to_string())
    );
}

// ------------------------------------------- item 10: required all the way

#[test]
fn a_gathered_path_of_required_steps_is_required() {
    for import in [TSCHEMA, OPENAPI] {
        // Before: E0204 "may end up missing" whatever the steps said.
        assert_eq!(
            errors(import, "N: int", "  refunds.data[].id -> N : length"),
            Vec::<String>::new()
        );
        assert_eq!(
            run(import, "N: int", "  refunds.data[].id -> N : length", ORDER),
            Ok(r#"{"Id":"o1","N":2}"#.to_string())
        );
    }
}

#[test]
fn a_gathered_path_through_an_optional_or_nullable_step_may_be_missing() {
    assert_eq!(
        errors(TSCHEMA, "N: int", "  returns.data[].id -> N : length"),
        vec!["E0204 this required field may end up missing".to_string()]
    );
    // Under a null list there is no `data`: missing, not null.
    assert_eq!(
        errors(TSCHEMA, "N: int", "  voids.data[].id -> N : length"),
        vec!["E0204 this required field may end up missing".to_string()]
    );
    assert_eq!(
        errors(TSCHEMA, "N?: int", "  returns.data[].id -> N : length"),
        Vec::<String>::new()
    );
}

#[test]
fn a_required_gathered_path_is_still_checked_on_read() {
    // Required by the schema is what a write carries; a read record that
    // lacks the list is rejected at the path the rule relies on.
    assert_eq!(
        run(
            TSCHEMA,
            "N: int",
            "  refunds.data[].id -> N : length",
            r#"{"id":"o1","units":[]}"#
        ),
        Err(vec!["E1002 refunds".to_string()])
    );
}

// ------------------------------------------- end to end

#[test]
fn check_and_run_take_both_paths_from_the_command_line() {
    let mapping = "tests/data/paths/orders.tether";
    let (code, out, err) = tether(&["check", mapping]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(err.contains("0 errors, 0 warnings"), "{out}{err}");
    let input = temp("path_types", "orders.ndjson", &format!("{ORDER}\n"));
    let (code, out, err) = tether(&[
        "run",
        mapping,
        "--mapping",
        "summary",
        "--input",
        &input,
        "--output",
        "-",
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "{\"Id\":\"o1\",\"Values\":[5,null],\"Refunds\":2}\n");
}

// ------------------------------------------- laws over generated paths

/// One step of a generated path: a field of the next record (or, last, the
/// leaf `int`), maybe optional, maybe nullable, maybe the array iterated.
#[derive(Clone, Debug)]
struct Step {
    optional: bool,
    nullable: bool,
}

/// A schema `a` of records `R0 .. Rn` chained by fields `f0 .. fn`, the
/// field `f{at}` an array of the next record (or of ints) when `at` is
/// given, and the path `f0.f1...` through them with `[]` there.
fn chain(steps: &[Step], at: Option<usize>) -> (String, String) {
    let mut schema = String::from("schema a {\n");
    let last = steps.len() - 1;
    for (i, s) in steps.iter().enumerate() {
        let inner = if i == last {
            "int".to_string()
        } else {
            format!("R{}", i + 1)
        };
        let ty = if at == Some(i) {
            format!("[{inner}]")
        } else {
            inner
        };
        schema.push_str(&format!(
            "  record R{i} {{ f{i}{}: {ty}{} }}\n",
            if s.optional { "?" } else { "" },
            if s.nullable { "?" } else { "" },
        ));
    }
    schema.push_str("}\n");
    let path = (0..steps.len())
        .map(|i| {
            if at == Some(i) {
                format!("f{i}[]")
            } else {
                format!("f{i}")
            }
        })
        .collect::<Vec<_>>()
        .join(".");
    (schema, path)
}

fn generated(steps: &[Step], at: Option<usize>, target: &str, rule: &str) -> Vec<String> {
    let (schema, path) = chain(steps, at);
    let text = format!(
        "{schema}schema b {{\n  record Out {{ {target} }}\n}}\nmapping m: a.R0 -> b.Out {{\n  {}\n}}\n",
        rule.replace("PATH", &path)
    );
    compile_source("m.tether", &text, None)
        .diagnostics
        .iter()
        .filter(|d| d.severity == tether::diag::Severity::Error)
        .map(|d| format!("{} {}", d.code.as_str(), d.message))
        .collect()
}

fn steps() -> impl Strategy<Value = (Vec<Step>, Option<usize>)> {
    prop::collection::vec(
        (any::<bool>(), any::<bool>()).prop_map(|(optional, nullable)| Step { optional, nullable }),
        1..5,
    )
    .prop_flat_map(|steps| {
        let n = steps.len();
        (Just(steps), prop::option::of(0..n))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Presence: required iff every step is; missing where an optional
    /// step, or a nullable one before the last, is on the way (before the
    /// `[]` for the gathered array, after it for its elements); null only
    /// where the last step (the array's, when gathered) may be.
    #[test]
    fn a_path_is_as_present_as_its_steps_together((steps, at) in steps()) {
        let (outer, inner) = match at {
            Some(k) => steps.split_at(k + 1),
            None => (&steps[..], &steps[..0]),
        };
        let missing = |part: &[Step], ends: bool| part.iter().enumerate().any(|(i, s)| {
            s.optional || (s.nullable && !(ends && i + 1 == part.len()))
        });
        let outer_missing = missing(outer, true);
        let outer_null = outer.last().is_some_and(|s| s.nullable);
        // Past `[]`, the element's own steps (the element itself is never
        // null: `[R]`, not `[R?]`); a missing leaf is a null element.
        let elems_null = inner.iter().any(|s| s.optional || s.nullable);
        let (target, rule) = match at {
            Some(_) => ("V: [int]", "PATH -> V"),
            None => ("V: int", "PATH -> V"),
        };
        let errs = generated(&steps, at, target, rule);
        let expected: Vec<String> = if outer_missing {
            vec!["E0204 this required field may end up missing".into()]
        } else if outer_null {
            vec!["E0204 this non-nullable field may receive null".into()]
        } else if elems_null {
            vec!["E0204 the elements of `[int]` may not be null, but the rule can give null elements".into()]
        } else {
            Vec::new()
        };
        prop_assert_eq!(errs, expected);
        // Law: all required steps, the path is required.
        if steps.iter().all(|s| !s.optional && !s.nullable) {
            prop_assert!(generated(&steps, at, target, rule).is_empty());
        }
        // Whatever the steps, an optional nullable target of nullable
        // elements takes it.
        let open = if at.is_some() { "V?: [int?]?" } else { "V?: int?" };
        prop_assert_eq!(generated(&steps, at, open, rule), Vec::<String>::new());
    }

    /// The leaf type is the last step's, wrapped in an array per `[]`: a
    /// `string` target says so in its mismatch.
    #[test]
    fn a_path_is_typed_as_its_leaf((steps, at) in steps()) {
        let (target, rule, produced) = match at {
            Some(_) => ("V?: [string?]?", "PATH -> V", "[int"),
            None => ("V?: string?", "PATH -> V", "int"),
        };
        let errs = generated(&steps, at, target, rule);
        prop_assert_eq!(errs.len(), 1);
        let expected_prefix = "E0201 type mismatch";
        prop_assert!(errs[0].starts_with(expected_prefix), "{}", errs[0]);
        let says = format!("the rule produces `{produced}");
        prop_assert!(errs[0].contains(&says), "{}", errs[0]);
    }
}
