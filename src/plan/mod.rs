//! Phase 4: lowering a checked mapping into a plan for one direction.
//!
//! Every field path becomes a slot number here, once: the reader fills input
//! slots while it walks the record (skipping everything the plan does not
//! read), rules read and write slots, and the writer walks the write tree in
//! the target schema's field order. Nothing at run time looks a rule's field
//! up by name.
//!
//! Why one file of about 1300 lines: lowering is one pass over a checked
//! mapping that numbers slots as it meets paths and builds the read tree,
//! the rules and the write tree together; what is not that pass is in
//! `file.rs`, `validate.rs` and `sync_spec.rs`.

pub mod file;
pub mod sync_spec;
mod validate;

pub use file::{MappingPlans, PlanFile};

use crate::base::Currency;
use crate::base::FieldPath;
use crate::base::Scalar;
use crate::base::Value;
use crate::check::{DRule, Mapping, Program, RuleOrigin, Source, TArg, TStep, TableMap};
use crate::schema::{Kind, ReadPresence, RecordId, Registry, Type};
use crate::stdlib::{self, Prepared, Transform};
use crate::syntax::Direction;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Serialize, Deserialize)]
pub struct Plan {
    pub mapping: String,
    pub direction: Direction,
    pub read: ReadNode,
    pub input_slots: usize,
    pub rules: Vec<PlanRule>,
    pub write: WriteNode,
    pub output_slots: usize,
    /// The input slot of the record key, for reject reports.
    pub key: Option<usize>,
    pub tables: Vec<PlanTable>,
    /// `for` clauses: the input is a document, mapped to one record per
    /// element of the innermost array.
    pub iteration: Option<IterPlan>,
    /// XML input typed by an XML schema: the namespace of its elements, and
    /// the name of the document element.
    pub xml_namespace: Option<String>,
    pub xml_root: Option<String>,
    /// How an output record is written as XML.
    pub xml_output: XmlOutput,
    /// The record type written, and the shapes of the records it reaches.
    pub target: RecordId,
    pub shapes: Shapes,
    /// The key's path in the output record (matches `--base` records).
    pub target_key: Option<Vec<String>>,
}

/// The target type as an XML document: its element and namespace.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct XmlOutput {
    /// The schema's top-level element for the target type, else the type's
    /// own name.
    pub element: String,
    pub namespace: Option<String>,
    /// Local elements are in the namespace too (XSD `elementFormDefault`).
    pub qualified: bool,
}

impl XmlOutput {
    fn new(reg: &Registry, target: RecordId) -> XmlOutput {
        let schema = reg.xml_schema_of(target);
        let name = &reg.record(target).name;
        XmlOutput {
            element: reg.xml_element_of(target).unwrap_or_else(|| {
                name.split_once('.')
                    .map_or(name.as_str(), |(_, l)| l)
                    .to_string()
            }),
            namespace: schema.and_then(|x| x.namespace.clone()),
            qualified: schema.is_some_and(|x| x.qualified),
        }
    }
}

/// The field order and XML forms of every record the target type reaches:
/// how whole values (a copied sub-record, an `any` value) are written as
/// XML, and the key order when an output is merged into a base record.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Shapes {
    #[serde(serialize_with = "sorted_map")]
    pub records: HashMap<RecordId, Vec<ShapeField>>,
}

/// One field of a record shape, in schema order.
#[derive(Debug, Serialize, Deserialize)]
pub struct ShapeField {
    pub name: String,
    pub form: crate::schema::XmlForm,
    /// The record type of the value (or of its array's elements).
    pub shape: Option<RecordId>,
}

impl Shapes {
    fn reachable(reg: &Registry, from: RecordId) -> Shapes {
        let mut records = HashMap::new();
        let mut todo = vec![from];
        while let Some(r) = todo.pop() {
            if records.contains_key(&r) {
                continue;
            }
            let fields: Vec<ShapeField> = reg
                .record(r)
                .fields
                .iter()
                .map(|f| ShapeField {
                    name: f.name.clone(),
                    form: f.xml,
                    shape: record_of(&f.ty),
                })
                .collect();
            todo.extend(fields.iter().filter_map(|f| f.shape));
            records.insert(r, fields);
        }
        Shapes { records }
    }

    pub fn get(&self, r: RecordId) -> Option<&[ShapeField]> {
        self.records.get(&r).map(Vec::as_slice)
    }
}

/// The record a value of `ty` is, or holds as array elements.
fn record_of(ty: &Type) -> Option<RecordId> {
    match &ty.kind {
        Kind::Record(r) => Some(*r),
        Kind::Array(e) => record_of(e),
        _ => None,
    }
}

/// How a document becomes rows. Every slot is numbered in one frame: a row
/// is the document's slots with each level's element slots laid over them,
/// so the rules read a row exactly as they read a record.
#[derive(Debug, Serialize, Deserialize)]
pub struct IterPlan {
    pub levels: Vec<LevelPlan>,
    /// Holds each innermost element's own input text, for reject reports.
    pub source_slot: usize,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct LevelPlan {
    /// The slot (in the enclosing frame) holding the element frames.
    pub rows: usize,
    /// The slot of the 1-based position (`for e at n in ...`).
    pub position: Option<usize>,
    /// The slots an element of this level fills.
    pub slots: Vec<usize>,
    /// The array's path from the enclosing element, as error paths say it.
    pub path: String,
    /// Values of the enclosing element may come after this array's
    /// elements (the schema does not fix the order, or the mapping reads a
    /// field placed after the array), so a streaming reader must hold the
    /// rows until the enclosing element ends.
    pub deferred: bool,
}

/// What to read from one JSON value.
#[derive(Default, Debug, Serialize, Deserialize)]
pub struct ReadNode {
    /// Materialise the value itself into this slot.
    pub whole: Option<(usize, ReadKind)>,
    /// Members to descend into (unlisted members are skipped unread).
    pub fields: Vec<(String, ReadNode)>,
    /// Iterate the array: each element is read into a fresh frame.
    pub each: Option<Box<ElemRead>>,
    /// The mapping cannot do without this member, and its schema declares
    /// it: its absence is an input error (E1002), not a missing value. A
    /// declared member the mapping can do without is not marked: a record
    /// read may lack it (`check::presence`).
    pub required: bool,
    /// The schema declares the value not nullable: a `null` (or
    /// `xsi:nil`) is an input error, not a null value.
    pub not_null: bool,
    /// For an array read whole: its schema declares the elements not
    /// nullable, so a `null` element is an input error (issue 17).
    #[serde(default)]
    pub elements_not_null: bool,
    /// Keep the value's own input text in this slot (for reject reports).
    pub source_text: Option<usize>,
    /// How the member appears in XML.
    pub xml: crate::schema::XmlForm,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ElemRead {
    pub slot: usize,
    pub node: ReadNode,
    pub slots: usize,
}

/// How to turn a JSON value into a runtime value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ReadKind {
    /// JSON copied as is.
    Raw,
    Array(Box<ReadKind>),
    /// A string that must be one of these values.
    Enum(Vec<String>),
    /// `{"amount": ..., "currency": ...}`, in this currency when given.
    Money(Option<Currency>),
    /// A JSON object whose member values are of one kind (`map<T>`), kept
    /// as its JSON text once every value is checked.
    Map {
        values: Box<ReadKind>,
        /// Whether a value may be null (`map<T?>`).
        nullable: bool,
    },
    /// An integer that must be one of these values.
    IntEnum(Vec<i64>),
    /// A scalar other than money (money is [`ReadKind::Money`], which
    /// carries its currency). A currency is an ISO 4217 code, any case,
    /// read as upper case; an `anydatetime` has an offset if its text has
    /// one, else is local. Written bare, by the names plan format 3 gave
    /// the scalar variants this enum had (`"Str"`, `"Int"`, ...), so plan
    /// files are the same: untagged, after the tagged variants, as serde
    /// requires.
    #[serde(untagged, with = "scalar_wire")]
    Scalar(Scalar),
}

/// A scalar as plan files name it: its variant name, but `Str` for
/// `String`.
mod scalar_wire {
    use crate::base::Scalar;
    use serde::de::{Error as _, IntoDeserializer as _};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(s: &Scalar, ser: S) -> Result<S::Ok, S::Error> {
        match s {
            Scalar::String => ser.serialize_str("Str"),
            other => other.serialize(ser),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Scalar, D::Error> {
        let name = String::deserialize(d)?;
        match name.as_str() {
            "Str" => Ok(Scalar::String),
            // `Money` is a tagged variant of its own; `String` was never written.
            "String" | "Money" => Err(D::Error::custom(format!("unknown read kind `{name}`"))),
            other => Scalar::deserialize(other.into_deserializer()),
        }
    }
}

impl ReadKind {
    fn of(reg: &Registry, ty: &Type) -> ReadKind {
        match &ty.kind {
            Kind::Enum(e) => ReadKind::Enum(reg.enum_def(*e).values.clone()),
            Kind::IntEnum(e) => ReadKind::IntEnum(
                reg.enum_def(*e)
                    .values
                    .iter()
                    .filter_map(|v| v.parse().ok())
                    .collect(),
            ),
            Kind::Array(e) => ReadKind::Array(Box::new(ReadKind::of(reg, e))),
            Kind::Map(v) => ReadKind::Map {
                values: Box::new(ReadKind::of(reg, v)),
                nullable: v.nullable || v.kind == Kind::Any,
            },
            Kind::Any | Kind::Record(_) => ReadKind::Raw,
            // `Kind::Scalar` never holds money (`Kind::from` makes it `Kind::Money`).
            Kind::Scalar(Scalar::Money) => ReadKind::Money(None),
            Kind::Scalar(s) => ReadKind::Scalar(*s),
            Kind::Money(c) => ReadKind::Money(*c),
        }
    }
}

/// What to write for one JSON value of the output.
#[derive(Default, Debug, Serialize, Deserialize)]
pub struct WriteNode {
    /// The value of this slot is the whole value.
    pub whole: Option<usize>,
    /// Object members, in the target schema's order.
    pub fields: Vec<(String, WriteNode)>,
    /// An array of element frames from an element-wise rule.
    pub each: Option<Box<ElemWrite>>,
    /// For ordering members: the record this node writes.
    record: Option<RecordId>,
    /// How the member appears in XML.
    pub xml: crate::schema::XmlForm,
    /// The declared record type of a value written whole (or of its
    /// array's elements): the XML writer lays a copied record out by it.
    pub shape: Option<RecordId>,
    /// `"name":` as JSON, escaped once here rather than per record.
    pub json_key: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ElemWrite {
    pub slot: usize,
    pub node: WriteNode,
    pub slots: usize,
}

#[derive(Serialize, Deserialize)]
pub enum PlanRule {
    Value {
        source: PlanSource,
        steps: Vec<PlanStep>,
        targets: Vec<PlanTarget>,
        origin: RuleOrigin,
    },
    Each {
        /// Input slot holding the element frames.
        rows: usize,
        /// The array's path from the enclosing frame (`lines`), with which
        /// errors inside an element name it (`lines[1].price`).
        path: String,
        /// Output slot receiving the element frames.
        out: usize,
        out_slots: usize,
        rules: Vec<PlanRule>,
        origin: RuleOrigin,
    },
}

#[derive(Serialize, Deserialize)]
pub enum PlanSource {
    Slot(usize),
    Tuple(Vec<usize>),
    Const(Value<'static>),
    Gather {
        rows: usize,
        elem: usize,
    },
    /// A gather over nested arrays (`a[].b[].c`): `rows[0]` holds the
    /// outer array's element frames, `rows[i]` the next array's in each
    /// element frame of level `i - 1`; `elem` is the value's slot in the
    /// innermost frames. Flattened in document order. Added last: plans
    /// without it are unchanged.
    GatherDeep {
        rows: Vec<usize>,
        elem: usize,
    },
    /// `tax_lines[0].price`: slot `elem` of the element frame at `index`
    /// of the frames in `rows` (negative: from the end). Added last.
    Pick {
        rows: usize,
        index: i64,
        elem: usize,
    },
}

impl PlanSource {
    /// The input slots this source reads.
    pub fn slots(&self) -> &[usize] {
        match self {
            PlanSource::Slot(s) => std::slice::from_ref(s),
            PlanSource::Tuple(ss) => ss,
            PlanSource::Const(_) => &[],
            PlanSource::Gather { rows, .. } => std::slice::from_ref(rows),
            PlanSource::GatherDeep { rows, .. } => &rows[..rows.len().min(1)],
            PlanSource::Pick { rows, .. } => std::slice::from_ref(rows),
        }
    }
}

#[derive(Serialize, Deserialize)]
pub struct PlanTarget {
    pub slot: usize,
    pub path: String,
    pub check: TargetCheck,
}

/// What a value written to a target must be, checked per record: what the
/// checker proves of types, a value can still break.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub enum TargetCheck {
    None,
    /// A `money` target: no more decimals than the currency has (money
    /// arithmetic keeps every digit until a rule rounds).
    MinorUnits,
    /// A value the checker could not type (an `any` source, or `any`
    /// elements) into a typed target: read as the target's kind, exactly as
    /// a field of that type is read from input, or the record is rejected
    /// (E1007); an enum target's values among them. (It replaces the
    /// `OneOf` of plan format 2, whose plans are refused by their header.)
    Fits {
        kind: ReadKind,
        nullable: bool,
    },
}

impl TargetCheck {
    fn of(reg: &Registry, check_at_run_time: bool, ty: &Type) -> TargetCheck {
        let money = |k: &Kind| matches!(k, Kind::Money(_));
        match &ty.kind {
            _ if check_at_run_time => TargetCheck::Fits {
                kind: match &ty.kind {
                    // A record's fields are not checked one by one here;
                    // it must at least be an object.
                    Kind::Record(_) => ReadKind::Map {
                        values: Box::new(ReadKind::Raw),
                        nullable: true,
                    },
                    _ => ReadKind::of(reg, ty),
                },
                nullable: ty.nullable,
            },
            k if money(k) => TargetCheck::MinorUnits,
            Kind::Array(e) if money(&e.kind) => TargetCheck::MinorUnits,
            _ => TargetCheck::None,
        }
    }
}

#[derive(Serialize, Deserialize)]
pub enum PlanStep {
    Call {
        transform: Transform,
        /// The constant arguments, ready (a parsed pattern, a zone...).
        /// Not serialised: a loaded plan prepares them again
        /// ([`Plan::prepare`]).
        #[serde(skip)]
        prepared: Prepared,
        args: Vec<PlanArg>,
        accepts_null: bool,
        arg_accepts_null: Vec<bool>,
    },
    Table(usize),
    Const(Value<'static>),
    /// Go on with the value of an input slot.
    Slot(usize),
    If {
        condition: Vec<PlanStep>,
        then: Vec<PlanStep>,
        otherwise: Vec<PlanStep>,
    },
    /// `each { ... }`: the steps applied to every element of an array.
    /// Added last: plans without it are unchanged.
    Each(Vec<PlanStep>),
}

#[derive(Serialize, Deserialize)]
pub enum PlanArg {
    Const(Value<'static>),
    /// An input slot; `or`: the value used when the slot is null or missing.
    Slot {
        slot: usize,
        or: Option<Value<'static>>,
    },
}

/// A table for one direction, with a hash index for string keys.
#[derive(Serialize, Deserialize)]
pub struct PlanTable {
    pub name: String,
    #[serde(serialize_with = "sorted_map")]
    pub strings: HashMap<String, Value<'static>>,
    pub others: Vec<(Value<'static>, Value<'static>)>,
    pub fallback: Option<Value<'static>>,
}

impl PlanTable {
    fn new(name: &str, map: &TableMap) -> PlanTable {
        let mut strings = HashMap::new();
        let mut others = Vec::new();
        for (k, v) in &map.entries {
            match k {
                Value::Str(s) => {
                    strings.insert(s.to_string(), v.clone());
                }
                other => others.push((other.clone(), v.clone())),
            }
        }
        PlanTable {
            name: name.to_string(),
            strings,
            others,
            fallback: map.fallback.clone(),
        }
    }

    /// The value of a `null` key, if the table has one.
    pub fn null_entry(&self) -> Option<&Value<'static>> {
        self.others
            .iter()
            .find(|(k, _)| matches!(k, Value::Null))
            .map(|(_, v)| v)
    }

    pub fn lookup(&self, key: &Value<'_>) -> Option<&Value<'static>> {
        let found = match key {
            Value::Str(s) => self.strings.get(s.as_ref()),
            other => self
                .others
                .iter()
                .find(|(k, _)| crate::stdlib::compare(k, other) == Some(std::cmp::Ordering::Equal))
                .map(|(_, v)| v),
        };
        found.or(self.fallback.as_ref())
    }
}

#[derive(Debug)]
pub enum PlanError {
    UnknownMapping {
        name: String,
        available: Vec<String>,
    },
    NoSuchDirection {
        mapping: String,
        direction: Direction,
    },
}

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlanError::UnknownMapping { name, available } => {
                write!(f, "no mapping named `{name}`")?;
                match crate::diag::did_you_mean(name, available.iter().map(String::as_str)) {
                    Some(b) => write!(f, "; did you mean `{b}`?"),
                    None if available.is_empty() => write!(f, " (the file declares no mapping)"),
                    None => write!(f, " (the file declares: {})", available.join(", ")),
                }
            }
            PlanError::NoSuchDirection { mapping, direction } => match direction {
                Direction::Reverse => write!(
                    f,
                    "mapping `{mapping}` is one-way (`->`): it cannot run with --reverse"
                ),
                Direction::Forward => write!(
                    f,
                    "mapping `{mapping}` maps only `<-`: run it with --reverse"
                ),
            },
        }
    }
}

impl Plan {
    /// Prepares the constant arguments of every call again: a plan read
    /// from a plan file carries transforms by name, not their prepared
    /// forms.
    pub fn prepare(&mut self) {
        fn steps(list: &mut [PlanStep]) {
            for step in list {
                match step {
                    PlanStep::Call {
                        transform,
                        prepared,
                        args,
                        ..
                    } => *prepared = prepare_call(*transform, args),
                    PlanStep::If {
                        condition,
                        then,
                        otherwise,
                    } => {
                        steps(condition);
                        steps(then);
                        steps(otherwise);
                    }
                    PlanStep::Each(inner) => steps(inner),
                    PlanStep::Table(_) | PlanStep::Const(_) | PlanStep::Slot(_) => {}
                }
            }
        }
        fn rules(rs: &mut [PlanRule]) {
            for r in rs {
                match r {
                    PlanRule::Value { steps: s, .. } => steps(s),
                    PlanRule::Each { rules: inner, .. } => rules(inner),
                }
            }
        }
        rules(&mut self.rules);
    }
}

/// A call's arguments as its transform's argument checks see them: the
/// constants, and `None` where a value comes from a slot.
pub(crate) fn const_args(args: &[PlanArg]) -> Vec<Option<&Value<'static>>> {
    args.iter()
        .map(|a| match a {
            PlanArg::Const(c) => Some(c),
            PlanArg::Slot { .. } => None,
        })
        .collect()
}

/// A call's constant arguments in their ready form (a parsed pattern, a
/// zone): when a plan is lowered, and again when one is loaded.
fn prepare_call(transform: Transform, args: &[PlanArg]) -> Prepared {
    let consts = const_args(args);
    transform
        .def()
        .prepare
        .map(|p| p(&consts))
        .unwrap_or_default()
}

/// Serialises a hash map with its keys in order, so the same plan gives the
/// same plan file.
fn sorted_map<K: Serialize + Ord, V: Serialize, S: serde::Serializer>(
    map: &HashMap<K, V>,
    s: S,
) -> Result<S::Ok, S::Error> {
    let sorted: std::collections::BTreeMap<&K, &V> = map.iter().collect();
    sorted.serialize(s)
}

/// Lowers mapping `name` of a checked program for `dir`.
pub fn lower(program: &Program, name: &str, dir: Direction) -> Result<Plan, PlanError> {
    let mapping = program
        .mapping(name)
        .ok_or_else(|| PlanError::UnknownMapping {
            name: name.to_string(),
            available: program.mappings.iter().map(|m| m.name.clone()).collect(),
        })?;
    if !mapping.directions.contains(&dir) {
        return Err(PlanError::NoSuchDirection {
            mapping: name.to_string(),
            direction: dir,
        });
    }
    Ok(lower_mapping(program, mapping, dir))
}

pub fn lower_mapping(program: &Program, mapping: &Mapping, dir: Direction) -> Plan {
    let reg = &program.registry;
    let (src_rec, tgt_rec) = mapping.types(dir);
    let mut input = InFrame::new(Some(mapping.rule_source(dir)));
    let mut output = OutFrame::new(Some(tgt_rec));
    let rules = lower_rules(reg, mapping.rules(dir), &mut input, &mut output);
    let key = mapping.key.as_ref().map(|(l, r)| {
        let path = if dir == Direction::Forward { l } else { r };
        // Records are matched by it: a record read without it is an error.
        input.require(reg, path);
        input.slot(reg, path)
    });
    let (read, input_slots) = input.finish(reg);
    let (read, input_slots, iteration) = match (&mapping.iteration, dir) {
        (Some(it), Direction::Forward) => {
            let (read, slots, plan) = unnest(reg, src_rec, it, read, input_slots);
            (read, slots, Some(plan))
        }
        _ => (read, input_slots, None),
    };
    let mut read = read;
    mark_nulls(reg, Some(src_rec), &mut read);
    let (mut write, output_slots) = output.finish();
    order_by_schema(reg, &mut write);
    let xml_output = XmlOutput::new(reg, tgt_rec);
    Plan {
        mapping: mapping.name.clone(),
        direction: dir,
        read,
        input_slots,
        rules,
        write,
        output_slots,
        key,
        tables: program
            .tables
            .iter()
            .map(|t| PlanTable::new(&t.name, t.map(dir)))
            .collect(),
        iteration,
        xml_namespace: reg.xml_schema_of(src_rec).and_then(|x| x.namespace.clone()),
        xml_root: reg.xml_element_of(src_rec),
        xml_output,
        target: tgt_rec,
        shapes: Shapes::reachable(reg, tgt_rec),
        target_key: mapping.key.as_ref().map(|(l, r)| match dir {
            Direction::Forward => r.0.clone(),
            Direction::Reverse => l.0.clone(),
        }),
    }
}

/// Turns the read tree of a row into the read tree of the document: each
/// binding's subtree moves under its array (as element frames), the
/// positions leave the tree (the runner sets them).
fn unnest(
    reg: &Registry,
    source: RecordId,
    it: &crate::check::Iteration,
    mut doc: ReadNode,
    mut slots: usize,
) -> (ReadNode, usize, IterPlan) {
    let mut nodes = Vec::new();
    let mut positions = Vec::new();
    let mut records = Vec::new();
    let row = reg.record(it.row);
    for l in &it.levels {
        nodes.push(take_member(&mut doc, &l.binding).unwrap_or_default());
        positions.push(
            l.position
                .as_ref()
                .and_then(|p| take_member(&mut doc, p))
                .and_then(|n| n.whole.map(|(s, _)| s)),
        );
        records.push(row.field(&l.binding).and_then(|(_, f)| match f.ty.kind {
            Kind::Record(r) => Some(r),
            _ => None,
        }));
    }
    let source_slot = slots;
    slots += 1;
    if let Some(inner) = nodes.last_mut() {
        inner.source_text = Some(source_slot);
    }
    let mut levels: Vec<LevelPlan> = Vec::new();
    for (k, l) in it.levels.iter().enumerate() {
        let mut owned = Vec::new();
        collect_slots(&nodes[k], &mut owned);
        owned.extend(positions[k]);
        let (scope_rec, scope_node) = if k == 0 {
            (Some(source), &doc)
        } else {
            (records[k - 1], &nodes[k - 1])
        };
        levels.push(LevelPlan {
            rows: slots,
            position: positions[k],
            slots: owned,
            path: l.array.0.join("."),
            deferred: deferred(reg, scope_rec, scope_node, &l.array.0),
        });
        slots += 1;
    }
    // Nest the element trees, innermost first.
    let mut inner: Option<ReadNode> = None;
    for k in (0..levels.len()).rev() {
        let mut node = nodes.pop().unwrap_or_default();
        if let Some(child) = inner.take() {
            require_path(reg, records[k], &mut node, &it.levels[k + 1].array.0);
            let at = descend(&mut node, &it.levels[k + 1].array.0);
            at.each = Some(Box::new(ElemRead {
                slot: levels[k + 1].rows,
                node: child,
                slots,
            }));
        }
        inner = Some(node);
    }
    if let (Some(first), Some(l)) = (inner, levels.first()) {
        let at = descend(&mut doc, &it.levels[0].array.0);
        at.each = Some(Box::new(ElemRead {
            slot: l.rows,
            node: first,
            slots,
        }));
    }
    // A document without the array it iterates is an error, not zero rows.
    if let Some(l) = it.levels.first() {
        require_path(reg, Some(source), &mut doc, &l.array.0);
    }
    mark_xml_forms(reg, Some(source), &mut doc);
    (
        doc,
        slots,
        IterPlan {
            levels,
            source_slot,
        },
    )
}

fn take_member(node: &mut ReadNode, name: &str) -> Option<ReadNode> {
    let i = node.fields.iter().position(|(n, _)| n == name)?;
    Some(node.fields.remove(i).1)
}

/// The slots a read tree fills in its own frame.
fn collect_slots(node: &ReadNode, out: &mut Vec<usize>) {
    out.extend(node.whole.as_ref().map(|(s, _)| *s));
    out.extend(node.source_text);
    if let Some(e) = &node.each {
        out.push(e.slot);
    }
    for (_, child) in &node.fields {
        collect_slots(child, out);
    }
}

/// Whether values of the scope (`node`, a `record`) may follow the elements
/// of the array at `path` in a document.
fn deferred(reg: &Registry, record: Option<RecordId>, node: &ReadNode, path: &[String]) -> bool {
    let (mut rec, mut node) = (record, node);
    for name in path {
        let Some(r) = rec else { return true };
        let def = reg.record(r);
        let Some((at, field)) = def.field(name) else {
            return true;
        };
        // The other members read here (attributes come with the start tag).
        let mut others = node.fields.iter().filter(|(n, child)| {
            n != name
                && reads_anything(child)
                && def
                    .field(n)
                    .is_none_or(|(_, f)| f.xml != crate::schema::XmlForm::Attribute)
        });
        let later = if def.xml_sequence {
            others.any(|(n, _)| def.field(n).is_none_or(|(i, _)| i > at))
        } else {
            others.next().is_some()
        };
        if later {
            return true;
        }
        rec = match &field.ty.kind {
            Kind::Record(r) => Some(*r),
            Kind::Array(e) => match e.kind {
                Kind::Record(r) => Some(r),
                _ => None,
            },
            _ => None,
        };
        match node.fields.iter().find(|(n, _)| n == name) {
            Some((_, child)) => node = child,
            None => return false,
        }
    }
    false
}

fn reads_anything(node: &ReadNode) -> bool {
    node.whole.is_some()
        || node.each.is_some()
        || node.required
        || node.fields.iter().any(|(_, c)| reads_anything(c))
}

fn lower_rules(
    reg: &Registry,
    rules: &[DRule],
    input: &mut InFrame,
    output: &mut OutFrame,
) -> Vec<PlanRule> {
    rules
        .iter()
        .map(|r| match r {
            DRule::Value(v) => {
                for p in &v.requires {
                    input.require(reg, p);
                }
                let source = match &v.source {
                    Source::Path(p) => PlanSource::Slot(input.slot(reg, p)),
                    Source::Tuple(ps) => {
                        PlanSource::Tuple(ps.iter().map(|p| input.slot(reg, p)).collect())
                    }
                    Source::Const(c) => PlanSource::Const(c.clone()),
                    Source::Pick { array, index, elem } => {
                        let (rows, frame) = input.rows(reg, array);
                        let elem = frame.slot(reg, elem);
                        PlanSource::Pick {
                            rows,
                            index: *index,
                            elem,
                        }
                    }
                    Source::Gather {
                        array,
                        deeper,
                        elem,
                    } => {
                        let (rows, mut frame) = input.rows(reg, array);
                        if deeper.is_empty() {
                            let elem = frame.slot(reg, elem);
                            PlanSource::Gather { rows, elem }
                        } else {
                            let mut levels = vec![rows];
                            for d in deeper {
                                let (inner, next) = frame.rows(reg, d);
                                levels.push(inner);
                                frame = next;
                            }
                            let elem = frame.slot(reg, elem);
                            PlanSource::GatherDeep { rows: levels, elem }
                        }
                    }
                };
                let steps = lower_steps(reg, &v.steps, input);
                let targets = v
                    .targets
                    .iter()
                    .map(|t| PlanTarget {
                        slot: output.slot(&t.path),
                        path: t.path.to_string(),
                        check: TargetCheck::of(
                            reg,
                            t.check_at_run_time,
                            &type_at(reg, output.node.record, &t.path.0),
                        ),
                    })
                    .collect();
                PlanRule::Value {
                    source,
                    steps,
                    targets,
                    origin: v.origin.clone(),
                }
            }
            DRule::Each(e) => {
                for p in &e.requires {
                    input.require(reg, p);
                }
                let (rows, elem_in) = input.rows(reg, &e.source);
                let (out, elem_out) = output.rows(reg, &e.target);
                let rules = lower_rules(reg, &e.inner, elem_in, elem_out);
                PlanRule::Each {
                    rows,
                    path: e.source.0.join("."),
                    out,
                    out_slots: elem_out.slots,
                    rules,
                    origin: e.origin.clone(),
                }
            }
        })
        .collect()
}

fn lower_steps(reg: &Registry, steps: &[TStep], input: &mut InFrame) -> Vec<PlanStep> {
    steps
        .iter()
        .filter_map(|s| {
            Some(match s {
                TStep::Call {
                    transform,
                    args,
                    accepts_null,
                    arg_accepts_null,
                    ..
                } => {
                    let transform = Transform(stdlib::by_index(*transform)?);
                    let args: Vec<PlanArg> = args
                        .iter()
                        .map(|a| match a {
                            TArg::Const(c) => PlanArg::Const(c.clone()),
                            TArg::Path(p, or) => PlanArg::Slot {
                                slot: input.slot(reg, p),
                                or: or.clone(),
                            },
                        })
                        .collect();
                    PlanStep::Call {
                        transform,
                        prepared: prepare_call(transform, &args),
                        args,
                        accepts_null: *accepts_null,
                        arg_accepts_null: arg_accepts_null.clone(),
                    }
                }
                TStep::Table { table, .. } => PlanStep::Table(*table),
                TStep::Const(c) => PlanStep::Const(c.clone()),
                TStep::Path(p) => PlanStep::Slot(input.slot(reg, p)),
                TStep::If {
                    condition,
                    then,
                    otherwise,
                } => PlanStep::If {
                    condition: lower_steps(reg, condition, input),
                    then: lower_steps(reg, then, input),
                    otherwise: lower_steps(reg, otherwise, input),
                },
                TStep::Each(inner) => PlanStep::Each(lower_steps(reg, inner, input)),
            })
        })
        .collect()
}

/// Slot allocation for one input frame (the record, or an array element).
struct InFrame {
    node: ReadNode,
    slots: usize,
    record: Option<RecordId>,
    elems: HashMap<Vec<String>, InFrame>,
    members: MemberIndex,
}

impl InFrame {
    fn new(record: Option<RecordId>) -> InFrame {
        InFrame {
            node: ReadNode::default(),
            slots: 0,
            record,
            elems: HashMap::new(),
            members: MemberIndex::default(),
        }
    }

    /// The slot of the value at `path`, allocating it on first use.
    fn slot(&mut self, reg: &Registry, path: &FieldPath) -> usize {
        let ty = type_at(reg, self.record, &path.0);
        let node = self.members.descend(&mut self.node, &path.0);
        if let Some((s, _)) = node.whole {
            return s;
        }
        let s = self.slots;
        self.slots += 1;
        node.whole = Some((s, ReadKind::of(reg, &ty)));
        s
    }

    /// Marks the members on `path` required when its schema declares them
    /// (a path through an optional field may be missing anyway).
    fn require(&mut self, reg: &Registry, path: &FieldPath) {
        let Some(rec) = self.record else { return };
        if path.0.is_empty() || reg.read_presence(rec, &path.0) != ReadPresence::Declared {
            return;
        }
        for end in 1..=path.0.len() {
            self.members
                .descend(&mut self.node, &path.0[..end])
                .required = true;
        }
    }

    /// The slot holding the element frames of the array at `path`, and the
    /// element frame (shared by every rule iterating that array).
    fn rows(&mut self, reg: &Registry, path: &FieldPath) -> (usize, &mut InFrame) {
        let elem_record = elem_record_at(reg, self.record, &path.0);
        let node = self.members.descend(&mut self.node, &path.0);
        let slot = match &node.each {
            Some(e) => e.slot,
            None => {
                let s = self.slots;
                self.slots += 1;
                node.each = Some(Box::new(ElemRead {
                    slot: s,
                    node: ReadNode::default(),
                    slots: 0,
                }));
                s
            }
        };
        let frame = self
            .elems
            .entry(path.0.clone())
            .or_insert_with(|| InFrame::new(elem_record));
        (slot, frame)
    }
}

impl InFrame {
    /// Moves each element frame's read tree under its array's node.
    fn finish(mut self, reg: &Registry) -> (ReadNode, usize) {
        mark_xml_forms(reg, self.record, &mut self.node);
        for (path, elem) in std::mem::take(&mut self.elems) {
            let node = self.members.descend(&mut self.node, &path);
            let (elem_node, elem_slots) = elem.finish(reg);
            if let Some(e) = &mut node.each {
                e.node = elem_node;
                e.slots = elem_slots;
            }
        }
        (self.node, self.slots)
    }
}

/// Slot allocation for one output frame.
struct OutFrame {
    node: WriteNode,
    slots: usize,
    elems: HashMap<Vec<String>, OutFrame>,
    members: MemberIndex,
}

impl OutFrame {
    fn new(record: Option<RecordId>) -> OutFrame {
        OutFrame {
            node: WriteNode {
                record,
                ..WriteNode::default()
            },
            slots: 0,
            elems: HashMap::new(),
            members: MemberIndex::default(),
        }
    }

    fn slot(&mut self, path: &FieldPath) -> usize {
        let node = self.members.descend(&mut self.node, &path.0);
        if let Some(s) = node.whole {
            return s;
        }
        let s = self.slots;
        self.slots += 1;
        node.whole = Some(s);
        s
    }

    /// Moves each element frame's write tree under its array's node.
    fn finish(mut self) -> (WriteNode, usize) {
        for (path, elem) in std::mem::take(&mut self.elems) {
            let node = self.members.descend(&mut self.node, &path);
            let slot = node.whole.unwrap_or(0);
            let (elem_node, elem_slots) = elem.finish();
            node.each = Some(Box::new(ElemWrite {
                slot,
                node: elem_node,
                slots: elem_slots,
            }));
        }
        (self.node, self.slots)
    }

    fn rows(&mut self, reg: &Registry, path: &FieldPath) -> (usize, &mut OutFrame) {
        let elem_record = elem_record_at(reg, self.node.record, &path.0);
        let s = self.slot(path);
        let frame = self
            .elems
            .entry(path.0.clone())
            .or_insert_with(|| OutFrame::new(elem_record));
        (s, frame)
    }
}

/// A tree of named members (the read and the write tree alike).
trait Members: Default {
    fn members(&mut self) -> &mut Vec<(String, Self)>;
}

impl Members for ReadNode {
    fn members(&mut self) -> &mut Vec<(String, Self)> {
        &mut self.fields
    }
}

impl Members for WriteNode {
    fn members(&mut self) -> &mut Vec<(String, Self)> {
        &mut self.fields
    }
}

/// The position of each member of a tree being built, by its path: a frame
/// adds members path by path, and finding a member among thousands of
/// siblings must not be a scan (compiling n rules stays linear in n).
/// Valid while members are only added through it (the trees are sorted
/// into schema order after they are built).
#[derive(Default)]
struct MemberIndex(HashMap<Vec<String>, usize>);

impl MemberIndex {
    /// The node at `path` under `node`, creating the nodes on the way.
    fn descend<'n, N: Members>(&mut self, mut node: &'n mut N, path: &[String]) -> &'n mut N {
        for (i, name) in path.iter().enumerate() {
            let pos = match self.0.get(&path[..=i]) {
                Some(&pos) => pos,
                None => {
                    node.members().push((name.clone(), N::default()));
                    let pos = node.members().len() - 1;
                    self.0.insert(path[..=i].to_vec(), pos);
                    pos
                }
            };
            node = &mut node.members()[pos].1;
        }
        node
    }
}

/// The node at `path`, creating the nodes on the way.
fn descend<'n, N: Members>(mut node: &'n mut N, path: &[String]) -> &'n mut N {
    for name in path {
        let i = match node.members().iter().position(|(n, _)| n == name) {
            Some(i) => i,
            None => {
                node.members().push((name.clone(), N::default()));
                node.members().len() - 1
            }
        };
        node = &mut node.members()[i].1;
    }
    node
}

/// The record type of the elements of the array at `path`, if they are records.
fn elem_record_at(reg: &Registry, record: Option<RecordId>, path: &[String]) -> Option<RecordId> {
    match type_at(reg, record, path).kind {
        Kind::Array(e) => match e.kind {
            Kind::Record(r) => Some(r),
            _ => None,
        },
        _ => None,
    }
}

/// The declared type at `path` from `record` (`any` past unknown ground).
fn type_at(reg: &Registry, record: Option<RecordId>, path: &[String]) -> Type {
    let mut rec = record;
    let mut ty = match record {
        Some(r) => Type::new(Kind::Record(r)),
        None => Type::new(Kind::Any),
    };
    for name in path {
        let Some(r) = rec else {
            return Type::new(Kind::Any);
        };
        let Some((_, f)) = reg.record(r).field(name) else {
            return Type::new(Kind::Any);
        };
        ty = f.ty.clone();
        rec = match &ty.kind {
            Kind::Record(r) => Some(*r),
            _ => None,
        };
    }
    ty
}

/// [`InFrame::require`] for a tree built outside a frame (the levels of a
/// `for`): few members, found by name.
fn require_path(reg: &Registry, record: Option<RecordId>, node: &mut ReadNode, path: &[String]) {
    let Some(rec) = record else { return };
    if path.is_empty() || reg.read_presence(rec, path) != ReadPresence::Declared {
        return;
    }
    for end in 1..=path.len() {
        descend(node, &path[..end]).required = true;
    }
}

/// Marks the members' XML forms, down the record types.
fn mark_xml_forms(reg: &Registry, record: Option<RecordId>, node: &mut ReadNode) {
    let Some(rec) = record else { return };
    let def = reg.record(rec);
    for (name, child) in &mut node.fields {
        if let Some((_, f)) = def.field(name) {
            child.not_null = !f.ty.nullable && f.ty.kind != Kind::Any;
            child.xml = f.xml;
            let inner = match &f.ty.kind {
                Kind::Record(r) => Some(*r),
                _ => None,
            };
            mark_xml_forms(reg, inner, child);
        }
    }
}

/// Marks where the schema forbids null, down the record types and into
/// array elements (element frames are built apart from their array, so
/// this runs on the finished tree). The record itself is never null: a
/// `null` line or document is an input error, not an empty record.
fn mark_nulls(reg: &Registry, record: Option<RecordId>, node: &mut ReadNode) {
    node.not_null = true;
    mark_member_nulls(reg, record, node);
}

fn mark_member_nulls(reg: &Registry, record: Option<RecordId>, node: &mut ReadNode) {
    let Some(rec) = record else { return };
    let def = reg.record(rec);
    for (name, child) in &mut node.fields {
        let Some((_, f)) = def.field(name) else {
            continue;
        };
        child.not_null = !f.ty.nullable && f.ty.kind != Kind::Any;
        match &f.ty.kind {
            Kind::Record(r) => mark_member_nulls(reg, Some(*r), child),
            Kind::Array(elem) => {
                let elem_not_null = !elem.nullable && elem.kind != Kind::Any;
                child.elements_not_null = elem_not_null;
                if let Some(e) = &mut child.each {
                    e.node.not_null = elem_not_null;
                    let inner = match &elem.kind {
                        Kind::Record(r) => Some(*r),
                        _ => None,
                    };
                    mark_member_nulls(reg, inner, &mut e.node);
                }
            }
            _ => {}
        }
    }
}

/// Sorts every object's members into the target schema's field order.
fn order_by_schema(reg: &Registry, node: &mut WriteNode) {
    if let Some(rec) = node.record {
        let def = reg.record(rec);
        node.fields
            .sort_by_key(|(n, _)| def.field(n).map_or(usize::MAX, |(i, _)| i));
        for (name, child) in &mut node.fields {
            if let Some((_, f)) = def.field(name) {
                if child.record.is_none() {
                    child.record = match &f.ty.kind {
                        Kind::Record(r) => Some(*r),
                        _ => None,
                    };
                }
                child.xml = f.xml;
                child.shape = record_of(&f.ty);
            }
        }
    }
    for (name, child) in &mut node.fields {
        child.json_key.clear();
        crate::base::write_json_str(&mut child.json_key, name);
        child.json_key.push(':');
        order_by_schema(reg, child);
    }
    if let Some(e) = &mut node.each {
        order_by_schema(reg, &mut e.node);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plan files name the scalar read kinds as format 3 did before they
    /// were `ReadKind::Scalar` (bare `"Str"`, `"Int"`, ...), and read them
    /// back; the tagged kinds are written as before too.
    #[test]
    fn read_kinds_are_written_by_their_format_3_names() {
        let written = [
            (ReadKind::Scalar(Scalar::String), r#""Str""#),
            (ReadKind::Scalar(Scalar::Int), r#""Int""#),
            (ReadKind::Scalar(Scalar::Decimal), r#""Decimal""#),
            (ReadKind::Scalar(Scalar::Float), r#""Float""#),
            (ReadKind::Scalar(Scalar::Bool), r#""Bool""#),
            (ReadKind::Scalar(Scalar::Date), r#""Date""#),
            (ReadKind::Scalar(Scalar::DateTime), r#""DateTime""#),
            (
                ReadKind::Scalar(Scalar::LocalDateTime),
                r#""LocalDateTime""#,
            ),
            (ReadKind::Scalar(Scalar::AnyDateTime), r#""AnyDateTime""#),
            (ReadKind::Scalar(Scalar::Time), r#""Time""#),
            (ReadKind::Scalar(Scalar::Currency), r#""Currency""#),
            (ReadKind::Raw, r#""Raw""#),
            (ReadKind::Money(None), r#"{"Money":null}"#),
            (
                ReadKind::Array(Box::new(ReadKind::Scalar(Scalar::Int))),
                r#"{"Array":"Int"}"#,
            ),
            (
                ReadKind::Map {
                    values: Box::new(ReadKind::Scalar(Scalar::String)),
                    nullable: true,
                },
                r#"{"Map":{"values":"Str","nullable":true}}"#,
            ),
        ];
        for (kind, json) in written {
            assert_eq!(serde_json::to_string(&kind).unwrap(), json);
            assert_eq!(serde_json::from_str::<ReadKind>(json).unwrap(), kind);
        }
        for unknown in [r#""String""#, r#""Money""#, r#""Text""#] {
            assert!(
                serde_json::from_str::<ReadKind>(unknown).is_err(),
                "{unknown}"
            );
        }
    }
}
