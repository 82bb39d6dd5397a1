//! Validating a plan read from a plan file, before anything runs it.
//!
//! The runtime indexes frames by slot number without checking (the hot
//! path), so a loaded plan must keep the promises lowering keeps: every
//! slot inside its frame, every table index in range, every call with an
//! arity its transform has, element frames where rules iterate and write
//! them. The body hash catches an accident; this catches a plan whose hash
//! was forged too. Frames are walked as lowering built them:
//!
//! * an input frame is the record's (or an element's) read tree; the slots
//!   filled by an `each` hold element frames (`rows`), read by `Each` and
//!   `Gather` only: no other rule may read them, so element frames never
//!   reach a place sized for other frames;
//! * a `for` plan's levels lay their element slots over the document's
//!   frame, so their element trees are part of the document frame;
//! * an output frame's `rows` are the slots `Each` rules fill; the write
//!   tree writes them with element frames of the same size.

use super::{
    ElemRead, IterPlan, Plan, PlanArg, PlanRule, PlanSource, PlanStep, PlanTable, ReadNode,
    WriteNode,
};
use crate::base::Value;
use std::collections::HashMap;

/// Checks `plan`; `limit` bounds every frame size (a slot takes at least a
/// digit of the plan's text, so a larger frame is a forged one and would
/// only exhaust memory). Err: what is wrong, in words.
pub fn plan(plan: &Plan, limit: usize) -> Result<(), String> {
    let v = Validator { plan, limit };
    let levels: Vec<usize> = plan
        .iteration
        .iter()
        .flat_map(|it| it.levels.iter().map(|l| l.rows))
        .collect();
    let input = v.in_frame(&plan.read, plan.input_slots, &levels, true)?;
    if let Some(it) = &plan.iteration {
        v.iteration(it, &input)?;
    }
    if let Some(k) = plan.key {
        input.value_slot(k, "the key")?;
    }
    let output = v.rules(&plan.rules, &input, plan.output_slots)?;
    v.write(&plan.write, &output)?;
    for t in &plan.tables {
        table(t)?;
    }
    Ok(())
}

struct Validator<'p> {
    plan: &'p Plan,
    limit: usize,
}

/// What an input frame holds: its size and its slots of element frames.
struct InFrame {
    size: usize,
    rows: HashMap<usize, Rows>,
}

enum Rows {
    /// An array read element by element: frames of their own.
    Elements(InFrame),
    /// A `for` level: its elements are laid over the document's frame, and
    /// only the runner reads them.
    Level,
}

/// What an output frame holds: its size and the element frames `Each`
/// rules write into its slots.
struct OutFrame {
    size: usize,
    rows: HashMap<usize, OutFrame>,
}

impl InFrame {
    fn slot(&self, s: usize, what: &str) -> Result<(), String> {
        if s < self.size {
            Ok(())
        } else {
            Err(format!(
                "{what} uses slot {s} of a frame of {} slots",
                self.size
            ))
        }
    }

    /// A slot a rule reads as a value: in the frame, and not one holding
    /// element frames.
    fn value_slot(&self, s: usize, what: &str) -> Result<(), String> {
        self.slot(s, what)?;
        if self.rows.contains_key(&s) {
            return Err(format!("{what} reads slot {s}, which holds array elements"));
        }
        Ok(())
    }

    /// The element frames of slot `s`, read by an `Each` or a `Gather`.
    fn elements(&self, s: usize, what: &str) -> Result<&InFrame, String> {
        match self.rows.get(&s) {
            Some(Rows::Elements(f)) => Ok(f),
            _ => Err(format!(
                "{what} iterates slot {s}, which holds no array elements"
            )),
        }
    }
}

impl Validator<'_> {
    fn size(&self, n: usize, what: &str) -> Result<usize, String> {
        if n > self.limit {
            return Err(format!("{what} claims {n} slots"));
        }
        Ok(n)
    }

    /// The input frame `node` fills; `levels`: the rows slots of a `for`
    /// plan, `doc`: whether this is the document's frame (where levels may
    /// be).
    fn in_frame(
        &self,
        node: &ReadNode,
        size: usize,
        levels: &[usize],
        doc: bool,
    ) -> Result<InFrame, String> {
        let mut frame = InFrame {
            size: self.size(size, "an input frame")?,
            rows: HashMap::new(),
        };
        self.read_node(node, levels, doc, &mut frame)?;
        Ok(frame)
    }

    fn read_node(
        &self,
        node: &ReadNode,
        levels: &[usize],
        doc: bool,
        frame: &mut InFrame,
    ) -> Result<(), String> {
        if let Some((s, _)) = &node.whole {
            frame.slot(*s, "a field read")?;
        }
        if let Some(s) = node.source_text {
            frame.slot(s, "a record's text")?;
        }
        if let Some(each) = &node.each {
            self.elem_read(each, levels, doc, frame)?;
        }
        for (_, child) in &node.fields {
            self.read_node(child, levels, doc, frame)?;
        }
        Ok(())
    }

    fn elem_read(
        &self,
        each: &ElemRead,
        levels: &[usize],
        doc: bool,
        frame: &mut InFrame,
    ) -> Result<(), String> {
        frame.slot(each.slot, "an array read")?;
        let rows = if levels.contains(&each.slot) {
            // A level's element is read into the document's frame (XML)
            // or into a frame of the document's size laid over it (JSON).
            if !doc || each.slots != frame.size {
                return Err(format!(
                    "the `for` level at slot {} is not read in the document's frame",
                    each.slot
                ));
            }
            self.read_node(&each.node, levels, doc, frame)?;
            Rows::Level
        } else {
            Rows::Elements(self.in_frame(&each.node, each.slots, levels, false)?)
        };
        if frame.rows.insert(each.slot, rows).is_some() {
            return Err(format!("two arrays are read into slot {}", each.slot));
        }
        Ok(())
    }

    fn iteration(&self, it: &IterPlan, doc: &InFrame) -> Result<(), String> {
        doc.slot(it.source_slot, "the element text")?;
        for l in &it.levels {
            if !matches!(doc.rows.get(&l.rows), Some(Rows::Level)) {
                return Err(format!(
                    "the `for` level `{}` has no array read at slot {}",
                    l.path, l.rows
                ));
            }
            for &s in l.slots.iter().chain(&l.position) {
                doc.slot(s, "a `for` level")?;
            }
        }
        Ok(())
    }

    /// Checks `rules` over `input`; the output frame they fill.
    fn rules(&self, rules: &[PlanRule], input: &InFrame, size: usize) -> Result<OutFrame, String> {
        let mut out = OutFrame {
            size: self.size(size, "an output frame")?,
            rows: HashMap::new(),
        };
        for (i, rule) in rules.iter().enumerate() {
            let what = format!("rule {}", i + 1);
            match rule {
                PlanRule::Value {
                    source,
                    steps,
                    targets,
                    ..
                } => {
                    match source {
                        PlanSource::Slot(s) => input.value_slot(*s, &what)?,
                        PlanSource::Tuple(ss) => {
                            for s in ss {
                                input.value_slot(*s, &what)?;
                            }
                        }
                        PlanSource::Const(c) => constant(c, &what)?,
                        PlanSource::Gather { rows, elem } => {
                            input.elements(*rows, &what)?.value_slot(*elem, &what)?
                        }
                        PlanSource::Pick { rows, elem, .. } => {
                            input.elements(*rows, &what)?.value_slot(*elem, &what)?
                        }
                        PlanSource::GatherDeep { rows, elem } => {
                            if rows.is_empty() {
                                return Err(format!("{what} gathers from no array"));
                            }
                            let mut frame = input;
                            for r in rows {
                                frame = frame.elements(*r, &what)?;
                            }
                            frame.value_slot(*elem, &what)?
                        }
                    }
                    self.steps(steps, input, &what)?;
                    for t in targets {
                        if t.slot >= out.size || out.rows.contains_key(&t.slot) {
                            return Err(format!(
                                "{what} writes slot {} of an output frame of {} slots",
                                t.slot, out.size
                            ));
                        }
                    }
                }
                PlanRule::Each {
                    rows,
                    out: out_slot,
                    out_slots,
                    rules,
                    ..
                } => {
                    let elements = input.elements(*rows, &what)?;
                    let inner = self.rules(rules, elements, *out_slots)?;
                    if *out_slot >= out.size || out.rows.insert(*out_slot, inner).is_some() {
                        return Err(format!(
                            "{what} writes array elements into slot {out_slot} of an output \
                             frame of {} slots",
                            out.size
                        ));
                    }
                }
            }
        }
        Ok(out)
    }

    fn steps(&self, steps: &[PlanStep], input: &InFrame, what: &str) -> Result<(), String> {
        for step in steps {
            match step {
                PlanStep::Call {
                    transform, args, ..
                } => {
                    let def = transform.def();
                    let n = args.len();
                    let fits = def
                        .signatures()
                        .iter()
                        .any(|s| s.required_params() <= n && n <= s.params.len());
                    if !fits {
                        return Err(format!("{what} calls `{}` with {n} arguments", def.name));
                    }
                    // The constants must pass the checks `tether check`
                    // made (a width, a zone, a rounding mode).
                    let consts = super::const_args(args);
                    if let Some(check) = def.check_args
                        && let Err(e) = check(&consts)
                    {
                        return Err(format!("{what} calls `{}`: {}", def.name, e.message));
                    }
                    for a in args {
                        match a {
                            PlanArg::Const(c) => constant(c, what)?,
                            PlanArg::Slot { slot, or } => {
                                input.value_slot(*slot, what)?;
                                if let Some(c) = or {
                                    constant(c, what)?;
                                }
                            }
                        }
                    }
                }
                PlanStep::Table(t) => {
                    if *t >= self.plan.tables.len() {
                        return Err(format!(
                            "{what} uses table {t}; the plan has {}",
                            self.plan.tables.len()
                        ));
                    }
                }
                PlanStep::Const(c) => constant(c, what)?,
                PlanStep::Slot(s) => input.value_slot(*s, what)?,
                PlanStep::If {
                    condition,
                    then,
                    otherwise,
                } => {
                    self.steps(condition, input, what)?;
                    self.steps(then, input, what)?;
                    self.steps(otherwise, input, what)?;
                }
                PlanStep::Each(inner) => self.steps(inner, input, what)?,
            }
        }
        Ok(())
    }

    /// The write tree over the output frame the rules fill: values from its
    /// slots, element frames where `Each` rules put them.
    fn write(&self, node: &WriteNode, out: &OutFrame) -> Result<(), String> {
        if let Some(s) = node.whole
            && s >= out.size
        {
            return Err(format!(
                "the output writes slot {s} of a frame of {} slots",
                out.size
            ));
        }
        if let Some(each) = &node.each {
            let elements = node.whole.and_then(|s| out.rows.get(&s));
            match elements {
                Some(frame) if each.slots == frame.size => self.write(&each.node, frame)?,
                Some(frame) => {
                    return Err(format!(
                        "array elements of {} slots are written as elements of {}",
                        frame.size, each.slots
                    ));
                }
                // No rule fills it with elements: checked on its own.
                None => {
                    let alone = OutFrame {
                        size: self.size(each.slots, "an output element")?,
                        rows: HashMap::new(),
                    };
                    self.write(&each.node, &alone)?;
                }
            }
        }
        for (_, child) in &node.fields {
            self.write(child, out)?;
        }
        Ok(())
    }
}

/// A constant is a plain value: never element frames (which only the
/// reader makes) nor a read failure.
fn constant(v: &Value<'_>, what: &str) -> Result<(), String> {
    match v {
        Value::Rows(_) | Value::Invalid => Err(format!(
            "{what} has a constant of a kind no plan holds ({})",
            v.kind_name()
        )),
        Value::Array(items) => items.iter().try_for_each(|i| constant(i, what)),
        _ => Ok(()),
    }
}

fn table(t: &PlanTable) -> Result<(), String> {
    let what = format!("table `{}`", t.name);
    for v in t.strings.values().chain(&t.fallback) {
        constant(v, &what)?;
    }
    for (k, v) in &t.others {
        constant(k, &what)?;
        constant(v, &what)?;
    }
    Ok(())
}
