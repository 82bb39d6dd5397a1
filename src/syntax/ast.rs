//! The typed syntax tree. Every node carries the byte span it came from, so
//! each later phase can point a diagnostic at the exact text.

use crate::base::{Side, Span, write_json_seq, write_json_str};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct File {
    pub items: Vec<Item>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Import(Import),
    Schema(SchemaDecl),
    Table(TableDecl),
    Mapping(MappingDecl),
    Test(TestDecl),
    /// `import provider hubspot from "hubspot.tprovider"`.
    ImportProvider(Import),
    Provider(super::provider::ProviderDecl),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Import {
    pub name: Ident,
    pub path: StringLit,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StringLit {
    pub value: String,
    pub span: Span,
}

// ------------------------------------------------------------------ schemas

#[derive(Clone, Debug, PartialEq)]
pub struct SchemaDecl {
    pub name: Ident,
    /// `xmlns "urn:…"`: the namespace of the schema's XML documents, as an
    /// XSD's `targetNamespace` is (elements qualified).
    pub xmlns: Option<StringLit>,
    pub types: Vec<TypeDecl>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TypeDecl {
    Record(RecordDecl),
    Enum(EnumDecl),
}

impl TypeDecl {
    pub fn name(&self) -> &Ident {
        match self {
            TypeDecl::Record(r) => &r.name,
            TypeDecl::Enum(e) => &e.name,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct RecordDecl {
    pub name: Ident,
    pub body: RecordBody,
    pub span: Span,
}

impl RecordDecl {
    pub fn new(name: Ident, body: RecordBody, span: Span) -> RecordDecl {
        RecordDecl { name, body, span }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct RecordBody {
    pub fields: Vec<FieldDecl>,
    pub span: Span,
    /// An XML schema fixes the order of the elements (`xs:sequence`), so a
    /// reader may rely on it (to stream).
    pub xml_sequence: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FieldDecl {
    pub name: Ident,
    /// `name?: T` — the key may be absent.
    pub optional: bool,
    pub ty: TypeExpr,
    pub span: Span,
    /// From an imported schema's `description`, shown in diagnostics.
    pub description: Option<String>,
    /// How the field appears in XML.
    pub xml: XmlForm,
    /// Whether the field is read, written, or both (`readonly`, `writeonly`).
    pub access: Access,
}

/// Which ways a field travels between tether and its provider. A tether
/// schema marks it (`readonly Id: string`, `writeonly password: string`);
/// JSON Schema and OpenAPI say `readOnly` / `writeOnly`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash, Serialize, Deserialize)]
pub enum Access {
    /// Read from the provider and written to it.
    #[default]
    ReadWrite,
    /// Set by the provider (an id, a timestamp): present when read, never
    /// written.
    ReadOnly,
    /// Written, never sent back (a password): never present when read.
    WriteOnly,
}

impl Access {
    /// The word a tether schema writes before the field, if any.
    pub fn keyword(self) -> Option<&'static str> {
        match self {
            Access::ReadWrite => None,
            Access::ReadOnly => Some("readonly"),
            Access::WriteOnly => Some("writeonly"),
        }
    }
}

/// How a field appears in an XML document. An XSD import says it; a tether
/// schema marks it: `@Ccy: string` is an attribute, `#value: decimal` the
/// element's text, and an unmarked field a child element.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash, Serialize, Deserialize)]
pub enum XmlForm {
    #[default]
    Element,
    Attribute,
    Text,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TypeExpr {
    pub kind: TypeExprKind,
    /// `T?` — the value may be null.
    pub nullable: bool,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TypeExprKind {
    /// A scalar name (`string`), a type of the same schema (`Address`) or of
    /// another namespace (`crm.Address`).
    Named {
        namespace: Option<Ident>,
        name: Ident,
    },
    Array(Box<TypeExpr>),
    Map(Box<TypeExpr>),
    /// `money<KWD>`: the currency code as written.
    Money(Ident),
    Record(RecordBody),
}

#[derive(Clone, Debug, PartialEq)]
pub struct EnumDecl {
    pub name: Ident,
    pub values: Vec<StringLit>,
    pub span: Span,
}

// ------------------------------------------------------------------ tables

#[derive(Clone, Debug, PartialEq)]
pub struct TableDecl {
    pub name: Ident,
    pub entries: Vec<TableEntry>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TableEntry {
    /// `"a", "b" -> "x"`: keys on the left, value on the right.
    Pair {
        keys: Vec<Literal>,
        arrow: Arrow,
        value: Literal,
        span: Span,
    },
    /// `else -> "x"`: fallback for the arrow's direction.
    Else {
        arrow: Arrow,
        value: Literal,
        span: Span,
    },
}

// ------------------------------------------------------------------ mappings

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ArrowKind {
    /// `->`: from the left (A) side to the right (B) side.
    Forward,
    /// `<-`: from B to A.
    Backward,
    /// `<->`: both ways.
    Both,
}

impl ArrowKind {
    pub fn token(self) -> &'static str {
        match self {
            ArrowKind::Forward => "->",
            ArrowKind::Backward => "<-",
            ArrowKind::Both => "<->",
        }
    }
    /// Whether data flows in `dir` under this arrow.
    pub fn flows(self, dir: Direction) -> bool {
        matches!(
            (self, dir),
            (ArrowKind::Both, _)
                | (ArrowKind::Forward, Direction::Forward)
                | (ArrowKind::Backward, Direction::Reverse)
        )
    }
}

/// Which way a plan runs: A→B (`Forward`) or B→A (`Reverse`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Direction {
    Forward,
    Reverse,
}

impl Direction {
    /// The direction that reads records of `side`: the left side is read
    /// going forward.
    pub fn reading(side: Side) -> Direction {
        match side {
            Side::Left => Direction::Forward,
            Side::Right => Direction::Reverse,
        }
    }

    /// The side this direction reads.
    pub fn source(self) -> Side {
        match self {
            Direction::Forward => Side::Left,
            Direction::Reverse => Side::Right,
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Forward => "forward",
            Direction::Reverse => "reverse",
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Arrow {
    pub kind: ArrowKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TypeRef {
    pub namespace: Option<Ident>,
    pub name: Ident,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MappingDecl {
    pub name: Ident,
    pub left: TypeRef,
    pub arrow: Arrow,
    pub right: TypeRef,
    pub body: Vec<MappingItem>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum MappingItem {
    Rule(Rule),
    /// `for entry at n in stmt.Ntry[]`: iterate, one output record each.
    For(ForClause),
    Conflict(ConflictBlock),
    /// `ids id <-> Id`: each side's own record id field.
    Ids {
        left: Path,
        right: Path,
        span: Span,
    },
    /// `unmapped salesforce: Id, LastModifiedDate`: optional target fields
    /// left out on purpose.
    Unmapped(UnmappedDecl),
    /// A rule that parsed but could not be lowered (its error is already
    /// reported). Kept so the checker knows the scope is incomplete and does
    /// not add "not mapped" errors that fixing this rule would clear.
    Broken(Span),
}

#[derive(Clone, Debug, PartialEq)]
pub struct UnmappedDecl {
    /// The side whose fields these are (a schema name, `left`, `right`);
    /// `None`: the target of a one-way mapping.
    pub side: Option<Ident>,
    /// Target paths, relative to the scope (an element block's element).
    pub paths: Vec<Path>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ForClause {
    /// The name the element is bound to.
    pub name: Ident,
    /// `at n`: the element's 1-based position among its siblings.
    pub position: Option<Ident>,
    /// The array, from the source record or an earlier `for`'s element.
    pub path: Path,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// `key a <-> b`: the rule that also says how records are matched.
    pub is_key: bool,
    pub left: Endpoint,
    pub arrow: Arrow,
    pub right: Endpoint,
    pub pipeline: Option<Pipeline>,
    /// `lines[] -> items[] { ... }`: rules relative to the matched element.
    pub block: Option<Vec<MappingItem>>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Endpoint {
    Path(Path),
    Tuple(Vec<Path>, Span),
    Literal(Literal),
}

impl Endpoint {
    pub fn span(&self) -> Span {
        match self {
            Endpoint::Path(p) => p.span,
            Endpoint::Tuple(_, s) => *s,
            Endpoint::Literal(l) => l.span,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Path {
    pub segments: Vec<Segment>,
    pub span: Span,
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.segments.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            f.write_str(match s.xml {
                XmlForm::Element => "",
                XmlForm::Attribute => "@",
                XmlForm::Text => "#",
            })?;
            f.write_str(&s.name)?;
            if s.iter {
                f.write_str("[]")?;
            }
            if let Some(i) = s.pick {
                write!(f, "[{i}]")?;
            }
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    pub name: String,
    /// `@Ccy`, `#value`: the field must have this XML form; `Element`
    /// (no mark) takes a field of any form.
    pub xml: XmlForm,
    /// `name[]`: iterate over the elements of this array.
    pub iter: bool,
    /// `name[0]`, `name[-1]`: the element at this index (negative: from
    /// the end). An index too large for `i64` picks nothing.
    pub pick: Option<i64>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Pipeline {
    pub steps: Vec<Step>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    Call(Call),
    Literal(Literal),
    If(IfStep),
    /// `(path)`: the value of another field of the source.
    Path(Path),
    /// `each { pipeline }`: the pipeline applied to every element.
    Each(EachStep),
}

impl Step {
    pub fn span(&self) -> Span {
        match self {
            Step::Call(c) => c.span,
            Step::Literal(l) => l.span,
            Step::If(i) => i.span,
            Step::Each(e) => e.span,
            Step::Path(p) => p.span,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    pub name: Ident,
    pub args: Vec<Arg>,
    /// Whether `(...)` was written, even empty.
    pub has_parens: bool,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    Literal(Literal),
    /// A field of the record; `or`: the literal after `??`, used when the
    /// field is null or missing.
    Path {
        path: Path,
        or: Option<Literal>,
    },
}

impl Arg {
    pub fn span(&self) -> Span {
        match self {
            Arg::Literal(l) => l.span,
            Arg::Path { path, or: None } => path.span,
            Arg::Path { path, or: Some(or) } => Span {
                start: path.span.start,
                end: or.span.end,
            },
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct EachStep {
    pub pipeline: Pipeline,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct IfStep {
    pub condition: Pipeline,
    pub then: Pipeline,
    /// `None`: the value passes through unchanged when the condition is false.
    pub otherwise: Option<Box<ElseBranch>>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ElseBranch {
    If(IfStep),
    Pipeline(Pipeline),
}

// ------------------------------------------------------------------ literals

#[derive(Clone, Debug, PartialEq)]
pub struct Literal {
    pub kind: LiteralKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum LiteralKind {
    String(String),
    /// The number exactly as written: `1500000.50` stays `1500000.50`.
    Number(String),
    Bool(bool),
    Null,
    Object(Vec<(Ident, Literal)>),
    Array(Vec<Literal>),
}

impl Literal {
    /// The literal as JSON text, numbers exactly as written.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    fn write_json(&self, out: &mut String) {
        match &self.kind {
            LiteralKind::String(s) => write_json_string(out, s),
            LiteralKind::Number(n) => out.push_str(n),
            LiteralKind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            LiteralKind::Null => out.push_str("null"),
            LiteralKind::Object(members) => {
                write_json_seq(out, '{', '}', members, |(k, v), out| {
                    write_json_string(out, &k.name);
                    out.push(':');
                    v.write_json(out);
                });
            }
            LiteralKind::Array(items) => {
                write_json_seq(out, '[', ']', items, |v, out| v.write_json(out));
            }
        }
    }

    /// A short rendering for messages: `"lead"`, `42`, `null`.
    pub fn display(&self) -> String {
        self.to_json()
    }
}

pub fn write_json_string(out: &mut String, s: &str) {
    write_json_str(out, s);
}

// ------------------------------------------------------------------ conflicts

#[derive(Clone, Debug, PartialEq)]
pub struct ConflictBlock {
    pub entries: Vec<ConflictEntry>,
    /// `on delete ...` entries (more than one is an error the checker
    /// reports).
    pub on_delete: Vec<OnDelete>,
    pub span: Span,
}

/// `on delete propagate when archived, IsDeleted`.
#[derive(Clone, Debug, PartialEq)]
pub struct OnDelete {
    pub policy: DeletePolicy,
    /// Boolean fields (of either side) that mark a record deleted.
    pub flags: Vec<Path>,
    pub span: Span,
}

/// What a delete on one side does to the other side's record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum DeletePolicy {
    Propagate,
    /// Nothing is written: the choice that loses nothing.
    #[default]
    Ignore,
    Review,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ConflictEntry {
    /// `None` for the `default` entry.
    pub field: Option<Path>,
    pub strategy: Strategy,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Strategy {
    Prefer { side: Ident, unless_blank: bool },
    Newest { fields: Option<(Path, Path)> },
    Max,
    Min,
    Union,
    Review,
}

impl Strategy {
    /// The strategy's keyword, as written in a `conflict` block. (`max` and
    /// `min` are also aggregates of the stdlib: the words live here, with
    /// the grammar, so the checker names no transform.)
    pub fn keyword(&self) -> &'static str {
        match self {
            Strategy::Prefer { .. } => "prefer",
            Strategy::Newest { .. } => "newest",
            Strategy::Max => "max",
            Strategy::Min => "min",
            Strategy::Union => "union",
            Strategy::Review => "review",
        }
    }
}

// ------------------------------------------------------------------ tests

#[derive(Clone, Debug, PartialEq)]
pub struct TestDecl {
    pub mapping: Ident,
    pub name: StringLit,
    pub given_side: Ident,
    pub given: Literal,
    /// One per record the mapping produces from `given`, in order (several
    /// only for a mapping with `for`); never empty.
    pub expects: Vec<Expectation>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expectation {
    Record {
        side: Ident,
        record: Literal,
    },
    /// `expect reject { code: "E1003", path: "amount" }`: the record must be
    /// rejected; listed members must match one of its errors.
    Reject {
        matching: Option<Literal>,
        span: Span,
    },
}

impl Expectation {
    /// Where the expectation is written (its record, or `reject`).
    pub fn span(&self) -> Span {
        match self {
            Expectation::Record { side, record } => side.span.to(record.span),
            Expectation::Reject { span, .. } => *span,
        }
    }
}
