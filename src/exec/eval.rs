//! Evaluating a plan's rules over one record's slots, and writing the output
//! straight from slots into a buffer in target order.

use super::read::{ReadError, read_record_into};
use crate::base::{Money, Value};
use crate::diag::Code;
use crate::plan::{
    Plan, PlanArg, PlanRule, PlanSource, PlanStep, ReadKind, TargetCheck, WriteNode,
};
use crate::stdlib::{Args, Fail, MAX_ARGS};
use std::borrow::Cow;
use std::fmt::Write as _;

/// One error of one record, as written to the rejects output.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordError {
    pub code: Code,
    /// `file:line:col` of the rule, or empty for input errors.
    pub rule: String,
    pub path: String,
    /// The offending value as JSON text (`null` when absent).
    pub value: String,
    pub message: String,
}

impl RecordError {
    pub(super) fn from_read(e: ReadError) -> RecordError {
        RecordError {
            code: Code::E1002,
            rule: String::new(),
            path: e.path,
            value: e.value,
            message: e.message,
        }
    }
}

/// How an output record is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// Compact JSON.
    Json,
    /// An XML element in the target schema's shape (no declaration).
    Xml,
}

/// The result of mapping one record.
pub enum Outcome {
    /// The output record, encoded.
    Mapped(String),
    Rejected {
        key: Option<String>,
        errors: Vec<RecordError>,
    },
}

impl RecordError {
    /// An error of the input as a whole, before any rule (no rule, path
    /// or value): unreadable (E1001), too long (E1014).
    pub fn of_input(code: Code, message: String) -> RecordError {
        RecordError {
            code,
            rule: String::new(),
            path: String::new(),
            value: String::new(),
            message,
        }
    }
}

impl Outcome {
    /// A record (or document) that could not be read at all (E1001).
    pub fn malformed(message: String) -> Outcome {
        Outcome::Rejected {
            key: None,
            errors: vec![RecordError::of_input(Code::E1001, message)],
        }
    }

    /// A record over the per-record size limit (E1014): not read at all.
    pub fn too_long(message: String) -> Outcome {
        Outcome::Rejected {
            key: None,
            errors: vec![RecordError::of_input(Code::E1014, message)],
        }
    }
}

/// Maps one JSON record (its text) with `plan`, to JSON.
pub fn map_record(plan: &Plan, text: &str) -> Outcome {
    map_record_as(plan, text, Encoding::Json)
}

/// Maps one JSON record (its text) with `plan`.
pub fn map_record_as(plan: &Plan, text: &str, encoding: Encoding) -> Outcome {
    let mut frames = Frames::default();
    let mut buf = String::with_capacity(256);
    match map_json_into(plan, text, encoding, &mut frames, &mut buf) {
        Ok(()) => Outcome::Mapped(buf),
        Err(rejected) => rejected,
    }
}

/// The input and output frames of one record, kept between the records of
/// a batch so that mapping a record allocates no frame. `'a`: the text the
/// records borrow from.
#[derive(Default)]
pub(super) struct Frames<'a> {
    pub input: Vec<Value<'a>>,
    output: Vec<Value<'a>>,
}

/// Maps one JSON record, appending the output to `buf` (untouched when the
/// record is rejected).
pub(super) fn map_json_into<'a>(
    plan: &Plan,
    text: &'a str,
    encoding: Encoding,
    frames: &mut Frames<'a>,
    buf: &mut String,
) -> Result<(), Outcome> {
    let mut read_errors = Vec::new();
    if let Err(msg) = read_record_into(
        text,
        &plan.read,
        plan.input_slots,
        &mut frames.input,
        &mut read_errors,
    ) {
        return Err(Outcome::malformed(format!("malformed JSON: {msg}")));
    }
    let errors = read_errors
        .into_iter()
        .map(RecordError::from_read)
        .collect();
    let Frames { input, output } = frames;
    evaluate_into(plan, input, errors, encoding, output, buf)
}

/// Runs the rules over one record's (or row's) input slots and appends the
/// output to `buf`, using `out` as the output frame; `errors` are the
/// reader's. On a reject `buf` is left as it was.
pub(super) fn evaluate_into<'a>(
    plan: &Plan,
    input: &[Value<'a>],
    mut errors: Vec<RecordError>,
    encoding: Encoding,
    out: &mut Vec<Value<'a>>,
    buf: &mut String,
) -> Result<(), Outcome> {
    out.clear();
    out.resize(plan.output_slots, Value::Missing);
    run_rules(plan, &plan.rules, input, out, &mut errors, &mut Vec::new());
    if !errors.is_empty() {
        return Err(Outcome::Rejected {
            key: record_key(plan, input),
            errors,
        });
    }
    let start = buf.len();
    match encoding {
        Encoding::Json => {
            // The record itself is written even when nothing in it is present.
            if !write_node(&plan.write, out, buf) {
                buf.push_str("{}");
            }
        }
        Encoding::Xml => {
            if let Err(e) = super::xml_write::write_record(plan, out, buf) {
                buf.truncate(start);
                return Err(Outcome::Rejected {
                    key: record_key(plan, input),
                    errors: vec![RecordError {
                        code: Code::E1007,
                        rule: String::new(),
                        path: e.path,
                        value: String::new(),
                        message: e.message,
                    }],
                });
            }
        }
    }
    Ok(())
}

/// The record's key as JSON, for reject reports.
fn record_key(plan: &Plan, input: &[Value<'_>]) -> Option<String> {
    plan.key.and_then(|k| match &input[k] {
        Value::Missing | Value::Invalid => None,
        v => Some(v.to_json()),
    })
}

/// The elements being mapped by `Each` rules, outermost first: the array's
/// path and the element's index. Turned into text only for an error.
type Elements<'p> = Vec<(&'p str, usize)>;

/// `lines[1].subs[0].price`: a rule's source path inside the elements it
/// is mapping, as the reader's paths say it.
fn path_in(at: &Elements<'_>, source: &str) -> String {
    if at.is_empty() {
        return source.to_string();
    }
    let mut s = String::new();
    for (array, i) in at {
        if !s.is_empty() {
            s.push('.');
        }
        let _ = write!(s, "{array}[{i}]");
    }
    if !source.is_empty() {
        s.push('.');
        s.push_str(source);
    }
    s
}

fn run_rules<'a, 'p>(
    plan: &'p Plan,
    rules: &'p [PlanRule],
    input: &[Value<'a>],
    out: &mut [Value<'a>],
    errors: &mut Vec<RecordError>,
    at: &mut Elements<'p>,
) {
    for rule in rules {
        match rule {
            PlanRule::Value {
                source,
                steps,
                targets,
                origin,
            } => {
                // A source that failed to read was reported already.
                if source
                    .slots()
                    .iter()
                    .any(|s| matches!(input[*s], Value::Invalid))
                {
                    continue;
                }
                let value = match source {
                    PlanSource::Slot(s) => input[*s].clone(),
                    PlanSource::Tuple(ss) => {
                        Value::Array(ss.iter().map(|s| input[*s].clone()).collect())
                    }
                    PlanSource::Const(c) => c.clone(),
                    // Out of line: gathers and picks are rare, the loop
                    // over rules stays small.
                    selection => match selected(input, selection) {
                        Some(v) => v,
                        // An element that failed to read was reported
                        // already, with its own path.
                        None => continue,
                    },
                };
                let fail = |f: Fail, errors: &mut Vec<RecordError>| {
                    let shown = match source {
                        PlanSource::Slot(s) => input[*s].to_json(),
                        PlanSource::Tuple(ss) => {
                            Value::Array(ss.iter().map(|s| input[*s].clone()).collect()).to_json()
                        }
                        PlanSource::Const(c) => c.to_json(),
                        PlanSource::Gather { .. }
                        | PlanSource::GatherDeep { .. }
                        | PlanSource::Pick { .. } => String::from("null"),
                    };
                    errors.push(RecordError {
                        code: f.code,
                        rule: origin.location.clone(),
                        path: path_in(at, &origin.source_text),
                        value: shown,
                        message: f.message,
                    });
                };
                let result = match run_steps(plan, steps, value, input) {
                    Ok(v) => v,
                    Err(f) => {
                        fail(f, errors);
                        continue;
                    }
                };
                if let Err(f) = assign(result, targets, out) {
                    fail(f, errors);
                }
            }
            PlanRule::Each {
                rows,
                path,
                out: out_slot,
                out_slots,
                rules,
                ..
            } => {
                out[*out_slot] = match &input[*rows] {
                    Value::Rows(frames) => {
                        let mut results = Vec::with_capacity(frames.len());
                        for (i, frame) in frames.iter().enumerate() {
                            let mut elem_out = vec![Value::Missing; *out_slots];
                            at.push((path, i));
                            run_rules(plan, rules, frame, &mut elem_out, errors, at);
                            at.pop();
                            results.push(elem_out);
                        }
                        Value::Rows(results)
                    }
                    other => other.clone(),
                };
            }
        }
    }
}

fn assign<'a>(
    v: Value<'a>,
    targets: &[crate::plan::PlanTarget],
    out: &mut [Value<'a>],
) -> Result<(), Fail> {
    if let [t] = targets {
        out[t.slot] = fit(v, t)?;
        return Ok(());
    }
    let parts = match v {
        Value::Array(parts) => parts,
        absent if absent.is_absent() => Vec::new(),
        other => return Err(Fail::wrong_type("array", &other)),
    };
    if parts.len() > targets.len() {
        return Err(Fail {
            code: Code::E1007,
            message: format!("{} parts for {} targets", parts.len(), targets.len()),
        });
    }
    let mut parts = parts.into_iter();
    for t in targets {
        let p = parts.next().unwrap_or(Value::Missing);
        out[t.slot] = fit(p, t)?;
    }
    Ok(())
}

/// The value as target `t` takes it, or why it cannot.
#[inline]
fn fit<'a>(v: Value<'a>, t: &crate::plan::PlanTarget) -> Result<Value<'a>, Fail> {
    // Most targets need no check: keep that path a compare and a move.
    if matches!(t.check, TargetCheck::None) {
        return Ok(v);
    }
    fit_checked(v, t)
}

#[inline(never)]
fn fit_checked<'a>(v: Value<'a>, t: &crate::plan::PlanTarget) -> Result<Value<'a>, Fail> {
    match (&t.check, v) {
        (TargetCheck::None, v) => Ok(v),
        (TargetCheck::Fits { kind, nullable }, v) => fits(v, kind, *nullable, &t.path),
        (TargetCheck::MinorUnits, Value::Money(m)) => in_minor_units(m, &t.path).map(Value::Money),
        (TargetCheck::MinorUnits, Value::Array(items)) => items
            .into_iter()
            .map(|i| fit_checked(i, t))
            .collect::<Result<_, _>>()
            .map(Value::Array),
        (_, v) => Ok(v),
    }
}

/// A value the checker could not type, read as the target's kind exactly as
/// input of that kind is read (`read::leaf`): the value it is written as
/// (`"2024-05-01"` into a `date` is a date), or why it cannot be (E1007).
fn fits<'a>(
    v: Value<'a>,
    kind: &ReadKind,
    nullable: bool,
    target: &str,
) -> Result<Value<'a>, Fail> {
    let text = match v {
        // Absence is the checker's business (E0204), not the value's.
        Value::Missing | Value::Invalid => return Ok(v),
        Value::Raw(text) => text,
        other => Cow::Owned(other.to_json()),
    };
    match super::read::leaf(&text, kind) {
        Ok(Value::Null) if !nullable => Err(Fail {
            code: Code::E1007,
            message: format!("null cannot be written to `{target}`: it is not nullable"),
        }),
        Ok(v) => Ok(v.into_owned()),
        Err(why) => Err(Fail {
            code: Code::E1007,
            message: format!("cannot be written to `{target}`: {why}"),
        }),
    }
}

/// Money as a `money` target holds it: at most the currency's decimals.
/// Trailing zeros beyond them go (`3.000` USD is `3.00`: nothing is lost);
/// a digit beyond them rejects the record, since dropping it would be a
/// rounding nobody wrote.
fn in_minor_units(m: Money, target: &str) -> Result<Money, Fail> {
    let Some(units) = m.currency.minor_units() else {
        return Ok(m);
    };
    if m.amount.scale() <= units {
        return Ok(m);
    }
    let exact = m.amount.normalize();
    if exact.scale() > units {
        return Err(Fail {
            code: Code::E1010,
            message: format!(
                "{} {} for `{target}` has {} decimals; {} has {units} decimal{}: round it in \
                 the rule with `round_money` (half-even) or `round_money(\"half_up\")`",
                m.amount,
                m.currency,
                exact.scale(),
                m.currency,
                if units == 1 { "" } else { "s" }
            ),
        });
    }
    let mut amount = exact;
    amount.rescale(units);
    Ok(Money { amount, ..m })
}

fn run_steps<'a>(
    plan: &Plan,
    steps: &[PlanStep],
    mut v: Value<'a>,
    input: &[Value<'a>],
) -> Result<Value<'a>, Fail> {
    for step in steps {
        if matches!(v, Value::Invalid) {
            return Ok(v);
        }
        v = match step {
            PlanStep::Call {
                transform,
                prepared,
                args,
                accepts_null,
                arg_accepts_null,
                ..
            } => {
                if v.is_absent() && !accepts_null {
                    continue;
                }
                let mut refs: [&Value<'a>; MAX_ARGS] = [&Value::Missing; MAX_ARGS];
                let mut absent_arg = None;
                for (i, a) in args.iter().enumerate().take(MAX_ARGS) {
                    let r: &Value<'a> = match a {
                        PlanArg::Const(c) => c,
                        PlanArg::Slot { slot, or } => match (&input[*slot], or) {
                            (r, Some(or)) if r.is_absent() => or,
                            (r, _) => r,
                        },
                    };
                    // An argument field that failed to read was reported
                    // already: the step yields `Invalid`, with no second error.
                    if matches!(r, Value::Invalid)
                        || (r.is_absent()
                            && !arg_accepts_null.get(i).copied().unwrap_or(false)
                            && matches!(a, PlanArg::Slot { .. }))
                    {
                        absent_arg = Some(r.clone());
                    }
                    refs[i] = r;
                }
                if let Some(absent) = absent_arg {
                    absent
                } else {
                    (transform.def().apply)(
                        v,
                        &Args::with_prepared(&refs[..args.len().min(MAX_ARGS)], prepared),
                    )?
                }
            }
            PlanStep::Table(t) => {
                let table = &plan.tables[*t];
                // Missing stays missing; null passes through unless the
                // table has a `null` key (never to its `else`).
                let found = match &v {
                    Value::Missing => continue,
                    Value::Null => match table.null_entry() {
                        Some(found) => Some(found),
                        None => continue,
                    },
                    _ => table.lookup(&v),
                };
                match found {
                    Some(found) => found.clone(),
                    None => {
                        return Err(Fail {
                            code: Code::E1005,
                            message: format!(
                                "{} is not in table `{}` and the table has no `else` for this direction",
                                v.to_json(),
                                table.name
                            ),
                        });
                    }
                }
            }
            PlanStep::Const(c) => c.clone(),
            PlanStep::Slot(s) => input[*s].clone(),
            PlanStep::If {
                condition,
                then,
                otherwise,
            } => {
                let c = run_steps(plan, condition, v.clone(), input)?;
                if c == Value::Bool(true) {
                    run_steps(plan, then, v, input)?
                } else {
                    run_steps(plan, otherwise, v, input)?
                }
            }
            PlanStep::Each(inner) => each(plan, inner, v, input)?,
        };
    }
    Ok(v)
}

/// Writes the value of `node` from `frame`; returns false (and writes
/// nothing) when nothing under it is present.
fn write_node(node: &WriteNode, frame: &[Value<'_>], buf: &mut String) -> bool {
    if let Some(slot) = node.whole {
        match &frame[slot] {
            Value::Missing | Value::Invalid => return false,
            Value::Rows(rows) => {
                let Some(each) = &node.each else { return false };
                buf.push('[');
                let mut first = true;
                for row in rows {
                    let mark = buf.len();
                    if !first {
                        buf.push(',');
                    }
                    if write_node(&each.node, row, buf) {
                        first = false;
                    } else {
                        // An element with nothing in it is still an element.
                        buf.truncate(mark);
                        if !first {
                            buf.push(',');
                        }
                        buf.push_str(if each.node.fields.is_empty() {
                            "null"
                        } else {
                            "{}"
                        });
                        first = false;
                    }
                }
                buf.push(']');
                return true;
            }
            v => {
                v.write_json(buf);
                return true;
            }
        }
    }
    if node.fields.is_empty() {
        return false;
    }
    let start = buf.len();
    buf.push('{');
    let mut any = false;
    for (_, child) in &node.fields {
        let mark = buf.len();
        if any {
            buf.push(',');
        }
        buf.push_str(&child.json_key);
        if write_node(child, frame, buf) {
            any = true;
        } else {
            buf.truncate(mark);
        }
    }
    if !any {
        buf.truncate(start);
        return false;
    }
    buf.push('}');
    true
}

/// The value of a gather or a pick; `None` when an element it takes failed
/// to read (reported already: the rule is not computed without it).
#[inline(never)]
fn selected<'a>(input: &[Value<'a>], source: &PlanSource) -> Option<Value<'a>> {
    let value = match source {
        PlanSource::Gather { rows, elem } => match &input[*rows] {
            Value::Rows(frames) => Value::Array(frames.iter().map(|f| f[*elem].clone()).collect()),
            other => other.clone(),
        },
        PlanSource::GatherDeep { rows, elem } => gather_deep(input, rows, *elem),
        PlanSource::Pick { rows, index, elem } => pick(input, *rows, *index, *elem),
        PlanSource::Slot(s) => input[*s].clone(),
        PlanSource::Tuple(ss) => Value::Array(ss.iter().map(|s| input[*s].clone()).collect()),
        PlanSource::Const(c) => c.clone(),
    };
    let invalid = match &value {
        Value::Invalid => true,
        Value::Array(items) => items.iter().any(|v| matches!(v, Value::Invalid)),
        _ => false,
    };
    (!invalid).then_some(value)
}

/// The values of a gather over nested arrays (`a[].b[].c`), flattened in
/// document order. An absent outer array passes through as it is (an
/// aggregate counts it empty); an absent inner array gives no elements,
/// as XPath's `a/b/c` does.
fn gather_deep<'a>(input: &[Value<'a>], rows: &[usize], elem: usize) -> Value<'a> {
    let Some((&first, inner)) = rows.split_first() else {
        return Value::Missing;
    };
    match &input[first] {
        Value::Rows(frames) => {
            let mut out = Vec::new();
            for f in frames {
                collect_deep(f, inner, elem, &mut out);
            }
            Value::Array(out)
        }
        other => other.clone(),
    }
}

fn collect_deep<'a>(frame: &[Value<'a>], rows: &[usize], elem: usize, out: &mut Vec<Value<'a>>) {
    match rows.split_first() {
        None => out.push(frame[elem].clone()),
        Some((&r, inner)) => {
            if let Value::Rows(frames) = &frame[r] {
                for f in frames {
                    collect_deep(f, inner, elem, out);
                }
            }
        }
    }
}

/// `each { ... }`: `steps` applied to every element, in order. An absent
/// array passes through (an aggregate after it counts it empty); a step
/// that fails on an element fails the rule naming the element. Out of line:
/// the loop over steps stays small for rules that do not use it.
#[inline(never)]
fn each<'a>(
    plan: &Plan,
    steps: &[PlanStep],
    v: Value<'a>,
    input: &[Value<'a>],
) -> Result<Value<'a>, Fail> {
    match v {
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                out.push(run_steps(plan, steps, item, input).map_err(|f| Fail {
                    code: f.code,
                    message: format!("element [{i}]: {}", f.message),
                })?);
            }
            Ok(Value::Array(out))
        }
        Value::Missing | Value::Null => Ok(v),
        other => Err(Fail::wrong_type("array", &other)),
    }
}

/// `a[i].b`: slot `elem` of the element at `index` (negative: from the
/// end); missing past either end, and when the array is absent.
fn pick<'a>(input: &[Value<'a>], rows: usize, index: i64, elem: usize) -> Value<'a> {
    let Value::Rows(frames) = &input[rows] else {
        return Value::Missing;
    };
    let at = if index < 0 {
        usize::try_from(index.unsigned_abs())
            .ok()
            .and_then(|back| frames.len().checked_sub(back))
    } else {
        usize::try_from(index).ok()
    };
    at.and_then(|i| frames.get(i))
        .map_or(Value::Missing, |f| f[elem].clone())
}
