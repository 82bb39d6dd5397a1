//! The checker's output: mappings with every name resolved, every step typed
//! and every rule split by direction. This is what `plan` lowers; nothing in
//! it needs the AST or another look at the schemas.

use crate::base::Value;
use crate::base::{FieldPath, Side, Span};
use crate::diag::FileId;
use crate::schema::{RecordId, Registry, Type};
use crate::syntax::Direction;

pub struct Program {
    pub registry: Registry,
    pub tables: Vec<Table>,
    pub mappings: Vec<Mapping>,
    pub tests: Vec<TestCase>,
}

impl Program {
    pub fn mapping(&self, name: &str) -> Option<&Mapping> {
        self.mappings.iter().find(|m| m.name == name)
    }
}

/// A value table, split by direction of use.
pub struct Table {
    pub name: String,
    /// Used by rules flowing A→B (`->` and `<->` entries).
    pub forward: TableMap,
    /// Used by rules flowing B→A (`<-` and `<->` entries), keyed by the right column.
    pub reverse: TableMap,
}

impl Table {
    pub fn map(&self, dir: Direction) -> &TableMap {
        match dir {
            Direction::Forward => &self.forward,
            Direction::Reverse => &self.reverse,
        }
    }
}

#[derive(Default)]
pub struct TableMap {
    pub entries: Vec<(Value<'static>, Value<'static>)>,
    pub fallback: Option<Value<'static>>,
}

pub struct Mapping {
    pub name: String,
    pub file: FileId,
    pub span: Span,
    pub left: RecordId,
    pub right: RecordId,
    /// The names tests and conflict rules use for the sides.
    pub left_side: String,
    pub right_side: String,
    /// The directions the header arrow allows.
    pub directions: Vec<Direction>,
    pub forward: Vec<DRule>,
    pub reverse: Vec<DRule>,
    /// The key paths on the left and right side.
    pub key: Option<(FieldPath, FieldPath)>,
    pub conflicts: Vec<Conflict>,
    /// `on delete ...`; `None`: not stated (the runtime ignores deletes).
    pub on_delete: Option<crate::syntax::DeletePolicy>,
    /// `on delete ... when FLAG`: boolean fields marking a record of their
    /// side deleted.
    pub delete_flags: Vec<(Side, FieldPath)>,
    /// `ids id <-> Id`: the fields each provider identifies its records by.
    pub ids: Option<(FieldPath, FieldPath)>,
    /// `for` clauses: one output record per element of the innermost array.
    pub iteration: Option<Iteration>,
}

/// A mapping with `for` clauses reads a document (the left record) and
/// writes one record per element of the innermost array. Its rules read a
/// *row*: the document's fields, plus each binding's element and position,
/// so they are checked and planned like any other rules.
pub struct Iteration {
    /// The record the rules read.
    pub row: RecordId,
    /// Outermost first; each iterates inside the one before.
    pub levels: Vec<Level>,
}

pub struct Level {
    pub binding: String,
    /// The array, relative to the enclosing level's element (the document
    /// for the first level).
    pub array: FieldPath,
    pub position: Option<String>,
}

impl Mapping {
    pub fn rules(&self, dir: Direction) -> &[DRule] {
        match dir {
            Direction::Forward => &self.forward,
            Direction::Reverse => &self.reverse,
        }
    }
    /// The record types read and written in `dir`.
    pub fn types(&self, dir: Direction) -> (RecordId, RecordId) {
        match dir {
            Direction::Forward => (self.left, self.right),
            Direction::Reverse => (self.right, self.left),
        }
    }

    /// The record the rules of `dir` read: a row for an iterating mapping.
    pub fn rule_source(&self, dir: Direction) -> RecordId {
        match (&self.iteration, dir) {
            (Some(it), Direction::Forward) => it.row,
            _ => self.types(dir).0,
        }
    }
}

/// A rule in one direction.
pub enum DRule {
    Value(ValueRule),
    /// Array to array, element by element, with rules relative to the elements.
    Each(EachRule),
}

pub struct ValueRule {
    pub source: Source,
    pub steps: Vec<TStep>,
    pub targets: Vec<Target>,
    pub origin: RuleOrigin,
    /// Source paths a record read must carry for this rule: those the
    /// schema declares required are checked on read (E1002); a declared
    /// field the rule does not need may be missing (`check::presence`).
    pub requires: Vec<FieldPath>,
}

pub struct Target {
    pub path: FieldPath,
    pub ty: Type,
    /// Whether each value is checked against `ty` before it is written:
    /// the checker could not prove it has that type (an `any` source into
    /// a typed target, an enum among them).
    pub check_at_run_time: bool,
}

pub enum Source {
    Path(FieldPath),
    Tuple(Vec<FieldPath>),
    Const(Value<'static>),
    /// `deals[].id` into a non-iterating target: the array of `elem` of
    /// every element of `array`.
    Gather {
        array: FieldPath,
        /// `a[].b[].c`: the arrays inside each element of the one before
        /// (`b`); empty for a gather over one array.
        deeper: Vec<FieldPath>,
        elem: FieldPath,
    },
    /// `tax_lines[0].price`: `elem` of the element of `array` at `index`
    /// (negative: from the end); missing when there is none.
    Pick {
        array: FieldPath,
        index: i64,
        elem: FieldPath,
    },
}

pub struct EachRule {
    pub source: FieldPath,
    pub target: FieldPath,
    pub inner: Vec<DRule>,
    pub origin: RuleOrigin,
    /// As [`ValueRule::requires`], in the enclosing frame (the array itself
    /// when its target is required).
    pub requires: Vec<FieldPath>,
}

/// Where a rule came from, for runtime errors.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct RuleOrigin {
    /// `file:line:col` of the rule.
    pub location: String,
    pub file: FileId,
    pub span: Span,
    /// The source path as written, for error reports.
    pub source_text: String,
    /// A `<->` rule: its way back is derived, and the laws cover it.
    pub two_way: bool,
}

pub enum TStep {
    Call {
        transform: usize,
        args: Vec<TArg>,
        /// The transform handles null/missing itself; otherwise they skip it.
        accepts_null: bool,
        /// Per argument: whether a null/missing field argument may be passed.
        arg_accepts_null: Vec<bool>,
        span: Span,
    },
    Table {
        table: usize,
        dir: Direction,
        span: Span,
    },
    Const(Value<'static>),
    /// The value of another source field.
    Path(FieldPath),
    If {
        condition: Vec<TStep>,
        then: Vec<TStep>,
        otherwise: Vec<TStep>,
    },
    /// `each { ... }`: the steps applied to every element of an array.
    Each(Vec<TStep>),
}

pub enum TArg {
    Const(Value<'static>),
    /// A field, and the constant for when it is null or missing (`?? lit`).
    Path(FieldPath, Option<Value<'static>>),
}

pub struct Conflict {
    /// `None`: the mapping-wide default.
    pub field: Option<FieldPath>,
    pub strategy: Strategy,
}

#[derive(Clone)]
pub enum Strategy {
    Prefer {
        side: Side,
        unless_blank: bool,
    },
    Newest {
        fields: Option<(FieldPath, FieldPath)>,
    },
    Max,
    Min,
    Union,
    Review,
}

pub struct TestCase {
    pub mapping: usize,
    pub name: String,
    pub file: FileId,
    pub span: Span,
    pub direction: Direction,
    /// The given record as JSON text.
    pub given: String,
    /// One per record the mapping produces from `given`, in order.
    pub expect: Vec<Expected>,
}

pub enum Expected {
    /// The output record as JSON text.
    Record(String),
    /// Members (`code`, `path`, `message`...) one of the errors must match.
    Reject(Vec<(String, String)>),
}
