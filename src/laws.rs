//! The lens laws of a bidirectional mapping, checked with proptest on
//! records generated from the schemas (docs/design/04-directionality.md).
//!
//! Only the fields `<->` rules cover are the law's business: a `->`/`<-`
//! pair is the analyst's own way back (`trim | lower` one way, as is the
//! other), lossy on purpose.

use crate::check::inverse::table_losses;
use crate::check::{DRule, Mapping, Program, Source, TArg, TStep};
use crate::exec::{Bases, Outcome, Value, map_record};
use crate::plan::{self, Plan};
use crate::schema::{Kind, RecordId, Registry, Type};
use crate::stdlib::{self, Args, sig::SigTy};
use crate::syntax::{Direction, Span};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use serde_json::{Map, Value as Json};
use std::collections::HashMap;

/// Records tried per law.
pub const CASES: u32 = 64;

/// One law of one mapping: held, or the smallest counterexample.
pub struct LawResult {
    pub mapping: String,
    pub law: &'static str,
    pub failure: Option<String>,
}

/// A path into a record; `"[]"` steps into every element of an array.
type Path = Vec<String>;

/// Whether `m` has rules the laws cover.
pub fn is_bidirectional(m: &Mapping) -> bool {
    m.directions.len() == 2 && m.forward.iter().any(|r| origin_of(r).two_way)
}

/// Checks GetPut, the round trip from the left, and PutGet for `m`.
pub fn check(program: &Program, m: &Mapping, cases: u32) -> Vec<LawResult> {
    let result = |law, failure| LawResult {
        mapping: m.name.clone(),
        law,
        failure,
    };
    let (fwd, rev) = match (
        plan::lower(program, &m.name, Direction::Forward),
        plan::lower(program, &m.name, Direction::Reverse),
    ) {
        (Ok(f), Ok(r)) => (f, r),
        (Err(e), _) | (_, Err(e)) => return vec![result("plans", Some(e.to_string()))],
    };
    let laws = Laws::new(program, m);
    let left = laws.record(&program.registry, m.left, true, &mut Vec::new(), 0);
    let right = laws.record(&program.registry, m.right, false, &mut Vec::new(), 0);
    vec![
        result(
            "GetPut: put(get(a), a) = a",
            run(cases, left.clone(), |a| laws.get_put(&fwd, &rev, a)),
        ),
        result(
            "round trip: back(get(a)) = a on the covered fields",
            run(cases, left, |a| laws.round_trip_left(&fwd, &rev, a)),
        ),
        result(
            "PutGet: get(back(b)) = b on the covered fields",
            run(cases, right, |b| laws.put_get(&fwd, &rev, b)),
        ),
    ]
}

fn run(
    cases: u32,
    strategy: BoxedStrategy<Json>,
    test: impl Fn(&Json) -> Result<(), TestCaseError>,
) -> Option<String> {
    let config = Config {
        cases,
        failure_persistence: None,
        max_global_rejects: cases * 16,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    match runner.run(&strategy, |v| test(&v)) {
        Ok(()) => None,
        Err(TestError::Fail(why, record)) => Some(format!("{why}\n  record: {record}")),
        Err(TestError::Abort(why)) => Some(format!(
            "could not generate records both directions accept ({why}): the mapping rejects almost every record its schema allows"
        )),
    }
}

/// What the rules say about the paths of each side.
struct Laws<'p> {
    program: &'p Program,
    /// Paths `<->` rules read on the left and write on the right.
    covered_left: Vec<Path>,
    covered_right: Vec<Path>,
    /// Left paths written only by `<-` rules (excluded from GetPut).
    one_way_left: Vec<Path>,
    /// Enum values a table does not bring back, per path.
    excluded: HashMap<(bool, Path), Vec<String>>,
    /// A string a rule parses: generated as the inverse step's output.
    parsed: HashMap<(bool, Path), (SigTy, &'p TStep)>,
}

fn origin_of(r: &DRule) -> &crate::check::RuleOrigin {
    match r {
        DRule::Value(v) => &v.origin,
        DRule::Each(e) => &e.origin,
    }
}

impl<'p> Laws<'p> {
    fn new(program: &'p Program, m: &'p Mapping) -> Laws<'p> {
        let mut laws = Laws {
            program,
            covered_left: Vec::new(),
            covered_right: Vec::new(),
            one_way_left: Vec::new(),
            excluded: HashMap::new(),
            parsed: HashMap::new(),
        };
        // The reverse rules by span, to find a forward rule's way back.
        let mut back: HashMap<Span, &'p DRule> = HashMap::new();
        collect_by_span(&m.reverse, &mut back);
        laws.walk(&m.forward, &[], &[], Direction::Forward, &back);
        let mut fwd: HashMap<Span, &'p DRule> = HashMap::new();
        collect_by_span(&m.forward, &mut fwd);
        laws.walk(&m.reverse, &[], &[], Direction::Reverse, &fwd);
        laws
    }

    /// Records covered paths, one-way targets, table exclusions and parsed
    /// strings of the rules of `dir` (sources in `src`, targets in `tgt`).
    fn walk(
        &mut self,
        rules: &'p [DRule],
        src: &[String],
        tgt: &[String],
        dir: Direction,
        other: &HashMap<Span, &'p DRule>,
    ) {
        let left_is_source = dir == Direction::Forward;
        for r in rules {
            match r {
                DRule::Each(e) => {
                    let s = join(src, &e.source.0, true);
                    let t = join(tgt, &e.target.0, true);
                    self.walk(&e.inner, &s, &t, dir, other);
                }
                DRule::Value(v) => {
                    let sources: Vec<Path> = match &v.source {
                        Source::Path(p) => vec![join(src, &p.0, false)],
                        Source::Tuple(ps) => ps.iter().map(|p| join(src, &p.0, false)).collect(),
                        _ => Vec::new(),
                    };
                    let targets: Vec<Path> = v
                        .targets
                        .iter()
                        .map(|t| join(tgt, &t.path.0, false))
                        .collect();
                    if !v.origin.two_way {
                        if dir == Direction::Reverse {
                            self.one_way_left.extend(targets);
                        }
                        continue;
                    }
                    if dir == Direction::Forward {
                        self.covered_left.extend(sources.iter().cloned());
                        self.covered_right.extend(targets.iter().cloned());
                    }
                    self.table_exclusions(v, &sources, &targets, left_is_source);
                    if let ([source], Some(TStep::Call { transform, .. })) =
                        (sources.as_slice(), v.steps.first())
                        && let Some(def) = stdlib::by_index(*transform)
                        && def.fallible
                        && let Some(DRule::Value(way_back)) = other.get(&v.origin.span)
                        && let Some(last @ TStep::Call { .. }) = way_back.steps.last()
                        && let Some(sig) = def.signatures().first()
                    {
                        self.parsed
                            .insert((left_is_source, source.clone()), (sig.output.clone(), last));
                    }
                }
            }
        }
    }

    /// A table first in the pipeline narrows its source's values, last its
    /// target's, to those that come back.
    fn table_exclusions(
        &mut self,
        v: &crate::check::ValueRule,
        sources: &[Path],
        targets: &[Path],
        left_is_source: bool,
    ) {
        let lost = |table: usize, dir: Direction| -> Vec<String> {
            table_losses(&self.program.tables[table])
                .into_iter()
                .filter(|l| l.dir == dir)
                .filter_map(|l| match l.start {
                    Some(Value::Str(s)) => Some(s.into_owned()),
                    _ => None,
                })
                .collect()
        };
        if let (Some(TStep::Table { table, dir, .. }), [s]) = (v.steps.first(), sources) {
            let values = lost(*table, *dir);
            self.excluded.insert((left_is_source, s.clone()), values);
        }
        if let (Some(TStep::Table { table, dir, .. }), [t]) = (v.steps.last(), targets) {
            let values = lost(*table, flip(*dir));
            self.excluded.insert((!left_is_source, t.clone()), values);
        }
    }

    /// Records of `record` (of the left side when `left`) as JSON, shaped
    /// by the schema and the rules.
    fn record(
        &self,
        reg: &Registry,
        record: RecordId,
        left: bool,
        path: &mut Path,
        depth: usize,
    ) -> BoxedStrategy<Json> {
        let mut fields: Vec<BoxedStrategy<Option<(String, Json)>>> = Vec::new();
        for f in &reg.record(record).fields {
            if depth > 3 && f.optional {
                continue;
            }
            path.push(f.name.clone());
            let value = self.value(reg, &f.ty, left, path, depth);
            path.pop();
            let name = f.name.clone();
            let value = if f.ty.nullable {
                prop_oneof![4 => value, 1 => Just(Json::Null)].boxed()
            } else {
                value
            };
            let member = value.prop_map(move |v| Some((name.clone(), v)));
            fields.push(if f.optional {
                prop_oneof![3 => member, 1 => Just(None)].boxed()
            } else {
                member.boxed()
            });
        }
        fields
            .prop_map(|members| Json::Object(members.into_iter().flatten().collect::<Map<_, _>>()))
            .boxed()
    }

    fn value(
        &self,
        reg: &Registry,
        ty: &Type,
        left: bool,
        path: &mut Path,
        depth: usize,
    ) -> BoxedStrategy<Json> {
        if let Some((output, inverse)) = self.parsed.get(&(left, path.clone())) {
            let typed = scalar(output);
            let inverse = call_parts(inverse);
            let output = output.clone();
            return typed
                .prop_map(move |v| apply_step(&inverse, &output, &v).unwrap_or(Json::Null))
                .boxed();
        }
        match &ty.kind {
            Kind::Enum(e) => {
                let excluded = self.excluded.get(&(left, path.clone()));
                let values: Vec<Json> = reg
                    .enum_def(*e)
                    .values
                    .iter()
                    .filter(|v| !excluded.is_some_and(|x| x.contains(v)))
                    .map(|v| Json::String(v.clone()))
                    .collect();
                if values.is_empty() {
                    Just(Json::Null).boxed()
                } else {
                    proptest::sample::select(values).boxed()
                }
            }
            Kind::Record(r) => self.record(reg, *r, left, path, depth + 1),
            Kind::Array(e) => {
                path.push("[]".into());
                let item = self.value(reg, e, left, path, depth + 1);
                path.pop();
                proptest::collection::vec(item, 0..3)
                    .prop_map(Json::Array)
                    .boxed()
            }
            Kind::Map(e) => {
                let item = self.value(reg, e, left, path, depth + 1);
                proptest::collection::btree_map("[a-z]{1,6}", item, 0..3)
                    .prop_map(|m| Json::Object(m.into_iter().collect()))
                    .boxed()
            }
            Kind::Currency => proptest::sample::select(vec!["EUR", "USD", "KWD", "JPY"])
                .prop_map(|c| Json::String(c.into()))
                .boxed(),
            Kind::Money(c) => {
                let cur = c.map_or("EUR".to_string(), |c| c.to_string());
                decimal()
                    .prop_map(
                        move |d| serde_json::json!({"amount": d.to_string(), "currency": cur}),
                    )
                    .boxed()
            }
            Kind::String => scalar(&SigTy::String),
            Kind::Int => scalar(&SigTy::Int),
            Kind::Decimal => scalar(&SigTy::Decimal),
            Kind::Float => scalar(&SigTy::Float),
            Kind::Bool => scalar(&SigTy::Bool),
            Kind::Date => scalar(&SigTy::Date),
            Kind::DateTime | Kind::AnyDateTime => scalar(&SigTy::DateTime),
            Kind::LocalDateTime => scalar(&SigTy::LocalDateTime),
            Kind::Time => scalar(&SigTy::Time),
            Kind::Any => scalar(&SigTy::String),
        }
    }

    fn get_put(&self, fwd: &Plan, rev: &Plan, a: &Json) -> Result<(), TestCaseError> {
        let b = forward_or_reject(fwd, a)?;
        let back = way_back(rev, &b)?;
        let put = Bases::parse(&a.to_string(), rev)
            .map(|bases| bases.apply(rev, &back))
            .map_err(TestCaseError::fail)?;
        let put: Json =
            serde_json::from_str(&put).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let (want, got) = (
            normalize(remove(a, &self.one_way_left)),
            normalize(remove(&put, &self.one_way_left)),
        );
        same(&want, &got, &format!("forward gave {b}"))
    }

    fn round_trip_left(&self, fwd: &Plan, rev: &Plan, a: &Json) -> Result<(), TestCaseError> {
        there_and_back(fwd, rev, a, &self.covered_left)
    }

    fn put_get(&self, fwd: &Plan, rev: &Plan, b: &Json) -> Result<(), TestCaseError> {
        there_and_back(rev, fwd, b, &self.covered_right)
    }
}

/// `x` mapped with `first`, then back with `second`, is `x` again on the
/// `covered` paths.
fn there_and_back(
    first: &Plan,
    second: &Plan,
    x: &Json,
    covered: &[Path],
) -> Result<(), TestCaseError> {
    let there = forward_or_reject(first, x)?;
    let back: Json = serde_json::from_str(&way_back(second, &there)?)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    same(
        &normalize(project(x, covered)),
        &normalize(project(&back, covered)),
        &format!("the first direction gave {there}"),
    )
}

/// The first direction: a rejected record is outside the lens's domain.
fn forward_or_reject(plan: &Plan, record: &Json) -> Result<String, TestCaseError> {
    match map_record(plan, &record.to_string()) {
        Outcome::Mapped(out) => Ok(out),
        Outcome::Rejected { .. } => Err(TestCaseError::reject("the first direction rejects it")),
    }
}

/// The second direction: a rejection is a broken law.
fn way_back(plan: &Plan, record: &str) -> Result<String, TestCaseError> {
    match map_record(plan, record) {
        Outcome::Mapped(out) => Ok(out),
        Outcome::Rejected { errors, .. } => Err(TestCaseError::fail(format!(
            "{record} does not map back: {}",
            errors
                .iter()
                .map(|e| format!("{} at `{}`: {}", e.code, e.path, e.message))
                .collect::<Vec<_>>()
                .join("; ")
        ))),
    }
}

fn same(want: &Json, got: &Json, context: &str) -> Result<(), TestCaseError> {
    if want == got {
        Ok(())
    } else {
        Err(TestCaseError::fail(format!(
            "expected {want}\n  got      {got}\n  ({context})"
        )))
    }
}

fn flip(d: Direction) -> Direction {
    match d {
        Direction::Forward => Direction::Reverse,
        Direction::Reverse => Direction::Forward,
    }
}

fn join(prefix: &[String], rest: &[String], each: bool) -> Path {
    let mut p: Path = prefix.iter().chain(rest).cloned().collect();
    if each {
        p.push("[]".into());
    }
    p
}

fn collect_by_span<'p>(rules: &'p [DRule], into: &mut HashMap<Span, &'p DRule>) {
    for r in rules {
        into.insert(origin_of(r).span, r);
        if let DRule::Each(e) = r {
            collect_by_span(&e.inner, into);
        }
    }
}

/// Only the members at `paths` (whole values at their ends).
fn project(v: &Json, paths: &[Path]) -> Json {
    if paths.iter().any(|p| p.is_empty()) {
        return v.clone();
    }
    match v {
        Json::Array(items) => {
            let rest: Vec<Path> = paths
                .iter()
                .filter(|p| p[0] == "[]")
                .map(|p| p[1..].to_vec())
                .collect();
            Json::Array(items.iter().map(|i| project(i, &rest)).collect())
        }
        Json::Object(m) => {
            let mut out = Map::new();
            for (k, child) in m {
                let rest: Vec<Path> = paths
                    .iter()
                    .filter(|p| &p[0] == k)
                    .map(|p| p[1..].to_vec())
                    .collect();
                if !rest.is_empty() {
                    out.insert(k.clone(), project(child, &rest));
                }
            }
            Json::Object(out)
        }
        other => other.clone(),
    }
}

/// `v` without the members at `paths`.
fn remove(v: &Json, paths: &[Path]) -> Json {
    match v {
        Json::Array(items) => {
            let rest: Vec<Path> = paths
                .iter()
                .filter(|p| p.first().is_some_and(|s| s == "[]"))
                .map(|p| p[1..].to_vec())
                .collect();
            Json::Array(items.iter().map(|i| remove(i, &rest)).collect())
        }
        Json::Object(m) => {
            let mut out = Map::new();
            for (k, child) in m {
                if paths.iter().any(|p| p.len() == 1 && &p[0] == k) {
                    continue;
                }
                let rest: Vec<Path> = paths
                    .iter()
                    .filter(|p| p.len() > 1 && &p[0] == k)
                    .map(|p| p[1..].to_vec())
                    .collect();
                out.insert(k.clone(), remove(child, &rest));
            }
            Json::Object(out)
        }
        other => other.clone(),
    }
}

/// Numbers compared by value (`1.50` = `1.5`); objects whose members are
/// all gone count as absent.
fn normalize(v: Json) -> Json {
    match v {
        Json::Number(n) => match n.to_string().parse::<rust_decimal::Decimal>() {
            Ok(d) => Json::String(format!("#{}", d.normalize())),
            Err(_) => Json::Number(n),
        },
        Json::Array(items) => Json::Array(items.into_iter().map(normalize).collect()),
        Json::Object(m) => Json::Object(
            m.into_iter()
                .map(|(k, v)| (k, normalize(v)))
                .filter(|(_, v)| !matches!(v, Json::Object(o) if o.is_empty()))
                .collect(),
        ),
        other => other,
    }
}

/// The transform and constant arguments of a call step.
fn call_parts(step: &TStep) -> (usize, Vec<Value<'static>>) {
    match step {
        TStep::Call {
            transform, args, ..
        } => (
            *transform,
            args.iter()
                .map(|a| match a {
                    TArg::Const(v) => v.clone(),
                    TArg::Path(_, or) => or.clone().unwrap_or(Value::Missing),
                })
                .collect(),
        ),
        _ => (usize::MAX, Vec::new()),
    }
}

/// Runs a call step on a generated value of type `ty`; its output as JSON.
fn apply_step(step: &(usize, Vec<Value<'static>>), ty: &SigTy, input: &Json) -> Option<Json> {
    let def = stdlib::by_index(step.0)?;
    let value = typed_value(ty, input)?;
    let refs: Vec<&Value<'_>> = step.1.iter().collect();
    let out = (def.apply)(value, &Args::new(&refs)).ok()?;
    serde_json::from_str(&out.to_json()).ok()
}

/// A generated JSON scalar as the runtime value of type `ty`.
fn typed_value(ty: &SigTy, j: &Json) -> Option<Value<'static>> {
    let text = match j {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    Some(match ty {
        SigTy::Int => Value::Int(text.parse().ok()?),
        SigTy::Decimal => Value::Decimal(text.parse().ok()?),
        SigTy::Float => Value::Float(text.parse().ok()?),
        SigTy::Bool => Value::Bool(text.parse().ok()?),
        SigTy::Date => Value::Date(text.parse().ok()?),
        SigTy::DateTime => Value::DateTime(chrono::DateTime::parse_from_rfc3339(&text).ok()?),
        SigTy::LocalDateTime => Value::LocalDateTime(text.parse().ok()?),
        SigTy::Time => Value::Time(text.parse().ok()?),
        _ => Value::str(text),
    })
}

fn decimal() -> impl Strategy<Value = rust_decimal::Decimal> {
    (-10_000_000_000i64..10_000_000_000, 0u32..5)
        .prop_map(|(m, s)| rust_decimal::Decimal::new(m, s))
}

/// Values of a scalar type as JSON (the text forms the JSON reader takes).
fn scalar(ty: &SigTy) -> BoxedStrategy<Json> {
    let number = |s: String| Json::Number(serde_json::Number::from_string_unchecked(s));
    match ty {
        SigTy::Int => any::<i32>()
            .prop_map(move |i| Json::from(i64::from(i)))
            .boxed(),
        SigTy::Decimal => decimal().prop_map(move |d| number(d.to_string())).boxed(),
        SigTy::Float => (-1.0e6f64..1.0e6).prop_map(Json::from).boxed(),
        SigTy::Bool => any::<bool>().prop_map(Json::Bool).boxed(),
        SigTy::Date => (0i64..40_000)
            .prop_map(|d| {
                let date = chrono::NaiveDate::from_ymd_opt(1970, 1, 1)
                    .and_then(|e| e.checked_add_signed(chrono::Duration::days(d)));
                Json::String(date.map_or_else(String::new, |d| d.to_string()))
            })
            .boxed(),
        SigTy::DateTime => (0i64..4_000_000_000, 0u32..1000, any::<bool>())
            .prop_map(|(s, ms, whole)| {
                let at =
                    chrono::DateTime::from_timestamp(s, if whole { 0 } else { ms * 1_000_000 });
                Json::String(at.map_or_else(String::new, |t| {
                    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
                }))
            })
            .boxed(),
        SigTy::LocalDateTime => (0i64..4_000_000_000)
            .prop_map(|s| {
                let at = chrono::DateTime::from_timestamp(s, 0).map(|t| t.naive_utc());
                Json::String(
                    at.map_or_else(String::new, |t| t.format("%Y-%m-%dT%H:%M:%S").to_string()),
                )
            })
            .boxed(),
        SigTy::Time => (0u32..86_400)
            .prop_map(|s| {
                let t = chrono::NaiveTime::from_num_seconds_from_midnight_opt(s, 0);
                Json::String(t.map_or_else(String::new, |t| t.format("%H:%M:%S").to_string()))
            })
            .boxed(),
        _ => "[a-zA-Z0-9 <>&'\"é@._-]{0,12}"
            .prop_map(Json::String)
            .boxed(),
    }
}
