//! `tether test`: runs the `test` blocks of a file through the same plan and
//! executor as `tether run`, and explains failures with a diff.

use crate::check::{Expected, Program, TestCase};
use crate::diag::SourceMap;
use crate::exec::{Outcome, map_document};
use crate::laws;
use crate::plan;

pub struct TestResult {
    pub name: String,
    pub mapping: String,
    /// `file:line:col` of the test.
    pub location: String,
    /// `None` when it passed; otherwise what went wrong, ready to print.
    pub failure: Option<String>,
}

/// The `test` blocks, then the lens laws of every mapping with `<->` rules
/// (so an analyst's own bidirectional mapping is law-checked in CI).
pub fn run_tests(sources: &SourceMap, program: &Program) -> Vec<TestResult> {
    let mut results: Vec<TestResult> = program
        .tests
        .iter()
        .map(|t| run_one(sources, program, t))
        .collect();
    for m in program
        .mappings
        .iter()
        .filter(|m| laws::is_bidirectional(m))
    {
        for law in laws::check(program, m, laws::CASES) {
            results.push(TestResult {
                name: format!("law {} ({} records)", law.law, laws::CASES),
                mapping: law.mapping,
                location: sources.location(m.file, m.span),
                failure: law.failure,
            });
        }
    }
    results
}

fn run_one(sources: &SourceMap, program: &Program, t: &TestCase) -> TestResult {
    let mapping = &program.mappings[t.mapping];
    let failure = match plan::lower(program, &mapping.name, t.direction) {
        Err(e) => Some(e.to_string()),
        Ok(p) => compare_all(&t.expect, map_document(&p, &t.given)),
    };
    TestResult {
        name: t.name.clone(),
        mapping: mapping.name.clone(),
        location: sources.location(t.file, t.span),
        failure,
    }
}

/// The expected records against the produced ones, in order (a `for`
/// mapping produces one per element). Counts that differ are said first;
/// then each record that does not match, numbered when there are several.
fn compare_all(expected: &[Expected], produced: Vec<Outcome>) -> Option<String> {
    let total = expected.len().max(produced.len());
    let mut report = String::new();
    if expected.len() != produced.len() {
        let got = match produced.len() {
            0 => "none".to_string(),
            n => n.to_string(),
        };
        report.push_str(&format!(
            "expected {} record{}, the mapping produced {got}\n",
            expected.len(),
            if expected.len() == 1 { "" } else { "s" }
        ));
    }
    // "record 2 of 3: " when there are several; nothing when one.
    let numbered = |i: usize, sep: &str| match total {
        1 => String::new(),
        _ => format!("record {} of {total}:{sep}", i + 1),
    };
    let mut produced = produced.into_iter();
    for i in 0..total {
        let failure = match (expected.get(i), produced.next()) {
            (Some(want), Some(got)) => compare(want, got).map(|f| numbered(i, "\n") + &f),
            (Some(want), None) => Some(format!(
                "{}expected, but not produced:\n{}",
                numbered(i, " "),
                expected_text(want)
            )),
            (None, Some(got)) => Some(format!(
                "{}produced, but not expected:\n{}",
                numbered(i, " "),
                outcome_text(&got)
            )),
            (None, None) => None,
        };
        report.extend(failure);
    }
    (!report.is_empty()).then_some(report)
}

/// An expectation, for a record that was not produced.
fn expected_text(e: &Expected) -> String {
    match e {
        Expected::Record(want) => format!("{}\n", pretty(&parse(want))),
        Expected::Reject(pairs) => {
            let members: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}: {v:?}")).collect();
            format!("a reject {{ {} }}\n", members.join(", "))
        }
    }
}

/// An outcome nobody expected.
fn outcome_text(o: &Outcome) -> String {
    match o {
        Outcome::Mapped(got) => format!("{}\n", pretty(&parse(got))),
        Outcome::Rejected { errors, .. } => {
            let mut s = String::from("a reject:\n");
            for e in errors {
                s.push_str(&format!("  {} at `{}`: {}\n", e.code, e.path, e.message));
            }
            s
        }
    }
}

fn compare(expected: &Expected, outcome: Outcome) -> Option<String> {
    match (expected, outcome) {
        (Expected::Record(want), Outcome::Mapped(got)) => {
            let (want_v, got_v) = (parse(want), parse(&got));
            if want_v == got_v {
                None
            } else {
                Some(diff(&pretty(&want_v), &pretty(&got_v)))
            }
        }
        (Expected::Record(_), Outcome::Rejected { errors, .. }) => {
            let mut s = String::from("expected a record, but the record was rejected:\n");
            for e in errors {
                s.push_str(&format!(
                    "  {} at `{}` (rule {}): {}\n",
                    e.code, e.path, e.rule, e.message
                ));
            }
            Some(s)
        }
        (Expected::Reject(_), Outcome::Mapped(got)) => Some(format!(
            "expected a reject, but the record was mapped to:\n  {got}\n"
        )),
        (Expected::Reject(want), Outcome::Rejected { errors, .. }) => {
            let matches = |e: &crate::exec::RecordError| {
                want.iter().all(|(k, v)| match k.as_str() {
                    "code" => e.code.as_str() == v,
                    "path" => &e.path == v,
                    "rule" => &e.rule == v,
                    "message" => e.message.contains(v.as_str()),
                    "value" => &e.value == v,
                    _ => false,
                })
            };
            if errors.iter().any(matches) {
                None
            } else {
                let mut s = String::from(
                    "the record was rejected, but no error matches the expectation; errors:\n",
                );
                for e in &errors {
                    s.push_str(&format!("  {} at `{}`: {}\n", e.code, e.path, e.message));
                }
                Some(s)
            }
        }
    }
}

/// Parses JSON keeping numbers as written (`1.50` is not `1.5`): the
/// comparison is exact, and objects compare regardless of member order.
fn parse(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or(serde_json::Value::String(text.to_string()))
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// A line diff, `-` expected, `+` actual.
pub fn diff(expected: &str, actual: &str) -> String {
    let mut out = String::from("--- expected\n+++ actual\n");
    let d = similar::TextDiff::from_lines(expected, actual);
    for change in d.iter_all_changes() {
        let sign = match change.tag() {
            similar::ChangeTag::Delete => '-',
            similar::ChangeTag::Insert => '+',
            similar::ChangeTag::Equal => ' ',
        };
        out.push(sign);
        out.push_str(change.value());
        if !change.value().ends_with('\n') {
            out.push('\n');
        }
    }
    out
}
