//! `tether test`: runs the `test` blocks of a file through the same plan and
//! executor as `tether run`, and explains failures with a diff.

use crate::check::{Expected, Program, TestCase};
use crate::diag::SourceMap;
use crate::exec::{Outcome, map_record};
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
        Ok(p) => compare(&t.expect, map_record(&p, &t.given)),
    };
    TestResult {
        name: t.name.clone(),
        mapping: mapping.name.clone(),
        location: sources.location(t.file, t.span),
        failure,
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
