//! The lens laws of a bidirectional mapping, checked with proptest on
//! records generated from the schemas (docs/design/04-directionality.md).
//!
//! Only the fields `<->` rules cover are the law's business: a `->`/`<-`
//! pair is the analyst's own way back (`trim | lower` one way, as is the
//! other), lossy on purpose.
//!
//! Why one file of about 900 lines: the generator of records from schemas
//! and the law checks share one walk of the schema types and the generated
//! values' shapes.

use crate::base::path::dotted;
use crate::base::{Scalar, Seg, Side, Value};
use crate::check::inverse::table_losses;
use crate::check::{DRule, Mapping, Program, Source, TArg, TStep, TableMap};
use crate::exec::{Bases, Outcome, map_record};
use crate::plan::{self, Plan};
use crate::schema::{Kind, RecordId, Registry, Type};
use crate::stdlib::{self, Args};
use crate::syntax::Direction;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use serde_json::{Map, Value as Json};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Records tried per law.
pub const CASES: u32 = 64;

/// One law of one mapping: held, or the smallest counterexample.
pub struct LawResult {
    pub mapping: String,
    pub law: &'static str,
    pub failure: Option<String>,
}

/// A path into a record: member names and array steps.
type Path = Vec<Seg>;

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
    let left = laws.record(&program.registry, m.left, Side::Left, &mut Vec::new(), 0);
    let right = laws.record(&program.registry, m.right, Side::Right, &mut Vec::new(), 0);
    vec![
        result(
            "GetPut: put(get(a), a) = a",
            laws.run(cases, left.clone(), Side::Left, |a| {
                laws.get_put(&fwd, &rev, a)
            }),
        ),
        result(
            "round trip: back(get(a)) = a on the covered fields",
            laws.run(cases, left, Side::Left, |a| {
                laws.round_trip_left(&fwd, &rev, a)
            }),
        ),
        result(
            "PutGet: get(back(b)) = b on the covered fields",
            laws.run(cases, right, Side::Right, |b| laws.put_get(&fwd, &rev, b)),
        ),
    ]
}

/// Why records were rejected by the first direction, by rule, code and
/// path, with one example message each.
#[derive(Default)]
struct Rejections {
    counts: HashMap<String, (u32, String)>,
}

impl Rejections {
    fn add(&mut self, reason: &str) {
        let (head, example) = reason.split_once('\n').unwrap_or((reason, ""));
        let entry = self
            .counts
            .entry(head.to_string())
            .or_insert_with(|| (0, example.to_string()));
        entry.0 += 1;
    }

    /// The most frequent reason (ties: the first in text order, so the
    /// message is deterministic).
    fn most_frequent(&self) -> Option<(&str, u32, &str)> {
        self.counts
            .iter()
            .max_by(|a, b| a.1.0.cmp(&b.1.0).then_with(|| b.0.cmp(a.0)))
            .map(|(head, (n, example))| (head.as_str(), *n, example.as_str()))
    }

    fn total(&self) -> u32 {
        self.counts.values().map(|(n, _)| n).sum()
    }
}

/// A field generated through the rule that writes it the other way.
struct Through {
    /// The other side's field the value starts from, and its type.
    source: Path,
    ty: Type,
    steps: Arc<Vec<Step>>,
    /// The field as written in messages (`No`), and the rule's location.
    field: String,
    rule: String,
}

/// A step a generated value can be run through: a call with constant
/// arguments, or a table in one direction.
enum Step {
    Call(usize, Vec<Value<'static>>),
    Table(TableMap),
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
    excluded: HashMap<(Side, Path), Vec<String>>,
    /// Paths a rule reads with a step that can fail: only part of their
    /// type is in the rule's domain (`strip_prefix("S-") | parse_int`).
    narrowed: HashSet<(Side, Path)>,
    /// Paths a rule of the other direction writes from a field with steps
    /// that can be run on generated values.
    through: HashMap<(Side, Path), Through>,
    /// The records of the left and right sides.
    sides: (RecordId, RecordId),
    /// The key's path on each side: always generated. A record without
    /// its key is one born on its side, which the other provider gives a
    /// key when it creates it (docs/design/10-rest-providers.md, "Records
    /// born on the other side"): a create, not a round trip.
    keys: [Option<Path>; 2],
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
            narrowed: HashSet::new(),
            through: HashMap::new(),
            sides: (m.left, m.right),
            keys: match &m.key {
                Some((l, r)) => [Some(join(&[], &l.0, false)), Some(join(&[], &r.0, false))],
                None => [None, None],
            },
        };
        laws.walk(&m.forward, &[], &[], Direction::Forward);
        laws.walk(&m.reverse, &[], &[], Direction::Reverse);
        laws
    }

    /// Records covered paths, one-way targets, table exclusions and the
    /// domains of the rules of `dir` (sources in `src`, targets in `tgt`).
    fn walk(&mut self, rules: &'p [DRule], src: &[Seg], tgt: &[Seg], dir: Direction) {
        let read = dir.source();
        for r in rules {
            match r {
                DRule::Each(e) => {
                    let s = join(src, &e.source.0, true);
                    let t = join(tgt, &e.target.0, true);
                    self.walk(&e.inner, &s, &t, dir);
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
                    self.domain(v, &sources, &targets, read);
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
                    self.table_exclusions(v, &sources, &targets, read);
                }
            }
        }
    }

    /// Notes what a one-field rule says about the domains of its fields:
    /// its source is narrowed when a step can fail, and its target can be
    /// generated through it when its steps can run on generated values.
    fn domain(
        &mut self,
        v: &crate::check::ValueRule,
        sources: &[Path],
        targets: &[Path],
        read: Side,
    ) {
        let ([source], [target]) = (sources, targets) else {
            return;
        };
        if v.steps.iter().any(can_fail) {
            self.narrowed.insert((read, source.clone()));
        }
        let steps: Option<Vec<Step>> = v.steps.iter().map(|s| self.runnable(s)).collect();
        let record = match read {
            Side::Left => self.sides.0,
            Side::Right => self.sides.1,
        };
        if let Some(steps) = steps
            && let Some(ty) = type_at(&self.program.registry, record, source)
            && sig_of(&ty.kind).is_some()
        {
            self.through.insert(
                (read.other(), target.clone()),
                Through {
                    source: source.clone(),
                    ty,
                    steps: Arc::new(steps),
                    field: dotted(target),
                    rule: v.origin.location.clone(),
                },
            );
        }
    }

    /// A step as it can run outside a plan: only constants as arguments.
    fn runnable(&self, step: &TStep) -> Option<Step> {
        match step {
            TStep::Call {
                transform, args, ..
            } => {
                let consts = args
                    .iter()
                    .map(|a| match a {
                        TArg::Const(v) => Some(v.clone()),
                        TArg::Path(..) => None,
                    })
                    .collect::<Option<Vec<_>>>()?;
                Some(Step::Call(*transform, consts))
            }
            TStep::Table { table, dir, .. } => {
                let t = self.program.tables.get(*table)?;
                let map = match dir {
                    Direction::Forward => &t.forward,
                    Direction::Reverse => &t.reverse,
                };
                Some(Step::Table(TableMap {
                    entries: map.entries.clone(),
                    fallback: map.fallback.clone(),
                }))
            }
            _ => None,
        }
    }

    /// Runs the first direction's test, counting why records are rejected;
    /// when too few are accepted, says which rule rejects them (never
    /// proptest's own words).
    fn run(
        &self,
        cases: u32,
        strategy: BoxedStrategy<Json>,
        side: Side,
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
        let rejections = RefCell::new(Rejections::default());
        let outcome = runner.run(&strategy, |v| {
            let r = test(&v);
            if let Err(TestCaseError::Reject(why)) = &r {
                rejections.borrow_mut().add(why.message());
            }
            r
        });
        match outcome {
            Ok(()) => None,
            Err(TestError::Fail(why, record)) => Some(format!("{why}\n  record: {record}")),
            Err(TestError::Abort(_)) => Some(self.abort_message(&rejections.borrow(), side)),
        }
    }

    /// Why too few generated records could be tried.
    fn abort_message(&self, rejections: &Rejections, side: Side) -> String {
        if let Some((head, n, example)) = rejections.most_frequent() {
            return format!(
                "could not generate enough {side} records the mapping accepts: {} of the generated records were rejected, {n} of them by {head}\n  e.g. {example}\n  (fields are generated from their types; a field read with steps that can fail is generated through the rule that writes it the other way, when that rule's steps are transforms and tables with constant arguments)",
                rejections.total()
            );
        }
        let mut fields: Vec<String> = self
            .through
            .iter()
            .filter(|((s, _), _)| *s == side)
            .map(|(_, t)| format!("`{}` (through the rule at {})", t.field, t.rule))
            .collect();
        fields.sort();
        format!(
            "could not generate {side} records: values generated for {} fail the steps that make them",
            fields.join(", ")
        )
    }

    /// A table first in the pipeline narrows its source's values, last its
    /// target's, to those that come back.
    fn table_exclusions(
        &mut self,
        v: &crate::check::ValueRule,
        sources: &[Path],
        targets: &[Path],
        read: Side,
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
            self.excluded.insert((read, s.clone()), values);
        }
        if let (Some(TStep::Table { table, dir, .. }), [t]) = (v.steps.last(), targets) {
            let values = lost(*table, flip(*dir));
            self.excluded.insert((read.other(), t.clone()), values);
        }
    }

    /// Records of `record` (of `side`) as JSON, shaped
    /// by the schema and the rules.
    fn record(
        &self,
        reg: &Registry,
        record: RecordId,
        side: Side,
        path: &mut Path,
        depth: usize,
    ) -> BoxedStrategy<Json> {
        let mut fields: Vec<BoxedStrategy<Option<(String, Json)>>> = Vec::new();
        for f in &reg.record(record).fields {
            if depth > 3 && f.optional {
                continue;
            }
            path.push(Seg::Name(f.name.clone()));
            let value = self.value(reg, &f.ty, side, path, depth);
            let optional = f.optional
                && self.keys[side as usize]
                    .as_ref()
                    .is_none_or(|k| !k.starts_with(path));
            path.pop();
            let name = f.name.clone();
            let value = if f.ty.nullable {
                prop_oneof![4 => value, 1 => Just(Json::Null)].boxed()
            } else {
                value
            };
            let member = value.prop_map(move |v| Some((name.clone(), v)));
            fields.push(if optional {
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
        side: Side,
        path: &mut Path,
        depth: usize,
    ) -> BoxedStrategy<Json> {
        let key = (side, path.clone());
        if self.narrowed.contains(&key)
            && let Some(through) = self.through.get(&key)
        {
            return self.generated_through(reg, through, side.other(), depth);
        }
        self.schema_value(reg, ty, side, path, depth)
    }

    /// Values of the other side's field, run through the rule that writes
    /// this one: in the domain of the rule that reads it.
    fn generated_through(
        &self,
        reg: &Registry,
        through: &Through,
        other: Side,
        depth: usize,
    ) -> BoxedStrategy<Json> {
        let ty = Type {
            nullable: false,
            ..through.ty.clone()
        };
        let mut path = through.source.clone();
        let start = self.schema_value(reg, &ty, other, &mut path, depth);
        let steps = Arc::clone(&through.steps);
        let kind = ty.kind.clone();
        start
            .prop_filter_map(
                format!("`{}` through the rule at {}", through.field, through.rule),
                move |v| run_steps(&steps, &kind, &v),
            )
            .boxed()
    }

    /// Values of `ty` as the schema allows them.
    fn schema_value(
        &self,
        reg: &Registry,
        ty: &Type,
        side: Side,
        path: &mut Path,
        depth: usize,
    ) -> BoxedStrategy<Json> {
        match &ty.kind {
            Kind::Enum(e) => {
                let excluded = self.excluded.get(&(side, path.clone()));
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
            Kind::IntEnum(e) => {
                let excluded = self.excluded.get(&(side, path.clone()));
                let values: Vec<Json> = reg
                    .enum_def(*e)
                    .values
                    .iter()
                    .filter(|v| !excluded.is_some_and(|x| x.contains(v)))
                    .filter_map(|v| v.parse::<i64>().ok())
                    .map(Json::from)
                    .collect();
                if values.is_empty() {
                    Just(Json::Null).boxed()
                } else {
                    proptest::sample::select(values).boxed()
                }
            }
            Kind::Record(r) => self.record(reg, *r, side, path, depth + 1),
            Kind::Array(e) => {
                path.push(Seg::Each);
                let item = self.value(reg, e, side, path, depth + 1);
                path.pop();
                proptest::collection::vec(item, 0..3)
                    .prop_map(Json::Array)
                    .boxed()
            }
            Kind::Map(e) => {
                let item = self.value(reg, e, side, path, depth + 1);
                proptest::collection::btree_map("[a-z]{1,6}", item, 0..3)
                    .prop_map(|m| Json::Object(m.into_iter().collect()))
                    .boxed()
            }
            Kind::Scalar(Scalar::Currency) => {
                proptest::sample::select(vec!["EUR", "USD", "KWD", "JPY"])
                    .prop_map(|c| Json::String(c.into()))
                    .boxed()
            }
            Kind::Money(c) => {
                let cur = c.map_or("EUR".to_string(), |c| c.to_string());
                decimal()
                    .prop_map(
                        move |d| serde_json::json!({"amount": d.to_string(), "currency": cur}),
                    )
                    .boxed()
            }
            // Generated as an instant: the reader takes it either way.
            Kind::Scalar(Scalar::AnyDateTime) => scalar(Scalar::DateTime),
            Kind::Scalar(s) => scalar(*s),
            Kind::Any => scalar(Scalar::String),
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
        Outcome::Rejected { errors, .. } => Err(TestCaseError::reject(match errors.first() {
            // First line: what is counted; second: an example.
            Some(e) if e.rule.is_empty() => format!(
                "reading the record: {} at `{}`\n{}: {}",
                e.code, e.path, e.value, e.message
            ),
            Some(e) => format!(
                "the rule at {}: {} at `{}`\n{}: {}",
                e.rule, e.code, e.path, e.value, e.message
            ),
            None => "the first direction\n".to_string(),
        })),
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

/// `prefix`, then the names of `rest`, then an array step when `each`.
fn join(prefix: &[Seg], rest: &[String], each: bool) -> Path {
    let mut p: Path = prefix
        .iter()
        .cloned()
        .chain(rest.iter().cloned().map(Seg::Name))
        .collect();
    if each {
        p.push(Seg::Each);
    }
    p
}

/// Whether a path's first step is the member `name`.
fn starts_with_name(p: &[Seg], name: &str) -> bool {
    matches!(p.first(), Some(Seg::Name(n)) if n == name)
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
                .filter(|p| p[0] == Seg::Each)
                .map(|p| p[1..].to_vec())
                .collect();
            Json::Array(items.iter().map(|i| project(i, &rest)).collect())
        }
        Json::Object(m) => {
            let mut out = Map::new();
            for (k, child) in m {
                let rest: Vec<Path> = paths
                    .iter()
                    .filter(|p| starts_with_name(p, k))
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
                .filter(|p| p.first() == Some(&Seg::Each))
                .map(|p| p[1..].to_vec())
                .collect();
            Json::Array(items.iter().map(|i| remove(i, &rest)).collect())
        }
        Json::Object(m) => {
            let mut out = Map::new();
            for (k, child) in m {
                if paths.iter().any(|p| p.len() == 1 && starts_with_name(p, k)) {
                    continue;
                }
                let rest: Vec<Path> = paths
                    .iter()
                    .filter(|p| p.len() > 1 && starts_with_name(p, k))
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

/// A generated value (of kind `kind`) run through `steps`; `None` when a
/// step fails.
fn run_steps(steps: &[Step], kind: &Kind, input: &Json) -> Option<Json> {
    let mut value = typed_value(sig_of(kind)?, input)?;
    for step in steps {
        value = match step {
            Step::Call(transform, args) => {
                let def = stdlib::by_index(*transform)?;
                let refs: Vec<&Value<'_>> = args.iter().collect();
                (def.apply)(value, &Args::new(&refs)).ok()?
            }
            Step::Table(map) => map
                .entries
                .iter()
                .find(|(k, _)| *k == value)
                .map(|(_, v)| v.clone())
                .or_else(|| map.fallback.clone())?,
        };
    }
    serde_json::from_str(&value.to_json()).ok()
}

/// The scalar of a kind whose generated JSON
/// [`typed_value`] reads; `None` for money, records, arrays, maps, `any`.
fn sig_of(kind: &Kind) -> Option<Scalar> {
    Some(match kind {
        Kind::Scalar(Scalar::AnyDateTime) => Scalar::DateTime,
        Kind::Scalar(Scalar::Currency) | Kind::Enum(_) => Scalar::String,
        Kind::IntEnum(_) => Scalar::Int,
        Kind::Scalar(Scalar::Money)
        | Kind::Money(_)
        | Kind::Record(_)
        | Kind::Array(_)
        | Kind::Map(_)
        | Kind::Any => return None,
        Kind::Scalar(s) => *s,
    })
}

/// Whether a step can reject a value of its input type.
fn can_fail(step: &TStep) -> bool {
    match step {
        TStep::Call { transform, .. } => stdlib::by_index(*transform).is_some_and(|d| d.fallible),
        TStep::Table { .. } => true,
        TStep::If {
            condition,
            then,
            otherwise,
        } => condition.iter().chain(then).chain(otherwise).any(can_fail),
        TStep::Each(inner) => inner.iter().any(can_fail),
        TStep::Const(_) | TStep::Path(_) => false,
    }
}

/// The type of the field at `path` in `record`.
fn type_at(reg: &Registry, record: RecordId, path: &[Seg]) -> Option<Type> {
    let (Seg::Name(first), rest) = path.split_first()? else {
        return None;
    };
    let field = reg
        .record(record)
        .fields
        .iter()
        .find(|f| &f.name == first)?;
    let mut ty = field.ty.clone();
    let mut rest = rest;
    while let Some((Seg::Each, tail)) = rest.split_first() {
        ty = match ty.kind {
            Kind::Array(e) => *e,
            _ => return None,
        };
        rest = tail;
    }
    match (&ty.kind, rest.is_empty()) {
        (_, true) => Some(ty),
        (Kind::Record(r), false) => type_at(reg, *r, rest),
        _ => None,
    }
}

/// A generated JSON scalar as the runtime value of type `ty`.
fn typed_value(ty: Scalar, j: &Json) -> Option<Value<'static>> {
    let text = match j {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    Some(match ty {
        Scalar::Int => Value::Int(text.parse().ok()?),
        Scalar::Decimal => Value::Decimal(text.parse().ok()?),
        Scalar::Float => Value::Float(text.parse().ok()?),
        Scalar::Bool => Value::Bool(text.parse().ok()?),
        Scalar::Date => Value::Date(text.parse().ok()?),
        Scalar::DateTime => Value::DateTime(chrono::DateTime::parse_from_rfc3339(&text).ok()?),
        Scalar::LocalDateTime => Value::LocalDateTime(text.parse().ok()?),
        Scalar::Time => Value::Time(text.parse().ok()?),
        _ => Value::str(text),
    })
}

fn decimal() -> impl Strategy<Value = rust_decimal::Decimal> {
    (-10_000_000_000i64..10_000_000_000, 0u32..5)
        .prop_map(|(m, s)| rust_decimal::Decimal::new(m, s))
}

/// Values of a scalar type as JSON (the text forms the JSON reader takes).
fn scalar(ty: Scalar) -> BoxedStrategy<Json> {
    let number = |s: String| Json::Number(serde_json::Number::from_string_unchecked(s));
    match ty {
        Scalar::Int => any::<i32>()
            .prop_map(move |i| Json::from(i64::from(i)))
            .boxed(),
        Scalar::Decimal => decimal().prop_map(move |d| number(d.to_string())).boxed(),
        Scalar::Float => (-1.0e6f64..1.0e6).prop_map(Json::from).boxed(),
        Scalar::Bool => any::<bool>().prop_map(Json::Bool).boxed(),
        Scalar::Date => (0i64..40_000)
            .prop_map(|d| {
                let date = chrono::NaiveDate::from_ymd_opt(1970, 1, 1)
                    .and_then(|e| e.checked_add_signed(chrono::Duration::days(d)));
                Json::String(date.map_or_else(String::new, |d| d.to_string()))
            })
            .boxed(),
        Scalar::DateTime => (0i64..4_000_000_000, 0u32..1000, any::<bool>())
            .prop_map(|(s, ms, whole)| {
                let at =
                    chrono::DateTime::from_timestamp(s, if whole { 0 } else { ms * 1_000_000 });
                Json::String(at.map_or_else(String::new, |t| {
                    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
                }))
            })
            .boxed(),
        Scalar::LocalDateTime => (0i64..4_000_000_000)
            .prop_map(|s| {
                let at = chrono::DateTime::from_timestamp(s, 0).map(|t| t.naive_utc());
                Json::String(
                    at.map_or_else(String::new, |t| t.format("%Y-%m-%dT%H:%M:%S").to_string()),
                )
            })
            .boxed(),
        Scalar::Time => (0u32..86_400)
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn name(n: &str) -> Seg {
        Seg::Name(n.into())
    }

    #[test]
    fn project_and_remove_follow_array_steps_and_names() {
        let v = json!({"lines": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2}], "id": 7});
        let sku = vec![name("lines"), Seg::Each, name("sku")];
        assert_eq!(
            project(&v, std::slice::from_ref(&sku)),
            json!({"lines": [{"sku": "a"}, {"sku": "b"}]})
        );
        assert_eq!(
            remove(&v, &[sku]),
            json!({"lines": [{"qty": 1}, {"qty": 2}], "id": 7})
        );
    }

    #[test]
    fn a_member_named_like_an_array_step_is_a_name() {
        // With text paths, `"[]"` was both a member name and the array
        // step; typed, the member is kept apart.
        let v = json!({"[]": 1, "a": [2]});
        assert_eq!(project(&v, &[vec![name("[]")]]), json!({"[]": 1}));
        assert_eq!(project(&v, &[vec![Seg::Each]]), json!({}));
        assert_eq!(remove(&v, &[vec![name("[]")]]), json!({"a": [2]}));
    }
}
