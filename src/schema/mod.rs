//! Phase 2: the one type model every schema source is imported into.
//!
//! Inline `schema` blocks and `.tschema` files are imported here now; JSON
//! Schema, OpenAPI and XSD importers will produce the same [`Registry`].
//! Records and enums live in arenas addressed by [`RecordId`] / [`EnumId`], so
//! recursive types are plain indices.

pub mod build;
pub mod jsonschema;
pub mod nesting;
pub mod openapi_paths;
pub mod show;
pub mod swagger2;
pub mod xsd;

pub use crate::syntax::{Access, XmlForm};
pub use build::build_registry;

use crate::base::Span;
use crate::base::{Currency, Scalar};
use crate::diag::FileId;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RecordId(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EnumId(pub u32);

/// A value type. Whether a *field* may be absent is a property of the field
/// ([`Field::optional`]); whether the *value* may be null is [`Type::nullable`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Type {
    pub kind: Kind,
    pub nullable: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Any,
    /// A scalar type other than money (`base::Scalar` names them). Never
    /// `Scalar::Money`: money is [`Kind::Money`], which carries its
    /// currency; [`Kind::from`] and [`Kind::scalar`] convert.
    Scalar(Scalar),
    /// An amount with its currency; `Some` when the type fixes the currency
    /// (`money<KWD>`, or a transform given a literal code).
    Money(Option<Currency>),
    Enum(EnumId),
    Record(RecordId),
    Array(Box<Type>),
    Map(Box<Type>),
    /// An enumeration of integers (OpenAPI `type: integer` with an `enum`,
    /// or a `oneOf` of `const`s): an `int` that must be one of the values.
    /// Its [`EnumDef::values`] are the integers' canonical text.
    IntEnum(EnumId),
}

impl Type {
    pub fn new(kind: Kind) -> Type {
        Type {
            kind,
            nullable: false,
        }
    }
    pub fn nullable(kind: Kind) -> Type {
        Type {
            kind,
            nullable: true,
        }
    }
}

/// The built-in type names of schemas: the scalars (their one name table
/// is `base::Scalar`'s), then `any`.
pub fn builtin_names() -> impl Iterator<Item = &'static str> {
    Scalar::all().map(|(_, n)| n).chain(["any"])
}

/// The kind a built-in type name stands for.
pub fn builtin_kind(name: &str) -> Option<Kind> {
    match name {
        "any" => Some(Kind::Any),
        _ => Scalar::from_name(name).map(Kind::from),
    }
}

impl From<Scalar> for Kind {
    fn from(s: Scalar) -> Kind {
        match s {
            Scalar::Money => Kind::Money(None),
            other => Kind::Scalar(other),
        }
    }
}

impl Kind {
    /// The scalar this kind is (`money<KWD>` is `money`); `None` for
    /// `any`, enums, records, arrays and maps.
    pub fn scalar(&self) -> Option<Scalar> {
        match self {
            Kind::Scalar(s) => Some(*s),
            Kind::Money(_) => Some(Scalar::Money),
            Kind::Any
            | Kind::Enum(_)
            | Kind::IntEnum(_)
            | Kind::Record(_)
            | Kind::Array(_)
            | Kind::Map(_) => None,
        }
    }
}

/// Where a definition came from, for diagnostics that point into schema files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Origin {
    pub file: FileId,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Field {
    pub name: String,
    pub ty: Type,
    /// The key may be absent. This is what a *write* must carry; a record
    /// *read* may lack a required field too (see [`ReadPresence`]).
    pub optional: bool,
    pub origin: Origin,
    pub description: Option<String>,
    /// How the field appears in XML.
    pub xml: XmlForm,
    /// Read, written, or both.
    pub access: Access,
}

/// What a record *read* from a provider holds at a path, as its schema
/// says. Requiredness is per direction: `required` is what a write must
/// carry, while a record read (a query that did not select the field, a
/// webhook with only the changed fields) may lack it. So a declared field
/// is checked on read only where a mapping cannot do without it (the plan
/// marks those, `ReadNode::required`); elsewhere a missing one is a missing
/// value like any other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadPresence {
    /// Every field on the way is required and readable, under no nullable
    /// parent: a complete record has it.
    Declared,
    /// A field on the way is optional, or under a parent that may be null,
    /// or inside `any`/a map: the value may be missing.
    Optional,
    /// A field on the way is write-only: a record read never has it.
    Never,
}

#[derive(Clone, Debug)]
pub struct RecordDef {
    /// Qualified: `crm.Contact`, or `crm.Contact.address` for an inline record.
    pub name: String,
    pub fields: Vec<Field>,
    index: HashMap<String, usize>,
    pub origin: Origin,
    /// The XML schema fixes the order of the child elements.
    pub xml_sequence: bool,
}

impl RecordDef {
    pub fn new(name: String, origin: Origin) -> RecordDef {
        RecordDef {
            name,
            fields: Vec::new(),
            index: HashMap::new(),
            origin,
            xml_sequence: false,
        }
    }
    /// Adds a field; returns the earlier field's origin if the name is taken.
    pub fn push(&mut self, field: Field) -> Result<(), Origin> {
        if let Some(&i) = self.index.get(&field.name) {
            return Err(self.fields[i].origin);
        }
        self.index.insert(field.name.clone(), self.fields.len());
        self.fields.push(field);
        Ok(())
    }
    pub fn field(&self, name: &str) -> Option<(usize, &Field)> {
        self.index.get(name).map(|&i| (i, &self.fields[i]))
    }
    pub fn field_names(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|f| f.name.as_str())
    }
}

#[derive(Clone, Debug)]
pub struct EnumDef {
    pub name: String,
    pub values: Vec<String>,
    pub origin: Origin,
    /// The values are integers (written as their text): the enum's kind is
    /// [`Kind::IntEnum`].
    pub ints: bool,
}

impl EnumDef {
    /// The kind of a value of this enum.
    pub fn kind(&self, id: EnumId) -> Kind {
        if self.ints {
            Kind::IntEnum(id)
        } else {
            Kind::Enum(id)
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TypeId {
    Record(RecordId),
    Enum(EnumId),
}

/// One imported or declared schema: a name space of types.
#[derive(Clone, Debug)]
pub struct Namespace {
    pub name: String,
    pub types: HashMap<String, TypeId>,
    /// Declaration order, for listings.
    pub order: Vec<String>,
    /// The `schema` block or `import` that introduced it.
    pub origin: Origin,
    /// The schema file, for imports.
    pub source_file: Option<String>,
    /// For an XML schema: its namespace and top-level elements.
    pub xml: Option<XmlSchema>,
}

/// What an XML schema says beyond the types: the namespace its elements are
/// in, and which element names a document's root may have for each type.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct XmlSchema {
    /// `targetNamespace`; `None` for a schema without one.
    pub namespace: Option<String>,
    /// Top-level `xs:element`s: (element name, type name).
    pub elements: Vec<(String, String)>,
    /// `elementFormDefault="qualified"`: local elements are in the target
    /// namespace too (otherwise only the top-level ones are).
    pub qualified: bool,
}

#[derive(Clone, Debug, Default)]
pub struct Registry {
    pub records: Vec<RecordDef>,
    pub enums: Vec<EnumDef>,
    pub namespaces: HashMap<String, Namespace>,
}

impl Registry {
    pub fn record(&self, id: RecordId) -> &RecordDef {
        &self.records[id.0 as usize]
    }
    pub fn enum_def(&self, id: EnumId) -> &EnumDef {
        &self.enums[id.0 as usize]
    }
    /// The XML schema a record was imported from, if any.
    pub fn xml_schema_of(&self, id: RecordId) -> Option<&XmlSchema> {
        let name = &self.record(id).name;
        let ns = name.split('.').next()?;
        self.namespaces.get(ns)?.xml.as_ref()
    }

    /// The top-level element of an XML schema whose type is record `id`.
    pub fn xml_element_of(&self, id: RecordId) -> Option<String> {
        let name = &self.record(id).name;
        let local = name.split_once('.').map_or(name.as_str(), |(_, l)| l);
        self.xml_schema_of(id)?
            .elements
            .iter()
            .find(|(_, t)| t == local)
            .map(|(e, _)| e.clone())
    }

    /// What a record of `record` read from its provider holds at `path`.
    pub fn read_presence(&self, record: RecordId, path: &[String]) -> ReadPresence {
        let mut rec = Some(record);
        let mut presence = ReadPresence::Declared;
        for (i, name) in path.iter().enumerate() {
            let Some((_, f)) = rec.and_then(|r| self.record(r).field(name)) else {
                return ReadPresence::Optional;
            };
            if f.access == Access::WriteOnly {
                return ReadPresence::Never;
            }
            if f.optional {
                presence = ReadPresence::Optional;
            }
            // Under a null parent there is no field at all.
            if f.ty.nullable && i + 1 < path.len() {
                presence = ReadPresence::Optional;
            }
            rec = match &f.ty.kind {
                Kind::Record(r) => Some(*r),
                _ => None,
            };
        }
        presence
    }

    pub fn lookup(&self, namespace: &str, name: &str) -> Option<TypeId> {
        self.namespaces.get(namespace)?.types.get(name).copied()
    }

    /// A type as a person reads it: `string?`, `[crm.Line]`, `enum crm.Status`.
    pub fn display(&self, ty: &Type) -> String {
        let base = self.display_kind(&ty.kind);
        if ty.nullable {
            format!("{base}?")
        } else {
            base
        }
    }

    pub fn display_kind(&self, kind: &Kind) -> String {
        match kind {
            Kind::Enum(id) | Kind::IntEnum(id) => self.enum_def(*id).name.clone(),
            Kind::Record(id) => self.record(*id).name.clone(),
            Kind::Array(t) => format!("[{}]", self.display(t)),
            Kind::Map(t) => format!("map<{}>", self.display(t)),
            Kind::Money(Some(c)) => format!("money<{c}>"),
            other => scalar_name(other).to_string(),
        }
    }
}

/// The name of a kind as a word: a scalar's name, else what it is.
pub fn scalar_name(kind: &Kind) -> &'static str {
    match kind {
        Kind::Any => "any",
        Kind::Enum(_) | Kind::IntEnum(_) => "enum",
        Kind::Record(_) => "record",
        Kind::Array(_) => "array",
        Kind::Map(_) => "map",
        scalar => scalar.scalar().map_or("any", Scalar::name),
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "record#{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every built-in scalar name gives a kind that answers with its
    /// scalar again; money is `Kind::Money`, never `Kind::Scalar(Money)`.
    #[test]
    fn a_scalar_kind_round_trips_and_money_carries_its_currency() {
        for (s, name) in Scalar::all() {
            let kind = builtin_kind(name);
            assert_eq!(kind.as_ref().and_then(Kind::scalar), Some(s), "{name}");
            assert_ne!(kind, Some(Kind::Scalar(Scalar::Money)), "{name}");
        }
        assert_eq!(builtin_kind("money"), Some(Kind::Money(None)));
        assert_eq!(builtin_kind("any"), Some(Kind::Any));
        assert_eq!(Kind::Any.scalar(), None);
    }
}
